"""Ranges declared with config fields: checked on every construction path, in today's words."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from arena.config import build_config, describe, require
from arena.config_blocks import ConfigBase
from arena.errors import ConfigError
from arena.ranges import (
    Above,
    AtLeast,
    Between,
    Each,
    Length,
    check_ranges,
    field_ranges,
    range_text,
)
from arena.registry import agent_class, agent_plugins


@dataclass(frozen=True, kw_only=True)
class Ranged(ConfigBase):
    """A config with one field of each kind of range."""

    learning_rate: Annotated[float, Above(0)] = 1e-3
    """Step size."""
    batch_size: Annotated[int, AtLeast(1)] = 32
    gamma: Annotated[float, Between(0, 1)] = 0.99
    tau: Annotated[float, Between(0, 1, open_low=True)] = 1.0
    smoothing: Annotated[float, Between(0, 1, open_high=True)] = 0.1
    alpha_end: Annotated[float | None, Between(0, 1, open_low=True)] = None
    hidden_sizes: Annotated[tuple[int, ...], Each(AtLeast(1)), Length(1)] = (64, 64)
    channels: Annotated[tuple[int, ...], Each(AtLeast(1)), Length(2, 2)] = (32, 64)
    heads: Annotated[int, AtLeast(1)] = 1
    width: int = 4

    def __post_init__(self) -> None:
        require(self.width % self.heads == 0, f"heads must divide width, got {self.heads}")


BAD = [
    ({"learning_rate": -1.0}, "learning_rate must be > 0, got -1.0"),
    ({"learning_rate": 0.0}, "learning_rate must be > 0, got 0.0"),
    ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
    ({"gamma": 2.0}, "gamma must be in [0, 1], got 2.0"),
    ({"tau": 0.0}, "tau must be in (0, 1], got 0.0"),
    ({"smoothing": 1.0}, "smoothing must be in [0, 1), got 1.0"),
    ({"alpha_end": 0.0}, "alpha_end must be in (0, 1] or None, got 0.0"),
    ({"hidden_sizes": (0,)}, "hidden_sizes must list one or more values >= 1, got (0,)"),
    ({"hidden_sizes": ()}, "hidden_sizes must list one or more values >= 1, got ()"),
    ({"channels": (4,)}, "channels must list 2 values >= 1, got (4,)"),
]


@pytest.mark.parametrize(("values", "message"), BAD)
def test_a_value_out_of_range_is_refused_when_built_in_python(values, message):
    with pytest.raises(ConfigError) as info:
        Ranged(**values)
    assert str(info.value) == message


@pytest.mark.parametrize(("values", "message"), BAD)
def test_a_value_out_of_range_is_refused_by_build_config(values, message):
    with pytest.raises(ConfigError) as info:
        build_config(Ranged, values, source="toy config")
    assert str(info.value) == f"toy config: {message}"


def test_a_typed_string_out_of_range_gets_the_same_message():
    with pytest.raises(ConfigError, match=r"^--set: learning_rate must be > 0, got -1.0$"):
        build_config(Ranged, {"learning_rate": "-1"}, source="--set")


def test_values_in_range_and_none_pass():
    config = Ranged(learning_rate=1.0, gamma=0.0, tau=1.0, alpha_end=None, hidden_sizes=(1,))
    assert config.hidden_sizes == (1,)
    assert Ranged(alpha_end=1.0).alpha_end == 1.0


def test_a_value_of_the_wrong_type_in_python_is_a_config_error():
    with pytest.raises(ConfigError, match="learning_rate must be > 0, got 'fast'"):
        Ranged(learning_rate="fast")


def test_ranges_are_checked_before_the_rules_between_fields():
    # heads=0 would divide by zero in __post_init__ if the range were not checked first.
    with pytest.raises(ConfigError, match="heads must be >= 1, got 0"):
        Ranged(heads=0)
    with pytest.raises(ConfigError, match="heads must divide width"):
        Ranged(heads=3)


@dataclass(frozen=True, kw_only=True)
class NewDefault(Ranged):
    """Changes a default with the plain type: the base's range still holds."""

    learning_rate: float = 0.5
    gamma: Annotated[float, Between(0.5, 1)] = 0.9

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.batch_size != 13, "batch_size 13 is unlucky")


