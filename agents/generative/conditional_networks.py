"""The torch side of ``cgan`` and ``infogan``: their networks and one training step per env step.

Both build on :class:`~agents.generative.networks.Model`: a batch of latent inputs in, the
generator's samples out. The conditional GAN's latent input is the env's noise with the
requested labels' one-hot vectors beside it. InfoGAN reads its codes from the env's noise
itself, so that the same noise always gives the same sample: the categorical code from the first
value, ``c = floor(categories * Phi(n_0))``, the continuous codes from the next ones, ``u_j = 2
Phi(n_j) - 1`` (Phi the standard normal CDF, so the codes are uniform), and the rest is z.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.generative.conditional_config import CGANConfig, InfoGANConfig
from agents.generative.networks import GENERATE_CHUNK, Model, adam, mlp

MI_SAMPLES = 2500
"""Generated samples on which :meth:`InfoGANModel.mi_bound` estimates the bound."""


def one_hot(labels_N: np.ndarray, classes: int) -> np.ndarray:
    """Float32 one-hot rows, shape (N, classes)."""
    out = np.zeros((len(labels_N), classes), np.float32)
    out[np.arange(len(labels_N)), labels_N] = 1.0
    return out


class CGANModel(Model):
    """Mirza and Osindero's conditional GAN (2014): the labels' one-hot vectors go beside the
    generator's noise and beside the discriminator's sample; one D and one G step per batch.

    Its latent inputs are ``(N, latent_dim + classes)``: :meth:`conditioned` builds them.
    """

    networks = ("generator", "discriminator")
    optimizers = ("g_optim", "d_optim")

    config: CGANConfig

    def __init__(
        self,
        config: CGANConfig,
        dim: int,
        latent_dim: int,
        noise_bound: float,
        device: str,
        seed: int,
        classes: int,
    ) -> None:
        self.classes = classes
        super().__init__(config, dim, latent_dim, noise_bound, device, seed)

    def build(self) -> None:
        hidden = list(self.config.hidden_sizes)
        size = self.latent_dim + self.classes
        self.generator = mlp([size, *hidden, self.dim], nn.ReLU, nn.Tanh())
        self.discriminator = mlp([self.dim + self.classes, *hidden, 1], lambda: nn.LeakyReLU(0.2))

    def conditioned(self, noise_NL: np.ndarray, labels_N: np.ndarray) -> np.ndarray:
        """The latent inputs: each noise vector with its label's one-hot vector after it."""
        return np.concatenate([noise_NL, one_hot(labels_N, self.classes)], axis=1)

    def make_optimizers(self) -> None:
        c = self.config
        betas = (c.beta1, c.beta2)
        self.g_optim = adam(self.generator, c.generator_learning_rate, betas, self.device)
        self.d_optim = adam(self.discriminator, c.discriminator_learning_rate, betas, self.device)

    def update(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """One step on real samples whose labels are the one-hot part of ``noise``."""
        labels = noise[:, self.latent_dim :]
        fake = self.generator(noise)
        real_logits = self.discriminator(torch.cat([real, labels], dim=1))
        fake_logits = self.discriminator(torch.cat([fake.detach(), labels], dim=1))
        d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        self.d_optim.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optim.step()
        g_loss = F.softplus(-self.discriminator(torch.cat([fake, labels], dim=1))).mean()
        self.g_optim.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(self.generator.parameters()))  # no D gradients
        self.g_optim.step()
        self.loss = (d_loss + g_loss).detach()
        return fake


