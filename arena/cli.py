"""The ``arena`` command: list, info, train, evaluate, sample, encode, compare, sweep, plot.

User mistakes exit with status 2 and a one-paragraph message, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arena.cli_arrays import add_commands as add_array_commands
from arena.cli_common import (
    MAX_ENVS,
    MAX_EPISODES,
    MAX_SEED,
    MAX_STEPS,
    add_address_option,
    add_allow_other_distribution_option,
    add_tensorboard_option,
    add_threads_option,
    env_kwargs_from,
    literal,
    plural,
    print_json,
    whole_number,
)
from arena.cli_compare import add_command as add_compare_command
from arena.cli_sweep import add_command as add_sweep_command
from arena.cli_train import cmd_train
from arena.errors import ArenaError, TrainingError

USAGE_ERROR = 2


def cmd_list(args: argparse.Namespace) -> int:
    from arena.registry import (
        broken_distributions,
        env_owners,
        importer_conflicts,
        list_agents,
        load_env_plugins,
    )

    agents = list_agents()
    failures = [*broken_distributions(), *load_env_plugins(), *importer_conflicts()]
    envs = env_owners(include_all=args.all)
    env_rows = [{"id": i, "distribution": d, "version": v} for i, (d, v) in sorted(envs.items())]
    if args.json:
        print_json(
            {
                "agents": [
                    {
                        "name": a.name,
                        "distribution": a.distribution,
                        "version": a.version,
                        "summary": a.summary,
                        **({"error": a.error} if a.error else {}),
                    }
                    for a in agents
                ],
                "envs": env_rows,
                "errors": [str(f) for f in failures] + [a.error for a in agents if a.error],
            }
        )
        return 0
    print("Agents:")
    width = max((len(a.name) for a in agents), default=5)
    for a in agents:
        what = f"BROKEN: {a.error}" if a.error else a.summary
        print(f"  {a.name:<{width}}  {a.distribution} {a.version}  {what}")
    print("Envs:" if args.all else "Envs (plugins; `arena list --all` adds Gymnasium's own):")
    width = max((len(r["id"]) for r in env_rows), default=5)
    for r in env_rows:
        print(f"  {r['id']:<{width}}  {r['distribution']} {r['version']}")
    for f in failures:
        print(f"BROKEN plugin: {f}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from arena.capabilities import ConditionalSampler, capabilities
    from arena.config import describe
    from arena.presets import preset_table
    from arena.registry import agent_class, agent_plugins

    cls = agent_class(args.agent)
    plugin = agent_plugins()[args.agent]
    rows = describe(cls.Config)
    table = preset_table(cls)
    can = capabilities(cls)
    conditions = dict(cls.conditions) if issubclass(cls, ConditionalSampler) else {}
    if args.json:
        print_json(
            {
                "name": args.agent,
                "distribution": plugin.distribution,
                "version": plugin.version,
                "doc": (cls.__doc__ or "").strip(),
                "config": [
                    dict(zip(("name", "type", "default", "help"), r, strict=True)) for r in rows
                ],
                "presets": table,
                "capabilities": can,
                "conditions": conditions,
            }
        )
        return 0
    import inspect
    import textwrap

    print(f"{args.agent} ({plugin.distribution} {plugin.version})\n")
    print(inspect.getdoc(cls) or "")
    print("\nConfig (--set key=value):")
    for name, tp, default, text in rows:
        print(f"  {name}: {tp} = {default}")
        if text:  # every line of a wrapped help text at the same indent
            print(textwrap.indent(text, "      "))
    envs = [key for key, entry in table.items() if set(entry) - {"sweep"}]
    if envs:
        print(f"\nPresets ({cls.presets}): {', '.join(envs)}")
    spaces = [
        "default (any other env)" if key == "default" else key
        for key, entry in table.items()
        if entry.get("sweep")
    ]
    if spaces:
        print(f"Sweep spaces (arena sweep): {', '.join(spaces)}")
    if can:
        print(f"\nCommands beyond train and evaluate: {', '.join(f'arena {c}' for c in can)}")
    for key, what in conditions.items():
        print(f"  arena sample --{key}: {what}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from arena import evaluate, load
    from arena.recording import (
        FrameTap,
        Window,
        WindowClosed,
        check_record_path,
        render_off_screen,
        write_frames,
    )
    from arena.registry import evaluation_kwargs, make_env
    from arena.spaces import describe_space, spaces_equal

    positional = list(args.targets)
    env_kwargs = env_kwargs_from(args.env_kwargs)
    record = check_record_path(args.record, overwrite=args.overwrite) if args.record else None
    # Windows show rgb_array frames, so --render human and --record share one render path.
    render = {"render_mode": "rgb_array"} if args.render or record else {}
    if render and args.render != "human":
        render_off_screen()
    if args.checkpoint == "":
        raise ArenaError("--checkpoint is empty; name a checkpoint folder.")
    if args.checkpoint:
        if len(positional) > 1:
            raise ArenaError(
                "With --checkpoint, evaluate takes at most one positional argument, the ENV; "
                f"got {' '.join(positional)}."
            )
        if args.set:
            raise ArenaError(
                "--set configures a fresh AGENT; a checkpoint plays with the config it was "
                "trained with. Drop --set, or train a new run with it."
            )
        agent = load(
            args.checkpoint,
            device=args.device,
            env_id=positional[0] if positional else None,
            allow_other_distribution=args.allow_other_distribution,
        )
        env_id = positional[0] if positional else agent.env_id
        if env_id is None:
            raise ArenaError(
                f"The checkpoint at {args.checkpoint} records no env; name one after it: "
                f"arena evaluate --checkpoint {args.checkpoint} ENV_ID."
            )
        kwargs = {
            **(agent.env_kwargs if env_id == agent.env_id else {}),
            **evaluation_kwargs(env_id),
            **env_kwargs,
        }
        env = make_env(env_id, **kwargs, **render)
        for what, mine, theirs in (
            ("observation", agent.observation_space, env.observation_space),
            ("action", agent.action_space, env.action_space),
        ):
            if not spaces_equal(mine, theirs):
                raise ArenaError(
                    f"The checkpoint's agent was trained on {what} space {describe_space(mine)}, "
                    f"but {env_id} has {describe_space(theirs)}."
                )
    else:
        if len(positional) != 2:
            raise ArenaError(
                "evaluate takes AGENT ENV, or --checkpoint DIR [ENV]; "
                f"got {' '.join(positional) or 'nothing'}."
            )
        from arena.building import build_agent
        from arena.config import parse_assignments

        agent, env, _ = build_agent(
            positional[0],
            positional[1],
            seed=args.seed,
            device=args.device,
            overrides=parse_assignments(args.set or []),
            env_kwargs={**evaluation_kwargs(positional[1]), **env_kwargs, **render},
            preset=False,
        )
    agent.threads = args.threads
    window = Window(f"arena: {agent.name} on {env_id_of(env)}") if args.render == "human" else None
    tap = FrameTap(env, window=window, keep=record is not None) if render else env
    try:
        report = evaluate(
            agent,
            tap,
            episodes=args.episodes,
            seed=args.seed,
            max_episode_steps=args.max_episode_steps,
        )
    except WindowClosed:
        print("Window closed; evaluation stopped.", file=sys.stderr)
        return 0
    finally:
        tap.close()
        if window is not None:
            window.close()
    if record is not None:
        fps = (env.metadata or {}).get("render_fps") or 30
        written = write_frames(tap.frames, record, fps)
        print(f"Recorded {plural(len(tap.frames), 'frame')} to {written}", file=sys.stderr)
    if args.json:
        print_json(report.to_dict())  # NaN returns as null
        return 0
    data = report.summary()  # NaN returns as nan
    episodes = plural(data["episodes"], "episode")
    print(f"{data['agent']} on {data['env']}: {episodes}, seed {data['seed']}")
    print(
        f"  return  mean {data['mean_return']:.3f}  std {data['std_return']:.3f}  "
        f"min {data['min_return']:.3f}  max {data['max_return']:.3f}"
    )
    print(f"  length  mean {data['mean_length']:.1f}")
    for key, value in data["metrics"].items():
        print(f"  {key}  {value:.4f}")
    return 0


def env_id_of(env: Any) -> str:
    """The env's id, or its class name when it was not made from an id."""
    return env.spec.id if env.spec is not None else type(env.unwrapped).__name__


