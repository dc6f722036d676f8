"""Exact resume: learning 2N steps in one call gives bitwise the same agent as learning N,
saving, loading and learning N on a fresh env of the same id and arguments, for every built-in
agent and the paths a family takes (compiled and generic tabular, prioritized n-step replay,
...). SB3, whose ``learn`` starts new episodes, is compared with learning N twice.

check_agent (tests/arena/test_testing.py) checks it for every registered agent with its
defaults; these are the variants whose state is easy to forget.
"""

from __future__ import annotations

import json
import tempfile

import gymnasium as gym
import pytest

import arena
from arena.errors import CheckpointError
from arena.testing import check_resume
from tests.conftest import run_arena, run_json

VARIANTS = {
    "q-learning compiled": ("q-learning", "FrozenLake-v1", {}, {}, 300),
    "q-learning generic": ("q-learning", "FrozenLake-v1", {}, {"fast_path": False}, 300),
    "sarsa horizon": ("sarsa", "FrozenLake-v1", {}, {"horizon": 100}, 300),
    "expected-sarsa compiled": ("expected-sarsa", "arena/Chain-v0", {}, {}, 300),
    "dqn prioritized n-step": (
        "dqn",
        "CartPole-v1",
        {},
        {
            "learning_starts": 40,
            "batch_size": 16,
            "buffer_size": 100,  # wraps around within the run
            "n_step": 3,
            "prioritized": True,
            "target_update_interval": 30,
            "learning_rate_decay_steps": 300,
            "hidden_sizes": (16,),
        },
        150,
    ),
    "mlp early stopping": ("mlp", "arena/Iris-v0", {"batch_size": 8}, {"hidden_sizes": (8,)}, 30),
    "gan rejection sampling": ("gan", "arena/Ring8-v0", {"batch_size": 50}, {"pack": 2}, 6),
    "sb3-dqn wrapped buffer": (
        "sb3-dqn",
        "CartPole-v1",
        {},
        {"learning_starts": 10, "buffer_size": 50, "hidden_sizes": (8,)},
        40,
    ),
    "sb3-sac": ("sb3-sac", "Pendulum-v1", {}, {"learning_starts": 10, "hidden_sizes": (8,)}, 30),
}


def _two_paths(name, env_id, env_kwargs, config, steps, **save):
    env = arena.make_env(env_id, **env_kwargs)
    first = arena.make_agent(name, env, seed=3, device="cpu", **config)
    if first.splits_exactly:  # one run of 2N steps
        first.learn(env, 2 * steps, progress=False)
    else:
        first.learn(env, steps, progress=False).learn(env, steps, progress=False)
    env = arena.make_env(env_id, **env_kwargs)
    saved = arena.make_agent(name, env, seed=3, device="cpu", **config)
    saved.learn(env, steps, progress=False)
    for key, value in save.items():
        setattr(saved, key, value)
    with tempfile.TemporaryDirectory() as tmp:
        saved.save(tmp)
        resumed = arena.load(tmp, device="cpu")
    resumed.learn(arena.make_env(env_id, **env_kwargs), steps, progress=False)
    return first, resumed


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_learning_on_after_a_checkpoint_is_the_uninterrupted_run(variant):
    name, env_id, env_kwargs, config, steps = VARIANTS[variant]
    first, resumed = _two_paths(name, env_id, env_kwargs, config, steps)
    check_resume(first, resumed, steps)


def test_without_the_replay_buffer_a_checkpoint_resumes_but_not_exactly():
    name, env_id, env_kwargs, config, steps = VARIANTS["dqn prioritized n-step"]
    config = {**config, "buffer_size": 1000}
    first, resumed = _two_paths(name, env_id, env_kwargs, config, steps, save_replay=False)
    assert resumed.num_timesteps == first.num_timesteps == 2 * steps
    assert resumed.buffer.size == first.buffer.size - steps  # refilled from the resume on


def test_the_replay_buffer_is_in_the_state_file_unless_no_save_replay(tmp_path):
    common = ["dqn", "CartPole-v1", "--steps", "300", "--quiet", "--set", "learning_starts=50"]
    assert run_arena("train", *common, "--out", str(tmp_path / "with")).returncode == 0
    done = run_arena("train", *common, "--out", str(tmp_path / "without"), "--no-save-replay")
    assert done.returncode == 0, done.stderr
    with_buffer = arena.load(tmp_path / "with", device="cpu")
    without = arena.load(tmp_path / "without", device="cpu")
    # Staged rows are saved too, and so are the open episode's unfinished n-step transitions.
    pending = len(with_buffer.nstep.histories[0]) if with_buffer.nstep else 0
    kept = with_buffer.buffer.size + with_buffer.buffer.staged + pending
    assert kept == 300 and without.buffer is None
    sizes = [
        sum(f.stat().st_size for f in (tmp_path / d).glob("state-*")) for d in ("with", "without")
    ]
    assert sizes[0] > sizes[1] + 300 * 11 * 4  # 300 rows of 2 * 4 + 3 float32
    summary = run_json("train", "--resume", str(tmp_path / "without"), "--steps", "50", "--json")
    assert summary["steps"] == 350


def _manifest(path):
    return json.loads((path / "manifest.json").read_text())


