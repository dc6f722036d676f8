"""``arena import-sb3 MODEL.zip --out DIR``: an SB3 zip to an arena checkpoint, without pickle.

An SB3 zip holds ``data`` (JSON in which every value that is not plain JSON is a base64
cloudpickle blob under ``:serialized:``) and ``*.pth`` files written by ``torch.save``. This
importer reads only the plain JSON values and loads the ``.pth`` files with
``torch.load(weights_only=True)``; it never decodes a ``:serialized:`` blob. A value it needs that
exists only as a blob (a space it cannot read from the JSON beside it) is refused by name, and
so is a ``.pth`` file that would need unpickling of arbitrary objects.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from arena.config import build_config
from arena.errors import ArenaError, ConfigError
from arena.limits import check_memory

# The agent each SB3 algorithm becomes, and how the zip's policy module names it.
_AGENTS = {"PPO": "sb3-ppo", "A2C": "sb3-a2c", "DQN": "sb3-dqn", "SAC": "sb3-sac", "TD3": "sb3-td3"}
_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": "DQN",
    "stable_baselines3.sac.policies": "SAC",
    "stable_baselines3.td3.policies": "TD3",
}
_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu"}
_MAX_MEMBER = 1 << 31
"""The largest ``.pth`` member arena reads (it is also held to the memory limit)."""
_MAX_DATA = 64 << 20
"""The largest ``data`` member arena reads: SB3 writes a few kilobytes of JSON."""
_MAX_SPACE = 1 << 24
"""The most entries a space read from the zip may have (Box elements, Discrete actions...)."""
_MISFITS = (RuntimeError, ValueError, KeyError, TypeError, AttributeError, IndexError)
"""What ``load_state_dict`` and ``copy_`` raise for a state that does not fit the model."""
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)
"""What reading a corrupt, truncated, encrypted or oddly compressed member raises."""


def _read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, refused when its declared size or its real size is over ``limit``.

    A zip bomb's declared size may lie, so the read itself stops one byte past the limit.
    """
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise ArenaError(
            f"The zip's {name} declares {info.file_size} bytes, more than arena reads ({limit})."
        )
    check_memory(f"the zip's {name}", info.file_size)
    try:
        with archive.open(info) as member:
            raw = member.read(limit + 1)
    except _ZIP_ERRORS as e:
        raise ArenaError(f"The zip's {name} cannot be read: {type(e).__name__}: {e}.") from None
    if len(raw) > limit:
        raise ArenaError(f"The zip's {name} is larger than arena reads ({limit} bytes).")
    return raw


def _field(data: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``data[key]`` when it is absent, None, or of ``kind``; otherwise a refusal naming it."""
    value = data.get(key)
    if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise ArenaError(f"The zip's {key!r} must be {what}, got {type(value).__name__} {value!r:.80}.")


def _count(data: dict[str, Any], key: str, low: int, high: int) -> int | None:
    """A whole-number field in ``[low, high]``, or None when absent."""
    value = _field(data, key, int, f"a whole number from {low} to {high}")
    if value is not None and not low <= value <= high:
        raise ArenaError(f"The zip's {key!r} must be from {low} to {high}, got {value}.")
    return value


def _plain(value: Any) -> bool:
    return not (isinstance(value, dict) and ":serialized:" in value)


def _numbers(value: Any) -> list[float]:
    """Numbers from a JSON list, a number, or numpy's printed form such as ``[-1. -inf 2.5]``."""
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, list):
        return [x for v in value for x in _numbers(v)]
    return [float(t) for t in re.sub(r"[\[\],]", " ", str(value)).split()]


