"""The generative agents' hyperparameters (no torch: ``arena list`` reads them)."""

from __future__ import annotations

import dataclasses

from arena.config import require


@dataclasses.dataclass(frozen=True)
class NetConfig:
    """What every generative agent's networks share."""

    hidden_sizes: tuple[int, ...] = (128, 128)
    """Hidden layer widths of each network (the VAE's decoder mirrors its encoder)."""
    lr_decay_steps: int = 0
    """The learning-rate schedule's horizon in env steps (0: constant learning rates). Rates
    decay linearly with the agent's step count, across ``learn`` calls and checkpoints, from
    their configured value to ``final_lr_fraction`` of it at this step, then stay there."""
    final_lr_fraction: float = 0.0
    """The fraction of each learning rate left at ``lr_decay_steps``."""

    def __post_init__(self) -> None:
        require(
            len(self.hidden_sizes) >= 1 and all(h >= 1 for h in self.hidden_sizes),
            f"hidden_sizes must be one or more positive widths, got {self.hidden_sizes}",
        )
        require(self.lr_decay_steps >= 0, f"lr_decay_steps must be >= 0, got {self.lr_decay_steps}")
        require(
            0 <= self.final_lr_fraction <= 1,
            f"final_lr_fraction must be in [0, 1], got {self.final_lr_fraction}",
        )


@dataclasses.dataclass(frozen=True)
class GANConfig(NetConfig):
    """Hyperparameters of the non-saturating GAN."""

    generator_lr: float = 1e-3
    """Adam learning rate of the generator."""
    discriminator_lr: float = 1e-3
    """Adam learning rate of the discriminator."""
    beta1: float = 0.5
    """Adam's first-moment decay."""
    beta2: float = 0.999
    """Adam's second-moment decay."""
    pack: int = 1
    """PacGAN packing (Lin et al., 2018): the discriminator judges packs of this many samples
    of one kind, concatenated, which penalises mode collapse; 1 is the plain GAN. It must
    divide the env's batch size."""
    rejection_sampling: bool = False
    """Discriminator Rejection Sampling (Azadi et al., 2019) when generating (``act`` and
    ``sample``, not training): each sample is kept with the probability that the
    discriminator's density-ratio estimate gives it, and a rejected one is replaced by a fresh
    draw (its noise drawn from a generator seeded by the model's seed and the noise asked for,
    so the same noise gives the same samples). Needs ``pack = 1``."""
    drs_percentile: float = 80.0
    """DRS's gamma: this percentile of F(x) over 10,000 burn-in samples; higher rejects more."""
    refine_steps: int = 0
    """Discriminator gradient refinement when generating (``act`` and ``sample``, after DRS;
    the sample-space flow of DGflow, Ansari et al., 2021, without its noise term): each sample
    takes this many gradient-ascent steps on the discriminator's logit, x <- x +
    ``refine_step_size`` * grad D(x), which moves it towards where D sees real data. 0 is off.
    Deterministic; needs ``pack = 1``."""
    refine_step_size: float = 1e-3
    """The step size of the refinement, in the env's [-1, 1] coordinates per unit of gradient."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("generator_lr", "discriminator_lr"):
            value = getattr(self, name)
            require(value > 0, f"{name} must be > 0, got {value}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            require(0 <= value < 1, f"{name} must be in [0, 1), got {value}")
        require(self.pack >= 1, f"pack must be >= 1, got {self.pack}")
        require(
            not (self.rejection_sampling and self.pack > 1),
            "rejection_sampling needs pack = 1: a packed discriminator scores packs, not samples",
        )
        require(self.refine_steps >= 0, f"refine_steps must be >= 0, got {self.refine_steps}")
        require(
            self.refine_step_size > 0,
            f"refine_step_size must be > 0, got {self.refine_step_size}",
        )
        require(
            not (self.refine_steps and self.pack > 1),
            "refine_steps needs pack = 1: a packed discriminator scores packs, not samples",
        )
        require(
            0 <= self.drs_percentile <= 100,
            f"drs_percentile must be in [0, 100], got {self.drs_percentile}",
        )


@dataclasses.dataclass(frozen=True)
class WGANGPConfig(NetConfig):
    """Hyperparameters of WGAN-GP."""

    generator_lr: float = 5e-4
    """Adam learning rate of the generator."""
    critic_lr: float = 5e-4
    """Adam learning rate of the critic."""
    beta1: float = 0.5
    """Adam's first-moment decay."""
    beta2: float = 0.9
    """Adam's second-moment decay."""
    gp_weight: float = 10.0
    """Weight of the gradient penalty (lambda): 10 is the paper's image setting; its authors
    used 0.1 for their 2-D toy sets, which the mixture presets take (10 fails on them)."""
    critic_steps: int = 5
    """Critic steps (env steps) per generator step."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("generator_lr", "critic_lr"):
            value = getattr(self, name)
            require(value > 0, f"{name} must be > 0, got {value}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            require(0 <= value < 1, f"{name} must be in [0, 1), got {value}")
        require(self.gp_weight >= 0, f"gp_weight must be >= 0, got {self.gp_weight}")
        require(self.critic_steps >= 1, f"critic_steps must be >= 1, got {self.critic_steps}")


@dataclasses.dataclass(frozen=True)
class VAEConfig(NetConfig):
    """Hyperparameters of the VAE."""

    learning_rate: float = 1e-3
    """Adam learning rate of the encoder and decoder."""
    recon_std: float = 0.02
    """Standard deviation of the Gaussian likelihood, in the env's coordinates."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        require(self.recon_std > 0, f"recon_std must be > 0, got {self.recon_std}")
