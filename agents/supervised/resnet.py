"""The residual network agent of the classification game (no torch import: ``arena list``)."""

from __future__ import annotations

from typing import Any

from agents.supervised.common import Layout, layout
from agents.supervised.config import ResNetConfig
from agents.supervised.neural import NeuralAgent
from arena.sizes import FLOAT32, adam_bytes

MAPS_PER_BLOCK = 7
"""Feature maps a residual block keeps for the backward pass: two convs, two batch norms, two
ReLUs and the sum."""


class ResNet(NeuralAgent):
    """A residual network (He et al., 2016) for image data: residual blocks with batch norm.

    A 3x3 stem, then stages of residual blocks (``widths`` channels each, ``blocks`` per
    stage; each stage after the first halves the image through a strided block with a 1x1
    projection shortcut), global average pooling and a linear layer to the classes. It learns
    as the CNN does from the labels the game reveals; with ``augment`` it learns from shifted
    (and, with ``flip``, mirrored) copies of each batch, drawn from the agent's generator.
    """

    Config = ResNetConfig
    presets = "resnet_presets.toml"
    needs_image = True

    @classmethod
    def memory_needed(
        cls, config: ResNetConfig, observation_space: Any, action_space: Any
    ) -> dict[str, int]:
        """The network with AdamW's copies (and the best epoch's weights, with early
        stopping), and a batch's feature maps and their gradients (augmented or not: one
        forward pass a step)."""
        found = layout(observation_space, action_space)
        height, width = found.feature_shape
        maps = 3 * config.widths[0] * height * width  # the stem's conv, batch norm and ReLU
        for stage, channels in enumerate(config.widths):
            if stage:
                height, width = -(-height // 2), -(-width // 2)
                maps += 2 * channels * height * width  # the projection's conv and batch norm
            maps += config.blocks * MAPS_PER_BLOCK * channels * height * width
        sample = maps + config.widths[-1] + found.n_classes
        activations = 2 * found.batch_size * sample * FLOAT32
        params = cls.parameter_count(config, found)
        best = params * FLOAT32 if config.early_stopping else 0
        what = f"network (widths={list(config.widths)}, blocks={config.blocks})"
        return {what: adam_bytes(params) + best + activations}

    @classmethod
    def parameter_count(cls, config: ResNetConfig, found: Layout) -> int:
        """Weights, and each batch norm's scale, shift and running statistics."""
        count = 9 * config.widths[0] + 4 * config.widths[0]
        previous = config.widths[0]
        for stage, channels in enumerate(config.widths):
            if stage or channels != previous:
                count += previous * channels + 4 * channels  # the projection shortcut
            count += 9 * previous * channels + 9 * channels * channels + 8 * channels
            count += (config.blocks - 1) * (18 * channels * channels + 8 * channels)
            previous = channels
        return count + (config.widths[-1] + 1) * found.n_classes
