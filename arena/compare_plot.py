"""``arena compare``'s picture: the run scores' distributions and the learning curves.

Left, each agent's score distribution over its runs, as rliable draws it (Agarwal et al., 2021):
the fraction of runs whose evaluation score is above each threshold, a curve that a better
agent keeps higher and further right. Right, every run's training return from its
``progress.csv``, smoothed as ``arena plot`` does, in its agent's colour.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from arena.errors import ArenaError
from arena.plot import read_progress, smooth

WINDOW = 20
"""Learning curves are smoothed over this many ``progress.csv`` rows."""


def plot_comparison(
    scores: Mapping[str, Sequence[float]],
    runs: Mapping[str, Sequence[Path]],
    out: Path,
    title: str = "",
) -> Path:
    """Draws the comparison to the PNG ``out``, written atomically.

    Args:
        scores: Each agent's run scores (mean evaluation returns).
        runs: Each agent's run directories, whose ``progress.csv`` gives the learning curves;
            a run without one is left out of the curves.
        out: The PNG to write.
        title: The figure's title, the env's id.

    Returns:
        ``out``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from arena.checkpoint import atomic_write

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110)
    finite = np.array([v for values in scores.values() for v in values if np.isfinite(v)])
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    margin = 0.05 * (high - low) or 0.5
    thresholds = np.linspace(low - margin, high + margin, 200)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    curves = 0
    for i, (name, values) in enumerate(scores.items()):
        colour = colours[i % len(colours)]
        values_R = np.asarray(values, dtype=np.float64)
        above = (values_R[None, :] > thresholds[:, None]).mean(axis=1)
        left.step(thresholds, above, where="post", color=colour, label=f"{name} ({len(values)})")
        labelled = False
        for run in runs.get(name, []):
            try:
                steps, returns, counts = read_progress(run, "return")
            except ArenaError:
                continue
            if steps:
                right.plot(
                    steps,
                    smooth(returns, WINDOW, counts),
                    color=colour,
                    alpha=0.6,
                    linewidth=1,
                    label=None if labelled else name,
                )
                labelled = True
                curves += 1
    left.set_xlabel("evaluation score (mean return of a run)")
    left.set_ylabel("fraction of runs with score > x")
    left.set_ylim(-0.02, 1.02)
    left.legend(title="agent (runs)")
    right.set_xlabel("env steps")
    right.set_ylabel(f"training return (mean over {WINDOW} rows)")
    if curves:
        right.legend()
    for ax in (left, right):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png")
    plt.close(fig)
    try:
        atomic_write(out, image.getvalue())
    except OSError as e:
        raise ArenaError(f"Cannot write {out}: {e.strerror}.") from None
    return out
