"""Helpers for torch agents. Only torch agents import this module, so the core stays torch-free."""

from __future__ import annotations

import math
from typing import Any

import torch

from arena.errors import ConfigError

FLOAT32_MAX = 3.4028234663852886e38


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turns ``"auto"`` into cuda, then mps, then cpu; checks an explicit device exists.

    Raises:
        ConfigError: The device string is malformed or names a device this machine lacks.
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"Bad device {device!r}: use auto, cpu, cuda, cuda:N or mps.") from None
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"Bad device {device!r}: use auto, cpu, cuda, cuda:N or mps.")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"Device {device!r} was asked for, but CUDA is not available here.")
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise ConfigError(f"Device {device!r} was asked for, but this machine has {count}.")
    mps = getattr(torch.backends, "mps", None)
    if resolved.type == "mps" and not (mps is not None and mps.is_available()):
        raise ConfigError(f"Device {device!r} was asked for, but MPS is not available here.")
    return resolved


def optimizer_state(optimizer: torch.optim.Optimizer, prefix: str) -> tuple[dict, dict]:
    """Splits an optimizer's state dict into tensors (for safetensors) and JSON-ready rest.

    Returns:
        ``(tensors, extra)``: tensors keyed ``{prefix}.{param index}.{name}``, and the rest.
    """
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """The most bytes of tensors that an optimizer's state holds once it has stepped (a fresh
    optimizer's state is empty, so a checkpoint reader allows for these).

    Per parameter: Adam and AdamW keep two moments (three with ``amsgrad``); RMSprop a square
    average, plus a momentum buffer and a mean gradient where it uses them; SGD a momentum
    buffer where it has momentum; another optimizer is counted at three copies (not a bound
    for one that keeps a history, such as LBFGS). Each is allowed a step count of up to 8
    bytes.
    """
    total = 0
    for group in optimizer.param_groups:
        if isinstance(optimizer, torch.optim.Adam | torch.optim.AdamW):
            copies = 3 if group.get("amsgrad") else 2
        elif isinstance(optimizer, torch.optim.RMSprop):
            copies = 1 + bool(group.get("momentum")) + bool(group.get("centered"))
        elif isinstance(optimizer, torch.optim.SGD):
            copies = int(bool(group.get("momentum")))
        else:
            copies = 3
        for parameter in group["params"]:
            total += copies * parameter.numel() * parameter.element_size() + 8
    return total


def load_optimizer_state(
    optimizer: torch.optim.Optimizer, prefix: str, arrays: dict[str, Any], extra: dict[str, Any]
) -> None:
    """Restores what :func:`optimizer_state` split, into ``optimizer``.

    The saved part comes from a checkpoint, so it is checked against the optimizer the agent
    built from its config: the same groups and parameters, each hyperparameter of the same type
    as the built one, numbers finite and within float32's range (SB3's linear schedule ends a
    hair below 0, so a learning rate may be negative), and flags such
    as ``capturable`` or ``maximize`` as built; a checkpoint can restore where a schedule had
    taken the learning rate, not change how the optimizer works.

    Raises:
        ValueError: The saved state does not fit the optimizer; the message names the field.
    """
    built = optimizer.state_dict()["param_groups"]
    groups = extra.get("param_groups")
    if not isinstance(groups, list) or len(groups) != len(built):
        raise ValueError(f"{prefix}: the saved optimizer has other parameter groups")
    for saved, mine in zip(groups, built, strict=True):
        _check_group(prefix, saved, mine)
    state: dict[int, dict[str, Any]] = {}
    for name, value in arrays.items():
        if name.startswith(prefix + "."):
            index, key = name[len(prefix) + 1 :].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    scalars = extra.get("scalars", {})
    if not isinstance(scalars, dict):
        raise ValueError(f"{prefix}: the saved optimizer's scalars are not an object")
    for index, entry in scalars.items():
        if not isinstance(entry, dict) or not all(_is_count(v) for v in entry.values()):
            raise ValueError(f"{prefix}: the saved optimizer's scalars must be step counts")
        state.setdefault(int(index), {}).update(entry)
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def _check_group(prefix: str, saved: Any, mine: dict[str, Any]) -> None:
    if not isinstance(saved, dict) or set(saved) != set(mine):
        raise ValueError(f"{prefix}: a saved parameter group has other fields than the optimizer")
    for key, value in saved.items():
        built = mine[key]
        if key == "params" or isinstance(built, bool) or built is None:
            if value != built:
                raise ValueError(f"{prefix}: the saved {key}={value!r} differs from {built!r}")
        elif isinstance(built, (int, float)):
            if not _is_number(value):
                raise ValueError(f"{prefix}: the saved {key}={value!r} is not a valid value")
        elif isinstance(built, (list, tuple)):
            if (
                not isinstance(value, (list, tuple))
                or len(value) != len(built)
                or not all(_is_number(v) and 0 <= v < 1 for v in value)
            ):
                raise ValueError(f"{prefix}: the saved {key}={value!r} is not a valid value")
        elif type(value) is not type(built):
            raise ValueError(f"{prefix}: the saved {key}={value!r} has the wrong type")


def _is_number(value: Any) -> bool:
    """A finite number that float32 can hold (optimizers turn their settings into float32)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= FLOAT32_MAX
    )


def _is_count(value: Any) -> bool:
    return _is_number(value) and value >= 0
