"""Config dataclasses: parsing, checking and help text, from one source of truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from arena.config import (
    build_config,
    config_to_dict,
    describe,
    field_help,
    parse_assignments,
    require,
)
from arena.errors import ConfigError


@dataclass(frozen=True)
class Example:
    """An example config."""

    lr: float = 1e-3
    """Learning rate."""
    layers: tuple[int, ...] = (64, 64)
    """Hidden layer sizes."""
    loss: Literal["huber", "mse"] = "huber"
    """The loss."""
    clip: float | None = None
    """Gradient-norm clip, or None."""
    steps: int = 10
    double: bool = True

    def __post_init__(self) -> None:
        require(self.lr > 0, f"lr must be > 0, got {self.lr}")


def test_strings_are_parsed_by_field_type():
    raw = parse_assignments(
        ["lr=0.5", "layers=32,16", "loss=mse", "clip=none", "steps=1e4", "double=false"]
    )
    config = build_config(Example, raw)
    assert config == Example(0.5, (32, 16), "mse", None, 10000, False)
    assert config_to_dict(config)["layers"] == [32, 16]


def test_typed_values_from_toml_or_json_are_checked():
    assert build_config(Example, {"layers": [8], "steps": 3.0}).layers == (8,)
    with pytest.raises(ConfigError, match="not a valid int"):
        build_config(Example, {"steps": True})
    with pytest.raises(ConfigError, match="expected one of 'huber', 'mse'"):
        build_config(Example, {"loss": "l1"})


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(ConfigError) as info:
        build_config(Example, {"learning_rate": 1}, source="--set")
    assert "Known --set keys: clip, double, layers, loss, lr, steps" in str(info.value)


def test_range_checks_become_config_errors():
    with pytest.raises(ConfigError, match="lr must be > 0"):
        build_config(Example, {"lr": "-1"})


def test_malformed_assignment():
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["lr"])


def test_help_comes_from_field_docstrings():
    assert field_help(Example)["layers"] == "Hidden layer sizes."
    rows = {r[0]: r for r in describe(Example)}
    assert rows["clip"][1:] == ("float | None", "None", "Gradient-norm clip, or None.")
    assert rows["steps"][3] == ""
