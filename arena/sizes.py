"""Byte counts for :meth:`arena.agent.Agent.memory_needed`: networks, optimizers, stored spaces.

Estimates, computed from a config and spaces without building anything, so that a config that
would need more memory than the machine has is refused before allocating (see
:mod:`arena.limits`). They count what will be allocated, without padding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

from gymnasium import spaces

FLOAT32 = 4
ADAM_COPIES = 4
"""A float32 parameter trained with Adam: its value, its gradient and Adam's two moments."""


def dense_parameters(widths: Sequence[int]) -> int:
    """Weights and biases of a stack of ``Linear`` layers through ``widths`` (in, ..., out)."""
    return sum(a * b + b for a, b in pairwise(widths))


def adam_bytes(parameters: int) -> int:
    """The bytes of ``parameters`` float32 parameters trained with Adam."""
    return parameters * FLOAT32 * ADAM_COPIES


def space_elements(space: spaces.Space) -> int:
    """How many numbers one value of ``space`` holds as an array (a Discrete value is one)."""
    if isinstance(space, spaces.Discrete):
        return 1
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        return math.prod(space.shape)
    if isinstance(space, spaces.Dict):
        return sum(space_elements(s) for s in space.spaces.values())
    if isinstance(space, spaces.Tuple):
        return sum(space_elements(s) for s in space.spaces)
    return spaces.flatdim(space)


def stored_bytes(space: spaces.Space) -> int:
    """The bytes of one value of ``space`` as a replay buffer stores it: a Box in its dtype,
    discrete values as int64, binary ones as int8, a Dict or Tuple as the sum of its parts."""
    if isinstance(space, spaces.Box):
        return math.prod(space.shape) * space.dtype.itemsize
    if isinstance(space, spaces.MultiBinary):
        return math.prod(space.shape)
    if isinstance(space, spaces.Dict):
        return sum(stored_bytes(s) for s in space.spaces.values())
    if isinstance(space, spaces.Tuple):
        return sum(stored_bytes(s) for s in space.spaces)
    return space_elements(space) * 8
