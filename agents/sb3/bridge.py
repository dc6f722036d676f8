"""The SB3 side of the bridge: building models, learning with arena callbacks, state as tensors.

Imported only when an SB3 agent needs its model, so ``arena list`` never imports SB3 or torch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import stable_baselines3 as sb3
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import DummyVecEnv

from arena.callbacks import Callback, EpisodeTracker
from arena.errors import ArenaError
from arena.schedules import linear
from arena.torch_utils import load_optimizer_state, optimizer_state, resolve_device

if TYPE_CHECKING:
    from agents.sb3.agent import SB3Agent

# Config fields that are ours, not arguments of the SB3 constructor.
_OURS = {"hidden_sizes", "activation", "policy", "n_envs", "linear_schedule", "action_noise_std"}
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
    """SB3's schedule form (of the progress remaining, 1 to 0) of a decay from start to 0."""
    return lambda progress_remaining: linear(start, 0.0, 1.0 - progress_remaining, 1.0)


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
    if config.hidden_sizes is not None:
        policy_kwargs["net_arch"] = list(config.hidden_sizes)
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
    # SB3 seeds the global generators with the model's seed as it builds it. Building a copy
    # (an evaluation during training) must not reseed the run it is taken from.
    with _caller_global_generators():
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
    seed = agent.env_seed()
    with _caller_global_generators():
        # SB3 draws from the global generators; seeding them from the agent's own generator
        # makes a resumed run continue as an uninterrupted one would.
        set_random_seed(seed, using_cuda=model.device.type == "cuda")
        model.action_space.seed(seed)
        model.learn(
            steps,
            callback=ArenaBridge(agent, callback, len(makers)),
            reset_num_timesteps=False,
            progress_bar=False,
        )
    agent.num_timesteps = model.num_timesteps


@contextlib.contextmanager
def _caller_global_generators() -> Iterator[None]:
    """Restores Python's, numpy's and torch's global generators as the caller had them."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def _attr(model: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        model = getattr(model, part)
    return model


def model_state(agent: SB3Agent) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The networks, optimizers and variables SB3's save lists, and with ``save_replay`` an
    off-policy model's replay buffer, as tensors plus JSON."""
    model = agent.model
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
        "n_calls": int(getattr(model, "_n_calls", 0)),
        "episode_num": int(getattr(model, "_episode_num", 0)),
    }
    buffer = getattr(model, "replay_buffer", None)
    if agent.save_replay and buffer is not None:
        rows = buffer.buffer_size if buffer.full else buffer.pos
        for name, array in _replay_arrays(buffer).items():
            arrays[f"replay::{name}"] = torch.from_numpy(np.ascontiguousarray(array[:rows]))
        extra["replay"] = {"pos": int(buffer.pos), "full": bool(buffer.full)}
    return arrays, extra


def optimizers_bytes(agent: SB3Agent) -> int:
    """The most bytes of state the model's optimizers hold once they have stepped."""
    from arena.torch_utils import optimizer_state_bytes

    modules, _ = agent.model._get_torch_save_params()
    found = (_attr(agent.model, name) for name in modules)
    return sum(optimizer_state_bytes(o) for o in found if isinstance(o, torch.optim.Optimizer))


def replay_bytes(agent: SB3Agent) -> int:
    """The bytes of an off-policy model's full replay buffer (0 for an on-policy one)."""
    buffer = getattr(agent.model, "replay_buffer", None)
    return sum(a.nbytes for a in _replay_arrays(buffer).values()) if buffer is not None else 0


def _replay_arrays(buffer: Any) -> dict[str, np.ndarray]:
    """A replay buffer's arrays by name, a Dict observation's keys as ``observations::KEY``."""
    found = {}
    for name in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
        value = getattr(buffer, name, None)
        if isinstance(value, dict):
            found.update({f"{name}::{k}": v for k, v in value.items()})
        elif value is not None:
            found[name] = value
    return found


def _load_replay(model: Any, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
    """Restores the replay buffer :func:`model_state` saved, if it saved one."""
    buffer = getattr(model, "replay_buffer", None)
    saved = {k.removeprefix("replay::"): v for k, v in arrays.items() if k.startswith("replay::")}
    if buffer is None or not saved:
        return
    pos, full = int(extra["replay"]["pos"]), bool(extra["replay"]["full"])
    rows = buffer.buffer_size if full else pos
    if not 0 <= pos < buffer.buffer_size:
        raise ValueError(f"its replay position {pos} is outside the buffer of {buffer.buffer_size}")
    targets = _replay_arrays(buffer)
    if set(saved) != set(targets):
        raise ValueError(f"its replay buffer has {sorted(saved)}, this model {sorted(targets)}")
    for name, target in targets.items():
        value = saved[name].cpu().numpy()
        if value.shape != (rows, *target.shape[1:]):
            raise ValueError(f"its replay {name} has shape {value.shape}")
        target[:rows] = value
    buffer.pos, buffer.full = pos, full


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
    # The counters and the buffer are absent in checkpoints from before exact resume.
    if hasattr(model, "_n_calls"):
        model._n_calls = int(extra.get("n_calls", 0))
    model._episode_num = int(extra.get("episode_num", 0))
    _load_replay(model, arrays, extra)
