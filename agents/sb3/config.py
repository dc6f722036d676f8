"""Config dataclasses for the Stable-Baselines3 agents: SB3's constructor arguments, checked.

Defaults are SB3's own, so ``arena train sb3-ppo ENV`` without presets behaves like
``PPO("MlpPolicy", env)``. Each field keeps SB3's name, so ``--set learning_rate=...`` reads as
the SB3 documentation does, except ``hidden_sizes``, SB3's ``net_arch``, named as in every other
arena agent. Ranges are declared with the fields (:mod:`arena.ranges`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from arena.config_blocks import ConfigBase
from arena.ranges import Above, AtLeast, Between, Each, Length


@dataclass(frozen=True, kw_only=True)
class SB3Config(ConfigBase):
    """Arguments every wrapped SB3 algorithm takes."""

    renamed: ClassVar[dict[str, str]] = {"net_arch": "hidden_sizes"}

    learning_rate: Annotated[float, Above(0)] = 3e-4
    """The optimizer's learning rate."""
    gamma: Annotated[float, Between(0, 1)] = 0.99
    """The discount factor."""
    hidden_sizes: Annotated[tuple[int, ...] | None, Each(AtLeast(1)), Length(1)] = None
    """Hidden layer widths of the policy (and value) networks, SB3's ``net_arch``; None keeps
    SB3's default."""
    activation: Literal["default", "tanh", "relu"] = "default"
    """Hidden activation; "default" keeps SB3's (tanh on-policy, relu off-policy)."""
    policy: Literal["auto", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"] = "auto"
    """SB3's policy class; "auto" picks MultiInputPolicy for Dict observations, else MlpPolicy."""
    n_envs: Annotated[int, AtLeast(1)] = 1
    """How many copies of the env step side by side (SB3's DummyVecEnv, made from its id)."""
    linear_schedule: bool = False
    """Decay the learning rate (and PPO's clip range) linearly to 0, as RL Zoo's ``lin_``."""


@dataclass(frozen=True, kw_only=True)
class OnPolicyConfig(SB3Config):
    """Arguments shared by PPO and A2C."""

    n_steps: Annotated[int, AtLeast(1)] = 2048
    """Steps per env between updates."""
    gae_lambda: Annotated[float, Between(0, 1)] = 0.95
    """The GAE bias-variance trade-off."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: Annotated[float, Above(0)] = 0.5
    """Gradient-norm clip (SB3 always clips: no None)."""
    normalize_advantage: bool = True
    """Normalize advantages per batch."""


@dataclass(frozen=True, kw_only=True)
class PPOConfig(OnPolicyConfig):
    """SB3 PPO's arguments."""

    batch_size: Annotated[int, AtLeast(2)] = 64
    """Minibatch size."""
    n_epochs: Annotated[int, AtLeast(1)] = 10
    """Passes over each rollout."""
    clip_range: Annotated[float, Above(0)] = 0.2
    """The policy ratio clip."""


@dataclass(frozen=True, kw_only=True)
class A2CConfig(OnPolicyConfig):
    """SB3 A2C's arguments."""

    learning_rate: float = 7e-4
    """The optimizer's learning rate."""
    n_steps: int = 5
    """Steps per env between updates."""
    gae_lambda: float = 1.0
    """The GAE bias-variance trade-off (1.0 is the classic advantage)."""
    normalize_advantage: bool = False
    """Normalize advantages per batch."""
    use_rms_prop: bool = True
    """RMSprop (as in the A2C paper) instead of Adam."""


@dataclass(frozen=True, kw_only=True)
class OffPolicyConfig(SB3Config):
    """Arguments shared by DQN, SAC and TD3."""

    buffer_size: Annotated[int, AtLeast(1)] = 1_000_000
    """Replay buffer capacity."""
    learning_starts: Annotated[int, AtLeast(0)] = 100
    """Steps of random play before learning starts."""
    batch_size: Annotated[int, AtLeast(1)] = 256
    """Minibatch size."""
    tau: Annotated[float, Between(0, 1, open_low=True)] = 0.005
    """Polyak coefficient of the target update (1.0 is a hard copy)."""
    train_freq: Annotated[int, AtLeast(1)] = 1
    """Env steps between updates."""
    gradient_steps: int = 1
    """Gradient steps per update (SB3's -1: as many as the env steps since the last update)."""


@dataclass(frozen=True, kw_only=True)
class DQNConfig(OffPolicyConfig):
    """SB3 DQN's arguments."""

    learning_rate: float = 1e-4
    """The optimizer's learning rate."""
    batch_size: int = 32
    """Minibatch size."""
    tau: float = 1.0
    """Polyak coefficient of the target update (1.0 is a hard copy)."""
    train_freq: int = 4
    """Env steps between updates."""
    target_update_interval: int = 10_000
    """Env steps between target network updates."""
    exploration_fraction: Annotated[float, Between(0, 1)] = 0.1
    """Fraction of the run over which epsilon decays (SB3's, not arena's exploration_steps)."""
    exploration_initial_eps: Annotated[float, Between(0, 1)] = 1.0
    """Epsilon at the start."""
    exploration_final_eps: Annotated[float, Between(0, 1)] = 0.05
    """Epsilon at the end of the decay."""
    max_grad_norm: Annotated[float, Above(0)] = 10.0
    """Gradient-norm clip (SB3 always clips: no None)."""


@dataclass(frozen=True, kw_only=True)
class SACConfig(OffPolicyConfig):
    """SB3 SAC's arguments."""

    ent_coef: str = "auto"
    """Entropy coefficient: a number, or "auto" (learned), or "auto_0.1" (learned from 0.1)."""
    target_update_interval: int = 1
    """Gradient steps between target updates."""


@dataclass(frozen=True, kw_only=True)
class TD3Config(OffPolicyConfig):
    """SB3 TD3's arguments."""

    learning_rate: float = 1e-3
    """The optimizer's learning rate."""
    policy_delay: Annotated[int, AtLeast(1)] = 2
    """Critic updates per actor update."""
    target_policy_noise: float = 0.2
    """Std of the smoothing noise on target actions."""
    target_noise_clip: float = 0.5
    """Clip of the target smoothing noise."""
    action_noise_std: Annotated[float, AtLeast(0)] = 0.1
    """Std of the Gaussian exploration noise, relative to the action range (0 disables it)."""
