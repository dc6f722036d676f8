"""Checkpoints: a JSON manifest plus safetensors, written atomically, loaded without pickle.

A checkpoint is a directory::

    manifest.json                 format version, gym-arena version, agent name and plugin,
                                  config, spaces, env, steps trained, the state file's sha256,
                                  the agent's np_random state, the training episode it is in
    state-<sha256 prefix>.safetensors

The manifest is the commit point. A save writes the new state file under a name no other state
has, then replaces ``manifest.json`` in one ``os.replace``, then removes the state file the
previous manifest named. A crash at any moment leaves a manifest whose state file is whole, so
an interrupted run keeps its last good checkpoint. (Renaming a temporary *directory* into place
cannot replace an existing, non-empty one atomically, and a training run's directory also holds
``progress.csv``; so the rename is done on the manifest.)

Loading never unpickles and never imports anything a checkpoint names:

- the manifest is JSON, checked against :mod:`arena.manifest`'s schema before anything is built;
- the agent is found by name through the registry, and must come from the distribution that saved
  it (``allow_other_distribution`` says otherwise);
- an env id with a module part (``module:Env``, which Gymnasium's ``make`` would import) is
  refused unless the caller names the env itself;
- the manifest and the state file must be regular files inside the checkpoint's folder (no
  symbolic links), the state file no larger than the agent's state, and its sha256 must match.

A save removes only what it owns: the state file the previous manifest named, and the temporary
files of saves that were interrupted (``.state-*.tmp``, ``.manifest.json.*.tmp``). It refuses
non-finite tensors, so a checkpoint on disk is never NaN.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.config import build_config, config_to_dict, upgrade_config
from arena.errors import ArenaError, CheckpointError, TrainingError
from arena.guard import first_nonfinite
from arena.manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MAX_BYTES,
    STATE_FILE,
    UPGRADES,
    check_version,
    validate_manifest,
)
from arena.rollout import (
    ACTIONS_KEY,
    episode_from_checkpoint,
    episode_to_checkpoint,
    recorded_bytes,
)
from arena.rundir import hold
from arena.spaces import shorten, space_from_json, space_to_json
from arena.tempfiles import temporary_beside

if TYPE_CHECKING:
    from arena.agent import Agent

_TEMPORARY = re.compile(r"\.(state-[0-9a-f]{16}\.safetensors|manifest\.json)\.[A-Za-z0-9_]{8}\.tmp")
"""The names :func:`atomic_write` gives its temporaries in a checkpoint folder."""
_STATE_ALLOWANCE = 2**20
"""Bytes a state file may hold beyond its tensors' data: the safetensors header."""


