"""What an agent's ``learn()`` loop reports while it runs.

The loop tells a :class:`Callback` when an episode ends and how many steps it has taken: the core's
loop (:mod:`arena.rollout`) calls ``on_step`` after every env step, as SB3 does; a family's own
fast path (a compiled kernel, a vector env) at least once per episode or per compiled chunk.
Callbacks record progress, write ``progress.csv``, save checkpoints, and may ask the loop to stop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arena.agent import Agent


@dataclass(frozen=True)
class Episode:
    """One finished training episode.

    Attributes:
        step: The agent's total step count when the episode ended.
        ret: The undiscounted return.
        length: The number of steps.
        metrics: The numeric values of the env's ``info["metrics"]`` at the episode's end.
    """

    step: int
    ret: float
    length: int
    metrics: Mapping[str, float] = field(default_factory=dict)


class Callback:
    """Hooks called from an agent's learning loop. Every hook does nothing by default."""

    def on_learn_start(self, agent: Agent, steps: int) -> None:
        """Called once before the loop, with the number of steps this call will take."""

    def on_episode(self, episode: Episode) -> None:
        """Called when a training episode ends."""

    def on_step(self, step: int) -> bool:
        """Called with the agent's total step count; return False to stop learning early."""
        return True

    def on_learn_end(self, agent: Agent) -> None:
        """Called once after the loop, also when it stopped early."""


class CallbackList(Callback):
    """Calls several callbacks in order; learning stops when any of them says so."""

    def __init__(self, callbacks: Iterable[Callback | None]) -> None:
        self.callbacks = [c for c in callbacks if c is not None]

    def on_learn_start(self, agent: Agent, steps: int) -> None:
        for c in self.callbacks:
            c.on_learn_start(agent, steps)

    def on_episode(self, episode: Episode) -> None:
        for c in self.callbacks:
            c.on_episode(episode)

    def on_step(self, step: int) -> bool:
        keep_going = True
        for c in self.callbacks:
            keep_going = c.on_step(step) and keep_going
        return keep_going

    def on_learn_end(self, agent: Agent) -> None:
        """Runs every callback's hook, even after one raised (a guard refusing the final
        weights), so that files and progress bars close; then raises the first error."""
        error: BaseException | None = None
        for c in self.callbacks:
            try:
                c.on_learn_end(agent)
            except BaseException as e:
                error = error or e
        if error is not None:
            raise error


def episode_metrics(info: Mapping[str, Any]) -> dict[str, float]:
    """Returns the finite numeric values of ``info["metrics"]``, the env's end-of-episode scores."""
    metrics = info.get("metrics") or {}
    out = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[key] = number
    return out


class EpisodeTracker:
    """Sums rewards per episode for a loop over one env or a vector env.

    Args:
        callback: Receives each finished episode.
        num_envs: How many envs step side by side.
    """

    def __init__(self, callback: Callback, num_envs: int = 1) -> None:
        self.callback = callback
        self.returns = [0.0] * num_envs
        self.lengths = [0] * num_envs

    def record(
        self, step: int, index: int, reward: float, done: bool, info: Mapping[str, Any]
    ) -> Episode | None:
        """Adds one reward for env ``index``; reports and returns the episode if it ended."""
        self.returns[index] += float(reward)
        self.lengths[index] += 1
        if not done:
            return None
        episode = Episode(step, self.returns[index], self.lengths[index], episode_metrics(info))
        self.returns[index] = 0.0
        self.lengths[index] = 0
        self.callback.on_episode(episode)
        return episode
