"""A config that would need more memory than allowed is refused before anything is allocated,
naming the field (issue #14, item 5: configs and buffers)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import pytest

import envs  # noqa: F401  (registers the arena envs)
from arena.agent import Agent
from arena.config import build_config
from arena.errors import ResourceLimitError
from arena.limits import MEMORY_ENV
from arena.presets import find_preset, preset_envs
from arena.registry import agent_class, agent_plugins, make_env
from arena.training import build_agent, train
from envs.classification.idx import MissingDataError
from tests.envs.idx_data import write_idx_set


def _limited(*args, limit="2G"):
    env = dict(os.environ, **{MEMORY_ENV: limit})
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "arena", *args], capture_output=True, text=True, env=env, timeout=120
    )
    return done, time.perf_counter() - started


def _refused(done, *fields):
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    message = done.stderr.strip()
    assert message.startswith("arena: error: ") and len(message.splitlines()) == 1, message
    assert "would need" in message and "more than the limit of 2.0 GiB" in message
    for field in fields:
        assert field in message, message


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["mlp", "arena/Digits-v0", "--set", "hidden_sizes=[200000, 200000]"], "hidden_sizes="),
        (["dqn", "CartPole-v1", "--set", "buffer_size=100000000000"], "buffer_size=100000000000"),
        (["sb3-dqn", "CartPole-v1", "--set", "buffer_size=100000000000"], "buffer_size="),
    ],
)
def test_cli_refuses_a_config_over_the_memory_limit_before_training(tmp_path, args, field):
    out = tmp_path / "run"
    done, seconds = _limited("train", *args, "--out", str(out))
    _refused(done, field)
    assert seconds < 60
    assert not out.exists()


def test_cli_refuses_a_checkpoint_whose_config_is_over_the_limit(tmp_path):
    run = tmp_path / "run"
    train("mlp", "arena/Iris-v0", out=run, steps=20, device="cpu", progress=False)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["config"]["hidden_sizes"] = [200000, 200000]
    (run / "manifest.json").write_text(json.dumps(manifest))
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    done, _ = _limited("evaluate", "--checkpoint", str(run), "--episodes", "1")
    _refused(done, "mlp's network (hidden_sizes=[200000, 200000])")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_cli_refuses_under_a_real_address_space_limit(tmp_path):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    out = tmp_path / "run"
    args = ["train", "dqn", "CartPole-v1", "--set", "buffer_size=1000000000", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "arena", *args],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        env={k: v for k, v in os.environ.items() if k != MEMORY_ENV},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "replay buffer (buffer_size=1000000000)" in done.stderr
    assert "more than the limit of 3.0 GiB" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("agent", "env", "overrides", "field"),
    [
        ("q-learning", "FrozenLake-v1", {"horizon": 10**9}, "Q-table (horizon=1000000000"),
        ("dqn", "CartPole-v1", {"batch_size": 10**10}, "batch (batch_size=10000000000)"),
        (
            "dqn",
            "CartPole-v1",
            {"hidden_sizes": (10**5, 10**5)},
            "Q-networks (hidden_sizes=[100000, 100000])",
        ),
        ("cnn", "arena/Digits-v0", {"channels": (4096, 4096)}, "channels=[4096, 4096]"),
        ("lstm", "arena/Reber-v0", {"hidden_size": 10**6}, "hidden_size=1000000"),
        ("gru", "arena/Reber-v0", {"window": 10**8}, "window=100000000"),
        ("transformer", "arena/Reber-v0", {"d_model": 2**16}, "d_model=65536"),
        ("transformer", "arena/Reber-v0", {"context": 10**8}, "context=100000000"),
        ("gan", "arena/Ring8-v0", {"hidden_sizes": (10**5, 10**5)}, "hidden_sizes=[100000,"),
        ("wgan-gp", "arena/Ring8-v0", {"hidden_sizes": (10**5, 10**5)}, "hidden_sizes="),
        ("vae", "arena/Ring8-v0", {"hidden_sizes": (10**5, 10**5)}, "hidden_sizes="),
        ("sb3-ppo", "CartPole-v1", {"n_steps": 10**10}, "rollout buffer (n_steps=10000000000"),
        (
            "sb3-ppo",
            "CartPole-v1",
            {"hidden_sizes": (10**5, 10**5)},
            "hidden_sizes=[100000, 100000]",
        ),
        ("sb3-sac", "Pendulum-v1", {"buffer_size": 10**11}, "buffer_size=100000000000"),
        ("sb3-td3", "Pendulum-v1", {"batch_size": 10**10}, "batch (batch_size=10000000000)"),
    ],
)
def test_every_family_refuses_its_own_big_fields(monkeypatch, agent, env, overrides, field):
    monkeypatch.setenv(MEMORY_ENV, "2G")
    with pytest.raises(ResourceLimitError, match=r"more than the limit of 2\.0 GiB") as caught:
        build_agent(agent, env, overrides=overrides, device="cpu")
    assert field in str(caught.value)
    assert str(caught.value).startswith(f"{agent}'s ")


def test_the_sum_of_the_parts_is_checked_too(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "2G")
    # A buffer of 1.5 GiB and a batch of 1.5 GiB each fit; together they do not. (The widths
    # are given: the batch's share grows with them.)
    overrides = {"buffer_size": 36_000_000, "batch_size": 700_000, "hidden_sizes": (64, 64)}
    with pytest.raises(ResourceLimitError, match=r"^dqn with this config \(Q-networks"):
        build_agent("dqn", "CartPole-v1", overrides=overrides, device="cpu")


def test_every_preset_fits_in_two_gibibytes(tmp_path):
    """The estimates are honest: no preset comes near a small machine's memory."""
    checked = 0
    for name in sorted(agent_plugins()):
        cls = agent_class(name)
        if not cls.presets:
            continue
        for env_id in preset_envs(cls):
            preset = find_preset(cls, env_id)
            try:
                env = make_env(env_id, **preset.env_kwargs)
            except MissingDataError:  # a 28x28 set's spaces, from a tiny stand-in folder
                write_idx_set(tmp_path, size=28)
                env = make_env(env_id, path=str(tmp_path), **preset.env_kwargs)
            config = build_config(cls.Config, dict(preset.config), source=name)
            needed = cls.memory_needed(config, env.observation_space, env.action_space)
            env.close()
            assert sum(needed.values()) < 256 * 2**20, (name, env_id, needed)
            checked += 1
    assert checked > 50


def test_the_default_hook_needs_nothing():
    assert Agent.memory_needed(None, None, None) == {}


def test_a_plugin_hook_is_enforced(monkeypatch):
    class Hungry(Agent):
        name = "hungry"

        @classmethod
        def memory_needed(cls, config, observation_space, action_space):
            return {"table (size=huge)": 2**50}

        def act(self, observation, explore=False):
            return 0

        def _learn(self, env, steps, callback):
            raise NotImplementedError

    monkeypatch.setenv(MEMORY_ENV, "1G")
    env = make_env("CartPole-v1")
    with pytest.raises(
        ResourceLimitError, match=r"^hungry's table \(size=huge\) would need 1024.0 TiB"
    ):
        Hungry(env.observation_space, env.action_space)
    env.close()
