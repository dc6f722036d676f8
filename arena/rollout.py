"""The one env loop for agents that step a single env, and the episode it leaves open.

An agent that plays one env does not write a loop: :meth:`arena.agent.Agent._learn` runs
:func:`rollout`, and the agent writes what it learns from a transition in
:meth:`~arena.agent.Agent.observe` (and, if it reads the reset's ``info``, in
:meth:`~arena.agent.Agent.observe_reset`). Compiled and vectorised fast paths (the tabular
kernel, a vector env, SB3) keep their own loops.

The cadence, for each env step::

    (episode start) agent.reset(); observation, info = env.reset(seed=agent.env_seed())
                    agent.observe_reset(observation, info)
    action = agent.act(observation, explore=True)
    env.step(action); agent.num_timesteps += 1
    agent.observe(Transition(...))          # learn; False asks to stop
    callback.on_episode(episode)            # only when the step ended the episode
    callback.on_step(agent.num_timesteps)   # after every step, as in SB3

Learning stops right after the step whose ``on_step`` (or ``observe``) said False, or when the
budget is spent. A new episode starts lazily, at the first step that needs it, so its seed is
drawn from the agent's generator at the same point whether or not a run was split there.

Play is cut into segments: a segment starts with an env reset seeded from the agent's own
generator, and its later episodes start with unseeded resets, which carry on the env's own
generator; an episode that starts after :data:`SEGMENT_STEPS` steps of its segment starts a new
one. So a segment is reproducible from its seed and its actions, and a seeded reset (about 10
µs: Gymnasium builds a new generator) is paid once per segment, not once per episode of a game
whose episodes last a step or two. The agent keeps the segment it is in, :class:`OpenEpisode`
(its seed, its actions, and where the episode in progress is), across ``learn`` calls and in
its checkpoint (the actions in the state file, beside the agent's arrays, the rest in the
manifest's ``rollout``); the next ``learn`` resets the env with that seed and replays the
actions, resetting unseeded where an episode ended, without learning from them or telling the
callbacks, to put the env back where it was. So ``learn(2N)`` gives the same agent as
``learn(N)``, save, load, ``learn(N)`` when the env is deterministic given its seed and actions
(Gymnasium's classic-control and toy-text envs, arena's envs). Two limits:

- a segment keeps at most :data:`MAX_REPLAY_BYTES` of actions (two million Discrete actions,
  8,000 of a ``Box(250, 2)`` float32 batch), and only for a Discrete, Box, MultiDiscrete or
  MultiBinary action space; past that it is not recorded (and ends with its episode), and the
  next ``learn`` starts a new episode and says so in ``agent.learn_info["resume"]``;
- if the replay does not give back the rewards and episode ends recorded (the env is not
  deterministic), the next ``learn`` also starts a new episode and says so.

The replay costs the open segment's length in env steps (about :data:`SEGMENT_STEPS` plus an
episode) at each ``learn`` call.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from gymnasium import spaces

from arena.callbacks import Callback, EpisodeTracker
from arena.errors import TrainingError

if TYPE_CHECKING:
    import gymnasium as gym

    from arena.agent import Agent

MAX_REPLAY_BYTES = 16 * 2**20
"""The most bytes of actions an open episode records for its replay (in the state file)."""
ACTIONS_KEY = "arena.rollout.actions"
"""The name of the open episode's actions among the state file's arrays."""
MAX_SEED = 2**31 - 1
_SCALARS = (int, np.integer)
"""Actions recorded as they are; others (arrays) are copied, since an agent may reuse them."""
SEGMENT_STEPS = 1024
"""Steps of a segment after which the next episode starts a new one, with a seeded reset."""


class Transition(NamedTuple):
    """One env step, as :meth:`~arena.agent.Agent.observe` sees it (a tuple: cheap to build).

    Attributes:
        observation: The observation the agent acted on.
        action: The action it took.
        reward: The step's reward.
        next_observation: The observation after the step (the last one, when the episode ended).
        terminated: The episode reached a terminal state.
        truncated: The episode was cut short (a time limit).
        info: The step's ``info``.
    """

    observation: Any
    action: Any
    reward: float
    next_observation: Any
    terminated: bool
    truncated: bool
    info: dict[str, Any]


@dataclass
class OpenEpisode:
    """The segment an agent is in: enough to put a fresh env back where it was.

    Attributes:
        env_id: The id of the env it plays (None for an env without a spec).
        seed: The seed its first reset took.
        actions: The segment's actions so far; None once there were too many to record.
        ret: The sum of the segment's rewards so far, which the replay must give back.
        length: The steps of the episode in progress (0 between episodes).
        steps: The segment's steps so far.
        in_episode: Whether an episode is in progress (False: the last one ended, and the next
            starts with an unseeded reset).
    """

    env_id: str | None
    seed: int
    actions: list[Any] | None = field(default_factory=list)
    ret: float = 0.0
    length: int = 0
    steps: int = 0
    in_episode: bool = True

    def end_episode(self) -> bool:
        """Marks the episode in progress ended; returns whether the segment goes on."""
        if self.steps >= SEGMENT_STEPS or self.actions is None:
            return False
        self.length, self.in_episode = 0, False
        return True


def rollout(agent: Agent, env: gym.Env, steps: int, callback: Callback) -> None:
    """Plays ``env`` for ``steps`` steps with ``agent``, in the cadence the module describes.

    Args:
        agent: The learning agent; its ``open_episode`` is continued and left open.
        env: One env with the agent's spaces.
        steps: Env steps to take.
        callback: Sees each finished episode and the step count after every step.
    """
    tracker = EpisodeTracker(callback)
    cap = replay_cap(agent.action_space)
    end = agent.num_timesteps + steps
    observation = None
    if agent.open_episode is not None and steps > 0:
        observation = _replay(agent, env, tracker)
    episode = agent.open_episode
    # The hot loop must cost little next to env.step: bound methods are looked up once, and
    # the segment's and the tracker's sums are kept inline rather than in method calls.
    act, observe, step, on_step = agent.act, agent.observe, env.step, callback.on_step
    returns, lengths = tracker.returns, tracker.lengths
    new_tuple = tuple.__new__  # Transition(...) runs namedtuple's Python-level __new__
    while agent.num_timesteps < end:
        if observation is None:
            observation = _begin(agent, env)
            episode = agent.open_episode
        action = act(observation, explore=True)
        try:
            next_observation, reward, terminated, truncated, info = step(action)
        except ValueError:
            _refuse_nonfinite(agent, action)  # the env's refusal of a diverged agent's answer
            raise
        agent.num_timesteps += 1
        now = agent.num_timesteps
        reward_ = float(reward)
        episode.ret += reward_
        episode.length += 1
        episode.steps += 1
        recorded = episode.actions
        if recorded is not None:
            if len(recorded) >= cap:
                episode.actions = None
            else:
                recorded.append(action if isinstance(action, _SCALARS) else copy.deepcopy(action))
        keep_going = observe(
            new_tuple(
                Transition,
                (observation, action, reward, next_observation, terminated, truncated, info),
            )
        )
        if terminated or truncated:
            tracker.record(now, 0, reward_, True, info)
            if not episode.end_episode():
                agent.open_episode = None
            observation = None
        else:
            returns[0] += reward_
            lengths[0] += 1
            observation = next_observation
        if not on_step(now) or keep_going is False:
            return


def _refuse_nonfinite(agent: Agent, action: Any) -> None:
    """Raises :class:`TrainingError` when ``action`` holds a NaN or an infinity."""
    values = np.asarray(action)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise TrainingError(
            f"{agent.name}: its action became nan or infinite by step {agent.num_timesteps + 1} "
            "(its training diverged). Training stopped without saving these weights; the run's "
            "last finite checkpoint, if it has one, is kept. Try a lower learning rate."
        )


def replay_cap(action_space: spaces.Space) -> int:
    """How many actions of ``action_space`` an open episode records (0: it cannot record)."""
    size = _action_bytes(action_space)
    return MAX_REPLAY_BYTES // size if size else 0


def episode_to_checkpoint(
    episode: OpenEpisode | None, action_space: spaces.Space
) -> tuple[dict[str, Any] | None, dict[str, np.ndarray]]:
    """The open episode for a checkpoint: its manifest entry, and its actions as arrays.

    Returns:
        ``(entry, arrays)``: the entry is None between episodes; the arrays (for the state file)
        hold the actions under :data:`ACTIONS_KEY` when there are any to replay.
    """
    if episode is None:
        return None, {}
    entry = {
        "env": episode.env_id,
        "seed": episode.seed,
        "return": episode.ret if math.isfinite(episode.ret) else None,
        "length": episode.length,
        "steps": episode.steps,
        "in_episode": episode.in_episode,
        "recorded": episode.actions is not None,
    }
    if not episode.actions:
        return entry, {}
    dtype = _action_dtype(action_space)
    return entry, {ACTIONS_KEY: np.stack([np.asarray(a, dtype) for a in episode.actions])}


def recorded_bytes(entry: Any, action_space: spaces.Space) -> int:
    """The bytes of actions that a manifest's ``rollout`` entry says the state file holds."""
    if not isinstance(entry, dict) or entry.get("recorded") is not True:
        return 0
    steps = entry.get("steps", entry.get("length"))
    if not _is_count(steps):
        return 0
    return _action_bytes(action_space) * min(steps, replay_cap(action_space))


