"""Tabular TD agents: Q-learning, SARSA and Expected SARSA, with numba-compiled loops.

On an env that carries its tabular model (Gymnasium's toy-text envs, ``arena/Chain-v0``), the
whole learning loop runs in one compiled kernel on the model's exact dynamics; on any other env
with discrete spaces, a Python loop steps the real env and a compiled kernel does each update.
This module stays light: numba and the kernels are imported only when an agent learns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.tabular.config import TabularConfig
from arena.agent import Agent
from arena.callbacks import Callback, CallbackList, Episode, episode_metrics
from arena.errors import ConfigError

if TYPE_CHECKING:
    from agents.tabular.model import TabularModel

MAX_TABLE = 2**27
"""The most Q-table entries (states x actions) an agent builds: one GiB of float64."""
CHUNK = 100_000
"""Steps per call of the compiled loop; the callbacks run between calls."""


class TabularAgent(Agent):
    """A Q-table learned by temporal differences on discrete spaces; subclasses set the target.

    Observations may be Discrete, a Tuple of Discretes or MultiDiscrete: they are flattened to
    one state index. Exploration is epsilon-greedy from a seeded generator, so the same seed
    gives a bit-identical Q-table. After learning on a model, ``learn_info["greedy_return"]`` is
    the greedy policy's exact expected return on it (no episodes sampled).

    With ``horizon=H`` the table has a block of rows per episode step (state ``s`` at step ``t``
    is row ``t * n_states + s``) and :meth:`act` counts its steps since :meth:`reset`; past
    step ``H`` it keeps using the last block.
    """

    Config: ClassVar[type] = TabularConfig
    kind: ClassVar[int] = 0
    """Which TD target, as numbered in ``agents.tabular.kernels``."""
    every_block_target: ClassVar[bool] = True
    """Whether the target can be computed in every step's block (``every_block``)."""

    @classmethod
    def memory_needed(
        cls, config: TabularConfig, observation_space: spaces.Space, action_space: spaces.Space
    ) -> dict[str, int]:
        """The float64 Q-table: a block of rows per step of the horizon."""
        rows = _layout(observation_space)[2] * max(config.horizon, 1)
        actions = int(action_space.n)
        what = f"Q-table (horizon={config.horizon}: {rows:,} rows x {actions} actions)"
        return {what: rows * actions * 8}

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        self._starts, self._strides, self.n_states = _layout(observation_space)
        self._discrete = isinstance(observation_space, spaces.Discrete)
        self.n_actions = int(action_space.n)
        rows = self.n_states * max(self.config.horizon, 1)
        if rows * self.n_actions > MAX_TABLE:
            raise ConfigError(
                f"horizon={self.config.horizon} needs a Q-table of {rows * self.n_actions:,} "
                f"entries (a block per step); at most {MAX_TABLE:,} are built."
            )
        self.q_SA = np.full((rows, self.n_actions), self.config.initial_q, dtype=np.float64)
        self._t = 0
        if self.config.every_block and not self.every_block_target:
            raise ConfigError(
                f"{self.name} has no every_block update: its target is the action it really takes "
                "next, which only the visited step's block has. Use q-learning or expected-sarsa."
            )

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        if not isinstance(action_space, spaces.Discrete):
            raise cls.incompatible("a Discrete action space", action_space)
        needs = "a Discrete observation space (or a Tuple of Discretes, or MultiDiscrete)"
        try:
            _, _, n_states = _layout(observation_space)
        except TypeError:
            raise cls.incompatible(needs, observation_space) from None
        if n_states * int(action_space.n) > MAX_TABLE:
            raise cls.incompatible(
                f"{needs} with at most {MAX_TABLE:,} states x actions", observation_space
            )

    def index(self, observation: Any) -> int:
        """The observation's row in the Q-table."""
        if self._discrete:
            return int(observation) - self._starts[0]
        parts = np.ravel(observation) if isinstance(observation, np.ndarray) else observation
        return sum(
            (int(o) - start) * stride
            for o, start, stride in zip(parts, self._starts, self._strides, strict=True)
        )

    def epsilon(self) -> float:
        """The exploration rate at the current step count."""
        return self.config.exploration_eps(self.num_timesteps)

    def reset(self) -> None:
        self._t = 0

    def act(self, observation: Any, explore: bool = False) -> int:
        """The greedy action (the first best one), or an epsilon-greedy one with ``explore``.

        With a horizon, the greedy action is read from the block of the steps taken since
        :meth:`reset`.
        """
        if explore and self.np_random.random() < self.epsilon():
            action = int(self.np_random.integers(self.n_actions))
        else:
            row = self.index(observation) + self._time_row(self._t)
            action = int(np.argmax(self.q_SA[row]))
        self._t += 1
        return action + int(self.action_space.start)

    def _check_horizon(self, env: gym.Env) -> None:
        """Learning needs a time-indexed table's horizon to be the env's time limit (playing
        does not: past the horizon, :meth:`act` keeps to the last block)."""
        from agents.tabular.model import time_limit

        horizon = self.config.horizon
        limit = time_limit(env)
        if horizon and limit != horizon:
            has = f"a {limit}-step time limit" if limit else "no time limit"
            raise ConfigError(
                f"horizon={horizon} learns a Q-table per step of a {horizon}-step episode, but "
                f"{env.spec.id if env.spec else 'the env'} has {has}; set horizon to the env's "
                "time limit, or to 0 for one table."
            )

    def _time_row(self, t: int) -> int:
        """The first row of episode step ``t``'s block (0 without a horizon)."""
        return min(t, self.config.horizon - 1) * self.n_states if self.config.horizon else 0

    def state(self) -> dict[str, np.ndarray]:
        return {"q": self.q_SA}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        q = np.asarray(arrays["q"], dtype=np.float64)
        if q.shape != self.q_SA.shape:
            raise ValueError(
                f"its Q-table has shape {q.shape}, the spaces and horizon need {self.q_SA.shape}"
            )
        self.q_SA = q.copy()

    def _start_learning(self, env: gym.Env, steps: int, callback: Callback) -> None:
        self.check_env(env)  # a vector env is refused as such, before its horizon is read
        self._check_horizon(env)  # before the callbacks start writing the run
        super()._start_learning(env, steps, callback)

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        model, reason = self._model(env)
        if model is None:
            self.learn_info = {"path": "generic", "why": reason}
            self._learn_generic(env, steps, callback)
        else:
            self._learn_model(model, steps, callback)
            self.learn_info = {"path": "compiled model", **self._greedy_return(model)}

    def _model(self, env: gym.Env) -> tuple[TabularModel | None, str]:
        if not self.config.fast_path:
            return None, "fast_path is off"
        from agents.tabular.model import find_model

        return find_model(env)

    def _greedy_return(self, model: TabularModel) -> dict[str, float]:
        from agents.tabular.model import greedy_return

        value = greedy_return(model, self.q_SA, horizon=self.config.horizon)
        return {"greedy_return": round(value, 6)}

    def _rng(self) -> np.ndarray:
        return np.array([self.np_random.integers(2**63)], dtype=np.uint64)

    def _learn_model(self, model: TabularModel, steps: int, callback: Callback) -> None:
        """The fast path: the compiled loop on the model, in chunks with callbacks between."""
        from agents.tabular import kernels as k

        hp = self.config.hyperparameters()
        carry, ret, rng = np.zeros(4, np.int64), np.zeros(1), self._rng()
        ep_step, ep_return, ep_length = _episode_buffers(min(steps, CHUNK))
        done = 0
        while done < steps:
            n = min(CHUNK, steps - done)
            episodes = k.run_chunk(
                self.q_SA, *model.arrays(), self.config.horizon, self.config.every_block,
                self.kind, hp, self.num_timesteps, n,
                carry, ret, rng, ep_step, ep_return, ep_length,
            )  # fmt: skip
            _report(callback, episodes, ep_step, ep_return, ep_length)
            self.num_timesteps += n
            done += n
            if not callback.on_step(self.num_timesteps):
                return

    def _learn_generic(self, env: gym.Env, steps: int, callback: Callback) -> None:
        """The generic path: step the real env in Python; a compiled kernel does each update.

        The loop is written flat (schedules and episode sums inline): it must cost little next
        to ``env.step`` itself.
        """
        from agents.tabular.kernels import choose, td_update, td_update_blocks

        c = self.config
        q_SA, kind, gamma, rng = self.q_SA, self.kind, c.gamma, self._rng()
        alpha0, alpha_end = c.learning_rate, c.final_learning_rate()
        eps0, eps_end = c.exploration_initial_eps, c.exploration_final_eps
        alpha_steps, eps_steps = c.learning_rate_decay_steps, c.exploration_steps
        alpha_slope = (alpha_end - alpha0) / alpha_steps if alpha_steps else 0.0
        eps_slope = (eps_end - eps0) / eps_steps if eps_steps else 0.0
        offset = int(self._starts[0]) if self._discrete else None
        index = self.index
        start = int(self.action_space.start)
        stride = self.n_states if c.horizon else 0  # rows between one episode step and the next
        horizon, every_block = c.horizon or math.inf, c.every_block
        observation, _ = env.reset(seed=self.env_seed())
        self.reset()
        s = int(observation) - offset if offset is not None else index(observation)
        a = choose(q_SA, s, self.epsilon(), rng)
        ret, length = 0.0, 0
        for t in range(self.num_timesteps, self.num_timesteps + steps):
            observation, reward, terminated, truncated, info = env.step(a + start)
            s2 = int(observation) - offset if offset is not None else index(observation)
            alpha = alpha0 + alpha_slope * t if t < alpha_steps else alpha_end
            eps = eps0 + eps_slope * (t + 1) if t + 1 < eps_steps else eps_end
            row, length = s + length * stride, length + 1
            end = bool(terminated) or length >= horizon  # a time-indexed table's last step
            if every_block:
                td_update_blocks(
                    q_SA, kind, s, a, float(reward), s2, bool(terminated), alpha, gamma, eps,
                    self.n_states, c.horizon,
                )  # fmt: skip
                a = -1 if end else choose(q_SA, s2 + length * stride, eps, rng)
            else:
                a = td_update(
                    q_SA, kind, row, a, float(reward), s2 + length * stride, end, alpha, gamma,
                    eps, rng,
                )  # fmt: skip
            self.num_timesteps = t + 1
            s = s2
            ret += float(reward)
            if terminated or truncated:
                callback.on_episode(Episode(t + 1, ret, length, episode_metrics(info)))
                ret, length = 0.0, 0
                observation, _ = env.reset()
                self.reset()
                s = int(observation) - offset if offset is not None else index(observation)
                a = choose(q_SA, s, eps, rng)
                if not callback.on_step(t + 1):
                    return
        callback.on_step(self.num_timesteps)

    @classmethod
    def _learn_seeds(
        cls,
        agents: Sequence[Agent],
        env: gym.Env,
        steps: int,
        callbacks: Sequence[Callback],
    ) -> None:
        """Trains the seeds side by side in one ``prange`` kernel when the env has a model."""
        model, _ = agents[0]._model(env)
        if model is None or len(agents) == 1:
            super()._learn_seeds(agents, env, steps, callbacks)
            return
        from agents.tabular import kernels as k

        n = len(agents)
        q_NSA = np.stack([agent.q_SA for agent in agents])
        for i, agent in enumerate(agents):
            agent.q_SA = q_NSA[i]  # a view: periodic checkpoints see the table as it learns
        config = agents[0].config
        hp = config.hyperparameters()
        carry_NC, ret_N1 = np.zeros((n, 4), np.int64), np.zeros((n, 1))
        rng_N1 = np.stack([agent._rng() for agent in agents])
        ep_step, ep_return, ep_length = _episode_buffers(min(steps, CHUNK), n)
        episodes_N = np.zeros(n, np.int64)
        left_N = np.full(n, steps, np.int64)
        while left_N.any():
            chunk_N = np.minimum(left_N, CHUNK)
            step0_N = np.array([agent.num_timesteps for agent in agents], np.int64)
            k.run_chunk_seeds(
                q_NSA, *model.arrays(), config.horizon, config.every_block, cls.kind, hp,
                step0_N, chunk_N,
                carry_NC, ret_N1, rng_N1, ep_step, ep_return, ep_length, episodes_N,
            )  # fmt: skip
            for i, (agent, callback) in enumerate(zip(agents, callbacks, strict=True)):
                if chunk_N[i] == 0:
                    continue
                _report(callback, episodes_N[i], ep_step[i], ep_return[i], ep_length[i])
                agent.num_timesteps += int(chunk_N[i])
                left_N[i] -= chunk_N[i]
                if not callback.on_step(agent.num_timesteps):
                    left_N[i] = 0
        for agent in agents:
            agent.q_SA = agent.q_SA.copy()
            path = {"path": "compiled model, seeds in parallel"}
            agent.learn_info = {**path, **agent._greedy_return(model)}


