"""BiGAN/ALI: a generator and an encoder learned together against a discriminator of pairs.

The agent plays ``arena/Generation-v0`` as :class:`~agents.generative.agent.GAN` does, and is
also an encoder (:class:`arena.capabilities.Encoder`): ``arena encode`` writes its codes of
inputs, and :meth:`BiGAN.reconstruct` maps inputs through the encoder and back through the
generator. The networks live in :mod:`.bigan_networks`, imported when first used (no torch at
import); the hyperparameters in :mod:`.config`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from gymnasium import spaces

from agents.generative.agent import GenerativeAgent
from agents.generative.config import BiGANConfig
from arena.capabilities import Encoder
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

if TYPE_CHECKING:
    from agents.generative.bigan_networks import BiGANModel


class BiGAN(GenerativeAgent, Encoder):
    """BiGAN/ALI (Donahue et al., 2017; Dumoulin et al., 2017): an encoder learned beside the
    generator, and a discriminator that judges (sample, code) pairs.

    The discriminator tells real pairs (x, E(x)) from generated ones (G(z), z); the generator
    and the encoder learn together to fool it (non-saturating losses). Each env step is one
    discriminator and one generator-and-encoder step on the batch shown. With
    ``cycle_weight`` > 0 the generator and encoder also minimise ALICE's reconstruction error
    ||x - G(E(x))||^2, which makes E and G approximate inverses. Plays arena/Generation-v0 and
    its presets; ``arena encode`` writes E's codes (inputs in the env's [-1, 1] coordinates).
    """

    name = "bigan"
    kind = "bigan"
    presets = "bigan_presets.toml"
    Config = BiGANConfig

    @classmethod
    def memory_needed(
        cls, config: BiGANConfig, observation_space: spaces.Space, action_space: spaces.Space
    ) -> dict[str, int]:
        """The three networks with Adam's copies, and a batch's activations through them."""
        batch, dim = action_space.shape
        latent = observation_space["noise"].shape[0] // batch
        hidden = list(config.hidden_sizes)
        judge = [[dim, *hidden], [latent, *hidden], [2 * hidden[-1], hidden[-1], 1]]
        nets = [[latent, *hidden, dim], [dim, *hidden, 2 * latent], *judge]
        params = sum(dense_parameters(widths) for widths in nets)
        # Forward and backward; the discriminator sees a real and a fake batch twice.
        judged = sum(sum(widths) for widths in judge)
        activations = 2 * batch * (2 * sum(nets[0]) + sum(nets[1]) + 4 * judged)
        what = f"networks (hidden_sizes={hidden})"
        return {what: adam_bytes(params) + activations * FLOAT32}

    @property
    def model(self) -> BiGANModel:
        """The torch model, built on first use."""
        if self._model is None:
            from agents.generative.bigan_networks import BiGANModel

            self._model = BiGANModel(
                self.config,
                self.dim,
                self.latent_dim,
                self.noise_bound,
                self.device,
                int(self.np_random.integers(2**62)),
            )
        return self._model

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample, ``(D,)``, in the env's [-1, 1] coordinates."""
        return (self.dim,)

    def encode(self, batch: np.ndarray) -> np.ndarray:
        """The encoder's codes of ``(n, D)`` samples in the env's coordinates (data coordinates
        divided by the env's ``scale``), ``(n, latent_dim)`` float32."""
        return self.model.encode(np.asarray(batch, np.float32).reshape(-1, self.dim))

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """The generator's samples of ``(n, latent_dim)`` codes, in the env's coordinates,
        ``(n, D)`` float32 (unclipped codes: the encoder's need not lie in the noise bounds)."""
        return self.model.generate(np.asarray(codes, np.float32).reshape(-1, self.latent_dim))

    def reconstruct(self, batch: np.ndarray) -> np.ndarray:
        """G(E(x)) of ``(n, D)`` samples, in the env's coordinates, ``(n, D)`` float32."""
        return self.decode(self.encode(batch))
