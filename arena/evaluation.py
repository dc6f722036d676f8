"""Evaluation: an agent plays whole episodes of the real env, acting only through ``act``."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.callbacks import episode_metrics
from arena.errors import ArenaError
from arena.runtime import torch_threads

DEFAULT_STEP_CAP = 10_000

SuccessRule = Callable[[float, bool, Mapping[str, Any]], bool]
"""Whether an episode succeeded, from its last step: ``rule(reward, terminated, info)``."""
_SUCCESS_RULES: dict[str, SuccessRule] = {}

if TYPE_CHECKING:
    import gymnasium as gym

    from arena.agent import Agent


@dataclass(frozen=True)
class EvalReport:
    """What :func:`evaluate` measured.

    Attributes:
        agent: The agent's name.
        env: The env's id.
        episodes: How many episodes were played.
        seed: The seed of the first reset.
        returns: Each episode's undiscounted return.
        lengths: Each episode's length.
        metrics: The mean of each numeric ``info["metrics"]`` value at episode ends, and
            ``success``, the fraction of episodes that succeeded, where the env defines it.
    """

    agent: str
    env: str
    episodes: int
    seed: int
    returns: list[float]
    lengths: list[int]
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def mean_return(self) -> float:
        """The mean episode return; NaN when a return is NaN (an agent acting NaN, say)."""
        return statistics.fmean(self.returns)

    @property
    def std_return(self) -> float:
        """The population standard deviation of the returns; NaN when one is not finite."""
        if not all(math.isfinite(r) for r in self.returns):
            return math.nan
        return statistics.pstdev(self.returns)

    def summary(self) -> dict[str, Any]:
        """The report's numbers by name, as :meth:`to_dict` but with NaN and infinities kept."""
        return {
            "agent": self.agent,
            "env": self.env,
            "episodes": self.episodes,
            "seed": self.seed,
            "mean_return": self.mean_return,
            "std_return": self.std_return,
            "min_return": _nan_aware(min, self.returns),
            "max_return": _nan_aware(max, self.returns),
            "mean_length": statistics.fmean(self.lengths),
            "metrics": dict(self.metrics),
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that ``arena evaluate --json`` prints: :meth:`summary` with every
        non-finite number (a NaN return, an infinite one) as None (JSON's null), because NaN
        and Infinity are not JSON."""
        data = self.summary()
        for key in ("mean_return", "std_return", "min_return", "max_return"):
            if not math.isfinite(data[key]):
                data[key] = None
        return data


def _nan_aware(pick: Callable[[list[float]], float], returns: list[float]) -> float:
    """``min`` or ``max`` of the returns, NaN if one of them is NaN (Python's own depend on
    the order)."""
    if any(math.isnan(r) for r in returns):
        return math.nan
    return pick(returns)


def register_success(env_id: str, rule: SuccessRule) -> None:
    """Declares when an episode of ``env_id`` is a success, for the ``success`` metric.

    Env plugins call it from their registration function, for their own ids or for others'
    whose goal is plain (gym-arena's does it for Gymnasium's FrozenLake, Taxi and the like). An
    env whose last ``info`` carries ``is_success``, the convention of Stable-Baselines3 and
    Gymnasium-Robotics, needs no rule.
    """
    _SUCCESS_RULES[env_id] = rule


def episode_success(
    env_id: str | None, reward: float, terminated: bool, info: Mapping[str, Any]
) -> float | None:
    """1.0 or 0.0 for an episode that ended with this step, or None when the env has no notion
    of success (no ``info["is_success"]``, no registered rule)."""
    if "is_success" in info:
        return float(bool(info["is_success"]))
    rule = _SUCCESS_RULES.get(env_id) if env_id is not None else None
    return None if rule is None else float(rule(reward, terminated, info))


def evaluate(
    agent: Agent,
    env: gym.Env,
    episodes: int = 10,
    seed: int = 0,
    explore: bool = False,
    max_episode_steps: int | None = None,
) -> EvalReport:
    """Plays ``episodes`` episodes and reports returns, lengths and the env's metrics.

    The metrics are the mean of each ``info["metrics"]`` value at episode ends, and ``success``,
    the fraction of episodes that succeeded, where the env says what success is (see
    :func:`register_success`).

    The first reset takes ``seed``; later resets continue the env's generator, so the same seed
    gives the same episodes. The agent's episode-start hook runs before every episode. Torch
    runs with the agent's :attr:`~arena.agent.Agent.threads` meanwhile (:mod:`arena.runtime`).

    Args:
        agent: The agent; it acts through ``act`` alone.
        env: A single (not vector) env with the agent's spaces.
        episodes: How many episodes to play.
        seed: Seeds the env's first reset.
        explore: Act as in training instead of greedily.
        max_episode_steps: Cut an episode after this many steps. None uses the env's own time
            limit, or 10,000 steps for an env without one (CliffWalking-v1, say), so that a
            policy that never reaches the goal still ends.

    Raises:
        ArenaError: ``episodes`` is below 1.
        IncompatibleEnvError: The env's spaces differ from the agent's.
    """
    if episodes < 1:
        raise ArenaError(f"episodes must be at least 1, got {episodes}.")
    agent.check_env(env)
    if max_episode_steps is None:
        has_limit = env.spec is not None and env.spec.max_episode_steps is not None
        max_episode_steps = None if has_limit else DEFAULT_STEP_CAP
    elif max_episode_steps < 1:
        raise ArenaError(f"max_episode_steps must be at least 1, got {max_episode_steps}.")
    from arena.registry import load_env_plugins

    load_env_plugins()  # their success rules, for an env made without arena.make_env
    env_id = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    returns: list[float] = []
    lengths: list[int] = []
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    with torch_threads(agent.threads, import_torch=agent.uses_torch):
        for i in range(episodes):
            observation, info = env.reset(seed=seed if i == 0 else None)
            agent.reset()
            total, length, done = 0.0, 0, False
            while not done:
                observation, reward, terminated, truncated, info = env.step(
                    agent.act(observation, explore=explore)
                )
                total += float(reward)
                length += 1
                done = terminated or truncated or length == max_episode_steps
            returns.append(total)
            lengths.append(length)
            scores = episode_metrics(info)
            success = episode_success(env_id, float(reward), bool(terminated), info)
            if success is not None:
                scores["success"] = success
            for key, value in scores.items():
                sums[key] = sums.get(key, 0.0) + value
                counts[key] = counts.get(key, 0) + 1
    metrics = {k: sums[k] / counts[k] for k in sums if math.isfinite(sums[k])}
    return EvalReport(agent.name, env_id, episodes, seed, returns, lengths, metrics)
