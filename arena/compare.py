"""``arena compare``: several agents, each trained and evaluated on K seeds as Ray tasks.

The driver checks everything first (each agent is built for the env once, the budgets are
resolved, ``--out`` is read) and refuses bad input before any worker starts. Each agent x seed
is then one task of :func:`arena.fanout.run_seed`, which trains into ``OUT/AGENT/seed-K``,
evaluates the agent greedily and writes ``result.json`` beside the checkpoint. At the end the
driver writes ``OUT/results.csv`` (a row per run), ``OUT/summary.json`` (per agent: mean,
median and IQM with 95% stratified-bootstrap intervals, :mod:`arena.aggregate`) and
``OUT/comparison.png``.

``OUT`` is resumable: a rerun of the same command (Ctrl-C, a lost cluster) skips the runs whose
``result.json`` still stands, resumes the checkpoints of unfinished ones, and trains the rest.
``OUT/compare.json``, written before the first task, records what the folder compares; a rerun
with another env, budget or episode count is refused, and so is a folder holding anything else.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arena.aggregate import BOOTSTRAP_REPS, CONFIDENCE, summarize
from arena.cli_common import MAX_ENVS, MAX_EPISODES
from arena.compare_plot import plot_comparison
from arena.errors import ArenaError
from arena.fanout import RESULT_FILE, RESULT_FORMAT, SeedJob, eval_seed
from arena.rundir import LOCK_FILE, checkpoint_manifest

COMPARE_FILE = "compare.json"
RESULTS_FILE = "results.csv"
SUMMARY_FILE = "summary.json"
PLOT_FILE = "comparison.png"
FORMAT = "arena-compare/1"
OWN_FILES = (COMPARE_FILE, RESULTS_FILE, SUMMARY_FILE, PLOT_FILE, LOCK_FILE)
"""The comparison's own entries of ``out``, besides the agents' run folders."""
_LOGS = ("progress.csv", "evaluations.csv")
"""What a run killed before its first checkpoint leaves; its rerun clears them."""


@dataclass(frozen=True)
class Run:
    """One agent x seed of the comparison, and what is left to do for it.

    Attributes:
        job: The task's arguments.
        todo: ``"train"``, ``"resume"`` (a checkpoint short of the budget: resumed, or trained
            again where the agent cannot resume exactly), ``"evaluate"``
            (a complete checkpoint without a standing result) or ``"done"``.
        record: The standing ``result.json``, for a done run.
    """

    job: SeedJob
    todo: str
    record: dict[str, Any] | None = None


def compare(
    agents: Sequence[str],
    env_id: str,
    *,
    seeds: int,
    out: str | Path,
    steps: int | None = None,
    episodes: int = 10,
    address: str | None = None,
    tensorboard: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Trains and evaluates every agent on seeds ``0 .. seeds - 1``, then aggregates.

    Args:
        agents: Registered agent names, each once.
        env_id: The env every agent plays.
        seeds: Seeds per agent.
        out: The comparison's folder: new, empty, or an earlier compare's to finish.
        steps: Each run's step budget; by default each agent's preset for the env.
        episodes: Greedy evaluation episodes per run.
        address: A Ray cluster to join; None starts a local instance (or takes ``RAY_ADDRESS``).
        tensorboard: Each run also writes TensorBoard events into a new folder inside this one,
            ``AGENT_ENV_seed-K_N`` (:mod:`arena.tensorboard`); it may lie directly inside
            ``out``, as a new folder that later runs of the comparison recognise.
        log: Called with a line as each run finishes.

    Returns:
        The summary, as written to ``OUT/summary.json``.

    Raises:
        ArenaError: Bad input, refused before any worker starts, or a mistake a worker met.
        TrainingError: A run stopped (a NaN loss), or its worker died on every try.
    """
    from arena.cluster import check_address, check_ray_installed

    check_ray_installed("arena compare")
    _check_counts(agents, seeds, episodes)
    if address is not None:
        check_address(address)
    budgets = {name: _budget(name, env_id, steps) for name in agents}
    shown = Path(out)  # as the user named it, for the summary
    out = Path(os.path.abspath(shown))  # for the workers, which may run in another folder
    options, events = _tensorboard_options(tensorboard, out, agents)
    started = time.perf_counter()
    with _held(out):
        runs = plan_runs(out, env_id, budgets, seeds, episodes, options, events)
        _write_json(out / COMPARE_FILE, _compare_record(out, env_id, budgets, episodes, events))
        reports = {(run.job.agent, run.job.seed): run.record for run in runs if run.todo == "done"}
        todo = [run.job for run in runs if run.todo != "done"]
        if todo:
            reports.update(_run_on_ray(todo, address, log))
        rows = [_row(run.job, reports[run.job.agent, run.job.seed]) for run in runs]
        done = Counter(_how(run, reports[run.job.agent, run.job.seed]) for run in runs)
        summary = _summary(shown, env_id, budgets, seeds, episodes, rows, done)
        summary["seconds"] = round(time.perf_counter() - started, 2)
        _write_results(out / RESULTS_FILE, rows)
        scores = {name: [r["mean_return"] for r in rows if r["agent"] == name] for name in agents}
        folders = {
            name: [Path(run.job.out) for run in runs if run.job.agent == name] for name in agents
        }
        plot_comparison(scores, folders, out / PLOT_FILE, title=env_id)
        _write_json(out / SUMMARY_FILE, summary)
    return summary


