"""The generative agents' hyperparameters (no torch: ``arena list`` reads them)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, ClassVar

from arena.config import require
from arena.config_blocks import DecayConfig, NetworkConfig, OptimizerConfig
from arena.ranges import Above, AtLeast, Between


@dataclasses.dataclass(frozen=True, kw_only=True)
class NetConfig(DecayConfig, NetworkConfig):
    """What every generative agent's networks share.

    Every learning rate decays by the one schedule of
    :class:`~arena.config_blocks.DecayConfig`: linearly with the agent's step count, across
    ``learn`` calls and checkpoints, from its configured value to
    ``learning_rate_final_fraction`` of it at ``learning_rate_decay_steps``, then it stays.
    """

    renamed: ClassVar[dict[str, str]] = {
        "lr_decay_steps": "learning_rate_decay_steps",
        "final_lr_fraction": "learning_rate_final_fraction",
    }

    hidden_sizes: tuple[int, ...] = (128, 128)
    """Hidden layer widths of each network (the VAE's decoder mirrors its encoder)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class GANConfig(NetConfig):
    """Hyperparameters of the non-saturating GAN."""

    renamed: ClassVar[dict[str, str]] = {
        "generator_lr": "generator_learning_rate",
        "discriminator_lr": "discriminator_learning_rate",
    }

    generator_learning_rate: Annotated[float, Above(0)] = 1e-3
    """Adam learning rate of the generator."""
    discriminator_learning_rate: Annotated[float, Above(0)] = 1e-3
    """Adam learning rate of the discriminator."""
    beta1: Annotated[float, Between(0, 1, open_high=True)] = 0.5
    """Adam's first-moment decay."""
    beta2: Annotated[float, Between(0, 1, open_high=True)] = 0.999
    """Adam's second-moment decay."""
    pack: Annotated[int, AtLeast(1)] = 1
    """PacGAN packing (Lin et al., 2018): the discriminator judges packs of this many samples
    of one kind, concatenated, which penalises mode collapse; 1 is the plain GAN. It must
    divide the env's batch size."""
    rejection_sampling: bool = False
    """Discriminator Rejection Sampling (Azadi et al., 2019) when generating (``act`` and
    ``sample``, not training): each sample is kept with the probability that the
    discriminator's density-ratio estimate gives it, and a rejected one is replaced by a fresh
    draw (its noise drawn from a generator seeded by the model's seed and the noise asked for,
    so the same noise gives the same samples). Needs ``pack = 1``."""
    drs_percentile: Annotated[float, Between(0, 100)] = 80.0
    """DRS's gamma: this percentile of F(x) over 10,000 burn-in samples; higher rejects more."""
    refine_steps: Annotated[int, AtLeast(0)] = 0
    """Discriminator gradient refinement when generating (``act`` and ``sample``, after DRS;
    the sample-space flow of DGflow, Ansari et al., 2021, without its noise term): each sample
    takes this many gradient-ascent steps on the discriminator's logit, x <- x +
    ``refine_step_size`` * grad D(x), which moves it towards where D sees real data. 0 is off.
    Deterministic; needs ``pack = 1``."""
    refine_step_size: Annotated[float, Above(0)] = 1e-3
    """The step size of the refinement, in the env's [-1, 1] coordinates per unit of gradient."""

    def __post_init__(self) -> None:
        require(
            not (self.rejection_sampling and self.pack > 1),
            "rejection_sampling needs pack = 1: a packed discriminator scores packs, not samples",
        )
        require(
            not (self.refine_steps and self.pack > 1),
            "refine_steps needs pack = 1: a packed discriminator scores packs, not samples",
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class WGANGPConfig(NetConfig):
    """Hyperparameters of WGAN-GP."""

    renamed: ClassVar[dict[str, str]] = {
        "generator_lr": "generator_learning_rate",
        "critic_lr": "critic_learning_rate",
    }

    generator_learning_rate: Annotated[float, Above(0)] = 5e-4
    """Adam learning rate of the generator."""
    critic_learning_rate: Annotated[float, Above(0)] = 5e-4
    """Adam learning rate of the critic."""
    beta1: Annotated[float, Between(0, 1, open_high=True)] = 0.5
    """Adam's first-moment decay."""
    beta2: Annotated[float, Between(0, 1, open_high=True)] = 0.9
    """Adam's second-moment decay."""
    gp_weight: Annotated[float, AtLeast(0)] = 10.0
    """Weight of the gradient penalty (lambda): 10 is the paper's image setting; its authors
    used 0.1 for their 2-D toy sets, which the mixture presets take (10 fails on them)."""
    critic_steps: Annotated[int, AtLeast(1)] = 5
    """Critic steps (env steps) per generator step."""
    refine_steps: Annotated[int, AtLeast(0)] = 0
    """Critic gradient refinement when generating (``act`` and ``sample``, not training): each
    sample takes this many gradient-ascent steps on the critic, x <- x + ``refine_step_size``
    * grad f(x). The critic's gradient points along the optimal transport from the generated
    to the real distribution (Gulrajani et al.), so this moves samples towards the data: the
    gradient form of Discriminator Optimal Transport (Tanaka, 2019) without its proximity term.
    0 is off; deterministic. ``agent.model.refine_steps = 0`` turns it off on a trained
    model."""
    refine_step_size: Annotated[float, Above(0)] = 1e-3
    """The step size of the refinement, in the env's [-1, 1] coordinates per unit of gradient."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class VAEConfig(NetConfig, OptimizerConfig):
    """Hyperparameters of the VAE (Adam's step size and clipping from
    :class:`~arena.config_blocks.OptimizerConfig`, for the encoder and decoder together)."""

    recon_std: Annotated[float, Above(0)] = 0.02
    """Standard deviation of the Gaussian likelihood, in the env's coordinates."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class BiGANConfig(NetConfig):
    """Hyperparameters of BiGAN/ALI and its ALICE cycle term."""

    generator_learning_rate: Annotated[float, Above(0)] = 1e-3
    """Adam learning rate of the generator and the encoder (one optimizer for both)."""
    discriminator_learning_rate: Annotated[float, Above(0)] = 1e-3
    """Adam learning rate of the discriminator of (sample, code) pairs."""
    beta1: Annotated[float, Between(0, 1, open_high=True)] = 0.5
    """Adam's first-moment decay."""
    beta2: Annotated[float, Between(0, 1, open_high=True)] = 0.999
    """Adam's second-moment decay."""
    cycle_weight: Annotated[float, AtLeast(0)] = 0.0
    """Weight of ALICE's cycle term (Li et al., 2017): the mean squared error, over the
    coordinates in the env's [-1, 1] scale, between a real batch and its reconstruction
    G(E(x)), added to the generator's and encoder's loss. 0 is plain BiGAN/ALI, whose
    reconstructions need not resemble their inputs (the adversarial game only matches the
    joint distributions). The mixture presets take 10, which on ring8 also keeps every mode
    (see ``bigan_presets.toml``)."""
