"""The sequence agents' hyperparameters, and how B streams sit in an env's spaces.

Neither imports torch: ``arena list`` reads the configs, and the networks import both.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.config import require


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


@dataclass(frozen=True)
class RecurrentConfig:
    """Hyperparameters of the recurrent agents (rnn, lstm, gru)."""

    hidden_size: int = 64
    """Units in each recurrent layer."""
    num_layers: int = 1
    """Stacked recurrent layers."""
    embedding_dim: int = 16
    """Size of the learned embedding of each input symbol (symbol streams only)."""
    window: int = 50
    """Truncated BPTT: learn every this many steps (and at episode ends), back through them."""
    learning_rate: float = 3e-3
    """Adam's step size."""
    grad_clip: float = 1.0
    """Clip the gradient's global norm to this."""

    def __post_init__(self) -> None:
        for name in ("hidden_size", "num_layers", "embedding_dim", "window"):
            value = getattr(self, name)
            require(value >= 1, f"{name} must be >= 1, got {value}")
        require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        require(self.grad_clip > 0, f"grad_clip must be > 0, got {self.grad_clip}")


@dataclass(frozen=True)
class TransformerConfig:
    """Hyperparameters of the causal Transformer agent."""

    context: int = 64
    """K: each attention layer sees the last K positions (its own included)."""
    window: int = 32
    """Learn every this many steps (and at episode ends), attending back to the cached context."""
    d_model: int = 64
    """Width of the token embeddings and of the residual stream."""
    num_heads: int = 4
    """Attention heads per layer; must divide d_model."""
    num_layers: int = 2
    """Transformer blocks."""
    learning_rate: float = 1e-3
    """Adam's step size."""
    grad_clip: float = 1.0
    """Clip the gradient's global norm to this."""

    def __post_init__(self) -> None:
        require(self.context >= 2, f"context must be >= 2, got {self.context}")
        for name in ("d_model", "num_heads", "num_layers", "window"):
            value = getattr(self, name)
            require(value >= 1, f"{name} must be >= 1, got {value}")
        require(
            self.d_model % self.num_heads == 0,
            f"num_heads must divide d_model, got d_model={self.d_model}, "
            f"num_heads={self.num_heads}",
        )
        require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        require(self.grad_clip > 0, f"grad_clip must be > 0, got {self.grad_clip}")
