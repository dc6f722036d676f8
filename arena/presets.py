"""Presets: each agent family's tuned budgets and hyperparameters per env, shipped as TOML data.

An agent class names its preset file in ``presets``; the file sits next to the agent's module::

    [default]                 # optional: for envs without their own table
    steps = 20000

    ["CartPole-v1"]
    steps = 50000
    config = { learning_rate = 2.3e-3, batch_size = 64 }
    env_kwargs = {}           # optional

    ["CartPole-v1".sweep]     # optional: the default search space of ``arena sweep``
    learning_rate = { low = 1e-4, high = 1e-2, log = true }

    [default.sweep]           # optional: the space for envs whose table has no sweep
    learning_rate = { low = 1e-4, high = 1e-2, log = true }

``arena train`` without ``--steps`` takes the budget from here, and ``--set`` overrides the config.
``arena sweep`` searches the ``sweep`` table around the preset's config (:mod:`arena.search_space`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.config import load_toml
from arena.errors import ConfigError

if TYPE_CHECKING:
    from arena.agent import Agent


@dataclass(frozen=True)
class Preset:
    """A budget and settings for one agent on one env; empty when none ships."""

    steps: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    sweep: dict[str, Any] = field(default_factory=dict)
    """The default search space of ``arena sweep`` on this env: its table's ``sweep`` (an empty
    one opts the env out), else the ``default`` table's; empty when neither ships one."""
    sweep_source: str = ""
    """Where ``sweep`` comes from, for messages."""


def preset_table(agent_cls: type[Agent]) -> dict[str, Any]:
    """The agent's whole preset file, or an empty table."""
    if not agent_cls.presets:
        return {}
    return load_toml(Path(inspect.getfile(agent_cls)).with_name(agent_cls.presets))


def preset_envs(agent_cls: type[Agent]) -> list[str]:
    """The env ids the agent's preset file has tables for (its ``default`` table is none)."""
    return [key for key in preset_table(agent_cls) if key != "default"]


def find_preset(agent_cls: type[Agent], env_id: str) -> Preset:
    """The preset for ``env_id``, else the file's ``default`` table, else an empty preset."""
    table = preset_table(agent_cls)
    key = env_id if env_id in table else "default" if "default" in table else None
    if key is None:
        return Preset()
    entry = table[key]
    unknown = set(entry) - {"steps", "config", "env_kwargs", "sweep"}
    if unknown:
        raise ConfigError(
            f"{agent_cls.name}'s preset [{key}] has unknown keys {sorted(unknown)}; "
            "it takes steps, config, env_kwargs and sweep."
        )
    sweep_key = key if "sweep" in entry or "default" not in table else "default"
    return Preset(
        steps=entry.get("steps"),
        config=dict(entry.get("config", {})),
        env_kwargs=dict(entry.get("env_kwargs", {})),
        source=f"{agent_cls.presets} [{key}]",
        sweep=dict(table[sweep_key].get("sweep", {})),
        sweep_source=f"{agent_cls.presets} [{sweep_key}.sweep]",
    )
