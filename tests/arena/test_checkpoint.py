"""Checkpoints: round-trip, corruption, newer formats, atomic writes, no pickle."""

from __future__ import annotations

import json
import os

import gymnasium as gym
import numpy as np
import pytest

import arena
import envs  # noqa: F401  (registers arena/ ids)
from arena.checkpoint import FORMAT_VERSION, MANIFEST, load_checkpoint, save_checkpoint
from arena.errors import CheckpointError


@pytest.fixture
def agent():
    env = gym.make("arena/Chain-v0")
    agent = arena.make_agent("random", env, seed=7)
    agent.learn(env, 200, progress=False)
    return agent


def test_round_trip_keeps_spaces_config_steps_and_env(agent, tmp_path):
    agent.save(tmp_path / "ckpt")
    loaded = arena.load(tmp_path / "ckpt")
    assert type(loaded) is type(agent)
    assert loaded.num_timesteps == 200
    assert loaded.observation_space == agent.observation_space
    assert loaded.action_space == agent.action_space
    assert loaded.env_id == "arena/Chain-v0"
    assert loaded.seed == 7


def test_box_spaces_survive_the_manifest(tmp_path):
    env = gym.make("CartPole-v1")
    agent = arena.make_agent("random", env, seed=0)
    agent.save(tmp_path / "c")
    loaded = arena.load(tmp_path / "c")
    assert loaded.observation_space == env.observation_space


def test_resaving_replaces_the_state_file(agent, tmp_path):
    path = tmp_path / "ckpt"
    save_checkpoint(agent, path)
    agent.num_timesteps += 1
    save_checkpoint(agent, path)
    assert len(list(path.glob("state-*.safetensors"))) == 1
    assert json.loads((path / MANIFEST).read_text())["steps"] == 201


def test_a_crash_while_saving_keeps_the_last_good_checkpoint(agent, tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save_checkpoint(agent, path)
    before = (path / MANIFEST).read_text()
    real_replace = os.replace

    def crash_on_manifest(src, dst):
        if str(dst).endswith(MANIFEST):
            raise KeyboardInterrupt  # The user pressed Ctrl-C at the worst moment.
        real_replace(src, dst)

    agent.num_timesteps = 999
    monkeypatch.setattr(os, "replace", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(agent, path)
    monkeypatch.setattr(os, "replace", real_replace)
    assert (path / MANIFEST).read_text() == before
    assert load_checkpoint(path).num_timesteps == 200
    assert not list(path.glob(".*.tmp"))


def test_missing_dir_and_missing_manifest(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")
    with pytest.raises(CheckpointError, match=r"has no manifest\.json"):
        load_checkpoint(tmp_path)


def test_tampered_state_file_is_caught(agent, tmp_path):
    path = save_checkpoint(agent, tmp_path / "ckpt")
    state = next(path.glob("state-*.safetensors"))
    state.write_bytes(state.read_bytes() + b"x")
    with pytest.raises(CheckpointError, match="sha256 does not match"):
        load_checkpoint(path)
    state.unlink()
    with pytest.raises(CheckpointError, match="missing its state file"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("agent"), "lacks agent"),
        (lambda m: m.update(format="something-else"), "not a gym-arena checkpoint"),
        (lambda m: m.update(config={"bogus": 1}), "bad config"),
        (lambda m: m.update(observation_space={"type": "Weird"}), "unknown space type"),
        (lambda m: m["state"].update(file="../../etc/passwd"), "in the checkpoint.s own folder"),
    ],
)
def test_corrupt_manifests_are_refused(agent, tmp_path, edit, message):
    path = save_checkpoint(agent, tmp_path / "ckpt")
    manifest = json.loads((path / MANIFEST).read_text())
    edit(manifest)
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_newer_format_gets_a_clear_error(agent, tmp_path):
    path = save_checkpoint(agent, tmp_path / "ckpt")
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="Upgrade gym-arena"):
        load_checkpoint(path)


def test_loading_never_unpickles(agent, tmp_path, monkeypatch):
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was used while loading a checkpoint")

    path = save_checkpoint(agent, tmp_path / "ckpt")
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(np, "load", forbidden)
    assert load_checkpoint(path).num_timesteps == 200
