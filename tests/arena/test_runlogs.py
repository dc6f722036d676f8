"""Tests of progress.csv: a few thousand rows on a long run, every episode on request, resumes
of new and old files, and the plot reading both."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from arena.callbacks import Episode
from arena.plot import plot_runs, read_progress, smooth
from arena.runlogs import PROGRESS_ROWS, ProgressCSV
from arena.training import train
from tests.conftest import run_arena

STEPS = 1_000_000  # q-learning on FrozenLake: a few seconds, and about 90,000 episodes


def rows(run: Path) -> list[dict[str, str]]:
    with (run / "progress.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def long_runs(tmp_path_factory: pytest.TempPathFactory):
    """The same seeded long tabular run, grouped (the default) and with every episode."""
    root = tmp_path_factory.mktemp("long")
    grouped = train("q-learning", "FrozenLake-v1", out=root / "grouped", steps=STEPS)
    exact = train(
        "q-learning", "FrozenLake-v1", out=root / "exact", steps=STEPS, log_every_episode=True
    )
    return grouped, exact


def test_a_long_run_writes_a_few_thousand_rows_covering_every_episode(long_runs):
    grouped, exact = long_runs
    assert grouped.episodes == exact.episodes > 50_000  # the same seeded run
    table = rows(grouped.out)
    # One window of steps // PROGRESS_ROWS steps a row, and a row cut at each checkpoint.
    assert PROGRESS_ROWS / 2 < len(table) <= PROGRESS_ROWS + 10
    assert sum(int(row["episodes"]) for row in table) == grouped.episodes
    steps = [int(row["step"]) for row in table]
    assert steps == sorted(steps) and steps[-1] <= STEPS
    every = rows(exact.out)
    assert len(every) == exact.episodes and {row["episodes"] for row in every} == {"1"}
    assert steps[-1] == int(every[-1]["step"])
    # Each row's mean return and length are its episodes' means: the sums agree.
    for column in ("return", "length"):
        total = sum(float(row[column]) * int(row["episodes"]) for row in table)
        assert total == pytest.approx(sum(float(row[column]) for row in every))


def test_an_ordinary_run_keeps_one_row_per_episode(tmp_path):
    result = train("random", "arena/Chain-v0", out=tmp_path / "run", steps=1000)
    table = rows(result.out)
    assert len(table) == result.episodes and {row["episodes"] for row in table} == {"1"}
    assert list(table[0]) == ["step", "return", "length", "time", "episodes", "success"]


def test_a_group_averages_its_metrics_and_a_checkpoint_cuts_it(tmp_path):
    log = ProgressCSV(tmp_path / "progress.csv")
    log.on_learn_start(None, 20 * PROGRESS_ROWS)  # windows of 20 steps
    for step, ret, success in ((5, 1.0, 1.0), (12, 0.0, 0.0), (18, 2.0, None), (25, 4.0, 1.0)):
        log.on_episode(Episode(step, ret, 6, {} if success is None else {"success": success}))
        if step == 12:
            log.flush()  # a checkpoint at step 12
    log.on_learn_end(None)
    table = [{k: v for k, v in row.items() if k != "time"} for row in rows(tmp_path)]
    assert table == [
        {"step": "12", "return": "0.5", "length": "6.0", "episodes": "2", "success": "0.5"},
        {"step": "18", "return": "2.0", "length": "6", "episodes": "1", "success": ""},
        {"step": "25", "return": "4.0", "length": "6", "episodes": "1", "success": "1.0"},
    ]


@pytest.mark.parametrize("every_episode", [False, True])
def test_episodes_that_end_at_one_step_of_a_vector_env_keep_their_rows(tmp_path, every_episode):
    log = ProgressCSV(tmp_path / "progress.csv", every_episode=every_episode)
    log.on_learn_start(None, 3000 if not every_episode else 10**9)  # windows of one step
    for ret in (1.0, 2.0, 3.0):
        log.on_episode(Episode(40, ret, 10))
    log.on_learn_end(None)
    assert [(row["step"], row["return"], row["episodes"]) for row in rows(tmp_path)] == [
        ("40", "1.0", "1"),
        ("40", "2.0", "1"),
        ("40", "3.0", "1"),
    ]


def test_a_grouped_run_resumes_in_place_without_losing_or_repeating_episodes(tmp_path):
    first = train("q-learning", "FrozenLake-v1", out=tmp_path / "run", steps=200_000)
    table = rows(first.out)
    # A run stopped after its last checkpoint wrote rows past it; the resume cuts them.
    with (first.out / "progress.csv").open("a") as f:
        f.write(f"{first.steps + 7},1.0,7,9.9,3\n")
    second = train(None, None, resume=first.out, steps=200_000)
    resumed = rows(second.out)
    assert resumed[: len(table)] == table
    assert sum(int(row["episodes"]) for row in resumed) == first.episodes + second.episodes
    steps = [int(row["step"]) for row in resumed]
    assert steps == sorted(steps) and steps[-1] <= 400_000


def test_an_old_progress_csv_resumes_with_its_own_header_and_a_row_per_episode(tmp_path):
    first = train("q-learning", "FrozenLake-v1", out=tmp_path / "run", steps=100_000)
    log = first.out / "progress.csv"
    old = ["step,return,length,time"] + [
        f"{row['step']},{row['return']},{row['length']},{row['time']}" for row in rows(first.out)
    ]
    log.write_text("\n".join(old) + "\n")
    second = train(None, None, resume=first.out, steps=100_000)
    text = log.read_text().splitlines()
    assert text[: len(old)] == old
    assert len(text) == len(old) + second.episodes
    assert all(line.count(",") == 3 for line in text)
    steps, _, counts = read_progress(first.out, "return")
    assert len(steps) == len(old) - 1 + second.episodes and set(counts) == {1.0}


def test_plot_reads_new_and_old_files_and_weighs_rows_by_their_episodes(tmp_path):
    new, old = tmp_path / "new", tmp_path / "old"
    new.mkdir()
    old.mkdir()
    (new / "progress.csv").write_text(
        "step,return,length,time,episodes\n10,1.0,5,0.1,1\n20,3.0,5,0.2,3\n"
    )
    (old / "progress.csv").write_text("step,return,length,time\n10,1.0,5,0.1\n20,3.0,5,0.2\n")
    assert read_progress(new, "return") == ([10.0, 20.0], [1.0, 3.0], [1.0, 3.0])
    assert read_progress(old, "return") == ([10.0, 20.0], [1.0, 3.0], [1.0, 1.0])
    assert smooth([1.0, 3.0], 2, [1.0, 3.0]) == [1.0, 2.5]
    assert smooth([1.0, 3.0, 5.0], 2) == [1.0, 2.0, 4.0]
    png = plot_runs([new, old], tmp_path / "curves.png", window=2)
    assert png.read_bytes().startswith(b"\x89PNG")
    (new / "progress.csv").write_text("step,return,length,time,episodes\n10,1.0,5,0.1,0\n")
    done = run_arena("plot", str(new), "--out", str(tmp_path / "bad.png"))
    assert done.returncode == 2 and "line 2: episodes '0' is less than 1" in done.stderr


def test_train_takes_log_every_episode_from_the_command_line(tmp_path):
    done = run_arena(
        "train", "q-learning", "FrozenLake-v1", "--steps", "100000", "--quiet",
        "--log-every-episode", "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {row["episodes"] for row in rows(tmp_path / "run")} == {"1"}
    assert len(rows(tmp_path / "run")) > PROGRESS_ROWS  # more episodes than a default run's rows
