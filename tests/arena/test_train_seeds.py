"""Tests of ``arena train --seeds N``: independent seeds through Agent.learn_seeds."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from arena.fanout import SeedJob, run_seed
from arena.training import train_seeds

ARENA = Path(sys.executable).with_name("arena")


def test_default_learn_seeds_trains_each_seed_like_learn(tmp_path):
    results = train_seeds("random", "arena/Chain-v0", out=tmp_path, seeds=2, steps=300, seed=4)
    assert [r.agent.seed for r in results] == [4, 5]
    assert [r.out.name for r in results] == ["seed-4", "seed-5"]
    for r in results:
        assert r.steps == 300 and r.episodes >= 2
        assert (r.out / "manifest.json").is_file() and (r.out / "progress.csv").is_file()
    episodes = [
        [row[:3] for row in csv.reader((r.out / "progress.csv").read_text().splitlines())]
        for r in results
    ]
    assert episodes[0] != episodes[1]  # different seeds, different episodes


def test_cli_reports_mean_and_std_across_seeds(tmp_path):
    command = [ARENA, "train", "random", "arena/Chain-v0", "--out", tmp_path, "--steps", "300"]
    done = subprocess.run([*command, "--seeds", "3", "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert len(summary["seeds"]) == 3 and set(summary["recent_mean_return"]) == {"mean", "std"}
    bad = subprocess.run([*command, "--seeds", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--seeds must be at least 1" in bad.stderr
    resume = subprocess.run(
        [ARENA, "train", "--resume", tmp_path / "seed-0", "--out", tmp_path, "--seeds", "2"],
        capture_output=True,
        text=True,
    )
    assert resume.returncode == 2 and "cannot --resume" in resume.stderr


def test_a_seed_resumed_after_a_lost_try_reports_its_whole_run(tmp_path):
    def job(out: str, steps: int) -> SeedJob:
        return SeedJob("q-learning", "FrozenLake-v1", 0, str(tmp_path / out), steps)

    whole = run_seed(job("whole", 6000))
    run_seed(job("cut", 2500))  # the try a killed worker left: a checkpoint at 2500 steps
    resumed = run_seed(job("cut", 6000))
    assert resumed["resumed"] and resumed["steps"] == whole["steps"] == 6000
    assert resumed["episodes"] == whole["episodes"] > 100
    assert resumed["recent_return"] == pytest.approx(whole["recent_return"])
    complete = run_seed(job("cut", 6000))  # nothing left to train: the log is read back
    assert (complete["episodes"], complete["recent_return"]) == (
        resumed["episodes"],
        pytest.approx(whole["recent_return"]),
    )
