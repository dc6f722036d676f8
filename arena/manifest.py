"""The checkpoint manifest's schema: every field checked before anything is built from it.

A manifest is untrusted input: a checkpoint may come from anywhere, and it may have been edited.
:func:`validate_manifest` checks the whole document against the schema below (types, ranges,
nesting depth, sizes) and raises :class:`~arena.errors.CheckpointError` naming the first field
that is wrong, so that nothing downstream ever meets a list where it expects a name or a string
where it expects a count. The spaces are checked by :func:`arena.spaces.space_from_json`, which
also weighs the memory they would need before allocating.

=====================  =========================================================================
field                  what it must be
=====================  =========================================================================
format                 ``"gym-arena-checkpoint"``
format_version         an integer from 1 to the newest version this gym-arena reads; older
                       versions are upgraded (:data:`UPGRADES`) before the check
arena_version          a string
agent                  an entry-point name: letters, digits, ``-``, ``_``, ``.``; 1-100 long
agent_distribution     a string (the distribution whose plugin saved the agent)
agent_version          a string
config                 an object of field names to JSON values
observation_space      a space object (see :mod:`arena.spaces`)
action_space           a space object
env                    ``{"id": str | null, "kwargs": object}``; the kwargs at most 64 KiB
                       of JSON, and none of :data:`RUN_KWARGS` (``render_mode``...)
steps                  an integer from 0 to 10**15
seed                   null, or an integer from 0 to 2**63 - 1
state                  ``{"file": "state-<16 hex>.safetensors", "sha256": <64 hex>,
                       "tensors": "torch" | "numpy"}``
extra                  an object (the agent's small JSON state)
rng                    optional: null, or the state of the agent's ``np_random`` (a PCG64
                       ``bit_generator.state``: ``{"bit_generator": "PCG64", "state":
                       {"state": int, "inc": int}, "has_uint32": 0 | 1, "uinteger": int}``, the
                       two state integers below 2**128, ``uinteger`` below 2**32); absent in
                       checkpoints from before exact resume, which then reseed from ``seed``
rollout                optional: null, or the training episode in progress
                       (:func:`arena.rollout.episode_from_checkpoint` checks its fields, and its
                       actions in the state file, against the agent's action space)
=====================  =========================================================================

The document as a whole may nest at most :data:`MAX_DEPTH` levels and the file may hold at most
:data:`MAX_BYTES` bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from arena.errors import CheckpointError

MANIFEST = "manifest.json"
"""The manifest's file name in a checkpoint folder."""
FORMAT = "gym-arena-checkpoint"
FORMAT_VERSION = 3
"""Version 2 moved torch's thread count from the agents' configs to the core (``--threads``);
version 3 lets an agent's config rename its fields (:func:`upgrade_2_to_3`)."""
MAX_BYTES = 16 * 2**20
"""The largest manifest read: a manifest holds names and small numbers, never arrays of data."""
MAX_DEPTH = 48
"""How deeply a manifest's objects and lists may nest."""
MAX_INT = 2**63 - 1
MAX_STEPS = 10**15
"""The most steps a manifest may record: far beyond any run, far below an int64's overflow."""
MAX_ENV_KWARGS = 64 * 2**10
"""The most bytes of JSON a manifest's env arguments may take: they are handed to the env's
constructor, and a FrozenLake map of 3000 x 3000 cells is no argument but a memory bomb."""
RUN_KWARGS = frozenset(
    {"render_mode", "num_envs", "vectorization_mode", "vector_kwargs", "wrappers"}
)
"""Arguments that say how an env is run, not which game it is: never taken from a checkpoint."""
STATE_FILE = re.compile(r"state-[0-9a-f]{16}\.safetensors")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FIELDS = (
    "format",
    "format_version",
    "agent",
    "config",
    "observation_space",
    "action_space",
    "steps",
    "state",
)


RETIRED_CONFIG_FIELDS = ("torch_threads", "cpu_threads")
"""Config fields that format 2 took out of every agent's config: torch's threads are a run
option of the core now (:mod:`arena.runtime`), never process-wide state an agent sets."""


