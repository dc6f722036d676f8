"""Hyperparameter dataclasses: the one source of names, types, defaults and help text.

An agent's ``Config`` is a frozen dataclass whose fields each carry a docstring (a string literal
right under the field, as in cleanrl's ``Args``). The CLI's ``--set key=value``, ``--config
FILE.toml``, the presets and the checkpoint manifest all go through the functions here, so a name
or a type is checked the same way wherever it comes from.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import math
import textwrap
import types
import typing
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

from arena.errors import ConfigError, UnknownNameError
from arena.ranges import range_text

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


MAX_ITEMS = 256
"""The most values a list-valued config field takes (layer widths, say): more is a mistake."""


def require(condition: bool, message: str) -> None:
    """Raises :class:`ConfigError` with ``message`` unless ``condition`` holds.

    Config dataclasses call this from ``__post_init__`` for rules that relate fields; a single
    field's range is declared with the field instead (:mod:`arena.ranges`).
    """
    if not condition:
        raise ConfigError(message)


@cache
def field_help(config_cls: type) -> dict[str, str]:
    """Returns each field's docstring, read from the class source, base classes included."""
    helps: dict[str, str] = {}
    for klass in reversed(config_cls.__mro__[:-1]):
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0].body
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                helps[node.target.id] = inspect.cleandoc(after.value.value)
    for f in dataclasses.fields(config_cls):
        if "help" in f.metadata:
            helps[f.name] = f.metadata["help"]
    return helps


def describe(config_cls: type) -> list[tuple[str, str, str, str]]:
    """Returns (name, type, default, help) for each field, for ``--help`` style listings.

    The type is the plain one, followed by the field's declared range, if any: ``float (> 0)``.
    """
    hints = typing.get_type_hints(config_cls)
    helps = field_help(config_cls)
    rows = []
    for f in dataclasses.fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        shown = type_name(hints[f.name])
        declared = range_text(config_cls, f.name)
        if declared:
            shown = f"{shown} ({declared})"
        rows.append((f.name, shown, repr(default), helps.get(f.name, "")))
    return rows


def parse_assignments(items: Iterable[str], what: str = "--set") -> dict[str, str]:
    """Splits ``key=value`` strings into a dict of raw strings."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what} takes key=value, got {item!r}.")
        out[key.strip()] = value.strip()
    return out


MAX_TOML_BYTES = 16 * 2**20
"""The largest TOML file arena reads (a config or presets file is a few kilobytes)."""


def load_toml(path: str | Path) -> dict[str, Any]:
    """Reads a TOML file, turning a missing, unreadable or malformed file into a clear error.

    Raises:
        ConfigError: The path is missing, not a regular file (a folder, a pipe, a device),
            unreadable, larger than :data:`MAX_TOML_BYTES`, not UTF-8, or not TOML.
    """
    path = Path(path)
    where = f"Config file {str(path)!r}"
    try:
        if not path.exists():
            raise ConfigError(f"{where} does not exist.")
        if path.is_dir():
            raise ConfigError(f"{where} is a folder; give a .toml file.")
        if not path.is_file():
            raise ConfigError(f"{where} is not a regular file; give a .toml file.")
        with path.open("rb") as f:
            raw = f.read(MAX_TOML_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{where} cannot be read: {e.strerror or e}.") from None
    if len(raw) > MAX_TOML_BYTES:
        raise ConfigError(f"{where} is larger than {MAX_TOML_BYTES // 2**20} MiB; not a config.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{where} is not UTF-8 text (byte {e.start}); TOML is UTF-8.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where} is not valid TOML: {e}.") from None
    except RecursionError:
        raise ConfigError(f"{where} nests too deeply to be a config.") from None


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The config values of a ``--config`` file: its ``[config]`` table, or its top level.

    Raises:
        ConfigError: The file cannot be read as TOML (see :func:`load_toml`), or its ``config``
            entry is not a table.
    """
    table = load_toml(path)
    values = table.get("config", table)
    if not isinstance(values, dict):
        raise ConfigError(
            f"Config file {str(path)!r}: 'config' must be a table ([config] with key = value "
            f"lines), got {type(values).__name__}; or put the keys at the top level."
        )
    return values


def build_config(config_cls: type, values: Mapping[str, Any], source: str = "config") -> Any:
    """Makes a config instance from typed values or raw strings, checking every key and type.

    Args:
        config_cls: The agent's frozen config dataclass.
        values: Field values; strings are parsed by the field's type, other values are checked.
        source: Where the values came from, for messages (``--set``, a file name, a manifest).

    Raises:
        ConfigError: An unknown key (with the valid keys listed), a bad type, or a bad range.
    """
    hints = typing.get_type_hints(config_cls)
    known = [f.name for f in dataclasses.fields(config_cls)]
    renamed = renamed_fields(config_cls)
    kwargs = {}
    for key, value in values.items():
        if key in renamed and key not in known:
            raise ConfigError(f"{source} key {key!r} was renamed to {renamed[key]!r}.")
        if key not in known:
            raise ConfigError(str(UnknownNameError(f"{source} key", key, known)))
        try:
            kwargs[key] = convert(value, hints[key])
        except (TypeError, ValueError, OverflowError) as e:
            shown = repr(value) if len(repr(value)) <= 80 else f"{repr(value)[:60]}..."
            raise ConfigError(
                f"{source}: {key}={shown} is not a valid {type_name(hints[key])} ({e})."
            ) from None
    try:
        return config_cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None
    except (TypeError, ValueError, OverflowError) as e:
        raise ConfigError(f"{source}: {e}") from None


