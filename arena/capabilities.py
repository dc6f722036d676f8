"""Optional capabilities an agent declares by inheriting them, beside :class:`arena.agent.Agent`.

The core asks ``isinstance(agent, Sampler)`` before ``arena sample`` and
``isinstance(agent, Encoder)`` before ``arena encode``; an agent that has a method of the same
name without declaring the capability is not guessed at::

    class VAE(Agent, Sampler):
        def sample(self, n, rng): ...

``arena info AGENT`` lists what an agent declares.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np


class Sampler(ABC):
    """An agent that generates new samples of the data it learned (``arena sample``)."""

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Generates samples.

        Args:
            n: How many, at least 1.
            rng: Draws all of their randomness, so the same generator state gives the same
                samples.

        Returns:
            An array of ``n`` samples, samples first.
        """


class ConditionalSampler(Sampler):
    """A sampler whose samples can be asked to meet conditions (``arena sample --labels`` or
    ``--code``).

    Two conditions exist, each optional for an agent (it lists those it takes in
    ``conditions``):

    - ``"labels"``: a class for each sample, a sequence of ``n`` integers (``arena sample
      --labels 0,1,2`` repeats its list to ``--n`` samples);
    - ``"code"``: values of named latent codes, the same for every sample, a mapping of names to
      numbers (``arena sample --code c=3``).
    """

    conditions: ClassVar[dict[str, str]] = {}
    """The conditions this agent takes, each with what it means and which values it accepts
    (shown in the message that refuses a condition it does not take)."""

    @abstractmethod
    def check_conditions(self, n: int, conditions: Mapping[str, Any]) -> None:
        """Checks that the agent can meet ``conditions`` for ``n`` samples.

        Raises:
            ValueError: A condition it does not take, or a value out of range or of the wrong
                count; the message says what it accepts.
        """

    @abstractmethod
    def sample(
        self, n: int, rng: np.random.Generator, conditions: Mapping[str, Any] | None = None
    ) -> np.ndarray:
        """Generates samples that meet ``conditions`` (none: as the agent's prior draws them).

        Args:
            n: How many, at least 1.
            rng: Draws all of their randomness, so the same generator state and conditions
                give the same samples.
            conditions: See the class; checked by :meth:`check_conditions`.

        Returns:
            An array of ``n`` samples, samples first.

        Raises:
            ValueError: As :meth:`check_conditions`.
        """


class Encoder(ABC):
    """An agent that maps inputs to codes (``arena encode``), such as an autoencoder."""

    @property
    @abstractmethod
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input; :meth:`encode` takes ``(n, *input_shape)``."""

    @abstractmethod
    def encode(self, batch: np.ndarray) -> np.ndarray:
        """Encodes a batch of inputs.

        Args:
            batch: Finite float32 inputs of shape ``(n, *input_shape)``, scaled as the env
                the agent learned on shows them.

        Returns:
            The codes, ``(n, code_size)`` float32.
        """


CAPABILITIES: dict[str, type] = {"sample": Sampler, "encode": Encoder}
"""Each capability by the command that uses it."""


def capabilities(agent_cls: type) -> list[str]:
    """The commands an agent class declares it supports, of ``CAPABILITIES``."""
    return [name for name, capability in CAPABILITIES.items() if issubclass(agent_cls, capability)]
