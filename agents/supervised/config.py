"""The hyperparameters of the supervised agents (no torch: ``arena list`` reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from arena.config import require


@dataclass(frozen=True)
class PerceptronConfig:
    """Hyperparameters of the perceptron."""

    learning_rate: float = 1.0
    """How far a mistake moves the weights (Rosenblatt's rule converges for any value > 0)."""
    stop_when_converged: bool = True
    """Stop learning after the first epoch without a mistake, as Rosenblatt's algorithm does."""

    def __post_init__(self) -> None:
        require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")


@dataclass(frozen=True)
class NeuralConfig:
    """Hyperparameters that the MLP and the CNN share."""

    learning_rate: float = 1e-3
    """Adam's step size."""
    weight_decay: float = 0.0
    """AdamW's decoupled weight decay."""
    label_smoothing: float = 0.1
    """Share of each target's probability spread over the other classes (curbs overconfidence)."""
    early_stopping: bool = True
    """Stop when a held-out slice of the train split stops improving; keep the best weights."""
    validation_fraction: float = 0.1
    """The share of the train split held out for early stopping."""
    patience: int = 10
    """Epochs without a better validation score before learning stops."""

    def __post_init__(self) -> None:
        require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        require(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}")
        require(
            0 <= self.label_smoothing < 1,
            f"label_smoothing must be in [0, 1), got {self.label_smoothing}",
        )
        require(
            0 < self.validation_fraction < 1,
            f"validation_fraction must be in (0, 1), got {self.validation_fraction}",
        )
        require(self.patience >= 1, f"patience must be >= 1, got {self.patience}")


@dataclass(frozen=True)
class MLPConfig(NeuralConfig):
    """Hyperparameters of the MLP."""

    hidden_sizes: tuple[int, ...] = (256,)
    """Units in each hidden layer."""
    activation: Literal["relu", "tanh", "gelu"] = "relu"
    """The hidden layers' activation."""
    init_from: str | None = None
    """A checkpoint directory of an autoencoder (ae, sparse-ae, denoising-ae): the first hidden
    layers start from its encoder's layers (unsupervised pre-training), as many as match the
    encoder's widths in order (hidden_sizes (128,) takes the first of a 64-128-16 encoder,
    (128, 16) both); at least the first must. Read once, when learning starts at step 0."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            all(h >= 1 for h in self.hidden_sizes),
            f"hidden_sizes must be positive, got {self.hidden_sizes}",
        )


@dataclass(frozen=True)
class CNNConfig(NeuralConfig):
    """Hyperparameters of the CNN."""

    channels: tuple[int, ...] = (32, 64)
    """Channels of the two conv blocks (3x3 conv, ReLU, 2x2 max-pool each)."""
    hidden_size: int = 128
    """Units of the dense layer after the conv blocks."""
    augment: bool = False
    """Also learn from copies of each batch shifted by up to one pixel (twice the compute)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            len(self.channels) == 2 and all(c >= 1 for c in self.channels),
            f"channels must be two positive counts, got {self.channels}",
        )
        require(self.hidden_size >= 1, f"hidden_size must be >= 1, got {self.hidden_size}")