def test_a_checkpoint_from_before_exact_resume_loads_and_reseeds(tmp_path):
    env = arena.make_env("FrozenLake-v1")
    agent = arena.make_agent("q-learning", env, seed=5).learn(env, 200, progress=False)
    agent.save(tmp_path)
    manifest = _manifest(tmp_path)
    assert manifest["rng"] == agent.np_random.bit_generator.state
    del manifest["rng"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    loaded = arena.load(tmp_path)
    fresh = arena.make_agent("q-learning", env, seed=5)
    assert loaded.np_random.bit_generator.state == fresh.np_random.bit_generator.state


@pytest.mark.parametrize(
    "rng",
    [
        "PCG64",
        {
            "bit_generator": "MT19937",
            "state": {"state": 1, "inc": 1},
            "has_uint32": 0,
            "uinteger": 0,
        },
        {
            "bit_generator": "PCG64",
            "state": {"state": 2**128, "inc": 1},
            "has_uint32": 0,
            "uinteger": 0,
        },
        {"bit_generator": "PCG64", "state": {"state": 1, "inc": 1}, "has_uint32": 2, "uinteger": 0},
        {"bit_generator": "PCG64", "state": {"state": 1}, "has_uint32": 0, "uinteger": 0},
        {
            "bit_generator": "PCG64",
            "state": {"state": 1, "inc": 1.5},
            "has_uint32": 0,
            "uinteger": 0,
        },
    ],
)
def test_a_bad_rng_state_is_refused_naming_the_field(tmp_path, rng):
    env = arena.make_env("FrozenLake-v1")
    arena.make_agent("random", env, seed=5).save(tmp_path)
    manifest = _manifest(tmp_path)
    manifest["rng"] = rng
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="'rng' must be null or a PCG64 generator state"):
        arena.load(tmp_path)


def test_dqn_on_a_vector_env_resumes_exactly():
    def make():
        return gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="sync")

    config = {"learning_starts": 40, "batch_size": 16, "n_step": 3, "hidden_sizes": (16,)}
    env = make()
    first = arena.make_agent("dqn", env, seed=1, device="cpu", **config)
    first.learn(env, 150, progress=False).learn(env, 150, progress=False)
    saved = arena.make_agent("dqn", make(), seed=1, device="cpu", **config)
    saved.learn(make(), 150, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        saved.save(tmp)
        resumed = arena.load(tmp, device="cpu")
    resumed.learn(make(), 150, progress=False)
    check_resume(first, resumed, 150)


# Families on the core loop: learning 2N steps at once is learning N, saving, loading and
# learning N, with N inside an episode (the loop replays it). Ring8 at batch 50 has episodes of
# 50 steps; Wine's train split at batch 16 is 9 steps an epoch, at batch 32 five.
CORE_LOOP = {
    "gan": ("gan", "arena/Ring8-v0", {"batch_size": 50}, {"hidden_sizes": (32, 32)}, 75),
    "wgan-gp": ("wgan-gp", "arena/Ring8-v0", {"batch_size": 50}, {"hidden_sizes": (32,)}, 75),
    "vae": ("vae", "arena/Ring8-v0", {"batch_size": 50}, {"hidden_sizes": (32,)}, 75),
    "cgan": ("cgan", "arena/Ring8Cond-v0", {"batch_size": 50}, {"hidden_sizes": (32,)}, 75),
    "infogan": ("infogan", "arena/Ring8-v0", {"batch_size": 50}, {"hidden_sizes": (32,)}, 75),
    "perceptron": ("perceptron", "arena/Wine-v0", {"batch_size": 16}, {}, 40),
    # Early stopping: the best epoch (22) is behind the cut (step 123, in epoch 25), so the
    # first learn ends holding the best weights and the second goes on from the trained ones.
    "mlp early stopping": ("mlp", "arena/Wine-v0", {"batch_size": 32}, {"patience": 5}, 123),
    "cnn augment": (
        "cnn",
        "arena/Digits-v0",
        {"batch_size": 64, "flatten": False},
        {"augment": True, "channels": (4, 8), "hidden_size": 16},
        30,
    ),
}


@pytest.mark.parametrize("variant", sorted(CORE_LOOP))
def test_on_the_core_loop_learning_2n_is_n_then_save_load_and_n_more(variant):
    name, env_id, env_kwargs, config, steps = CORE_LOOP[variant]
    env = arena.make_env(env_id, **env_kwargs)
    whole = arena.make_agent(name, env, seed=3, device="cpu", **config)
    whole.learn(env, 2 * steps, progress=False)
    env = arena.make_env(env_id, **env_kwargs)
    saved = arena.make_agent(name, env, seed=3, device="cpu", **config)
    saved.learn(env, steps, progress=False)
    assert saved.open_episode is not None and saved.open_episode.length > 0  # N cut an episode
    with tempfile.TemporaryDirectory() as tmp:
        saved.save(tmp)
        resumed = arena.load(tmp, device="cpu")
    resumed.learn(arena.make_env(env_id, **env_kwargs), steps, progress=False)
    check_resume(whole, resumed, steps)
    assert "resume" not in resumed.learn_info
    assert resumed.learn_info == whole.learn_info


@pytest.mark.parametrize(
    ("name", "env_id", "settings"),
    [
        ("dqn", "CartPole-v1", ["learning_starts=40", "batch_size=16", "n_step=3"]),
        ("q-learning", "FrozenLake-v1", []),  # the compiled kernel
        ("sarsa", "Taxi-v4", ["fast_path=False"]),
    ],
)
def test_arena_train_2n_equals_n_then_resume_n(tmp_path, name, env_id, settings):
    common = [name, env_id, "--quiet", "--seed", "4", *(f"--set={s}" for s in settings)]
    whole = run_arena("train", *common, "--steps", "310", "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    half = run_arena("train", *common, "--steps", "155", "--out", str(tmp_path / "split"))
    assert half.returncode == 0, half.stderr
    rest = run_arena("train", "--resume", str(tmp_path / "split"), "--steps", "155", "--quiet")
    assert rest.returncode == 0, rest.stderr
    loaded = [arena.load(tmp_path / d, device="cpu") for d in ("whole", "split")]
    check_resume(*loaded, 155)
