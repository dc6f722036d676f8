"""Run directories: one writer at a time, the user's files untouched, logs cut back on resume.

Every refusal is checked end to end: exit 2, one ``arena: error:`` paragraph, no traceback, and
every file in the test's folder byte-identical afterwards. Refusals that must come before
training starts ask for 10^8 steps, so a run that started training would time out.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from arena.errors import ArenaError, RunDirBusyError
from arena.rundir import LOCK_FILE, hold, open_run, truncate_logs
from tests.conftest import run_arena, run_json, write_distribution

FOREVER = ("--steps", "100000000")

IMPORTER = '''
"""A third-party importer: writes a random agent's checkpoint, or fails when told to."""

import arena
from arena.errors import ArenaError


def convert(source, out, env=None, fail=False):
    if fail:
        raise ArenaError(f"{source} is not a model this importer reads.")
    game = arena.make_env("arena/Chain-v0")
    agent = arena.make_agent("random", game, seed=7)
    agent.save(out)
    return {"agent": "random", "out": str(out)}
'''


@pytest.fixture(scope="module")
def importer_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a distribution that declares the importer ``import-fake``."""
    return write_distribution(
        tmp_path_factory.mktemp("importer-site"),
        "arena-fake-importer",
        "1.0",
        {"arena_fake_importer": IMPORTER},
        """
        [arena.importers]
        fake = arena_fake_importer:convert
        """,
    )


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished q-learning run with progress.csv, evaluations.csv and best/."""
    run = tmp_path_factory.mktemp("runs") / "run"
    done = run_arena(
        "train", "q-learning", "arena/Chain-v0", "--steps", "600", "--eval-every", "300",
        "--eval-episodes", "2", "--out", str(run), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return run


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root``: a file's bytes, None for a folder."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def copy_run(run: Path, to: Path) -> Path:
    """A copy of a run directory, files and the best/ checkpoint."""
    to.mkdir()
    for item in run.rglob("*"):
        target = to / item.relative_to(run)
        if item.is_dir():
            target.mkdir()
        else:
            target.write_bytes(item.read_bytes())
    return to


def assert_refused(done: subprocess.CompletedProcess, *needles: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("arena: error: ") and "Traceback" not in done.stderr
    for needle in needles:
        assert needle in done.stderr


def test_hold_reenters_in_one_process_and_leaves_no_lock_file(tmp_path):
    with hold(tmp_path):
        assert (tmp_path / LOCK_FILE).is_file()
        with hold(str(tmp_path)):
            pass
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (tmp_path / LOCK_FILE).exists()
    with pytest.raises(ArenaError, match="Cannot lock"), hold(tmp_path / "missing"):
        pass


def test_a_second_process_is_refused_until_the_holder_is_killed(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from arena.rundir import hold\n"
         f"with hold({str(tmp_path)!r}):\n print('held', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(RunDirBusyError) as caught, hold(tmp_path):
            pass
        assert f"pid {holder.pid}" in str(caught.value) and "hold(" in str(caught.value)
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the OS releases the lock
        holder.communicate(timeout=30)
    assert (tmp_path / LOCK_FILE).exists()
    with hold(tmp_path):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (tmp_path / LOCK_FILE).exists()


def test_two_writers_on_one_run_directory(tmp_path, importer_path):
    run = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "arena", "train", "random", "CartPole-v1", *FOREVER,
         "--save-every", "2000", "--out", str(run), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (run / "manifest.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        holder = f"pid {first.pid} (`"
        again = run_arena("train", "random", "CartPole-v1", *FOREVER, "--out", str(run))
        assert_refused(again, f"{str(run)!r} is in use by another writer", holder)
        resumed = run_arena("train", "--resume", str(run), *FOREVER, timeout=60)
        assert_refused(resumed, holder)
        imported = run_arena(
            "import-fake", "x.zip", "--out", str(run), "--overwrite", pythonpath=importer_path
        )
        assert_refused(imported, holder)
    finally:
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=60)
    assert first.returncode == 130, stderr
    assert not (run / LOCK_FILE).exists()
    steps = [int(row["step"]) for row in csv.DictReader((run / "progress.csv").open())]
    assert steps == sorted(steps)


@pytest.mark.parametrize(
    ("out", "needle"),
    [
        ("", "--out is empty"),
        ("file.txt", "is a file; it must name a folder"),
        ("/dev/null", "it must name a folder"),
        ("file.txt/run", "lies under"),
        ("mine", "a folder with other files in it (notes.txt, progress.csv, state-"),
        ("checkpoint", "already holds a checkpoint"),
    ],
)
def test_a_bad_out_is_refused_before_training(out, needle, tmp_path, checkpoint):
    (tmp_path / "file.txt").write_text("the user's\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine\n")
    (tmp_path / "mine" / "progress.csv").write_text("step,return\n1,2\n")
    (tmp_path / "mine" / "state-0123.safetensors").write_bytes(b"mine")
    copy_run(checkpoint, tmp_path / "checkpoint")
    before = snapshot(tmp_path)
    done = run_arena("train", "random", "CartPole-v1", *FOREVER, "--out", out, cwd=tmp_path)
    assert_refused(done, needle)
    assert snapshot(tmp_path) == before


def test_a_read_only_out_is_refused(tmp_path):
    """As root (which writes anywhere) the run drops to user nobody through setpriv."""
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root writes in read-only folders, and there is no setpriv")
        as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    root = Path(tempfile.mkdtemp(prefix="arena-ro-"))
    folder = root / "ro"
    try:
        root.chmod(0o755)
        folder.mkdir(mode=0o555)
        for out in (folder, folder / "run"):
            done = subprocess.run(
                [*as_user, sys.executable, "-m", "arena", "train", "random", "CartPole-v1",
                 *FOREVER, "--out", str(out)],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert_refused(done, "cannot write in")
        assert not list(folder.iterdir())
    finally:
        if folder.exists():
            folder.chmod(0o755)
        shutil.rmtree(root)


def test_resume_into_another_checkpoint_needs_overwrite(tmp_path, checkpoint):
    other = copy_run(checkpoint, tmp_path / "other")
    (other / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    done = run_arena("train", "--resume", str(checkpoint), "--out", str(other), *FOREVER)
    assert_refused(done, "already holds a checkpoint", "--overwrite")
    assert snapshot(tmp_path) == before
    run_json(
        "train", "--resume", str(checkpoint), "--out", str(other), "--steps", "100",
        "--overwrite", "--json",
    )  # fmt: skip
    assert (other / "notes.txt").read_text() == "mine\n"
    assert not (other / "evaluations.csv").exists() and not (other / "best").exists()
    steps = [int(row["step"]) for row in csv.DictReader((other / "progress.csv").open())]
    assert steps and min(steps) > 600  # only the resumed run's episodes
    assert sorted(p.name for p in other.iterdir()) == sorted(
        ["manifest.json", "notes.txt", "progress.csv", *[p.name for p in other.glob("state-*")]]
    )


def test_overwrite_replaces_only_what_arena_wrote(tmp_path, checkpoint):
    run = copy_run(checkpoint, tmp_path / "run")
    (run / "notes.txt").write_text("mine\n")
    (run / "best" / "plot.png").write_bytes(b"mine")
    old_state = next(run.glob("state-*")).name
    summary = run_json(
        "train", "q-learning", "arena/Chain-v0", "--steps", "200", "--eval-every", "100",
        "--eval-episodes", "2", "--seed", "3", "--out", str(run), "--overwrite", "--json",
    )  # fmt: skip
    assert summary["steps"] == 200
    assert (run / "notes.txt").read_text() == "mine\n"
    assert (run / "best" / "plot.png").read_bytes() == b"mine"
    assert json.loads((run / "manifest.json").read_text())["seed"] == 3
    assert old_state not in [p.name for p in run.glob("state-*")]
    evaluations = list(csv.DictReader((run / "evaluations.csv").open()))
    assert evaluations and all(float(row["step"]) <= 200 for row in evaluations)


def test_overwrite_refuses_a_log_arena_did_not_write(tmp_path, checkpoint):
    run = copy_run(checkpoint, tmp_path / "run")
    (run / "progress.csv").write_text("date,weight\n2024-01-01,80\n")
    before = snapshot(tmp_path)
    done = run_arena(
        "train", "random", "arena/Chain-v0", *FOREVER, "--out", str(run), "--overwrite"
    )
    assert_refused(done, "was not written by arena")
    assert snapshot(tmp_path) == before


def test_resume_cuts_the_logs_back_to_the_checkpoint(tmp_path, checkpoint):
    run = copy_run(checkpoint, tmp_path / "run")
    progress, evaluations = run / "progress.csv", run / "evaluations.csv"
    kept_progress, kept_evaluations = progress.read_bytes(), evaluations.read_bytes()
    width = len(kept_progress.splitlines()[0].split(b","))
    # Rows a run wrote after its last checkpoint before it was killed, the last one half-written.
    with progress.open("ab") as f:
        f.write(b"900," + b",".join([b"1"] * (width - 1)) + b"\r\n950,1")
    with evaluations.open("ab") as f:
        f.write(b"900,1.0,0.0,5.0,1\r\n")
    summary = run_json(
        "train", "--resume", str(run), "--steps", "300", "--eval-every", "300",
        "--eval-episodes", "2", "--json",
    )  # fmt: skip
    assert summary["steps"] == 900
    assert progress.read_bytes().startswith(kept_progress)
    assert evaluations.read_bytes().startswith(kept_evaluations)
    for file in (progress, evaluations):
        steps = [float(row["step"]) for row in csv.DictReader(file.open())]
        assert steps == sorted(steps) and steps[-1] <= 900, file
    assert [float(row["step"]) for row in csv.DictReader(evaluations.open())][-2:] == [600, 900]


def test_truncate_log_keeps_an_unchanged_file_byte_identical(tmp_path):
    log = tmp_path / "progress.csv"
    log.write_bytes(b"step,return,length,time\r\n5,1.0,5,0.1\r\n")
    stamp = log.stat().st_mtime_ns
    truncate_logs([log], 5)
    assert log.stat().st_mtime_ns == stamp
    log.write_bytes(b"step,return,length,time\r\nfive,1.0,5,0.1\r\n")
    with pytest.raises(ArenaError, match="line 2: the step 'five' is not a number"):
        truncate_logs([log], 5)


def test_a_refused_run_leaves_no_folder_and_no_lock(tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "new" / "run", tmp_path / "empty"):
        with pytest.raises(ArenaError, match="refused"), open_run(out):
            assert (out / LOCK_FILE).is_file()
            raise ArenaError("refused")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
    assert not list((tmp_path / "empty").iterdir())


def test_seeds_refuse_a_taken_seed_folder_and_leave_the_others(tmp_path, checkpoint):
    (tmp_path / "out").mkdir()
    copy_run(checkpoint, tmp_path / "out" / "seed-1")
    before = snapshot(tmp_path)
    done = run_arena(
        "train", "random", "CartPole-v1", *FOREVER, "--seeds", "3", "--out", str(tmp_path / "out")
    )
    assert_refused(done, "seed-1", "already holds a checkpoint")
    assert snapshot(tmp_path) == before


def test_imports_need_overwrite_and_a_failed_one_changes_nothing(
    tmp_path, checkpoint, importer_path
):
    run = copy_run(checkpoint, tmp_path / "run")
    (run / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    for extra in ([], ["--overwrite", "--option", "fail=True"]):
        done = run_arena(
            "import-fake", "model.zip", "--out", str(run), *extra, pythonpath=importer_path
        )
        assert_refused(done)
        assert snapshot(tmp_path) == before
    fresh = run_arena(
        "import-fake", "m.zip", "--out", str(tmp_path / "new"), "--option", "fail=True",
        pythonpath=importer_path,
    )  # fmt: skip
    assert_refused(fresh, "not a model this importer reads")
    assert not (tmp_path / "new").exists()
    summary = run_json(
        "import-fake", "m.zip", "--out", str(run), "--overwrite", "--json",
        pythonpath=importer_path,
    )  # fmt: skip
    assert summary["out"] == str(run)
    assert json.loads((run / "manifest.json").read_text())["seed"] == 7
    assert sorted(p.name for p in run.iterdir() if not p.name.startswith("state-")) == [
        "manifest.json",
        "notes.txt",
    ]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"step,return\n1,2\n\xff\xfe,3\n", "line 3: not UTF-8"),
        (b"step,return\n1,2\n2,abc\n", "line 3: return 'abc' is not a number"),
        (b"step,return\n1,2\n2,3,4\n", "line 3: 3 cell(s) where the header has 2"),
        (b"", "line 1: no header row"),
        (b"1,2\n2,3\n", "line 1: no header row"),
        (bytes(range(256)) * 4, "line 1: no header row"),
    ],
)
def test_plot_refuses_a_malformed_progress_csv(content, needle, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "progress.csv").write_bytes(content)
    done = run_arena("plot", "run", "--out", "p.png", cwd=tmp_path)
    assert_refused(done, "progress.csv, " + needle)
    assert not (tmp_path / "p.png").exists()


def test_existing_output_files_need_overwrite(tmp_path, checkpoint):
    for name in ("p.png", "s.npy", "v.gif"):
        (tmp_path / name).write_bytes(b"mine")
    before = snapshot(tmp_path)
    for args in (
        ["plot", str(checkpoint), "--out", "p.png"],
        ["sample", "--checkpoint", str(checkpoint), "--out", "s.npy"],
        ["evaluate", "random", "CartPole-v1", "--record", "v.gif"],
    ):
        assert_refused(run_arena(*args, cwd=tmp_path), "already exists; pass --overwrite")
    assert_refused(run_arena("plot", str(checkpoint), "--out", "p.txt", cwd=tmp_path), ".png")
    assert snapshot(tmp_path) == before
    done = run_arena("plot", str(checkpoint), "--out", "p.png", "--overwrite", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "Wrote p.png\n", done.stderr
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
