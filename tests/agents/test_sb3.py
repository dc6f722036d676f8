"""The SB3 bridge: wrapped algorithms round-trip without pickle; SB3 zips import safely."""

from __future__ import annotations

import base64
import io
import json
import pickle
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch

import arena
from agents.sb3.config import A2CConfig, DQNConfig, PPOConfig, SACConfig, TD3Config
from arena.errors import ArenaError, ConfigError, IncompatibleEnvError
from arena.ranges import Above, AtLeast, Between, Each, field_ranges
from tests.conftest import run_arena, run_json

SMALL = {
    "sb3-ppo": ("CartPole-v1", {"n_steps": 64, "batch_size": 32, "n_epochs": 2}),
    "sb3-a2c": ("CartPole-v1", {"n_steps": 8}),
    "sb3-dqn": ("CartPole-v1", {"learning_starts": 50, "buffer_size": 1000, "batch_size": 16}),
    "sb3-sac": ("Pendulum-v1", {"learning_starts": 50, "buffer_size": 1000, "batch_size": 16}),
    "sb3-td3": ("Pendulum-v1", {"learning_starts": 50, "buffer_size": 1000, "batch_size": 16}),
}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _observations(env: gym.Env, n: int = 16) -> list:
    env.observation_space.seed(0)
    return [env.observation_space.sample() for _ in range(n)]


@pytest.mark.parametrize("name", sorted(SMALL))
def test_train_save_load_same_actions(name, tmp_path):
    env_id, config = SMALL[name]
    env = gym.make(env_id)
    agent = arena.make_agent(name, env, seed=0, device="cpu", hidden_sizes=(16,), **config)
    agent.learn(env, 200, progress=False)
    assert agent.num_timesteps >= 200
    agent.save(tmp_path / name)
    loaded = arena.load(tmp_path / name, device="cpu")
    assert loaded.num_timesteps == agent.num_timesteps
    for obs in _observations(env):
        assert np.array_equal(loaded.act(obs), agent.act(obs))
    loaded.learn(env, 100, progress=False)  # The optimizers' state came back too.
    assert loaded.num_timesteps >= agent.num_timesteps + 100


def test_config_reaches_sb3():
    env = gym.make("CartPole-v1")
    agent = arena.make_agent("sb3-ppo", env, learning_rate=1e-3, n_steps=128, device="cpu")
    assert agent.model.learning_rate == 1e-3
    assert agent.model.n_steps == 128
    with pytest.raises(ConfigError, match="n_envs must be >= 1"):
        arena.make_agent("sb3-ppo", env, n_envs=0)
    with pytest.raises(ConfigError, match="'net_arch' was renamed to 'hidden_sizes'"):
        arena.make_agent("sb3-ppo", env, net_arch=(8,))


def test_hidden_sizes_and_the_linear_schedule_reach_sb3():
    env = gym.make("CartPole-v1")
    config = {"learning_rate": 1e-3, "clip_range": 0.2, "linear_schedule": True}
    agent = arena.make_agent("sb3-ppo", env, hidden_sizes=(16, 8), device="cpu", **config)
    assert agent.model.policy.net_arch == [16, 8]
    for progress_remaining in (1.0, 0.25, 0.0):
        assert agent.model.learning_rate(progress_remaining) == pytest.approx(
            1e-3 * progress_remaining
        )
        assert agent.model.clip_range(progress_remaining) == pytest.approx(0.2 * progress_remaining)


def _outside(marker):
    """A value that breaks a range marker of :mod:`arena.ranges`."""
    if isinstance(marker, (Above, AtLeast)):
        return marker.bound - (0 if isinstance(marker, Above) else 1)
    if isinstance(marker, Between):
        return marker.high + 1
    if isinstance(marker, Each):
        return (_outside(marker.bound),)
    return ()  # Length(1) and more


@pytest.mark.parametrize(
    "config_cls", [PPOConfig, A2CConfig, DQNConfig, SACConfig, TD3Config], ids=lambda c: c.__name__
)
def test_every_declared_range_is_enforced(config_cls):
    ranges = field_ranges(config_cls)
    assert {"learning_rate", "gamma", "n_envs", "hidden_sizes"} <= set(ranges)
    for field, declared in ranges.items():
        for marker in declared.markers:
            with pytest.raises(ConfigError, match=f"^{field} must "):
                config_cls(**{field: _outside(marker)})


def test_incompatible_action_space():
    with pytest.raises(IncompatibleEnvError) as info:
        arena.make_agent("sb3-sac", gym.make("CartPole-v1"))
    assert str(info.value) == "sb3-sac needs a Box action space; CartPole-v1 has Discrete(2)."


