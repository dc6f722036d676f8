"""``arena sweep`` end to end against a real local Ray instance: a small tabular search whose
best.toml ``arena train --config`` takes, with TensorBoard events per trial; bad inputs refused
before Ray starts; Ctrl-C and resume."""

from __future__ import annotations

import csv
import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena.errors import ArenaError
from tests.conftest import run_arena, run_json

pytest.importorskip("ray.tune")
pytest.importorskip("optuna")

SPACE = """
learning_rate = { low = 0.05, high = 0.5, log = true }
exploration_final_eps = { choices = [0.1, 0.3] }
"""
SMALL = ("--steps", "20000", "--evaluations", "2", "--eval-episodes", "20", "--quiet")


@pytest.fixture
def space(tmp_path: Path) -> Path:
    file = tmp_path / "space.toml"
    file.write_text(SPACE)
    return file


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "trials.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_a_small_sweep_writes_a_best_config_that_train_takes(tmp_path, space):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out, events = tmp_path / "sweep", tmp_path / "tb"
    args = ("q-learning", "FrozenLake-v1", "--trials", "3", "--space", str(space))
    summary = run_json(
        "sweep", *args, *SMALL, "--metric", "success", "--out", str(out), "--json",
        "--tensorboard", str(events),
    )  # fmt: skip
    assert summary["trials"] == 3 and summary["finished"] is True
    assert summary["complete"] + summary["pruned"] == 3 and summary["error"] == 0
    rows = _rows(out)
    assert [r["trial"] for r in rows] == ["trial-0001", "trial-0002", "trial-0003"]
    # The preset's own values are the first point TPE tries.
    assert float(rows[0]["learning_rate"]) == 0.1 and float(rows[0]["exploration_final_eps"]) == 0.3
    for row in rows:
        assert 0.05 <= float(row["learning_rate"]) <= 0.5
        assert row["exploration_final_eps"] in ("0.1", "0.3")
    best = summary["best"]
    assert best["status"] == "complete" and best["objective"] == max(
        float(r["objective"]) for r in rows if r["status"] == "complete"
    )
    assert (out / "search.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "trials" / best["trial"] / "manifest.json").is_file()
    runs = sorted(glob.glob(str(events / "trial-*" / "*")))
    assert len(runs) == 3  # each trial's events in a folder of its own
    accumulator = EventAccumulator(runs[0])
    accumulator.Reload()
    tags = set(accumulator.Tags()["scalars"])
    assert {"rollout/return", "train/epsilon", "eval/mean_return", "eval/success"} <= tags

    trained = run_json(
        "train", "q-learning", "FrozenLake-v1", "--config", str(out / "best.toml"),
        "--steps", "1000", "--out", str(tmp_path / "again"), "--json",
    )  # fmt: skip
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert trained["steps"] == 1000
    assert manifest["config"]["learning_rate"] == best["learning_rate"]
    assert manifest["config"]["horizon"] == 100  # the preset's, kept under the searched values

    # The same command again finds the sweep done and reports it as it was.
    again = run_json(
        "sweep", *args, *SMALL, "--metric", "success", "--out", str(out), "--json",
        "--tensorboard", str(events),
    )  # fmt: skip
    assert again["best"] == best and _rows(out) == rows
    other = run_arena(
        "sweep", *args[:2], "--trials", "4", *args[4:], *SMALL, "--metric", "success",
        "--out", str(out),
    )  # fmt: skip
    assert other.returncode == 2 and "holds another sweep (its trials differ)" in other.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("learning_rat = { low = 0.1, high = 0.5 }", "Unknown"),
        ('learning_rate = { low = "a", high = 0.5 }', "low and high must be floats"),
        ("learning_rate = { low = 0.5, high = 0.1 }", "low must be below high"),
        ("learning_rate = { low = 0.5, high = 2.0 }", "learning_rate must be in (0, 1], got 2.0"),
        ("learning_rate = { low = 0.5, high = ", "is not valid TOML"),
    ],
)
def test_a_bad_space_file_exits_2_before_ray_starts(tmp_path, text, message):
    file = tmp_path / "space.toml"
    file.write_text(text + "\n")
    out = tmp_path / "sweep"
    done = run_arena(
        "sweep", "q-learning", "FrozenLake-v1", "--trials", "2", "--space", str(file),
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("q-lerning", "FrozenLake-v1"), "Unknown agent 'q-lerning'. Did you mean 'q-learning'"),
        (("q-learning", "FrozenLake-v1", "--metric", "accuracy"), "does not report the metric"),
        (("random", "Blackjack-v1"), "random ships no search space for Blackjack-v1"),
        (("q-learning", "FrozenLake-v1", "--address", "nowhere"), "--address must be HOST:PORT"),
        (
            ("q-learning", "FrozenLake-v1", "--steps", "500", "--grace-steps", "501"),
            "--grace-steps must be from 1 to the budget (500 steps), got 501",
        ),
    ],
)
def test_a_bad_agent_metric_or_address_exits_2_before_ray_starts(tmp_path, args, message):
    done = run_arena("sweep", *args, "--trials", "2", "--out", str(tmp_path / "sweep"))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "sweep").exists()


def test_an_interrupted_sweep_resumes_from_its_folder(tmp_path, space):
    out = tmp_path / "sweep"
    command = [
        sys.executable, "-m", "arena", "sweep", "q-learning", "FrozenLake-v1", "--trials", "4",
        "--space", str(space), *SMALL, "--out", str(out),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not glob.glob(str(out / "trials" / "*" / "manifest.json")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "run the same command to resume" in stderr or "interrupted" in stderr

    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = _rows(out)
    assert len(rows) == 4 and {r["status"] for r in rows} <= {"complete", "pruned"}
    assert (out / "best.toml").is_file()


def test_without_ray_sweep_says_how_to_install_it(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError('no ray here')\n")
    path = os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-m", "arena", "sweep", "q-learning", "FrozenLake-v1", "--trials", "2",
         "--out", str(tmp_path / "sweep")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert 'pip install "gym-arena[ray]"' in done.stderr


def test_a_folder_with_other_files_is_refused_and_left_as_it_was(tmp_path, space):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    done = run_arena(
        "sweep", "q-learning", "FrozenLake-v1", "--trials", "2", "--space", str(space),
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 2
    assert "a folder with other files in it and no sweep" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_grace_steps_default_to_a_quarter_of_the_budget_and_old_folders_still_resume(tmp_path):
    from arena.sweep import SETTINGS_FILE, plan_sweep, prepare_folder

    plan = plan_sweep("q-learning", "FrozenLake-v1", trials=2, steps=20000, evaluations=2)
    assert plan.grace_steps == 10000  # one evaluation in, at half the budget
    plan = plan_sweep("q-learning", "FrozenLake-v1", trials=2, steps=20000)
    assert plan.grace_steps == 5000
    old = {k: v for k, v in plan.settings().items() if k != "grace_steps"}
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(old))  # written before grace_steps was
    assert prepare_folder(tmp_path, plan) is True
    other = plan_sweep("q-learning", "FrozenLake-v1", trials=2, steps=20000, grace_steps=15000)
    with pytest.raises(ArenaError, match=r"its grace_steps differ"):
        prepare_folder(tmp_path, other)
