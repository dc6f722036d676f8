"""The random agent: any space, seeded, and the learn loop's bookkeeping."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import arena
import envs  # noqa: F401
from arena.callbacks import Callback


class Recorder(Callback):
    def __init__(self):
        self.episodes = []
        self.steps = []

    def on_episode(self, episode):
        self.episodes.append(episode)

    def on_step(self, step):
        self.steps.append(step)
        return len(self.episodes) < 5  # Stop after five episodes.


def test_plays_any_space_and_is_seeded():
    for env_id in ("CartPole-v1", "Blackjack-v1", "MountainCarContinuous-v0", "Taxi-v4"):
        env = gym.make(env_id)
        a = arena.make_agent("random", env, seed=3)
        b = arena.make_agent("random", env, seed=3)
        actions_a = [a.act(None) for _ in range(20)]
        actions_b = [b.act(None) for _ in range(20)]
        assert all(np.array_equal(x, y) for x, y in zip(actions_a, actions_b, strict=True))
        assert all(env.action_space.contains(x) for x in actions_a)


def test_learn_reports_episodes_and_stops_when_asked():
    env = gym.make("arena/Chain-v0", length=3)
    agent = arena.make_agent("random", env, seed=0)
    recorder = Recorder()
    assert agent.learn(env, 10_000, callback=recorder, progress=False) is agent
    assert len(recorder.episodes) == 5
    assert agent.num_timesteps == recorder.episodes[-1].step < 10_000
    assert sum(e.length for e in recorder.episodes) == agent.num_timesteps
    assert recorder.episodes[0].metrics.keys() == {"success"}


def test_save_load_same_actions(tmp_path):
    env = gym.make("CartPole-v1")
    agent = arena.make_agent("random", env, seed=11)
    agent.save(tmp_path / "r")
    loaded = arena.load(tmp_path / "r")
    fresh = arena.make_agent("random", env, seed=11)
    assert [loaded.act(None) for _ in range(10)] == [fresh.act(None) for _ in range(10)]
