"""The hyperparameters of the tabular TD agents (no numba, no torch: ``arena list`` reads them)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arena.config import require


@dataclass(frozen=True)
class TabularConfig:
    """Hyperparameters of the tabular TD agents."""

    alpha: float = 0.1
    """The learning rate (step size) at the start."""
    alpha_end: float | None = None
    """The learning rate after alpha_decay_steps steps, reached linearly; None keeps alpha."""
    alpha_decay_steps: int = 100_000
    """Steps over which the learning rate goes from alpha to alpha_end."""
    gamma: float = 0.99
    """The discount factor."""
    epsilon_start: float = 1.0
    """The exploration rate of the epsilon-greedy behaviour at the start."""
    epsilon_end: float = 0.05
    """The exploration rate after epsilon_decay_steps steps, reached linearly."""
    epsilon_decay_steps: int = 100_000
    """Steps over which epsilon goes from epsilon_start to epsilon_end."""
    initial_q: float = 0.0
    """The initial value of every Q-table entry (optimistic values drive exploration)."""
    fast_path: bool = True
    """Learn in one compiled loop on the env's tabular model if it has one; False: step the env."""
    horizon: int = 0
    """0: one Q-table for every step. H > 0: a Q-table per step of an H-step episode (set it to
    the env's time limit), so the policy can use the steps left, as the best policy under a time
    limit must (Pardo et al., 2018); the last step bootstraps nothing."""
    every_block: bool = False
    """With a horizon, update every step's block from each transition, as fixed-horizon TD
    does (De Asis et al., 2020): H times the updates per step, far fewer steps to learn.
    q-learning and expected-sarsa only (SARSA's target is the action really taken next)."""

    def __post_init__(self) -> None:
        require(0.0 < self.alpha <= 1.0, f"alpha must be in (0, 1], got {self.alpha}")
        require(
            self.alpha_end is None or 0.0 < self.alpha_end <= 1.0,
            f"alpha_end must be in (0, 1] or None, got {self.alpha_end}",
        )
        require(0.0 <= self.gamma <= 1.0, f"gamma must be in [0, 1], got {self.gamma}")
        for name in ("epsilon_start", "epsilon_end"):
            value = getattr(self, name)
            require(0.0 <= value <= 1.0, f"{name} must be in [0, 1], got {value}")
        for name in ("alpha_decay_steps", "epsilon_decay_steps"):
            value = getattr(self, name)
            require(value >= 0, f"{name} must be >= 0, got {value}")
        require(self.horizon >= 0, f"horizon must be >= 0 (0: no time index), got {self.horizon}")
        require(
            self.horizon > 0 or not self.every_block,
            "every_block updates a time-indexed table: it needs horizon > 0",
        )
        require(math.isfinite(self.initial_q), f"initial_q must be finite, got {self.initial_q}")

    def hyperparameters(self) -> np.ndarray:
        """The schedules and gamma as the kernels' float64 array (see :mod:`.kernels`)."""
        alpha_end = self.alpha if self.alpha_end is None else self.alpha_end
        return np.array(
            [
                self.alpha,
                alpha_end,
                self.alpha_decay_steps,
                self.gamma,
                self.epsilon_start,
                self.epsilon_end,
                self.epsilon_decay_steps,
            ],
            dtype=np.float64,
        )
