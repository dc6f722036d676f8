"""Generative agents that play ``arena/Generation-v0``: GAN, WGAN-GP and a VAE.

Each env step shows a batch of real samples and a batch of noise; the agent takes one training
step on the real batch and answers with its generator's samples of that noise. The networks and
the training steps live in :mod:`.networks`, imported lazily (no torch at import); the
hyperparameters in :mod:`.config`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from gymnasium import spaces

from agents.generative.config import GANConfig, NetConfig, VAEConfig, WGANGPConfig
from arena.agent import Agent
from arena.callbacks import episode_metrics
from arena.capabilities import Sampler
from arena.config import require
from arena.rollout import Transition
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

if TYPE_CHECKING:
    from agents.generative.networks import Model

TRAINING_SAMPLES_NOTE = (
    "the generator's raw samples while it learned, before any sampling filter (DRS, "
    "refinement); arena evaluate scores the trained model's samples, filters applied"
)
"""What ``learn_info["last_training_episode"]`` measures, shown beside it in the train summary."""


class GenerativeAgent(Agent, Sampler):
    """The shared part of the generative agents: spaces, the training step, sampling and
    checkpoints.

    ``learn`` plays the env in the core loop (:mod:`arena.rollout`): each training
    :meth:`act` is one training step. The agent reads the env's ``info["scale"]`` at reset, so
    that :meth:`sample` returns data coordinates, and leaves the last training episode's
    metrics in ``learn_info`` under ``last_training_episode``, with ``scored_on`` saying what
    they measure: the samples the generator made while it learned, raw. ``arena evaluate``
    scores the trained model's samples, after the sampling filters (DRS, refinement) where the
    config turns them on, so its numbers differ: on ring8 with the preset, hq 0.95 in the train
    summary, 0.998 by evaluate.
    """

    uses_torch = True
    kind: ClassVar[str] = ""

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        self.batch_size, self.dim = action_space.shape
        self.latent_dim = observation_space["noise"].shape[0] // self.batch_size
        self.noise_bound = float(np.max(observation_space["noise"].high))
        """The env clips its noise to [-bound, bound], as its noise space says; so does sample."""
        self.scale = 1.0
        self._model: Model | None = None

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        needs = (
            "a Dict observation of flat 'real' and 'noise' batches and a (batch, dim) Box "
            "action, as arena/Generation-v0 has"
        )
        if not (
            isinstance(observation_space, spaces.Dict)
            and set(observation_space.spaces) == {"real", "noise"}
            and all(
                isinstance(s, spaces.Box) and len(s.shape) == 1
                for s in observation_space.spaces.values()
            )
        ):
            raise cls.incompatible(needs, observation_space)
        if not isinstance(action_space, spaces.Box) or len(action_space.shape) != 2:
            raise cls.incompatible(needs, action_space)
        batch, dim = action_space.shape
        real, noise = observation_space["real"].shape[0], observation_space["noise"].shape[0]
        if real != batch * dim or noise % batch:
            raise cls.incompatible(needs + ", with batches of the same size", observation_space)

    @classmethod
    def memory_needed(
        cls, config: NetConfig, observation_space: spaces.Space, action_space: spaces.Space
    ) -> dict[str, int]:
        """The two networks with Adam's copies, and a batch's activations through them and back
        (DRS's 10,000 burn-in samples through the discriminator, when it is on)."""
        batch, dim = action_space.shape
        latent = observation_space["noise"].shape[0] // batch
        hidden = list(config.hidden_sizes)
        decoder = [latent, *(hidden[::-1] if cls.kind == "vae" else hidden), dim]
        judge = {
            "gan": [dim * getattr(config, "pack", 1), *hidden, 1],
            "wgan-gp": [dim, *hidden, 1],
            "vae": [dim, *hidden, 2 * latent],
        }[cls.kind]
        params = dense_parameters(decoder) + dense_parameters(judge)
        # Forward and backward through both nets; a GAN's judge sees a real and a fake batch.
        activations = 2 * batch * (sum(decoder) + 2 * sum(judge))
        burn_in = 10_000 * sum(judge) if getattr(config, "rejection_sampling", False) else 0
        what = f"networks (hidden_sizes={hidden})"
        return {what: adam_bytes(params) + (activations + burn_in) * FLOAT32}

    @property
    def model(self) -> Model:
        """The torch model, built on first use."""
        if self._model is None:
            from agents.generative.networks import MODELS

            self._model = MODELS[self.kind](
                self.config,
                self.dim,
                self.latent_dim,
                self.noise_bound,
                self.device,
                int(self.np_random.integers(2**62)),
            )
        return self._model

    def act(self, observation: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        """Returns the generator's samples of the observation's noise, shape (batch, dim).

        With ``explore`` (the core loop's training step) it first takes one training step on
        the observation's real batch, at the scheduled learning rate, and returns the
        generator's raw samples of the noise from that step: the action is the generator's
        output as it learns, before any sampling filter.
        """
        noise = np.asarray(observation["noise"], np.float32).reshape(self.batch_size, -1)
        model = self.model
        if not explore:
            return model.generate(noise)
        model.set_lr_fraction(self.config.learning_rate_fraction(self.num_timesteps))
        real = np.asarray(observation["real"], np.float32).reshape(self.batch_size, self.dim)
        fake = model.train_step(real, noise)
        self.record_loss(model.loss)
        return fake

    def observe_reset(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> None:
        """Reads the env's ``scale``, so that :meth:`sample` returns data coordinates."""
        self.scale = float(info.get("scale", self.scale))

    def observe(self, transition: Transition) -> None:
        """At an episode's end, keeps its metrics in ``learn_info`` (the step was in ``act``)."""
        if transition.terminated or transition.truncated:
            self.learn_info.update(
                last_training_episode=episode_metrics(transition.info),
                scored_on=TRAINING_SAMPLES_NOTE,
            )

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Generates ``n`` samples in data coordinates (the env's times its ``scale``).

        Args:
            n: How many samples.
            rng: Draws the noise, standard normal clipped as the env clips it.

        Returns:
            An (n, dim) float32 array.
        """
        bound = self.noise_bound
        noise = np.clip(rng.standard_normal((n, self.latent_dim)), -bound, bound)
        return self.model.generate(noise.astype(np.float32)) * np.float32(self.scale)

    def state(self) -> dict[str, Any]:
        return self.model.state()[0]

    def state_allowance(self) -> int:
        """The optimizers' moments, which their state gains at their first step."""
        from arena.torch_utils import optimizer_state_bytes

        model = self.model
        return sum(optimizer_state_bytes(getattr(model, name)) for name in model.optimizers)

    def extra_state(self) -> dict[str, Any]:
        return {"scale": self.scale, "model": self.model.state()[1]}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.scale = float(extra["scale"])
        self.model.load_state(arrays, extra["model"])


class GAN(GenerativeAgent):
    """Non-saturating GAN (Goodfellow et al., 2014): an MLP generator against a discriminator.

    Each env step is one discriminator and one generator step on the batch shown. Plays
    arena/Generation-v0 and its presets (Ring8, Grid25, DigitsGen, FashionGen). Options:
    PacGAN packing (``pack``), and when generating Discriminator Rejection Sampling
    (``rejection_sampling``, on in every preset) and discriminator gradient refinement
    (``refine_steps``, on in the mixture presets). ``agent.model.rejection_sampling = False``
    and ``agent.model.refine_steps = 0`` turn them off on a trained model.
    """

    name = "gan"
    kind = "gan"
    presets = "gan_presets.toml"
    Config = GANConfig

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        pack = self.config.pack
        require(
            self.batch_size % pack == 0,
            f"pack ({pack}) must divide the env's batch size ({self.batch_size})",
        )


class WGANGP(GenerativeAgent):
    """WGAN-GP (Gulrajani et al., 2017): a generator against a gradient-penalised critic.

    Each env step is one critic step; every ``critic_steps`` env steps the generator steps too.
    Plays arena/Generation-v0 and its presets. When generating, ``refine_steps`` moves each
    sample up the critic's gradient (on in the mixture presets); ``agent.model.refine_steps =
    0`` turns it off on a trained model.
    """

    name = "wgan-gp"
    kind = "wgan-gp"
    presets = "wgan_gp_presets.toml"
    Config = WGANGPConfig


class VAE(GenerativeAgent):
    """Variational autoencoder (Kingma and Welling, 2014) whose decoder is the generator.

    Each env step is one ELBO step on the batch shown; actions decode the env's noise as prior
    samples. Plays arena/Generation-v0 and its presets.
    """

    name = "vae"
    kind = "vae"
    presets = "vae_presets.toml"
    Config = VAEConfig
