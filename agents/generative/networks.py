"""The torch side of the generative agents: networks and one training step per env step.

:mod:`.agent` imports this module only inside methods, so ``arena list`` stays torch-free.
Each model takes numpy batches in the env's coordinates and returns numpy batches, so the agent
classes never touch torch.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.generative.config import GANConfig, NetConfig, VAEConfig, WGANGPConfig
from arena.torch_utils import load_optimizer_state, optimizer_state, resolve_device

GENERATE_CHUNK = 10_000
"""Samples decoded at once by :meth:`Model.generate`."""
DRS_BURN_IN = 10_000
"""Samples whose logits set DRS's D*_M and gamma."""
DRS_ROUNDS = 100
"""Redraws of a rejected sample before DRS gives up and keeps the last one."""
DRS_EPS = 1e-6
"""DRS's epsilon, which keeps log(1 - exp(.)) finite at the largest logit."""


def drs_f(logits: torch.Tensor, top: float) -> torch.Tensor:
    """DRS's F(x) = D(x) - D*_M - log(1 - exp(D(x) - D*_M - eps)), D(x) capped at D*_M."""
    shifted = logits.clamp(max=top) - top
    return shifted - torch.log1p(-torch.exp(shifted - DRS_EPS))


def mlp(
    sizes: list[int], activation: type[nn.Module], out: nn.Module | None = None
) -> nn.Sequential:
    """A fully connected network; ``activation`` between layers, ``out`` after the last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    if out is not None:
        layers.append(out)
    return nn.Sequential(*layers)


def ascend(score: nn.Module, samples: torch.Tensor, steps: int, step_size: float) -> torch.Tensor:
    """``steps`` gradient-ascent steps of each sample on ``score``: x <- x + step_size * grad."""
    with torch.enable_grad():
        for _ in range(steps):
            x = samples.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(score(x).sum(), x)
            samples = x + step_size * grad
    return samples.detach()


def adam(
    module: nn.Module, lr: float, betas: tuple[float, float], device: torch.device
) -> torch.optim.Adam:
    """Adam over a module's parameters, fused where torch has a fused kernel (twice as fast)."""
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(module.parameters(), lr, betas=betas, fused=fused or None)


