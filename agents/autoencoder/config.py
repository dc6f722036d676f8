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


DEFAULT_WEIGHTS = {"kl": 0.03, "l1": 1e-3}
"""Each penalty's weight when ``sparsity_weight`` is None. Measured on digits (seed 0, the
preset's 10,000 steps, 64 sigmoid codes): ``kl`` at 0.03 reaches a mean activation of 0.050
(rho) with test MSE 0.0036; ``l1`` at 1e-3 a mean activation of 0.016 with MSE 0.0049 and a
linear probe of 0.961 (at 0.03 every code unit was off: MSE 0.074, probe 0.26; at 3e-3, MSE
0.013)."""


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
    sparsity_weight: Annotated[float | None, AtLeast(0)] = None
    """The penalty's weight beside the reconstruction error (beta); 0 turns it off. None takes
    the penalty's own default, 0.03 for ``kl`` and 0.001 for ``l1``: the two differ in scale,
    and 0.03 on ``l1`` switches every code unit off."""

    @property
    def penalty_weight(self) -> float:
        """The sparsity penalty's weight in use: ``sparsity_weight``, or the penalty's
        default."""
        if self.sparsity_weight is not None:
            return self.sparsity_weight
        return DEFAULT_WEIGHTS[self.sparsity]


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
