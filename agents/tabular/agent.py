"""Tabular TD agents: Q-learning, SARSA and Expected SARSA, with numba-compiled loops.

On an env that carries its tabular model (Gymnasium's toy-text envs, ``arena/Chain-v0``), the
whole learning loop runs in one compiled kernel on the model's exact dynamics; on any other env
with discrete spaces (the generic path), the core's loop (:mod:`arena.rollout`) steps the real
env and a compiled kernel does each update, in :meth:`TabularAgent.observe`.
This module stays light: numba and the kernels are imported only when an agent learns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.tabular.config import TabularConfig
from arena.agent import Agent
from arena.callbacks import Callback, CallbackList, Episode
from arena.errors import ConfigError

if TYPE_CHECKING:
    from agents.tabular.model import TabularModel
    from arena.rollout import Transition

_kernels: Any = None
"""``agents.tabular.kernels``, once the generic path has imported it (numba is slow to import)."""

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
        self._action_start = int(action_space.start)
        self.n_actions = int(action_space.n)
        rows = self.n_states * max(self.config.horizon, 1)
        if rows * self.n_actions > MAX_TABLE:
            raise ConfigError(
                f"horizon={self.config.horizon} needs a Q-table of {rows * self.n_actions:,} "
                f"entries (a block per step); at most {MAX_TABLE:,} are built."
            )
        self.q_SA = np.full((rows, self.n_actions), self.config.initial_q, dtype=np.float64)
        self._t = 0
        # The generic path's kernel generator, drawn at its first step, then kept and saved;
        # and the action it chose next (-1: none), for the state ``_next_state``.
        self._kernel_rng: np.ndarray | None = None
        self._next, self._next_state, self._next_observation = -1, -1, None
        self._plan: _Plan | None = None
        # The compiled path's place in its episode (the kernel's carry and the episode's
        # return so far), kept across learn calls on the same env, so learning 2N steps at once
        # or N and N is the same run; and the env (id and arguments) it is on.
        self._carry, self._carry_ret = np.zeros(4, np.int64), np.zeros(1)
        self._carry_env: str | None = None
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
        :meth:`reset`. While learning on the generic path, the exploring action is the one that
        the last update chose for this state (SARSA learned from it), from the kernels' generator.
        """
        if (
            explore
            and self._next >= 0
            and (observation is self._next_observation or self._is_next_state(observation))
        ):  # the core loop's case first, inline: this is the generic path's hot loop
            action = self._next
        elif explore and self.np_random.random() < self.epsilon():
            action = int(self.np_random.integers(self.n_actions))
        else:
            row = self.index(observation) + self._time_row(self._t)
            action = int(np.argmax(self.q_SA[row]))
        self._t += 1
        return action + self._action_start

    def _is_next_state(self, observation: Any) -> bool:
        """Whether ``observation`` is the state the generic path chose ``_next`` for (the same
        object, as in the core loop, or the same index, as after a load)."""
        return observation is self._next_observation or self.index(observation) == self._next_state

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

    def extra_state(self) -> dict[str, Any]:
        """The kernels' generator, the action the generic path chose next, and the compiled
        path's open episode, once there are any."""
        if self._kernel_rng is None:
            return {}
        extra: dict[str, Any] = {
            "kernel_rng": int(self._kernel_rng[0]),
            "next": [self._next, self._next_state],
        }
        state, action, time, started = (int(v) for v in self._carry)  # the kernels' order
        if self._carry_env is not None and started:
            extra["model_episode"] = {
                "env": self._carry_env,
                "state": state,
                "action": action,
                "time": time,
                "return": float(self._carry_ret[0]),
            }
        return extra

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        q = np.asarray(arrays["q"], dtype=np.float64)
        if q.shape != self.q_SA.shape:
            raise ValueError(
                f"its Q-table has shape {q.shape}, the spaces and horizon need {self.q_SA.shape}"
            )
        self.q_SA = q.copy()
        if "kernel_rng" not in extra:  # checkpoints of the compiled path, or from before
            return
        rng, pending = extra["kernel_rng"], extra.get("next")
        if not (isinstance(rng, int) and 0 <= rng < 2**64):
            raise ValueError("its kernel_rng must be a whole number in [0, 2**64)")
        if not (
            isinstance(pending, list)
            and len(pending) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in pending)
            and -1 <= pending[0] < self.n_actions
            and -1 <= pending[1] < self.n_states
        ):
            raise ValueError("its 'next' must be [action, state] within the spaces (-1: none)")
        self._kernel_rng = np.array([rng], dtype=np.uint64)
        self._next, self._next_state = pending
        if "model_episode" in extra:
            self._load_model_episode(extra["model_episode"])

    def _load_model_episode(self, entry: Any) -> None:
        """Reads :meth:`extra_state`'s ``model_episode``, checking it indexes the table."""
        keys = {"env", "state", "action", "time", "return"}
        if not isinstance(entry, dict) or set(entry) != keys:
            raise ValueError(f"its model_episode must be an object with the keys {sorted(keys)}")
        counts = [entry[k] for k in ("state", "action", "time")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts):
            raise ValueError("its model_episode's state, action and time must be whole numbers")
        state, action, time = counts
        horizon = self.config.horizon
        if state >= self.n_states or action >= self.n_actions or (horizon and time >= horizon):
            raise ValueError("its model_episode's state, action or time is outside the table")
        ret = entry["return"]
        if isinstance(ret, bool) or not isinstance(ret, (int, float)) or not math.isfinite(ret):
            raise ValueError("its model_episode's return must be a finite number")
        if not isinstance(entry["env"], str) or len(entry["env"]) > 10_000:
            raise ValueError("its model_episode's env must be a string")
        self._carry[:] = (state, action, time, 1)
        self._carry_ret[0] = float(ret)
        self._carry_env = entry["env"]

    def _start_learning(self, env: gym.Env, steps: int, callback: Callback) -> None:
        self.check_env(env)  # a vector env is refused as such, before its horizon is read
        self._check_horizon(env)  # before the callbacks start writing the run
        super()._start_learning(env, steps, callback)

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        model, reason = self._model(env)
        if model is None:
            self.learn_info.update(path="generic", why=reason)
            self._start_generic()
            super()._learn(env, steps, callback)
        else:
            self._learn_model(model, steps, callback)
            self.learn_info = {"path": "compiled model", **self._greedy_return(model)}

    def _model_carry(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The compiled path's carry, return and generator for the env it learns on now.

        The episode in progress continues when the env (id and arguments) is the one it was
        on; on another env a new one starts.
        """
        import json

        env = json.dumps([self.env_id, self.env_kwargs], sort_keys=True, default=str)
        if env != self._carry_env:
            self._carry[:] = 0
            self._carry_ret[0] = 0.0
            self._carry_env = env
        if self._kernel_rng is None:
            self._kernel_rng = self._rng()
        return self._carry, self._carry_ret, self._kernel_rng

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
        carry, ret, rng = self._model_carry()
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

    def _start_generic(self) -> None:
        """Readies the generic path: its kernels, its generator, and its schedules' constants."""
        global _kernels
        if _kernels is None:
            from agents.tabular import kernels

            _kernels = kernels
        if self._kernel_rng is None:
            self._kernel_rng = self._rng()
        c = self.config
        alpha0, alpha_end = c.learning_rate, c.final_learning_rate()
        eps0, eps_end = c.exploration_initial_eps, c.exploration_final_eps
        alpha_steps, eps_steps = c.learning_rate_decay_steps, c.exploration_steps
        self._plan = _Plan(
            alpha=alpha0,
            alpha_end=alpha_end,
            alpha_steps=alpha_steps,
            alpha_slope=(alpha_end - alpha0) / alpha_steps if alpha_steps else 0.0,
            eps_start=eps0,
            eps_end=eps_end,
            eps_steps=eps_steps,
            eps_slope=(eps_end - eps0) / eps_steps if eps_steps else 0.0,
            gamma=c.gamma,
            stride=self.n_states if c.horizon else 0,
            horizon=c.horizon or math.inf,
            blocks=c.horizon,
            every_block=c.every_block,
            action_start=int(self.action_space.start),
        )

    def observe_reset(self, observation: Any, info: dict[str, Any]) -> None:
        """Chooses the episode's first action (epsilon-greedy, from the kernels' generator)."""
        s = self.index(observation)
        self._next = _kernels.choose(self.q_SA, s, self.epsilon(), self._kernel_rng)
        self._next_state, self._next_observation = s, observation

    def observe(self, transition: Transition) -> None:
        """One TD update, in a compiled kernel, which also chooses the next action.

        The generic path's hot loop: schedules are inline, as in the kernels, and cost little
        next to ``env.step``. ``num_timesteps`` already counts this step, so its schedules'
        step is ``num_timesteps - 1``; the time-indexed table's step is the open episode's
        length before it.
        """
        p = self._plan
        t = self.num_timesteps - 1
        alpha = p.alpha + p.alpha_slope * t if t < p.alpha_steps else p.alpha_end
        eps = p.eps_start + p.eps_slope * (t + 1) if t + 1 < p.eps_steps else p.eps_end
        observation, action, reward, next_observation, terminated, _, _ = transition
        s = self._next_state if observation is self._next_observation else self.index(observation)
        if self._discrete:  # self.index, inline
            s2 = int(next_observation) - self._starts[0]
        else:
            s2 = self.index(next_observation)
        a = action - p.action_start
        length = self.open_episode.length
        end = terminated or length >= p.horizon  # a time-indexed table's last step
        stride, rng = p.stride, self._kernel_rng
        if p.every_block:
            _kernels.td_update_blocks(
                self.q_SA, self.kind, s, a, float(reward), s2, bool(terminated), alpha, p.gamma,
                eps, self.n_states, p.blocks,
            )  # fmt: skip
            a2 = -1 if end else _kernels.choose(self.q_SA, s2 + length * stride, eps, rng)
        else:
            a2 = _kernels.td_update(
                self.q_SA, self.kind, s + (length - 1) * stride, a, float(reward),
                s2 + length * stride, bool(end), alpha, p.gamma, eps, rng,
            )  # fmt: skip
        self._next, self._next_state, self._next_observation = a2, s2, next_observation

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
        carries = [agent._model_carry() for agent in agents]
        carry_NC, ret_N1, rng_N1 = (np.stack(parts) for parts in zip(*carries, strict=True))
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
        for i, agent in enumerate(agents):
            agent.q_SA = agent.q_SA.copy()
            agent._carry[:], agent._carry_ret[:], agent._kernel_rng[:] = (
                carry_NC[i],
                ret_N1[i],
                rng_N1[i],
            )
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


@dataclass(frozen=True, slots=True)
class _Plan:
    """The generic path's constants: its schedules' ends and slopes, as the update reads them."""

    alpha: float
    alpha_end: float
    alpha_steps: int
    alpha_slope: float
    eps_start: float
    eps_end: float
    eps_steps: int
    eps_slope: float
    gamma: float
    stride: int
    """Rows between one episode step's block and the next (0 without a horizon)."""
    horizon: float
    """The time-indexed table's episode length (infinite without one)."""
    blocks: int
    """The config's ``horizon``: the table's blocks (0 without one)."""
    every_block: bool
    action_start: int


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