def upgrade_1_to_2(manifest: dict[str, Any]) -> dict[str, Any]:
    """Drops the retired per-family thread fields from a format-1 manifest's config.

    A plugin's own config field of one of these names loses its saved value and takes its
    default: the names were gym-arena's, and the threads are now set by the core.
    """
    config = manifest.get("config")
    if isinstance(config, dict):
        config = {k: v for k, v in config.items() if k not in RETIRED_CONFIG_FIELDS}
        manifest = {**manifest, "config": config}
    return {**manifest, "format_version": 2}


def upgrade_2_to_3(manifest: dict[str, Any]) -> dict[str, Any]:
    """Marks a format-2 manifest as format 3, whose configs may use the agents' new field names.

    The renames belong to each agent's config class (its ``renamed`` table and ``upgrade``
    method, :class:`arena.config_blocks.ConfigBase`), which the manifest alone does not give:
    :func:`arena.checkpoint.load_checkpoint` applies them, with
    :func:`arena.config.upgrade_config`, once it has found the class. They apply to a config of
    any format version, since a plugin may rename a field in any of its own releases. The new
    version makes an older gym-arena, which knows only the old names, refuse the checkpoint by
    its version instead of by an unknown config key.
    """
    return {**manifest, "format_version": 3}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: upgrade_1_to_2,
    2: upgrade_2_to_3,
}
"""The step from each older format version to the next, keyed on the older version. A format
change bumps :data:`FORMAT_VERSION` and adds its step here; a step takes a manifest that has
not been validated yet, so it checks the types of what it touches."""


def validate_manifest(manifest: Any, where: str) -> dict[str, Any]:
    """Checks a parsed manifest against the schema; returns it unchanged.

    Args:
        manifest: The parsed JSON document.
        where: The manifest's path, for messages.

    Raises:
        CheckpointError: The first field that does not fit the schema, named.
    """
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a gym-arena checkpoint manifest.")
    depth = nesting_depth(manifest, MAX_DEPTH)
    if depth > MAX_DEPTH:
        raise CheckpointError(
            f"{where} nests more than {MAX_DEPTH} levels deep; a manifest is shallower than that."
        )
    version = manifest.get("format_version")
    if not _is_int(version) or not 1 <= version <= FORMAT_VERSION:
        raise CheckpointError(
            f"{where} has format_version {_show(version)}; this gym-arena reads the integer "
            f"versions 1 to {FORMAT_VERSION}."
        )
    missing = [k for k in _FIELDS if k not in manifest]
    if missing:
        raise CheckpointError(f"{where} is corrupt: it lacks {', '.join(missing)}.")
    bad = _field_errors(manifest)
    if bad:
        raise CheckpointError(f"{where} is corrupt: {bad[0]}.")
    return manifest


def check_version(manifest: Any, where: str) -> None:
    """Refuses a manifest written by a newer format before anything else is read of it.

    Raises:
        CheckpointError: Not a manifest, or a format version above this gym-arena's.
    """
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a gym-arena checkpoint manifest.")
    version = manifest.get("format_version")
    if _is_int(version) and version > FORMAT_VERSION:
        made_by = manifest.get("arena_version")
        made_by = made_by if isinstance(made_by, str) else "?"
        raise CheckpointError(
            f"{where} has format version {version}, made by gym-arena {made_by[:40]}; this "
            f"gym-arena reads versions up to {FORMAT_VERSION}. Upgrade gym-arena to load it."
        )


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply ``value``'s dicts and lists nest, counting no further than ``limit + 1``.

    Iterative, so that a hostile document cannot exhaust Python's recursion limit.
    """
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _field_errors(m: dict[str, Any]) -> list[str]:
    """Every schema violation of ``m``'s fields, as phrases naming the field."""
    errors = []

    def need(ok: bool, message: str) -> None:
        if not ok:
            errors.append(message)

    agent = m["agent"]
    need(
        isinstance(agent, str) and _NAME.fullmatch(agent) is not None,
        f"'agent' must be an agent's entry-point name, got {_show(agent)}",
    )
    for key in ("arena_version", "agent_distribution", "agent_version"):
        value = m.get(key, "unknown")
        need(isinstance(value, str) and len(value) <= 200, f"{key!r} must be a short string")
    config = m["config"]
    need(
        isinstance(config, dict) and all(isinstance(k, str) for k in config),
        f"'config' must be an object of field names to values, got {_show(config)}",
    )
    for key in ("observation_space", "action_space"):
        need(isinstance(m[key], dict), f"{key!r} must be a space object, got {_show(m[key])}")
    steps = m["steps"]
    need(
        _is_int(steps) and 0 <= steps <= MAX_STEPS,
        f"'steps' must be an integer from 0 to 10**15, got {_show(steps)}",
    )
    seed = m.get("seed")
    need(
        seed is None or (_is_int(seed) and 0 <= seed <= MAX_INT),
        f"'seed' must be null or an integer from 0 to 2**63 - 1, got {_show(seed)}",
    )
    errors.extend(_state_errors(m["state"]))
    errors.extend(_env_errors(m.get("env", {})))
    extra = m.get("extra", {})
    need(extra is None or isinstance(extra, dict), f"'extra' must be an object, got {_show(extra)}")
    need(
        rng_state_ok(m.get("rng")),
        '\'rng\' must be null or a PCG64 generator state ({"bit_generator": "PCG64", '
        '"state": {"state": int, "inc": int}, "has_uint32": 0 or 1, "uinteger": int}), '
        f"got {_show(m.get('rng'))}",
    )
    rollout = m.get("rollout")
    need(
        rollout is None or isinstance(rollout, dict),
        f"'rollout' must be null or an object, got {_show(rollout)}",
    )
    return errors


