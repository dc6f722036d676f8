"""Gymnasium spaces as JSON, for checkpoint manifests, and short descriptions for messages."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from arena.errors import CheckpointError
from arena.limits import check_memory

MAX_DEPTH = 16
"""How deeply ``Tuple`` and ``Dict`` spaces read from a manifest may nest."""
MAX_LEAVES = 10_000
"""How many spaces, nested ones included, one manifest space may hold."""
MAX_DIMS = 32
MAX_INT = 2**63 - 1
SHOWN_NVEC = 16
"""A ``MultiDiscrete`` with more counts than this is described by its shape, not every count."""
DTYPES = (
    "float16", "float32", "float64",
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
    "bool",
)  # fmt: skip
"""The dtypes a Box read from a manifest may have."""
INT_DTYPES = tuple(d for d in DTYPES if "int" in d)


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


def space_from_json(data: Any) -> spaces.Space:
    """Rebuilds a space from :func:`space_to_json`'s output, which may come from a tampered file.

    Every field is checked before anything is allocated: the types, the dtype (one of
    :data:`DTYPES`), the nesting of ``Tuple`` and ``Dict`` spaces (at most :data:`MAX_DEPTH`
    levels, :data:`MAX_LEAVES` spaces in all), and the memory the bounds would need
    (:func:`arena.limits.check_memory`).

    Raises:
        CheckpointError: The data does not describe a space.
        ResourceLimitError: The space would need more memory than the machine allows.
    """
    leaves = [0]
    return _space(data, 1, leaves)


def _space(data: Any, depth: int, leaves: list[int]) -> spaces.Space:
    if depth > MAX_DEPTH:
        raise CheckpointError(f"The manifest's spaces nest more than {MAX_DEPTH} levels deep.")
    leaves[0] += 1
    if leaves[0] > MAX_LEAVES:
        raise CheckpointError(f"The manifest's spaces hold more than {MAX_LEAVES} spaces.")
    kind = data.get("type") if isinstance(data, dict) else None
    try:
        if kind == "Discrete":
            n, start = _int(data["n"], 1), _int(data.get("start", 0), -MAX_INT)
            return spaces.Discrete(n, start=start)
        if kind == "Box":
            return _box(data)
        if kind == "MultiDiscrete":
            nvec = np.asarray(_ints(data["nvec"], 1), dtype=np.int64)
            start = data.get("start")
            start = None if start is None else np.asarray(_ints(start, -MAX_INT), dtype=np.int64)
            dtype = _dtype(data.get("dtype", "int64"), integer=True)
            return spaces.MultiDiscrete(nvec, dtype=dtype, start=start)
        if kind == "MultiBinary":
            n = data["n"]
            n = _int(n, 1) if not isinstance(n, list) else _ints(n, 1)
            size = int(np.prod(n, dtype=float))
            check_memory(f"a MultiBinary space of shape {_brief(n)}", size)
            return spaces.MultiBinary(n)
        if kind == "Tuple":
            items = data["spaces"]
            if not isinstance(items, list):
                raise TypeError("'spaces' must be a list")
            return spaces.Tuple([_space(s, depth + 1, leaves) for s in items])
        if kind == "Dict":
            items = data["spaces"]
            if not isinstance(items, dict):
                raise TypeError("'spaces' must be an object")
            return spaces.Dict({str(k): _space(s, depth + 1, leaves) for k, s in items.items()})
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise CheckpointError(
            f"The manifest's space {_brief(data)} is malformed ({shorten(str(e))})."
        ) from None
    raise CheckpointError(f"The manifest names an unknown space type {_brief(kind)}.")


def _box(data: dict[str, Any]) -> spaces.Box:
    dtype = _dtype(data["dtype"])
    shape = tuple(_ints(data["shape"], 0))
    if len(shape) > MAX_DIMS:
        raise ValueError(f"a Box has at most {MAX_DIMS} dimensions, got {len(shape)}")
    size = int(np.prod(shape, dtype=float))
    what = f"a Box space of shape {_brief(shape)} and dtype {dtype}"
    check_memory(what, 2 * size * dtype.itemsize)
    bounds = []
    with np.errstate(over="ignore"):  # a float bound beyond the dtype's range is infinite
        for key in ("low", "high"):
            bounds.append(_bound_array(data[key], shape, size, dtype, key))
    return spaces.Box(low=bounds[0], high=bounds[1], shape=shape, dtype=dtype)


def _bound_array(
    value: Any, shape: tuple[int, ...], size: int, dtype: np.dtype, key: str
) -> np.ndarray:
    if isinstance(value, list):
        flat = _flat(value)
        if len(flat) != size:
            raise ValueError(f"'{key}' holds {len(flat)} numbers for a shape of {size}")
        return np.asarray([_bound(v, dtype) for v in flat], dtype=dtype).reshape(shape)
    return np.full(shape, _bound(value, dtype), dtype=dtype)


def _dtype(name: Any, integer: bool = False) -> np.dtype:
    allowed = INT_DTYPES if integer else DTYPES
    if name not in allowed:
        raise ValueError(f"dtype {_brief(name)} is not one of {', '.join(allowed)}")
    return np.dtype(name)


def _int(value: Any, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_INT:
        raise ValueError(f"expected an integer from {low} to 2**63 - 1, got {_brief(value)}")
    return value


def _ints(value: Any, low: int) -> list[Any]:
    """A list (possibly nested, as MultiDiscrete's ``nvec``) of integers of at least ``low``."""
    if not isinstance(value, list):
        raise TypeError(f"expected a list of integers, got {_brief(value)}")
    return [_ints(v, low) if isinstance(v, list) else _int(v, low) for v in value]


def _flat(value: list[Any]) -> list[Any]:
    out: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _bound(value: Any, dtype: np.dtype) -> float | int:
    if isinstance(value, str) and value in ("inf", "-inf") and dtype.kind == "f":
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if dtype.kind != "f" and not (isinstance(value, int) or value.is_integer()):
            raise ValueError(f"a bound of a {dtype} Box must be a whole number, got {value!r}")
        return value
    raise TypeError(f"a bound must be a number or 'inf'/'-inf', got {_brief(value)}")


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({type(value).__name__})"


def shorten(text: str, limit: int = 300) -> str:
    """``text``, cut to ``limit`` characters with a mark: messages quote values from files."""
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text)} characters)"


def describe_space(space: spaces.Space) -> str:
    """A short human form, such as ``Discrete(16)`` or ``Box(4,)``; at most 300 characters."""
    return shorten(_describe(space))


def _describe(space: spaces.Space) -> str:
    if isinstance(space, spaces.Box):
        return f"Box{space.shape}"
    if isinstance(space, spaces.Tuple):
        return f"Tuple({', '.join(_describe(s) for s in space.spaces)})"
    if isinstance(space, spaces.Dict):
        inner = ", ".join(f"{k}: {_describe(s)}" for k, s in space.spaces.items())
        return f"Dict({inner})"
    if isinstance(space, spaces.MultiDiscrete):
        nvec = space.nvec
        if nvec.size <= SHOWN_NVEC:
            return f"MultiDiscrete({nvec.tolist()})"
        flat = nvec.reshape(-1)
        if np.all(flat == flat[0]):
            return f"MultiDiscrete({int(flat[0])} each, shape {nvec.shape})"
        shown = ", ".join(str(int(n)) for n in flat[:SHOWN_NVEC])
        return f"MultiDiscrete([{shown}, ...], shape {nvec.shape})"
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
