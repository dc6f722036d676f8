"""The sequence agents: learning thresholds, memory resets, save/load, configs, both paths."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import arena
import envs  # noqa: F401  (registers the ids)
from arena.config import build_config
from arena.errors import CheckpointError, ConfigError, IncompatibleEnvError
from arena.registry import agent_class
from arena.testing import check_resume

KINDS = ["rnn", "lstm", "gru", "transformer"]


def build(name: str, env: gym.Env, seed: int = 0, **config):
    cls = agent_class(name)
    return cls(
        env.observation_space,
        env.action_space,
        config=cls.Config(**config),
        seed=seed,
        device="cpu",
    )


class HideFastPath(gym.Wrapper):
    """The same env without ``episode_observations``: the agent must predict step by step."""

    @property
    def unwrapped(self) -> gym.Env:
        return self


def test_entry_point_module_does_not_import_torch() -> None:
    code = "import sys, agents.sequence.agent; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("name", "steps", "config"),
    [
        ("lstm", 800, {"hidden_size": 32, "learning_rate": 0.01}),
        (
            "transformer",
            1200,
            {"context": 16, "d_model": 32, "num_layers": 2, "learning_rate": 5e-3},
        ),
    ],
)
def test_learns_plain_reber(name: str, steps: int, config: dict) -> None:
    env = gym.make("arena/Reber-v0", embedded=False, batch_size=32)
    agent = build(name, env, **config)
    agent.learn(env, steps, progress=False)
    report = arena.evaluate(agent, env, episodes=5, seed=1)
    # Measured at seeds 0 and 1: lstm 1.0 and 1.0, transformer 1.0 and 0.9992; untrained 0.37
    # and 0.40. The old 0.99 sat 0.001 under the transformer's seed 1: 0.95 leaves a margin.
    assert report.metrics["valid_rate"] >= 0.95


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_learns_short_adding(name: str) -> None:
    env = gym.make("arena/Adding-v0", T=10, batch_size=32)
    agent = build(name, env, hidden_size=32, window=10, learning_rate=0.01)
    agent.learn(env, 3000, progress=False)
    report = arena.evaluate(agent, env, episodes=10, seed=1)
    # Predicting 1.0 gives 0.167; untrained 0.24 (lstm) and 0.18 (gru). Measured at seeds 0
    # and 1: lstm 0.0010 and 0.0003, gru 0.0006 and 0.0006, ten times under the threshold.
    assert report.metrics["mse"] <= 0.01


@pytest.mark.parametrize("name", KINDS)
def test_memory_resets_at_each_episode_start(name: str) -> None:
    env = gym.make("arena/Sine-v0", batch_size=2, length=20)
    agent = build(name, env)
    env.reset(seed=0)
    rows = env.unwrapped.episode_observations().reshape(20, -1)

    def predictions() -> np.ndarray:
        return np.stack([agent.act(row) for row in rows])

    agent.reset()
    fresh = predictions()
    agent.reset()
    for row in rows[::-1]:  # fill the memory with other input
        agent.act(row)
    carried = predictions()
    agent.reset()
    np.testing.assert_array_equal(predictions(), fresh)
    assert not np.array_equal(carried, fresh)


def test_evaluate_resets_the_memory_before_every_episode() -> None:
    env = gym.make("arena/Sine-v0", batch_size=2, length=30)
    agent = build("lstm", env)
    calls = []
    reset = agent.reset
    agent.reset = lambda: (calls.append(1), reset())
    arena.evaluate(agent, env, episodes=3)
    assert len(calls) == 3


@pytest.mark.parametrize("name", KINDS)
def test_save_load_same_predictions(name: str, tmp_path) -> None:
    env = gym.make("arena/Sine-v0", batch_size=3, length=40)
    agent = build(name, env, seed=1)
    agent.learn(env, 100, progress=False)
    agent.save(tmp_path / "ckpt")
    loaded = arena.load(tmp_path / "ckpt", device="cpu")
    assert loaded.num_timesteps == 100 and loaded.config == agent.config
    env.reset(seed=9)
    rows = env.unwrapped.episode_observations()
    agent.reset()
    loaded.reset()
    for row in rows:
        np.testing.assert_array_equal(agent.act(row.reshape(-1)), loaded.act(row.reshape(-1)))
    loaded.learn(env, 40, progress=False)  # the optimizer state loads too


@pytest.mark.parametrize("name", ["lstm", "transformer"])
def test_fast_path_learns_the_same_weights_as_step_by_step(name: str) -> None:
    env = gym.make("arena/Reber-v0", batch_size=4)
    fast = build(name, env, seed=2).learn(env, 60, progress=False)
    slow = build(name, env, seed=2).learn(HideFastPath(env), 60, progress=False)
    for key, value in fast.state().items():
        if key.startswith("window."):  # the window in progress: inputs only step by step
            continue
        np.testing.assert_allclose(
            value.numpy(), slow.state()[key].numpy(), rtol=1e-4, atol=1e-5, err_msg=key
        )


def test_text_actions_are_scores() -> None:
    env = gym.make("arena/Text-v0", length=20, batch_size=2)
    agent = build("gru", env)
    report = arena.evaluate(agent, env, episodes=1)
    assert set(report.metrics) == {"accuracy", "bits_per_char", "bigram_accuracy"}
    action = agent.act(env.reset(seed=0)[0])
    assert action.shape == env.action_space.shape and env.action_space.contains(action)


@pytest.mark.parametrize(
    ("name", "values", "message"),
    [
        ("lstm", {"window": 0}, "window must be >= 1"),
        ("gru", {"learning_rate": 0.0}, "learning_rate must be > 0"),
        ("rnn", {"max_grad_norm": -1.0}, "max_grad_norm must be > 0 or None"),
        ("transformer", {"d_model": 30, "num_heads": 4}, "num_heads must divide d_model"),
        ("transformer", {"context": 1}, "context must be >= 2"),
    ],
)
def test_bad_config(name: str, values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        agent_class(name).Config(**values)


@pytest.mark.parametrize("name", ["rnn", "transformer"])
def test_grad_clip_is_refused_with_its_new_name(name: str) -> None:
    with pytest.raises(ConfigError, match="'grad_clip' was renamed to 'max_grad_norm'"):
        build_config(agent_class(name).Config, {"grad_clip": 1.0}, name)


def test_incompatible_env_says_what_it_needs() -> None:
    with pytest.raises(IncompatibleEnvError, match="next-step prediction game"):
        build("lstm", gym.make("Blackjack-v1"))
    cartpole = gym.make("CartPole-v1")  # the right spaces, but no truth to learn from
    agent = build("gru", cartpole)
    with pytest.raises(IncompatibleEnvError, match=r"reveals info\['truth'\]"):
        agent.learn(cartpole, 10, progress=False)


def test_cli_train_and_evaluate(tmp_path) -> None:
    out = tmp_path / "run"
    train = [sys.executable, "-m", "arena.cli", "train", "gru", "arena/Reber-v0", "--out"]
    subprocess.run(
        [*train, str(out), "--steps", "50", "--env-kwargs", "embedded=False", "--quiet"],
        check=True,
    )
    result = subprocess.run(
        [sys.executable, "-m", "arena.cli", "evaluate", "--checkpoint", str(out), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"valid_rate"' in result.stdout
    bad = subprocess.run(
        [*train, str(tmp_path / "bad"), "--steps", "10", "--env-kwargs", "batch_size=0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "batch_size must be an integer >= 1" in bad.stderr
    foreign = subprocess.run(  # T is the adding game's; the Reber game takes no T
        [*train, str(tmp_path / "bad"), "--steps", "10", "--env-kwargs", "T=1"],
        capture_output=True,
        text=True,
    )
    assert foreign.returncode == 2 and "does not accept these arguments" in foreign.stderr


@pytest.mark.cuda
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", KINDS)
def test_learns_on_cuda(name: str) -> None:
    env = gym.make("arena/Reber-v0", embedded=False, batch_size=8)
    cls = agent_class(name)
    agent = cls(env.observation_space, env.action_space, seed=0, device="cuda")
    agent.learn(env, 200, progress=False)
    assert arena.evaluate(agent, env, episodes=2).metrics["valid_rate"] > 0


# (env id, env kwargs): short episodes of every kind of stream.
RESUME_ENVS = {
    "rnn": ("arena/Sine-v0", {"batch_size": 2, "length": 20}),
    "lstm": ("arena/Reber-v0", {"batch_size": 4}),
    "gru": ("arena/Adding-v0", {"T": 10, "batch_size": 8}),
    "transformer": ("arena/Text-v0", {"length": 20, "batch_size": 2}),
}


@pytest.mark.parametrize("fast", [True, False], ids=["inputs known", "step by step"])
@pytest.mark.parametrize("name", KINDS)
def test_learning_2n_equals_n_save_load_n_mid_window(name: str, fast: bool, tmp_path) -> None:
    env_id, env_kwargs = RESUME_ENVS[name]

    def make() -> gym.Env:
        env = gym.make(env_id, **env_kwargs)
        return env if fast else HideFastPath(env)

    steps = 27  # inside the second window of 4 of an episode
    whole = build(name, make(), seed=1, window=4).learn(make(), 2 * steps, progress=False)
    half = build(name, make(), seed=1, window=4).learn(make(), steps, progress=False)
    assert half.open_episode is not None and half.model.truths  # N cut an episode and a window
    half.save(tmp_path)
    resumed = arena.load(tmp_path, device="cpu").learn(make(), steps, progress=False)
    check_resume(whole, resumed, steps)
    assert "resume" not in resumed.learn_info
    split = build(name, make(), seed=1, window=4).learn(make(), steps, progress=False)
    env = make()
    split.act(env.reset(seed=5)[0])  # a greedy look between learn calls changes nothing
    check_resume(whole, split.learn(make(), steps, progress=False), steps)


def test_an_evaluation_mid_episode_starts_the_next_learn_afresh() -> None:
    env = gym.make("arena/Reber-v0", batch_size=4)
    agent = build("gru", env, window=4).learn(env, 7, progress=False)
    arena.evaluate(agent, env, episodes=1)
    agent.learn(env, 7, progress=False)
    assert "memory of it was cleared" in agent.learn_info["resume"]
    assert agent.num_timesteps == 14


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"window": "sideways"}, "its window is 'inputs known' or 'step by step'"),
        ({"window": None}, "holds a window in progress, but no episode is open"),
        ({"remembered": -1}, "its 'remembered' must be null or a whole number"),
    ],
)
def test_a_bad_window_in_a_checkpoint_is_refused(tmp_path, extra: dict, message: str) -> None:
    env = gym.make("arena/Reber-v0", batch_size=4)
    build("gru", env, window=4).learn(env, 7, progress=False).save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["extra"].update(extra)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=message):
        arena.load(tmp_path, device="cpu")


def test_a_wide_models_checkpoint_loads_with_adams_moments(tmp_path):
    # Adam's moments (2 x 1.6 MB here) appear at the first update; the reader's size limit
    # must allow for them (it once refused such a checkpoint).
    env = gym.make("arena/Sine-v0", batch_size=2, length=20)
    agent = arena.make_agent("lstm", env, seed=0, device="cpu", hidden_size=256)
    agent.learn(env, 30, progress=False).save(tmp_path / "lstm")
    loaded = arena.load(tmp_path / "lstm", device="cpu")
    assert loaded.num_timesteps == agent.num_timesteps
