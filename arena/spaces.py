"""Gymnasium spaces as JSON, for checkpoint manifests, and short descriptions for messages."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from arena.errors import CheckpointError


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """Describes a space as plain JSON data that :func:`space_from_json` turns back into it.

    Raises:
        TypeError: The space is of a kind that has no JSON form here.
    """
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _compact(space.low),
            "high": _compact(space.high),
        }
    if isinstance(space, spaces.MultiDiscrete):
        return {
            "type": "MultiDiscrete",
            "nvec": space.nvec.tolist(),
            "start": space.start.tolist(),
            "dtype": str(space.dtype),
        }
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_json(s) for s in space.spaces]}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(s) for k, s in space.spaces.items()}}
    raise TypeError(f"{type(space).__name__} spaces cannot be saved in a checkpoint")


def space_from_json(data: dict[str, Any]) -> spaces.Space:
    """Rebuilds a space from :func:`space_to_json`'s output.

    Raises:
        CheckpointError: The data does not describe a space.
    """
    try:
        kind = data["type"]
        if kind == "Discrete":
            return spaces.Discrete(data["n"], start=data.get("start", 0))
        if kind == "Box":
            dtype = np.dtype(data["dtype"])
            shape = tuple(data["shape"])
            low = np.asarray(_expand(data["low"]), dtype=dtype)
            high = np.asarray(_expand(data["high"]), dtype=dtype)
            # One number stands for a uniform bound (see _compact); Box needs it full-shaped.
            low = low.reshape(shape) if low.ndim else np.full(shape, low, dtype)
            high = high.reshape(shape) if high.ndim else np.full(shape, high, dtype)
            return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
        if kind == "MultiDiscrete":
            return spaces.MultiDiscrete(
                data["nvec"], dtype=np.dtype(data.get("dtype", "int64")), start=data.get("start")
            )
        if kind == "MultiBinary":
            return spaces.MultiBinary(data["n"])
        if kind == "Tuple":
            return spaces.Tuple([space_from_json(s) for s in data["spaces"]])
        if kind == "Dict":
            return spaces.Dict({k: space_from_json(s) for k, s in data["spaces"].items()})
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"The manifest's space {data!r} is malformed ({e}).") from None
    raise CheckpointError(f"The manifest names an unknown space type {kind!r}.")


def describe_space(space: spaces.Space) -> str:
    """A short human form, such as ``Discrete(16)`` or ``Box(4,)``."""
    if isinstance(space, spaces.Box):
        return f"Box{space.shape}"
    if isinstance(space, spaces.Tuple):
        return f"Tuple({', '.join(describe_space(s) for s in space.spaces)})"
    if isinstance(space, spaces.Dict):
        inner = ", ".join(f"{k}: {describe_space(s)}" for k, s in space.spaces.items())
        return f"Dict({inner})"
    if isinstance(space, spaces.MultiDiscrete):
        return f"MultiDiscrete({space.nvec.tolist()})"
    return repr(space)


def spaces_equal(a: spaces.Space, b: spaces.Space) -> bool:
    """True when two spaces describe the same values (compared through their JSON form)."""
    try:
        return space_to_json(a) == space_to_json(b)
    except TypeError:
        return a == b


def _compact(array: np.ndarray) -> Any:
    """One number when every bound is the same, else the nested list; infinities as strings."""
    flat = array.reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return _number(flat[0])
    return [_number(v) for v in flat]


def _number(value: Any) -> float | int | str:
    value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return "inf" if value > 0 else "-inf"
    return value


def _expand(value: Any) -> Any:
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return float(value) if isinstance(value, str) else value