def test_progress_reaches_arena_callbacks(tmp_path):
    run = tmp_path / "run"
    summary = run_json(
        "train",
        "sb3-a2c",
        "CartPole-v1",
        "--steps",
        "400",
        "--set",
        "n_steps=8",
        "--device",
        "cpu",
        "--out",
        str(run),
        "--json",
    )
    assert summary["episodes"] > 5
    assert len((run / "progress.csv").read_text().splitlines()) == summary["episodes"] + 1


def _sb3_zip(tmp_path):
    from stable_baselines3 import PPO

    model = PPO(
        "MlpPolicy",
        "CartPole-v1",
        n_steps=64,
        batch_size=32,
        n_epochs=1,
        seed=0,
        device="cpu",
        policy_kwargs={"net_arch": [8]},
    )
    model.learn(128)
    path = tmp_path / "ppo.zip"
    model.save(path)
    return model, path


def test_import_a_zip_made_by_sb3(tmp_path):
    model, path = _sb3_zip(tmp_path)
    summary = run_json("import-sb3", str(path), "--out", str(tmp_path / "ckpt"), "--json")
    assert summary["agent"] == "sb3-ppo" and summary["steps"] == 128
    assert arena.load(tmp_path / "ckpt", device="cpu").config.hidden_sizes == (8,)
    assert "lr_schedule" in summary["skipped_pickled_entries"]
    agent = arena.load(tmp_path / "ckpt", device="cpu")
    for obs in _observations(gym.make("CartPole-v1")):
        assert agent.act(obs) == int(model.predict(obs, deterministic=True)[0])
    report = run_json("evaluate", "--checkpoint", str(tmp_path / "ckpt"), "CartPole-v1", "--json")
    assert report["agent"] == "sb3-ppo"


class Payload:
    """Unpickling this writes a marker file: it stands for arbitrary code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _rewrite(path, out, replace):
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            dst.writestr(item, replace.get(item, src.read(item)))


def test_a_malicious_pth_is_refused_without_running_it(tmp_path):
    _, path = _sb3_zip(tmp_path)
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    torch.save({"weights": Payload(marker)}, buffer)
    evil = tmp_path / "evil.zip"
    _rewrite(path, evil, {"policy.pth": buffer.getvalue()})
    done = run_arena("import-sb3", str(evil), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "policy.pth needs unpickling arbitrary objects" in done.stderr
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_a_pickled_space_is_never_decoded(tmp_path):
    from agents.sb3.importer import import_sb3

    _, path = _sb3_zip(tmp_path)
    marker = tmp_path / "pwned"
    with zipfile.ZipFile(path) as z:
        data = json.loads(z.read("data"))
    blob = base64.b64encode(pickle.dumps(Payload(marker))).decode()
    data["observation_space"] = {":type:": "<class 'evil'>", ":serialized:": blob}
    evil = tmp_path / "evil.zip"
    _rewrite(path, evil, {"data": json.dumps(data)})
    with pytest.raises(ArenaError, match="'observation_space' can only be read by unpickling"):
        import_sb3(evil, tmp_path / "out")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"), [(None, "does not exist"), (b"not a zip", "not a zip file")]
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "model.zip"
    if content is not None:
        path.write_bytes(content)
    done = run_arena("import-sb3", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and message in done.stderr


@pytest.mark.slow
def test_ppo_preset_solves_cartpole(tmp_path):
    run = tmp_path / "ppo"
    done = run_arena(
        "train", "sb3-ppo", "CartPole-v1", "--device", "cpu", "--eval-every", "10000",
        "--eval-episodes", "20", "--out", str(run), timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The target is 475 within 100k steps: the agent OUT/best keeps. Measured 1 Dec 2026 (seed
    # 0): 500.0 from 40k to 70k steps, then the greedy policy drifted (final agent 431.8).
    best = run_json("evaluate", "--checkpoint", str(run / "best"), "--episodes", "20", "--json")
    assert best["mean_return"] >= 475


@pytest.mark.slow
def test_ppo_preset_plays_iris_from_the_reward_alone(tmp_path):
    run = tmp_path / "iris"
    done = run_arena("train", "sb3-ppo", "arena/Iris-v0", "--device", "cpu", "--out", str(run))
    assert done.returncode == 0, done.stderr
    report = run_json("evaluate", "--checkpoint", str(run), "--episodes", "1", "--json")
    # Evaluation plays the test split. The README records 0.933 at seeds 0, 1 and 2 (28 of 30
    # samples), not measured again for issue #15; an untrained policy gets 0.13-0.5.
    assert report["metrics"]["accuracy"] >= 0.8
