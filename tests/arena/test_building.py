"""Tests of the one construction path: ``arena.make_agent``, ``arena.build_agent`` and
``arena train`` build the same agent, config and env from a preset."""

from __future__ import annotations

import json

import pytest

import arena
from arena.building import check_env_arguments, env_arguments
from arena.config import config_to_dict
from arena.presets import find_preset, preset_envs
from arena.registry import agent_class, agent_plugins
from arena.training import train
from envs.classification.idx import MissingDataError


@pytest.mark.parametrize("name", sorted(agent_plugins()))
def test_make_agent_and_train_agree_on_every_preset(name, tmp_path):
    cls = agent_class(name)
    env_ids = preset_envs(cls)
    for env_id in env_ids:
        preset = find_preset(cls, env_id)
        try:
            env = arena.make_env(env_id, **preset.env_kwargs)
        except MissingDataError:
            continue  # an IDX set not installed here; tests/envs/test_idx.py plays a stand-in
        run = train(name, env_id, out=tmp_path / env_id.replace("/", "_"), steps=0, device="cpu")
        manifest = json.loads((run.out / "manifest.json").read_text())

        made = arena.make_agent(name, env, seed=0, device="cpu", preset=True)
        agent, built_env, steps = arena.build_agent(name, env_id, device="cpu")
        env.close()
        built_env.close()

        assert steps == preset.steps, env_id
        for each in (made, agent):
            assert config_to_dict(each.config) == manifest["config"], env_id
            assert (each.env_id, each.env_kwargs) == (env_id, manifest["env"]["kwargs"]), env_id
        for key, value in preset.env_kwargs.items():
            assert built_env.unwrapped.spec.kwargs[key] == value, (env_id, key)


def test_make_agent_refuses_an_env_made_without_the_presets_arguments():
    # gan's preset for arena/Grid25-v0 plays batches of 64; the env's default is another size.
    preset = find_preset(agent_class("gan"), "arena/Grid25-v0")
    assert preset.env_kwargs == {"batch_size": 64}
    env = arena.make_env("arena/Grid25-v0")
    with pytest.raises(arena.ConfigError, match=r"batch_size=64.*arena.build_agent"):
        arena.make_agent("gan", env, device="cpu", preset=True)
    arena.make_agent("gan", env, device="cpu")  # without the preset, the env is the caller's


def test_an_env_made_with_its_defaults_has_the_arguments_it_did_not_name():
    env = arena.make_env("FrozenLake-v1")
    arguments = env_arguments(env)
    # the constructor's default, the registration's value, the registered time limit
    assert (arguments["render_mode"], arguments["map_name"]) == (None, "4x4")
    assert arguments["max_episode_steps"] == 100
    check_env_arguments("q-learning", env, {"map_name": "4x4", "max_episode_steps": 100})
    with pytest.raises(arena.ConfigError, match="max_episode_steps=50, but this env has"):
        check_env_arguments("q-learning", env, {"max_episode_steps": 50})


def test_the_env_arguments_are_recorded_with_the_time_limit(tmp_path):
    env_kwargs = {"is_slippery": False, "max_episode_steps": 50}
    config = {"horizon": 0, "every_block": False}
    run = train(
        "q-learning",
        "FrozenLake-v1",
        out=tmp_path / "run",
        steps=200,
        overrides=config,
        env_kwargs=env_kwargs,
    )
    assert json.loads((run.out / "manifest.json").read_text())["env"]["kwargs"] == env_kwargs
    resumed = train(None, None, resume=run.out, steps=100, out=tmp_path / "resumed")
    assert resumed.agent.env_kwargs == env_kwargs
