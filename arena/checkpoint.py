"""Checkpoints: a JSON manifest plus safetensors, written atomically, loaded without pickle.

A checkpoint is a directory::

    manifest.json                 format version, gym-arena version, agent name and plugin,
                                  config, spaces, env, steps trained, the state file's sha256
    state-<sha256 prefix>.safetensors

The manifest is the commit point. A save writes the new state file under a name no other state
has, then replaces ``manifest.json`` in one ``os.replace``, then removes the state files the new
manifest no longer names. A crash at any moment leaves a manifest whose state file is whole, so
an interrupted run keeps its last good checkpoint. (Renaming a temporary *directory* into place
cannot replace an existing, non-empty one atomically, and a training run's directory also holds
``progress.csv``; so the rename is done on the manifest.)

Loading never unpickles: the manifest is JSON, the arrays are safetensors, and the sha256 in the
manifest catches a truncated or altered state file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.config import build_config, config_to_dict
from arena.errors import ArenaError, CheckpointError
from arena.spaces import space_from_json, space_to_json

if TYPE_CHECKING:
    from arena.agent import Agent

FORMAT = "gym-arena-checkpoint"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# Upgrades from an older format version to the next, keyed on the older version. A format change
# bumps FORMAT_VERSION and adds its step here.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def arena_version() -> str:
    """The installed gym-arena version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gym-arena")
    except PackageNotFoundError:
        return "unknown"


def save_checkpoint(agent: Agent, path: str | Path) -> Path:
    """Writes ``agent`` to the checkpoint directory ``path`` atomically.

    Args:
        agent: The agent to save.
        path: The checkpoint directory; created if missing, updated in place if it holds one.

    Returns:
        The checkpoint directory.
    """
    from arena.registry import agent_plugins

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    arrays = agent.state()
    data, tensor_format = _serialize(arrays)
    digest = hashlib.sha256(data).hexdigest()
    state_name = f"state-{digest[:16]}.safetensors"
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
    }
    text = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n"
    atomic_write(path / MANIFEST, text.encode())
    for old in path.glob("state-*.safetensors"):
        if old.name != state_name:
            old.unlink(missing_ok=True)
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Reads and checks a checkpoint's manifest, upgrading an older format.

    Raises:
        CheckpointError: No checkpoint there, a corrupt manifest, or a newer format.
    """
    path = Path(path)
    file = path / MANIFEST
    if not path.exists():
        raise CheckpointError(f"No checkpoint at {str(path)!r}: the directory does not exist.")
    if not file.is_file():
        raise CheckpointError(
            f"No checkpoint at {str(path)!r}: it has no {MANIFEST}. A checkpoint is the --out "
            "directory of `arena train` or the path given to Agent.save."
        )
    try:
        manifest = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(
            f"The checkpoint's {file} is corrupt: not valid JSON ({e})."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{file} is not a gym-arena checkpoint manifest.")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{file} has no valid format_version.")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} has format version {version}, made by gym-arena "
            f"{manifest.get('arena_version', '?')}; this gym-arena ({arena_version()}) reads "
            f"versions up to {FORMAT_VERSION}. Upgrade gym-arena to load it."
        )
    while version < FORMAT_VERSION:
        manifest = UPGRADES[version](manifest)
        version = manifest["format_version"]
    missing = [
        k
        for k in ("agent", "config", "observation_space", "action_space", "steps", "state")
        if k not in manifest
    ]
    if missing:
        raise CheckpointError(f"{file} is corrupt: it lacks {', '.join(missing)}.")
    return manifest


def load_checkpoint(path: str | Path, device: str = "auto") -> Agent:
    """Rebuilds the agent saved at ``path``, through the registry and without pickle.

    Args:
        path: A checkpoint directory.
        device: Where a torch agent puts its tensors.

    Raises:
        CheckpointError: The checkpoint is missing, corrupt or from a newer format.
        UnknownNameError: The agent's plugin is not installed.
    """
    from arena.registry import agent_class

    path = Path(path)
    manifest = read_manifest(path)
    cls = agent_class(manifest["agent"])
    try:
        config = build_config(cls.Config, manifest["config"], source="checkpoint config")
    except ArenaError as e:
        raise CheckpointError(f"The checkpoint at {str(path)!r} has a bad config: {e}") from None
    agent = cls(
        space_from_json(manifest["observation_space"]),
        space_from_json(manifest["action_space"]),
        config=config,
        seed=manifest.get("seed"),
        device=device,
    )
    arrays = _read_state(path, manifest["state"], device)
    try:
        agent.load_state(arrays, manifest.get("extra") or {})
    except (KeyError, ValueError, RuntimeError) as e:
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} does not fit a {cls.name} agent: {e}"
        ) from None
    agent.num_timesteps = int(manifest["steps"])
    env = manifest.get("env") or {}
    agent.env_id = env.get("id")
    agent.env_kwargs = env.get("kwargs") or {}
    return agent


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
    data, tensor_format = _serialize(agent.state())
    copy.load_state(_deserialize(data, tensor_format, agent.device), agent.extra_state())
    copy.num_timesteps = agent.num_timesteps
    copy.env_id = agent.env_id
    copy.env_kwargs = dict(agent.env_kwargs)
    return copy


def _serialize(arrays: dict[str, Any]) -> tuple[bytes, str]:
    if any(type(v).__module__.startswith("torch") for v in arrays.values()):
        from safetensors.torch import save

        return save({k: v.detach().cpu().contiguous() for k, v in arrays.items()}), "torch"
    import numpy as np
    from safetensors.numpy import save

    return save({k: np.ascontiguousarray(v) for k, v in arrays.items()}), "numpy"


def _read_state(path: Path, state: dict[str, Any], device: str) -> dict[str, Any]:
    file = path / str(state.get("file", ""))
    if not file.is_file() or file.parent != path:
        raise CheckpointError(
            f"The checkpoint at {str(path)!r} is missing its state file {file.name!r}."
        )
    data = file.read_bytes()
    if hashlib.sha256(data).hexdigest() != state.get("sha256"):
        raise CheckpointError(
            f"The checkpoint's state file {str(file)!r} is corrupt: "
            "its sha256 does not match the manifest."
        )
    try:
        return _deserialize(data, state.get("tensors"), device)
    except Exception as e:  # safetensors raises its own error types for malformed data.
        raise CheckpointError(
            f"The checkpoint's state file {str(file)!r} is corrupt: {e}"
        ) from None


def _deserialize(data: bytes, tensor_format: str | None, device: str) -> dict[str, Any]:
    if tensor_format == "torch":
        from safetensors.torch import load

        from arena.torch_utils import resolve_device

        return {k: v.to(resolve_device(device)) for k, v in load(data).items()}
    from safetensors.numpy import load

    return load(data)


def atomic_write(target: Path, data: bytes) -> None:
    """Writes ``data`` to a temporary file beside ``target``, syncs it, renames it into place."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
