"""The core's env loop: its cadence, and exact resume across a run boundary mid-episode."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import arena
import envs  # noqa: F401 (registers arena's envs)
from arena import rollout as rollout_module
from arena.agent import Agent
from arena.callbacks import Callback, Episode
from arena.checkpoint import load_checkpoint
from arena.errors import CheckpointError
from arena.rollout import ACTIONS_KEY, SEGMENT_STEPS, OpenEpisode, Transition, replay_cap
from arena.testing import check_resume
from tests.conftest import run_arena


class LinearQ(Agent):
    """A toy learner: a linear Q-function over the flattened observation, TD(0), epsilon-greedy
    from its own generator. It learns from each transition and nothing else."""

    name = "linear-q"

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        if not isinstance(action_space, spaces.Discrete):
            raise cls.incompatible("a Discrete action space", action_space)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        size = spaces.flatdim(self.observation_space)
        self.w_AF = np.zeros((int(self.action_space.n), size))
        self.resets = 0
        self.first_infos: list[dict[str, Any]] = []

    def _features(self, observation: Any) -> np.ndarray:
        return spaces.flatten(self.observation_space, observation).astype(np.float64)

    def act(self, observation: Any, explore: bool = False) -> int:
        if explore and self.np_random.random() < 0.3:
            return int(self.np_random.integers(self.action_space.n))
        return int(np.argmax(self.w_AF @ self._features(observation)))

    def reset(self) -> None:
        self.resets += 1

    def observe_reset(self, observation: Any, info: dict[str, Any]) -> None:
        self.first_infos.append(info)

    def observe(self, transition: Transition) -> None:
        phi = self._features(transition.observation)
        target = float(transition.reward)
        if not transition.terminated:
            target += 0.9 * float(np.max(self.w_AF @ self._features(transition.next_observation)))
        error = target - float(self.w_AF[transition.action] @ phi)
        self.w_AF[transition.action] += 0.01 * error * phi

    def state(self) -> dict[str, Any]:
        return {"w_AF": self.w_AF}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.w_AF = np.array(arrays["w_AF"], dtype=np.float64)


class Log(Callback):
    """Records every hook in order; asks to stop at step ``stop_at``."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.events: list[tuple[str, Any]] = []
        self.stop_at = stop_at

    def on_episode(self, episode: Episode) -> None:
        self.events.append(("episode", episode))

    def on_step(self, step: int) -> bool:
        self.events.append(("step", step))
        return step != self.stop_at

    def episodes(self) -> list[Episode]:
        return [e for kind, e in self.events if kind == "episode"]


def _build(kind: str, env: gym.Env) -> Agent:
    if kind == "random":
        return arena.make_agent("random", env, seed=4)
    return LinearQ(env.observation_space, env.action_space, seed=4)


def _load(kind: str, path: Path) -> Agent:
    return load_checkpoint(path, agent_class=LinearQ if kind == "toy" else None)


# N cuts an episode: CartPole's random episodes last about 20 steps, FrozenLake's about 8.
CASES = {
    ("random", "CartPole-v1"): 50,
    ("random", "FrozenLake-v1"): 23,
    ("random", "Pendulum-v1"): 150,  # Box actions; one episode is 200 steps
    ("toy", "CartPole-v1"): 50,
    ("toy", "FrozenLake-v1"): 23,
    ("random", "Blackjack-v1"): 1500,  # cuts the second segment
}


@pytest.mark.parametrize(("kind", "env_id"), sorted(CASES))
def test_learning_2n_equals_n_then_save_load_and_n_more(tmp_path, kind, env_id):
    steps = CASES[kind, env_id]
    whole_log = Log()
    whole = _build(kind, gym.make(env_id)).learn(gym.make(env_id), 2 * steps, whole_log, False)

    first_log, second_log = Log(), Log()
    saved = _build(kind, gym.make(env_id)).learn(gym.make(env_id), steps, first_log, False)
    assert saved.open_episode is not None and saved.open_episode.actions  # N cut an episode
    saved.save(tmp_path / "ckpt")
    resumed = _load(kind, tmp_path / "ckpt")
    resumed.learn(gym.make(env_id), steps, second_log, False)

    check_resume(whole, resumed, steps)
    assert first_log.episodes() + second_log.episodes() == whole_log.episodes()
    assert "resume" not in resumed.learn_info


