"""Drawing helpers shared by the demos: text, panels and live curves on pygame surfaces."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from arena.plot import smooth

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

BACKGROUND = (24, 26, 33)
FOREGROUND = (230, 232, 238)
MUTED = (140, 146, 160)
COLORS = [(86, 156, 255), (255, 140, 66), (98, 201, 118), (232, 88, 104), (190, 130, 255)]

_fonts: dict[int, pygame.font.Font] = {}


def font(size: int) -> pygame.font.Font:
    """pygame's default font at ``size`` points, loaded once."""
    if not pygame.font.get_init():
        pygame.font.init()
    if size not in _fonts:
        _fonts[size] = pygame.font.Font(None, size)
    return _fonts[size]


def canvas(width: int, height: int) -> pygame.Surface:
    """An empty dark surface."""
    surface = pygame.Surface((width, height))
    surface.fill(BACKGROUND)
    return surface


def draw_text(
    surface: pygame.Surface,
    text: str,
    pos: tuple[int, int],
    size: int = 22,
    color: tuple[int, int, int] = FOREGROUND,
) -> None:
    """Draws one line of text with its top-left corner at ``pos``."""
    surface.blit(font(size).render(text, True, color), pos)


def draw_frame(surface: pygame.Surface, frame: np.ndarray, rect: tuple[int, int, int, int]) -> None:
    """Draws an RGB array scaled into ``rect`` (x, y, width, height)."""
    image = pygame.surfarray.make_surface(np.asarray(frame[:, :, :3]).swapaxes(0, 1))
    surface.blit(pygame.transform.smoothscale(image, rect[2:]), rect[:2])


def draw_curves(
    surface: pygame.Surface,
    rect: tuple[int, int, int, int],
    curves: Sequence[tuple[str, Sequence[float]]],
    title: str,
    window: int = 10,
) -> None:
    """Draws smoothed curves (label, values) in a framed panel with the last value of each."""
    x, y, width, height = rect
    pygame.draw.rect(surface, (40, 43, 52), rect)
    draw_text(surface, title, (x + 8, y + 6), 20, MUTED)
    smoothed = [(label, smooth(values, window)) for label, values in curves if len(values)]
    if not smoothed:
        return
    low = min(min(v) for _, v in smoothed)
    high = max(max(v) for _, v in smoothed)
    span = high - low or 1.0
    length = max(len(v) for _, v in smoothed)
    top, bottom = y + 28, y + height - 8
    for i, (label, values) in enumerate(smoothed):
        color = COLORS[i % len(COLORS)]
        points = [
            (
                x + 8 + (width - 16) * j / max(length - 1, 1),
                bottom - (bottom - top) * (v - low) / span,
            )
            for j, v in enumerate(values)
        ]
        if len(points) > 1:
            pygame.draw.lines(surface, color, False, points, 2)
        draw_text(surface, f"{label}: {values[-1]:.2f}", (x + 8, y + 26 + 20 * i), 20, color)


def to_array(surface: pygame.Surface) -> np.ndarray:
    """The surface as an RGB uint8 array (height x width x 3)."""
    return pygame.surfarray.array3d(surface).swapaxes(0, 1).copy()
