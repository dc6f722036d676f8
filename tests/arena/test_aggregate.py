"""The IQM and the stratified bootstrap against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arena.aggregate import iqm, mean, median, stratified_bootstrap_ci, summarize


def column(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


def test_iqm_drops_a_quarter_of_the_runs_at_each_end():
    # 8 runs: drop 2 at each end, mean of 2, 3, 4, 5.
    assert iqm(column([100, 0, 5, 1, 6, 2, 4, 3])) == 3.5
    # 4 runs: drop 1 at each end, mean of 2 and 6.
    assert iqm(column([11, 1, 6, 2])) == 4.0
    # 3 runs: floor(3 / 4) = 0 dropped, as scipy.stats.trim_mean(x, 0.25): the mean.
    assert iqm(column([1, 2, 6])) == 3.0
    # All runs and tasks together.
    assert iqm(np.array([[0.0, 10.0], [1.0, 11.0]])) == 5.5
    assert median(column([11, 1, 6, 2])) == 4.0 and mean(column([11, 1, 6, 2])) == 5.0


def test_bootstrap_interval_of_the_mean_matches_the_exact_bootstrap_distribution():
    # The 27 equally likely resamples of [1, 2, 6] have means 1 (1 of 27), 4/3 (3), 5/3 (3),
    # 2 (1), 8/3 (3), 3 (6), 10/3 (3), 13/3 (3), 14/3 (3) and 6 (1). Below 1 lies 0 and up to
    # it 1/27 = 0.037 > 0.025, so the 2.5th percentile is 1; from 6 up lies 1/27, so the
    # 97.5th is 6. An 80% interval: 0.1 lies in the mass of 4/3 (cumulative 1/27 = 0.037 to
    # 4/27 = 0.148), and 0.9 in that of 14/3 (23/27 = 0.852 to 26/27 = 0.963).
    rng = np.random.default_rng(1)
    assert stratified_bootstrap_ci(column([1, 2, 6]), mean, rng, reps=20_000) == (1.0, 6.0)
    low, high = stratified_bootstrap_ci(column([1, 2, 6]), mean, rng, reps=20_000, confidence=0.8)
    assert low == pytest.approx(4 / 3) and high == pytest.approx(14 / 3)


def test_bootstrap_resamples_runs_within_each_task_only():
    # Task A always scores 0, task B always 10: every stratified resample keeps one of each
    # per row, so the mean is exactly 5; resampling the pooled scores would spread it.
    scores_RT = np.array([[0.0, 10.0], [0.0, 10.0], [0.0, 10.0]])
    ci = stratified_bootstrap_ci(scores_RT, mean, np.random.default_rng(0), reps=1000)
    assert ci == (5.0, 5.0)


def test_summarize_is_reproducible_and_nan_aware():
    first = summarize([1, 2, 6, 11], np.random.default_rng(0), reps=2000)
    assert first == summarize([1, 2, 6, 11], np.random.default_rng(0), reps=2000)
    assert (first["runs"], first["mean"], first["median"], first["iqm"]) == (4, 5.0, 4.0, 4.0)
    # A resample's IQM is 1 when three or four of its four draws are 1: 13/256 = 0.051 > 0.025
    # of them, so the 2.5th percentile is 1; likewise the 97.5th is 11.
    assert first["iqm_ci"] == [1.0, 11.0]
    broken = summarize([1.0, math.nan], np.random.default_rng(0), reps=100)
    assert math.isnan(broken["mean"]) and all(math.isnan(v) for v in broken["mean_ci"])
