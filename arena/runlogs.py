"""A run's logs, ``progress.csv`` and ``evaluations.csv``: recognised as arena's by their header,
and cut back to a checkpoint's step when a run resumes in place.

A run stopped after its last checkpoint has written rows past it; the resumed run would repeat
those steps, so the rows go (through a temporary file and one ``os.replace``: a crash leaves the
old file or the new one, never half of one).
"""

from __future__ import annotations

import csv
import math
import os
import stat
from pathlib import Path

from arena.errors import ArenaError
from arena.tempfiles import temporary_beside

PROGRESS_FILE = "progress.csv"
PROGRESS_HEADER = ("step", "return", "length", "time")
EVALUATIONS_FILE = "evaluations.csv"
EVALUATIONS_HEADER = ("step", "mean_return", "std_return", "mean_length", "best")


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