def test_two_learn_calls_continue_the_episode_in_progress():
    env = gym.make("CartPole-v1")
    whole = LinearQ(env.observation_space, env.action_space, seed=2).learn(env, 90, progress=False)
    split = LinearQ(env.observation_space, env.action_space, seed=2)
    split.learn(env, 45, progress=False).learn(env, 45, progress=False)
    check_resume(whole, split, 45)
    assert split.resets == whole.resets


def test_on_step_follows_every_step_and_on_episode_comes_first():
    env = gym.make("FrozenLake-v1")
    agent = LinearQ(env.observation_space, env.action_space, seed=0)
    log = Log()
    agent.learn(env, 40, callback=log, progress=False)
    steps = [value for kind, value in log.events if kind == "step"]
    assert steps == list(range(1, 41))
    episodes = log.episodes()
    assert episodes and sum(e.length for e in episodes) <= 40
    for episode in episodes:
        at = log.events.index(("episode", episode))
        assert log.events[at + 1] == ("step", episode.step)
    assert (
        agent.resets == len(agent.first_infos) == len(episodes) + (agent.open_episode is not None)
    )
    assert all("prob" in info for info in agent.first_infos)  # the reset's info reaches the agent


def test_a_stop_request_is_honoured_at_once_and_the_episode_stays_open():
    env = gym.make("CartPole-v1")
    agent = LinearQ(env.observation_space, env.action_space, seed=0)
    agent.learn(env, 1000, callback=Log(stop_at=7), progress=False)
    assert agent.num_timesteps == 7
    assert agent.open_episode is not None and len(agent.open_episode.actions) == 7


def test_observe_returning_false_stops_learning():
    class StopsAtThree(LinearQ):
        def observe(self, transition: Transition) -> bool:
            return self.num_timesteps < 3

    env = gym.make("CartPole-v1")
    agent = StopsAtThree(env.observation_space, env.action_space, seed=0)
    agent.learn(env, 100, progress=False)
    assert agent.num_timesteps == 3


def _half_episode(seed: int = 1) -> Agent:
    env = gym.make("CartPole-v1")
    agent = arena.make_agent("random", env, seed=seed).learn(env, 5, progress=False)
    assert agent.open_episode is not None
    return agent


def test_a_replay_that_does_not_give_back_the_rewards_starts_a_new_episode():
    agent = _half_episode()
    agent.open_episode.ret += 1.0  # as if the env were not deterministic given seed and actions
    agent.learn(gym.make("CartPole-v1"), 5, progress=False)
    assert "not deterministic" in agent.learn_info["resume"]
    assert len(agent.open_episode.actions) == 5


@pytest.mark.filterwarnings("ignore:.*CartPole-v0 is out of date")
def test_another_env_starts_a_new_episode():
    agent = _half_episode()
    agent.learn(gym.make("CartPole-v0"), 5, progress=False)
    assert "it was on CartPole-v1, this run is on CartPole-v0" in agent.learn_info["resume"]


def test_an_episode_too_long_to_record_resumes_as_a_new_episode(tmp_path, monkeypatch):
    monkeypatch.setattr(rollout_module, "MAX_REPLAY_BYTES", 3 * 8)
    agent = _half_episode()
    assert agent.open_episode.actions is None
    agent.save(tmp_path)
    entry = json.loads((tmp_path / "manifest.json").read_text())["rollout"]
    assert entry["recorded"] is False and entry["length"] == 5
    loaded = arena.load(tmp_path)
    loaded.learn(gym.make("CartPole-v1"), 2, progress=False)
    assert "longer than the 3 actions" in loaded.learn_info["resume"]


