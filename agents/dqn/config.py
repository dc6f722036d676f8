"""The hyperparameters of the DQN agent (no torch: ``arena list`` reads them)."""

from __future__ import annotations

from dataclasses import dataclass

from arena.config import require


@dataclass(frozen=True)
class DQNConfig:
    """DQN's hyperparameters. Step counts are env steps, summed over a vector env's envs."""

    learning_rate: float = 1e-3
    """Adam's step size."""
    learning_rate_decay_steps: int = 0
    """The step at which the learning rate, decaying linearly, reaches learning_rate_final;
    0 keeps it constant. Absolute, like the epsilon schedule."""
    learning_rate_final: float = 0.0
    """The learning rate from learning_rate_decay_steps on (when that is not 0)."""
    buffer_size: int = 100_000
    """How many transitions the replay buffer keeps."""
    learning_starts: int = 1_000
    """Env steps before the first update."""
    batch_size: int = 128
    """Transitions per gradient step."""
    gamma: float = 0.99
    """The discount factor."""
    train_freq: int = 4
    """Env steps between update rounds."""
    gradient_steps: int = 1
    """Gradient steps per update round."""
    target_update_interval: int = 1_000
    """Env steps between target-network updates."""
    tau: float = 1.0
    """Target update rate: 1 copies the online network (hard update), less is Polyak averaging."""
    double_q: bool = True
    """Double DQN: the online network picks the next action, the target network scores it."""
    dueling: bool = False
    """Dueling heads: Q = V + A - mean(A)."""
    n_step: int = 1
    """Bootstrap from the observation n steps ahead (n-step returns)."""
    prioritized: bool = False
    """Prioritized replay: sample transitions in proportion to |TD error| ** priority_alpha."""
    priority_alpha: float = 0.6
    """How strongly priorities skew sampling (0 is uniform)."""
    priority_beta: float = 0.4
    """The importance-sampling exponent at step 0; it grows linearly to 1."""
    priority_beta_steps: int = 100_000
    """The step at which the importance-sampling exponent reaches 1."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the Q-network."""
    max_grad_norm: float = 10.0
    """Gradients are clipped to this global norm."""
    exploration_initial_eps: float = 1.0
    """Epsilon (the random-action probability) at step 0."""
    exploration_final_eps: float = 0.05
    """Epsilon from exploration_steps on."""
    exploration_steps: int = 10_000
    """The step at which epsilon reaches its final value; absolute, so --resume continues it."""

    def __post_init__(self) -> None:
        require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        require(
            self.learning_rate_decay_steps >= 0,
            f"learning_rate_decay_steps must be >= 0, got {self.learning_rate_decay_steps}",
        )
        require(
            self.learning_rate_final >= 0,
            f"learning_rate_final must be >= 0, got {self.learning_rate_final}",
        )
        require(self.buffer_size >= 1, f"buffer_size must be >= 1, got {self.buffer_size}")
        require(
            self.learning_starts >= 0, f"learning_starts must be >= 0, got {self.learning_starts}"
        )
        require(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
        require(0.0 <= self.gamma <= 1.0, f"gamma must be in [0, 1], got {self.gamma}")
        require(self.train_freq >= 1, f"train_freq must be >= 1, got {self.train_freq}")
        require(self.gradient_steps >= 1, f"gradient_steps must be >= 1, got {self.gradient_steps}")
        require(
            self.target_update_interval >= 1,
            f"target_update_interval must be >= 1, got {self.target_update_interval}",
        )
        require(0.0 < self.tau <= 1.0, f"tau must be in (0, 1], got {self.tau}")
        require(self.n_step >= 1, f"n_step must be >= 1, got {self.n_step}")
        require(self.priority_alpha >= 0, f"priority_alpha must be >= 0, got {self.priority_alpha}")
        require(
            0.0 <= self.priority_beta <= 1.0,
            f"priority_beta must be in [0, 1], got {self.priority_beta}",
        )
        require(
            self.priority_beta_steps >= 0,
            f"priority_beta_steps must be >= 0, got {self.priority_beta_steps}",
        )
        require(
            len(self.hidden) >= 1 and all(h >= 1 for h in self.hidden),
            f"hidden must list one or more sizes >= 1, got {self.hidden}",
        )
        require(self.max_grad_norm > 0, f"max_grad_norm must be > 0, got {self.max_grad_norm}")
        for name in ("exploration_initial_eps", "exploration_final_eps"):
            value = getattr(self, name)
            require(0.0 <= value <= 1.0, f"{name} must be in [0, 1], got {value}")
        require(
            self.exploration_steps >= 0,
            f"exploration_steps must be >= 0, got {self.exploration_steps}",
        )
