"""Every plugin env id, whichever package adds it, passes Gymnasium's and SB3's checks."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

from arena.registry import env_owners
from tests.envs.idx_data import make_or_skip

PLUGIN_IDS = sorted(env_owners())


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_there_are_plugin_envs():
    assert "arena/Chain-v0" in PLUGIN_IDS


@pytest.mark.parametrize("env_id", PLUGIN_IDS)
def test_gymnasium_and_sb3_checkers_pass_with_warnings_as_errors(env_id):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = make_or_skip(env_id)
        gym_check_env(env.unwrapped, skip_render_check=False)
        # An env whose spaces SB3 does not take says why in its metadata.
        if "sb3_unsupported" not in env.unwrapped.metadata:
            sb3_check_env(env, warn=True)
        env.close()
        env.close()  # close() is safe to call twice.


@pytest.mark.parametrize("env_id", PLUGIN_IDS)
def test_module_prefix_and_seeded_reset(env_id):
    module = gym.spec(env_id).entry_point.split(":")[0].split(".")[0]
    env = make_or_skip(f"{module}:{env_id}")
    first, _ = env.reset(seed=123)
    env.step(env.action_space.sample())
    again, _ = env.reset(seed=123)
    assert _same(first, again)
    env.close()
