"""The shared config blocks and the one schedule helper."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated

import pytest

from arena.config import build_config, describe
from arena.config_blocks import (
    DecayConfig,
    ExplorationConfig,
    NetworkConfig,
    OptimizerConfig,
)
from arena.errors import ConfigError
from arena.ranges import Between
from arena.schedules import linear


@dataclass(frozen=True, kw_only=True)
class Mixed(OptimizerConfig, DecayConfig, NetworkConfig, ExplorationConfig):
    """A family's config made of every block, with its own field and a new default."""

    max_grad_norm: float | None = 10.0
    gamma: Annotated[float, Between(0, 1)] = 0.99
    """The discount factor."""


def test_blocks_mix_with_defaults_in_any_order():
    config = Mixed()
    names = {f.name for f in dataclasses.fields(config)}
    assert {"learning_rate", "max_grad_norm", "hidden_sizes", "exploration_steps"} <= names
    assert config.max_grad_norm == 10.0
    assert Mixed(max_grad_norm=None).max_grad_norm is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"learning_rate": 0}, "learning_rate must be > 0, got 0.0"),
        ({"max_grad_norm": -1}, "max_grad_norm must be > 0 or None, got -1.0"),
        ({"learning_rate_decay_steps": -1}, "learning_rate_decay_steps must be >= 0, got -1"),
        (
            {"learning_rate_final_fraction": 1.5},
            "learning_rate_final_fraction must be in [0, 1], got 1.5",
        ),
        ({"hidden_sizes": [0]}, "hidden_sizes must list one or more values >= 1, got (0,)"),
        ({"exploration_final_eps": 2}, "exploration_final_eps must be in [0, 1], got 2.0"),
        ({"exploration_steps": -5}, "exploration_steps must be >= 0, got -5"),
        ({"gamma": -0.1}, "gamma must be in [0, 1], got -0.1"),
    ],
)
def test_the_blocks_ranges_hold_in_a_family_config(values, message):
    with pytest.raises(ConfigError) as info:
        build_config(Mixed, values, source="x config")
    assert str(info.value) == f"x config: {message}"


def test_every_block_field_has_help_and_a_range():
    for row in describe(Mixed):
        name, tp, _, text = row
        assert "(" in tp, f"{name} declares no range"
        assert text, f"{name} has no help"


def test_the_schedules_of_the_blocks():
    explore = ExplorationConfig(
        exploration_initial_eps=1.0, exploration_final_eps=0.1, exploration_steps=10
    )
    assert [explore.exploration_eps(t) for t in (0, 5, 10, 99)] == [1.0, 0.55, 0.1, 0.1]
    decay = DecayConfig(learning_rate_decay_steps=100, learning_rate_final_fraction=0.5)
    assert [decay.learning_rate_fraction(t) for t in (0, 50, 100, 1000)] == [1.0, 0.75, 0.5, 0.5]
    assert DecayConfig().learning_rate_fraction(10**9) == 1.0  # 0 steps: constant


def test_linear_goes_from_start_to_end_then_stays():
    assert linear(1.0, 0.1, 0, 10) == 1.0
    assert linear(1.0, 0.1, 5, 10) == pytest.approx(0.55)
    assert linear(1.0, 0.1, 10, 10) == 0.1
    assert linear(1.0, 0.1, 11, 10) == 0.1
    assert linear(0.0, 1.0, 3, 0) == 1.0  # no steps: the end from the start
    assert linear(0.4, 1.0, 1, 4.0) == pytest.approx(0.55)  # float steps, as a kernel passes


def test_numba_compiles_linear_and_agrees_with_python():
    numba = pytest.importorskip("numba")
    compiled = numba.njit(cache=False)(linear)
    for start, end, t, steps in [(1.0, 0.1, 5, 10), (0.5, 0.0, 3, 7.0), (1.0, 0.05, 20, 10)]:
        assert compiled(start, end, t, steps) == linear(start, end, t, steps)


def test_network_default_and_range_text():
    assert NetworkConfig().hidden_sizes == (64, 64)
    rows = {r[0]: r for r in describe(NetworkConfig)}
    assert rows["hidden_sizes"][1] == "tuple[int, ...] (one or more values >= 1)"
