"""The hyperparameters of ``cgan`` and ``infogan`` (no torch: ``arena list`` reads them)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from agents.generative.config import NetConfig
from arena.ranges import Above, AtLeast, Between


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdversarialConfig(NetConfig):
    """A generator and a discriminator, each with its own Adam."""

    generator_learning_rate: Annotated[float, Above(0)] = 1e-3
    """Adam learning rate of the generator."""
    discriminator_learning_rate: Annotated[float, Above(0)] = 1e-3
    """Adam learning rate of the discriminator."""
    beta1: Annotated[float, Between(0, 1, open_high=True)] = 0.5
    """Adam's first-moment decay."""
    beta2: Annotated[float, Between(0, 1, open_high=True)] = 0.999
    """Adam's second-moment decay."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class CGANConfig(AdversarialConfig):
    """Hyperparameters of the conditional GAN: the GAN's, and the labels go to both networks as
    one-hot vectors beside their input."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class InfoGANConfig(AdversarialConfig):
    """Hyperparameters of InfoGAN."""

    discriminator_learning_rate: Annotated[float, Above(0)] = 1e-3
    """Adam learning rate of the discriminator and the Q head. InfoGAN's paper took 2e-4 (and
    1e-3 for G) with conv nets; with these MLPs on the digits (6,000 steps, seed 0) 2e-4 lost 2
    classes and its code matched the digit class on 0.46 of the digits, 1e-3 covered all 10
    and matched 0.85."""
    categories: Annotated[int, Between(2, 1000)] = 10
    """Values of the categorical code c."""
    continuous_codes: Annotated[int, Between(0, 64)] = 2
    """Continuous codes, each uniform on [-1, 1]."""
    info_weight: Annotated[float, AtLeast(0)] = 1.0
    """Weight (lambda) of the categorical code's mutual-information term in the D/Q and G losses."""
    continuous_weight: Annotated[float, AtLeast(0)] = 0.1
    """Weight of the continuous codes' term (a Gaussian of unit variance around Q's mean)."""
