"""The hyperparameters of the tabular TD agents (no numba, no torch: ``arena list`` reads them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np

from arena.config import require
from arena.config_blocks import DecayConfig, ExplorationConfig
from arena.ranges import AtLeast, Between


@dataclass(frozen=True, kw_only=True)
class TabularConfig(ExplorationConfig, DecayConfig):
    """Hyperparameters of the tabular TD agents."""

    renamed: ClassVar[dict[str, str]] = {
        "alpha": "learning_rate",
        "epsilon_start": "exploration_initial_eps",
        "epsilon_end": "exploration_final_eps",
        "epsilon_decay_steps": "exploration_steps",
    }

    exploration_steps: int = 100_000
    learning_rate: Annotated[float, Between(0, 1, open_low=True)] = 0.1
    """The step size of the TD update (alpha) at the start."""
    gamma: Annotated[float, Between(0, 1)] = 0.99
    """The discount factor."""
    initial_q: float = 0.0
    """The initial value of every Q-table entry (optimistic values drive exploration)."""
    fast_path: bool = True
    """Learn in one compiled loop on the env's tabular model if it has one; False: step the env."""
    horizon: Annotated[int, AtLeast(0)] = 0
    """0: one Q-table for every step (no time index). H > 0: a Q-table per step of an H-step
    episode (set it to the env's time limit), so the policy can use the steps left, as the best
    policy under a time limit must (Pardo et al., 2018); the last step bootstraps nothing."""
    every_block: bool = False
    """With a horizon, update every step's block from each transition, as fixed-horizon TD
    does (De Asis et al., 2020): H times the updates per step, far fewer steps to learn.
    q-learning and expected-sarsa only (SARSA's target is the action really taken next)."""

    def __post_init__(self) -> None:
        require(
            self.horizon > 0 or not self.every_block,
            "every_block updates a time-indexed table: it needs horizon > 0",
        )
        require(math.isfinite(self.initial_q), f"initial_q must be finite, got {self.initial_q}")

    @classmethod
    def upgrade(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Format 1 kept an absolute final step size, ``alpha_end`` (None: constant), reached
        after ``alpha_decay_steps``; today's is a fraction of the learning rate."""
        if "alpha_end" not in values:
            values.pop("alpha_decay_steps", None)  # alpha_end's default, None, ignored it
            return values
        end, rate = values["alpha_end"], values.get("learning_rate", 0.1)
        if end is None:
            values.pop("alpha_end")
            values.pop("alpha_decay_steps", None)
        elif _number(end) and _number(rate) and rate > 0:
            values.pop("alpha_end")
            steps = values.pop("alpha_decay_steps", 100_000)
            if steps == 0:  # alpha_end from the first step on
                values["learning_rate"] = end
            else:
                values["learning_rate_final_fraction"] = end / rate
                values["learning_rate_decay_steps"] = steps
        return values  # anything else: build_config refuses the old key

    def final_learning_rate(self) -> float:
        """The step size from learning_rate_decay_steps on (the learning rate if it is 0)."""
        if self.learning_rate_decay_steps == 0:
            return self.learning_rate
        return self.learning_rate * self.learning_rate_final_fraction

    def hyperparameters(self) -> np.ndarray:
        """The schedules and gamma as the kernels' float64 array (see :mod:`.kernels`)."""
        return np.array(
            [
                self.learning_rate,
                self.final_learning_rate(),
                self.learning_rate_decay_steps,
                self.gamma,
                self.exploration_initial_eps,
                self.exploration_final_eps,
                self.exploration_steps,
            ],
            dtype=np.float64,
        )


def _number(value: Any) -> bool:
    """Whether a saved value is a real number (a JSON bool is not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
