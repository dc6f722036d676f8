"""DQN's Q-network and the policy the host acts with.

:mod:`.agent` imports the torch modules of this package lazily, so ``arena list`` never imports
torch.

Everything an update touches (sampling, targets, loss, optimizer, priorities) lives on the agent's
device, and one update launches no host round-trip. The host meets the device once per update
round: it copies the round's staged transitions in and, on an accelerator, reads back the
weights it acts with. The losses stay on the device until the core non-finite guard
(:mod:`arena.guard`) reads their check back, once per episode.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


class QNetwork(nn.Module):
    """An MLP from a flat observation to one Q-value per action, optionally with dueling heads.

    Args:
        obs_dim: The flattened observation size.
        num_actions: The number of discrete actions.
        hidden: The hidden layer sizes (ReLU after each).
        dueling: Split the output into a state value and action advantages,
            ``Q = V + A - mean(A)``.
        device: Where to allocate; ``"meta"`` defers allocation to :func:`build_network`.
    """

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        hidden: tuple[int, ...],
        dueling: bool,
        device: str | torch.device = "meta",
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = obs_dim
        for size in hidden:
            layers += [nn.Linear(width, size, device=device), nn.ReLU()]
            width = size
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_actions, device=device)
        """The Q-values, or with dueling heads the advantages."""
        self.value = nn.Linear(width, 1, device=device) if dueling else None

    def forward(self, obs_BD: torch.Tensor) -> torch.Tensor:
        features_BH = self.trunk(obs_BD)
        head_BA = self.head(features_BH)
        if self.value is None:
            return head_BA
        return self.value(features_BH) + head_BA - head_BA.mean(1, keepdim=True)

    def linears(self) -> list[nn.Linear]:
        """The layers that decide the greedy action: the trunk's, then the Q or advantage head.

        With dueling heads, ``V`` and ``mean(A)`` are the same for every action, so the
        advantage head alone gives the argmax.
        """
        return [m for m in self.trunk if isinstance(m, nn.Linear)] + [self.head]


def build_network(
    obs_dim: int,
    num_actions: int,
    hidden: tuple[int, ...],
    dueling: bool,
    device: torch.device,
    generator: torch.Generator,
) -> QNetwork:
    """Makes a network initialised from ``generator`` (torch's default Linear init).

    The weights are drawn on the CPU, so a seed gives the same network on every device, and the
    global torch generator is never touched.
    """
    net = QNetwork(obs_dim, num_actions, hidden, dueling).to_empty(device="cpu")
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)
                nn.init.uniform_(module.weight, -bound, bound, generator=generator)
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
    return net.to(device)


class HostPolicy:
    """The greedy policy in numpy, for the env loop: one small matmul chain per step.

    A torch forward pass for one observation costs about ten times as much as these matmuls
    here. On the CPU the arrays are views of the network's own parameters, so they follow every
    optimizer step for free; on an accelerator :meth:`refresh` copies them over once per round.
    """

    def __init__(self, net: QNetwork) -> None:
        self.net = net
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        self.on_cpu = False
        self.refresh()

    def refresh(self) -> None:
        """Points at (CPU) or copies (accelerator) the current weights."""
        if self.layers and self.on_cpu:
            return
        linears = self.net.linears()
        params = [p.detach() for layer in linears for p in (layer.weight, layer.bias)]
        self.on_cpu = params[0].device.type == "cpu"
        if self.on_cpu:
            arrays = [p.numpy() for p in params]
            self.layers = [(w.T, b) for w, b in zip(arrays[::2], arrays[1::2], strict=True)]
            return
        flat = torch.cat([p.flatten() for p in params]).cpu().numpy()
        self.layers, start = [], 0
        for layer in linears:
            out_dim, in_dim = layer.weight.shape
            w = flat[start : start + out_dim * in_dim].reshape(out_dim, in_dim)
            start += out_dim * in_dim
            self.layers.append((w.T, flat[start : start + out_dim]))
            start += out_dim

    def greedy(self, obs_ND: np.ndarray) -> np.ndarray:
        """The argmax action index for each row of a float32 observation batch."""
        h = obs_ND
        for w_T, b in self.layers[:-1]:
            h = np.maximum(h @ w_T + b, 0.0)
        w_T, b = self.layers[-1]
        return (h @ w_T + b).argmax(1)
