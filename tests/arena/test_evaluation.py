"""evaluate(): determinism, the episode-start hook, metrics."""

from __future__ import annotations

import gymnasium as gym
import pytest

import arena
import envs  # noqa: F401
from arena.callbacks import Callback
from arena.errors import ArenaError, IncompatibleEnvError


def test_same_seed_same_report():
    env = gym.make("CartPole-v1")
    reports = [
        arena.evaluate(arena.make_agent("random", env, seed=1), env, episodes=4, seed=5)
        for _ in range(2)
    ]
    assert reports[0] == reports[1]
    assert reports[0].to_dict()["episodes"] == 4


def test_reset_hook_runs_at_every_episode_start(monkeypatch):
    env = gym.make("arena/Chain-v0")
    agent = arena.make_agent("random", env, seed=0)
    calls = []
    monkeypatch.setattr(agent, "reset", lambda: calls.append(agent.num_timesteps))
    arena.evaluate(agent, env, episodes=6, seed=0)
    assert len(calls) == 6
    episodes = []
    episode_counter = Callback()
    episode_counter.on_episode = episodes.append
    agent.learn(env, 300, callback=episode_counter, progress=False)
    # Training resets once before its first episode and once after every episode that ends.
    assert len(calls) - 6 == 1 + len(episodes)
    assert len(episodes) >= 3


def test_metrics_are_averaged_over_episode_ends():
    env = gym.make("arena/Chain-v0", length=3)
    report = arena.evaluate(arena.make_agent("random", env, seed=0), env, episodes=20, seed=0)
    assert 0.0 < report.metrics["success"] <= 1.0


def test_bad_episode_count_and_wrong_env():
    env = gym.make("arena/Chain-v0")
    agent = arena.make_agent("random", env, seed=0)
    with pytest.raises(ArenaError, match="at least 1"):
        arena.evaluate(agent, env, episodes=0)
    with pytest.raises(IncompatibleEnvError, match="CartPole-v1 has Box"):
        arena.evaluate(agent, gym.make("CartPole-v1"), episodes=1)


def test_vector_env_arguments_are_not_recorded_as_game_arguments():
    env = gym.make_vec("FrozenLake-v1", num_envs=2, vectorization_mode="sync", map_name="8x8")
    agent = arena.make_agent("random", gym.make("FrozenLake-v1", map_name="8x8"), seed=0)
    agent.remember_env(env)
    assert agent.env_id == "FrozenLake-v1"
    assert agent.env_kwargs == {"map_name": "8x8"}


def test_an_env_without_a_time_limit_still_ends():
    env = gym.make("CliffWalking-v1")
    assert env.spec.max_episode_steps is None
    agent = arena.make_agent("random", env, seed=0)
    report = arena.evaluate(agent, env, episodes=2, seed=0, max_episode_steps=50)
    assert max(report.lengths) <= 50
    with pytest.raises(ArenaError, match="at least 1"):
        arena.evaluate(agent, env, episodes=1, max_episode_steps=0)


class Coin(gym.Env):
    """One step: action 1 wins. Reports SB3's ``is_success`` when ``convention`` is set."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, convention: bool = False) -> None:
        self.convention = convention

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        info = {"is_success": action == 1} if self.convention else {}
        return 0, float(action), True, False, info


def test_success_rate_from_is_success_or_a_registered_rule():
    from arena.evaluation import register_success

    gym.register("test/Coin-v0", entry_point=Coin)
    env = gym.make("test/Coin-v0")
    agent = arena.make_agent("random", env, seed=0)
    assert "success" not in arena.evaluate(agent, env, episodes=50, seed=0).metrics
    register_success("test/Coin-v0", lambda reward, terminated, info: reward > 0)
    report = arena.evaluate(agent, env, episodes=50, seed=0)
    assert report.metrics["success"] == pytest.approx(report.mean_return)
    assert 0.2 < report.metrics["success"] < 0.8
    sb3_style = gym.make("test/Coin-v0", convention=True)
    report = arena.evaluate(agent, sb3_style, episodes=50, seed=0)
    assert report.metrics["success"] == pytest.approx(report.mean_return)


@pytest.mark.parametrize(
    "env_id", ["FrozenLake-v1", "Taxi-v4", "CliffWalking-v1", "MountainCar-v0", "Blackjack-v1"]
)
def test_gymnasium_envs_report_success(env_id):
    env = arena.make_env(env_id)
    agent = arena.make_agent("random", env, seed=0)
    report = arena.evaluate(agent, env, episodes=20, seed=0, max_episode_steps=300)
    assert 0.0 <= report.metrics["success"] <= 1.0
    if env_id == "FrozenLake-v1":  # the return is 1 exactly at the goal
        assert report.metrics["success"] == pytest.approx(report.mean_return)
