"""``cgan``: the conditional GAN, which plays the conditional ``arena/Generation-v0`` games
(``conditional=True``: ``arena/Ring8Cond-v0``, ``arena/DigitsCond-v0``, ...).

The networks live in :mod:`.conditional_networks`, imported lazily (no torch at import).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from gymnasium import spaces

from agents.generative.agent import GenerativeAgent
from agents.generative.conditional_config import CGANConfig
from arena.capabilities import ConditionalSampler
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

if TYPE_CHECKING:
    from agents.generative.conditional_networks import CGANModel


class CGAN(GenerativeAgent, ConditionalSampler):
    """Conditional GAN (Mirza and Osindero, 2014): the generator and the discriminator both see
    the class label.

    Plays the conditional generation games (``arena/Ring8Cond-v0``, ``arena/Grid25Cond-v0``,
    ``arena/DigitsCond-v0``), whose observation asks for a class per sample. Each env step is one
    discriminator and one generator step on the batch shown, whose real samples are of the
    classes asked for; the action is the generator's samples of those classes. ``sample`` takes
    ``conditions={"labels": ...}`` (``arena sample --labels 0,1,2``); without labels it draws
    them uniformly.
    """

    name = "cgan"
    kind = "cgan"
    presets = "cgan_presets.toml"
    Config = CGANConfig
    conditions: ClassVar[dict[str, str]] = {
        "labels": "the class of each sample, from 0 to the classes of the env it learned, less 1"
    }

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        self.classes = int(observation_space["labels"].nvec[0])

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        needs = (
            "a Dict observation of flat 'real' and 'noise' batches and a batch of 'labels' "
            "(MultiDiscrete, one class count), and a (batch, dim) Box action, as "
            "arena/Generation-v0 has with conditional=True"
        )
        if not (
            isinstance(observation_space, spaces.Dict)
            and set(observation_space.spaces) == {"real", "noise", "labels"}
        ):
            raise cls.incompatible(needs, observation_space)
        labels = observation_space["labels"]
        plain = spaces.Dict({k: observation_space[k] for k in ("real", "noise")})
        super().check_spaces(plain, action_space)
        if not (
            isinstance(labels, spaces.MultiDiscrete)
            and labels.shape == (action_space.shape[0],)
            and len(set(labels.nvec.tolist())) == 1
            and labels.nvec[0] >= 2
            and not labels.start.any()
        ):
            raise cls.incompatible(needs, observation_space)

    @classmethod
    def memory_needed(
        cls, config: CGANConfig, observation_space: spaces.Space, action_space: spaces.Space
    ) -> dict[str, int]:
        """The two networks with Adam's copies, and a batch's activations through them."""
        batch, dim = action_space.shape
        latent = observation_space["noise"].shape[0] // batch
        classes = int(observation_space["labels"].nvec[0])
        hidden = list(config.hidden_sizes)
        generator = [latent + classes, *hidden, dim]
        judge = [dim + classes, *hidden, 1]
        params = dense_parameters(generator) + dense_parameters(judge)
        activations = 2 * batch * (sum(generator) + 2 * sum(judge))
        what = f"networks (hidden_sizes={hidden})"
        return {what: adam_bytes(params) + activations * FLOAT32}

    @property
    def model(self) -> CGANModel:
        """The torch model, built on first use."""
        if self._model is None:
            from agents.generative.conditional_networks import CGANModel

            seed = int(self.np_random.integers(2**62))
            self._model = CGANModel(
                self.config,
                self.dim,
                self.latent_dim,
                self.noise_bound,
                self.device,
                seed,
                self.classes,
            )
        return self._model

    def act(self, observation: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        """Returns the generator's samples of the observation's noise and labels.

        With ``explore`` (the core loop's training step) it first takes one training step on
        the observation's real batch, whose rows are of the labels asked for.
        """
        noise = np.asarray(observation["noise"], np.float32).reshape(self.batch_size, -1)
        labels = np.asarray(observation["labels"], np.int64)
        model = self.model
        inputs = model.conditioned(noise, labels)
        if not explore:
            return model.generate(inputs)
        model.set_lr_fraction(self.config.learning_rate_fraction(self.num_timesteps))
        real = np.asarray(observation["real"], np.float32).reshape(self.batch_size, self.dim)
        fake = model.train_step(real, inputs)
        self.record_loss(model.loss)
        return fake

    def check_conditions(self, n: int, conditions: Mapping[str, Any]) -> None:
        unknown = sorted(set(conditions) - set(self.conditions))
        if unknown:
            raise ValueError(f"cgan takes only 'labels' as a condition, not {unknown[0]!r}")
        if "labels" not in conditions:
            return
        labels = np.asarray(conditions["labels"])
        whole = labels.size == 0 or np.issubdtype(labels.dtype, np.integer)
        if labels.shape != (n,) or not whole:
            raise ValueError(
                f"labels must be {n} whole numbers, one per sample; got {labels.size} of type "
                f"{labels.dtype}"
            )
        bad = labels[(labels < 0) | (labels >= self.classes)]
        if bad.size:
            raise ValueError(
                f"label {bad[0]} is out of range: this agent learned {self.classes} classes, "
                f"0 to {self.classes - 1}"
            )

    def sample(
        self, n: int, rng: np.random.Generator, conditions: Mapping[str, Any] | None = None
    ) -> np.ndarray:
        """Generates ``n`` samples in data coordinates, of the classes asked for.

        Args:
            n: How many samples.
            rng: Draws the noise (standard normal, clipped as the env clips it), then the
                labels when they are not given (uniform).
            conditions: ``{"labels": n classes}``, or None for uniform labels.

        Returns:
            An (n, dim) float32 array.

        Raises:
            ValueError: Labels out of range or not one per sample.
        """
        conditions = conditions or {}
        self.check_conditions(n, conditions)
        bound = self.noise_bound
        noise = np.clip(rng.standard_normal((n, self.latent_dim)), -bound, bound)
        labels = conditions.get("labels")
        if labels is None:
            labels = rng.integers(self.classes, size=n)
        inputs = self.model.conditioned(noise.astype(np.float32), np.asarray(labels, np.int64))
        return self.model.generate(inputs) * np.float32(self.scale)
