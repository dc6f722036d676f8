"""What the supervised agents share: the spaces they play, and how they learn in the game.

The core loop (:mod:`arena.rollout`) plays the game: each step shows a batch, the agent answers,
the env rewards the right answers and reveals ``info["labels"]``, and the agent learns from
them. An episode is one pass over the train split, that is, one epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from gymnasium import spaces

from arena.agent import Agent
from arena.errors import IncompatibleEnvError
from arena.rollout import Transition
from arena.spaces import describe_space


@dataclass(frozen=True)
class Layout:
    """How a classification env's spaces lay out samples.

    Attributes:
        batched: A MultiDiscrete action answers a batch; a Discrete one, a single sample.
        batch_size: Samples per step.
        feature_shape: One sample's shape.
        n_classes: How many classes there are.
    """

    batched: bool
    batch_size: int
    feature_shape: tuple[int, ...]
    n_classes: int


class Learner(Protocol):
    """The part of a supervised agent that answers a batch and learns from its labels."""

    def start_episode(self, info: dict[str, Any]) -> None:
        """Called after each reset with the reset's info."""

    def answer(self, x_B: np.ndarray) -> tuple[np.ndarray, Any]:
        """Returns a class for each row of the batch, and what :meth:`learn` needs of it."""

    def learn(self, context: Any, info: dict[str, Any]) -> None:
        """Learns from the step's info (its ``labels``, ``valid`` and ``indices``)."""

    def end_episode(self) -> bool:
        """Called after each episode (epoch); returns True to stop learning."""


class SupervisedAgent(Agent):
    """An agent that plays classification envs: it needs a class per sample as its action.

    It plays the game in the core loop (:mod:`arena.rollout`): a training :meth:`act` asks its
    learner for the answers, :meth:`observe` hands the learner the labels, and an episode's end
    is an epoch's. A subclass sets ``learner`` in its constructor, after this one.

    Attributes:
        layout: How the env's spaces lay out samples.
        learner: Answers each batch and learns from its labels; one per agent, so what it
            counts within an epoch goes on across ``learn`` calls (and, through the agent's
            ``extra_state``, across checkpoints).
    """

    needs_image: bool = False
    learner: Learner

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        self.layout = layout(observation_space, action_space)
        self._context: Any = None
        """What the last training answer computed, until :meth:`observe` learns from it."""

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        what = "2-D images" if cls.needs_image else "samples"
        needs = (
            f"a Box of {what} with a Discrete action, or a Box of batches of {what} with a "
            "MultiDiscrete action (a class for each)"
        )
        has = f"{describe_space(observation_space)} with a {describe_space(action_space)} action"
        try:
            found = layout(observation_space, action_space)
        except ValueError:
            raise IncompatibleEnvError(cls.name, needs, has) from None
        if cls.needs_image and len(found.feature_shape) != 2:
            raise IncompatibleEnvError(cls.name, needs, has)

    def act(self, observation: Any, explore: bool = False) -> Any:
        """Returns the predicted class (Discrete) or classes (MultiDiscrete) of the samples.

        With ``explore`` (the core loop's training step) the learner answers, and keeps what it
        computed for :meth:`observe` to learn from.
        """
        x = np.asarray(observation, np.float32)
        x_B = x if self.layout.batched else x[None]
        if explore:
            answers, self._context = self.learner.answer(x_B)
        else:
            answers = self.predict(x_B)
        return answers if self.layout.batched else int(answers[0])

    def predict(self, x_B: np.ndarray) -> np.ndarray:
        """Returns the predicted class of each row of a batch ``(B, *feature_shape)``."""
        raise NotImplementedError

    def observe_reset(self, observation: Any, info: dict[str, Any]) -> None:
        """Starts the learner's epoch with the reset's info."""
        self.learner.start_episode(info)

    def observe(self, transition: Transition) -> bool:
        """Learns from the labels the step revealed; at an epoch's end, asks the learner
        whether to go on.

        Raises:
            IncompatibleEnvError: The step's info has no ``labels``.
        """
        info = transition.info
        if "labels" not in info:
            raise IncompatibleEnvError(
                self.name,
                "an env whose step info reveals the true labels, info['labels'] (such as "
                "arena/Classification-v0)",
                "no info['labels']",
                self.env_id,
            )
        context, self._context = self._context, None
        self.learner.learn(context, info)
        if transition.terminated or transition.truncated:
            return not self.learner.end_episode()
        return True


def layout(observation_space: spaces.Space, action_space: spaces.Space) -> Layout:
    """Reads a classification env's layout from its spaces.

    Raises:
        ValueError: The spaces are not those of a classification env.
    """
    if not isinstance(observation_space, spaces.Box) or observation_space.dtype.kind != "f":
        raise ValueError("the observation space must be a float Box")
    shape = observation_space.shape
    if isinstance(action_space, spaces.Discrete) and action_space.start == 0:
        if len(shape) not in (1, 2) or action_space.n < 2:
            raise ValueError("a sample must be a vector or an image, with two or more classes")
        return Layout(False, 1, tuple(shape), int(action_space.n))
    if isinstance(action_space, spaces.MultiDiscrete):
        nvec = action_space.nvec
        if (
            nvec.ndim != 1
            or len(shape) not in (2, 3)
            or shape[0] != len(nvec)
            or np.any(nvec != nvec[0])
            or nvec[0] < 2
            or np.any(action_space.start != 0)
        ):
            raise ValueError("a MultiDiscrete action must give one class per sample of the batch")
        return Layout(True, len(nvec), tuple(shape[1:]), int(nvec[0]))
    raise ValueError("the action space must be Discrete or MultiDiscrete")


def info_arrays(info: dict[str, Any], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The step's true labels and which rows count (all of them when the env does not say)."""
    labels = np.asarray(info["labels"], np.int64).reshape(batch_size)
    valid = np.asarray(info.get("valid", np.ones(batch_size, bool)), bool).reshape(batch_size)
    return labels, valid