class QLearning(TabularAgent):
    """Tabular Q-learning (off-policy TD control), compiled with numba; seeds run in parallel.

    The target is ``r + gamma * max_a Q(s', a)``; a terminal ``s'`` bootstraps nothing, a
    truncated one does. On envs that carry their tabular model (toy-text, ``arena/Chain-v0``),
    the whole loop runs compiled on the model's dynamics; elsewhere it steps the real env.
    """

    kind: ClassVar[int] = 0
    presets: ClassVar[str | None] = "q_learning_presets.toml"


class Sarsa(TabularAgent):
    """Tabular SARSA (on-policy TD control), compiled with numba; seeds run in parallel.

    The target is ``r + gamma * Q(s', a')`` with ``a'`` the epsilon-greedy action the behaviour
    then takes; a terminal ``s'`` bootstraps nothing, a truncated one does.
    """

    kind: ClassVar[int] = 1
    every_block_target: ClassVar[bool] = False
    presets: ClassVar[str | None] = "sarsa_presets.toml"


class ExpectedSarsa(TabularAgent):
    """Tabular Expected SARSA, compiled with numba; seeds run in parallel.

    The target is ``r + gamma * E[Q(s', A)]`` with ``A`` drawn from the epsilon-greedy policy;
    a terminal ``s'`` bootstraps nothing, a truncated one does.
    """

    kind: ClassVar[int] = 2
    presets: ClassVar[str | None] = "sarsa_presets.toml"


