"""``arena train``: one run, or ``--seeds N`` independent runs with their spread."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from arena.cli_common import env_kwargs_from, plural, print_json
from arena.errors import ArenaError


def _train_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options ``train`` and ``train_seeds`` share, from the command line."""
    from arena.config import parse_assignments

    return {
        "steps": args.steps,
        "seed": args.seed,
        "device": args.device,
        "threads": args.threads,
        "save_replay": not args.no_save_replay,
        "overrides": parse_assignments(args.set or []),
        "config_file": args.config,
        "env_kwargs": env_kwargs_from(args.env_kwargs),
        "num_envs": args.num_envs,
        "save_every": args.save_every,
        "eval_every": args.eval_every,
        "eval_episodes": args.eval_episodes,
        "log_every_episode": args.log_every_episode,
        "overwrite": args.overwrite,
        "tensorboard": args.tensorboard,
    }


def cmd_train(args: argparse.Namespace) -> int:
    from arena.training import train

    if args.seeds != 1:
        return _train_seeds(args)
    if args.address is not None:
        raise ArenaError("--address runs seeds on a Ray cluster; it needs --seeds N.")
    if args.out is None:
        if args.resume is None:
            raise ArenaError("train needs --out DIR, the folder to write the run into.")
        args.out = args.resume  # a resumed run continues in place by default
    result = train(
        args.agent,
        args.env,
        out=args.out,
        resume=args.resume,
        allow_other_distribution=args.allow_other_distribution,
        progress=not (args.json or args.quiet),
        **_train_options(args),
    )
    summary = {
        "agent": result.agent.name,
        "env": result.agent.env_id,
        "out": str(result.out),
        "steps": result.steps,
        "episodes": result.episodes,
        "recent_mean_return": result.recent_return,
        "seconds": round(result.seconds, 2),
        "learn_info": result.agent.learn_info,
    }
    if result.best_eval is not None:
        summary["best_eval"] = _best(result)
    if result.events is not None:
        summary["tensorboard"] = str(result.events)
    if args.json:
        print_json(summary)
        return 0
    recent = (
        f", mean return of the last {plural(min(result.episodes, 100), 'episode')} "
        f"{result.recent_return:.3f}"
        if result.recent_return is not None
        else ""
    )
    print(
        f"Trained {summary['agent']} on {summary['env']} to {result.steps} steps in "
        f"{result.seconds:.1f}s ({plural(result.episodes, 'episode')}{recent})."
    )
    for key, value in result.agent.learn_info.items():
        print(f"  {key}: {value}")
    print(f"Checkpoint and progress.csv in {result.out}")
    if result.events is not None:
        print(f"TensorBoard events in {result.events} (tensorboard --logdir {args.tensorboard})")
    if "best_eval" in summary:
        best = summary["best_eval"]
        print(
            f"Best evaluation: mean return {best['mean_return']:.3f} at step {best['step']}, "
            f"kept in {best['out']} (every evaluation in {best['evaluations']})"
        )
    return 0


def _best(result: Any) -> dict[str, Any]:
    """The best evaluation during a run, for the summary."""
    from arena.periodic_eval import BEST_DIR, EVALUATIONS_FILE

    return {
        "step": int(result.best_eval["step"]),
        "mean_return": result.best_eval["mean_return"],
        "out": str(result.out / BEST_DIR),
        "evaluations": str(result.out / EVALUATIONS_FILE),
    }


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _train_seeds(args: argparse.Namespace) -> int:
    import statistics

    from arena.cluster import ray_installed
    from arena.fanout import fans_out, seed_runs, train_seeds_on_ray
    from arena.registry import agent_class
    from arena.training import train_seeds

    if args.resume:
        raise ArenaError("--seeds starts new runs; it cannot --resume one.")
    if args.agent is None or args.env is None:
        raise ArenaError("train --seeds needs an AGENT and an ENV.")
    if args.out is None:
        raise ArenaError("train --seeds needs --out DIR; each seed's run goes to DIR/seed-K.")
    options = _train_options(args)
    seeds_on_ray = fans_out(agent_class(args.agent))
    if args.address is not None and not seeds_on_ray:
        raise ArenaError(
            f"{args.agent} trains its seeds side by side in this process, not on Ray; "
            "drop --address."
        )
    if seeds_on_ray and (args.address is not None or ray_installed()):
        results, seconds = train_seeds_on_ray(
            args.agent,
            args.env,
            out=args.out,
            seeds=args.seeds,
            address=args.address,
            log=None if args.json or args.quiet else _log,
            **options,
        )
    else:  # a family's own side-by-side path, or one seed after another without Ray
        trained = train_seeds(args.agent, args.env, out=args.out, seeds=args.seeds, **options)
        results, seconds = seed_runs(trained), trained[0].seconds

    def spread(values: list[Any]) -> dict[str, float] | None:
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not numbers or len(numbers) < len(values):
            return None
        return {"mean": statistics.fmean(numbers), "std": statistics.pstdev(numbers)}

    first = results[0]
    recent = spread([r.recent_return for r in results])
    # The seeds' numeric learn_info values (a final score, say) are summarized the same way.
    infos = {key: spread([r.learn_info.get(key) for r in results]) for key in first.learn_info}
    infos = {key: value for key, value in infos.items() if value is not None}
    summary = {
        "agent": first.name,
        "env": first.env_id,
        "out": str(Path(args.out)),
        "seeds": [
            {
                "seed": r.seed,
                "out": str(r.out),
                "steps": r.steps,
                "episodes": r.episodes,
                "recent_mean_return": r.recent_return,
                "learn_info": r.learn_info,
                **({"best_eval": _best(r)} if r.best_eval is not None else {}),
            }
            for r in results
        ],
        "recent_mean_return": recent,
        "learn_info": infos,
        "seconds": round(seconds, 2),
    }
    if args.json:
        print_json(summary)
        return 0
    print(
        f"Trained {summary['agent']} on {summary['env']} with {len(results)} seeds "
        f"({args.seed}..{args.seed + len(results) - 1}) to {first.steps} steps each "
        f"in {seconds:.1f}s."
    )
    if recent is not None:
        print(
            f"  mean return of each seed's last 100 episodes: {recent['mean']:.3f} "
            f"+- {recent['std']:.3f} (mean +- std across seeds)"
        )
    for key, value in infos.items():
        print(f"  {key}: {value['mean']:.4g} +- {value['std']:.4g} (mean +- std across seeds)")
    for r in results:
        shown = "-" if r.recent_return is None else f"{r.recent_return:.3f}"
        extra = "".join(f", {key} {r.learn_info[key]:.4g}" for key in infos)
        if r.best_eval is not None:
            extra += f", best evaluation {r.best_eval['mean_return']:.3f} in {_best(r)['out']}"
        print(f"  seed {r.seed}: {shown} ({plural(r.episodes, 'episode')}{extra})")
    for key, value in first.learn_info.items():
        if key not in infos:
            print(f"  {key}: {value}")
    print(f"Checkpoints and progress.csv in {Path(args.out) / 'seed-N'}")
    return 0
