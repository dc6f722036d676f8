"""A run's logs, ``progress.csv`` and ``evaluations.csv``: written, recognised as arena's by their
header, and cut back to a checkpoint's step when a run resumes in place.

A run stopped after its last checkpoint has written rows past it; the resumed run would repeat
those steps, so the rows go (through a temporary file and one ``os.replace``: a crash leaves the
old file or the new one, never half of one).
"""

from __future__ import annotations

import csv
import math
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.callbacks import Callback, Episode
from arena.errors import ArenaError
from arena.tempfiles import temporary_beside

if TYPE_CHECKING:
    from arena.agent import Agent

PROGRESS_FILE = "progress.csv"
PROGRESS_HEADER = ("step", "return", "length", "time")
"""The columns every ``progress.csv`` starts with, old ones included; new ones add
``episodes``, then the env's metrics."""
PROGRESS_ROWS = 2000
"""By default, a ``learn`` call of ``steps`` writes at most one ``progress.csv`` row per window
of ``steps // PROGRESS_ROWS`` steps, and one more per checkpoint: from ``PROGRESS_ROWS`` to
``2 * PROGRESS_ROWS`` windows, however many episodes."""
RECENT_EPISODES = 100
"""A run's recent return is the mean over its last this many episodes."""
EVALUATIONS_FILE = "evaluations.csv"
EVALUATIONS_HEADER = ("step", "mean_return", "std_return", "mean_length", "best")


class ProgressCSV(Callback):
    """Appends finished episodes to ``progress.csv``: step, return, length, time, episodes and
    the env's metrics.

    A row covers the episodes that end in one window of ``max(1, steps // PROGRESS_ROWS)``
    steps of a ``learn`` call of ``steps``: its step is the last one's, its return, length and
    metrics the means over them, ``episodes`` their count. An ordinary run, whose episodes are
    longer than a window, gets one row per episode; a long tabular run gets a few thousand rows,
    not millions. With windows of one step, each episode has its own row, also those that end
    at the same step of a vector env. :meth:`flush` writes the episodes so far as a row: before
    each checkpoint, so that a row never straddles one.

    The metric columns are those of the first row. A file that exists keeps its header; one
    written before the ``episodes`` column (a resumed old run) gets one row per episode, as
    its header says.

    Args:
        path: The file.
        every_episode: Write one row per episode, however many there are.
    """

    def __init__(self, path: Path, every_episode: bool = False) -> None:
        self.path = path
        self.every_episode = every_episode
        self.started = time.perf_counter()
        self.window = 1
        self._fields: list[str] | None = None
        self._file = None
        self._writer: csv.DictWriter | None = None
        self._group: list[Episode] = []
        self._group_time = 0.0

    def on_learn_start(self, agent: Agent, steps: int) -> None:
        if self.path.is_file() and self.path.stat().st_size > 0:
            with self.path.open(newline="") as f:
                self._fields = next(csv.reader(f), None)
        old = self._fields is not None and "episodes" not in self._fields
        self.window = 1 if self.every_episode or old else max(1, steps // PROGRESS_ROWS)

    def on_episode(self, episode: Episode) -> None:
        last = self._group[-1].step if self._group else None
        if last is not None and (
            self.window == 1 or _window(last, self.window) != _window(episode.step, self.window)
        ):
            self.flush()
        self._group.append(episode)
        self._group_time = time.perf_counter() - self.started

    def flush(self) -> None:
        """Writes the episodes not yet written as one row."""
        group, self._group = self._group, []
        if not group:
            return
        if self._writer is None:
            self._open(sorted({name for e in group for name in e.metrics}))
        row: dict[str, Any] = {
            "step": group[-1].step,
            "return": _mean([e.ret for e in group]),
            "length": _mean([e.length for e in group]),
            "time": round(self._group_time, 3),
            "episodes": len(group),
        }
        for name in self._writer.fieldnames:
            values = [e.metrics[name] for e in group if name in e.metrics]
            if values and name not in row:
                row[name] = _mean(values)
        self._writer.writerow(row)

    def _open(self, metric_names: list[str]) -> None:
        exists = self._fields is not None
        fields = self._fields or [*PROGRESS_HEADER, "episodes", *metric_names]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", newline="", buffering=1)
        self._writer = csv.DictWriter(self._file, fields, extrasaction="ignore")
        if not exists:
            self._writer.writeheader()

    def on_learn_end(self, agent: Agent) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None


def _window(step: int, window: int) -> int:
    """The window of steps ``(k * window, (k + 1) * window]`` that ``step`` falls in."""
    return (step - 1) // window


def _mean(values: list[float]) -> float:
    """The mean; a single value as it is (an episode's length stays a whole number)."""
    return values[0] if len(values) == 1 else sum(values) / len(values)


def check_header(file: Path, header: tuple[str, ...]) -> None:
    """Refuses a log that arena did not write: a link, or a file without arena's header."""
    try:
        with file.open("rb") as f:
            first = f.readline(4096)
    except OSError as e:
        raise ArenaError(f"Cannot read {str(file)!r}: {e.strerror}.") from None
    if file.is_symlink() or not first.decode("utf-8", "replace").startswith(",".join(header)):
        raise ArenaError(
            f"{str(file)!r} was not written by arena (it does not start with the header "
            f"{','.join(header)}); arena will not replace or change it. Move it away first."
        )


def truncate_logs(files: list[Path], step: int) -> None:
    """Drops the rows of arena's CSV logs whose step is after ``step``, atomically.

    A last line without its line end (a run killed while writing it) is dropped too. Every
    file is read and checked before any is replaced, and a file is left byte for byte as it
    is when nothing is dropped from it.

    Raises:
        ArenaError: A log arena did not write, or a row whose step is not a number; the
            message names the file and line.
    """
    cut: list[tuple[Path, Path]] = []
    try:
        for file in files:
            _cut_log(file, step, cut)
        for kept, file in cut:
            os.replace(kept, file)
    finally:
        for kept, _ in cut:
            kept.unlink(missing_ok=True)


def _cut_log(file: Path, step: int, cut: list[tuple[Path, Path]]) -> None:
    """Writes the rows of ``file`` up to ``step`` to a temporary file beside it, and appends
    that file and ``file`` to ``cut`` (before an interrupt can lose its name); nothing when no
    row is to be dropped."""
    if not file.exists() and not file.is_symlink():
        return
    check_header(file, (PROGRESS_HEADER if file.name == PROGRESS_FILE else EVALUATIONS_HEADER))
    dropped = False
    with temporary_beside(file, mode=stat.S_IMODE(file.stat().st_mode)) as kept:
        with kept.open("r+b") as out, file.open("rb") as log:
            out.write(log.readline())
            for number, line in enumerate(log, start=2):
                if not line.endswith(b"\n"):
                    dropped = True
                    break
                cells = next(csv.reader([line.decode("utf-8", "replace")]), [])
                try:
                    row_step = float(cells[0]) if cells else math.inf
                except ValueError:
                    raise ArenaError(
                        f"{str(file)!r}, line {number}: the step {cells[0]!r} is not a number."
                    ) from None
                if row_step <= step:
                    out.write(line)
                else:
                    dropped = True
            out.flush()
            os.fsync(out.fileno())
        if dropped:
            cut.append((kept, file))
        else:
            kept.unlink()
