"""Finds agents and envs through entry points, the way pytest finds its plugins.

Two entry-point groups:

- ``arena.agents``: each entry point names an :class:`~arena.agent.Agent` subclass; its name is
  the agent's name on the command line.
- ``arena.envs``: each entry point names a callable that registers Gymnasium ids (or a module
  whose import registers them).
- ``arena.importers``: each entry point names a function that converts another library's saved
  model into an arena checkpoint; it becomes the command ``arena import-NAME``.

The core names no built-in agent or env: gym-arena's own are declared in its ``pyproject.toml``
like any third-party plugin's. Loading is lazy: an agent's module is imported only when that
agent is asked for, or when ``arena list`` wants its summary. A plugin that fails to load is
reported by name and distribution with its cause, and the other plugins keep working.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.metadata as metadata
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.errors import ArenaError, PluginError, UnknownNameError

if TYPE_CHECKING:
    import gymnasium as gym

    from arena.agent import Agent

AGENT_GROUP = "arena.agents"
ENV_GROUP = "arena.envs"
IMPORTER_GROUP = "arena.importers"


@dataclass(frozen=True)
class Plugin:
    """One entry point and the distribution that declares it.

    ``rivals`` are the entry points of the same name and group that *other* distributions
    declare; arena will not guess between them, so loading a plugin with rivals fails.
    """

    name: str
    value: str
    group: str
    distribution: str
    version: str
    rivals: tuple[Plugin, ...] = field(default=(), compare=False)

    def describe(self) -> str:
        """Names the plugin and its package, for messages."""
        return (
            f"{self.group} plugin {self.name!r} ({self.value}) "
            f"from {self.distribution} {self.version}"
        )

    def conflict(self) -> str | None:
        """The message that refuses a name declared by two distributions, or None."""
        if not self.rivals:
            return None
        declared = " and ".join(
            f"{p.distribution} {p.version} ({p.value})" for p in (self, *self.rivals)
        )
        return (
            f"The {self.group} plugin {self.name!r} is declared by {declared}; arena will not "
            "guess which one to load. Uninstall one of these distributions."
        )


@dataclass(frozen=True)
class AgentListing:
    """An agent as ``arena list`` shows it; ``error`` is set when its plugin failed to load."""

    name: str
    distribution: str
    version: str
    summary: str
    error: str | None = None


def plugins(group: str) -> dict[str, Plugin]:
    """Every entry point of ``group`` by name, with its distribution; nothing is imported.

    A name that several distributions declare keeps the first as the plugin and the others as
    its ``rivals``. One distribution seen twice on ``sys.path`` (an editable install and a stray
    ``.egg-info``) is not a rival of itself: distributions are compared by normalised name.
    """
    found: dict[str, Plugin] = {}
    for name, version, entry_points in _distributions()[0]:
        for ep in entry_points.select(group=group):
            plugin = Plugin(ep.name, ep.value, group, name, version)
            first = found.setdefault(ep.name, plugin)
            known = {distribution_key(p.distribution) for p in (first, *first.rivals)}
            if distribution_key(plugin.distribution) not in known:
                found[ep.name] = dataclasses.replace(first, rivals=(*first.rivals, plugin))
    return found


def broken_distributions() -> list[PluginError]:
    """Installed distributions whose entry points cannot be read; their plugins are skipped."""
    return list(_distributions()[1])


@functools.cache
def _distributions() -> tuple[
    tuple[tuple[str, str, metadata.EntryPoints], ...], tuple[PluginError, ...]
]:
    """(name, version, entry points) of each installed distribution in ``sys.path`` order, the
    first copy of a name only (as importlib's own ``entry_points`` does), and the failures."""
    readable, broken, seen = [], [], set()
    for dist in metadata.distributions():
        name, version = "unknown", "unknown"
        try:
            name = dist.metadata["Name"] or name
            version = dist.version or version
            if name != "unknown" and distribution_key(name) in seen:
                continue
            seen.add(distribution_key(name))
            readable.append((name, version, dist.entry_points))
        except Exception as e:  # A malformed entry_points.txt or METADATA of any package.
            broken.append(
                PluginError(
                    f"The installed distribution {name} {version} has unreadable metadata "
                    f"({type(e).__name__}: {e}); any arena plugins it declares are skipped."
                )
            )
    return tuple(readable), tuple(broken)


def distribution_key(distribution: str) -> str:
    """A distribution's name as PEP 503 compares them: ``Arena_Plugin`` is ``arena-plugin``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@functools.cache
def agent_plugins() -> dict[str, Plugin]:
    """Every declared agent by name, without importing any of them."""
    return plugins(AGENT_GROUP)


@functools.cache
def env_plugins() -> dict[str, Plugin]:
    """Every declared env plugin by name, without importing any of them."""
    return plugins(ENV_GROUP)


@functools.cache
def importer_plugins() -> dict[str, Plugin]:
    """Every declared model importer (``arena import-NAME``), without importing any of them."""
    return plugins(IMPORTER_GROUP)


def importer_conflicts() -> list[PluginError]:
    """The importer names that several distributions declare, for ``arena list``; the
    importers themselves are not imported."""
    return [PluginError(p.conflict()) for p in importer_plugins().values() if p.conflict()]


def importer(name: str) -> Any:
    """Loads the importer ``name``: ``f(source, out, env=None, **options) -> dict``."""
    found = importer_plugins()
    if name not in found:
        raise UnknownNameError("importer", name, found)
    return load_plugin(found[name])


def load_plugin(plugin: Plugin) -> Any:
    """Imports what ``plugin`` names.

    Raises:
        PluginError: Another distribution declares the same name, or the import failed in any
            way, ``sys.exit()`` included; only Ctrl-C passes through.
    """
    if plugin.conflict():
        raise PluginError(plugin.conflict())
    if not metadata.EntryPoint.pattern.fullmatch(plugin.value):
        raise PluginError(
            f"{plugin.describe()} is not a valid entry point: it must read module:attribute."
        )
    before = registry_snapshot()
    try:
        loaded = metadata.EntryPoint(plugin.name, plugin.value, plugin.group).load()
    except (KeyboardInterrupt, PluginError):
        raise
    except BaseException as e:  # Any failure inside a plugin's import is that plugin's fault.
        raise PluginError(_failure(plugin, e)) from None
    if plugin.group != ENV_GROUP:
        changed = sorted(
            env_id for env_id, key in registry_snapshot().items() if before.get(env_id, key) != key
        )
        if changed:
            raise PluginError(
                f"{plugin.describe()} changed the registration of the env id(s) "
                f"{', '.join(changed[:5])} when imported; only an arena.envs plugin may register "
                "envs, and none may change another's."
            )
    return loaded


def registry_snapshot() -> dict[str, str]:
    """Each Gymnasium id's registration as text (entry point, time limit, arguments...), so that
    a plugin that replaces or edits another's registration is caught; ``{}`` before Gymnasium is
    imported."""
    gym = sys.modules.get("gymnasium")
    if gym is None:
        return {}
    return {
        env_id: repr(
            (
                spec.entry_point,
                spec.max_episode_steps,
                spec.reward_threshold,
                spec.nondeterministic,
                spec.order_enforce,
                spec.disable_env_checker,
                spec.kwargs,
                spec.additional_wrappers,
            )
        )
        for env_id, spec in gym.registry.items()
    }


def _failure(plugin: Plugin, error: BaseException) -> str:
    cause = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return f"Could not load {plugin.describe()}: {cause}"


@functools.cache
def agent_class(name: str) -> type[Agent]:
    """Returns the agent class registered under ``name``, importing only its plugin.

    Raises:
        UnknownNameError: No agent has that name; the message lists the known ones.
        PluginError: The plugin failed to import, or does not name an Agent subclass.
    """
    from arena.agent import Agent

    found = agent_plugins()
    if name not in found:
        raise UnknownNameError("agent", name, found)
    plugin = found[name]
    cls = load_plugin(plugin)
    if not (inspect.isclass(cls) and issubclass(cls, Agent)):
        raise PluginError(f"{plugin.describe()} names {cls!r}, which is not an arena Agent class.")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise PluginError(f"{plugin.describe()} leaves abstract methods unimplemented: {missing}.")
    cls.name = name
    return cls


def list_agents() -> list[AgentListing]:
    """Every agent with its distribution and summary; broken plugins carry their error."""
    rows = []
    for name, plugin in sorted(agent_plugins().items()):
        try:
            cls = agent_class(name)
        except PluginError as e:
            rows.append(AgentListing(name, plugin.distribution, plugin.version, "", str(e)))
            continue
        summary = (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
        rows.append(AgentListing(name, plugin.distribution, plugin.version, summary))
    return rows


def load_env_plugins() -> tuple[PluginError, ...]:
    """Registers every env plugin's Gymnasium ids, once; returns the plugins that failed and
    the ids that two registrations claim (see :func:`_load_env_plugins`)."""
    failures, conflicts = _load_env_plugins()
    return failures + tuple(conflicts.values())


@functools.cache
def _load_env_plugins() -> tuple[tuple[PluginError, ...], dict[str, PluginError]]:
    """Loads the env plugins; returns the failures, and by id the registrations that replaced an
    existing id with a different entry point (Gymnasium would let the last one win silently)."""
    import gymnasium as gym

    failures, conflicts = [], {}
    owners: dict[str, Plugin] = {}
    for plugin in env_plugins().values():
        before = registry_snapshot()
        entry_points = {env_id: spec.entry_point for env_id, spec in gym.registry.items()}
        try:
            target = load_plugin(plugin)
            if callable(target):
                target()
        except PluginError as e:
            failures.append(e)
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # The plugin's register function failed, or exited.
            failures.append(PluginError(_failure(plugin, e)))
        for env_id, key in registry_snapshot().items():
            if env_id not in before:
                owners[env_id] = plugin
            elif key != before[env_id]:
                first = (
                    owners[env_id].describe()
                    if env_id in owners
                    else "Gymnasium or a package imported before the plugins"
                )
                conflicts[env_id] = PluginError(
                    f"The env id {env_id!r} is registered twice: as {entry_points[env_id]} by "
                    f"{first}, then registered again or changed (to run "
                    f"{gym.spec(env_id).entry_point}) by {plugin.describe()}. arena will not "
                    "guess which one to run; uninstall one of these distributions."
                )
    return tuple(failures), conflicts


def env_owners(include_all: bool = False) -> dict[str, tuple[str, str]]:
    """Maps Gymnasium ids to the (distribution, version) whose code runs them.

    An id belongs to an ``arena.envs`` plugin when its entry point lives in the plugin's
    top-level package. With ``include_all``, every other id (Gymnasium's own, say) is looked up
    in the installed distributions, which is slower.
    """
    import gymnasium as gym

    load_env_plugins()
    tops = {
        p.value.split(":")[0].split(".")[0]: (p.distribution, p.version)
        for p in env_plugins().values()
    }
    modules: dict[str, list[str]] | None = None
    owners = {}
    for env_id, spec in gym.registry.items():
        entry = spec.entry_point
        module = entry.split(":")[0] if isinstance(entry, str) else getattr(entry, "__module__", "")
        top = module.split(".")[0]
        if top in tops:
            owners[env_id] = tops[top]
        elif include_all:
            modules = metadata.packages_distributions() if modules is None else modules
            dist = modules.get(top, ["unknown"])[0]
            try:
                owners[env_id] = (dist, metadata.version(dist))
            except metadata.PackageNotFoundError:
                owners[env_id] = (dist, "unknown")
    return owners


def evaluation_kwargs(env_id: str) -> dict[str, Any]:
    """The arguments an env asks evaluation to play with, ``{}`` for most envs.

    An env class may declare them in its ``metadata["evaluation_kwargs"]``: a dataset env that
    trains on its train split by default declares ``{"split": "test"}``, so that ``arena
    evaluate`` plays held-out data without the user having to remember a flag. They override
    the arguments a checkpoint recorded at training; explicit ``--env-kwargs`` override them.
    """
    import gymnasium as gym
    from gymnasium.envs.registration import load_env_creator

    _check_env_id(env_id)
    try:
        entry_point = gym.spec(env_id.split(":")[-1]).entry_point
        creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    except (gym.error.Error, ImportError, AttributeError):
        return {}  # make_env reports the problem when it makes the env.
    declared = getattr(creator, "metadata", None)
    declared = declared.get("evaluation_kwargs") if isinstance(declared, dict) else None
    return dict(declared) if isinstance(declared, dict) else {}


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` with env plugins loaded and user mistakes turned into clear errors.

    Any exception an env's constructor raises while given arguments is blamed on the arguments
    (``map_name="9x9"`` makes FrozenLake raise ``KeyError``): an :class:`ArenaError` naming the
    env and them.
    """
    import gymnasium as gym

    _check_env_id(env_id)
    _check_time_limit(env_id, kwargs)
    with _user_arguments(env_id, kwargs):
        return gym.make(env_id, **kwargs)


def make_vec_env(env_id: str, num_envs: int, **kwargs: Any) -> gym.vector.VectorEnv:
    """``gym.make_vec`` (sync, next-step autoreset), checked as :func:`make_env` is."""
    import gymnasium as gym

    _check_env_id(env_id)
    _check_time_limit(env_id, kwargs)
    if num_envs < 1:
        raise ArenaError(f"--num-envs must be at least 1, got {num_envs}.")
    with _user_arguments(env_id, kwargs):
        return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)


def _check_time_limit(env_id: str, kwargs: dict[str, Any]) -> None:
    """``max_episode_steps`` is ``gym.make``'s own argument: a whole number of at least 1."""
    limit = kwargs.get("max_episode_steps")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ArenaError(
            f"max_episode_steps for {env_id} must be a whole number of at least 1, got {limit!r}."
        )


@contextlib.contextmanager
def _user_arguments(env_id: str, kwargs: dict[str, Any]) -> Iterator[None]:
    """Turns a failure to make ``env_id`` with ``kwargs`` into an :class:`ArenaError`."""
    import gymnasium as gym

    from arena.spaces import shorten

    try:
        yield
    except ArenaError:
        raise
    except ImportError as e:
        raise ArenaError(
            f"Could not make {env_id}: importing its code failed ({type(e).__name__}: {e})."
        ) from None
    except TypeError as e:
        raise ArenaError(
            f"{env_id} does not accept these arguments {shorten(repr(kwargs))}: {e}."
        ) from None
    except (gym.error.Error, ValueError, FileNotFoundError) as e:
        if not kwargs:
            raise ArenaError(f"Could not make {env_id}: {e}") from None
        raise ArenaError(_refused(env_id, kwargs, e)) from None
    except Exception as e:
        if not kwargs:
            raise  # The env fails on its own: a bug in it, which keeps its traceback.
        raise ArenaError(_refused(env_id, kwargs, e)) from None


def _refused(env_id: str, kwargs: dict[str, Any], error: Exception) -> str:
    from arena.spaces import shorten

    return (
        f"Could not make {env_id} with the arguments {shorten(repr(kwargs))}: it raised "
        f"{type(error).__name__}: {shorten(str(error))}. Check them against the env's "
        "documented arguments."
    )


def _check_env_id(env_id: str) -> None:
    import gymnasium as gym

    failures = load_env_plugins()
    name = env_id.split(":")[-1]
    conflict = _load_env_plugins()[1].get(name)
    if conflict is not None:
        raise conflict
    if ":" in env_id or name in gym.registry:
        return
    error = UnknownNameError("env", env_id, gym.registry)
    if failures:
        notes = " ".join(str(f) for f in failures)
        raise ArenaError(f"{error} Some env plugins failed to load: {notes}")
    raise error