def test_a_subclass_keeps_or_narrows_its_bases_ranges():
    assert NewDefault().learning_rate == 0.5
    with pytest.raises(ConfigError, match="learning_rate must be > 0"):
        NewDefault(learning_rate=-1.0)
    with pytest.raises(ConfigError, match=r"gamma must be in \[0.5, 1\], got 0.2"):
        NewDefault(gamma=0.2)
    with pytest.raises(ConfigError, match="heads must divide width"):  # the base's rule
        NewDefault(heads=3)
    with pytest.raises(ConfigError, match="unlucky"):
        NewDefault(batch_size=13)


def test_ranges_are_checked_once_per_construction(monkeypatch):
    import arena.config_blocks

    calls = []
    monkeypatch.setattr(arena.config_blocks, "check_ranges", lambda c: calls.append(c))
    NewDefault()
    assert len(calls) == 1


@dataclass(frozen=True, kw_only=True)
class NoPostInit(ConfigBase):
    steps: Annotated[int, AtLeast(0)] = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Slotted(ConfigBase):
    steps: Annotated[int, AtLeast(0)] = 0

    def __post_init__(self) -> None:
        require(self.steps != 5, "not 5")


def test_ranges_hold_without_a_post_init_and_with_slots():
    with pytest.raises(ConfigError, match="steps must be >= 0, got -1"):
        NoPostInit(steps=-1)
    with pytest.raises(ConfigError, match="steps must be >= 0, got -1"):
        Slotted(steps=-1)
    with pytest.raises(ConfigError, match="not 5"):
        Slotted(steps=5)


@dataclass(frozen=True)
class PlainDataclass:
    """A plugin's config that does not derive from ConfigBase: check_ranges still reads it."""

    rate: Annotated[float, Above(0)] = 1.0

    def __post_init__(self) -> None:
        check_ranges(self)


def test_check_ranges_works_on_any_dataclass():
    with pytest.raises(ConfigError, match=r"rate must be > 0, got 0\.0"):
        build_config(PlainDataclass, {"rate": 0})


def test_describe_shows_the_plain_type_and_the_range():
    rows = {r[0]: r for r in describe(Ranged)}
    assert rows["learning_rate"][1:] == ("float (> 0)", "0.001", "Step size.")
    assert rows["gamma"][1] == "float (in [0, 1])"
    assert rows["alpha_end"][1] == "float | None (in (0, 1])"
    assert rows["hidden_sizes"][1] == "tuple[int, ...] (one or more values >= 1)"
    assert rows["width"][1] == "int"
    assert range_text(Ranged, "width") is None
    assert range_text(NewDefault, "learning_rate") == "> 0"


def test_strings_are_parsed_by_the_plain_type():
    config = build_config(Ranged, {"hidden_sizes": "8,4", "batch_size": "1e3", "alpha_end": "none"})
    assert (config.hidden_sizes, config.batch_size, config.alpha_end) == ((8, 4), 1000, None)


def test_arena_list_does_not_import_the_config_modules_heavily():
    code = (
        "import sys, arena.config_blocks, arena.ranges, arena.schedules; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _outside(marker: Any) -> Any:
    """A value that ``marker`` refuses."""
    if isinstance(marker, Above):
        return marker.bound
    if isinstance(marker, AtLeast):
        return marker.bound - 1
    if isinstance(marker, Between):
        return marker.low - 1
    if isinstance(marker, Each):
        return (_outside(marker.bound),)
    return ()  # Length: checked with a low of 1 or more


def test_outside_values_are_refused_by_the_toy_config():
    for name, declared in field_ranges(Ranged).items():
        for marker in declared.markers:
            if isinstance(marker, Length) and marker.low == 0:
                continue
            with pytest.raises(ConfigError, match=f"^{name} must "):
                Ranged(**{name: _outside(marker)})


@pytest.mark.parametrize("name", sorted(agent_plugins()))
def test_every_registered_config_refuses_values_outside_its_declared_ranges(name):
    config_cls = agent_class(name).Config
    for field, declared in field_ranges(config_cls).items():
        for marker in declared.markers:
            if isinstance(marker, Length) and marker.low == 0:
                continue
            with pytest.raises(ConfigError, match=f"^{field} must "):
                config_cls(**{field: _outside(marker)})
