"""The hyperparameters of the graph agents (no torch: ``arena list`` reads them)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from arena.config_blocks import OptimizerConfig
from arena.ranges import AtLeast, Between

MAX_LAYERS = 64
"""The deepest network: every layer reaches one hop further, and graphs of interest are a few
hops wide, so more layers are a typo (a deep stack also runs for hours before any check fails)."""
MAX_HEADS = 256
"""The most attention heads of one layer."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class GraphConfig(OptimizerConfig):
    """Hyperparameters that every graph agent shares (Kipf and Welling's defaults)."""

    learning_rate: float = 0.01
    """Adam's step size."""
    weight_decay: Annotated[float, AtLeast(0)] = 5e-4
    """Adam's L2 penalty on every weight (coupled, as in the GCN paper)."""
    hidden_size: Annotated[int, AtLeast(1)] = 16
    """Units of each hidden layer (per attention head, for ``gat``)."""
    layers: Annotated[int, Between(1, MAX_LAYERS)] = 2
    """Layers, the output layer included: each one reaches one hop further."""
    dropout: Annotated[float, Between(0, 1, open_high=True)] = 0.5
    """The probability of zeroing an input of each layer while learning."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class GATConfig(GraphConfig):
    """Hyperparameters of the graph attention network (Velickovic et al.'s defaults)."""

    hidden_size: Annotated[int, AtLeast(1)] = 8
    """Units of each attention head of the hidden layers."""
    heads: Annotated[int, Between(1, MAX_HEADS)] = 8
    """Attention heads of each hidden layer, concatenated; the output layer has one."""
    learning_rate: float = 0.005
    """Adam's step size."""
