"""What the supervised agents share: the spaces they play, and the loop that plays the game.

The loop is the game itself: each step shows a batch, the agent answers, the env rewards the
right answers and reveals ``info["labels"]``, and the agent learns from them. An episode is one
pass over the train split, that is, one epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from gymnasium import spaces

from arena.agent import Agent
from arena.callbacks import Callback, EpisodeTracker
from arena.errors import IncompatibleEnvError
from arena.spaces import describe_space

if TYPE_CHECKING:
    import gymnasium as gym


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
    """An agent that plays classification envs: it needs a class per sample as its action."""

    needs_image: bool = False

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        self.layout = layout(observation_space, action_space)

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
        """Returns the predicted class (Discrete) or classes (MultiDiscrete) of the samples."""
        x = np.asarray(observation, np.float32)
        answers = self.predict(x if self.layout.batched else x[None])
        return answers if self.layout.batched else int(answers[0])

    def predict(self, x_B: np.ndarray) -> np.ndarray:
        """Returns the predicted class of each row of a batch ``(B, *feature_shape)``."""
        raise NotImplementedError

    def play(self, env: gym.Env, steps: int, callback: Callback, learner: Learner) -> None:
        """Plays ``steps`` steps of the game, learning from each step's labels."""
        tracker = EpisodeTracker(callback)
        target = self.num_timesteps + steps
        observation, info = env.reset(seed=self.env_seed())
        self.reset()
        learner.start_episode(info)
        while self.num_timesteps < target:
            x = np.asarray(observation, np.float32)
            answers, context = learner.answer(x if self.layout.batched else x[None])
            action = answers if self.layout.batched else int(answers[0])
            observation, reward, terminated, truncated, info = env.step(action)
            self.num_timesteps += 1
            if "labels" not in info:
                raise IncompatibleEnvError(
                    self.name,
                    "an env whose step info reveals the true labels, info['labels'] (such as "
                    "arena/Classification-v0)",
                    "no info['labels']",
                    env.spec.id if env.spec is not None else None,
                )
            learner.learn(context, info)
            done = terminated or truncated
            tracker.record(self.num_timesteps, 0, reward, done, info)
            if done:
                stop = learner.end_episode()
                if not callback.on_step(self.num_timesteps) or stop:
                    return
                observation, info = env.reset()
                self.reset()
                learner.start_episode(info)
        callback.on_step(self.num_timesteps)


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
