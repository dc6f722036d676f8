"""``arena train --tensorboard DIR``: event files TensorBoard reads, with the expected tags."""

from __future__ import annotations

import sys

import pytest

from arena.errors import ArenaError
from arena.training import train, train_seeds
from tests.conftest import run_arena

pytest.importorskip("tensorboard")


def _scalars(folder) -> dict[str, list]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    return {tag: accumulator.Scalars(tag) for tag in accumulator.Tags()["scalars"]}


def test_train_writes_returns_metrics_epsilon_and_evaluations(tmp_path):
    events = tmp_path / "tb"
    done = run_arena(
        "train", "q-learning", "FrozenLake-v1", "--steps", "200000", "--eval-every", "100000",
        "--out", str(tmp_path / "run"), "--tensorboard", str(events), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (folder,) = events.iterdir()
    assert folder.name == "q-learning_FrozenLake-v1_seed-0_1"
    scalars = _scalars(folder)
    assert {"rollout/return", "rollout/length", "train/epsilon"} <= set(scalars)
    assert {"eval/mean_return", "eval/mean_length", "eval/success"} <= set(scalars)
    # The compiled loop runs 100000-step chunks, with the callbacks between them.
    assert [e.step for e in scalars["eval/mean_return"]] == [100000, 200000]
    returns = scalars["rollout/return"]
    assert all(0.0 <= e.value <= 1.0 for e in returns) and returns[-1].step <= 200000
    epsilon = [e.value for e in scalars["train/epsilon"]]
    assert epsilon[0] > epsilon[-1]  # the schedule decays


def test_a_torch_agent_logs_its_loss_and_a_second_run_gets_its_own_folder(tmp_path):
    events = tmp_path / "tb"
    for run in ("a", "b"):
        train(
            "dqn",
            "CartPole-v1",
            out=tmp_path / run,
            steps=1500,
            device="cpu",
            overrides={"learning_starts": 200, "batch_size": 32},
            tensorboard=events,
        )
    folders = sorted(p.name for p in events.iterdir())
    assert folders == ["dqn_CartPole-v1_seed-0_1", "dqn_CartPole-v1_seed-0_2"]
    scalars = _scalars(events / folders[0])
    assert {"train/loss", "train/epsilon", "rollout/return"} <= set(scalars)
    assert all(e.value >= 0 for e in scalars["train/loss"])


def test_each_seed_writes_its_own_events(tmp_path):
    events = tmp_path / "tb"
    train_seeds(
        "q-learning", "FrozenLake-v1", out=tmp_path / "runs", seeds=2, steps=5000,
        tensorboard=events,
    )  # fmt: skip
    assert sorted(p.name for p in events.iterdir()) == [
        "q-learning_FrozenLake-v1_seed-0_1",
        "q-learning_FrozenLake-v1_seed-1_1",
    ]


def test_without_a_writer_the_flag_says_how_to_install_one(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ArenaError, match=r"no writer is installed.*gym-arena\[ray\]"):
        train("random", "CartPole-v1", out=tmp_path / "run", steps=10, tensorboard=tmp_path)
    assert not (tmp_path / "run").exists()
