"""The torch side of the ``resnet`` agent: residual blocks (He et al., 2016).

Imported only when an agent is built, so that ``arena list`` stays free of torch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from agents.supervised.common import Layout


class Block(nn.Module):
    """``3x3 conv -> BN -> ReLU -> 3x3 conv -> BN``, plus the shortcut, then ReLU.

    The shortcut is the identity, or a strided 1x1 conv with BN (a projection) where the block
    changes the channels or the size.
    """

    def __init__(self, channels_in: int, channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or channels_in != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels_in, channels, 1, stride, bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def build_resnet(layout: Layout, widths: tuple[int, ...], blocks: int) -> nn.Module:
    """A 3x3 stem, a stage of ``blocks`` residual blocks per width (each stage after the first
    starts with a stride of 2), global average pooling and a linear layer to the classes."""
    height, _ = layout.feature_shape
    layers: list[nn.Module] = [
        nn.Unflatten(1, (1, height)),
        nn.Conv2d(1, widths[0], 3, padding=1, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(),
    ]
    previous = widths[0]
    for stage, channels in enumerate(widths):
        for block in range(blocks):
            stride = 2 if stage and not block else 1
            layers.append(Block(previous, channels, stride))
            previous = channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(previous, layout.n_classes)]
    return nn.Sequential(*layers)


def init_resnet(net: nn.Module, generator: torch.Generator) -> None:
    """He initialisation for the convs, unit scale and zero shift for the batch norms, and
    PyTorch's default for the linear layer, all drawn from ``generator``."""
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
        elif isinstance(module, nn.Linear):
            bound = 1 / module.weight.shape[1] ** 0.5
            nn.init.uniform_(module.weight, -bound, bound, generator=generator)
            nn.init.uniform_(module.bias, -bound, bound, generator=generator)
