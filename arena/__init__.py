"""gym-arena: every kind of learning model as a uniform agent that plays Gymnasium envs.

The public API::

    import arena
    env = arena.make_env("CartPole-v1")
    agent = arena.make_agent("random", env, seed=0)
    agent.learn(env, 10_000).save("runs/cartpole")
    report = arena.evaluate(arena.load("runs/cartpole"), env, episodes=20, seed=0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import gymnasium as gym

    from arena.agent import Agent
    from arena.callbacks import Callback, Episode
    from arena.errors import (
        ArenaError,
        CheckpointError,
        ConfigError,
        IncompatibleEnvError,
        PluginError,
        UnknownNameError,
    )
    from arena.evaluation import EvalReport, evaluate
    from arena.registry import make_env

# Imported on first use (PEP 562), so that ``import arena`` is instant: the ``arena`` command
# installs its signal handlers before anything else loads.
_LAZY = {
    "Agent": "arena.agent",
    "ArenaError": "arena.errors",
    "Callback": "arena.callbacks",
    "CheckpointError": "arena.errors",
    "ConfigError": "arena.errors",
    "Episode": "arena.callbacks",
    "EvalReport": "arena.evaluation",
    "IncompatibleEnvError": "arena.errors",
    "PluginError": "arena.errors",
    "UnknownNameError": "arena.errors",
    "evaluate": "arena.evaluation",
    "make_env": "arena.registry",
}

__all__ = [
    "Agent",
    "ArenaError",
    "Callback",
    "CheckpointError",
    "ConfigError",
    "Episode",
    "EvalReport",
    "IncompatibleEnvError",
    "PluginError",
    "UnknownNameError",
    "evaluate",
    "load",
    "make_agent",
    "make_env",
]


def make_agent(
    name: str,
    env: gym.Env,
    *,
    seed: int | None = None,
    device: str = "auto",
    preset: bool = False,
    **config: Any,
) -> Agent:
    """Builds the agent registered as ``name`` for ``env``'s spaces.

    Args:
        name: The agent's entry-point name, as ``arena list`` shows it.
        env: The env (or vector env) the agent will play.
        seed: Seeds the agent.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...; ignored by agents without torch.
        preset: Start from the agent's preset for this env id, as ``arena train`` does.
        **config: Hyperparameters; see ``arena info NAME``.

    Raises:
        UnknownNameError: No agent has that name.
        ConfigError: A hyperparameter is unknown or has a bad value.
        IncompatibleEnvError: The agent cannot play this env.
    """
    import gymnasium as gym

    from arena.config import build_config
    from arena.errors import IncompatibleEnvError
    from arena.presets import find_preset
    from arena.registry import agent_class

    cls = agent_class(name)
    env_id = env.spec.id if env.spec is not None else None
    values = dict(find_preset(cls, env_id).config) if preset and env_id else {}
    values.update(config)
    built = build_config(cls.Config, values, source=f"{name} config")
    vector = isinstance(env, gym.vector.VectorEnv)
    obs = env.single_observation_space if vector else env.observation_space
    act = env.single_action_space if vector else env.action_space
    try:
        agent = cls(obs, act, config=built, seed=seed, device=device)
    except IncompatibleEnvError as e:
        e.env = e.env or env_id
        raise
    agent.remember_env(env)
    return agent


def load(
    path: str | Path,
    device: str = "auto",
    *,
    env_id: str | None = None,
    allow_other_distribution: bool = False,
) -> Agent:
    """Loads a checkpoint directory through the registry, without unpickling anything.

    See :func:`arena.checkpoint.load_checkpoint` for ``env_id`` and
    ``allow_other_distribution``.
    """
    from arena.checkpoint import load_checkpoint

    return load_checkpoint(
        path, device=device, env_id=env_id, allow_other_distribution=allow_other_distribution
    )


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'arena' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
