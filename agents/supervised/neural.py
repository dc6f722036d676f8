"""The MLP and CNN agents of the classification game.

This module stays light (no torch import) because ``arena list`` imports it; the networks and
the training step live in :mod:`.networks`, imported when an agent is built.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from agents.supervised.common import Layout, SupervisedAgent, layout
from agents.supervised.config import CNNConfig, MLPConfig
from arena.callbacks import Callback
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

MAX_SPLIT_SAMPLES = 2**20
"""The largest train split whose held-out samples a checkpoint may hold (with early stopping)."""


class NeuralAgent(SupervisedAgent):
    """A torch classifier trained with Adam on the labels the game reveals."""

    uses_torch = True

    def __init__(self, observation_space: Any, action_space: Any, **kwargs: Any) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        from agents.supervised.networks import Trainer

        self.trainer = Trainer(self, self.config, self.layout)
        self.learner = self.trainer

    @classmethod
    def parameter_count(cls, config: MLPConfig | CNNConfig, found: Layout) -> int:
        """The network's parameters, for this config and layout."""
        raise NotImplementedError

    def predict(self, x_B: np.ndarray) -> np.ndarray:
        return self.trainer.predict(x_B)

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        super()._learn(env, steps, callback)
        self.learn_info.update(self.trainer.summary())

    def state(self) -> dict[str, Any]:
        return self.trainer.state()

    def extra_state(self) -> dict[str, Any]:
        return self.trainer.extra_state()

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.trainer.load_state(arrays, extra)

    def state_allowance(self) -> int:
        """What learning adds to the state: the optimizer's moments, which appear at its first
        step, and with early stopping two more copies of the weights (the best epoch's, and
        those training goes on from) and the held-out mask, samples and labels of a train
        split of up to :data:`MAX_SPLIT_SAMPLES` samples."""
        from arena.torch_utils import optimizer_state_bytes

        moments = optimizer_state_bytes(self.trainer.optimizer)
        if not self.config.early_stopping:
            return moments
        copies = 2 * self.parameter_count(self.config, self.layout) * FLOAT32
        held_out = round(self.config.validation_fraction * MAX_SPLIT_SAMPLES)
        per_sample = math.prod(self.layout.feature_shape) * FLOAT32 + 8 + 1
        return moments + copies + MAX_SPLIT_SAMPLES + held_out * per_sample


class MLP(NeuralAgent):
    """A multi-layer perceptron classifier: configurable layers, Adam, early stopping.

    It plays the classification game: each step it answers a batch, and it learns from the
    labels the env reveals (cross-entropy, Adam). Early stopping holds out a validation slice of
    the train split (samples it recognises by ``info["indices"]``), and keeps the best weights.
    """

    Config = MLPConfig
    presets = "mlp_presets.toml"

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        if self.config.init_from is not None and self.num_timesteps == 0:
            self.trainer.start_from_encoder(self.config.init_from)
        super()._learn(env, steps, callback)

    @classmethod
    def memory_needed(
        cls, config: MLPConfig, observation_space: Any, action_space: Any
    ) -> dict[str, int]:
        """The network with AdamW's copies (and the best epoch's weights, with early
        stopping), and a batch's activations and their gradients."""
        found = layout(observation_space, action_space)
        widths = [math.prod(found.feature_shape), *config.hidden_sizes, found.n_classes]
        params = cls.parameter_count(config, found)
        best = params * FLOAT32 if config.early_stopping else 0
        activations = 2 * found.batch_size * sum(widths) * FLOAT32
        what = f"network (hidden_sizes={list(config.hidden_sizes)})"
        return {what: adam_bytes(params) + best + activations}

    @classmethod
    def parameter_count(cls, config: MLPConfig, found: Layout) -> int:
        widths = [math.prod(found.feature_shape), *config.hidden_sizes, found.n_classes]
        return dense_parameters(widths)


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
        params = cls.parameter_count(config, found)
        best = params * FLOAT32 if config.early_stopping else 0
        # conv and ReLU outputs at full size, pooled maps, then the second block's.
        maps = 2 * first * height * width + first * half + 2 * second * half + second * quarter
        sample = maps + config.hidden_size + found.n_classes
        activations = 2 * found.batch_size * sample * FLOAT32 * (2 if config.augment else 1)
        what = f"network (channels={list(config.channels)}, hidden_size={config.hidden_size})"
        return {what: adam_bytes(params) + best + activations}

    @classmethod
    def parameter_count(cls, config: CNNConfig, found: Layout) -> int:
        height, width = found.feature_shape
        first, second = config.channels
        quarter = -(-height // 4) * -(-width // 4)
        dense = dense_parameters([second * quarter, config.hidden_size, found.n_classes])
        return 10 * first + (9 * first + 1) * second + dense
