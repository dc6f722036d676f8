"""Evaluation: an agent plays whole episodes of the real env, acting only through ``act``."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.callbacks import episode_metrics
from arena.errors import ArenaError

DEFAULT_STEP_CAP = 10_000

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
        metrics: The mean of each numeric ``info["metrics"]`` value at episode ends.
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
        """The mean episode return."""
        return statistics.fmean(self.returns)

    @property
    def std_return(self) -> float:
        """The population standard deviation of the returns."""
        return statistics.pstdev(self.returns)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that ``arena evaluate --json`` prints."""
        return {
            "agent": self.agent,
            "env": self.env,
            "episodes": self.episodes,
            "seed": self.seed,
            "mean_return": self.mean_return,
            "std_return": self.std_return,
            "min_return": min(self.returns),
            "max_return": max(self.returns),
            "mean_length": statistics.fmean(self.lengths),
            "metrics": self.metrics,
        }


def evaluate(
    agent: Agent,
    env: gym.Env,
    episodes: int = 10,
    seed: int = 0,
    explore: bool = False,
    max_episode_steps: int | None = None,
) -> EvalReport:
    """Plays ``episodes`` episodes and reports returns, lengths and the env's metrics.

    The first reset takes ``seed``; later resets continue the env's generator, so the same seed
    gives the same episodes. The agent's episode-start hook runs before every episode.

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
    returns: list[float] = []
    lengths: list[int] = []
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
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
        for key, value in episode_metrics(info).items():
            sums[key] = sums.get(key, 0.0) + value
            counts[key] = counts.get(key, 0) + 1
    metrics = {k: sums[k] / counts[k] for k in sums if math.isfinite(sums[k])}
    env_id = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    return EvalReport(agent.name, env_id, episodes, seed, returns, lengths, metrics)
