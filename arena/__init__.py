"""gym-arena: every kind of learning model as a uniform agent that plays Gymnasium envs.

The public API::

    import arena
    env = arena.make_env("CartPole-v1")
    agent = arena.make_agent("random", env, seed=0)
    agent.learn(env, 10_000).save("runs/cartpole")
    agent, env, steps = arena.build_agent("dqn", "CartPole-v1", seed=0)  # as `arena train` does
    report = arena.evaluate(arena.load("runs/cartpole"), env, episodes=20, seed=0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import gymnasium as gym

    from arena.agent import Agent
    from arena.building import Built, build_agent
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
    "Built": "arena.building",
    "Callback": "arena.callbacks",
    "CheckpointError": "arena.errors",
    "ConfigError": "arena.errors",
    "Episode": "arena.callbacks",
    "EvalReport": "arena.evaluation",
    "IncompatibleEnvError": "arena.errors",
    "PluginError": "arena.errors",
    "UnknownNameError": "arena.errors",
    "build_agent": "arena.building",
    "evaluate": "arena.evaluation",
    "make_env": "arena.registry",
}

__all__ = [
    "Agent",
    "ArenaError",
    "Built",
    "Callback",
    "CheckpointError",
    "ConfigError",
    "Episode",
    "EvalReport",
    "IncompatibleEnvError",
    "PluginError",
    "UnknownNameError",
    "build_agent",
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
    """Builds the agent registered as ``name`` for an env you made.

    To have the env made too, with the preset's arguments and step budget, as ``arena train``
    does, use :func:`build_agent`.

    Args:
        name: The agent's entry-point name, as ``arena list`` shows it.
        env: The env (or vector env) the agent will play.
        seed: Seeds the agent.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...; ignored by agents without torch.
        preset: Start from the agent's preset for this env id, as ``arena train`` does; the
            env must have been made with the preset's env arguments.
        **config: Hyperparameters; see ``arena info NAME``.

    Raises:
        UnknownNameError: No agent has that name.
        ConfigError: A hyperparameter is unknown or has a bad value, or the env was made
            without the preset's arguments.
        IncompatibleEnvError: The agent cannot play this env.
    """
    from arena.building import check_env_arguments, construct, recipe
    from arena.registry import agent_class

    cls = agent_class(name)
    env_id = env.spec.id if env.spec is not None else None
    plan = recipe(cls, env_id, preset=preset, overrides=config)
    check_env_arguments(name, env, plan.env_kwargs)
    return construct(cls, plan.config, env, seed=seed, device=device)


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
