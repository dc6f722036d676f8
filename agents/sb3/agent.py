"""Stable-Baselines3's algorithms as arena agents: ``sb3-ppo``, ``sb3-a2c``, ``sb3-dqn``,
``sb3-sac`` and ``sb3-td3``.

They train with SB3's own ``learn`` and report through arena's callbacks, but save like every
arena agent: the policy's and optimizers' state dicts as safetensors plus the manifest, never
SB3's zip (which carries cloudpickle). This module stays light; SB3 and torch are imported when
a model is first needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from gymnasium import spaces

from agents.sb3.config import (
    A2CConfig,
    DQNConfig,
    OffPolicyConfig,
    OnPolicyConfig,
    PPOConfig,
    SACConfig,
    TD3Config,
)
from arena.agent import Agent
from arena.sizes import FLOAT32, adam_bytes, dense_parameters, space_elements, stored_bytes

if TYPE_CHECKING:
    import gymnasium as gym

    from arena.callbacks import Callback

_ANY_OBS = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary, spaces.Dict)


class SB3Agent(Agent):
    """Wraps one SB3 algorithm behind the Agent API.

    Note that SB3 seeds Python's, numpy's and torch's global generators from the seed when it
    builds a model; that is SB3's own behaviour, kept as is. ``learn`` seeds them from the
    agent's own generator and gives the caller's back afterwards; the checkpoint keeps an
    off-policy model's replay buffer (unless ``save_replay`` is off) and SB3's counters, so
    that a resumed run continues exactly.
    """

    uses_torch = True
    splits_exactly = False
    """SB3's ``learn`` resets its env at every call and counts whole rollouts, so ``learn(2N)`` is
    another run than ``learn(N)`` twice; ``learn(N)``, save, load, ``learn(N)`` is exact."""
    algorithm: ClassVar[str] = ""
    """The SB3 class name."""
    action_spaces: ClassVar[tuple[type[spaces.Space], ...]] = ()
    """The action spaces the SB3 algorithm supports."""
    default_arch: ClassVar[tuple[int, ...]] = (64, 64)
    """SB3's hidden layers for this algorithm when ``hidden_sizes`` is None."""
    networks: ClassVar[tuple[int, int]] = (2, 0)
    """How many networks SB3 trains (actor, value, critics) and keeps as target copies."""

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        self._model = None

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        if not isinstance(observation_space, _ANY_OBS):
            raise cls.incompatible(
                "a Box, Discrete, MultiDiscrete, MultiBinary or Dict observation space",
                observation_space,
            )
        if not isinstance(action_space, cls.action_spaces):
            names = " or ".join(s.__name__ for s in cls.action_spaces)
            raise cls.incompatible(f"a {names} action space", action_space)

    @classmethod
    def memory_needed(
        cls,
        config: OnPolicyConfig | OffPolicyConfig,
        observation_space: spaces.Space,
        action_space: spaces.Space,
    ) -> dict[str, int]:
        """SB3's networks (each counted as an MLP from the flattened observation and action to
        the action and a value; Adam's copies for the trained ones); the replay buffer (the
        observation, the next one, the action, three float32 scalars) and a batch, or the
        rollout buffer (everything as float32, six scalars a step)."""
        obs_in, act_dim = spaces.flatdim(observation_space), spaces.flatdim(action_space)
        arch = list(config.hidden_sizes or cls.default_arch)
        net = dense_parameters([obs_in + act_dim, *arch, act_dim + 1])
        trained, targets = cls.networks
        needed = {
            f"networks (hidden_sizes={arch})": trained * adam_bytes(net) + targets * net * FLOAT32
        }
        if isinstance(config, OffPolicyConfig):
            row = 2 * stored_bytes(observation_space) + stored_bytes(action_space) + 3 * FLOAT32
            needed[f"replay buffer (buffer_size={config.buffer_size})"] = config.buffer_size * row
            activations = 2 * (trained + targets) * sum(arch) * FLOAT32
            needed[f"batch (batch_size={config.batch_size})"] = config.batch_size * (
                row + activations
            )
        else:
            elements = space_elements(observation_space) + space_elements(action_space) + 6
            what = f"rollout buffer (n_steps={config.n_steps}, n_envs={config.n_envs})"
            needed[what] = config.n_steps * config.n_envs * elements * FLOAT32
        return needed

    @property
    def model(self) -> Any:
        """The SB3 model, built on first use."""
        if self._model is None:
            from agents.sb3.bridge import build_model

            self._model = build_model(self)
        return self._model

    def act(self, observation: Any, explore: bool = False) -> Any:
        """SB3's ``predict``: deterministic unless exploring."""
        action, _ = self.model.predict(observation, deterministic=not explore)
        return int(action) if isinstance(self.action_space, spaces.Discrete) else action

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        from agents.sb3.bridge import learn

        learn(self, env, steps, callback)

    def state(self) -> dict[str, Any]:
        from agents.sb3.bridge import model_state

        return model_state(self)[0]

    def extra_state(self) -> dict[str, Any]:
        from agents.sb3.bridge import model_state

        return model_state(self)[1]

    def state_allowance(self) -> int:
        """The optimizers' state, which they gain at their first step, and an off-policy
        model's replay buffer, when it is full."""
        from agents.sb3.bridge import optimizers_bytes, replay_bytes

        return optimizers_bytes(self) + replay_bytes(self)

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        from agents.sb3.bridge import load_model_state

        load_model_state(self, arrays, extra)


class PPO(SB3Agent):
    """Stable-Baselines3's PPO (clipped proximal policy optimization), trained by SB3 itself."""

    Config = PPOConfig
    algorithm = "PPO"
    action_spaces = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
    presets = "sb3_ppo_presets.toml"


class A2C(SB3Agent):
    """Stable-Baselines3's A2C (synchronous advantage actor-critic), trained by SB3 itself."""

    Config = A2CConfig
    algorithm = "A2C"
    action_spaces = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
    presets = "sb3_a2c_presets.toml"


class DQN(SB3Agent):
    """Stable-Baselines3's DQN, trained by SB3 itself (arena's own is the faster ``dqn``)."""

    Config = DQNConfig
    algorithm = "DQN"
    action_spaces = (spaces.Discrete,)
    networks = (1, 1)
    presets = "sb3_dqn_presets.toml"


class SAC(SB3Agent):
    """Stable-Baselines3's SAC (soft actor-critic) for continuous actions."""

    Config = SACConfig
    algorithm = "SAC"
    action_spaces = (spaces.Box,)
    default_arch = (256, 256)
    networks = (3, 2)
    presets = "sb3_sac_presets.toml"


class TD3(SB3Agent):
    """Stable-Baselines3's TD3 (twin delayed DDPG) for continuous actions."""

    Config = TD3Config
    algorithm = "TD3"
    action_spaces = (spaces.Box,)
    default_arch = (400, 300)
    networks = (3, 3)
    presets = "sb3_td3_presets.toml"
