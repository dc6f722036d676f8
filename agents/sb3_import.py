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
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from arena.config import build_config
from arena.errors import ArenaError, ConfigError

# The agent each SB3 algorithm becomes, and how the zip's policy module names it.
_AGENTS = {"PPO": "sb3-ppo", "A2C": "sb3-a2c", "DQN": "sb3-dqn", "SAC": "sb3-sac", "TD3": "sb3-td3"}
_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": "DQN",
    "stable_baselines3.sac.policies": "SAC",
    "stable_baselines3.td3.policies": "TD3",
}
_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu"}
_MAX_MEMBER = 1 << 31


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
    refuse = ArenaError(
        f"The zip's {key!r} can only be read by unpickling it; arena does not unpickle. "
        "Pass --env ENV_ID to take the spaces from the env instead."
    )
    if not isinstance(entry, dict):
        raise refuse
    kind = entry.get(":type:", "")
    try:
        if kind.endswith(".Discrete'>"):
            return spaces.Discrete(int(entry["n"]), start=int(entry.get("start", 0)))
        if kind.endswith(".MultiDiscrete'>"):
            return spaces.MultiDiscrete([int(v) for v in _numbers(entry["nvec"])])
        if kind.endswith(".MultiBinary'>"):
            return spaces.MultiBinary(int(entry["n"]))
        if kind.endswith(".Box'>"):
            shape = tuple(int(v) for v in _numbers(entry["_shape"]))
            dtype = np.dtype(entry["dtype"])
            low, high = np.array(_numbers(entry["low"])), np.array(_numbers(entry["high"]))
            size = int(np.prod(shape))
            if low.size != size or high.size != size:
                raise refuse  # numpy shortened a large array's text with "...".
            return spaces.Box(
                low.reshape(shape).astype(dtype), high.reshape(shape).astype(dtype), dtype=dtype
            )
    except (KeyError, ValueError, TypeError):
        raise refuse from None
    raise refuse


def _algorithm(data: dict[str, Any]) -> str:
    module = (data.get("policy_class") or {}).get("__module__", "")
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
        if key in names and key not in ("net_arch", "activation"):
            if _plain(value):
                values[key] = value
            elif match := re.fullmatch(
                r"ConstantSchedule\(val=(.+)\)", str(value.get("value_schedule"))
            ):
                values[key] = float(match.group(1))
            else:
                skipped.append(key)
    policy_kwargs = data.get("policy_kwargs") or {}
    arch = policy_kwargs.get("net_arch")
    if isinstance(arch, dict) and arch.get("pi") == arch.get("vf"):
        arch = arch.get("pi")
    if isinstance(arch, list) and all(isinstance(n, int) for n in arch):
        values["net_arch"] = arch
    elif arch is not None:
        raise ArenaError(f"The zip's net_arch {arch!r} has no arena form (separate pi/vf sizes).")
    activation = str(policy_kwargs.get("activation_fn", ""))
    for name, ours in _ACTIVATIONS.items():
        if activation.endswith(f".{name}'>"):
            values["activation"] = ours
    if data.get("n_envs"):
        values["n_envs"] = int(data["n_envs"])
    return values, skipped


def _load_pth(archive: zipfile.ZipFile, name: str) -> Any:
    import torch

    info = archive.getinfo(name)
    if info.file_size > _MAX_MEMBER:
        raise ArenaError(f"The zip's {name} is larger than arena reads ({info.file_size} bytes).")
    try:
        return torch.load(io.BytesIO(archive.read(name)), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError (and others) for disallowed objects.
        raise ArenaError(
            f"The zip's {name} needs unpickling arbitrary objects, which arena refuses "
            f"(torch.load with weights_only=True said: {str(e).splitlines()[0]})."
        ) from None


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
        A summary: agent, algorithm, steps, and the entries skipped because they need pickle.

    Raises:
        ArenaError: A missing or malformed zip, or an entry that would need unpickling.
    """
    from arena.registry import agent_class, make_env

    source = Path(source)
    if not source.is_file():
        raise ArenaError(f"{source} does not exist or is not a file.")
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise ArenaError(f"{source} is not a zip file; SB3 saves models as .zip.") from None
    with archive:
        members = set(archive.namelist())
        if "data" not in members or "policy.pth" not in members:
            raise ArenaError(f"{source} is not an SB3 model: it lacks 'data' or 'policy.pth'.")
        try:
            data = json.loads(archive.read("data"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ArenaError(f"The zip's 'data' is not valid JSON: {e}.") from None
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
        agent = agent_class(name)(obs_space, act_space, config=config, seed=data.get("seed"))
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
                try:
                    target.load_state_dict(_load_pth(archive, file))
                except (RuntimeError, ValueError, KeyError) as e:
                    raise ArenaError(f"The zip's {file} does not fit {algorithm}: {e}") from None
        if variables and "pytorch_variables.pth" in members:
            import torch

            saved = _load_pth(archive, "pytorch_variables.pth")
            with torch.no_grad():
                for variable in variables:
                    if variable in saved:
                        getattr(model, variable).copy_(saved[variable])
    agent.num_timesteps = int(data.get("num_timesteps", 0))
    model.num_timesteps = agent.num_timesteps
    agent.save(out)
    readable = {"observation_space", "action_space", *values}
    skipped += [k for k, v in data.items() if not _plain(v) and k not in readable]
    return {
        "agent": name,
        "algorithm": algorithm,
        "steps": agent.num_timesteps,
        "out": str(out),
        "skipped_pickled_entries": sorted(set(skipped)),
    }
