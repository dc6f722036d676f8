"""arena/Chain-v0: dynamics, the tabular model, the documented info keys, rendering."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from envs.chain import ChainEnv


def test_walking_right_reaches_the_goal_in_length_minus_one_steps():
    env = gym.make("arena/Chain-v0", length=5)
    env.reset(seed=0)
    rewards = []
    for _ in range(4):
        _, reward, terminated, truncated, info = env.step(1)
        rewards.append(reward)
    assert rewards == [0.0, 0.0, 0.0, 1.0]
    assert terminated and not truncated
    assert info["metrics"] == {"success": 1.0}


def test_truncation_comes_from_the_registration():
    env = gym.make("arena/Chain-v0")
    env.reset(seed=0)
    for _ in range(100):
        *_, terminated, truncated, info = env.step(0)
    assert truncated and not terminated
    assert info["metrics"] == {"success": 0.0}


def test_tabular_model_is_a_distribution():
    env = ChainEnv(length=4, slip=0.25)
    for s in range(4):
        for a in range(2):
            assert sum(t[0] for t in env.P[s][a]) == pytest.approx(1.0)
    assert env.initial_state_distrib.sum() == 1.0


def test_onehot_observations():
    env = gym.make("arena/Chain-v0", observation="onehot", length=4)
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_documented_info_keys_are_returned():
    documented = set(re.findall(r"^    - ``(\w+)``:", ChainEnv.__doc__.split("## Info")[1], re.M))
    env = gym.make("arena/Chain-v0")
    _, info = env.reset(seed=0)
    assert documented == {"prob", "metrics"}
    assert set(info) == documented
    *_, info = env.step(1)
    assert set(info) == documented


def test_rgb_frames():
    env = gym.make("arena/Chain-v0", render_mode="rgb_array", length=4)
    env.reset(seed=0)
    first = env.render()
    env.step(1)
    second = env.render()
    assert first.shape == (48, 192, 3) and first.dtype == np.uint8
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"length": 1}, "length"),
        ({"slip": 2.0}, "slip"),
        ({"observation": "pixels"}, "observation"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ChainEnv(**kwargs)
