"""Small parsing and printing helpers shared by the ``arena`` command's modules."""

from __future__ import annotations

import argparse
import ast
import json
from collections.abc import Callable, Sequence
from typing import Any

from arena.errors import ArenaError
from arena.runtime import DEFAULT_THREADS, MAX_THREADS

MAX_STEPS = 10**12
"""The most env steps one ``arena train`` may be asked for: a million times a million, more than
any run this tool is for, and far below where step counters overflow. A larger ``--steps`` is a
typo (``1e20``), refused before anything starts."""
MAX_EPISODES = 10**7
"""The most episodes one evaluation may play."""
MAX_SEED = 2**32 - 1
"""Seeds are 0 to 2**32 - 1, the range every seeded library (numpy, numba, torch) accepts."""
MAX_ENVS = 4096
"""The most envs ``--num-envs`` may run side by side, and the most ``--seeds`` one run trains."""
MAX_SAMPLES = 10**7
"""The most samples one ``arena sample`` may write."""


def whole_number(flag: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type`` for option ``flag``: a whole number from ``low`` to ``high``.

    It reads numbers as ``--set`` does (``1e5`` and ``50000.0`` are 100000 and 50000). Anything
    else raises :class:`ArenaError` while the arguments are parsed, before any work starts, so
    the command prints its usual ``arena: error: ...`` and exits 2.
    """

    def parse(text: str) -> int:
        from arena.config import convert

        try:
            value = convert(text, int)
        except (TypeError, ValueError, OverflowError):
            raise ArenaError(f"{flag} must be a whole number, got {text!r}.") from None
        if value < low:
            raise ArenaError(f"{flag} must be at least {low}, got {value}.")
        if value > high:
            raise ArenaError(f"{flag} must be at most {high}, got {value}.")
        return value

    parse.__name__ = "whole number"
    return parse


def literal(text: str) -> Any:
    """Parses ``3``, ``0.5``, ``True``, ``"8x8"`` or ``[1, 2]``; anything else stays a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def env_kwargs_from(items: Sequence[str] | None) -> dict[str, Any]:
    """Parses ``--env-kwargs key=value ...`` into arguments for ``gym.make``."""
    from arena.config import parse_assignments

    return {k: literal(v) for k, v in parse_assignments(items or [], "--env-kwargs").items()}


def print_json(data: Any) -> None:
    """Prints one indented JSON object, the form every ``--json`` option writes."""
    print(json.dumps(data, indent=2, sort_keys=False))


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, with an ``s`` unless there is exactly one: "1 episode", "2 episodes".

    Args:
        count: How many.
        noun: The singular noun.
    """
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    """``--threads N``: torch's CPU threads while the command learns or plays."""
    parser.add_argument(
        "--threads",
        type=whole_number("--threads", 0, MAX_THREADS),
        default=DEFAULT_THREADS,
        metavar="N",
        help="torch CPU threads while learning or playing (default 1, fastest for small "
        "models; 0 leaves torch's default of one per core)",
    )


def add_allow_other_distribution_option(parser: argparse.ArgumentParser) -> None:
    """``--allow-other-distribution``: load a checkpoint whose agent another package provides."""
    parser.add_argument(
        "--allow-other-distribution",
        action="store_true",
        help="load a checkpoint whose agent name is now provided by another distribution",
    )


def add_address_option(parser: argparse.ArgumentParser) -> None:
    """``--address HOST:PORT``: the Ray cluster to run on, instead of a local instance."""
    parser.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="run on the Ray cluster whose head `ray start --head` started there (default: "
        "RAY_ADDRESS, else a local Ray instance sized to this machine)",
    )


def add_tensorboard_option(parser: argparse.ArgumentParser) -> None:
    """``--tensorboard DIR``: TensorBoard event files of each run, in a new folder inside DIR."""
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write TensorBoard event files (returns, env metrics, losses, epsilon, "
        "evaluations) into a new folder inside DIR: tensorboard --logdir DIR",
    )
