"""Small parsing and printing helpers shared by the ``arena`` command's modules."""

from __future__ import annotations

import argparse
import ast
import json
from collections.abc import Callable, Sequence
from typing import Any

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


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number from ``low`` to ``high``, both included.

    It reads numbers as ``--set`` does (``1e5`` and ``50000.0`` are 100000 and 50000), so a
    value out of range or not whole is a usage error before any work starts.
    """

    def parse(text: str) -> int:
        from arena.config import convert

        try:
            value = convert(text, int)
        except (TypeError, ValueError, OverflowError):
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low} to {high}, got {text!r}"
            )
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