def _check_counts(agents: Sequence[str], seeds: int, episodes: int) -> None:
    if not agents:
        raise ArenaError("compare needs at least one AGENT.")
    twice = sorted({name for name in agents if list(agents).count(name) > 1})
    if twice:
        raise ArenaError(f"compare names {', '.join(twice)} more than once; name each agent once.")
    for flag, value, high in (("--seeds", seeds, MAX_ENVS), ("--episodes", episodes, MAX_EPISODES)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise ArenaError(f"{flag} must be a whole number from 1 to {high}, got {value!r}.")


def _tensorboard_options(
    tensorboard: str | Path | None, out: Path, agents: Sequence[str]
) -> tuple[dict[str, str], str | None]:
    """The workers' ``tensorboard`` option (an absolute path), and the name of ``out``'s entry
    that holds the events when it lies directly inside ``out`` (else None).

    Refused before any worker starts: an empty name, no writer installed, ``out`` itself, a
    folder deeper inside ``out``, or an entry of ``out`` named as one of the comparison's files
    or ``agents``, where events would mix with the comparison's own; :func:`plan_runs` checks
    the entry against what the folder holds.
    """
    if tensorboard is None:
        return {}, None
    if not str(tensorboard).strip():
        raise ArenaError("--tensorboard is empty; give the folder to write the events into.")
    from arena.tensorboard import summary_writer_class

    summary_writer_class()
    events, root = Path(tensorboard).resolve(), out.resolve()
    own = {*OWN_FILES, *agents}
    inside = root in events.parents
    if events == root or (inside and (events.parent != root or events.name in own)):
        raise ArenaError(
            f"--tensorboard {str(tensorboard)!r} would mix its events with the comparison's "
            "files; name a folder outside --out, or one directly inside it (OUT/tensorboard)."
        )
    if events.parent == root:
        return {"tensorboard": str(out / events.name)}, events.name
    return {"tensorboard": str(Path(os.path.abspath(tensorboard)))}, None


def _budget(name: str, env_id: str, steps: int | None) -> int:
    """Builds the agent for the env once, in the driver, so that an unknown name, an agent that
    cannot play the env or a missing budget is refused before any worker starts."""
    from arena.building import build_agent
    from arena.training import step_budget

    agent, env, preset_steps = build_agent(name, env_id, seed=0)
    env.close()
    return step_budget(agent, env_id, steps, preset_steps, None)


@contextmanager
def _held(out: Path) -> Iterator[Path]:
    """Creates ``out`` if needed and holds its one-writer lock (:func:`arena.rundir.hold`)."""
    from arena.rundir import check_folder_target, hold

    check_folder_target(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ArenaError(f"--out {str(out)!r} cannot be created: {e.strerror}.") from None
    with hold(out):
        yield out


def plan_runs(
    out: Path,
    env_id: str,
    budgets: Mapping[str, int],
    seeds: int,
    episodes: int,
    options: Mapping[str, Any] | None = None,
    events: str | None = None,
) -> list[Run]:
    """Reads ``out`` and says what is left to do for every agent x seed.

    Args:
        out: The comparison's folder, absolute.
        env_id: The env every agent plays.
        budgets: Each agent's step budget.
        seeds: Seeds per agent.
        episodes: Evaluation episodes per run.
        options: The runs' further options (:attr:`arena.fanout.SeedJob.options`).
        events: The entry of ``out`` that this run's TensorBoard events go to, if any: new
            (or empty), or one an earlier run of this comparison recorded.

    Raises:
        ArenaError: ``out`` holds files a compare did not write, another comparison (env,
            episodes or an agent's budget differ), a run folder that is not this run's, or
            ``events`` names an entry of its own or of the user's.
    """
    options = dict(options or {})
    _check_folder(out, env_id, budgets, episodes, events)
    runs = []
    for name, budget in budgets.items():
        for seed in range(seeds):
            folder = str(out / name / f"seed-{seed}")
            runs.append(_plan_run(SeedJob(name, env_id, seed, folder, budget, episodes, options)))
    return runs


def _check_folder(
    out: Path,
    env_id: str,
    budgets: Mapping[str, int],
    episodes: int,
    events: str | None = None,
) -> None:
    earlier = _read_json(out / COMPARE_FILE)
    recorded = _recorded_events(earlier)
    _check_events(out, events, recorded, earlier, budgets)
    skip = {LOCK_FILE, *recorded, *([events] if events else [])}
    entries = [p for p in out.iterdir() if p.name not in skip and not _temporary(p)]
    if not entries:
        return
    if earlier is None or earlier.get("format") != FORMAT:
        raise ArenaError(
            f"--out {str(out)!r} holds files and no {COMPARE_FILE} of an earlier arena compare; "
            "compare writes into a new or empty folder, or finishes its own. Pick another folder."
        )
    old_budgets = earlier.get("budgets") if isinstance(earlier.get("budgets"), dict) else {}
    differs = [
        f"env {earlier.get('env')}" if earlier.get("env") != env_id else "",
        f"{earlier.get('episodes')} episodes" if earlier.get("episodes") != episodes else "",
        *(
            f"{name} for {old_budgets[name]} steps"
            for name, budget in budgets.items()
            if old_budgets.get(name, budget) != budget
        ),
    ]
    differs = [text for text in differs if text]
    if differs:
        raise ArenaError(
            f"--out {str(out)!r} holds a comparison with {', '.join(differs)}; a rerun finishes "
            "it with the same settings. Pick another folder for new ones."
        )
    known = {COMPARE_FILE, RESULTS_FILE, SUMMARY_FILE, PLOT_FILE, *old_budgets, *budgets}
    others = sorted(
        p.name
        for p in entries
        if p.name not in known or (p.name in budgets and (p.is_symlink() or not p.is_dir()))
    )
    others += sorted(
        f"{p.name}/{q.name}"
        for p in entries
        if p.name in budgets and p.is_dir()
        for q in p.iterdir()
        if not (q.name.startswith("seed-") and q.is_dir() and not q.is_symlink())
    )
    if others:
        raise ArenaError(
            f"--out {str(out)!r} holds files arena compare did not write ({', '.join(others[:5])})"
            "; move them away first."
        )


def _recorded_events(earlier: Mapping[str, Any] | None) -> list[str]:
    """The entries of ``out`` that earlier runs of the comparison wrote events to."""
    names = (earlier or {}).get("tensorboard")
    if not isinstance(names, list):
        return []
    return [n for n in names if isinstance(n, str) and n and "/" not in n and n not in (".", "..")]


def _check_events(
    out: Path,
    events: str | None,
    recorded: Sequence[str],
    earlier: Mapping[str, Any] | None,
    budgets: Mapping[str, int],
) -> None:
    """Refuses an events folder in ``out`` that is the comparison's own file or an agent's
    runs, or one that exists already without an earlier run of this comparison making it."""
    if events is None:
        return
    old_budgets = (earlier or {}).get("budgets")
    agents = {*budgets, *(old_budgets if isinstance(old_budgets, dict) else {})}
    if events in {*OWN_FILES, *agents}:
        raise ArenaError(
            f"--tensorboard {events!r} in --out is the comparison's own file or an agent's "
            "runs; name another folder (OUT/tensorboard)."
        )
    folder = out / events
    if events in recorded or not (folder.is_symlink() or folder.exists()):
        return
    if folder.is_symlink() or not folder.is_dir() or any(folder.iterdir()):
        raise ArenaError(
            f"--tensorboard names {str(folder)!r}, which holds files arena compare did not "
            "write there; name a new folder."
        )


def _temporary(path: Path) -> bool:
    """An atomic write's temporary that a killed writer left (``.NAME.XXXX.tmp``)."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def _plan_run(job: SeedJob) -> Run:
    folder = Path(job.out)
    where = f"{job.agent}/{folder.name}"
    if not folder.exists():
        return Run(job, "train")
    if folder.is_symlink() or not folder.is_dir():
        raise ArenaError(f"{where} in --out is not a folder arena compare wrote.")
    manifest = checkpoint_manifest(folder)
    if manifest is None:
        names = {p.name for p in folder.iterdir() if p.name != LOCK_FILE and not _temporary(p)}
        if names - set(_LOGS):
            raise ArenaError(
                f"{where} in --out holds files and no checkpoint ({', '.join(sorted(names))}); "
                "move it away first."
            )
        return Run(job, "train")
    steps = manifest.get("steps")
    if manifest.get("agent") != job.agent or not isinstance(steps, int) or steps > job.steps:
        raise ArenaError(
            f"{where} in --out holds a {manifest.get('agent')} checkpoint of {steps} steps, not "
            f"a {job.agent} run of up to {job.steps}; move it away first."
        )
    if steps < job.steps:
        return Run(job, "resume")
    record = _read_json(folder / RESULT_FILE)
    wanted = {
        "format": RESULT_FORMAT,
        "agent": job.agent,
        "env": job.env_id,
        "episodes": job.episodes,
        "eval_seed": eval_seed(job.seed),
        "seed": job.seed,
        "steps": steps,
    }
    if record is None or any(record.get(k) != v for k, v in wanted.items()):
        return Run(job, "evaluate")
    return Run(job, "done", record)


def _read_json(file: Path) -> dict[str, Any] | None:
    """A small JSON object arena wrote, or None if the file is missing or is not one."""
    try:
        if not file.is_file() or file.is_symlink() or file.stat().st_size > 1_000_000:
            return None
        data = json.loads(file.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _compare_record(
    out: Path, env_id: str, budgets: Mapping[str, int], episodes: int, events: str | None
) -> dict[str, Any]:
    earlier = _read_json(out / COMPARE_FILE) or {}
    old_budgets = earlier.get("budgets") if isinstance(earlier.get("budgets"), dict) else {}
    record = {
        "format": FORMAT,
        "env": env_id,
        "episodes": episodes,
        "budgets": {**old_budgets, **budgets},
    }
    folders = sorted({*_recorded_events(earlier), *([events] if events else [])})
    if folders:
        record["tensorboard"] = folders
    return record


def _run_on_ray(
    jobs: list[SeedJob], address: str | None, log: Callable[[str], None] | None
) -> dict[tuple[str, int], dict[str, Any]]:
    """Runs the jobs as Ray tasks; returns their reports by (agent, seed)."""
    from arena.cluster import ray_session, run_tasks
    from arena.fanout import raise_error, run_seed

    by_seed = {(job.agent, job.seed): job for job in jobs}
    reports = {}
    with ray_session("arena compare", address) as ray:
        for report in run_tasks(ray, run_seed, jobs):
            raise_error(report)
            agent = Path(report["out"]).parent.name
            reports[agent, report["seed"]] = report
            if log is not None:
                job = by_seed[agent, report["seed"]]
                how = "resumed and evaluated" if report["resumed"] else "done"
                log(
                    f"{agent} seed {job.seed}: mean return {report['mean_return']:.4g} "
                    f"({how} in {report['seconds']:.1f}s; {len(reports)}/{len(jobs)})"
                )
    return reports


def _row(job: SeedJob, report: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "agent": job.agent,
        "seed": job.seed,
        "steps": report["steps"],
        "mean_return": report["mean_return"],
        "std_return": report["std_return"],
        "mean_length": report["mean_length"],
        "metrics": dict(report["metrics"]),
        "seconds": round(report["seconds"], 3),
    }


def _summary(
    out: Path,
    env_id: str,
    budgets: Mapping[str, int],
    seeds: int,
    episodes: int,
    rows: Sequence[Mapping[str, Any]],
    done: Mapping[str, int],
) -> dict[str, Any]:
    agents = {}
    for name, budget in budgets.items():
        mine = [row for row in rows if row["agent"] == name]
        metrics = sorted({key for row in mine for key in row["metrics"]})
        agents[name] = {
            "steps": budget,
            "return": _stats([row["mean_return"] for row in mine]),
            "metrics": {
                key: _stats([row["metrics"][key] for row in mine if key in row["metrics"]])
                for key in metrics
            },
        }
    return {
        "format": FORMAT,
        "env": env_id,
        "seeds": seeds,
        "episodes": episodes,
        "statistics": (
            "mean, median and interquartile mean (IQM) across seeds of each run's mean "
            f"evaluation score, with {CONFIDENCE:.0%} percentile intervals of a stratified "
            f"bootstrap ({BOOTSTRAP_REPS} resamples; Agarwal et al., NeurIPS 2021)"
        ),
        "agents": agents,
        "runs": {how: done.get(how, 0) for how in ("trained", "resumed", "evaluated", "reused")},
        "results": str(out / RESULTS_FILE),
        "plot": str(out / PLOT_FILE),
    }


def _how(run: Run, report: Mapping[str, Any]) -> str:
    """What became of a run: ``trained`` (from the start, also over a checkpoint its agent
    cannot resume exactly), ``resumed``, ``evaluated`` (a complete checkpoint) or ``reused``."""
    if run.todo == "done":
        return "reused"
    if run.todo == "evaluate":
        return "evaluated"
    return "resumed" if report["resumed"] else "trained"


def _stats(scores: Sequence[float]) -> dict[str, Any]:
    """:func:`arena.aggregate.summarize` with a fixed seed (the same runs give the same
    intervals whatever else is compared), and non-finite numbers as None (JSON's null)."""
    summary = summarize(scores, np.random.default_rng(0))
    return {key: _finite(value) for key, value in summary.items()}


def _finite(value: Any) -> Any:
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_results(file: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    metrics = sorted({key for row in rows for key in row["metrics"]})
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(
        ["agent", "seed", "steps", "mean_return", "std_return", "mean_length", *metrics, "seconds"]
    )
    for row in rows:
        writer.writerow(
            [
                row["agent"],
                row["seed"],
                row["steps"],
                row["mean_return"],
                row["std_return"],
                row["mean_length"],
                *(row["metrics"].get(key, "") for key in metrics),
                row["seconds"],
            ]
        )
    _write(file, text.getvalue().encode())


def _write_json(file: Path, data: Mapping[str, Any]) -> None:
    _write(file, (json.dumps(data, indent=2) + "\n").encode())


def _write(file: Path, data: bytes) -> None:
    from arena.checkpoint import atomic_write

    try:
        atomic_write(file, data)
    except OSError as e:
        raise ArenaError(f"Cannot write {file}: {e.strerror}.") from None
