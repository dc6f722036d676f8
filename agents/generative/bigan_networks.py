"""The torch side of BiGAN/ALI: a generator, an encoder and a discriminator of pairs.

:mod:`.bigan` imports this module only when the model is first used, so ``arena list`` stays
torch-free.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.generative.config import BiGANConfig
from agents.generative.networks import GENERATE_CHUNK, Model, adam, mlp


class PairDiscriminator(nn.Module):
    """D(x, z): the sample and the code each pass through their own layers, then a joint head
    judges both features (BiGAN's layout, Donahue et al.). Fed the pair concatenated, one MLP
    of the same widths let the 16 noise coordinates drown the 2 of a mixture's sample: on ring8
    its generator spread between the modes (hq 0.005 against 0.78, 4,000 steps, seed 0).

    Args:
        dim: The size of a sample.
        latent_dim: The size of a code.
        hidden: The widths of each path's layers; the head has one layer of the last width.
    """

    def __init__(self, dim: int, latent_dim: int, hidden: list[int]) -> None:
        super().__init__()
        self.dim = dim
        self.sample_path = mlp([dim, *hidden], lambda: nn.LeakyReLU(0.2), nn.LeakyReLU(0.2))
        self.code_path = mlp([latent_dim, *hidden], lambda: nn.LeakyReLU(0.2), nn.LeakyReLU(0.2))
        self.head = mlp([2 * hidden[-1], hidden[-1], 1], lambda: nn.LeakyReLU(0.2))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """The logits of ``(N, dim + latent_dim)`` pairs, shape (N, 1)."""
        sample, code = pairs[:, : self.dim], pairs[:, self.dim :]
        return self.head(torch.cat([self.sample_path(sample), self.code_path(code)], dim=1))


class BiGANModel(Model):
    """BiGAN/ALI with ALICE's optional cycle term: one D and one G-and-E step per batch."""

    config: BiGANConfig
    networks = ("generator", "encoder", "discriminator")
    optimizers = ("ge_optim", "d_optim")

    def build(self) -> None:
        hidden = list(self.config.hidden_sizes)
        self.generator = mlp([self.latent_dim, *hidden, self.dim], nn.ReLU, nn.Tanh())
        # ALI's stochastic encoder: a Gaussian q(z | x), its mean and log standard deviation.
        self.encoder = mlp([self.dim, *hidden, 2 * self.latent_dim], nn.ReLU)
        self.discriminator = PairDiscriminator(self.dim, self.latent_dim, hidden)

    def make_optimizers(self) -> None:
        c = self.config
        betas = (c.beta1, c.beta2)
        both = nn.ModuleList([self.generator, self.encoder])
        self.ge_optim = adam(both, c.generator_learning_rate, betas, self.device)
        self.d_optim = adam(self.discriminator, c.discriminator_learning_rate, betas, self.device)

    def judge(self, samples: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """The discriminator's logits of (sample, code) pairs, one per row."""
        return self.discriminator(torch.cat([samples, codes], dim=1))

    def update(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        fake = self.generator(noise)
        mean, log_std = self.encoder(real).chunk(2, dim=1)
        eps = torch.randn(mean.shape, device=self.device, generator=self.rng)
        code = mean + log_std.exp() * eps
        # The discriminator: real pairs (x, E(x)) against generated ones (G(z), z).
        d_loss = (
            F.softplus(-self.judge(real, code.detach())).mean()
            + F.softplus(self.judge(fake.detach(), noise)).mean()
        )
        self.d_optim.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optim.step()
        # The generator and encoder, non-saturating: each pair is pushed towards the other label.
        ge_loss = (
            F.softplus(self.judge(real, code)).mean() + F.softplus(-self.judge(fake, noise)).mean()
        )
        if self.config.cycle_weight:
            cycle = ((self.generator(code) - real) ** 2).mean()
            ge_loss = ge_loss + self.config.cycle_weight * cycle
        params = [*self.generator.parameters(), *self.encoder.parameters()]
        self.ge_optim.zero_grad(set_to_none=True)
        ge_loss.backward(inputs=params)  # no D gradients
        self.ge_optim.step()
        self.loss = (d_loss + ge_loss).detach()
        return fake

    @torch.no_grad()
    def encode(self, samples_ND: np.ndarray) -> np.ndarray:
        """The means of q(z | x) of samples in the env's coordinates, shape (N, L), float32."""
        chunks = [
            self.encoder(torch.as_tensor(samples_ND[i : i + GENERATE_CHUNK], device=self.device))[
                :, : self.latent_dim
            ]
            .cpu()
            .numpy()
            for i in range(0, len(samples_ND), GENERATE_CHUNK)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.latent_dim), np.float32)
