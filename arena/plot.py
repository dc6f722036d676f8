"""``arena plot``: learning curves from runs' ``progress.csv``, several runs on one PNG."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from arena.errors import ArenaError


def read_progress(run: Path, column: str) -> tuple[list[float], list[float]]:
    """Returns (steps, values) of ``column`` from a run directory's ``progress.csv``."""
    file = run / "progress.csv" if run.is_dir() else run
    if not file.is_file():
        raise ArenaError(f"{run} has no progress.csv; plot takes `arena train --out` directories.")
    with file.open(newline="") as f:
        reader = csv.DictReader(f)
        if column not in (reader.fieldnames or []):
            raise ArenaError(
                f"{file} has no column {column!r}; it has {', '.join(reader.fieldnames or [])}."
            )
        rows = [
            (float(r["step"]), float(r[column])) for r in reader if r.get(column) not in ("", None)
        ]
    return [s for s, _ in rows], [v for _, v in rows]


def smooth(values: Sequence[float], window: int) -> list[float]:
    """The trailing mean over up to ``window`` values."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_runs(
    runs: Sequence[str | Path], out: str | Path, column: str = "return", window: int = 20
) -> Path:
    """Draws ``column`` against steps for each run, smoothed over ``window`` episodes.

    Returns:
        The PNG's path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if window < 1:
        raise ArenaError(f"--window must be at least 1, got {window}.")
    curves = [(Path(run), *read_progress(Path(run), column)) for run in runs]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for run, steps, values in curves:
        ax.plot(steps, smooth(values, window), label=run.name or str(run))
    ax.set_xlabel("env steps")
    ax.set_ylabel(f"{column} (mean of last {window} episodes)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