def test_what_the_replay_can_record():
    assert replay_cap(spaces.Discrete(4)) == 2 * 2**20
    assert replay_cap(spaces.Box(-1, 1, (250, 2), np.float32)) == 8388
    assert replay_cap(spaces.MultiBinary(8)) == 2 * 2**20
    assert replay_cap(spaces.Dict({"a": spaces.Discrete(2)})) == 0
    assert replay_cap(spaces.Text(8)) == 0


def test_a_checkpoint_between_episodes_keeps_the_segment_open(tmp_path):
    env = gym.make("CartPole-v1")
    agent = arena.make_agent("random", env, seed=0)
    agent.learn(env, 1000, callback=_StopAtEpisodeEnd(), progress=False)
    segment = agent.open_episode
    assert not segment.in_episode and segment.length == 0 and segment.steps > 0
    agent.save(tmp_path)
    rollout = json.loads((tmp_path / "manifest.json").read_text())["rollout"]
    assert rollout["in_episode"] is False and rollout["steps"] == segment.steps
    whole = arena.make_agent("random", env, seed=0).learn(env, segment.steps + 30, progress=False)
    resumed = arena.load(tmp_path).learn(gym.make("CartPole-v1"), 30, progress=False)
    check_resume(whole, resumed, 30)
    assert "resume" not in resumed.learn_info


class _CountSeededResets(gym.Wrapper):
    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.seeded = self.unseeded = 0

    def reset(self, *, seed=None, options=None):
        if seed is None:
            self.unseeded += 1
        else:
            self.seeded += 1
        return self.env.reset(seed=seed, options=options)


def test_episodes_reset_unseeded_within_a_segment_of_segment_steps():
    env = _CountSeededResets(gym.make("Blackjack-v1"))
    arena.make_agent("random", env, seed=0).learn(env, 3 * SEGMENT_STEPS, progress=False)
    assert env.seeded == 3  # a new segment at the first episode after each SEGMENT_STEPS steps
    assert env.unseeded > 1_000  # Blackjack's episodes last one or two steps


class _StopAtEpisodeEnd(Callback):
    def __init__(self) -> None:
        self.ended = False

    def on_episode(self, episode: Episode) -> None:
        self.ended = True

    def on_step(self, step: int) -> bool:
        return not self.ended


GOOD = {
    "env": "FrozenLake-v1",
    "seed": 1,
    "return": 0.0,
    "length": 3,
    "steps": 3,
    "in_episode": True,
    "recorded": True,
}


@pytest.mark.parametrize(
    ("rollout", "message"),
    [
        ("open", "'rollout' must be null or an object"),
        ({"seed": 1}, "an open episode is an object with the keys"),
        ({**GOOD, "seed": -1}, "its seed must be"),
        ({**GOOD, "seed": 2**31}, "its seed must be"),
        ({**GOOD, "return": "x"}, "its return must be"),
        ({**GOOD, "env": 3}, "its env must be"),
        ({**GOOD, "length": 2.5}, "its length and steps must be whole numbers"),
        ({**GOOD, "length": 4}, "the length at most steps"),
        ({**GOOD, "recorded": 1}, "its 'in_episode' and 'recorded' must be true or false"),
        ({**GOOD, "in_episode": False}, "between episodes, its length must be 0"),
        ({**GOOD, "steps": 2, "length": 2}, r"its actions must be an array of shape \(2,\)"),
        ({**GOOD, "steps": 2_100_000}, "more than 2097152"),
        ({**GOOD, "recorded": False}, "holds actions that the episode does not record"),
        (None, "holds actions, but no episode is open"),
    ],
)
def test_a_bad_rollout_in_the_manifest_is_refused(tmp_path, rollout, message):
    env = gym.make("FrozenLake-v1")
    agent = arena.make_agent("random", env, seed=0)
    agent.learn(env, 1000, callback=Log(stop_at=3), progress=False).save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["rollout"] == GOOD | {"seed": manifest["rollout"]["seed"]}
    manifest["rollout"] = rollout
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=message):
        arena.load(tmp_path)


