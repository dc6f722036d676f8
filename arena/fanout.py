"""One seed's run as a Ray task, and ``arena train --seeds`` fanned out over Ray.

:func:`run_seed` is what a worker runs: it trains one agent into its own run directory (or
resumes the checkpoint an earlier try of the same task left there, when Ray runs the task again
after its worker died), optionally evaluates it, and returns a small dict; the checkpoint stays
on disk. ``arena compare`` and ``arena train --seeds`` both hand it their jobs through
:func:`arena.cluster.run_tasks`. This module imports neither Ray nor torch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.errors import ArenaError, TrainingError

if TYPE_CHECKING:
    from arena.training import TrainResult

RESULT_FILE = "result.json"
"""A compare run's evaluation, beside its checkpoint."""
RESULT_FORMAT = "arena-compare-run/1"
_RESUME_OPTIONS = (
    "device",
    "threads",
    "save_replay",
    "env_kwargs",
    "num_envs",
    "save_every",
    "eval_every",
    "eval_episodes",
    "log_every_episode",
    "tensorboard",
)
"""The options of :func:`arena.training.train` that a resumed run takes; the config and the
env's arguments come from its checkpoint."""


@dataclass(frozen=True)
class SeedJob:
    """One seed's run, as the driver hands it to a worker.

    Attributes:
        agent: The agent's registered name.
        env_id: The env to train on.
        seed: The agent's seed.
        out: The run directory, absolute (workers run elsewhere).
        steps: The step budget, resolved by the driver.
        episodes: Evaluation episodes after training; None evaluates nothing.
        options: Further keyword arguments of :func:`arena.training.train`.
    """

    agent: str
    env_id: str
    seed: int
    out: str
    steps: int
    episodes: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedRun:
    """What one seed's training produced, for ``arena train --seeds``'s report."""

    name: str
    env_id: str
    seed: int
    out: Path
    steps: int
    episodes: int
    recent_return: float | None
    learn_info: dict[str, Any]
    seconds: float
    best_eval: dict[str, float] | None = None


def fans_out(agent_cls: type) -> bool:
    """Whether ``arena train --seeds`` runs this agent's seeds as Ray tasks: it does unless the
    family trains them side by side itself (it overrides ``Agent._learn_seeds``, as the compiled
    tabular agents do with one parallel kernel)."""
    from arena.agent import Agent

    own = getattr(agent_cls._learn_seeds, "__func__", None)
    return own is Agent._learn_seeds.__func__


def eval_seed(seed: int) -> int:
    """The seed of a compare run's evaluation episodes, apart from those training draws."""
    from arena.training import EVAL_SEED

    return EVAL_SEED + seed


def run_seed(job: SeedJob) -> dict[str, Any]:
    """Trains (or finishes) one seed's run, evaluates it if asked, and reports.

    The run directory ``job.out`` is held for the whole task. A checkpoint already there was
    left by an earlier try of this task or an interrupted command (the driver refused any
    other): it is resumed to the budget where the agent's class splits runs exactly
    (``Agent.splits_exactly``: the resumed run is the uninterrupted one), else trained again
    from the start, so that a result never depends on where a run was cut; a complete one is
    only evaluated. Logs that a try killed before its first checkpoint left are cleared. With
    ``overwrite`` in the options a fresh run replaces whatever checkpoint is there.

    Returns:
        ``seed``, ``out``, ``steps``, ``episodes``, ``recent_return``, ``learn_info``,
        ``best_eval``, ``seconds`` and ``resumed``; with ``job.episodes``, also the
        evaluation's ``mean_return``, ``std_return``, ``mean_length``, ``metrics`` and
        ``eval_seconds`` (written to ``out/result.json`` too). A user mistake or a stopped run
        returns ``{"error": message, "stopped": bool}`` instead, so that the driver reports it.
    """
    try:
        return _run_seed(job)
    except TrainingError as error:
        return {"error": f"{job.agent} seed {job.seed}: {error}", "stopped": True}
    except ArenaError as error:
        return {"error": f"{job.agent} seed {job.seed}: {error}", "stopped": False}