def episode_from_checkpoint(
    entry: Any, actions: Any, action_space: spaces.Space
) -> OpenEpisode | None:
    """Reads what :func:`episode_to_checkpoint` wrote, checking every field.

    Args:
        entry: The manifest's ``rollout`` entry.
        actions: The state file's :data:`ACTIONS_KEY` array, as numpy, or None.
        action_space: The agent's action space.

    Raises:
        ValueError: They are not an open episode of this action space; the message says why.
    """
    if entry is None:
        if actions is not None:
            raise ValueError("the state file holds actions, but no episode is open")
        return None
    keys = {"env", "seed", "return", "length", "steps", "in_episode", "recorded"}
    if isinstance(entry, dict) and set(entry) == keys - {"steps", "in_episode"}:
        # Before segments (the same format version): a segment of the one episode in progress.
        entry = {**entry, "steps": entry["length"], "in_episode": True}
    if not isinstance(entry, dict) or set(entry) != keys:
        raise ValueError(f"an open episode is an object with the keys {sorted(keys)}")
    env_id, seed, ret, length = entry["env"], entry["seed"], entry["return"], entry["length"]
    steps, in_episode = entry["steps"], entry["in_episode"]
    if not (env_id is None or (isinstance(env_id, str) and len(env_id) <= 200)):
        raise ValueError("its env must be null or an env id")
    if not _is_count(seed) or seed > MAX_SEED:
        raise ValueError(f"its seed must be an integer from 0 to {MAX_SEED}")
    if ret is not None and (isinstance(ret, bool) or not isinstance(ret, (int, float))):
        raise ValueError("its return must be null or a number")
    if not _is_count(length) or not _is_count(steps) or length > steps:
        raise ValueError("its length and steps must be whole numbers, the length at most steps")
    if not isinstance(in_episode, bool) or not isinstance(entry["recorded"], bool):
        raise ValueError("its 'in_episode' and 'recorded' must be true or false")
    if not in_episode and (length or not steps or not entry["recorded"]):
        raise ValueError("between episodes, its length must be 0 and its steps recorded")
    recorded = None
    if entry["recorded"]:
        if steps > replay_cap(action_space):
            raise ValueError(f"it records {steps} actions, more than {replay_cap(action_space)}")
        recorded = _actions(actions, steps, action_space)
    elif actions is not None:
        raise ValueError("the state file holds actions that the episode does not record")
    ret = math.nan if ret is None else float(ret)
    return OpenEpisode(env_id, seed, recorded, ret, length, steps, in_episode)


