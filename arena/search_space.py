"""A sweep's search space: TOML data of ranges and choices keyed by config field.

::

    learning_rate = { low = 1e-4, high = 1e-2, log = true }   # a float field: uniform or log
    batch_size = { choices = [32, 64, 128] }                   # any field: one of these values
    train_freq = { low = 1, high = 16 }                        # an int field: low to high
    gamma = { low = 0.9, high = 0.999 }

A space is checked against the agent's config dataclass before anything runs: every name must be
a field (the message is ``--set``'s), ``low``/``high`` only for int and float fields, with
``low < high``, ``log`` only above 0; each end and each choice must make a valid config on top of
the preset's, with the same message a ``--set`` of that value would give (its range included).

An agent family ships a default space beside its presets, as a ``sweep`` table of an env's entry
in its preset file (:mod:`arena.presets`), so the core finds it through the agent class alone.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.config import build_config, convert, load_toml, renamed_fields, type_name
from arena.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from arena.agent import Agent

MAX_PARAMS = 64
"""The most fields one space may search."""
MAX_CHOICES = 256
"""The most choices one field may list."""


@dataclass(frozen=True)
class Param:
    """One searched field: a range of numbers, or a list of choices.

    Attributes:
        name: The config field.
        low: The range's lower end (None for choices).
        high: The range's upper end, included (None for choices).
        log: Sample the range uniformly in log space.
        integer: The field is an int: the range holds whole numbers.
        choices: The values to choose from; empty for a range.
    """

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple[Any, ...] = ()

    def edges(self) -> list[tuple[str, Any]]:
        """The values that must each make a valid config, named: both ends, or every choice."""
        if self.choices:
            return [("choice", c) for c in self.choices]
        return [("low", self.low), ("high", self.high)]

    def describe(self) -> str:
        """The param as a user would write it, for listings."""
        if self.choices:
            return f"{self.name} in {list(self.choices)}"
        scale = ", log" if self.log else ""
        return f"{self.name} in [{self.low}, {self.high}{scale}]"


def load_space(path: str | Path) -> dict[str, Any]:
    """Reads a space file: a TOML table of fields, at the top level or under ``[sweep]``.

    Raises:
        ConfigError: The file is missing, unreadable or not TOML (see
            :func:`arena.config.load_toml`).
    """
    table = load_toml(path)
    return table.get("sweep", table) if isinstance(table.get("sweep"), dict) else table


def check_space(
    agent_cls: type[Agent],
    table: Mapping[str, Any],
    base: Mapping[str, Any],
    source: str,
) -> list[Param]:
    """Checks a space against the agent's config and returns its params, in the file's order.

    Args:
        agent_cls: The agent's class; its ``Config`` names the fields.
        table: The space, as read from TOML.
        base: The config values every trial starts from (the preset's), which each sampled
            value overrides.
        source: Where the space came from, for messages (a file name).

    Raises:
        ConfigError: An empty space, an unknown field, a malformed entry, or an end or choice
            that does not make a valid config; the message names the source and the field.
    """
    if not table:
        raise ConfigError(f"{source}: the space is empty; give at least one field to search.")
    if len(table) > MAX_PARAMS:
        raise ConfigError(f"{source}: at most {MAX_PARAMS} fields, got {len(table)}.")
    config_cls = agent_cls.Config
    hints = typing.get_type_hints(config_cls)
    known = [f.name for f in dataclasses.fields(config_cls)]
    renamed = renamed_fields(config_cls)
    params = []
    for name, entry in table.items():
        if name in renamed and name not in known:
            raise ConfigError(f"{source} key {name!r} was renamed to {renamed[name]!r}.")
        if name not in known:
            raise ConfigError(str(UnknownNameError(f"{source} key", name, known)))
        param = _param(name, entry, hints[name], source)
        for which, value in param.edges():
            build_config(config_cls, {**base, name: value}, source=f"{source}, {name}'s {which}")
        params.append(param)
    return params


def _param(name: str, entry: Any, hint: Any, source: str) -> Param:
    """One field's entry as a :class:`Param`; raises :class:`ConfigError` if it is malformed."""
    where = f"{source}: {name}"
    shape = "{ low = ..., high = ... } (log = true optional) or { choices = [...] }"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table {shape}, got {entry!r:.80}.")
    keys = set(entry)
    if "choices" in keys:
        if keys != {"choices"}:
            raise ConfigError(f"{where}: choices stands alone; drop {sorted(keys - {'choices'})}.")
        return Param(name, choices=_choices(entry["choices"], hint, where))
    if not {"low", "high"} <= keys or keys - {"low", "high", "log"}:
        raise ConfigError(f"{where} must be {shape}, got keys {sorted(keys)}.")
    number = _number_type(hint)
    if number is None:
        raise ConfigError(
            f"{where} is a {type_name(hint)} field: give it {{ choices = [...] }}, not a range."
        )
    try:
        low, high = (convert(entry[end], number) for end in ("low", "high"))
    except (TypeError, ValueError, OverflowError) as e:
        raise ConfigError(f"{where}: low and high must be {number.__name__}s ({e}).") from None
    log = entry.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: log must be true or false, got {log!r:.40}.")
    if not low < high:
        raise ConfigError(f"{where}: low must be below high, got low={low} and high={high}.")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log range needs low > 0, got low={low}.")
    return Param(name, low=low, high=high, log=log, integer=number is int)


def _choices(values: Any, hint: Any, where: str) -> tuple[Any, ...]:
    """The choices converted to the field's type; raises :class:`ConfigError` if one is not."""
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{where}: choices must be a non-empty list, got {values!r:.80}.")
    if len(values) > MAX_CHOICES:
        raise ConfigError(f"{where}: at most {MAX_CHOICES} choices, got {len(values)}.")
    out = []
    for value in values:
        try:
            out.append(convert(value, hint))
        except (TypeError, ValueError, OverflowError) as e:
            raise ConfigError(
                f"{where}: the choice {value!r:.60} is not a valid {type_name(hint)} ({e})."
            ) from None
    if len(set(map(repr, out))) < len(out):
        raise ConfigError(f"{where}: the choices {values!r:.80} repeat a value.")
    return tuple(out)


def _number_type(hint: Any) -> type | None:
    """int or float for a numeric field (``float | None`` included), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        numbers = [a for a in typing.get_args(hint) if a in (int, float)]
        return numbers[0] if len(numbers) == 1 else None
    return hint if hint in (int, float) else None


def tune_space(params: list[Param]) -> dict[str, Any]:
    """The params as Ray Tune's search domains (choices by index, so any value may be chosen).

    Ray Tune must be importable (:func:`arena.cluster.require_ray` checks it first).
    """
    from ray import tune

    space = {}
    for p in params:
        if p.choices:
            space[p.name] = tune.choice(list(range(len(p.choices))))
        elif p.integer:
            sample = tune.lograndint if p.log else tune.randint
            space[p.name] = sample(int(p.low), int(p.high) + 1)  # high is excluded
        else:
            space[p.name] = (tune.loguniform if p.log else tune.uniform)(p.low, p.high)
    return space


def decode(params: list[Param], sampled: Mapping[str, Any]) -> dict[str, Any]:
    """The config values a trial's sampled point stands for (a choice's value for its index)."""
    values = {}
    for p in params:
        value = sampled[p.name]
        if p.choices:
            value = p.choices[int(value)]
        elif p.integer:
            value = int(value)
        else:
            value = float(value)
        values[p.name] = value
    return values
