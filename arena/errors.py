"""The errors gym-arena raises for a user's mistake.

Every one of them is an :class:`ArenaError`. The CLI prints its message as one paragraph and exits
with status 2; anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from typing import Any


class ArenaError(Exception):
    """A mistake in what the user asked for: an unknown name, a bad value, a bad file."""


class UnknownNameError(ArenaError, KeyError):
    """A name (agent, env, config key, demo) that is not known.

    The message offers the closest known names and lists them all, as Gymnasium's ``make`` does.
    """

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        super().__init__(self._message())

    def _message(self) -> str:
        close = difflib.get_close_matches(self.name, self.known, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(self.known) if self.known else "(none)"
        return f"Unknown {self.kind} {self.name!r}.{hint} Known {self.kind}s: {listing}."

    def __str__(self) -> str:  # KeyError would otherwise quote the message.
        return self.args[0]


class ConfigError(ArenaError, ValueError):
    """A hyperparameter that does not exist or has a value of the wrong type or range."""


class IncompatibleEnvError(ArenaError):
    """An agent cannot play an env: it names what the agent needs and what the env has.

    Args:
        agent: The agent's registered name.
        needs: What the agent needs, as a phrase ("a Discrete observation space").
        has: What the env has ("Box(4,)").
        env: The env's id, when known; :func:`arena.make_agent` fills it in.
    """

    def __init__(self, agent: str, needs: str, has: str, env: str | None = None) -> None:
        self.agent = agent
        self.needs = needs
        self.has = has
        self.env = env
        super().__init__(agent, needs, has, env)

    def __str__(self) -> str:
        return f"{self.agent} needs {self.needs}; {self.env or 'the env'} has {self.has}."


class CheckpointError(ArenaError):
    """A checkpoint that is missing, corrupt, or of a format this version cannot read."""


class PluginError(ArenaError):
    """A plugin that failed to load; the message names the plugin, its package and the cause."""


class TrainingError(ArenaError):
    """Training that had to stop, for example on a NaN loss; the last good checkpoint is kept."""


class ResourceLimitError(ArenaError):
    """Input that would make the program allocate more memory than the machine allows."""


class RunDirBusyError(ArenaError):
    """Another process writes the run directory: one writer at a time.

    Args:
        path: The run directory.
        holder: What the holder wrote into the lock file: ``pid``, ``command``, ``since``.
    """

    def __init__(self, path: str | os.PathLike[str], holder: dict[str, Any]) -> None:
        self.path = path
        self.holder = holder
        super().__init__(path, holder)

    def __str__(self) -> str:
        who = (
            f"pid {self.holder.get('pid')} (`{self.holder.get('command')}`), since "
            f"{self.holder.get('since')}"
            if self.holder
            else "a process that did not say which"
        )
        return (
            f"{str(self.path)!r} is in use by another writer: {who}. A run directory takes one "
            "writer at a time; wait for that one to finish, or pick another folder."
        )
