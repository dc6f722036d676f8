"""The hyperparameters of the supervised agents (no torch: ``arena list`` reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from arena.config import require
from arena.config_blocks import ConfigBase, DecayConfig, NetworkConfig, OptimizerConfig
from arena.ranges import Above, AtLeast, Between, Each, Length


@dataclass(frozen=True, kw_only=True)
class PerceptronConfig(ConfigBase):
    """Hyperparameters of the perceptron."""

    learning_rate: Annotated[float, Above(0)] = 1.0
    """How far a mistake moves the weights (Rosenblatt's rule converges for any value > 0)."""
    stop_when_converged: bool = True
    """Stop learning after the first epoch without a mistake, as Rosenblatt's algorithm does."""


@dataclass(frozen=True, kw_only=True)
class NeuralConfig(OptimizerConfig):
    """Hyperparameters that the MLP and the CNN share (AdamW's step size and clipping from
    :class:`~arena.config_blocks.OptimizerConfig`)."""

    weight_decay: Annotated[float, AtLeast(0)] = 0.0
    """AdamW's decoupled weight decay."""
    label_smoothing: Annotated[float, Between(0, 1, open_high=True)] = 0.1
    """Share of each target's probability spread over the other classes (curbs overconfidence)."""
    early_stopping: bool = True
    """Stop when a held-out slice of the train split stops improving; keep the best weights."""
    validation_fraction: Annotated[float, Between(0, 1, open_low=True, open_high=True)] = 0.1
    """The share of the train split held out for early stopping."""
    patience: Annotated[int, AtLeast(1)] = 10
    """Epochs without a better validation score before learning stops."""


@dataclass(frozen=True, kw_only=True)
class MLPConfig(NetworkConfig, NeuralConfig):
    """Hyperparameters of the MLP."""

    hidden_sizes: Annotated[tuple[int, ...], Each(AtLeast(1))] = (256,)
    """Units in each hidden layer; none makes a linear model (softmax regression)."""
    activation: Literal["relu", "tanh", "gelu"] = "relu"
    """The hidden layers' activation."""
    init_from: str | None = None
    """A checkpoint directory of an autoencoder (ae, sparse-ae, denoising-ae): the first hidden
    layers start from its encoder's layers (unsupervised pre-training), as many as match the
    encoder's widths in order and learned with this mlp's ``activation``; at least the first
    must. The code layer is linear (sigmoid in sparse-ae), so a relu mlp with hidden_sizes
    (128,) or (128, 16) takes the first layer of a 64-128-16 encoder, not the code layer.
    The env must scale its inputs as the autoencoder's did, within its [0, 1] (digits:
    ``scale="minmax"``, not the default ``"standard"``), or learning refuses to start.
    Read once, when learning starts at step 0."""

    def __post_init__(self) -> None:
        require(
            self.init_from is None or self.init_from.strip() != "",
            "init_from is empty; give an autoencoder's checkpoint directory, or leave it out",
        )


@dataclass(frozen=True, kw_only=True)
class CNNConfig(NeuralConfig):
    """Hyperparameters of the CNN."""

    channels: Annotated[tuple[int, ...], Each(AtLeast(1)), Length(2, 2)] = (32, 64)
    """Channels of the two conv blocks (3x3 conv, ReLU, 2x2 max-pool each)."""
    hidden_size: Annotated[int, AtLeast(1)] = 128
    """Units of the dense layer after the conv blocks (one layer: one width)."""
    augment: bool = False
    """Also learn from copies of each batch shifted by up to one pixel (twice the compute)."""


@dataclass(frozen=True, kw_only=True)
class ResNetConfig(DecayConfig, NeuralConfig):
    """Hyperparameters of the residual network (its learning rate may decay linearly with the
    step count, :class:`~arena.config_blocks.DecayConfig`)."""

    widths: Annotated[tuple[int, ...], Each(Between(1, 1024)), Length(1, 6)] = (16, 32, 64)
    """Channels of each stage; every stage after the first halves the image's height and width
    (its first block's shortcut is then a 1x1 projection, the others' the identity)."""
    blocks: Annotated[int, Between(1, 32)] = 2
    """Residual blocks per stage (each: 3x3 conv, BN, ReLU, 3x3 conv, BN, plus the shortcut,
    ReLU); ``n`` blocks make He et al.'s ResNet-(6n+2) with three stages."""
    augment: bool = False
    """Answer and learn on randomly shifted copies of each training batch instead of the batch
    itself (one forward pass a step; acting outside training sees the images as they are)."""
    max_shift: Annotated[int, Between(0, 8)] = 2
    """With ``augment``, the most pixels an image is shifted by, in each direction."""
    flip: bool = False
    """With ``augment``, also mirror half the images left to right (clothes, not digits)."""
