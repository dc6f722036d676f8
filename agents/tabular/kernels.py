"""Numba kernels of the tabular agents: a seeded generator, epsilon-greedy, the three TD targets,
and the compiled learning loop on an env's tabular model.

Every kernel takes its generator state as an argument (a ``uint64`` array of length 1 that it
advances in place), so the same seed gives a bit-identical Q-table and parallel seeds never share
a generator. The helpers are inlined into the loop (``inline="always"``, in numba's IR): as
calls, each array argument's reference counting cost more than the step itself (1.5x the
speed on Taxi-v4). The agents in :mod:`.agent` import this module lazily: importing numba is
slow, and ``arena list`` must start fast.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from arena import schedules

Q_LEARNING, SARSA, EXPECTED_SARSA = 0, 1, 2

# Indices into the float64 hyperparameter array ``hp`` that the kernels take.
ALPHA, ALPHA_END, ALPHA_STEPS, GAMMA, EPS, EPS_END, EPS_STEPS = range(7)
# Indices into the int64 ``carry`` array that holds a loop's position between chunks.
STATE, ACTION, TIME, STARTED = range(4)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def uniform(rng: np.ndarray) -> float:
    """A float in [0, 1) from the SplitMix64 generator whose state is ``rng[0]``."""
    z = rng[0] + _GOLDEN
    rng[0] = z
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return (z >> _S11) * _TO_UNIT


linear = njit(cache=True, inline="always")(schedules.linear)
"""The one schedule helper, :func:`arena.schedules.linear`, compiled: the same arithmetic as the
Python paths, so the compiled loop and the generic one agree bit for bit. numba's cache notices
edits to this file only: after editing ``arena/schedules.py``, delete this module's cache files
(``kernels.*.nbi`` and ``.nbc`` in its ``__pycache__``)."""


@njit(cache=True, inline="always")
def greedy(q_SA: np.ndarray, s: int, rng: np.ndarray) -> int:
    """An action of highest value in state ``s``, ties broken uniformly at random.

    The draw happens only when there is a tie (reservoir sampling over the tied actions), so
    a learned table with distinct values costs no random numbers.
    """
    best = 0
    ties = 1
    for a in range(1, q_SA.shape[1]):
        if q_SA[s, a] > q_SA[s, best]:
            best = a
            ties = 1
        elif q_SA[s, a] == q_SA[s, best]:
            ties += 1
            if uniform(rng) * ties < 1.0:
                best = a
    return best


@njit(cache=True, inline="always")
def explore(best: int, n_actions: int, epsilon: float, rng: np.ndarray) -> int:
    """``best``, or with probability ``epsilon`` a uniformly random action."""
    if epsilon > 0.0 and uniform(rng) < epsilon:
        return min(int(uniform(rng) * n_actions), n_actions - 1)
    return best


@njit(cache=True, inline="always")
def choose(q_SA: np.ndarray, s: int, epsilon: float, rng: np.ndarray) -> int:
    """An epsilon-greedy action in state ``s``."""
    return explore(greedy(q_SA, s, rng), q_SA.shape[1], epsilon, rng)


@njit(cache=True, inline="always")
def td_update(
    q_SA: np.ndarray,
    kind: int,
    s: int,
    a: int,
    r: float,
    s2: int,
    terminated: bool,
    alpha: float,
    gamma: float,
    eps_next: float,
    rng: np.ndarray,
) -> int:
    """Updates ``Q(s, a)`` from one transition; returns the behaviour's next action in ``s2``.

    Q-learning bootstraps from ``max Q(s2, .)``, SARSA from ``Q(s2, a2)`` with ``a2`` the
    epsilon-greedy action it then takes, Expected SARSA from the mean of ``Q(s2, .)`` under the
    epsilon-greedy policy. A terminal ``s2`` bootstraps nothing (and gets no next action: -1);
    a truncated one does bootstrap. SARSA picks ``a2`` before the update, the others after it,
    as the textbook loops do.
    """
    if terminated:
        q_SA[s, a] += alpha * (r - q_SA[s, a])
        return -1
    n_actions = q_SA.shape[1]
    best = greedy(q_SA, s2, rng)
    if kind == SARSA:
        a2 = explore(best, n_actions, eps_next, rng)
        q_SA[s, a] += alpha * (r + gamma * q_SA[s2, a2] - q_SA[s, a])
        return a2
    value = q_SA[s2, best]
    if kind == EXPECTED_SARSA:
        mean = 0.0
        for b in range(n_actions):
            mean += q_SA[s2, b]
        value = (1.0 - eps_next) * value + eps_next * (mean / n_actions)
    q_SA[s, a] += alpha * (r + gamma * value - q_SA[s, a])
    if s == s2:
        best = greedy(q_SA, s2, rng)
    return explore(best, n_actions, eps_next, rng)


@njit(cache=True, inline="always")
def td_update_blocks(
    q_SA: np.ndarray,
    kind: int,
    s: int,
    a: int,
    r: float,
    s2: int,
    terminated: bool,
    alpha: float,
    gamma: float,
    eps_next: float,
    n_states: int,
    horizon: int,
) -> None:
    """Updates ``Q(s, a)`` in every episode step's block of a time-indexed table.

    Fixed-horizon TD (De Asis et al., 2020): the dynamics do not depend on the step, so one
    transition is a sample for every step ``t``; block ``t`` bootstraps from block ``t + 1``
    (the maximum for Q-learning, the epsilon-greedy mean for Expected SARSA), and the last
    block bootstraps nothing. SARSA's target needs the action really taken next, so it has no
    such update.
    """
    n_actions = q_SA.shape[1]
    for t in range(horizon):
        row = t * n_states + s
        target = r
        if not terminated and t + 1 < horizon:
            nxt = (t + 1) * n_states + s2
            best = q_SA[nxt, 0]
            mean = q_SA[nxt, 0]
            for b in range(1, n_actions):
                best = max(best, q_SA[nxt, b])
                mean += q_SA[nxt, b]
            if kind == EXPECTED_SARSA:
                best = (1.0 - eps_next) * best + eps_next * (mean / n_actions)
            target += gamma * best
        q_SA[row, a] += alpha * (target - q_SA[row, a])


@njit(cache=True, inline="always")
def sample(cdf: np.ndarray, n: int, rng: np.ndarray) -> int:
    """Draws an index below ``n`` from the cumulative probabilities ``cdf[:n]``.

    A single outcome draws nothing; a few are scanned; many are searched by bisection.
    """
    if n == 1:
        return 0
    u = uniform(rng) * cdf[n - 1]
    if n <= 8:
        k = 0
        while k < n - 1 and u >= cdf[k]:
            k += 1
        return k
    return min(np.searchsorted(cdf[:n], u, side="right"), n - 1)


@njit(cache=True)
def run_chunk(
    q_SA: np.ndarray,
    cdf_SAK: np.ndarray,
    next_SAK: np.ndarray,
    reward_SAK: np.ndarray,
    term_SAK: np.ndarray,
    count_SA: np.ndarray,
    init_cdf_S: np.ndarray,
    max_t: int,
    horizon: int,
    every_block: bool,
    kind: int,
    hp: np.ndarray,
    step0: int,
    steps: int,
    carry: np.ndarray,
    ret: np.ndarray,
    rng: np.ndarray,
    ep_step: np.ndarray,
    ep_return: np.ndarray,
    ep_length: np.ndarray,
) -> int:
    """Runs ``steps`` steps of epsilon-greedy TD learning on a tabular model.

    Episodes start from ``init_cdf_S`` and end when a transition terminates, or by truncation
    (which still bootstraps) after ``max_t`` steps when ``max_t > 0``. The loop's position
    (``carry``: state, pending action, episode time, started; ``ret[0]``: the episode's return)
    survives between calls, so a long run is a series of chunks.

    Args:
        horizon: 0 for one stationary table; ``H > 0`` for a table per episode step: state ``s``
            at step ``t`` is row ``t * n_states + s`` of ``q_SA``, and step ``H`` ends the
            episode with nothing left to bootstrap.
        step0: The agent's step count before this chunk; the schedules read it.
        ep_step, ep_return, ep_length: Filled with each episode that ends in this chunk (global
            step at its end, return, length); they need room for ``steps`` episodes.

    Returns:
        The number of episodes that ended.
    """
    n_states = init_cdf_S.shape[0]
    stride = n_states if horizon > 0 else 0  # rows between one episode step and the next
    gamma = hp[GAMMA]
    episodes = 0
    if carry[STARTED] == 0:
        carry[STATE] = sample(init_cdf_S, n_states, rng)
        carry[ACTION] = choose(
            q_SA, carry[STATE], linear(hp[EPS], hp[EPS_END], step0, hp[EPS_STEPS]), rng
        )
        carry[TIME] = 0
        carry[STARTED] = 1
        ret[0] = 0.0
    s = carry[STATE]
    a = carry[ACTION]
    t = carry[TIME]
    total = ret[0]
    # The schedules' slopes, once: ``linear`` would divide twice per step.
    alpha_end, alpha_steps = hp[ALPHA_END], hp[ALPHA_STEPS]
    alpha_slope = (alpha_end - hp[ALPHA]) / alpha_steps if alpha_steps > 0 else 0.0
    eps_end, eps_steps = hp[EPS_END], hp[EPS_STEPS]
    eps_slope = (eps_end - hp[EPS]) / eps_steps if eps_steps > 0 else 0.0
    for i in range(steps):
        step = step0 + i
        n = count_SA[s, a]
        k = 0 if n == 1 else sample(cdf_SAK[s, a], n, rng)
        s2 = next_SAK[s, a, k]
        r = reward_SAK[s, a, k]
        terminated = term_SAK[s, a, k]
        row = s + t * stride
        t += 1
        total += r
        out_of_time = horizon > 0 and t >= horizon
        alpha = hp[ALPHA] + alpha_slope * step if step < alpha_steps else alpha_end
        eps_next = hp[EPS] + eps_slope * (step + 1) if step + 1 < eps_steps else eps_end
        if every_block:
            td_update_blocks(
                q_SA, kind, s, a, r, s2, terminated, alpha, gamma, eps_next, n_states, horizon
            )
            ends = terminated or out_of_time
            a2 = -1 if ends else choose(q_SA, s2 + t * stride, eps_next, rng)
        else:
            a2 = td_update(
                q_SA, kind, row, a, r, s2 + t * stride, terminated or out_of_time, alpha, gamma,
                eps_next, rng,
            )  # fmt: skip
        if terminated or out_of_time or (max_t > 0 and t >= max_t):
            ep_step[episodes] = step + 1
            ep_return[episodes] = total
            ep_length[episodes] = t
            episodes += 1
            s = sample(init_cdf_S, n_states, rng)
            a = choose(q_SA, s, eps_next, rng)
            t = 0
            total = 0.0
        else:
            s = s2
            a = a2
    carry[STATE] = s
    carry[ACTION] = a
    carry[TIME] = t
    ret[0] = total
    return episodes


@njit(cache=True, parallel=True)
def run_chunk_seeds(
    q_NSA: np.ndarray,
    cdf_SAK: np.ndarray,
    next_SAK: np.ndarray,
    reward_SAK: np.ndarray,
    term_SAK: np.ndarray,
    count_SA: np.ndarray,
    init_cdf_S: np.ndarray,
    max_t: int,
    horizon: int,
    every_block: bool,
    kind: int,
    hp: np.ndarray,
    step0_N: np.ndarray,
    steps_N: np.ndarray,
    carry_NC: np.ndarray,
    ret_N1: np.ndarray,
    rng_N1: np.ndarray,
    ep_step_NE: np.ndarray,
    ep_return_NE: np.ndarray,
    ep_length_NE: np.ndarray,
    episodes_N: np.ndarray,
) -> None:
    """:func:`run_chunk` for independent seeds side by side, one per ``prange`` iteration."""
    for i in prange(q_NSA.shape[0]):
        episodes_N[i] = run_chunk(
            q_NSA[i],
            cdf_SAK,
            next_SAK,
            reward_SAK,
            term_SAK,
            count_SA,
            init_cdf_S,
            max_t,
            horizon,
            every_block,
            kind,
            hp,
            step0_N[i],
            steps_N[i],
            carry_NC[i],
            ret_N1[i],
            rng_N1[i],
            ep_step_NE[i],
            ep_return_NE[i],
            ep_length_NE[i],
        )
