"""The autoencoders' hyperparameters (no torch: ``arena list`` reads them)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from arena.config_blocks import NetworkConfig, OptimizerConfig
from arena.ranges import Above, AtLeast, Between


@dataclasses.dataclass(frozen=True, kw_only=True)
class AutoencoderConfig(OptimizerConfig, NetworkConfig):
    """Hyperparameters of the plain autoencoder; the others add theirs."""

    hidden_sizes: tuple[int, ...] = (128,)
    """The encoder's hidden widths, input side first; the decoder mirrors them."""
    code_size: Annotated[int, AtLeast(1)] = 16
    """Units of the code between the encoder and the decoder."""
    learning_rate: float = 3e-3
    """Adam's step size."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SparseConfig(AutoencoderConfig):
    """Hyperparameters of the sparse autoencoder, whose code units are sigmoids."""

    code_size: int = 64
    """Units of the code; wider than the plain autoencoder's, since few are on at a time."""

    sparsity: Literal["kl", "l1"] = "kl"
    """The penalty: ``kl`` sums KL(rho || mean activation) over the code units (Ng's sparse
    autoencoder notes); ``l1`` is the mean over the batch of each code's L1 norm."""
    rho: Annotated[float, Between(0, 1, open_low=True, open_high=True)] = 0.05
    """The target mean activation of each code unit (``kl`` only)."""
    sparsity_weight: Annotated[float, AtLeast(0)] = 0.03
    """The penalty's weight beside the reconstruction error (beta); 0 turns it off."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class DenoisingConfig(AutoencoderConfig):
    """Hyperparameters of the denoising autoencoder."""

    noise: Literal["mask", "gaussian", "salt-pepper"] = "mask"
    """The corruption it applies itself to inputs shown clean (an env without noise): ``mask``
    zeroes a fraction ``p`` of each input's entries, ``gaussian`` adds noise of std ``sigma``
    and clips to [0, 1], ``salt-pepper`` sets a fraction ``p`` to 0 or 1."""
    p: Annotated[float, Between(0, 1, open_low=True)] = 0.25
    """The fraction of entries that ``mask`` and ``salt-pepper`` corrupt."""
    sigma: Annotated[float, Above(0)] = 0.1
    """The std of ``gaussian`` noise."""
