"""Helpers for torch agents. Only torch agents import this module, so the core stays torch-free."""

from __future__ import annotations

from typing import Any

import torch

from arena.errors import ConfigError


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
    except RuntimeError as e:
        raise ConfigError(f"Bad device {device!r}: {e}. Use auto, cpu, cuda or cuda:N.") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"Device {device!r} was asked for, but CUDA is not available here.")
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


def load_optimizer_state(
    optimizer: torch.optim.Optimizer, prefix: str, arrays: dict[str, Any], extra: dict[str, Any]
) -> None:
    """Restores what :func:`optimizer_state` split, into ``optimizer``."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in arrays.items():
        if name.startswith(prefix + "."):
            index, key = name[len(prefix) + 1 :].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    for index, entry in extra.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(entry)
    optimizer.load_state_dict({"state": state, "param_groups": extra["param_groups"]})