def arena_version() -> str:
    """The installed gym-arena version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gym-arena")
    except PackageNotFoundError:
        return "unknown"


def save_checkpoint(agent: Agent, path: str | Path) -> Path:
    """Writes ``agent`` to the checkpoint directory ``path`` atomically, as its one writer.

    Args:
        agent: The agent to save.
        path: The checkpoint directory; created if missing, updated in place if it holds one.

    Returns:
        The checkpoint directory.

    Raises:
        RunDirBusyError: Another process holds ``path``'s lock (a training run writes there).
        TrainingError: The agent's state holds NaN or infinite values; nothing is written.
    """
    from arena.registry import agent_plugins

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with hold(path):
        arrays = agent.state()
        _refuse_non_finite(agent, arrays, path)
        rollout, actions = episode_to_checkpoint(agent.open_episode, agent.action_space)
        data, tensor_format = _serialize({**arrays, **actions})
        digest = hashlib.sha256(data).hexdigest()
        state_name = f"state-{digest[:16]}.safetensors"
        previous = _owned_state(path)
        _remove_stale_temporaries(path)
        atomic_write(path / state_name, data)
        plugin = agent_plugins().get(agent.name)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "arena_version": arena_version(),
            "agent": agent.name,
            "agent_distribution": plugin.distribution if plugin else "unknown",
            "agent_version": plugin.version if plugin else "unknown",
            "config": config_to_dict(agent.config),
            "observation_space": space_to_json(agent.observation_space),
            "action_space": space_to_json(agent.action_space),
            "env": {"id": agent.env_id, "kwargs": agent.env_kwargs},
            "steps": int(agent.num_timesteps),
            "seed": agent.seed,
            "state": {"file": state_name, "sha256": digest, "tensors": tensor_format},
            "extra": agent.extra_state(),
            "rng": rng_state(agent),
            "rollout": rollout,
        }
        text = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n"
        atomic_write(path / MANIFEST, text.encode())
        if previous is not None and previous != state_name:
            (path / previous).unlink(missing_ok=True)
        return path


def _refuse_non_finite(agent: Agent, arrays: dict[str, Any], path: Path) -> None:
    """The last line of defence: a checkpoint on disk never holds NaN or infinite values."""
    bad = first_nonfinite(arrays)
    if bad is not None:
        raise TrainingError(
            f"{agent.name} at step {agent.num_timesteps} has non-finite values (NaN or inf) in "
            f"{bad!r}; not saving it over {str(path)!r}, whose last checkpoint is kept."
        )


def _owned_state(path: Path) -> str | None:
    """The state file the checkpoint's current manifest names, if it has a readable one.

    Only that file is the checkpoint's to replace: any other ``state-*`` file in the folder was
    not written by the save that the manifest commits, and is left alone.
    """
    try:
        return _read_manifest_file(path)["state"]["file"]
    except (ArenaError, KeyError, TypeError):
        return None


def _remove_stale_temporaries(path: Path) -> None:
    """Removes the temporary files of saves into ``path`` that were interrupted.

    A save holds the run directory's lock, so no other save is writing one now.
    """
    for entry in path.iterdir():
        if _TEMPORARY.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Reads a checkpoint's manifest and checks it against the schema, upgrading an older format.

    Raises:
        CheckpointError: No checkpoint there, a manifest that is not a regular file in it, too
            large, not JSON, of a newer format, or not fitting the schema (the field is named).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"No checkpoint at {str(path)!r}: the directory does not exist.")
    if not path.is_dir():
        raise CheckpointError(f"No checkpoint at {str(path)!r}: it is a file, not a directory.")
    return _read_manifest_file(path)


def _read_manifest_file(path: Path) -> dict[str, Any]:
    file = path / MANIFEST
    if not os.path.lexists(file):
        raise CheckpointError(
            f"No checkpoint at {str(path)!r}: it has no {MANIFEST}. A checkpoint is the --out "
            "directory of `arena train` or the path given to Agent.save."
        )
    data = _read_regular(file, MAX_BYTES, "manifest")
    try:
        manifest = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise CheckpointError(f"{file} nests too deeply to be a checkpoint manifest.") from None
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError.
        raise CheckpointError(
            f"The checkpoint's {file} is corrupt: not valid JSON ({e})."
        ) from None
    where = str(file)
    check_version(manifest, where)
    version = manifest.get("format_version")
    while type(version) is int and 1 <= version < FORMAT_VERSION:  # a bool is no version
        manifest = UPGRADES[version](manifest)
        version = manifest["format_version"]
    return validate_manifest(manifest, where)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def load_checkpoint(
    path: str | Path,
    device: str = "auto",
    *,
    env_id: str | None = None,
    allow_other_distribution: bool = False,
    agent_class: type[Agent] | None = None,
) -> Agent:
    """Rebuilds the agent saved at ``path``, through the registry and without pickle.

    Args:
        path: A checkpoint directory.
        device: Where a torch agent puts its tensors.
        env_id: The env the caller will play, named by the user. A recorded env id with a
            module part (``module:Env``) is refused unless the user names an env; it is never
            imported on the checkpoint's word.
        allow_other_distribution: Load the agent even when the installed plugin of its name
            comes from another distribution than the one that saved it.
        agent_class: Rebuild the agent as this class instead of the registry's class of its
            name (:func:`arena.testing.check_agent` checks an agent that is not registered
            yet); the checkpoint must name the class's ``name``.

    Raises:
        CheckpointError: The checkpoint is missing, corrupt, tampered with or from a newer
            format; or its agent comes from another distribution.
        UnknownNameError: The agent's plugin is not installed.
        ResourceLimitError: Its spaces or config would need more memory than the machine has.
    """
    from arena.registry import agent_class as registered_class
    from arena.registry import agent_plugins, distribution_key

    path = Path(path)
    manifest = read_manifest(path)
    name = manifest["agent"]
    recorded = (manifest.get("env") or {}).get("id")
    if recorded is not None and ":" in recorded and env_id is None:
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} records the env id {recorded!r}, whose module part "
            f"{recorded.split(':')[0]!r} Gymnasium would import; arena never imports code a "
            "checkpoint names. If you trust that module, name the env yourself: `arena "
            "evaluate --checkpoint DIR ENV`, or `arena train AGENT ENV --resume DIR`."
        )
    if agent_class is not None:
        if name != agent_class.name:
            raise CheckpointError(
                f"The checkpoint at {str(path)!r} holds a {name!r} agent, not {agent_class.name!r}."
            )
        cls, allow_other_distribution = agent_class, True
    else:
        cls = registered_class(name)
    saved_by = manifest.get("agent_distribution", "unknown")
    installed = agent_plugins()[name].distribution if name in agent_plugins() else "unknown"
    if distribution_key(saved_by) != distribution_key(installed) and not allow_other_distribution:
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} holds a {name!r} agent saved by the distribution "
            f"{saved_by!r}, but {name!r} is now provided by {installed!r}, whose code would run "
            "on its data. Pass --allow-other-distribution (allow_other_distribution=True) if you "
            "trust it."
        )
    try:
        values = upgrade_config(cls.Config, manifest["config"], source="checkpoint config")
        config = build_config(cls.Config, values, source="checkpoint config")
    except ArenaError as e:
        raise CheckpointError(f"The checkpoint at {str(path)!r} has a bad config: {e}") from None
    agent = cls(
        space_from_json(manifest["observation_space"]),
        space_from_json(manifest["action_space"]),
        config=config,
        seed=manifest.get("seed"),
        device=device,
    )
    rollout = manifest.get("rollout")
    expected = state_bytes(agent.state()) + agent.state_allowance()
    expected += recorded_bytes(rollout, agent.action_space)
    arrays = _read_state(path, manifest["state"], device, expected)
    bad = first_nonfinite(arrays)
    if bad is not None:
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} holds NaN or infinite values in {bad!r}; arena "
            "never saves such a checkpoint, so this one was written or changed by hand."
        )
    actions = arrays.pop(ACTIONS_KEY, None)
    try:
        agent.load_state(arrays, manifest.get("extra") or {})
    except (
        KeyError,
        ValueError,
        RuntimeError,
        TypeError,
        IndexError,
        AttributeError,
        OverflowError,
    ) as e:
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} does not fit a {cls.name} agent: "
            f"{type(e).__name__}: {shorten(str(e))}"
        ) from None
    set_rng_state(agent, manifest.get("rng"))
    if type(actions).__module__.startswith("torch"):
        actions = actions.cpu().numpy()
    try:
        agent.open_episode = episode_from_checkpoint(rollout, actions, agent.action_space)
    except ValueError as e:
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} has a bad 'rollout' (the training episode in "
            f"progress): {shorten(str(e))}"
        ) from None
    agent.num_timesteps = manifest["steps"]
    agent.env_id = (
        recorded if recorded is None or ":" not in recorded or recorded == env_id else None
    )
    kwargs = (manifest.get("env") or {}).get("kwargs")
    agent.env_kwargs = dict(kwargs) if agent.env_id is not None and kwargs else {}
    return agent


def rng_state(agent: Agent) -> dict[str, Any] | None:
    """The state of ``agent.np_random`` for the manifest, or None if it is not a PCG64."""
    import numpy as np

    generator = agent.np_random.bit_generator
    return generator.state if isinstance(generator, np.random.PCG64) else None


def set_rng_state(agent: Agent, state: dict[str, Any] | None) -> None:
    """Puts ``agent.np_random`` where :func:`rng_state` found it; None leaves it as seeded.

    The state has passed the manifest's schema (:func:`arena.manifest.rng_state_ok`). A PCG64
    generator is set in place, so whatever shares it (a space's sampler) follows.
    """
    import numpy as np

    if state is None:
        return
    if isinstance(agent.np_random.bit_generator, np.random.PCG64):
        agent.np_random.bit_generator.state = state
    else:
        bit_generator = np.random.PCG64()
        bit_generator.state = state
        agent.np_random = np.random.Generator(bit_generator)


def clone_agent(agent: Agent) -> Agent:
    """A copy of ``agent`` that shares no memory with it, built as :func:`load_checkpoint` does.

    Its state makes the same round trip through safetensors bytes as a save and a load, so
    playing the copy (an evaluation during training, say) cannot touch the original.
    """
    copy = type(agent)(
        agent.observation_space,
        agent.action_space,
        config=agent.config,
        seed=agent.seed,
        device=agent.device,
    )
    playing, agent.save_replay = agent.save_replay, False  # the copy plays: no replay buffer
    try:
        data, tensor_format = _serialize(agent.state())
    finally:
        agent.save_replay = playing
    copy.load_state(_deserialize(data, tensor_format, agent.device), agent.extra_state())
    set_rng_state(copy, rng_state(agent))
    copy.num_timesteps = agent.num_timesteps
    copy.threads = agent.threads
    copy.save_replay = agent.save_replay
    copy.env_id = agent.env_id
    copy.env_kwargs = dict(agent.env_kwargs)
    return copy


def _serialize(arrays: dict[str, Any]) -> tuple[bytes, str]:
    if any(type(v).__module__.startswith("torch") for v in arrays.values()):
        import numpy as np
        import torch
        from safetensors.torch import save

        tensors = {
            k: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v
            for k, v in arrays.items()
        }
        return save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}), "torch"
    import numpy as np
    from safetensors.numpy import save

    return save({k: np.ascontiguousarray(v) for k, v in arrays.items()}), "numpy"


def _read_state(path: Path, state: dict[str, Any], device: str, expected: int) -> dict[str, Any]:
    """Reads the state file, which must be a regular file in ``path`` of at most the size of
    ``expected`` bytes of tensors plus a header."""
    name = state["file"]
    if not STATE_FILE.fullmatch(name):  # the schema checked it; this keeps the reader honest
        raise CheckpointError(f"The checkpoint at {str(path)!r} names a bad state file.")
    file = path / name
    if not os.path.lexists(file):
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} is missing its state file {name!r}."
        )
    data = _read_regular(file, expected + _STATE_ALLOWANCE, "state file")
    if hashlib.sha256(data).hexdigest() != state["sha256"]:
        raise CheckpointError(
            f"The checkpoint's state file {str(file)!r} is corrupt: "
            "its sha256 does not match the manifest."
        )
    try:
        return _deserialize(data, state["tensors"], device)
    except Exception as e:  # safetensors raises its own error types for malformed data.
        raise CheckpointError(
            f"The checkpoint's state file {str(file)!r} is corrupt: {e}"
        ) from None


def _read_regular(file: Path, limit: int, what: str) -> bytes:
    """Reads ``file``, which must be a regular file (not a link) of at most ``limit`` bytes."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(file, flags)
    except OSError as e:
        link = " (a symbolic link)" if os.path.islink(file) else ""
        raise CheckpointError(
            f"The checkpoint's {what} {str(file)!r}{link} cannot be read: {e.strerror}. A "
            "checkpoint's files must be regular files inside its own folder."
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise CheckpointError(
            f"The checkpoint's {what} {str(file)!r} is not a regular file; a checkpoint's "
            "files must be regular files inside its own folder."
        )
    with os.fdopen(fd, "rb") as f:
        if info.st_size > limit:
            raise CheckpointError(
                f"The checkpoint's {what} {str(file)!r} holds {info.st_size} bytes, more than "
                f"the {limit} it can hold; it is not this checkpoint's {what}."
            )
        data = f.read(limit + 1)
    if len(data) > limit:
        raise CheckpointError(f"The checkpoint's {what} {str(file)!r} grew while it was read.")
    return data


def state_bytes(arrays: dict[str, Any]) -> int:
    """The bytes of tensor data in ``arrays``, as safetensors stores it."""
    total = 0
    for value in arrays.values():
        if type(value).__module__.startswith("torch"):
            total += value.numel() * value.element_size()
        else:
            total += getattr(value, "nbytes", 0)
    return total


def _deserialize(data: bytes, tensor_format: str | None, device: str) -> dict[str, Any]:
    if tensor_format == "torch":
        from safetensors.torch import load

        from arena.torch_utils import resolve_device

        return {k: v.to(resolve_device(device)) for k, v in load(data).items()}
    from safetensors.numpy import load

    return load(data)


def atomic_write(target: Path, data: bytes) -> None:
    """Writes ``data`` to a temporary file beside ``target``, syncs it, renames it into place."""
    with temporary_beside(target) as temporary:
        with temporary.open("r+b") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
