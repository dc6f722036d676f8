"""Box spaces survive the checkpoint manifest's JSON form, uniform bounds included."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from arena.spaces import describe_space, space_from_json, space_to_json, spaces_equal


@pytest.mark.parametrize(
    "space",
    [
        spaces.Box(-1.0, 1.0, (3,), np.float32),
        spaces.Box(-np.inf, np.inf, (2, 2), np.float32),
        spaces.Box(np.array([0.0, -1.0]), np.array([1.0, 1.0]), dtype=np.float64),
        spaces.Box(np.zeros(2), np.array([1.0, 2.0]), dtype=np.float64),
        spaces.Dict({"a": spaces.Box(-4.0, 4.0, (8,), np.float32), "b": spaces.Discrete(3)}),
    ],
)
def test_box_round_trip(space):
    again = space_from_json(space_to_json(space))
    assert spaces_equal(space, again)
    assert again == space


def test_a_large_multidiscrete_is_described_by_its_shape():
    assert describe_space(spaces.MultiDiscrete([2, 3])) == "MultiDiscrete([2, 3])"
    assert (
        describe_space(spaces.MultiDiscrete([3] * 10**6))
        == "MultiDiscrete(3 each, shape (1000000,))"
    )
    varied = describe_space(spaces.MultiDiscrete(np.arange(2, 102)))
    assert varied == f"MultiDiscrete([{', '.join(map(str, range(2, 18)))}, ...], shape (100,))"
