"""One trial of ``arena sweep``, as a Ray Tune worker runs it: train, evaluate, report.

A trial trains the agent with the preset's config and the trial's sampled values through the
core's :func:`arena.training.train` (or :func:`~arena.training.train_seeds` for several seeds)
into ``DIR/trials/trial-N``, evaluating every ``eval_every`` steps
(:class:`arena.periodic_eval.PeriodicEval`). Each evaluation is reported to Tune as
``objective`` at ``step``, the mean over the trial's seeds once each has been evaluated there;
Tune's scheduler may stop the trial at any report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.search_space import Param, decode

if TYPE_CHECKING:
    from arena.agent import Agent

TRIALS_DIR = "trials"
"""The folder of a sweep's ``DIR`` that holds each trial's runs."""


def metric_value(numbers: dict[str, Any], metric: str) -> float:
    """The value of ``metric`` in an evaluation's numbers: ``mean_return``, ``mean_length`` or
    one of the env's metrics (NaN when this evaluation lacks it)."""
    if metric in ("mean_return", "mean_length"):
        return float(numbers[metric])
    return float(numbers.get("metrics", {}).get(metric, float("nan")))


class Reporter:
    """Reports the mean of ``metric`` over ``seeds`` seeds at each step all of them evaluated.

    Args:
        seeds: The trial's seeds.
        metric: The evaluation's number to report (see :func:`metric_value`).
        report: Tune's ``report``, or anything that takes the metrics dict.
    """

    def __init__(self, seeds: int, metric: str, report: Any) -> None:
        self.seeds = seeds
        self.metric = metric
        self.report = report
        self.pending: dict[int, list[float]] = {}

    def __call__(self, agent: Agent, step: int, numbers: dict[str, Any]) -> None:
        values = self.pending.setdefault(step, [])
        values.append(metric_value(numbers, self.metric))
        if len(values) == self.seeds:
            del self.pending[step]
            self.report({"objective": sum(values) / len(values), "step": step})


def fresh_folder(path: Path) -> Path:
    """``path``, or ``path.K`` for the first free K when a restarted trial finds its earlier
    attempt there (kept as it was)."""
    candidate, attempt = path, 1
    while candidate.exists():
        attempt += 1
        candidate = path.with_name(f"{path.name}.{attempt}")
    return candidate


def run_trial(config: dict[str, Any], plan: dict[str, Any]) -> None:
    """Tune's trainable: trains and evaluates one sampled config, reporting to Tune.

    Args:
        config: The point Tune sampled, by field (a choice by its index).
        plan: The sweep's settings (:meth:`arena.sweep.SweepPlan.settings`) and its ``out``.
    """
    from ray import tune

    from arena.training import train, train_seeds

    params = [Param(**{**p, "choices": tuple(p["choices"])}) for p in plan["params"]]
    name = tune.get_context().get_trial_name()
    out = fresh_folder(Path(plan["out"]) / TRIALS_DIR / name)
    seeds = plan["seeds_per_trial"]
    options: dict[str, Any] = {
        "steps": plan["steps"],
        "seed": plan["seed"],
        "overrides": decode(params, config),
        "env_kwargs": plan["env_kwargs"],
        "eval_every": plan["eval_every"],
        "eval_episodes": plan["eval_episodes"],
        "save_replay": False,
        "progress": False,
        "on_evaluation": Reporter(seeds, plan["metric"], tune.report),
    }
    if plan.get("tensorboard"):
        options["tensorboard"] = Path(plan["tensorboard"]) / name
    if seeds == 1:
        train(plan["agent"], plan["env"], out=out, **options)
    else:
        del options["progress"]
        train_seeds(plan["agent"], plan["env"], out=out, seeds=seeds, **options)
