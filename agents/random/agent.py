"""The random agent: the baseline that plays any env."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from gymnasium import spaces

from arena.agent import Agent


class RandomAgent(Agent):
    """Acts uniformly at random on any action space; the baseline every agent must beat.

    It learns nothing, but ``learn`` still plays the env in the core loop
    (:mod:`arena.rollout`), so a run records the baseline's returns in ``progress.csv``.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        **kwargs: Any,
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        self._sampler = copy.deepcopy(action_space)
        self._sampler.seed(int(self.np_random.integers(2**31 - 1)))

    def act(self, observation: Any, explore: bool = False) -> Any:
        """Returns a uniformly random action, whatever the observation."""
        return self._sampler.sample()

    def extra_state(self) -> dict[str, Any]:
        """The sampler's generators (the action space's and its subspaces'), so that a loaded
        agent draws on as the saved one would have."""
        return {"sampler": [g.bit_generator.state for g in _generators(self._sampler)]}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        states = extra.get("sampler")  # absent in checkpoints from before exact resume
        if states is None:
            return
        generators = _generators(self._sampler)
        if not isinstance(states, list) or len(states) != len(generators):
            raise ValueError(
                f"its sampler has {len(states)} generators, this one {len(generators)}"
            )
        for generator, state in zip(generators, states, strict=True):
            generator.bit_generator.state = state


def _generators(space: spaces.Space) -> list[np.random.Generator]:
    """The generators ``space`` and its subspaces sample from, depth first."""
    found = [space.np_random]
    for child in _subspaces(space):
        found.extend(_generators(child))
    return found


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
