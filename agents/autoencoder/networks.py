"""The torch side of the autoencoders: the network, the corruption, the penalty, the step.

:mod:`.agent` imports this module only when an agent is built, so ``arena list`` stays
torch-free. The trainer takes and returns numpy batches of flat inputs, ``(B, D)`` float32.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.autoencoder.config import AutoencoderConfig, DenoisingConfig, SparseConfig
from arena.torch_utils import load_optimizer_state, optimizer_state, resolve_device

KL_EPS = 1e-6
"""Keeps the KL penalty finite where a unit's mean activation reaches 0 or 1."""


def dense(widths: list[int], out: nn.Module | None) -> nn.Sequential:
    """``Linear`` layers through ``widths`` with ReLU between them and ``out`` after the last."""
    layers: list[nn.Module] = []
    for a, b in pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.pop()
    if out is not None:
        layers.append(out)
    return nn.Sequential(*layers)


def init_weights(net: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation, drawn from ``generator`` instead of the global RNG."""
    for module in net.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(module.weight.shape[1])
            nn.init.uniform_(module.bias, -bound, bound, generator=generator)


def corrupt(
    x_BD: torch.Tensor, config: DenoisingConfig, generator: torch.Generator
) -> torch.Tensor:
    """A corrupted copy of a batch in [0, 1], drawn from ``generator`` (on the batch's device).

    ``mask`` zeroes ``round(p * D)`` entries of each input, chosen at random; ``salt-pepper``
    sets as many to 0 or 1 at even odds; ``gaussian`` adds noise of std ``sigma``, clipped.
    """
    if config.noise == "gaussian":
        noise = torch.randn(x_BD.shape, generator=generator, device=x_BD.device)
        return (x_BD + config.sigma * noise).clamp(0.0, 1.0)
    count = round(config.p * x_BD.shape[1])
    if count == 0:
        return x_BD.clone()
    ranks = torch.rand(x_BD.shape, generator=generator, device=x_BD.device).argsort(dim=1)
    chosen = ranks[:, :count]
    if config.noise == "mask":
        values = torch.zeros(chosen.shape, device=x_BD.device)
    else:
        values = torch.rand(chosen.shape, generator=generator, device=x_BD.device).lt(0.5)
    return x_BD.scatter(1, chosen, values.to(x_BD.dtype))


def sparsity_penalty(code_BK: torch.Tensor, config: SparseConfig) -> torch.Tensor:
    """The sparse autoencoder's penalty on a batch of sigmoid codes, unweighted.

    ``kl``: the sum over code units of KL(rho || rho_hat), rho_hat a unit's mean activation over
    the batch. ``l1``: the batch's mean L1 norm of the code.
    """
    if config.sparsity == "l1":
        return code_BK.abs().sum(dim=1).mean()
    rho = config.rho
    rho_hat = code_BK.mean(dim=0).clamp(KL_EPS, 1 - KL_EPS)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.sum()


class Trainer:
    """An encoder and a decoder with the Adam that trains them, one step per batch.

    Args:
        config: The agent's hyperparameters: a :class:`SparseConfig` gives sigmoid code units
            and the sparsity penalty; a :class:`DenoisingConfig`, corruption of inputs shown
            clean.
        dim: The size of one flat input.
        device: A torch device string or "auto".
        seed: Seeds the initial weights and the generator of the corruption.
    """

    def __init__(self, config: AutoencoderConfig, dim: int, device: str, seed: int) -> None:
        self.config = config
        self.device = resolve_device(device)
        init = torch.Generator().manual_seed(seed)
        hidden = list(config.hidden_sizes)
        code_out = nn.Sigmoid() if isinstance(config, SparseConfig) else None
        self.encoder = dense([dim, *hidden, config.code_size], code_out)
        self.decoder = dense([config.code_size, *hidden[::-1], dim], nn.Sigmoid())
        self.net = nn.ModuleDict({"encoder": self.encoder, "decoder": self.decoder})
        init_weights(self.net, init)
        self.net.to(self.device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.learning_rate)
        self.generator = torch.Generator(self.device).manual_seed(seed + 1)

    def _tensor(self, x_BD: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(x_BD, np.float32), device=self.device)

    @torch.no_grad()
    def reconstruct(self, x_BD: np.ndarray) -> np.ndarray:
        """The decoder's reconstructions of a batch, float32 in [0, 1]."""
        return self.decoder(self.encoder(self._tensor(x_BD))).cpu().numpy()

    @torch.no_grad()
    def encode(self, x_BD: np.ndarray) -> np.ndarray:
        """The codes of a batch, ``(B, code_size)`` float32."""
        return self.encoder(self._tensor(x_BD)).cpu().numpy()

    def update(self, input_BD: np.ndarray, target_BD: np.ndarray, corrupt_input: bool) -> Any:
        """One Adam step on the mean squared error of ``input_BD``'s reconstructions against
        ``target_BD`` (plus the sparsity penalty); ``corrupt_input`` corrupts the input first.

        Returns:
            The step's loss, a detached tensor on the device.
        """
        x = self._tensor(input_BD)
        if corrupt_input:
            x = corrupt(x, self.config, self.generator)
        code = self.encoder(x)
        loss = (self.decoder(code) - self._tensor(target_BD)).square().mean()
        if isinstance(self.config, SparseConfig) and self.config.penalty_weight > 0:
            loss = loss + self.config.penalty_weight * sparsity_penalty(code, self.config)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        return loss.detach()

    def encoder_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The encoder's ``Linear`` layers, input side first, as ``(weight (out, in), bias)``."""
        return [
            (m.weight.detach().cpu().numpy(), m.bias.detach().cpu().numpy())
            for m in self.encoder
            if isinstance(m, nn.Linear)
        ]

    def encoder_activations(self) -> list[str]:
        """The activation after each of the encoder's ``Linear`` layers: ``"relu"`` for the
        hidden ones, ``"linear"`` for the code (``"sigmoid"`` in the sparse autoencoder)."""
        modules = list(self.encoder)
        names = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid"}
        return [
            names.get(type(modules[i + 1]), "linear") if i + 1 < len(modules) else "linear"
            for i, m in enumerate(modules)
            if isinstance(m, nn.Linear)
        ]

    def state(self) -> dict[str, torch.Tensor]:
        """The weights, Adam's moments and the corruption generator's state."""
        tensors = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        tensors.update(optimizer_state(self.optimizer, "optimizer")[0])
        tensors["generator"] = self.generator.get_state()
        return tensors

    def extra_state(self) -> dict[str, Any]:
        """The optimizer's JSON-ready rest (its groups and step counts)."""
        return {"optimizer": optimizer_state(self.optimizer, "optimizer")[1]}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        """Restores what :meth:`state` and :meth:`extra_state` returned."""
        weights = {k[4:]: v for k, v in arrays.items() if k.startswith("net.")}
        self.net.load_state_dict(weights)
        load_optimizer_state(self.optimizer, "optimizer", arrays, extra["optimizer"])
        self.generator.set_state(arrays["generator"].cpu())
