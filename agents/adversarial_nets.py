"""The torch side of the generative agents: networks and one training step per env step.

``agents.adversarial`` imports this module only inside methods, so ``arena list`` stays torch-free.
Each model takes numpy batches in the env's coordinates and returns numpy batches, so the agent
classes never touch torch.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from arena.torch_utils import load_optimizer_state, optimizer_state, resolve_device

GENERATE_CHUNK = 10_000
"""Samples decoded at once by :meth:`Model.generate`."""


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
        device: A torch device string or "auto".
        seed: Seeds the weights (on a forked global generator, left as it was) and the
            generator of the training noise.
    """

    networks: tuple[str, ...] = ()
    optimizers: tuple[str, ...] = ()

    def __init__(self, config: Any, dim: int, latent_dim: int, device: str, seed: int) -> None:
        self.config = config
        self.dim = dim
        self.latent_dim = latent_dim
        self.device = resolve_device(device)
        self.updates = 0
        if config.torch_threads:
            torch.set_num_threads(config.torch_threads)
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
        """The weights and optimizer state as tensors, and the JSON-ready rest."""
        tensors: dict[str, torch.Tensor] = {}
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


class GANModel(Model):
    """The non-saturating GAN (Goodfellow et al., 2014): one D and one G step per batch."""

    networks = ("generator", "discriminator")
    optimizers = ("g_optim", "d_optim")

    def build(self) -> None:
        hidden = list(self.config.hidden_sizes)
        self.generator = mlp([self.latent_dim, *hidden, self.dim], nn.ReLU, nn.Tanh())
        self.discriminator = mlp([self.dim, *hidden, 1], lambda: nn.LeakyReLU(0.2))

    def make_optimizers(self) -> None:
        c = self.config
        betas = (c.beta1, c.beta2)
        self.g_optim = adam(self.generator, c.generator_lr, betas, self.device)
        self.d_optim = adam(self.discriminator, c.discriminator_lr, betas, self.device)

    def update(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        fake = self.generator(noise)
        logits = self.discriminator(torch.cat([real, fake.detach()]))
        sign = torch.ones_like(logits)
        sign[len(real) :] = -1.0
        d_loss = 2 * F.softplus(-sign * logits).mean()  # -log D(real) - log(1 - D(fake))
        self.d_optim.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optim.step()
        g_loss = F.softplus(-self.discriminator(fake)).mean()  # non-saturating: -log D(G(z))
        self.g_optim.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optim.step()
        return fake


class WGANGPModel(Model):
    """WGAN-GP (Gulrajani et al., 2017): a critic step per batch, a G step every few."""

    networks = ("generator", "critic")
    optimizers = ("g_optim", "c_optim")

    def build(self) -> None:
        hidden = list(self.config.hidden_sizes)
        # A linear output: the critic is unbounded, and a tanh would saturate as the generator
        # follows it outwards, which stalls learning; generate() clips to the action box.
        self.generator = mlp([self.latent_dim, *hidden, self.dim], nn.ReLU)
        self.critic = mlp([self.dim, *hidden, 1], nn.ReLU)

    def make_optimizers(self) -> None:
        c = self.config
        betas = (c.beta1, c.beta2)
        self.g_optim = adam(self.generator, c.generator_lr, betas, self.device)
        self.c_optim = adam(self.critic, c.critic_lr, betas, self.device)

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
        if (self.updates + 1) % self.config.critic_steps == 0:
            g_loss = -self.critic(fake).mean()
            self.g_optim.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_optim.step()
        return fake


class VAEModel(Model):
    """A Gaussian VAE (Kingma and Welling, 2014) whose decoder maps the env's noise to samples."""

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
        self.optim.step()
        return fake


MODELS = {"gan": GANModel, "wgan-gp": WGANGPModel, "vae": VAEModel}