def cmd_plot(args: argparse.Namespace) -> int:
    from arena.plot import plot_runs
    from arena.rundir import check_file_target

    out = check_file_target(Path(args.out), ".png", args.overwrite)
    plot_runs(args.runs, out, column=args.metric, window=args.window)
    print(f"Wrote {out}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from arena.config import parse_assignments
    from arena.registry import importer
    from arena.rundir import open_run

    options = {k: literal(v) for k, v in parse_assignments(args.option or [], "--option").items()}
    convert = importer(args.importer)
    # The importer writes into a staging folder; an old checkpoint is replaced only once it
    # has succeeded, so a failed import leaves the folder as it was.
    with open_run(args.out, overwrite=args.overwrite) as run, run.staging() as stage:
        try:
            summary = convert(args.source, stage, env=args.env, **options)
        except TypeError as e:
            raise ArenaError(
                f"import-{args.importer} does not take these options {options}: {e}."
            ) from None
        run.commit(stage)
    # The importer saw the staging folder; what it says names the folder the user gave.
    summary = {
        key: value.replace(str(stage), str(run.path)) if isinstance(value, str) else value
        for key, value in summary.items()
    }
    if args.json:
        print_json(summary)
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from arena.demo import demo_names, load_demo, run_demo

    if args.list or not args.name:
        for name, distribution in demo_names().items():
            print(f"  {name:<12} {distribution}")
        return 0
    return run_demo(load_demo(args.name), args, args.name)


class Parser(argparse.ArgumentParser):
    """argparse without abbreviations, for the parser and each subparser it makes.

    With abbreviations, ``--env`` would be read as ``--env-kwargs`` wherever only the longer
    option exists.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``arena`` command."""
    from arena.checkpoint import arena_version

    parser = Parser(
        prog="arena",
        description="Train and evaluate any registered agent on any compatible Gymnasium env.",
    )
    parser.add_argument("--version", action="version", version=f"gym-arena {arena_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list agents and envs with their distributions")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--all", action="store_true", help="include Gymnasium's own env ids")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show an agent's hyperparameters and presets")
    p.add_argument("agent")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("train", help="train an agent on an env and write a checkpoint")
    p.add_argument("agent", nargs="?", help="agent name (optional with --resume)")
    p.add_argument("env", nargs="?", help="env id (optional with --resume)")
    p.add_argument(
        "--out",
        help="run directory: checkpoint and progress.csv (a new or empty folder; "
        "with --resume, the resumed checkpoint by default)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the checkpoint in --out, with its progress.csv, evaluations.csv and best/",
    )
    p.add_argument(
        "--steps",
        type=whole_number("--steps", 0, MAX_STEPS),
        help="env steps, at most 1e12 (1e5 style allowed); the agent's preset for ENV by default",
    )
    p.add_argument("--seed", type=whole_number("--seed", 0, MAX_SEED), default=0)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config value")
    p.add_argument("--config", metavar="FILE.toml", help="config values from a TOML file")
    p.add_argument("--env-kwargs", nargs="+", metavar="KEY=VALUE", help="arguments to gym.make")
    p.add_argument(
        "--num-envs",
        type=whole_number("--num-envs", 1, MAX_ENVS),
        default=1,
        help="collect with N envs side by side",
    )
    p.add_argument(
        "--save-every",
        type=whole_number("--save-every", 1, MAX_STEPS),
        metavar="N",
        help="checkpoint every N steps (default: a tenth of the budget, at most 1e6)",
    )
    p.add_argument(
        "--eval-every",
        type=whole_number("--eval-every", 1, MAX_STEPS),
        metavar="N",
        help="play greedy episodes every N steps; keep the best agent in OUT/best",
    )
    p.add_argument(
        "--eval-episodes",
        type=whole_number("--eval-episodes", 1, MAX_EPISODES),
        default=10,
        metavar="K",
        help="episodes per evaluation",
    )
    p.add_argument(
        "--log-every-episode",
        action="store_true",
        help="one progress.csv row per episode (by default a long run's episodes are grouped "
        "into a few thousand rows, with their count in the episodes column)",
    )
    p.add_argument("--resume", metavar="DIR", help="continue training a checkpoint")
    add_tensorboard_option(p)
    p.add_argument(
        "--no-save-replay",
        action="store_true",
        help="leave the agent's replay buffer (dqn's) out of its checkpoints: smaller files, "
        "but --resume then refills the buffer instead of continuing the run exactly",
    )
    add_allow_other_distribution_option(p)
    p.add_argument(
        "--seeds",
        type=whole_number("--seeds", 1, MAX_ENVS),
        default=1,
        metavar="N",
        help="train N independent seeds into OUT/seed-K, as Ray tasks (or side by side in one "
        "compiled kernel, for the tabular agents), and report the mean and std across them",
    )
    add_address_option(p)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add_threads_option(p)
    p.add_argument("--json", action="store_true", help="print a JSON summary, no progress bar")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="play episodes greedily and report returns and metrics")
    p.add_argument(
        "targets", nargs="*", metavar="AGENT ENV", help="AGENT ENV, or ENV with --checkpoint"
    )
    p.add_argument("--checkpoint", metavar="DIR", help="evaluate a saved agent")
    add_allow_other_distribution_option(p)
    p.add_argument("--episodes", type=whole_number("--episodes", 1, MAX_EPISODES), default=10)
    p.add_argument(
        "--max-episode-steps",
        type=whole_number("--max-episode-steps", 1, MAX_STEPS),
        metavar="N",
        help="cut episodes after N steps (default: the env's limit, or 10000 without one)",
    )
    p.add_argument("--seed", type=whole_number("--seed", 0, MAX_SEED), default=0)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="config of a fresh AGENT")
    p.add_argument("--env-kwargs", nargs="+", metavar="KEY=VALUE", help="arguments to gym.make")
    p.add_argument("--render", choices=["human", "rgb_array"], help="human shows a window")
    p.add_argument("--record", metavar="FILE", help="write the episodes to a .gif or .mp4")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --record FILE")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add_threads_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)

    add_array_commands(sub)
    add_compare_command(sub)
    add_sweep_command(sub)

    p = sub.add_parser("plot", help="draw learning curves of runs to a PNG")
    p.add_argument("runs", nargs="+", metavar="DIR", help="`arena train --out` directories")
    p.add_argument("--out", default="learning_curves.png", help="the PNG to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--metric", default="return", help="the progress.csv column to plot")
    p.add_argument(
        "--window",
        type=whole_number("--window", 1, MAX_EPISODES),
        default=20,
        help="smoothing window, in progress.csv rows (an episode each, or a group of them)",
    )
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("demo", help="run a pygame demo (arena demo --list)")
    p.add_argument("name", nargs="?", help="the demo to run")
    p.add_argument("--list", action="store_true", help="list the demos")
    from arena.demo import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_demo)

    from arena.registry import importer_plugins

    for name, plugin in sorted(importer_plugins().items()):
        p = sub.add_parser(
            f"import-{name}",
            help=f"convert a saved {name} model into an arena checkpoint ({plugin.distribution})",
        )
        p.add_argument("source", help="the file to convert")
        p.add_argument("--out", required=True, help="the checkpoint directory to write")
        p.add_argument(
            "--overwrite", action="store_true", help="replace the checkpoint already in --out"
        )
        p.add_argument("--env", help="the env id to record (and take spaces from)")
        p.add_argument("--option", action="append", metavar="KEY=VALUE", help="importer option")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(func=cmd_import, importer=name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``arena`` command; returns its exit status.

    A user's mistake (:class:`ArenaError`) exits 2 with its message, a stopped run
    (:class:`TrainingError`) exits 1, and Ctrl-C (or SIGTERM, through :mod:`arena.entry`) exits
    130 (143) naming the checkpoint it kept; none of them prints a traceback. argparse's own
    usage errors raise ``SystemExit(2)`` as usual. Bare ``arena`` prints the help on stderr and
    returns 2, as any call that names no command is a usage error.
    """
    from arena.entry import interruption

    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:  # bare `arena`: the help, as a usage error (no command ran)
            parser.print_help(sys.stderr)
            return USAGE_ERROR
        return args.func(args)
    except TrainingError as e:
        print(f"arena: training stopped: {e}", file=sys.stderr)
        return 1
    except ArenaError as e:
        print(f"arena: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt as e:
        return interruption(e, getattr(args, "out", None))


if __name__ == "__main__":
    from arena.entry import run

    sys.exit(run())
