"""An env's tabular model as arrays, for the tabular agents' compiled loop.

Gymnasium's toy-text envs (and ``arena/Chain-v0``) carry their dynamics as ``unwrapped.P[s][a]``,
a list of ``(probability, next_state, reward, terminated)``, and their start states as
``unwrapped.initial_state_distrib``. :func:`find_model` turns those into arrays once, and says
why not when the model would not be the same game as stepping the env.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, TimeLimit

# Wrappers that change nothing the model has to know, apart from TimeLimit's step limit.
_TRANSPARENT = (OrderEnforcing, PassiveEnvChecker, TimeLimit)


@dataclass(frozen=True)
class TabularModel:
    """A finite MDP with at most ``K`` outcomes per state-action pair.

    Attributes:
        cdf_SAK: Cumulative outcome probabilities of each pair, padded with the last value.
        next_SAK: Each outcome's next state.
        reward_SAK: Each outcome's reward.
        term_SAK: Whether each outcome terminates the episode.
        count_SA: How many outcomes each pair has.
        init_cdf_S: Cumulative probabilities of the start state.
        max_t: The episode's step limit, 0 for none.
    """

    cdf_SAK: np.ndarray
    next_SAK: np.ndarray
    reward_SAK: np.ndarray
    term_SAK: np.ndarray
    count_SA: np.ndarray
    init_cdf_S: np.ndarray
    max_t: int

    def arrays(self) -> tuple:
        """The arrays and the step limit, in the order the kernels take them."""
        return (
            self.cdf_SAK,
            self.next_SAK,
            self.reward_SAK,
            self.term_SAK,
            self.count_SA,
            self.init_cdf_S,
            self.max_t,
        )


def greedy_return(
    model: TabularModel, q_SA: np.ndarray, horizon: int = 0, no_limit: int = 1000
) -> float:
    """The exact expected return of ``q_SA``'s greedy policy (``np.argmax``, as ``act`` plays).

    It is averaged over the start states, within the model's step limit, or ``no_limit`` steps
    when it has none. No episodes are sampled, so it carries no sampling error.

    Args:
        horizon: The agents' ``horizon``: with ``H > 0``, ``q_SA`` holds a block of rows per
            episode step, and step ``t`` plays block ``min(t, H - 1)``.
    """
    n_states = model.init_cdf_S.shape[0]
    rows = np.arange(n_states)
    value = np.zeros(n_states)
    played = -1  # the block whose policy arrays are below
    for t in reversed(range(model.max_t or no_limit)):
        block = min(t, horizon - 1) * n_states if horizon else 0
        if block != played:
            played = block
            policy = q_SA[block : block + n_states].argmax(axis=1)
            prob = np.diff(model.cdf_SAK[rows, policy], axis=1, prepend=0.0)
            going = ~model.term_SAK[rows, policy]
            reward = model.reward_SAK[rows, policy]
            nxt = model.next_SAK[rows, policy]
        value = (prob * (reward + going * value[nxt])).sum(axis=1)
    return float(np.diff(model.init_cdf_S, prepend=0.0) @ value)


def time_limit(env: gym.Env) -> int | None:
    """The env's step limit: the smallest of its TimeLimit wrappers', None without one."""
    limits = []
    layer = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, TimeLimit):
            limits.append(int(layer._max_episode_steps))
        layer = layer.env
    return min(limits, default=None)


def find_model(env: gym.Env) -> tuple[TabularModel | None, str]:
    """Converts ``env``'s tabular model, or says why the env must be stepped instead.

    Returns:
        ``(model, "")``, or ``(None, reason)``.
    """
    layer = env
    while isinstance(layer, gym.Wrapper):
        if not isinstance(layer, _TRANSPARENT):
            return None, f"the env is wrapped in {type(layer).__name__}, which its model lacks"
        layer = layer.env
    max_t = time_limit(env) or 0
    table = getattr(layer, "P", None)
    start = getattr(layer, "initial_state_distrib", None)
    if table is None or start is None:
        return None, "the env has no tabular model (P and initial_state_distrib)"
    if getattr(layer, "fickle_passenger", False):
        return None, "Taxi's fickle passenger changes destinations outside its model P"
    obs_space, act_space = env.observation_space, env.action_space
    if not (isinstance(obs_space, spaces.Discrete) and obs_space.start == 0):
        return None, "the model's states are not the Discrete observations"
    n_states, n_actions = int(obs_space.n), int(act_space.n)
    start = np.asarray(start, dtype=np.float64)
    if len(table) != n_states or start.shape != (n_states,):
        return None, f"the model does not have the {n_states} states of the observation space"
    try:
        return _convert(table, start, n_states, n_actions, max_t), ""
    except (KeyError, TypeError, ValueError, IndexError) as e:
        return None, f"the model P is malformed ({type(e).__name__}: {e})"


def _convert(
    table: dict, start: np.ndarray, n_states: int, n_actions: int, max_t: int
) -> TabularModel:
    rows = [table[s][a] for s in range(n_states) for a in range(n_actions)]
    if not all(rows):
        raise ValueError("some P[s][a] has no outcomes")
    k = max(len(row) for row in rows)
    # Pad every pair to k outcomes by repeating its last one: the padding's probability is 0.
    padded = [[tuple(o) for o in row] + [(0.0, *row[-1][1:])] * (k - len(row)) for row in rows]
    shape = (n_states, n_actions, k)
    cells = np.array(padded, dtype=np.float64)  # (pairs, k, 4): probability, s', r, terminated
    prob = cells[..., 0].reshape(shape)
    nxt = cells[..., 1].astype(np.int64).reshape(shape)
    if np.any(prob < 0) or not np.allclose(prob.sum(-1), 1.0):
        raise ValueError("some P[s][a]'s probabilities do not sum to 1")
    if np.any((nxt < 0) | (nxt >= n_states)):
        raise ValueError("some P[s][a] leads to a state outside the observation space")
    if np.any(start < 0) or not np.isclose(start.sum(), 1.0):
        raise ValueError("initial_state_distrib does not sum to 1")
    count = np.array([len(row) for row in rows], np.int64).reshape(n_states, n_actions)
    return TabularModel(
        cdf_SAK=np.cumsum(prob, axis=-1),
        next_SAK=nxt,
        reward_SAK=cells[..., 2].reshape(shape),
        term_SAK=cells[..., 3].astype(np.bool_).reshape(shape),
        count_SA=count,
        init_cdf_S=np.cumsum(start),
        max_t=max_t,
    )