def _space(data: dict[str, Any], key: str) -> spaces.Space:
    """Rebuilds a space from the readable fields SB3 writes beside its pickled blob."""
    entry = data.get(key)
    kind = entry.get(":type:") if isinstance(entry, dict) else None
    kind = kind if isinstance(kind, str) else ""
    if not kind.endswith(_READABLE):
        raise ArenaError(
            f"The zip's {key!r} can only be read by unpickling it; arena does not unpickle. "
            "Pass --env ENV_ID to take the spaces from the env instead."
        )
    try:
        space = _readable_space(entry, kind)
    except (KeyError, ValueError, TypeError, OverflowError, AssertionError, RecursionError) as e:
        detail = f"missing field {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
        raise ArenaError(
            f"The zip's {key!r} ({kind.split('.')[-1][:-2]}) has malformed fields ({detail:.200}). "
            "Pass --env ENV_ID to take the spaces from the env instead."
        ) from None
    if int(np.prod(space.shape or (1,), dtype=np.float64)) * _width(space) > _MAX_SPACE:
        raise ArenaError(
            f"The zip's {key!r} is {space}, more than the {_MAX_SPACE} entries arena accepts."
        )
    return space


_READABLE = (".Discrete'>", ".MultiDiscrete'>", ".MultiBinary'>", ".Box'>")


def _width(space: spaces.Space) -> int:
    """How many outputs a policy head needs per entry of the space."""
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return max(int(np.sum(space.nvec, dtype=np.float64)), 1)
    return 1


def _sizes(name: str, values: list[int], empty: bool = False) -> list[int]:
    """``values`` when each is from 1 to :data:`_MAX_SPACE`; a ValueError naming ``name``."""
    if not (values or empty) or not all(1 <= v <= _MAX_SPACE for v in values):
        raise ValueError(f"{name} must be from 1 to {_MAX_SPACE}, got {values!r:.80}")
    return values


def _readable_space(entry: dict[str, Any], kind: str) -> spaces.Space:
    """The space SB3's readable fields describe; raises ValueError (and others) naming a field."""
    if kind.endswith(".Discrete'>"):
        (n,) = _sizes("n", [_whole(entry["n"])])
        return spaces.Discrete(n, start=_whole(entry.get("start", 0)))
    if kind.endswith(".MultiDiscrete'>"):
        return spaces.MultiDiscrete(_sizes("nvec", [_whole(v) for v in _listed(entry, "nvec")]))
    if kind.endswith(".MultiBinary'>"):
        (n,) = _sizes("n", [_whole(entry["n"])])
        return spaces.MultiBinary(n)
    shape = tuple(_sizes("_shape", [_whole(v) for v in _listed(entry, "_shape")], empty=True))
    if not isinstance(entry["dtype"], str) or np.dtype(entry["dtype"]).kind not in "biuf":
        raise ValueError(f"dtype must name a numeric dtype, got {entry['dtype']!r:.40}")
    dtype = np.dtype(entry["dtype"])
    low, high = np.array(_listed(entry, "low")), np.array(_listed(entry, "high"))
    size = int(np.prod(shape, dtype=np.float64))
    if low.size != size or high.size != size:  # numpy shortened a large array's text with "...".
        raise ValueError(f"low and high must list {size} numbers, as _shape says")
    return spaces.Box(
        low.reshape(shape).astype(dtype), high.reshape(shape).astype(dtype), dtype=dtype
    )


def _listed(entry: dict[str, Any], name: str) -> list[float]:
    """The numbers of field ``name``; a ValueError naming it when they are not numbers."""
    try:
        return _numbers(entry[name])
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be numbers, got {entry[name]!r:.40}") from None


def _whole(value: Any) -> int:
    """An int from a JSON number or its text; raises ValueError for anything else."""
    number = float(value) if isinstance(value, (int, float, str)) else float("nan")
    if isinstance(value, bool) or not number.is_integer():
        raise ValueError(f"expected a whole number, got {value!r:.40}")
    return int(number)