def renamed_fields(config_cls: type) -> dict[str, str]:
    """Old field names mapped to today's: the ``renamed`` tables of the class and its bases.

    A chain of renames (``a`` to ``b``, later ``b`` to ``c``) maps each old name to the last.
    """
    table: dict[str, str] = {}
    for klass in reversed(config_cls.__mro__):
        own = vars(klass).get("renamed")
        if isinstance(own, Mapping):
            table.update(own)
    for old in table:
        seen = {old}
        while table[old] in table and table[old] not in seen:
            seen.add(table[old])
            table[old] = table[table[old]]
    return table


def upgrade_config(config_cls: type, values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Reads a saved config with today's names: renamed fields, then the class's ``upgrade``.

    :func:`arena.checkpoint.load_checkpoint` calls it once the agent's class is known, on the
    manifest's config, before :func:`build_config`.

    Args:
        config_cls: The agent's config dataclass.
        values: The saved field values, not checked yet.
        source: Where they came from, for messages.

    Raises:
        ConfigError: The values hold both a field's old name and its new one.
    """
    renamed = renamed_fields(config_cls)
    out = dict(values)
    for old, new in renamed.items():
        if old not in out:
            continue
        if new in out:
            raise ConfigError(
                f"{source} holds both {old!r} and {new!r}, its new name; keep one of them."
            )
        out[new] = out.pop(old)
    upgrade = getattr(config_cls, "upgrade", None)
    return upgrade(out) if callable(upgrade) else out


def config_to_dict(config: Any) -> dict[str, Any]:
    """Returns the config as JSON-ready values (tuples become lists)."""
    return {f.name: _jsonable(getattr(config, f.name)) for f in dataclasses.fields(config)}


def convert(value: Any, tp: Any) -> Any:
    """Converts ``value`` (a string from the command line, or a typed value) to type ``tp``.

    Integers may be written ``1e5`` or ``50000.0``; floats must be finite.

    Raises:
        TypeError: ``value`` is of the wrong kind (a list for a number, a boolean for an int).
        ValueError: ``value`` does not parse as ``tp`` or is not one of its choices.
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        is_none = value is None or (isinstance(value, str) and value.lower() in ("none", "null"))
        if is_none and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return convert(value, arg)
            except (TypeError, ValueError) as e:
                errors.append(str(e))
        raise ValueError("; ".join(errors))
    if origin is Literal:
        for choice in args:
            if value == choice or (isinstance(value, str) and str(choice) == value):
                return choice
        raise ValueError(f"expected one of {', '.join(repr(a) for a in args)}")
    if origin in (tuple, list):
        if isinstance(value, str):
            text = value.strip()
            if text[:1] in ("[", "(") and text[-1:] in ("]", ")"):
                text = text[1:-1]
            if any(bracket in text for bracket in "()[]"):
                raise ValueError("expected a flat list such as [64, 64], not a nested one")
            items = [v for v in (p.strip() for p in text.split(",")) if v]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise TypeError(f"expected a sequence, got {type(value).__name__}")
        if len(items) > MAX_ITEMS:
            raise ValueError(f"expected at most {MAX_ITEMS} values, got {len(items)}")
        item_type = args[0] if args else str
        return origin(convert(v, item_type) for v in items)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if tp is int:
        if isinstance(value, bool):
            raise TypeError("expected an integer, got a boolean")
        if isinstance(value, str):
            return int(float(value)) if _is_integral(value) else int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    if tp is float:
        if isinstance(value, bool):
            raise TypeError("expected a number, got a boolean")
        number = float(value)
        if not math.isfinite(number):  # No range admits NaN, and a manifest cannot hold either.
            raise ValueError("expected a finite number, not inf or nan")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return value
    raise TypeError(f"unsupported config type {tp!r}")


def _is_integral(text: str) -> bool:
    """True for strings such as ``1e5`` or ``50000.0`` that name a whole number."""
    try:
        number = float(text)
    except ValueError:
        return False
    return number.is_integer() and not text.strip().lstrip("+-").isdigit()


def type_name(tp: Any) -> str:
    """A field's type as messages show it: ``float``, ``int | None``, ``tuple[int, ...]``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is Literal:
        return "|".join(str(a) for a in args)
    if origin in (tuple, list):
        return f"{origin.__name__}[{type_name(args[0]) if args else 'str'}, ...]"
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value
