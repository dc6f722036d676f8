"""The random agent: the baseline that plays any env."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from arena.agent import Agent
from arena.callbacks import Callback, EpisodeTracker


class RandomAgent(Agent):
    """Acts uniformly at random on any action space; the baseline every agent must beat.

    It learns nothing, but ``learn`` still plays the env, so a run records the baseline's
    returns in ``progress.csv``.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        **kwargs: Any,
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        self._sampler = copy.deepcopy(action_space)
        _draw_from(self._sampler, self.np_random)

    def act(self, observation: Any, explore: bool = False) -> Any:
        """Returns a uniformly random action, whatever the observation, drawn from
        ``np_random`` (so a checkpoint, which keeps that generator, acts on as it would have)."""
        return self._sampler.sample()

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        tracker = EpisodeTracker(callback)
        env.reset(seed=self.env_seed())
        self.reset()
        for _ in range(steps):
            _, reward, terminated, truncated, info = env.step(self.act(None, explore=True))
            self.num_timesteps += 1
            done = terminated or truncated
            tracker.record(self.num_timesteps, 0, reward, done, info)
            if done:
                env.reset()
                self.reset()
                if not callback.on_step(self.num_timesteps):
                    return
        callback.on_step(self.num_timesteps)


def _draw_from(space: spaces.Space, rng: Any) -> None:
    """Makes ``space`` and its subspaces sample from ``rng``."""
    space._np_random = rng  # what Space.seed sets; Gymnasium has no public setter
    for child in _subspaces(space):
        _draw_from(child, rng)


def _subspaces(space: spaces.Space) -> list[spaces.Space]:
    if isinstance(space, spaces.Dict):
        return list(space.spaces.values())
    if isinstance(space, (spaces.Tuple, spaces.OneOf)):
        return list(space.spaces)
    if isinstance(space, spaces.Sequence):
        return [space.feature_space]
    if isinstance(space, spaces.Graph):
        return [s for s in (space.node_space, space.edge_space) if s is not None]
    return []
