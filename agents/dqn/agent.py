"""DQN: deep Q-learning in PyTorch for Box observations and Discrete actions.

This module stays light (no torch at import, so ``arena list`` starts fast): it holds the agent,
which learns from each transition of the core's loop (:mod:`arena.rollout`) and keeps its own
loop for vector envs; the hyperparameters are in :mod:`.config`. The network, the
on-device replay buffer and the update step live in :mod:`.networks`, :mod:`.replay` and
:mod:`.learner`, imported when an agent is built.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.dqn.config import DQNConfig
from arena.agent import Agent
from arena.callbacks import Callback, EpisodeTracker
from arena.errors import TrainingError
from arena.schedules import linear
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

if TYPE_CHECKING:
    from gymnasium.vector import VectorEnv

    from agents.dqn.replay import NStepAccumulator, ReplayBuffer
    from arena.rollout import Transition


class DQN(Agent):
    """Deep Q-network (PyTorch): Double DQN, dueling heads, n-step and prioritized replay.

    For a Box observation space (flattened) and a Discrete action space. A target network
    (hard or Polyak updates), a Huber loss, gradient-norm clipping and a linear epsilon schedule
    in absolute env steps, so ``--resume`` continues it. The replay buffer is one preallocated
    tensor on the agent's device; on CUDA each update stays on the GPU. Learns on a Gymnasium
    vector env too (``--num-envs N``, next-step autoreset), in a loop of its own. A checkpoint
    holds the online and target networks, the optimizer, the sampling generator, the replay
    buffer (the filled rows, with their priorities) and the open episode's unfinished n-step
    transitions, so that on one env ``learn(2N)`` and ``learn(N)``, save, load, ``learn(N)`` give
    the same weights; with ``save_replay`` off (``arena train --no-save-replay``) it leaves the
    buffer out and a resumed run refills it.
    """

    Config = DQNConfig
    presets = "dqn_presets.toml"
    supports_vector_env = True
    uses_torch = True

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        import torch

        from agents.dqn.learner import Learner
        from agents.dqn.networks import HostPolicy, build_network
        from arena.torch_utils import resolve_device

        cfg = self.config
        self.torch_device = resolve_device(self.device)
        self.obs_dim = int(np.prod(observation_space.shape))
        self.num_actions = int(action_space.n)
        self.action_start = int(action_space.start)
        init = torch.Generator().manual_seed(int(self.np_random.integers(2**63 - 1)))
        online, target = (
            build_network(
                self.obs_dim,
                self.num_actions,
                cfg.hidden_sizes,
                cfg.dueling,
                self.torch_device,
                init,
            )
            for _ in range(2)
        )
        target.load_state_dict(online.state_dict())
        self.learner = Learner(online, target, cfg)
        self.policy = HostPolicy(online)
        self.generator = torch.Generator(self.torch_device).manual_seed(
            int(self.np_random.integers(2**63 - 1))
        )
        self.buffer: ReplayBuffer | None = None
        self.nstep: NStepAccumulator | None = None
        # The last observation act() converted, and its float32 row, for observe() to reuse.
        self._acted: tuple[Any, np.ndarray] | None = None

    @classmethod
    def memory_needed(
        cls, config: DQNConfig, observation_space: spaces.Space, action_space: spaces.Space
    ) -> dict[str, int]:
        """The online Q-network (with Adam's copies) and the target one; the replay buffer, a
        float32 row of ``2 * D + 3`` per transition (two more with ``prioritized``: the
        priority and its cumulative sum); a batch's rows and activations."""
        obs_dim = math.prod(observation_space.shape)
        hidden = config.hidden_sizes
        widths = [obs_dim, *hidden, int(action_space.n)]
        params = dense_parameters(widths) + (hidden[-1] + 1 if config.dueling else 0)
        row = (2 * obs_dim + 3 + (2 if config.prioritized else 0)) * FLOAT32
        # Each sampled row goes through the online net (forward and backward) and the target.
        batch = config.batch_size * (row + 4 * sum(widths) * FLOAT32)
        return {
            f"Q-networks (hidden_sizes={list(hidden)})": adam_bytes(params) + params * FLOAT32,
            f"replay buffer (buffer_size={config.buffer_size})": config.buffer_size * row,
            f"batch (batch_size={config.batch_size})": batch,
        }

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        if not isinstance(observation_space, spaces.Box):
            raise cls.incompatible("a Box observation space", observation_space)
        if not isinstance(action_space, spaces.Discrete):
            raise cls.incompatible("a Discrete action space", action_space)

    def epsilon(self) -> float:
        """The exploration rate at the current step count."""
        return self.config.exploration_eps(self.num_timesteps)

    def learning_rate(self) -> float:
        """The learning rate at the current step count."""
        cfg = self.config
        return cfg.learning_rate * cfg.learning_rate_fraction(self.num_timesteps)

    def act(self, observation: Any, explore: bool = False) -> int:
        """The greedy action, or with ``explore`` an epsilon-greedy one."""
        if explore and self.np_random.random() < self.epsilon():
            return self.action_start + int(self.np_random.integers(self.num_actions))
        obs_1D = np.asarray(observation, np.float32).reshape(1, self.obs_dim)
        if explore:
            self._acted = (observation, obs_1D)
        return self.action_start + int(self.policy.greedy(obs_1D)[0])

    def observe_reset(self, observation: Any, info: dict[str, Any]) -> None:
        """Refuses a non-finite first observation."""
        self._observations(observation, 1, self.num_timesteps)

    def observe(self, transition: Transition) -> None:
        """Stores the (n-step) transition; trains and updates the target on their cadence."""
        obs, action, reward, next_obs, terminated, truncated, _ = transition
        acted = self._acted
        if acted is not None and acted[0] is obs:
            obs_1D = acted[1]
        else:
            obs_1D = np.asarray(obs, np.float32).reshape(1, self.obs_dim)
        now = self.num_timesteps
        next_1D = self._observations(next_obs, 1, now)
        self._nstep().add(
            0,
            obs_1D[0],
            action - self.action_start,
            reward,
            next_1D[0],
            terminated,
            terminated or truncated,
        )
        self._train(now - 1, now)

    def _nstep(self) -> NStepAccumulator:
        """The single env's n-step accumulator, kept across learn calls (and checkpoints)."""
        from agents.dqn.replay import NStepAccumulator

        if self.nstep is None:
            cfg = self.config
            self.nstep = NStepAccumulator(1, cfg.n_step, cfg.gamma, self._replay_buffer().add)
        return self.nstep

    def _train(self, before: int, now: int) -> None:
        """The gradient steps and target update due between step counts ``before`` and ``now``."""
        cfg = self.config
        rounds = now // cfg.train_freq - before // cfg.train_freq
        if rounds and now >= cfg.learning_starts:
            self.buffer.flush()
            if self.buffer.size >= cfg.batch_size:
                self._update(rounds * cfg.gradient_steps, now)
        if now // cfg.target_update_interval > before // cfg.target_update_interval:
            self.learner.update_target()

    def _explore(self, obs_ND: np.ndarray) -> np.ndarray:
        """Epsilon-greedy action indices for a batch of observations."""
        n = obs_ND.shape[0]
        random_N = self.np_random.random(n) < self.epsilon()
        if random_N.all():
            return self.np_random.integers(self.num_actions, size=n)
        actions_N = self.policy.greedy(obs_ND)
        if random_N.any():
            actions_N[random_N] = self.np_random.integers(self.num_actions, size=random_N.sum())
        return actions_N

    def _learn(self, env: gym.Env | VectorEnv, steps: int, callback: Callback) -> None:
        self._replay_buffer()
        if isinstance(env, gym.vector.VectorEnv):
            self._learn_vector(env, steps, callback)
        else:
            super()._learn(env, steps, callback)
        self._acted = None
        self.learn_info.update(epsilon=round(self.epsilon(), 4), updates=self.learner.updates)

    def _learn_vector(self, env: VectorEnv, steps: int, callback: Callback) -> None:
        """The vector env's loop: every env's transitions in one batch per step.

        Each call starts new episodes and ends by storing the unfinished n-step transitions as
        if truncated, so, unlike on one env, learning ``2N`` steps at once and ``N`` and ``N``
        are different runs.
        """
        from agents.dqn.replay import NStepAccumulator

        cfg = self.config
        n = env.num_envs
        obs, _ = env.reset(seed=self.env_seed())
        obs_ND = self._observations(obs, n, self.num_timesteps)
        self.reset()
        tracker = EpisodeTracker(callback, n)
        nstep = NStepAccumulator(n, cfg.n_step, cfg.gamma, self.buffer.add)
        # Gymnasium 1.x vector envs reset an env on the step *after* it ended: that step
        # ignores the action and returns the reset observation, so it is not a transition.
        resetting_N = np.zeros(n, bool)
        end = self.num_timesteps + steps
        while self.num_timesteps < end:
            actions_N = self._explore(obs_ND)
            next_obs, reward_N, term_N, trunc_N, info = env.step(actions_N + self.action_start)
            before = self.num_timesteps
            self.num_timesteps += n
            now = self.num_timesteps
            next_obs_ND = self._observations(next_obs, n, now)
            done_N = term_N | trunc_N
            for i in range(n):
                if resetting_N[i]:
                    continue
                nstep.add(
                    i, obs_ND[i], actions_N[i], reward_N[i], next_obs_ND[i], term_N[i], done_N[i]
                )
                env_info = _sub_info(info, i) if done_N[i] else info
                tracker.record(now, i, reward_N[i], done_N[i], env_info)
            resetting_N = done_N
            obs_ND = next_obs_ND
            self._train(before, now)
            if done_N.any() and not callback.on_step(now):
                break
        nstep.flush()
        callback.on_step(self.num_timesteps)

    def _replay_buffer(self) -> ReplayBuffer:
        """The replay buffer, allocated on first use."""
        from agents.dqn.replay import ReplayBuffer

        if self.buffer is None:
            cfg = self.config
            self.buffer = ReplayBuffer(
                cfg.buffer_size,
                self.obs_dim,
                self.torch_device,
                self.generator,
                cfg.prioritized,
                cfg.priority_alpha,
            )
        return self.buffer

    def _update(self, count: int, step: int) -> None:
        """Runs ``count`` gradient steps, reports their losses to the guard, refreshes acting."""
        import torch

        cfg = self.config
        beta = linear(cfg.priority_beta, 1.0, step, cfg.priority_beta_steps)
        self.learner.set_learning_rate(self.learning_rate())
        losses = [self.learner.update(self.buffer, beta) for _ in range(count)]
        self.record_loss(torch.stack(losses).sum())  # the core guard checks it (arena.guard)
        self.policy.refresh()

    def _observations(self, obs: Any, n: int, step: int) -> np.ndarray:
        """The env's observations as a float32 ``[n, D]`` batch; non-finite ones stop training."""
        obs_ND = np.asarray(obs, np.float32).reshape(n, self.obs_dim)
        if not np.isfinite(obs_ND).all():
            raise TrainingError(
                f"The env returned a non-finite observation at step {step}: {obs_ND.tolist()}. "
                "Training stopped; the last good checkpoint is kept."
            )
        return obs_ND

    def state(self) -> dict[str, Any]:
        from arena.torch_utils import optimizer_state

        arrays = {f"online.{k}": v for k, v in self.learner.online.state_dict().items()}
        arrays.update({f"target.{k}": v for k, v in self.learner.target.state_dict().items()})
        optim, _ = optimizer_state(self.learner.optimizer, "optimizer")
        arrays.update(optim)
        arrays["generator"] = self.generator.get_state()
        if self.save_replay and self.buffer is not None:
            arrays.update(self.buffer.state())
            if self.nstep is not None:  # the open episode's transitions not yet in the buffer
                arrays.update(self.nstep.state())
        return arrays

    def state_allowance(self) -> int:
        """The optimizer's moments, which appear at its first step, and the replay buffer's
        rows, staged rows and priorities, when it is full."""
        from agents.dqn.replay import STAGE_ROWS
        from arena.torch_utils import optimizer_state_bytes

        cfg = self.config
        row = (2 * self.obs_dim + 3) * FLOAT32
        priorities = (cfg.buffer_size + 1) * FLOAT32 if cfg.prioritized else 0
        nstep = (cfg.n_step * (self.obs_dim + 2) + self.obs_dim) * 8
        replay = (cfg.buffer_size + STAGE_ROWS) * row + priorities + 8 + nstep
        return optimizer_state_bytes(self.learner.optimizer) + replay

    def extra_state(self) -> dict[str, Any]:
        from arena.torch_utils import optimizer_state

        _, optim = optimizer_state(self.learner.optimizer, "optimizer")
        return {"optimizer": optim, "updates": self.learner.updates}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        from arena.torch_utils import load_optimizer_state

        for prefix, net in (("online.", self.learner.online), ("target.", self.learner.target)):
            net.load_state_dict(
                {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            )
        if "optimizer" in extra:
            load_optimizer_state(self.learner.optimizer, "optimizer", arrays, extra["optimizer"])
        self.learner.updates = int(extra.get("updates", 0))
        # Both are absent in checkpoints from before exact resume, the buffer also in those
        # saved without it; such a run refills its buffer and draws new batches.
        if "generator" in arrays:
            self.generator.set_state(arrays["generator"].cpu())
        if "replay.data" in arrays:
            self._replay_buffer().load(arrays)
        if "nstep.actions" in arrays:
            self._nstep().load(arrays, self.obs_dim, self.num_actions)
        self.policy.refresh()


def _sub_info(info: dict[str, Any], index: int) -> dict[str, Any]:
    """Env ``index``'s ``metrics`` from a vector env's batched info dict."""
    metrics = info.get("metrics")
    if not isinstance(metrics, dict) or not info.get("_metrics", np.zeros(index + 1))[index]:
        return {}
    return {
        "metrics": {
            k: v[index] for k, v in metrics.items() if not k.startswith("_") and v is not None
        }
    }
