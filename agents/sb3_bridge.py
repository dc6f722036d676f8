"""The SB3 side of the bridge: building models, learning with arena callbacks, state as tensors.

Imported only when an SB3 agent needs its model, so ``arena list`` never imports SB3 or torch.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import stable_baselines3 as sb3
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import DummyVecEnv

from arena.callbacks import Callback, EpisodeTracker
from arena.errors import ArenaError
from arena.torch_utils import load_optimizer_state, optimizer_state, resolve_device

if TYPE_CHECKING:
    from agents.sb3 import SB3Agent

# Config fields that are ours, not arguments of the SB3 constructor.
_OURS = {"net_arch", "activation", "policy", "n_envs", "linear_schedule", "action_noise_std"}
_ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}


class SpacesEnv(gym.Env):
    """Stands in for the real env while a model is built or loaded: it has spaces, no dynamics."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        raise RuntimeError("SpacesEnv only stands in for the real env; it cannot be stepped.")


def _linear(start: float) -> Any:
    return lambda progress_remaining: progress_remaining * start


def build_model(agent: SB3Agent) -> Any:
    """Builds the SB3 model for the agent's spaces and config, on a placeholder env."""
    config = agent.config
    kwargs = {
        f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name not in _OURS
    }
    if config.linear_schedule:
        kwargs["learning_rate"] = _linear(config.learning_rate)
        if "clip_range" in kwargs:
            kwargs["clip_range"] = _linear(config.clip_range)
    policy_kwargs: dict[str, Any] = {}
    if config.net_arch is not None:
        policy_kwargs["net_arch"] = list(config.net_arch)
    if config.activation != "default":
        policy_kwargs["activation_fn"] = _ACTIVATIONS[config.activation]
    if getattr(config, "action_noise_std", 0) > 0:
        space = agent.action_space
        sigma = config.action_noise_std * (space.high - space.low) / 2
        kwargs["action_noise"] = NormalActionNoise(np.zeros(space.shape), sigma)
    policy = config.policy
    if policy == "auto":
        policy = (
            "MultiInputPolicy"
            if isinstance(agent.observation_space, gym.spaces.Dict)
            else "MlpPolicy"
        )
    spaces = (agent.observation_space, agent.action_space)
    placeholder = DummyVecEnv([lambda: SpacesEnv(*spaces)] * config.n_envs)
    model = getattr(sb3, agent.algorithm)(
        policy,
        placeholder,
        seed=agent.seed,
        device=str(resolve_device(agent.device)),
        policy_kwargs=policy_kwargs or None,
        verbose=0,
        **kwargs,
    )
    model.num_timesteps = agent.num_timesteps
    return model


class ArenaBridge(BaseCallback):
    """Forwards SB3's per-step callback to arena's: episodes, step counts, early stop."""

    def __init__(self, agent: SB3Agent, callback: Callback, num_envs: int) -> None:
        super().__init__()
        self.agent = agent
        self.arena_callback = callback
        self.tracker = EpisodeTracker(callback, num_envs)

    def _on_step(self) -> bool:
        step = self.model.num_timesteps
        self.agent.num_timesteps = step
        rewards, dones, infos = self.locals["rewards"], self.locals["dones"], self.locals["infos"]
        for i, done in enumerate(dones):
            self.tracker.record(step, i, float(rewards[i]), bool(done), infos[i])
        return self.arena_callback.on_step(step)


def learn(agent: SB3Agent, env: gym.Env, steps: int, callback: Callback) -> None:
    """Runs SB3's ``learn`` on ``env`` (plus ``n_envs - 1`` copies made from its id)."""
    copies = agent.config.n_envs - 1
    if copies and env.spec is None:
        raise ArenaError("n_envs > 1 needs an env made from a registered id, to copy it.")
    makers = [lambda: env] + [lambda: gym.make(env.spec)] * copies
    vec_env = DummyVecEnv(makers)
    vec_env.seed(agent.env_seed())
    model = agent.model
    model.set_env(vec_env)
    model.num_timesteps = agent.num_timesteps
    model.learn(
        steps,
        callback=ArenaBridge(agent, callback, len(makers)),
        reset_num_timesteps=False,
        progress_bar=False,
    )
    agent.num_timesteps = model.num_timesteps


def _attr(model: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        model = getattr(model, part)
    return model


def model_state(model: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The networks, optimizers and variables SB3's save lists, as tensors plus JSON."""
    modules, variables = model._get_torch_save_params()
    arrays: dict[str, torch.Tensor] = {}
    optimizers = {}
    for name in modules:
        obj = _attr(model, name)
        if isinstance(obj, torch.optim.Optimizer):
            tensors, extra = optimizer_state(obj, f"{name}::")
            arrays.update(tensors)
            optimizers[name] = extra
        else:
            arrays.update({f"{name}::{k}": v for k, v in obj.state_dict().items()})
    for name in variables:
        arrays[f"{name}::"] = _attr(model, name).detach()
    extra = {
        "sb3_algorithm": type(model).__name__,
        "sb3_version": sb3.__version__,
        "optimizers": optimizers,
        "n_updates": int(getattr(model, "_n_updates", 0)),
    }
    return arrays, extra


def load_model_state(agent: SB3Agent, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
    """Restores what :func:`model_state` returned into the agent's model."""
    if extra.get("sb3_algorithm") != agent.algorithm:
        raise ValueError(f"the state is of SB3 {extra.get('sb3_algorithm')}, not {agent.algorithm}")
    model = agent.model
    modules, variables = model._get_torch_save_params()
    for name in modules:
        obj = _attr(model, name)
        if isinstance(obj, torch.optim.Optimizer):
            load_optimizer_state(obj, f"{name}::", arrays, extra["optimizers"][name])
        else:
            prefix = f"{name}::"
            obj.load_state_dict(
                {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            )
    with torch.no_grad():
        for name in variables:
            _attr(model, name).copy_(arrays[f"{name}::"])
    model._n_updates = extra.get("n_updates", 0)
