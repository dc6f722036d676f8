"""The MLP and CNN agents of the classification game.

This module stays light (no torch import) because ``arena list`` imports it; the networks and
the training step live in :mod:`agents.supervised.networks`, imported when an agent is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from agents.supervised.common import SupervisedAgent, layout
from arena.callbacks import Callback
from arena.config import require
from arena.sizes import FLOAT32, adam_bytes, dense_parameters


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


class NeuralAgent(SupervisedAgent):
    """A torch classifier trained with Adam on the labels the game reveals."""

    uses_torch = True

    def __init__(self, observation_space: Any, action_space: Any, **kwargs: Any) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        from agents.supervised.networks import Trainer

        self.trainer = Trainer(self)

    def predict(self, x_B: np.ndarray) -> np.ndarray:
        return self.trainer.predict(x_B)

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        self.play(env, steps, callback, self.trainer)
        self.learn_info = self.trainer.summary()

    def state(self) -> dict[str, Any]:
        return self.trainer.state()

    def extra_state(self) -> dict[str, Any]:
        return self.trainer.extra_state()

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.trainer.load_state(arrays, extra)


class MLP(NeuralAgent):
    """A multi-layer perceptron classifier: configurable layers, Adam, early stopping.

    It plays the classification game: each step it answers a batch, and it learns from the
    labels the env reveals (cross-entropy, Adam). Early stopping holds out a validation slice of
    the train split (samples it recognises by ``info["indices"]``), and keeps the best weights.
    """

    Config = MLPConfig
    presets = "mlp_presets.toml"

    @classmethod
    def memory_needed(
        cls, config: MLPConfig, observation_space: Any, action_space: Any
    ) -> dict[str, int]:
        """The network with AdamW's copies (and the best epoch's weights, with early
        stopping), and a batch's activations and their gradients."""
        found = layout(observation_space, action_space)
        widths = [math.prod(found.feature_shape), *config.hidden_sizes, found.n_classes]
        params = dense_parameters(widths)
        best = params * FLOAT32 if config.early_stopping else 0
        activations = 2 * found.batch_size * sum(widths) * FLOAT32
        what = f"network (hidden_sizes={list(config.hidden_sizes)})"
        return {what: adam_bytes(params) + best + activations}


class CNN(NeuralAgent):
    """A small convolutional classifier for image data: two conv blocks, then a dense layer.

    It plays the classification game on 2-D images (``arena/Digits-v0`` with
    ``flatten=False``), learning as the MLP does from the labels the env reveals; one-pixel
    shifts can augment the data (``augment=True``).
    """

    Config = CNNConfig
    presets = "cnn_presets.toml"
    needs_image = True

    @classmethod
    def memory_needed(
        cls, config: CNNConfig, observation_space: Any, action_space: Any
    ) -> dict[str, int]:
        """The network with AdamW's copies (and the best epoch's weights, with early
        stopping), and a batch's feature maps and their gradients (twice, with ``augment``)."""
        found = layout(observation_space, action_space)
        height, width = found.feature_shape
        first, second = config.channels
        half = -(-height // 2) * -(-width // 2)
        quarter = -(-height // 4) * -(-width // 4)
        dense = dense_parameters([second * quarter, config.hidden_size, found.n_classes])
        params = 10 * first + (9 * first + 1) * second + dense
        best = params * FLOAT32 if config.early_stopping else 0
        # conv and ReLU outputs at full size, pooled maps, then the second block's.
        maps = 2 * first * height * width + first * half + 2 * second * half + second * quarter
        sample = maps + config.hidden_size + found.n_classes
        activations = 2 * found.batch_size * sample * FLOAT32 * (2 if config.augment else 1)
        what = f"network (channels={list(config.channels)}, hidden_size={config.hidden_size})"
        return {what: adam_bytes(params) + best + activations}
