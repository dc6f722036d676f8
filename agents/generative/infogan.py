"""``infogan``: InfoGAN, a GAN whose latent codes come to mean something, on the unconditional
``arena/Generation-v0`` games.

The networks live in :mod:`.conditional_networks`, imported lazily (no torch at import).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from gymnasium import spaces

from agents.generative.agent import GenerativeAgent
from agents.generative.conditional_config import InfoGANConfig
from arena.capabilities import ConditionalSampler, Encoder
from arena.config import require
from arena.rollout import Transition
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

if TYPE_CHECKING:
    from agents.generative.conditional_networks import InfoGANModel

CONTINUOUS_RANGE = 2.0
"""``sample`` takes continuous codes in [-2, 2]: trained on [-1, 1], beyond it extrapolates (as
the InfoGAN paper's figures do)."""
MI_SEED = 12_345
"""Seeds the noise of the mutual-information bound in ``learn_info`` (the same noise each time)."""


class InfoGAN(GenerativeAgent, ConditionalSampler, Encoder):
    """InfoGAN (Chen et al., 2016): a GAN whose latent codes a Q head recovers from the sample.

    Maximising the codes' mutual information with the sample (a categorical code and
    continuous codes) makes them come to mean something, unsupervised: on digits the
    categorical code tends to the digit class.

    The codes are read from the env's noise (:mod:`.conditional_networks`): the same noise gives
    the same sample, as for ``gan``. Each env step is one D/Q step and one G step. At each
    training episode's end ``learn_info["mi_bound_nats"]`` holds the categorical code's
    mutual-information lower bound on 2,500 fixed noise vectors, at most ln(categories) (2.30
    nats for 10). ``sample`` takes ``conditions={"code": {"c": 3, "u1": 0.5}}`` (``arena sample
    --code c=3``); ``encode`` returns the Q head's codes of inputs (``arena encode``): the
    categorical code's probabilities, then the continuous codes' means.
    """

    name = "infogan"
    kind = "infogan"
    presets = "infogan_presets.toml"
    Config = InfoGANConfig
    conditions: ClassVar[dict[str, str]] = {
        "code": "c=K fixes the categorical code (0 to categories - 1); u1=X, u2=X, ... fix the "
        f"continuous codes (-{CONTINUOUS_RANGE:g} to {CONTINUOUS_RANGE:g}; trained on -1 to 1)"
    }

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        codes = self.config.continuous_codes
        require(
            self.latent_dim >= codes + 2,
            f"infogan reads 1 categorical and {codes} continuous codes from the env's noise and "
            f"needs at least one value of z beside them: latent_dim >= {codes + 2}, and the env "
            f"has {self.latent_dim}",
        )

    @classmethod
    def memory_needed(
        cls, config: InfoGANConfig, observation_space: spaces.Space, action_space: spaces.Space
    ) -> dict[str, int]:
        """The networks with Adam's copies, and a batch's activations through them and back."""
        batch, dim = action_space.shape
        latent = observation_space["noise"].shape[0] // batch
        hidden = list(config.hidden_sizes)
        codes = config.categories + config.continuous_codes
        generator = [latent + codes, *hidden, dim]
        body = [dim, *hidden]
        heads = [hidden[-1], hidden[-1], codes]
        params = sum(dense_parameters(x) for x in (generator, body, heads)) + hidden[-1] + 1
        activations = 2 * batch * (sum(generator) + 3 * (sum(body) + sum(heads)))
        what = f"networks (hidden_sizes={hidden}, categories={config.categories})"
        return {what: adam_bytes(params) + activations * FLOAT32}

    @property
    def model(self) -> InfoGANModel:
        """The torch model, built on first use."""
        if self._model is None:
            from agents.generative.conditional_networks import InfoGANModel

            seed = int(self.np_random.integers(2**62))
            self._model = InfoGANModel(
                self.config, self.dim, self.latent_dim, self.noise_bound, self.device, seed
            )
        return self._model

    def observe(self, transition: Transition) -> None:
        """At an episode's end, keeps its metrics and the mutual-information bound."""
        super().observe(transition)
        if transition.terminated or transition.truncated:
            self.learn_info["mi_bound_nats"] = self.model.mi_bound(MI_SEED)

    def check_conditions(self, n: int, conditions: Mapping[str, Any]) -> None:
        unknown = sorted(set(conditions) - set(self.conditions))
        if unknown:
            raise ValueError(f"infogan takes only 'code' as a condition, not {unknown[0]!r}")
        c = self.config
        for name, given in dict(conditions.get("code", {})).items():
            try:
                value = float(given)
            except (TypeError, ValueError):
                raise ValueError(f"the code {name} must be a number, got {given!r}") from None
            if name == "c":
                if not math.isfinite(value) or value != int(value) or not 0 <= value < c.categories:
                    raise ValueError(
                        f"c={value:g} is out of range: the categorical code takes 0 to "
                        f"{c.categories - 1}"
                    )
            elif name.startswith("u") and name[1:].isdigit():
                if not 1 <= int(name[1:]) <= c.continuous_codes:
                    raise ValueError(
                        f"there is no continuous code {name}: this agent has "
                        f"{c.continuous_codes} (u1 to u{c.continuous_codes})"
                    )
                if not abs(value) <= CONTINUOUS_RANGE:
                    raise ValueError(
                        f"{name}={value:g} is out of range: a continuous code takes "
                        f"-{CONTINUOUS_RANGE:g} to {CONTINUOUS_RANGE:g}"
                    )
            else:
                raise ValueError(
                    f"there is no code {name!r}: the codes are c (categorical) and u1 to "
                    f"u{c.continuous_codes} (continuous)"
                )

    def sample(
        self, n: int, rng: np.random.Generator, conditions: Mapping[str, Any] | None = None
    ) -> np.ndarray:
        """Generates ``n`` samples in data coordinates, some codes fixed if asked.

        Args:
            n: How many samples.
            rng: Draws the noise, standard normal clipped as the env clips it; the codes not
                fixed are read from it.
            conditions: ``{"code": {"c": K, "u1": X, ...}}`` or None.

        Returns:
            An (n, dim) float32 array.

        Raises:
            ValueError: A code that does not exist or a value out of range.
        """
        conditions = conditions or {}
        self.check_conditions(n, conditions)
        bound = self.noise_bound
        noise = np.clip(rng.standard_normal((n, self.latent_dim)), -bound, bound)
        noise = noise.astype(np.float32)
        code = dict(conditions.get("code", {}))
        if not code:
            return self.model.generate(noise) * np.float32(self.scale)
        category = int(code.pop("c")) if "c" in code else None
        continuous = {int(name[1:]) - 1: float(value) for name, value in code.items()}
        return self.model.generate_coded(noise, category, continuous) * np.float32(self.scale)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.dim,)

    def encode(self, batch: np.ndarray) -> np.ndarray:
        """The Q head's codes of inputs in the env's coordinates (data divided by its scale):
        the categorical code's probabilities, then the continuous codes' means."""
        return self.model.encode(np.asarray(batch, np.float32))