class Model:
    """A generator (or decoder) with what trains it; subclasses define the networks and step.

    Args:
        config: The agent's config.
        dim: The size of one sample.
        latent_dim: The size of one noise vector.
        noise_bound: The env clips its noise to [-noise_bound, noise_bound] (its noise space's
            bounds); the model clips the noise it draws itself the same way.
        device: A torch device string or "auto".
        seed: Seeds the weights (on a forked global generator, left as it was) and the
            generator of the training noise.
    """

    networks: tuple[str, ...] = ()
    optimizers: tuple[str, ...] = ()

    def __init__(
        self,
        config: NetConfig,
        dim: int,
        latent_dim: int,
        noise_bound: float,
        device: str,
        seed: int,
    ) -> None:
        self.config = config
        self.dim = dim
        self.latent_dim = latent_dim
        self.noise_bound = noise_bound
        self.device = resolve_device(device)
        self.updates = 0
        self.loss: torch.Tensor | None = None
        """The last update's loss, detached, for the non-finite guard."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.build()
        for name in self.networks:
            getattr(self, name).to(self.device)
        self.make_optimizers()
        for name in self.optimizers:
            for group in getattr(self, name).param_groups:
                group.setdefault("initial_lr", group["lr"])
        self.rng = torch.Generator(self.device).manual_seed(seed + 1)

    def build(self) -> None:
        """Creates the networks named in ``networks``."""
        raise NotImplementedError

    def make_optimizers(self) -> None:
        """Creates the optimizers named in ``optimizers``."""
        raise NotImplementedError

    def set_lr_fraction(self, fraction: float) -> None:
        """Sets every optimizer's learning rate to ``fraction`` of its configured value."""
        for name in self.optimizers:
            for group in getattr(self, name).param_groups:
                group["lr"] = group["initial_lr"] * fraction

    def decode(self, noise: torch.Tensor) -> torch.Tensor:
        """Maps noise vectors to samples in [-1, 1]."""
        return self.generator(noise)

    def train_step(self, real_BD: np.ndarray, noise_BL: np.ndarray) -> np.ndarray:
        """Updates on one real batch; returns the samples decoded from ``noise_BL`` before it."""
        real = torch.as_tensor(real_BD, device=self.device)
        noise = torch.as_tensor(noise_BL, device=self.device)
        fake = self.update(real, noise)
        self.updates += 1
        return fake.detach().clamp(-1.0, 1.0).cpu().numpy()

    def update(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """One training step; returns the batch decoded from ``noise`` before the step."""
        raise NotImplementedError

    @torch.no_grad()
    def generate(self, noise_NL: np.ndarray) -> np.ndarray:
        """Decodes noise vectors into samples, shape (N, D), float32."""
        chunks = [
            self.decode(torch.as_tensor(noise_NL[i : i + GENERATE_CHUNK], device=self.device))
            .clamp(-1.0, 1.0)
            .cpu()
            .numpy()
            for i in range(0, len(noise_NL), GENERATE_CHUNK)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dim), np.float32)

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The weights, optimizer state and training-noise generator's state as tensors, and
        the JSON-ready rest."""
        tensors: dict[str, torch.Tensor] = {"rng": self.rng.get_state()}
        extra: dict[str, Any] = {"updates": self.updates, "optimizers": {}}
        for name in self.networks:
            for key, value in getattr(self, name).state_dict().items():
                tensors[f"{name}.{key}"] = value
        for name in self.optimizers:
            arrays, rest = optimizer_state(getattr(self, name), f"optim_{name}")
            tensors.update(arrays)
            extra["optimizers"][name] = rest
        return tensors, extra

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        """Restores what :meth:`state` returned."""
        for name in self.networks:
            prefix = f"{name}."
            weights = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            getattr(self, name).load_state_dict(weights)
        for name in self.optimizers:
            load_optimizer_state(
                getattr(self, name), f"optim_{name}", arrays, extra["optimizers"][name]
            )
        self.updates = int(extra.get("updates", 0))
        if "rng" in arrays:  # absent in checkpoints from before exact resume
            self.rng.set_state(arrays["rng"].cpu())


class GANModel(Model):
    """The non-saturating GAN (Goodfellow et al., 2014): one D and one G step per batch.

    With ``pack`` m > 1 the discriminator judges packs of m samples (PacGAN); with
    ``rejection_sampling`` :meth:`generate` filters the generator's samples by DRS.
    """

    networks = ("generator", "discriminator")
    optimizers = ("g_optim", "d_optim")

    config: GANConfig

    def __init__(
        self,
        config: GANConfig,
        dim: int,
        latent_dim: int,
        noise_bound: float,
        device: str,
        seed: int,
    ) -> None:
        super().__init__(config, dim, latent_dim, noise_bound, device, seed)
        self.seed = seed
        self.rejection_sampling = bool(config.rejection_sampling)
        self.refine_steps = int(config.refine_steps)
        self._drs_bounds: tuple[float, float] | None = None

    def build(self) -> None:
        hidden = list(self.config.hidden_sizes)
        self.generator = mlp([self.latent_dim, *hidden, self.dim], nn.ReLU, nn.Tanh())
        self.discriminator = mlp(
            [self.dim * self.config.pack, *hidden, 1], lambda: nn.LeakyReLU(0.2)
        )

    def judge(self, samples: torch.Tensor) -> torch.Tensor:
        """The discriminator's logits of a batch, one per pack of ``pack`` consecutive rows."""
        return self.discriminator(samples.reshape(-1, self.dim * self.config.pack))

    def train_step(self, real_BD: np.ndarray, noise_BL: np.ndarray) -> np.ndarray:
        self._drs_bounds = None
        return super().train_step(real_BD, noise_BL)

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        super().load_state(arrays, extra)
        self._drs_bounds = None

    def decode(self, noise: torch.Tensor) -> torch.Tensor:
        samples = self.generator(noise)
        if self.rejection_sampling:
            samples = self.rejection_sample(samples, noise)
        return self.refine(samples) if self.refine_steps else samples

    def refine(self, samples: torch.Tensor) -> torch.Tensor:
        """Moves samples up the discriminator's logit: ``refine_steps`` gradient-ascent steps."""
        return ascend(self.discriminator, samples, self.refine_steps, self.config.refine_step_size)

    def drs_bounds(self) -> tuple[float, float]:
        """DRS's burn-in: the largest logit D*_M and gamma, over fixed noise (cached)."""
        if self._drs_bounds is None:
            rng = torch.Generator(self.device).manual_seed(self.seed + 2)
            noise = self.clipped_noise(DRS_BURN_IN, rng)
            logits = self.discriminator(self.generator(noise)).squeeze(1)
            top = float(logits.max())
            gamma = torch.quantile(drs_f(logits, top), self.config.drs_percentile / 100)
            self._drs_bounds = (top, float(gamma))
        return self._drs_bounds

    def clipped_noise(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """Standard normal noise clipped to the env's bounds."""
        noise = torch.randn(n, self.latent_dim, device=self.device, generator=rng)
        return noise.clamp(-self.noise_bound, self.noise_bound)

    def rejection_sample(self, samples: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Discriminator Rejection Sampling (Azadi et al., 2019) of a batch of samples.

        A sample is kept with probability sigmoid(F(x) - gamma), F(x) = D(x) - D*_M -
        log(1 - exp(D(x) - D*_M - eps)), D(x) the discriminator's logit, an estimate of log
        p_data(x) / p_g(x). A rejected sample is replaced by a fresh draw, itself filtered, for
        at most ``DRS_ROUNDS`` rounds; rows still rejected then keep their last draw. The
        randomness comes from a generator seeded by the model's seed and a hash of ``noise``.
        """
        top, gamma = self.drs_bounds()
        digest = hashlib.blake2b(noise.cpu().numpy().tobytes(), digest_size=8).digest()
        rng = torch.Generator(self.device).manual_seed(
            (self.seed + int.from_bytes(digest, "little")) % 2**63
        )
        out = samples.clone()
        pending = torch.arange(len(samples), device=self.device)
        candidates = samples
        for _ in range(DRS_ROUNDS):
            logits = self.discriminator(candidates).squeeze(1)
            keep = torch.sigmoid(drs_f(logits, top) - gamma)
            accepted = torch.rand(len(keep), device=self.device, generator=rng) < keep
            out[pending] = candidates
            pending = pending[~accepted]
            if len(pending) == 0:
                break
            candidates = self.generator(self.clipped_noise(len(pending), rng))
        return out

    def make_optimizers(self) -> None:
        c = self.config
        betas = (c.beta1, c.beta2)
        self.g_optim = adam(self.generator, c.generator_learning_rate, betas, self.device)
        self.d_optim = adam(self.discriminator, c.discriminator_learning_rate, betas, self.device)

    def update(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        fake = self.generator(noise)
        logits = self.judge(torch.cat([real, fake.detach()]))
        sign = torch.ones_like(logits)
        sign[len(real) // self.config.pack :] = -1.0
        d_loss = 2 * F.softplus(-sign * logits).mean()  # -log D(real) - log(1 - D(fake))
        self.d_optim.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optim.step()
        g_loss = F.softplus(-self.judge(fake)).mean()  # non-saturating: -log D(G(z))
        self.g_optim.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(self.generator.parameters()))  # no D gradients
        self.g_optim.step()
        self.loss = (d_loss + g_loss).detach()
        return fake


class WGANGPModel(Model):
    """WGAN-GP (Gulrajani et al., 2017): a critic step per batch, a G step every few.

    With ``refine_steps`` > 0, :meth:`generate` moves each sample up the critic's gradient.
    """

    config: WGANGPConfig
    networks = ("generator", "critic")
    optimizers = ("g_optim", "c_optim")

    def __init__(
        self,
        config: WGANGPConfig,
        dim: int,
        latent_dim: int,
        noise_bound: float,
        device: str,
        seed: int,
    ) -> None:
        super().__init__(config, dim, latent_dim, noise_bound, device, seed)
        self.refine_steps = int(config.refine_steps)

    def decode(self, noise: torch.Tensor) -> torch.Tensor:
        samples = self.generator(noise)
        if not self.refine_steps:
            return samples
        return ascend(self.critic, samples, self.refine_steps, self.config.refine_step_size)

    def build(self) -> None:
        hidden = list(self.config.hidden_sizes)
        # A linear output: the critic is unbounded, and a tanh would saturate as the generator
        # follows it outwards, which stalls learning; generate() clips to the action box.
        self.generator = mlp([self.latent_dim, *hidden, self.dim], nn.ReLU)
        self.critic = mlp([self.dim, *hidden, 1], nn.ReLU)

    def make_optimizers(self) -> None:
        c = self.config
        betas = (c.beta1, c.beta2)
        self.g_optim = adam(self.generator, c.generator_learning_rate, betas, self.device)
        self.c_optim = adam(self.critic, c.critic_learning_rate, betas, self.device)

    def update(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        fake = self.generator(noise)
        mix = torch.rand(len(real), 1, device=self.device, generator=self.rng)
        between = (mix * real + (1 - mix) * fake.detach()).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.critic(between).sum(), between, create_graph=True)
        penalty = ((grad.norm(dim=1) - 1) ** 2).mean()
        c_loss = self.critic(fake.detach()).mean() - self.critic(real).mean()
        c_loss = c_loss + self.config.gp_weight * penalty
        self.c_optim.zero_grad(set_to_none=True)
        c_loss.backward()
        self.c_optim.step()
        self.loss = c_loss.detach()
        if (self.updates + 1) % self.config.critic_steps == 0:
            g_loss = -self.critic(fake).mean()
            self.g_optim.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_optim.step()
        return fake


class VAEModel(Model):
    """A Gaussian VAE (Kingma and Welling, 2014) whose decoder maps the env's noise to samples."""

    config: VAEConfig
    networks = ("encoder", "generator")
    optimizers = ("optim",)

    def build(self) -> None:
        hidden = list(self.config.hidden_sizes)
        self.encoder = mlp([self.dim, *hidden, 2 * self.latent_dim], nn.ReLU)
        self.generator = mlp([self.latent_dim, *hidden[::-1], self.dim], nn.ReLU, nn.Tanh())

    def make_optimizers(self) -> None:
        self.optim = adam(
            nn.ModuleList([self.encoder, self.generator]),
            self.config.learning_rate,
            (0.9, 0.999),
            self.device,
        )

    def update(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            fake = self.generator(noise)
        mean, log_var = self.encoder(real).chunk(2, dim=1)
        eps = torch.randn(mean.shape, device=self.device, generator=self.rng)
        recon = self.generator(mean + torch.exp(0.5 * log_var) * eps)
        nll = ((recon - real) ** 2).sum(dim=1) / (2 * self.config.recon_std**2)
        kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(dim=1)
        loss = (nll + kl).mean()
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm is not None:
            params = [*self.encoder.parameters(), *self.generator.parameters()]
            nn.utils.clip_grad_norm_(params, self.config.max_grad_norm)
        self.optim.step()
        self.loss = loss.detach()
        return fake


MODELS = {"gan": GANModel, "wgan-gp": WGANGPModel, "vae": VAEModel}