def _begin(agent: Agent, env: gym.Env) -> Any:
    """Starts an episode; returns its observation.

    Within a segment the reset is unseeded; otherwise a new segment starts, with a seed from the
    agent's generator.
    """
    segment = agent.open_episode
    if segment is None:
        seed = agent.env_seed()
        agent.open_episode = OpenEpisode(env.spec.id if env.spec is not None else None, seed)
        agent.reset()
        observation, info = env.reset(seed=seed)
    else:
        segment.in_episode = True
        agent.reset()
        observation, info = env.reset()
    agent.observe_reset(observation, info)
    return observation


def _replay(agent: Agent, env: gym.Env, tracker: EpisodeTracker) -> Any:
    """Puts ``env`` back in the agent's open episode; returns its observation, or None if not.

    The replayed rewards go to ``tracker``, so the episode's row counts all of it. When the
    episode cannot be replayed, the agent's ``learn_info["resume"]`` says why and the loop starts
    a new one.
    """
    episode = agent.open_episode
    env_id = env.spec.id if env.spec is not None else None
    why = None
    if episode.env_id != env_id and not episode.in_episode:
        agent.open_episode = None  # between episodes: a new segment loses nothing
        return None
    if episode.actions is None:
        cap = replay_cap(agent.action_space)
        why = f"it was longer than the {cap} actions arena records for a replay"
    elif episode.env_id != env_id:
        why = f"it was on {episode.env_id}, this run is on {env_id}"
    else:
        observation, _ = env.reset(seed=episode.seed)
        ret, done, length = 0.0, False, 0
        for action in episode.actions:
            if done:  # an episode of the segment ended here: the next one began unseeded
                observation, _ = env.reset()
                length, tracker.returns[0], tracker.lengths[0] = 0, 0.0, 0
            observation, reward, terminated, truncated, info = env.step(action)
            ret += float(reward)
            length += 1
            done = bool(terminated or truncated)
            tracker.record(agent.num_timesteps, 0, reward, False, info)
        same_return = ret == episode.ret or not math.isfinite(episode.ret)
        if done:
            tracker.returns[0], tracker.lengths[0] = 0.0, 0
        if same_return and done != episode.in_episode and length == (episode.length or length):
            return observation if episode.in_episode else None
        why = "replaying its seed and actions did not give back its rewards and episode ends: "
        why += "the env is not deterministic given them"
        tracker.returns[0], tracker.lengths[0] = 0.0, 0
    agent.learn_info["resume"] = (
        f"started a new episode instead of continuing the one in progress ({why}), so this "
        "run differs from one that was not interrupted"
    )
    agent.open_episode = None
    return None