def test_a_rollout_from_before_segments_loads_as_a_segment_of_its_episode(tmp_path):
    env = gym.make("FrozenLake-v1")
    whole = arena.make_agent("random", env, seed=0).learn(env, 20, progress=False)
    agent = arena.make_agent("random", env, seed=0)
    agent.learn(env, 1000, callback=Log(stop_at=3), progress=False).save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for key in ("steps", "in_episode"):
        del manifest["rollout"][key]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    loaded = arena.load(tmp_path)
    assert (loaded.open_episode.steps, loaded.open_episode.in_episode) == (3, True)
    check_resume(whole, loaded.learn(gym.make("FrozenLake-v1"), 17, progress=False), 17)


def _rewrite_actions(path: Path, actions: np.ndarray) -> None:
    """Replaces the recorded actions in the state file, and its name and hash in the manifest."""
    import hashlib

    from safetensors.numpy import save

    manifest = json.loads((path / "manifest.json").read_text())
    data = save({ACTIONS_KEY: actions})
    digest = hashlib.sha256(data).hexdigest()
    name = f"state-{digest[:16]}.safetensors"
    (path / name).write_bytes(data)
    manifest["state"] = {"file": name, "sha256": digest, "tensors": "numpy"}
    (path / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.array([0, 1, 4]), "not all in the action space"),
        (np.array([0, 1, 2], np.int32), "must be int64, not int32"),
        (np.array([[0, 1, 2]]), r"must be an array of shape \(3,\)"),
    ],
)
def test_bad_recorded_actions_are_refused(tmp_path, actions, message):
    env = gym.make("FrozenLake-v1")
    agent = arena.make_agent("random", env, seed=0)
    agent.learn(env, 1000, callback=Log(stop_at=3), progress=False).save(tmp_path)
    _rewrite_actions(tmp_path, actions)
    with pytest.raises(CheckpointError, match=message):
        arena.load(tmp_path)


def test_the_actions_are_in_the_state_file_and_a_torch_agent_saves_them_too(tmp_path):
    env = gym.make("arena/Ring8-v0")
    agent = arena.make_agent("gan", env, seed=0, device="cpu")
    actions = [env.action_space.sample()]
    agent.open_episode = OpenEpisode("arena/Ring8-v0", 5, actions, 0.5, 1, 1)
    agent.save(tmp_path)
    loaded = arena.load(tmp_path, device="cpu")
    assert loaded.open_episode == OpenEpisode(
        "arena/Ring8-v0", 5, loaded.open_episode.actions, 0.5, 1, 1
    )
    assert np.array_equal(loaded.open_episode.actions[0], agent.open_episode.actions[0])


def _rows(path: Path) -> list[tuple[str, str, str]]:
    with (path / "progress.csv").open(newline="") as f:
        return [(r["step"], r["return"], r["length"]) for r in csv.DictReader(f)]


def test_arena_train_resume_continues_the_run_exactly(tmp_path):
    common = ["random", "CartPole-v1", "--quiet", "--seed", "3"]
    whole = run_arena("train", *common, "--steps", "100", "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    half = run_arena("train", *common, "--steps", "50", "--out", str(tmp_path / "split"))
    assert half.returncode == 0, half.stderr
    manifest = json.loads((tmp_path / "split" / "manifest.json").read_text())
    assert manifest["rollout"]["length"] > 0  # step 50 is inside an episode
    rest = run_arena("train", "--resume", str(tmp_path / "split"), "--steps", "50", "--quiet")
    assert rest.returncode == 0, rest.stderr
    assert _rows(tmp_path / "split") == _rows(tmp_path / "whole")
    ends = [json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("whole", "split")]
    assert ends[0]["rng"] == ends[1]["rng"] and ends[0]["rollout"] == ends[1]["rollout"]


def test_a_diverged_agents_non_finite_action_stops_training_with_a_message():
    from arena.errors import TrainingError

    env = gym.make("arena/DigitsRecon-v0")
    agent = arena.make_agent("ae", env, learning_rate=1e30, seed=0)
    with pytest.raises(TrainingError, match=r"^ae: its action became nan or infinite by step"):
        agent.learn(env, 5)