class InfoGANModel(Model):
    """Chen et al.'s InfoGAN (2016): a GAN whose generator also takes codes, and a Q head on the
    discriminator's body that infers them back from the sample.

    Maximising the Q head's log-likelihood of the codes maximises a lower bound on the mutual
    information between the codes and the samples (``info_weight`` for the categorical code,
    ``continuous_weight`` for the others). The discriminator's body, its real/fake head and the
    Q head share one optimizer and learn the code term too, as in the authors' code.
    """

    networks = ("generator", "body", "d_head", "q_head")
    optimizers = ("g_optim", "d_optim")

    config: InfoGANConfig

    def build(self) -> None:
        c = self.config
        hidden = list(c.hidden_sizes)
        self.z_dim = self.latent_dim - 1 - c.continuous_codes
        inputs = self.z_dim + c.categories + c.continuous_codes
        self.generator = mlp([inputs, *hidden, self.dim], nn.ReLU, nn.Tanh())
        self.body = mlp([self.dim, *hidden], lambda: nn.LeakyReLU(0.2), nn.LeakyReLU(0.2))
        self.d_head = nn.Linear(hidden[-1], 1)
        self.q_head = mlp(
            [hidden[-1], hidden[-1], c.categories + c.continuous_codes], lambda: nn.LeakyReLU(0.2)
        )

    def make_optimizers(self) -> None:
        c = self.config
        betas = (c.beta1, c.beta2)
        judges = nn.ModuleList([self.body, self.d_head, self.q_head])
        self.g_optim = adam(self.generator, c.generator_learning_rate, betas, self.device)
        self.d_optim = adam(judges, c.discriminator_learning_rate, betas, self.device)

    def codes(self, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The categorical code (N,), the continuous codes (N, K) and z read from the noise."""
        c = self.config
        category = (torch.special.ndtr(noise[:, 0]) * c.categories).long()
        category = category.clamp(0, c.categories - 1)
        continuous = 2 * torch.special.ndtr(noise[:, 1 : 1 + c.continuous_codes]) - 1
        return category, continuous, noise[:, 1 + c.continuous_codes :]

    def generator_inputs(
        self, z: torch.Tensor, category: torch.Tensor, continuous: torch.Tensor
    ) -> torch.Tensor:
        """z, the categorical code's one-hot vector and the continuous codes, side by side."""
        hot = F.one_hot(category, self.config.categories).to(z.dtype)
        return torch.cat([z, hot, continuous], dim=1)

    def decode(self, noise: torch.Tensor) -> torch.Tensor:
        category, continuous, z = self.codes(noise)
        return self.generator(self.generator_inputs(z, category, continuous))

    def info_loss(
        self, q_out: torch.Tensor, category: torch.Tensor, continuous: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The weighted code loss, and the categorical code's cross-entropy alone."""
        c = self.config
        cross_entropy = F.cross_entropy(q_out[:, : c.categories], category)
        squared = ((q_out[:, c.categories :] - continuous) ** 2).sum(dim=1).mean()
        return c.info_weight * cross_entropy + c.continuous_weight * 0.5 * squared, cross_entropy

    def update(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        category, continuous, z = self.codes(noise)
        fake = self.generator(self.generator_inputs(z, category, continuous))
        judged_fake = self.body(fake.detach())
        d_loss = F.softplus(-self.d_head(self.body(real))).mean()
        d_loss = d_loss + F.softplus(self.d_head(judged_fake)).mean()
        q_loss, _ = self.info_loss(self.q_head(judged_fake), category, continuous)
        self.d_optim.zero_grad(set_to_none=True)
        (d_loss + q_loss).backward()
        self.d_optim.step()
        judged = self.body(fake)
        g_loss = F.softplus(-self.d_head(judged)).mean()
        g_info, _ = self.info_loss(self.q_head(judged), category, continuous)
        self.g_optim.zero_grad(set_to_none=True)
        (g_loss + g_info).backward(inputs=list(self.generator.parameters()))
        self.g_optim.step()
        self.loss = (d_loss + q_loss + g_loss).detach()
        return fake

    @torch.no_grad()
    def mi_bound(self, seed: int, n: int = MI_SAMPLES) -> float:
        """The categorical code's mutual-information lower bound, H(c) - CE(Q(G(z, c)), c), in
        nats, on ``n`` samples of noise drawn from a generator seeded by ``seed`` (the model's
        own generators are left as they were). Its ceiling is H(c) = ln(categories)."""
        rng = torch.Generator(self.device).manual_seed(seed)
        noise = torch.randn(n, self.latent_dim, device=self.device, generator=rng)
        category, continuous, z = self.codes(noise.clamp(-self.noise_bound, self.noise_bound))
        fake = self.generator(self.generator_inputs(z, category, continuous))
        _, cross_entropy = self.info_loss(self.q_head(self.body(fake)), category, continuous)
        return math.log(self.config.categories) - float(cross_entropy)

    @torch.no_grad()
    def generate_coded(
        self, noise_NL: np.ndarray, category: int | None, continuous: dict[int, float]
    ) -> np.ndarray:
        """Decodes noise with some codes fixed: the categorical one (unless None) and the
        continuous ones by index; the other codes come from the noise as in :meth:`decode`."""
        chunks = []
        for i in range(0, len(noise_NL), GENERATE_CHUNK):
            noise = torch.as_tensor(noise_NL[i : i + GENERATE_CHUNK], device=self.device)
            cat, cont, z = self.codes(noise)
            if category is not None:
                cat = torch.full_like(cat, category)
            for index, value in continuous.items():
                cont[:, index] = value
            samples = self.generator(self.generator_inputs(z, cat, cont)).clamp(-1.0, 1.0)
            chunks.append(samples.cpu().numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dim), np.float32)

    @torch.no_grad()
    def encode(self, samples_ND: np.ndarray) -> np.ndarray:
        """The Q head's codes of samples: the categorical code's probabilities, then the
        continuous codes' means; shape (N, categories + continuous_codes), float32."""
        c = self.config
        chunks = []
        for i in range(0, len(samples_ND), GENERATE_CHUNK):
            x = torch.as_tensor(samples_ND[i : i + GENERATE_CHUNK], device=self.device)
            q_out = self.q_head(self.body(x))
            probs = torch.softmax(q_out[:, : c.categories], dim=1)
            chunks.append(torch.cat([probs, q_out[:, c.categories :]], dim=1).cpu().numpy())
        width = c.categories + c.continuous_codes
        return np.concatenate(chunks) if chunks else np.zeros((0, width), np.float32)
