"""``arena compare``: agents on one env over seeds, as Ray tasks, with interval estimates."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from arena.cli_common import (
    MAX_ENVS,
    MAX_EPISODES,
    MAX_STEPS,
    add_address_option,
    add_tensorboard_option,
    print_json,
    whole_number,
)


def add_command(sub: Any) -> None:
    """Adds ``arena compare`` to the command's subparsers."""
    p = sub.add_parser(
        "compare",
        help="train and evaluate agents on K seeds each (Ray tasks); mean, median, IQM and "
        "95%% bootstrap intervals",
    )
    p.add_argument("agents", nargs="+", metavar="AGENT", help="the agents to compare")
    p.add_argument("--env", required=True, help="the env every agent plays")
    p.add_argument(
        "--seeds",
        type=whole_number("--seeds", 1, MAX_ENVS),
        required=True,
        metavar="K",
        help="seeds per agent (0..K-1)",
    )
    p.add_argument(
        "--steps",
        type=whole_number("--steps", 0, MAX_STEPS),
        help="env steps per run (default: each agent's preset for ENV)",
    )
    p.add_argument(
        "--episodes",
        type=whole_number("--episodes", 1, MAX_EPISODES),
        default=10,
        help="greedy evaluation episodes per run (default 10)",
    )
    p.add_argument(
        "--out",
        required=True,
        help="the comparison's folder: AGENT/seed-K runs, results.csv, summary.json, "
        "comparison.png (a new or empty folder, or an earlier compare's to finish)",
    )
    add_address_option(p)
    add_tensorboard_option(p)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from arena.compare import compare

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        summary = compare(
            args.agents,
            args.env,
            seeds=args.seeds,
            out=args.out,
            steps=args.steps,
            episodes=args.episodes,
            address=args.address,
            tensorboard=args.tensorboard,
            log=log,
        )
    except KeyboardInterrupt:
        print(
            f"arena: compare stopped; {args.out} keeps the finished runs and the last "
            "checkpoints: run the same command again to finish.",
            file=sys.stderr,
        )
        raise
    if args.json:
        print_json(summary)
        return 0
    print(
        f"{summary['env']}: {summary['seeds']} seeds per agent, {summary['episodes']} "
        "evaluation episodes per run; each cell is the statistic across seeds [95% bootstrap "
        "interval]"
    )
    for name, data in summary["agents"].items():
        print(f"\n{name} ({data['steps']} steps per run)")
        print(f"  {'':<12}{'mean':<26}{'median':<26}IQM")
        for key, stats in [("return", data["return"]), *data["metrics"].items()]:
            cells = "".join(f"{_cell(stats, s):<26}" for s in ("mean", "median", "iqm"))
            print(f"  {key:<12}{cells}".rstrip())
    runs = summary["runs"]
    print(
        f"\n{runs['trained']} runs trained, {runs['resumed']} resumed, {runs['evaluated']} "
        f"evaluated again, {runs['reused']} reused, in {summary['seconds']:.1f}s."
    )
    print(f"Per run: {summary['results']}; picture: {summary['plot']}")
    return 0


def _cell(stats: dict[str, Any], name: str) -> str:
    """``0.7400 [0.7000, 0.7800]``; ``nan`` where a run's score was not finite."""
    value, (low, high) = stats[name], stats[f"{name}_ci"]
    if value is None or low is None or high is None:
        return "nan"
    return f"{value:.4g} [{low:.4g}, {high:.4g}]"
