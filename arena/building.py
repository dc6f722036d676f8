"""One construction path: an agent name, an env and their settings become an agent.

``arena train``, ``arena evaluate AGENT ENV``, :func:`arena.make_agent` and
:func:`arena.build_agent` all come through here, so a preset means the same everywhere: its
config, its env arguments and its step budget. Later sources win: the preset, then a TOML file,
then ``--set`` overrides (for the config) or the caller's env arguments (for the env).
The env's arguments are recorded for the checkpoint by :meth:`arena.agent.Agent.remember_env`
alone, from the env that was made.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from arena.cli_common import MAX_ENVS
from arena.config import build_config, load_config_file
from arena.errors import ArenaError, ConfigError, IncompatibleEnvError
from arena.presets import find_preset
from arena.registry import make_env, make_vec_env

if TYPE_CHECKING:
    import gymnasium as gym
    from gymnasium.vector import VectorEnv

    from arena.agent import Agent


class Built(NamedTuple):
    """A fresh agent, the env it was built for, and the preset's step budget.

    It unpacks as ``agent, env, steps = arena.build_agent(...)``.
    """

    agent: Agent
    env: gym.Env | VectorEnv
    steps: int | None
    """The preset's budget for this env; None when no preset gives one."""


@dataclass(frozen=True)
class Recipe:
    """What the sources say to build: the agent's config, the env's arguments, the budget."""

    config: Any
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None


def recipe(
    agent_cls: type[Agent],
    env_id: str | None,
    *,
    preset: bool = True,
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Recipe:
    """Merges the preset, a TOML file and overrides into a config, env arguments and a budget.

    Args:
        agent_cls: The agent's class.
        env_id: The env's id; None takes no preset.
        preset: Start from the agent's preset for ``env_id``.
        config_file: A TOML file of config values (top level, or a ``[config]`` table).
        overrides: Config values that win over the preset's and the file's (``--set``).
        env_kwargs: Env arguments that win over the preset's (``--env-kwargs``).

    Raises:
        ConfigError: A config value is unknown or out of range, or the file is unreadable.
    """
    chosen = find_preset(agent_cls, env_id) if preset and env_id is not None else None
    values: dict[str, Any] = dict(chosen.config) if chosen else {}
    if config_file is not None:
        values.update(load_config_file(config_file))
    values.update(overrides or {})
    return Recipe(
        config=build_config(agent_cls.Config, values, source=f"{agent_cls.name} config"),
        env_kwargs={**(chosen.env_kwargs if chosen else {}), **(env_kwargs or {})},
        steps=chosen.steps if chosen else None,
    )


def construct(
    agent_cls: type[Agent],
    config: Any,
    env: gym.Env | VectorEnv,
    *,
    seed: int | None = None,
    device: str = "auto",
) -> Agent:
    """Builds an agent of ``agent_cls`` for ``env``'s spaces and records the env it is for.

    Raises:
        IncompatibleEnvError: The agent cannot play this env; the message names the env.
    """
    import gymnasium as gym

    vector = isinstance(env, gym.vector.VectorEnv)
    obs = env.single_observation_space if vector else env.observation_space
    act = env.single_action_space if vector else env.action_space
    try:
        agent = agent_cls(obs, act, config=config, seed=seed, device=device)
    except IncompatibleEnvError as e:
        e.env = e.env or (env.spec.id if env.spec is not None else None)
        raise
    agent.remember_env(env)
    return agent


def build_agent(
    name: str,
    env_id: str,
    *,
    seed: int | None = 0,
    device: str = "auto",
    preset: bool = True,
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    num_envs: int = 1,
) -> Built:
    """Builds a fresh agent and makes its env, as ``arena train`` does.

    Args:
        name: The agent's entry-point name, as ``arena list`` shows it.
        env_id: The env to make.
        seed: Seeds the agent.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...; ignored by agents without torch.
        preset: Start from the agent's preset for ``env_id``: its config, env arguments and
            budget.
        config_file: A TOML file of config values.
        overrides: Config values, the ``--set`` of the command line.
        env_kwargs: Arguments to ``gym.make``, over the preset's.
        num_envs: Make a vector env of this many copies when more than one.

    Raises:
        ArenaError: An unknown name, a bad config value or env argument, or an agent that
            cannot play the env.
    """
    from arena.registry import agent_class

    cls = agent_class(name)
    plan = recipe(
        cls,
        env_id,
        preset=preset,
        config_file=config_file,
        overrides=overrides,
        env_kwargs=env_kwargs,
    )
    env = make_envs(env_id, num_envs, plan.env_kwargs)
    try:
        agent = construct(cls, plan.config, env, seed=seed, device=device)
    except IncompatibleEnvError:
        env.close()
        raise
    return Built(agent, env, plan.steps)


def make_envs(env_id: str, num_envs: int, kwargs: Mapping[str, Any]) -> gym.Env | VectorEnv:
    """One env, or a vector env of ``num_envs`` copies when more than one is asked for."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or not 1 <= num_envs <= MAX_ENVS:
        raise ArenaError(
            f"--num-envs must be a whole number from 1 to {MAX_ENVS}, got {num_envs!r}."
        )
    return make_vec_env(env_id, num_envs, **kwargs) if num_envs > 1 else make_env(env_id, **kwargs)


def check_env_arguments(name: str, env: gym.Env | VectorEnv, wanted: Mapping[str, Any]) -> None:
    """Refuses an env made without the arguments a preset plays it with.

    Raises:
        ConfigError: An argument of ``wanted`` has another value in ``env``; the message says
            how to make the env the preset's way.
    """
    have = env_arguments(env)
    wrong = {k: v for k, v in wanted.items() if have.get(k, _MISSING) != v}
    if not wrong:
        return
    env_id = env.spec.id if env.spec is not None else "the env"
    shown = ", ".join(f"{k}={v!r}" for k, v in wrong.items())
    found = ", ".join(f"{k}={have[k]!r}" if k in have else f"no {k}" for k in wrong)
    raise ConfigError(
        f"{name}'s preset plays {env_id} with {shown}, but this env has {found}. Make the env "
        f"with those arguments, or let arena.build_agent({name!r}, {env_id!r}) make both."
    )


_MISSING = object()


def env_arguments(env: gym.Env | VectorEnv) -> dict[str, Any]:
    """The arguments ``env`` was made with: its constructor's defaults, its registration's,
    then the caller's; ``max_episode_steps`` included. Empty for an env without a spec."""
    from gymnasium.envs.registration import load_env_creator

    spec = env.spec
    if spec is None:
        return {}
    try:
        creator = spec.entry_point
        creator = load_env_creator(creator) if isinstance(creator, str) else creator
        parameters = inspect.signature(creator).parameters.values()
    except (ImportError, AttributeError, TypeError, ValueError):
        parameters = []
    defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
    return {**defaults, "max_episode_steps": spec.max_episode_steps, **spec.kwargs}
