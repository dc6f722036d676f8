"""Ranges declared with a config field, and the check that every construction runs.

A config field states its range once, beside its type, with :data:`typing.Annotated`::

    learning_rate: Annotated[float, Above(0)] = 1e-3
    gamma: Annotated[float, Between(0, 1)] = 0.99
    alpha_end: Annotated[float | None, Between(0, 1, open_low=True)] = None
    hidden_sizes: Annotated[tuple[int, ...], Each(AtLeast(1)), Length(1)] = (64, 64)

:func:`check_ranges` raises :class:`~arena.errors.ConfigError` for the first field out of its
range, in the words the CLI has always used ("learning_rate must be > 0, got -1.0"); None passes
where the type admits it. :class:`arena.config_blocks.ConfigBase` runs it before a config's own
``__post_init__``, so a range holds however the config is made: ``--set``, a TOML file, a preset,
a checkpoint's manifest, or a call in Python. Rules that relate two fields stay in
``__post_init__``, written with :func:`arena.config.require`.

A subclass that only changes a field's default may write the plain type: the range declared
higher up still holds. A subclass that narrows a range declares the field again with its own.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from functools import cache
from typing import Annotated, Any

from arena.errors import ConfigError


def _number(value: float) -> str:
    """``0`` for 0 and 0.0, ``0.001`` for 1e-3: a bound as a user would type it."""
    return str(value) if isinstance(value, int) else f"{value:g}"


@dataclasses.dataclass(frozen=True)
class Above:
    """The value must be greater than ``bound``."""

    bound: float

    def holds(self, value: Any) -> bool:
        return value > self.bound

    def text(self) -> str:
        return f"> {_number(self.bound)}"


@dataclasses.dataclass(frozen=True)
class AtLeast:
    """The value must be ``bound`` or more."""

    bound: float

    def holds(self, value: Any) -> bool:
        return value >= self.bound

    def text(self) -> str:
        return f">= {_number(self.bound)}"


@dataclasses.dataclass(frozen=True)
class Between:
    """The value must lie from ``low`` to ``high``, each end included unless it is open."""

    low: float
    high: float
    open_low: bool = False
    open_high: bool = False

    def holds(self, value: Any) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return above and below

    def text(self) -> str:
        left = "(" if self.open_low else "["
        right = ")" if self.open_high else "]"
        return f"in {left}{_number(self.low)}, {_number(self.high)}{right}"


Bound = Above | AtLeast | Between
"""A range of one number."""


@dataclasses.dataclass(frozen=True)
class Each:
    """Every item of a tuple must be in ``bound``."""

    bound: Bound

    def holds(self, value: Any) -> bool:
        return all(self.bound.holds(item) for item in value)


@dataclasses.dataclass(frozen=True)
class Length:
    """A tuple must hold from ``low`` to ``high`` items (no upper limit when ``high`` is None;
    :data:`arena.config.MAX_ITEMS` caps every parsed list anyway)."""

    low: int
    high: int | None = None

    def holds(self, value: Any) -> bool:
        return self.low <= len(value) and (self.high is None or len(value) <= self.high)

    def text(self) -> str:
        if self.high == self.low:
            return str(self.low)
        if self.high is None:
            return "one or more" if self.low == 1 else f"{self.low} or more"
        return f"from {self.low} to {self.high}"


Marker = Bound | Each | Length
"""What :func:`check_ranges` reads from a field's ``Annotated`` metadata."""
_MARKERS = (Above, AtLeast, Between, Each, Length)


@dataclasses.dataclass(frozen=True)
class FieldRange:
    """One field's declared range."""

    markers: tuple[Marker, ...]
    optional: bool
    """Whether the field's type admits None, which then passes."""

    def holds(self, value: Any) -> bool:
        if value is None and self.optional:
            return True
        try:
            return all(m.holds(value) for m in self.markers)
        except TypeError:  # a string for a number, say, passed straight to the constructor
            return False

    def text(self) -> str:
        """The range in words, as in "> 0", "in [0, 1]" or "one or more values >= 1"."""
        count = next((m.text() for m in self.markers if isinstance(m, Length)), None)
        each = next((m.bound.text() for m in self.markers if isinstance(m, Each)), None)
        if count is None and each is None:
            return " and ".join(m.text() for m in self.markers)
        words = [count or "only", "values"] + ([each] if each else [])
        return " ".join(words)

    def requirement(self) -> str:
        """What ``must`` is followed by in a message: "be > 0", "list one or more values"."""
        listed = any(isinstance(m, (Each, Length)) for m in self.markers)
        return f"{'list' if listed else 'be'} {self.text()}{' or None' if self.optional else ''}"


@cache
def field_ranges(config_cls: type) -> dict[str, FieldRange]:
    """Each dataclass field's declared range, for the fields that declare one.

    The most derived class that annotates a field with markers decides its range, so a subclass
    that changes only the default keeps its base's range.
    """
    plain = typing.get_type_hints(config_cls)
    ranges = {}
    for f in dataclasses.fields(config_cls):
        for klass in config_cls.__mro__:
            if f.name not in inspect.get_annotations(klass):
                continue
            markers = _markers(_annotations(klass)[f.name])
            if markers:
                ranges[f.name] = FieldRange(markers, _admits_none(plain[f.name]))
                break
    return ranges


def check_ranges(config: Any) -> None:
    """Raises :class:`ConfigError` for the first field of ``config`` outside its declared range.

    Raises:
        ConfigError: For example "gamma must be in [0, 1], got 2.0".
    """
    for name, declared in field_ranges(type(config)).items():
        value = getattr(config, name)
        if not declared.holds(value):
            raise ConfigError(f"{name} must {declared.requirement()}, got {value!r:.80}")


def range_text(config_cls: type, name: str) -> str | None:
    """The range of field ``name`` in words, for help listings, or None if it declares none."""
    declared = field_ranges(config_cls).get(name)
    return declared.text() if declared else None


@cache
def _annotations(klass: type) -> dict[str, Any]:
    return typing.get_type_hints(klass, include_extras=True)


def _markers(tp: Any) -> tuple[Marker, ...]:
    if typing.get_origin(tp) is not Annotated:
        return ()
    return tuple(m for m in tp.__metadata__ if isinstance(m, _MARKERS))


def _admits_none(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in (
        typing.get_args(tp)
    )
