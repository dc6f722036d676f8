"""Aggregate scores of runs over seeds, with interval estimates, in the manner of ``rliable``.

Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice"
(NeurIPS 2021), show that a few seeds' point means mislead, and recommend the interquartile
mean (IQM: the mean of the middle half of the runs, robust to outliers yet less noisy than the
median) with 95% confidence intervals from a *stratified* bootstrap: runs are resampled with
replacement within each task, never across tasks, and the interval is the 2.5th and 97.5th
percentiles of the statistic over the resamples. This module does the same as their library
(``rliable.metrics.aggregate_iqm``, which is ``scipy.stats.trim_mean(scores, 0.25)``, and
``rliable.library.get_interval_estimates`` with the percentile method) in a few lines of numpy,
so the ``ray`` extra does not pull in rliable's pandas, seaborn and arch.

Scores are a matrix ``scores_RT``: one row per run (seed), one column per task (env).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

BOOTSTRAP_REPS = 50_000
"""Bootstrap resamples per interval, rliable's default."""
CONFIDENCE = 0.95
"""The size of the confidence intervals."""
_CHUNK_ELEMENTS = 4_000_000
"""Resampled scores held in memory at once (32 MB of float64)."""

Statistic = Callable[[np.ndarray], np.ndarray]
"""Maps scores ``(..., runs, tasks)`` to one number per leading index."""


def mean(scores: np.ndarray) -> np.ndarray:
    """The mean of all runs and tasks."""
    return scores.mean(axis=(-2, -1))


def median(scores: np.ndarray) -> np.ndarray:
    """The median of all runs and tasks."""
    return np.median(scores.reshape(*scores.shape[:-2], -1), axis=-1)


def iqm(scores: np.ndarray) -> np.ndarray:
    """The interquartile mean of all runs and tasks: the mean after dropping the lowest and the
    highest quarter, ``floor(n / 4)`` scores each, as ``scipy.stats.trim_mean(x, 0.25)``."""
    flat = np.sort(scores.reshape(*scores.shape[:-2], -1), axis=-1)
    cut = int(0.25 * flat.shape[-1])
    return flat[..., cut : flat.shape[-1] - cut].mean(axis=-1)


STATISTICS: dict[str, Statistic] = {"mean": mean, "median": median, "iqm": iqm}
"""The aggregates every summary reports, by name."""


def stratified_bootstrap_ci(
    scores_RT: np.ndarray,
    statistic: Statistic,
    rng: np.random.Generator,
    reps: int = BOOTSTRAP_REPS,
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """The percentile confidence interval of ``statistic`` under a stratified bootstrap.

    Each resample draws, for every task (column) on its own, as many runs as it has, with
    replacement; ``statistic`` is computed on each resample, and the interval is the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of those values.

    Args:
        scores_RT: Scores, runs by tasks.
        statistic: The aggregate, from :data:`STATISTICS` or of the same form.
        rng: The generator the resamples are drawn from.
        reps: How many resamples.
        confidence: The interval's size, in (0, 1).

    Returns:
        The interval's low and high ends; NaN when a score is NaN.
    """
    runs, tasks = scores_RT.shape
    values = []
    chunk = max(1, _CHUNK_ELEMENTS // (runs * tasks))
    for start in range(0, reps, chunk):
        size = min(chunk, reps - start)
        rows_BRT = rng.integers(0, runs, size=(size, runs, tasks))
        values.append(statistic(np.take_along_axis(scores_RT[None], rows_BRT, axis=1)))
    drawn = np.concatenate(values)
    if np.isnan(drawn).any():
        return math.nan, math.nan
    tail = (1 - confidence) / 2
    low, high = np.quantile(drawn, [tail, 1 - tail])
    return float(low), float(high)


def summarize(
    scores: Sequence[float], rng: np.random.Generator, reps: int = BOOTSTRAP_REPS
) -> dict[str, Any]:
    """The mean, median and IQM of one task's run scores, each with its 95% bootstrap interval.

    Args:
        scores: One score per run.
        rng: The generator of the bootstrap resamples.
        reps: Bootstrap resamples per interval.

    Returns:
        ``{"runs": n, "mean": ..., "mean_ci": [low, high], "median": ..., "median_ci": ...,
        "iqm": ..., "iqm_ci": ...}``.
    """
    scores_RT = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    summary: dict[str, Any] = {"runs": len(scores_RT)}
    for name, statistic in STATISTICS.items():
        summary[name] = float(statistic(scores_RT))
        summary[f"{name}_ci"] = list(stratified_bootstrap_ci(scores_RT, statistic, rng, reps))
    return summary
