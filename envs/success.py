"""When an episode of one of Gymnasium's envs is a success, for ``arena evaluate``'s rate.

Gymnasium's envs do not report it (``info["is_success"]`` is Stable-Baselines3's convention, not
theirs), so gym-arena declares it for those whose goal is plain, through
:func:`arena.evaluation.register_success`, the call any env plugin can make for its own ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arena.evaluation import SuccessRule, register_success


def reached_the_goal(reward: float, terminated: bool, info: Mapping[str, Any]) -> bool:
    """Ended on a rewarded step: FrozenLake's holes end the episode too, with reward 0."""
    return terminated and reward > 0


def ended(reward: float, terminated: bool, info: Mapping[str, Any]) -> bool:
    """Ended before the time limit: these envs end only when the goal is reached."""
    return terminated


def won(reward: float, terminated: bool, info: Mapping[str, Any]) -> bool:
    """A positive last reward: Blackjack's win (a draw pays 0, a loss -1)."""
    return reward > 0


RULES: dict[str, SuccessRule] = {
    "FrozenLake-v1": reached_the_goal,
    "FrozenLake8x8-v1": reached_the_goal,
    "Taxi-v4": ended,  # only a drop-off at the destination ends an episode
    "CliffWalking-v1": ended,  # the cliff sends the agent back to the start, it does not end
    "MountainCar-v0": ended,  # the flag reached
    "Acrobot-v1": ended,  # the tip swung above the line
    "Blackjack-v1": won,
}


def register_success_rules() -> None:
    """Declares :data:`RULES`; safe to call more than once."""
    for env_id, rule in RULES.items():
        register_success(env_id, rule)
