"""Config dataclasses for the Stable-Baselines3 agents: SB3's constructor arguments, checked.

Defaults are SB3's own, so ``arena train sb3-ppo ENV`` without presets behaves like
``PPO("MlpPolicy", env)``. Each field keeps SB3's name, so ``--set learning_rate=...`` reads as
the SB3 documentation does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from arena.config import require


@dataclass(frozen=True)
class SB3Config:
    """Arguments every wrapped SB3 algorithm takes."""

    learning_rate: float = 3e-4
    """The optimizer's learning rate."""
    gamma: float = 0.99
    """The discount factor."""
    net_arch: tuple[int, ...] | None = None
    """Hidden layer sizes of the policy (and value) networks; None keeps SB3's default."""
    activation: Literal["default", "tanh", "relu"] = "default"
    """Hidden activation; "default" keeps SB3's (tanh on-policy, relu off-policy)."""
    policy: Literal["auto", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"] = "auto"
    """SB3's policy class; "auto" picks MultiInputPolicy for Dict observations, else MlpPolicy."""
    n_envs: int = 1
    """How many copies of the env step side by side (SB3's DummyVecEnv, made from its id)."""
    linear_schedule: bool = False
    """Decay the learning rate (and PPO's clip range) linearly to 0, as RL Zoo's ``lin_``."""

    def __post_init__(self) -> None:
        require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        require(0.0 <= self.gamma <= 1.0, f"gamma must be in [0, 1], got {self.gamma}")
        require(self.n_envs >= 1, f"n_envs must be >= 1, got {self.n_envs}")
        require(
            self.net_arch is None or all(n > 0 for n in self.net_arch),
            f"net_arch sizes must be > 0, got {self.net_arch}",
        )


@dataclass(frozen=True)
class OnPolicyConfig(SB3Config):
    """Arguments shared by PPO and A2C."""

    n_steps: int = 2048
    """Steps per env between updates."""
    gae_lambda: float = 0.95
    """The GAE bias-variance trade-off."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient-norm clip."""
    normalize_advantage: bool = True
    """Normalize advantages per batch."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_steps >= 1, f"n_steps must be >= 1, got {self.n_steps}")
        require(
            0.0 <= self.gae_lambda <= 1.0, f"gae_lambda must be in [0, 1], got {self.gae_lambda}"
        )
        require(self.max_grad_norm > 0, f"max_grad_norm must be > 0, got {self.max_grad_norm}")


@dataclass(frozen=True)
class PPOConfig(OnPolicyConfig):
    """SB3 PPO's arguments."""

    batch_size: int = 64
    """Minibatch size."""
    n_epochs: int = 10
    """Passes over each rollout."""
    clip_range: float = 0.2
    """The policy ratio clip."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.batch_size >= 2, f"batch_size must be >= 2, got {self.batch_size}")
        require(self.n_epochs >= 1, f"n_epochs must be >= 1, got {self.n_epochs}")
        require(self.clip_range > 0, f"clip_range must be > 0, got {self.clip_range}")


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class OffPolicyConfig(SB3Config):
    """Arguments shared by DQN, SAC and TD3."""

    buffer_size: int = 1_000_000
    """Replay buffer capacity."""
    learning_starts: int = 100
    """Steps of random play before learning starts."""
    batch_size: int = 256
    """Minibatch size."""
    tau: float = 0.005
    """Polyak coefficient of the target update (1.0 is a hard copy)."""
    train_freq: int = 1
    """Env steps between updates."""
    gradient_steps: int = 1
    """Gradient steps per update."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.buffer_size >= 1, f"buffer_size must be >= 1, got {self.buffer_size}")
        require(
            self.learning_starts >= 0, f"learning_starts must be >= 0, got {self.learning_starts}"
        )
        require(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
        require(0.0 < self.tau <= 1.0, f"tau must be in (0, 1], got {self.tau}")
        require(self.train_freq >= 1, f"train_freq must be >= 1, got {self.train_freq}")


@dataclass(frozen=True)
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
    exploration_fraction: float = 0.1
    """Fraction of the run over which epsilon decays."""
    exploration_initial_eps: float = 1.0
    """Epsilon at the start."""
    exploration_final_eps: float = 0.05
    """Epsilon at the end of the decay."""
    max_grad_norm: float = 10.0
    """Gradient-norm clip."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("exploration_fraction", "exploration_initial_eps", "exploration_final_eps"):
            value = getattr(self, name)
            require(0.0 <= value <= 1.0, f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class SACConfig(OffPolicyConfig):
    """SB3 SAC's arguments."""

    ent_coef: str = "auto"
    """Entropy coefficient: a number, or "auto" (learned), or "auto_0.1" (learned from 0.1)."""
    target_update_interval: int = 1
    """Gradient steps between target updates."""


@dataclass(frozen=True)
class TD3Config(OffPolicyConfig):
    """SB3 TD3's arguments."""

    learning_rate: float = 1e-3
    """The optimizer's learning rate."""
    policy_delay: int = 2
    """Critic updates per actor update."""
    target_policy_noise: float = 0.2
    """Std of the smoothing noise on target actions."""
    target_noise_clip: float = 0.5
    """Clip of the target smoothing noise."""
    action_noise_std: float = 0.1
    """Std of the Gaussian exploration noise, relative to the action range (0 disables it)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.policy_delay >= 1, f"policy_delay must be >= 1, got {self.policy_delay}")
        require(
            self.action_noise_std >= 0,
            f"action_noise_std must be >= 0, got {self.action_noise_std}",
        )
