"""Small parsing and printing helpers shared by the ``arena`` command's modules."""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from typing import Any


def literal(text: str) -> Any:
    """Parses ``3``, ``0.5``, ``True``, ``"8x8"`` or ``[1, 2]``; anything else stays a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def env_kwargs_from(items: Sequence[str] | None) -> dict[str, Any]:
    """Parses ``--env-kwargs key=value ...`` into arguments for ``gym.make``."""
    from arena.config import parse_assignments

    return {k: literal(v) for k, v in parse_assignments(items or [], "--env-kwargs").items()}


def print_json(data: Any) -> None:
    """Prints one indented JSON object, the form every ``--json`` option writes."""
    print(json.dumps(data, indent=2, sort_keys=False))
