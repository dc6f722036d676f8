"""The hyperparameters of the DQN agent (no torch: ``arena list`` reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from arena.config_blocks import DecayConfig, ExplorationConfig, NetworkConfig, OptimizerConfig
from arena.ranges import AtLeast, Between


@dataclass(frozen=True, kw_only=True)
class DQNConfig(ExplorationConfig, NetworkConfig, DecayConfig, OptimizerConfig):
    """DQN's hyperparameters. Step counts are env steps, summed over a vector env's envs.

    The optimizer is Adam; the learning rate and epsilon follow their schedules by the absolute
    step count, so ``--resume`` continues them.
    """

    renamed: ClassVar[dict[str, str]] = {"hidden": "hidden_sizes"}

    max_grad_norm: float | None = 10.0
    buffer_size: Annotated[int, AtLeast(1)] = 100_000
    """How many transitions the replay buffer keeps."""
    learning_starts: Annotated[int, AtLeast(0)] = 1_000
    """Env steps before the first update."""
    batch_size: Annotated[int, AtLeast(1)] = 128
    """Transitions per gradient step."""
    gamma: Annotated[float, Between(0, 1)] = 0.99
    """The discount factor."""
    train_freq: Annotated[int, AtLeast(1)] = 4
    """Env steps between update rounds."""
    gradient_steps: Annotated[int, AtLeast(1)] = 1
    """Gradient steps per update round."""
    target_update_interval: Annotated[int, AtLeast(1)] = 1_000
    """Env steps between target-network updates."""
    tau: Annotated[float, Between(0, 1, open_low=True)] = 1.0
    """Target update rate: 1 copies the online network (hard update), less is Polyak averaging."""
    double_q: bool = True
    """Double DQN: the online network picks the next action, the target network scores it."""
    dueling: bool = False
    """Dueling heads: Q = V + A - mean(A)."""
    n_step: Annotated[int, AtLeast(1)] = 1
    """Bootstrap from the observation n steps ahead (n-step returns)."""
    prioritized: bool = False
    """Prioritized replay: sample transitions in proportion to |TD error| ** priority_alpha."""
    priority_alpha: Annotated[float, AtLeast(0)] = 0.6
    """How strongly priorities skew sampling (0 is uniform)."""
    priority_beta: Annotated[float, Between(0, 1)] = 0.4
    """The importance-sampling exponent at step 0; it grows linearly to 1."""
    priority_beta_steps: Annotated[int, AtLeast(0)] = 100_000
    """The step at which the importance-sampling exponent reaches 1."""

    @classmethod
    def upgrade(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Format 1 kept an absolute final learning rate, ``learning_rate_final``; today's is a
        fraction of the learning rate (a final rate above it is refused by the fraction's range).
        """
        if "learning_rate_final" not in values:
            return values
        final, rate = values["learning_rate_final"], values.get("learning_rate", 1e-3)
        if not values.get("learning_rate_decay_steps"):  # a constant rate never read it
            values.pop("learning_rate_final")
        elif _number(final) and _number(rate) and rate > 0:
            values["learning_rate_final_fraction"] = values.pop("learning_rate_final") / rate
        return values  # anything else: build_config refuses the old key


def _number(value: Any) -> bool:
    """Whether a saved value is a real number (a JSON bool is not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
