"""What a sweep leaves in its folder: ``trials.csv``, ``best.toml`` and ``search.png``.

``best.toml`` holds the best finished trial's whole config in a ``[config]`` table, which
``arena train AGENT ENV --config DIR/best.toml`` takes as it is; its comments say what the trial
scored and with which budget. A trial stopped early by the scheduler (``pruned``) is listed but
never chosen: its score is from a shorter run than the one ``best.toml`` would train.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.cli_common import plural
from arena.errors import ArenaError
from arena.search_space import decode

if TYPE_CHECKING:
    from arena.sweep import SweepPlan

TRIALS_FILE = "trials.csv"
BEST_FILE = "best.toml"
PLOT_FILE = "search.png"


def trial_rows(grid: Any, plan: SweepPlan) -> list[dict[str, Any]]:
    """One row per trial of Tune's result grid, in the order the trials were made.

    Each row has ``trial``, ``status`` (``complete``, ``pruned`` or ``error``), ``step`` (the
    last evaluated), ``objective`` (the last evaluation's score), ``best_objective`` (over all
    its evaluations), ``seconds``, ``error``, and the trial's value of each searched field.
    """
    rows = []
    for result in grid:
        name = Path(result.path).name
        metrics = result.metrics or {}
        history = result.metrics_dataframe
        scores = [] if history is None or "objective" not in history else list(history["objective"])
        step = metrics.get("step")
        if result.error is not None:
            status = "error"
        elif step is None:
            status = "pruned"  # stopped before its first evaluation
        else:
            status = "complete" if step >= plan.steps else "pruned"
        finite = [s for s in scores if isinstance(s, (int, float)) and math.isfinite(s)]
        best = (max if plan.mode == "max" else min)(finite) if finite else None
        rows.append(
            {
                "trial": name,
                "status": status,
                "step": step,
                "objective": metrics.get("objective"),
                "best_objective": best,
                "seconds": round(metrics.get("time_total_s", 0.0), 2),
                "error": "" if result.error is None else _one_line(result.error),
                **_values(plan, result.config or {}),
            }
        )
    return sorted(rows, key=lambda row: row["trial"])


def _values(plan: SweepPlan, config: dict[str, Any]) -> dict[str, Any]:
    """The trial's searched values, as a config would hold them (empty for a trial without)."""
    if not all(p.name in config for p in plan.params):
        return {}
    return decode(list(plan.params), config)


def _one_line(error: BaseException) -> str:
    """The error's last line (a Ray task error wraps the worker's traceback)."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else type(error).__name__


def best_row(rows: list[dict[str, Any]], plan: SweepPlan) -> dict[str, Any] | None:
    """The finished trial with the best final score, or None when no trial finished."""
    finished = [
        r
        for r in rows
        if r["status"] == "complete"
        and isinstance(r["objective"], (int, float))
        and math.isfinite(r["objective"])
    ]
    if not finished:
        return None
    pick = max if plan.mode == "max" else min
    return pick(finished, key=lambda r: r["objective"])


def write_results(out: Path, plan: SweepPlan, rows: list[dict[str, Any]]) -> None:
    """Writes ``trials.csv``, ``search.png`` and, once a trial has finished, ``best.toml``."""
    from arena.checkpoint import atomic_write

    names = [p.name for p in plan.params]
    fields = ["trial", "status", "step", "objective", "best_objective", "seconds", *names]
    table = io.StringIO()
    writer = csv.DictWriter(table, [*fields, "error"], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    atomic_write(out / TRIALS_FILE, table.getvalue().encode("utf-8"))
    atomic_write(out / PLOT_FILE, search_plot(rows, plan))
    best = best_row(rows, plan)
    if best is not None:
        atomic_write(out / BEST_FILE, best_toml(best, plan).encode("utf-8"))


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, tuple)) else value


def best_toml(row: dict[str, Any], plan: SweepPlan) -> str:
    """The best trial's whole config as TOML that ``arena train --config`` reads."""
    from arena.config import build_config, config_to_dict
    from arena.registry import agent_class

    values = {**plan.base, **{p.name: row[p.name] for p in plan.params}}
    config = config_to_dict(build_config(agent_class(plan.agent).Config, values))
    seeds = plural(plan.seeds_per_trial, "seed")
    lines = [
        f"# arena sweep {plan.agent} {plan.env}: the best of {plan.trials} trials, {row['trial']},",
        f"# {plan.metric} {row['objective']:.6g} ({seeds}, {plan.eval_episodes} episodes, "
        f"after {plan.steps} steps).",
        f"# Searched: {', '.join(p.describe() for p in plan.params)} ({plan.space_source}).",
        f"# Train it: arena train {plan.agent} {plan.env} --config best.toml --steps {plan.steps}",
        "",
        "[config]",
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in config.items()]
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """A config value as TOML: None as ``"none"``, which ``--config`` reads back as None."""
    if value is None:
        return '"none"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise ArenaError(f"best.toml cannot hold the value {value!r:.60}.")


def search_plot(rows: list[dict[str, Any]], plan: SweepPlan) -> bytes:
    """A PNG of the search: each trial's final score in trial order, pruned ones hollow, and
    the best finished score so far."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    best_x, best_y, best = [], [], None
    pick = max if plan.mode == "max" else min
    for number, row in enumerate(rows, start=1):
        score = row["objective"]
        if not isinstance(score, (int, float)) or not math.isfinite(score):
            continue
        complete = row["status"] == "complete"
        ax.scatter(
            [number],
            [score],
            facecolors="tab:blue" if complete else "none",
            edgecolors="tab:blue",
            zorder=3,
        )
        if complete:
            best = score if best is None else pick(best, score)
        if best is not None:
            best_x.append(number)
            best_y.append(best)
    ax.step(best_x, best_y, where="post", color="tab:orange", label="best finished so far")
    ax.scatter([], [], facecolors="tab:blue", edgecolors="tab:blue", label="finished")
    ax.scatter([], [], facecolors="none", edgecolors="tab:blue", label="pruned early")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{plan.metric} (last evaluation)")
    ax.set_title(f"arena sweep {plan.agent} {plan.env}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png")
    plt.close(fig)
    return image.getvalue()
