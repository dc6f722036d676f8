"""``arena sweep``: the command line of the hyperparameter search (:mod:`arena.sweep`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from arena.cli_common import (
    MAX_EPISODES,
    MAX_SEED,
    MAX_STEPS,
    add_tensorboard_option,
    plural,
    print_json,
    whole_number,
)

INTERRUPTED = 130


def add_command(sub: Any) -> None:
    """Adds ``sweep`` to the ``arena`` parser's subcommands."""
    p = sub.add_parser(
        "sweep",
        help="search an agent's hyperparameters with Optuna (TPE) on Ray Tune",
        description="Trains TRIALS configs sampled by Optuna's TPE from a search space, stops "
        "the trials that fall behind early (ASHA), and writes DIR/best.toml (for arena train "
        "--config), DIR/trials.csv and DIR/search.png. The same command resumes an interrupted "
        "sweep from DIR.",
    )
    p.add_argument("agent", help="agent name")
    p.add_argument("env", help="env id")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep's folder")
    p.add_argument(
        "--trials",
        type=whole_number("--trials", 1, 10_000),
        required=True,
        metavar="T",
        help="how many configs to try",
    )
    p.add_argument(
        "--space",
        metavar="FILE.toml",
        help="the search space (field = { low = ..., high = ..., log = true } or "
        "{ choices = [...] }); by default the one the agent's presets ship for ENV",
    )
    p.add_argument(
        "--metric",
        default="mean_return",
        help="what evaluations are scored by: mean_return, mean_length or a metric the env "
        "reports (success, accuracy...)",
    )
    p.add_argument("--mode", choices=["max", "min"], default="max", help="maximise or minimise")
    p.add_argument(
        "--seeds-per-trial",
        type=whole_number("--seeds-per-trial", 1, 64),
        default=1,
        metavar="S",
        help="seeds each trial trains; its score is their mean",
    )
    p.add_argument(
        "--steps",
        type=whole_number("--steps", 1, MAX_STEPS),
        help="each trial's budget; the agent's preset for ENV by default",
    )
    p.add_argument(
        "--seed",
        type=whole_number("--seed", 0, MAX_SEED),
        default=0,
        help="seeds TPE's sampler and every trial's first training seed (all trials play the "
        "same seeds)",
    )
    p.add_argument(
        "--evaluations",
        type=whole_number("--evaluations", 1, 1000),
        default=10,
        metavar="K",
        help="evaluations per trial, evenly spaced; the scheduler prunes on them",
    )
    p.add_argument(
        "--eval-episodes",
        type=whole_number("--eval-episodes", 1, MAX_EPISODES),
        default=10,
        metavar="E",
        help="episodes per evaluation",
    )
    p.add_argument(
        "--grace-steps",
        type=whole_number("--grace-steps", 1, MAX_STEPS),
        metavar="N",
        help="no trial is stopped before N steps (ASHA's first rung; by default a quarter of "
        "the budget): raise it where early evaluations say little, as DQN's do",
    )
    p.add_argument(
        "--no-prune",
        action="store_true",
        help="run every trial to its budget (by default ASHA stops those that fall behind)",
    )
    p.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="join the Ray cluster there (or RAY_ADDRESS); by default a local Ray instance",
    )
    add_tensorboard_option(p)
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument("--quiet", action="store_true", help="no line per trial")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from pathlib import Path

    from arena.cluster import check_address
    from arena.sweep import plan_sweep, require_tune, run_sweep
    from arena.sweep_report import BEST_FILE, PLOT_FILE, TRIALS_FILE, best_row

    require_tune()
    if args.address:
        check_address(args.address)
    plan = plan_sweep(
        args.agent,
        args.env,
        trials=args.trials,
        space=args.space,
        metric=args.metric,
        mode=args.mode,
        seeds_per_trial=args.seeds_per_trial,
        steps=args.steps,
        seed=args.seed,
        evaluations=args.evaluations,
        eval_episodes=args.eval_episodes,
        prune=not args.no_prune,
        grace_steps=args.grace_steps,
    )
    show = None if args.quiet or args.json else (lambda line: print(line, file=sys.stderr))
    rows, finished = run_sweep(
        plan, args.out, address=args.address, tensorboard=args.tensorboard, on_trial=show
    )
    out = Path(args.out)
    best = best_row(rows, plan)
    counts = {s: sum(r["status"] == s for r in rows) for s in ("complete", "pruned", "error")}
    summary = {
        "agent": plan.agent,
        "env": plan.env,
        "out": str(out),
        "metric": plan.metric,
        "trials": len(rows),
        **counts,
        "finished": finished,
        "best": best,
        "best_toml": str(out / BEST_FILE) if best else None,
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"Swept {plan.agent} on {plan.env}: {plural(len(rows), 'trial')} of {plan.trials} "
            f"({counts['complete']} complete, {counts['pruned']} pruned early, "
            f"{counts['error']} failed)."
        )
        if best is not None:
            values = ", ".join(f"{p.name}={best[p.name]!r}" for p in plan.params)
            print(f"Best: {best['trial']}, {plan.metric} {best['objective']:.4g} with {values}")
            print(f"  arena train {plan.agent} {plan.env} --config {out / BEST_FILE}")
        print(f"Trials in {out / TRIALS_FILE}, the search in {out / PLOT_FILE}")
    if not finished:
        print(
            f"arena: interrupted. The sweep in {out} is kept; run the same command to resume it.",
            file=sys.stderr,
        )
        return INTERRUPTED
    if best is None:
        print("arena: no trial finished its budget; see the errors in trials.csv.", file=sys.stderr)
        return 1
    return 0
