"""The sequence agents' hyperparameters, and how B streams sit in an env's spaces.

Neither imports torch: ``arena list`` reads the configs, and the networks import both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from arena.config import require
from arena.config_blocks import OptimizerConfig
from arena.ranges import AtLeast


@dataclass(frozen=True)
class Layout:
    """How B streams sit in an env's spaces.

    Attributes:
        streams: The number of streams ``B``.
        vocab: The number of input symbol ids, or None for numeric inputs.
        in_dim: Numbers per stream per step (numeric inputs), else 1.
        out: ``"class"`` (a symbol action), ``"value"`` (a number) or ``"scores"`` (a score
            per symbol).
        out_dim: The network's outputs per stream: the symbol count, or 1 for a value.
    """

    streams: int
    vocab: int | None
    in_dim: int
    out: str
    out_dim: int


@dataclass(frozen=True, kw_only=True)
class RecurrentConfig(OptimizerConfig):
    """Hyperparameters of the recurrent agents (rnn, lstm, gru)."""

    renamed: ClassVar[dict[str, str]] = {"grad_clip": "max_grad_norm"}

    hidden_size: Annotated[int, AtLeast(1)] = 64
    """Units in each recurrent layer (every layer has this one width)."""
    num_layers: Annotated[int, AtLeast(1)] = 1
    """Stacked recurrent layers."""
    embedding_dim: Annotated[int, AtLeast(1)] = 16
    """Size of the learned embedding of each input symbol (symbol streams only)."""
    window: Annotated[int, AtLeast(1)] = 50
    """Truncated BPTT: learn every this many steps (and at episode ends), back through them."""
    learning_rate: float = 3e-3
    """Adam's step size."""
    max_grad_norm: float | None = 1.0
    """Clip the gradients' global norm to this before each step; None: no clipping."""


@dataclass(frozen=True, kw_only=True)
class TransformerConfig(OptimizerConfig):
    """Hyperparameters of the causal Transformer agent."""

    renamed: ClassVar[dict[str, str]] = {"grad_clip": "max_grad_norm"}

    context: Annotated[int, AtLeast(2)] = 64
    """K: each attention layer sees the last K positions (its own included)."""
    window: Annotated[int, AtLeast(1)] = 32
    """Learn every this many steps (and at episode ends), attending back to the cached context."""
    d_model: Annotated[int, AtLeast(1)] = 64
    """Width of the token embeddings and of the residual stream."""
    num_heads: Annotated[int, AtLeast(1)] = 4
    """Attention heads per layer; must divide d_model."""
    num_layers: Annotated[int, AtLeast(1)] = 2
    """Transformer blocks."""
    learning_rate: float = 1e-3
    """Adam's step size."""
    max_grad_norm: float | None = 1.0
    """Clip the gradients' global norm to this before each step; None: no clipping."""

    def __post_init__(self) -> None:
        require(
            self.d_model % self.num_heads == 0,
            f"num_heads must divide d_model, got d_model={self.d_model}, "
            f"num_heads={self.num_heads}",
        )