def _action_dtype(space: spaces.Space) -> np.dtype:
    return np.dtype(np.int64) if isinstance(space, spaces.Discrete) else np.dtype(space.dtype)


def _action_bytes(space: spaces.Space) -> int:
    """The bytes one recorded action of ``space`` takes; 0 for spaces the replay cannot record."""
    if isinstance(space, spaces.Discrete):
        return 8
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        return max(int(np.prod(space.shape)), 1) * np.dtype(space.dtype).itemsize
    return 0


def _actions(array: Any, length: int, space: spaces.Space) -> list[Any]:
    """The recorded actions, checked to be ``length`` actions of ``space``."""
    if length == 0 and array is None:
        return []
    shape = (length, *(() if isinstance(space, spaces.Discrete) else space.shape))
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise ValueError(f"its actions must be an array of shape {shape}")
    if array.dtype != _action_dtype(space):
        raise ValueError(f"its actions must be {_action_dtype(space)}, not {array.dtype}")
    if isinstance(space, spaces.Discrete):
        if not ((array >= space.start) & (array < space.start + space.n)).all():
            raise ValueError("its actions are not all in the action space")
        return [int(a) for a in array]
    actions = list(array)
    if not all(space.contains(a) for a in actions):
        raise ValueError("its actions are not all in the action space")
    return actions


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
