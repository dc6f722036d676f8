"""Tests of evaluation during training: ``--eval-every``, ``OUT/best`` and evaluations.csv."""

from __future__ import annotations

import csv
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from arena import make_env
from arena.checkpoint import clone_agent, load_checkpoint
from arena.evaluation import evaluate
from arena.training import EVAL_SEED, train

ARENA = Path(sys.executable).with_name("arena")


def rows(run: Path) -> list[dict[str, float]]:
    with (run / "evaluations.csv").open(newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def test_best_checkpoint_replays_its_evaluation(tmp_path):
    result = train(
        "q-learning",
        "Blackjack-v1",
        out=tmp_path,
        steps=3000,
        seed=3,
        eval_every=500,
        eval_episodes=4,
    )
    table = rows(tmp_path)
    steps = [int(r["step"]) for r in table]
    assert steps[-1] == result.steps == 3000
    assert len(steps) >= 4 and all(b - a >= 500 for a, b in itertools.pairwise(steps[:-1]))
    best = result.best_eval
    assert best["mean_return"] == max(r["mean_return"] for r in table)
    agent = load_checkpoint(tmp_path / "best")
    assert agent.num_timesteps == best["step"]
    report = evaluate(agent, make_env("Blackjack-v1"), episodes=4, seed=EVAL_SEED + 3)
    assert report.mean_return == best["mean_return"]


@pytest.mark.parametrize(
    ("name", "env_id", "overrides"),
    [
        ("q-learning", "Blackjack-v1", {}),
        ("dqn", "CartPole-v1", {"learning_starts": 200}),
        # Building SB3's copy for an evaluation once reseeded the global generators SB3 draws from.
        ("sb3-ppo", "CartPole-v1", {"n_envs": 1, "n_steps": 256, "batch_size": 64}),
    ],
)
def test_evaluating_does_not_change_training(name, env_id, overrides, tmp_path):
    common = {"steps": 2000, "seed": 5, "overrides": overrides}
    plain = train(name, env_id, out=tmp_path / "plain", **common).agent
    watched = train(
        name, env_id, out=tmp_path / "watched", eval_every=400, eval_episodes=2, **common
    ).agent
    assert len(rows(tmp_path / "watched")) >= 3
    for key, value in plain.state().items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(watched.state()[key]))


def test_clone_plays_alike_and_shares_no_memory(tmp_path):
    agent = train("q-learning", "arena/Chain-v0", out=tmp_path, steps=2000, seed=1).agent
    copy = clone_agent(agent)
    assert (copy.seed, copy.num_timesteps, copy.env_id) == (1, 2000, "arena/Chain-v0")
    before = {k: np.array(v) for k, v in agent.state().items()}
    for key, value in copy.state().items():
        np.testing.assert_array_equal(value, before[key])
        value[...] = 0
    for key, value in agent.state().items():
        np.testing.assert_array_equal(value, before[key])


def test_resume_keeps_the_best_so_far(tmp_path):
    train("q-learning", "arena/Chain-v0", out=tmp_path, steps=1000, eval_every=500)
    before = rows(tmp_path)
    train(None, None, out=tmp_path, steps=1000, eval_every=500, resume=tmp_path)
    table = rows(tmp_path)
    assert table[: len(before)] == before and len(table) > len(before)
    for i, row in enumerate(table):
        beats = all(row["mean_return"] > r["mean_return"] for r in table[:i])
        assert row["best"] == float(beats)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--eval-every", "0"], "--eval-every must be at least 1, got 0"),
        (["--eval-every", "10", "--eval-episodes", "0"], "--eval-episodes must be at least 1"),
    ],
)
def test_bad_evaluation_options_exit_2_and_leave_nothing(option, message, tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [ARENA, "train", "random", "CartPole-v1", "--steps", "10", "--out", out, *option],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_an_evaluation_with_nan_returns_is_a_row_not_a_crash(tmp_path):
    import math

    import gymnasium as gym

    from arena import make_agent
    from arena.periodic_eval import PeriodicEval

    class NanReward(gym.Env):
        """One step, whose reward is NaN: what a diverged regression-style game pays."""

        observation_space = gym.spaces.Discrete(1)
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return 0, {}

        def step(self, action):
            return 0, math.nan, True, False, {}

    agent = make_agent("random", NanReward(), seed=0)
    evaluation = PeriodicEval(NanReward, tmp_path, every=1, episodes=2, seed=0)
    evaluation.on_learn_start(agent, 1)
    evaluation.evaluate(1)
    evaluation.close()
    (row,) = rows(tmp_path)
    assert math.isnan(row["mean_return"]) and math.isnan(row["std_return"])
    assert row["best"] == 0 and not (tmp_path / "best").exists()


def test_a_dataset_env_is_evaluated_on_the_split_arena_evaluate_plays(tmp_path):
    seen = []
    result = train(
        "mlp", "arena/Iris-v0", out=tmp_path / "run", steps=40, eval_every=40, eval_episodes=1,
        progress=False, on_evaluation=lambda agent, step, numbers: seen.append(numbers),
    )  # fmt: skip
    kwargs = {**result.agent.env_kwargs, "split": "test"}
    held_out = evaluate(
        clone_agent(result.agent), make_env("arena/Iris-v0", **kwargs), 1, EVAL_SEED
    )
    assert seen[-1]["mean_length"] == held_out.summary()["mean_length"]  # 30 test rows, not 120
    assert seen[-1]["metrics"] == held_out.summary()["metrics"]