def _run_seed(job: SeedJob) -> dict[str, Any]:
    from arena.checkpoint import atomic_write, load_checkpoint
    from arena.registry import agent_class
    from arena.rundir import checkpoint_manifest, clear_unfinished, hold
    from arena.training import train

    out = Path(job.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ArenaError(f"Cannot create {str(out)!r}: {e.strerror}.") from None
    started = time.perf_counter()
    report: dict[str, Any] = {"seed": job.seed, "out": str(out), "resumed": False}
    overwrite = bool(job.options.get("overwrite"))
    exact = agent_class(job.agent).splits_exactly
    with hold(out):
        manifest = checkpoint_manifest(out)
        done = 0 if manifest is None else int(manifest.get("steps", 0))
        if manifest is not None and manifest.get("agent") != job.agent and not overwrite:
            raise ArenaError(f"{out} holds a {manifest.get('agent')} checkpoint.")
        if manifest is None or overwrite or (done < job.steps and not exact):
            clear_unfinished(out)
            result = train(
                job.agent,
                job.env_id,
                out=out,
                steps=job.steps,
                seed=job.seed,
                progress=False,
                **{**job.options, "overwrite": manifest is not None},
            )
        elif done < job.steps:
            options = {k: v for k, v in job.options.items() if k in _RESUME_OPTIONS}
            result = train(
                job.agent, job.env_id, resume=out, steps=job.steps - done, progress=False, **options
            )
            report["resumed"] = True
        else:
            result = None
        agent = result.agent if result is not None else load_checkpoint(out)
        episodes, recent = _whole_run(out, result, report["resumed"])
        report.update(
            steps=agent.num_timesteps,
            episodes=episodes,
            recent_return=recent,
            learn_info=dict(agent.learn_info),
            best_eval=result.best_eval if result is not None else None,
            seconds=time.perf_counter() - started,
        )
        if job.episodes is not None:
            report.update(_evaluate(agent, job))
            atomic_write(out / RESULT_FILE, json.dumps(result_record(job, report)).encode())
    return report


def _whole_run(out: Path, result: TrainResult | None, resumed: bool) -> tuple[int, float | None]:
    """The episodes of the run in ``out`` and its recent return, over the whole run.

    A run trained from the start has them from its training call. A run resumed after a lost
    try, or found complete, reads them back from its ``progress.csv``: a long run's rows group
    episodes, so the oldest row of the last :data:`~arena.runlogs.RECENT_EPISODES` episodes
    counts at its group's mean return (as ``arena plot`` reads it), an estimate where a fresh
    run's mean is exact.

    Returns:
        The episode count and the mean return of the last ``RECENT_EPISODES`` episodes (None
        without episodes).
    """
    from arena.plot import read_progress
    from arena.runlogs import RECENT_EPISODES

    if result is not None and not resumed:
        return result.episodes, result.recent_return
    try:
        _, returns, counts = read_progress(out, "return")
    except ArenaError:  # no log to read back: what this call saw is all there is
        return (result.episodes, result.recent_return) if result is not None else (0, None)
    left, total, weight = RECENT_EPISODES, 0.0, 0.0
    for value, count in zip(reversed(returns), reversed(counts), strict=True):
        if left <= 0:
            break
        taken = min(count, left)
        total, weight, left = total + value * taken, weight + taken, left - taken
    return int(sum(counts)), (total / weight if weight else None)


def _evaluate(agent: Any, job: SeedJob) -> dict[str, Any]:
    """Plays ``job.episodes`` greedy episodes of a fresh env, as ``arena evaluate`` would."""
    from arena.evaluation import evaluate
    from arena.registry import evaluation_kwargs, make_env

    started = time.perf_counter()
    env = make_env(job.env_id, **{**agent.env_kwargs, **evaluation_kwargs(job.env_id)})
    try:
        report = evaluate(agent, env, episodes=job.episodes or 1, seed=eval_seed(job.seed))
    finally:
        env.close()
    summary = report.summary()
    return {
        "mean_return": summary["mean_return"],
        "std_return": summary["std_return"],
        "mean_length": summary["mean_length"],
        "metrics": summary["metrics"],
        "eval_seconds": time.perf_counter() - started,
    }


def result_record(job: SeedJob, report: Mapping[str, Any]) -> dict[str, Any]:
    """What ``result.json`` holds: the evaluation and what it was of, so that a rerun knows
    whether it still stands (same checkpoint step, episodes and evaluation seed)."""
    keys = ("seed", "steps", "mean_return", "std_return", "mean_length", "metrics", "seconds")
    return {
        "format": RESULT_FORMAT,
        "agent": job.agent,
        "env": job.env_id,
        "episodes": job.episodes,
        "eval_seed": eval_seed(job.seed),
        **{key: report[key] for key in keys},
        "eval_seconds": report["eval_seconds"],
    }


def train_seeds_on_ray(
    name: str,
    env_id: str,
    *,
    out: str | Path,
    seeds: int,
    steps: int | None = None,
    seed: int = 0,
    address: str | None = None,
    log: Callable[[str], None] | None = None,
    **options: Any,
) -> tuple[list[SeedRun], float]:
    """``arena train --seeds`` for an agent without a fast path of its own: one Ray task a seed.

    The driver builds the first agent (so a bad name, config, env or budget is refused before
    any worker starts) and checks every ``out/seed-K`` as :func:`arena.rundir.open_run` would;
    each worker then trains its seed as :func:`arena.training.train` does.

    Args:
        name: The agent.
        env_id: The env.
        out: The folder of the ``seed-K`` runs.
        seeds: How many seeds, from ``seed`` on.
        steps: The step budget; the preset's when omitted.
        seed: The first seed.
        address: A Ray cluster to join; None starts a local instance (or takes ``RAY_ADDRESS``).
        log: Called with a line as each seed finishes.
        **options: The other keyword arguments of :func:`arena.training.train`.

    Returns:
        The runs in seed order, and the seconds they took together (Ray's start included).

    Raises:
        ArenaError: A user mistake, before any worker starts, or one a worker met.
        TrainingError: A seed's training stopped (a NaN loss, say), or its worker died on
            every try.
    """
    from arena.building import build_agent
    from arena.cluster import check_address, ray_session, run_tasks
    from arena.rundir import check_folder_target, check_run_target, check_seeds_folder
    from arena.training import step_budget

    if seeds < 1:
        raise ArenaError(f"--seeds must be at least 1, got {seeds}.")
    if address is not None:
        check_address(address)
    out = Path(out).absolute()
    if options.get("tensorboard") is not None:  # the workers' working folder may differ
        options = {**options, "tensorboard": str(Path(options["tensorboard"]).absolute())}
    check_folder_target(out)
    check_seeds_folder(out)
    build = {k: options[k] for k in ("overrides", "config_file", "env_kwargs") if k in options}
    agent, env, preset_steps = build_agent(
        name, env_id, seed=seed, num_envs=options.get("num_envs", 1), **build
    )
    env.close()
    budget = step_budget(agent, env_id, steps, preset_steps, options.get("save_every"))
    _check_evaluation_options(options)
    jobs = [
        SeedJob(name, env_id, seed + i, str(out / f"seed-{seed + i}"), budget, options=options)
        for i in range(seeds)
    ]
    for job in jobs:
        check_run_target(Path(job.out), overwrite=bool(options.get("overwrite")))
    started = time.perf_counter()
    reports = {}
    with ray_session("arena train --seeds", address) as ray:
        for report in run_tasks(ray, run_seed, jobs):
            raise_error(report)
            reports[report["seed"]] = report
            if log is not None:
                log(f"seed {report['seed']}: {report['steps']} steps in {report['seconds']:.1f}s")
    seconds = time.perf_counter() - started
    return [_seed_run(agent.name, env_id, reports[job.seed]) for job in jobs], seconds


def _check_evaluation_options(options: Mapping[str, Any]) -> None:
    """Refuses ``--eval-every``/``--eval-episodes`` below 1, as :func:`arena.training.train`
    would, but in the driver."""
    for key, flag in (("eval_every", "--eval-every"), ("eval_episodes", "--eval-episodes")):
        value = options.get(key)
        if value is not None and value < 1:
            raise ArenaError(f"{flag} must be at least 1, got {value}.")


def raise_error(report: Mapping[str, Any]) -> None:
    """Raises what a worker reported instead of a result, if it did.

    Raises:
        TrainingError: The run stopped (``arena`` exits 1).
        ArenaError: A user mistake the worker met (``arena`` exits 2).
    """
    if "error" in report:
        raise (TrainingError if report["stopped"] else ArenaError)(report["error"])


def _seed_run(name: str, env_id: str, report: Mapping[str, Any]) -> SeedRun:
    return SeedRun(
        name=name,
        env_id=env_id,
        seed=report["seed"],
        out=Path(report["out"]),
        steps=report["steps"],
        episodes=report["episodes"],
        recent_return=report["recent_return"],
        learn_info=report["learn_info"],
        seconds=report["seconds"],
        best_eval=report["best_eval"],
    )


def seed_runs(results: Sequence[Any]) -> list[SeedRun]:
    """:class:`SeedRun` records of :func:`arena.training.train_seeds`'s results."""
    return [
        SeedRun(
            name=r.agent.name,
            env_id=r.agent.env_id,
            seed=r.agent.seed,
            out=r.out,
            steps=r.steps,
            episodes=r.episodes,
            recent_return=r.recent_return,
            learn_info=r.agent.learn_info,
            seconds=r.seconds,
            best_eval=r.best_eval,
        )
        for r in results
    ]