def _algorithm(data: dict[str, Any]) -> str:
    policy_class = _field(data, "policy_class", dict, "an object") or {}
    module = policy_class.get("__module__", "")
    module = module if isinstance(module, str) else ""
    if module in _POLICY_MODULES:
        return _POLICY_MODULES[module]
    if module == "stable_baselines3.common.policies":
        return "PPO" if "clip_range" in data or "n_epochs" in data else "A2C"
    raise ArenaError(
        f"Cannot tell which SB3 algorithm made this zip (policy module {module or 'missing'!r}); "
        f"pass --algo, one of {', '.join(_AGENTS)}."
    )


def _config_values(data: dict[str, Any], config_cls: type) -> tuple[dict[str, Any], list[str]]:
    """Picks the config fields the zip holds as plain JSON; lists the ones it skipped."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_cls)}
    values, skipped = {}, []
    for key, value in data.items():
        if key in names and key not in ("hidden_sizes", "activation"):
            if _plain(value):
                values[key] = value
            elif match := re.fullmatch(
                r"ConstantSchedule\(val=(.+)\)", str(value.get("value_schedule"))[:100]
            ):
                values[key] = float(match.group(1))
            else:
                skipped.append(key)
    policy_kwargs = _field(data, "policy_kwargs", dict, "an object") or {}
    arch = policy_kwargs.get("net_arch")
    if isinstance(arch, dict) and arch.get("pi") == arch.get("vf"):
        arch = arch.get("pi")
    if isinstance(arch, list) and all(type(n) is int and n >= 1 for n in arch):
        _check_arch(arch)
        values["hidden_sizes"] = arch
    elif arch is not None:
        raise ArenaError(
            f"The zip's policy_kwargs.net_arch {arch!r:.80} has no arena form: it must be a list "
            "of positive layer sizes (or pi/vf lists that are equal)."
        )
    activation = str(policy_kwargs.get("activation_fn", ""))
    for name, ours in _ACTIVATIONS.items():
        if activation.endswith(f".{name}'>"):
            values["activation"] = ours
    n_envs = _count(data, "n_envs", 1, 4096)
    if n_envs is not None:
        values["n_envs"] = n_envs
    return values, skipped


def _check_arch(arch: list[int]) -> None:
    """Refuses layer sizes whose weights (with Adam's two moments) would not fit in memory."""
    weights = sum(a * b for a, b in itertools.pairwise(arch)) + sum(arch)
    check_memory(f"the zip's policy_kwargs.net_arch={arch}", 4 * 3 * 2 * weights)


def _load_pth(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    """A ``.pth`` member as a dict, loaded with ``weights_only=True`` (no arbitrary unpickling)."""
    import torch

    raw = _read(archive, name, _MAX_MEMBER)
    try:
        loaded = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError (and others) for disallowed objects.
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise ArenaError(
            f"The zip's {name} needs unpickling arbitrary objects or is not a torch file, and "
            f"arena refuses to unpickle (torch.load with weights_only=True said: {first})."
        ) from None
    if not isinstance(loaded, dict):
        raise ArenaError(
            f"The zip's {name} holds a {type(loaded).__name__}, not a dict of tensors (a state "
            "dict)."
        )
    return loaded


def import_sb3(
    source: str | Path, out: str | Path, env: str | None = None, algo: str | None = None
) -> dict[str, Any]:
    """Converts an SB3 zip into an arena checkpoint at ``out``.

    Args:
        source: The SB3 ``.zip`` file.
        out: The checkpoint directory to write.
        env: An env id: the manifest records it, and the spaces come from it when the zip's
            cannot be read without unpickling.
        algo: The SB3 algorithm (PPO, A2C, DQN, SAC, TD3) when the zip does not make it clear.

    Returns:
        A summary: agent, algorithm, steps, out, the env recorded (None without ``env``: an SB3
        zip names none), the entries skipped because they need pickle, and without ``env`` a
        note on how to name one for evaluation.

    Raises:
        ArenaError: A missing or malformed zip, or an entry that would need unpickling.
    """
    from arena.registry import agent_class, make_env

    source = Path(source)
    if not source.is_file():
        raise ArenaError(f"{source} does not exist or is not a file.")
    try:
        archive = zipfile.ZipFile(source)
    except (*_ZIP_ERRORS, ValueError) as e:
        raise ArenaError(
            f"{source} is not a readable zip file ({type(e).__name__}: {e}); SB3 saves models as "
            ".zip."
        ) from None
    with archive:
        members = set(archive.namelist())
        if "data" not in members or "policy.pth" not in members:
            raise ArenaError(f"{source} is not an SB3 model: it lacks 'data' or 'policy.pth'.")
        try:
            data = json.loads(_read(archive, "data", _MAX_DATA))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ArenaError(f"The zip's 'data' is not valid JSON: {e}.") from None
        except RecursionError:
            raise ArenaError("The zip's 'data' nests too deeply to be SB3's JSON.") from None
        if not isinstance(data, dict):
            raise ArenaError(
                f"The zip's 'data' must be a JSON object, got a {type(data).__name__}."
            )
        steps = _count(data, "num_timesteps", 0, 2**62) or 0
        seed = _count(data, "seed", 0, 2**32 - 1)
        if algo is not None and not isinstance(algo, str):
            raise ArenaError(f"--option algo must be a name, one of {', '.join(_AGENTS)}.")
        algorithm = (algo or _algorithm(data)).upper()
        if algorithm not in _AGENTS:
            raise ArenaError(f"Unknown SB3 algorithm {algo!r}; arena wraps {', '.join(_AGENTS)}.")
        name = _AGENTS[algorithm]
        values, skipped = _config_values(data, agent_class(name).Config)
        if env is not None:
            game = make_env(env)
            obs_space, act_space = game.observation_space, game.action_space
        else:
            game = None
            obs_space, act_space = _space(data, "observation_space"), _space(data, "action_space")
        try:
            config = build_config(
                agent_class(name).Config, values, source="the zip's hyperparameters"
            )
        except ConfigError as e:
            raise ArenaError(str(e)) from None
        try:
            agent = agent_class(name)(obs_space, act_space, config=config, seed=seed)
        except (ValueError, TypeError, RuntimeError, AssertionError, OverflowError) as e:
            raise ArenaError(
                f"The zip's hyperparameters or spaces do not make a {algorithm} model: "
                f"{type(e).__name__}: {e}"
            ) from None
        if game is not None:
            agent.remember_env(game)
            game.close()
        model = agent.model
        modules, variables = model._get_torch_save_params()
        for module in modules:
            file = f"{module}.pth"
            if file in members:
                target = model
                for part in module.split("."):
                    target = getattr(target, part)
                state = _load_pth(archive, file)
                try:
                    target.load_state_dict(state)
                except _MISFITS as e:
                    raise ArenaError(
                        f"The zip's {file} does not fit {algorithm}: {type(e).__name__}: {e}"
                    ) from None
        if variables and "pytorch_variables.pth" in members:
            import torch

            saved = _load_pth(archive, "pytorch_variables.pth")
            with torch.no_grad():
                for variable in variables:
                    if variable in saved:
                        try:
                            getattr(model, variable).copy_(saved[variable])
                        except _MISFITS as e:
                            raise ArenaError(
                                f"The zip's pytorch_variables.pth entry {variable!r} does not "
                                f"fit {algorithm}: {type(e).__name__}: {e}"
                            ) from None
    agent.num_timesteps = steps
    model.num_timesteps = agent.num_timesteps
    agent.save(out)
    readable = {"observation_space", "action_space", *values}
    skipped += [k for k, v in data.items() if not _plain(v) and k not in readable]
    summary = {
        "agent": name,
        "algorithm": algorithm,
        "steps": agent.num_timesteps,
        "out": str(out),
        "env": env,
        "skipped_pickled_entries": sorted(set(skipped)),
    }
    if env is None:
        summary["note"] = (
            "SB3 zips do not record their env, so this checkpoint names none and evaluation "
            f"needs one: arena evaluate --checkpoint {out} ENV_ID (or import again with "
            "--env ENV_ID to record it)."
        )
    return summary
