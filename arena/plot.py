"""``arena plot``: learning curves from runs' ``progress.csv``, several runs on one PNG."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from arena.errors import ArenaError


def read_progress(run: Path, column: str) -> tuple[list[float], list[float], list[float]]:
    """Returns (steps, values, episodes) of ``column`` from a run directory's ``progress.csv``.

    ``episodes`` counts the episodes each row covers: its ``episodes`` cell, or 1 in a file
    written before that column. Rows with an empty ``column`` cell (a metric some episodes do
    not report) are skipped.

    Raises:
        ArenaError: No such file, or one that is not a readable progress log: not UTF-8, no
            header with ``step`` and ``column``, a row of the wrong length or a cell that is
            not a number. The message names the file and the line.
    """
    file = run / "progress.csv" if run.is_dir() else run
    if not file.is_file():
        raise ArenaError(f"{run} has no progress.csv; plot takes `arena train --out` directories.")
    reader = csv.reader(_text_lines(file))
    try:
        header = next(reader, None)
        if not header or "step" not in header:
            raise ArenaError(
                f"{file}, line 1: no header row naming a 'step' column; is it a progress.csv?"
            )
        if column not in header:
            raise ArenaError(f"{file} has no column {column!r}; it has {', '.join(header)}.")
        at_step, at_value = header.index("step"), header.index(column)
        at_count = header.index("episodes") if "episodes" in header else None
        steps, values, counts = [], [], []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ArenaError(
                    f"{file}, line {reader.line_num}: {len(row)} cell(s) where the header has "
                    f"{len(header)}."
                )
            if row[at_value] == "":
                continue
            steps.append(_number(row[at_step], file, reader.line_num, "step"))
            values.append(_number(row[at_value], file, reader.line_num, column))
            count = (
                1.0
                if at_count is None
                else _number(row[at_count], file, reader.line_num, "episodes")
            )
            counts.append(count)
    except csv.Error as e:
        raise ArenaError(f"{file}, line {reader.line_num}: not CSV ({e}).") from None
    return steps, values, counts


def _text_lines(file: Path) -> Iterator[str]:
    """The file's lines, decoded one by one so that a bad byte is reported on its own line."""
    try:
        with file.open("rb") as f:
            for number, line in enumerate(f, start=1):
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError:
                    raise ArenaError(
                        f"{file}, line {number}: not UTF-8 text; is it a progress.csv?"
                    ) from None
    except OSError as e:
        raise ArenaError(f"Cannot read {file}: {e.strerror}.") from None


def _number(cell: str, file: Path, line: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ArenaError(f"{file}, line {line}: {column} {cell!r} is not a number.") from None
    if column in ("step", "episodes") and not math.isfinite(value):
        raise ArenaError(f"{file}, line {line}: {column} {cell!r} is not a finite number.")
    if column == "episodes" and value < 1:
        raise ArenaError(f"{file}, line {line}: episodes {cell!r} is less than 1.")
    return value


def smooth(
    values: Sequence[float], window: int, weights: Sequence[float] | None = None
) -> list[float]:
    """The trailing mean over up to ``window`` values, each counted ``weights`` times (the
    episodes a row covers)."""
    weights = weights or [1.0] * len(values)
    out, total, weight = [], 0.0, 0.0
    for i, (v, w) in enumerate(zip(values, weights, strict=True)):
        total += v * w
        weight += w
        if i >= window:
            total -= values[i - window] * weights[i - window]
            weight -= weights[i - window]
        out.append(total / weight)
    return out


def plot_runs(
    runs: Sequence[str | Path], out: str | Path, column: str = "return", window: int = 20
) -> Path:
    """Draws ``column`` against steps for each run, smoothed over ``window`` rows (their
    episodes' mean).

    The PNG is written atomically to ``out`` itself, whatever its extension.

    Returns:
        The PNG's path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from arena.checkpoint import atomic_write

    if window < 1:
        raise ArenaError(f"--window must be at least 1, got {window}.")
    curves = [(Path(run), *read_progress(Path(run), column)) for run in runs]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for run, steps, values, counts in curves:
        ax.plot(steps, smooth(values, window, counts), label=run.name or str(run))
    ax.set_xlabel("env steps")
    ax.set_ylabel(f"{column} (mean over the last {window} rows)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png")
    plt.close(fig)
    out = Path(out)
    try:
        atomic_write(out, image.getvalue())
    except OSError as e:
        raise ArenaError(f"Cannot write {out}: {e.strerror}.") from None
    return out
