"""Rosenblatt's perceptron as an agent of the classification game (numpy only)."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from agents.supervised.common import SupervisedAgent, info_arrays, layout
from agents.supervised.config import PerceptronConfig
from arena.callbacks import Callback


class Perceptron(SupervisedAgent):
    """Rosenblatt's perceptron: one linear score per class, corrected on each mistake.

    On a mistake it adds the sample to the true class's weights and subtracts it from the
    guessed class's (the multi-class rule). It learns online, one labelled sample at a time, in
    the order the env shows them. On linearly separable data it reaches an epoch without a
    mistake, that is 100% training accuracy, and stops; otherwise (XOR, say) its learn summary
    says that it did not converge.
    """

    Config = PerceptronConfig
    presets = "perceptron_presets.toml"
    learner: _PerceptronLearner

    @classmethod
    def memory_needed(
        cls, config: PerceptronConfig, observation_space: Any, action_space: Any
    ) -> dict[str, int]:
        """The float64 weights, a row per class (the spaces decide it, not the config)."""
        found = layout(observation_space, action_space)
        features = math.prod(found.feature_shape)
        return {
            f"weights ({found.n_classes} classes x {features + 1})": found.n_classes
            * (features + 1)
            * 8
        }

    def __init__(self, observation_space: Any, action_space: Any, **kwargs: Any) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        features = int(np.prod(self.layout.feature_shape))
        self.weights = np.zeros((self.layout.n_classes, features + 1))
        """Per-class weights; the last column is the bias."""
        self.epochs = 0
        self.converged = False
        self.learner = _PerceptronLearner(self)

    def predict(self, x_B: np.ndarray) -> np.ndarray:
        scores = x_B.reshape(len(x_B), -1) @ self.weights[:, :-1].T + self.weights[:, -1]
        return scores.argmax(axis=1)

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        super()._learn(env, steps, callback)
        self.learn_info.update(
            converged=self.converged,
            epochs=self.epochs,
            mistakes_in_last_epoch=self.learner.last_mistakes,
        )
        if not self.converged:
            self.learn_info["note"] = (
                "no epoch without a mistake within the budget: the data may not be linearly "
                "separable (XOR is not), or it needs more steps"
            )

    def state(self) -> dict[str, Any]:
        return {"weights": self.weights}

    def extra_state(self) -> dict[str, Any]:
        """The epoch count, and the mistakes of this epoch so far and of the last one."""
        return {
            "epochs": self.epochs,
            "converged": self.converged,
            "mistakes": self.learner.mistakes,
            "last_mistakes": self.learner.last_mistakes,
        }

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        weights = np.asarray(arrays["weights"], np.float64)
        if weights.shape != self.weights.shape:
            raise ValueError(f"weights have shape {weights.shape}, expected {self.weights.shape}")
        self.weights = weights.copy()
        self.epochs = int(extra.get("epochs", 0))
        self.converged = bool(extra.get("converged", False))
        self.learner.mistakes = int(extra.get("mistakes", 0))
        last = extra.get("last_mistakes")
        self.learner.last_mistakes = None if last is None else int(last)


class _PerceptronLearner:
    """Rosenblatt's online rule over each step's labelled rows, in order."""

    def __init__(self, agent: Perceptron) -> None:
        self.agent = agent
        self.lr = agent.config.learning_rate
        self.mistakes = 0
        self.last_mistakes: int | None = None

    def start_episode(self, info: dict[str, Any]) -> None:
        self.mistakes = 0

    def answer(self, x_B: np.ndarray) -> tuple[np.ndarray, Any]:
        return self.agent.predict(x_B), x_B

    def learn(self, x_B: np.ndarray, info: dict[str, Any]) -> None:
        labels, valid = info_arrays(info, len(x_B))
        weights = self.agent.weights
        rows = np.hstack([x_B.reshape(len(x_B), -1), np.ones((len(x_B), 1))])
        for row, label in zip(rows[valid], labels[valid], strict=True):
            guess = int(np.argmax(weights @ row))
            if guess != label:
                weights[label] += self.lr * row
                weights[guess] -= self.lr * row
                self.mistakes += 1

    def end_episode(self) -> bool:
        agent = self.agent
        agent.epochs += 1
        self.last_mistakes = self.mistakes
        agent.converged = self.mistakes == 0
        return agent.converged and agent.config.stop_when_converged