def rng_state_ok(rng: Any) -> bool:
    """Whether ``rng`` is null or a PCG64 ``bit_generator.state`` that numpy can take."""
    if rng is None:
        return True
    if not (
        isinstance(rng, dict) and set(rng) == {"bit_generator", "state", "has_uint32", "uinteger"}
    ):
        return False
    inner = rng["state"]
    return (
        rng["bit_generator"] == "PCG64"
        and isinstance(inner, dict)
        and set(inner) == {"state", "inc"}
        and all(_is_int(v) and 0 <= v < 2**128 for v in inner.values())
        and rng["has_uint32"] in (0, 1)
        and _is_int(rng["has_uint32"])
        and _is_int(rng["uinteger"])
        and 0 <= rng["uinteger"] < 2**32
    )


def _state_errors(state: Any) -> list[str]:
    if not isinstance(state, dict):
        return [f"'state' must be an object, got {_show(state)}"]
    errors = []
    file = state.get("file")
    if not (isinstance(file, str) and STATE_FILE.fullmatch(file)):
        errors.append(
            f"'state.file' must name a state file of the form state-<16 hex>.safetensors in the "
            f"checkpoint's own folder, got {_show(file)}"
        )
    sha = state.get("sha256")
    if not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
        errors.append(f"'state.sha256' must be 64 lowercase hex digits, got {_show(sha)}")
    if state.get("tensors") not in ("torch", "numpy"):
        errors.append(
            f'\'state.tensors\' must be "torch" or "numpy", got {_show(state.get("tensors"))}'
        )
    return errors


def _env_errors(env: Any) -> list[str]:
    if env is None:
        return []
    if not isinstance(env, dict):
        return [f"'env' must be an object with an id and kwargs, got {_show(env)}"]
    errors = []
    env_id = env.get("id")
    if not (env_id is None or (isinstance(env_id, str) and 0 < len(env_id) <= 200)):
        errors.append(f"'env.id' must be null or an env id, got {_show(env_id)}")
    kwargs = env.get("kwargs", {})
    if not (kwargs is None or (isinstance(kwargs, dict) and all(_is_key(k) for k in kwargs))):
        errors.append(
            f"'env.kwargs' must be an object of argument names to values, got {_show(kwargs)}"
        )
    elif kwargs:
        size = len(json.dumps(kwargs))
        if size > MAX_ENV_KWARGS:
            errors.append(
                f"'env.kwargs' holds {size} bytes of JSON, more than the {MAX_ENV_KWARGS} an "
                "env's arguments may take in a checkpoint"
            )
        run = sorted(RUN_KWARGS & set(kwargs))
        if run:
            errors.append(
                f"'env.kwargs' may not set {', '.join(run)}: how an env is run is the user's "
                "choice (--render, --num-envs), not the checkpoint's"
            )
    return errors


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_key(key: str) -> bool:
    return key.isidentifier()


def _show(value: Any) -> str:
    """A short form of a bad value for a message: its type, and its text when short."""
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__} ({text[:40]}...)"