def _episode_buffers(size: int, *leading: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Room for the step, return and length of ``size`` episodes (per seed, with ``leading``)."""
    shape = (*leading, size)
    return np.zeros(shape, np.int64), np.zeros(shape), np.zeros(shape, np.int64)


def _report(
    callback: Callback, count: int, step: np.ndarray, ret: np.ndarray, length: np.ndarray
) -> None:
    """Passes the episodes a compiled chunk finished to ``callback``, if it wants them."""
    if not _wants_episodes(callback):
        return
    for i in range(int(count)):
        callback.on_episode(Episode(int(step[i]), float(ret[i]), int(length[i])))


def _wants_episodes(callback: Callback) -> bool:
    """Whether any callback overrides ``on_episode``: building millions of unseen episode
    records would cost more than the compiled loop itself."""
    if isinstance(callback, CallbackList):
        return any(_wants_episodes(c) for c in callback.callbacks)
    return type(callback).on_episode is not Callback.on_episode


def _layout(space: spaces.Space) -> tuple[list[int], list[int], int]:
    """The starts and strides that flatten an observation to a state index, and the count
    (any count above ``MAX_TABLE`` stands for "too many", without the strides being complete).

    Raises:
        TypeError: The space is not Discrete, a Tuple of Discretes, or MultiDiscrete.
    """
    if isinstance(space, spaces.Discrete):
        starts, sizes = [int(space.start)], [int(space.n)]
    elif isinstance(space, spaces.Tuple) and space.spaces:
        if not all(isinstance(s, spaces.Discrete) for s in space.spaces):
            raise TypeError("a Tuple of other spaces than Discrete")
        starts = [int(s.start) for s in space.spaces]
        sizes = [int(s.n) for s in space.spaces]
    elif isinstance(space, spaces.MultiDiscrete):
        starts = [int(v) for v in np.ravel(space.start)]
        sizes = [int(v) for v in np.ravel(space.nvec)]
    else:
        raise TypeError(f"{type(space).__name__} is not discrete")
    strides, count = [0] * len(sizes), 1
    for i in range(len(sizes) - 1, -1, -1):  # one pass: a hostile space may have many parts
        strides[i] = count
        count *= sizes[i]
        if count > MAX_TABLE:
            return starts, strides, count  # too many already; check_spaces refuses it
    return starts, strides, count
