"""Draws the sequence envs: stream 0's recent elements with the predictions over them.

Numeric streams are a line of the observed values with the predictions as dots (sine), or bars
of the values with the marked ones highlighted and the predicted sum over the last (adding);
symbol streams (Reber, text) are two rows of characters, the stream and the prediction made at
each position, coloured green when right (allowed, for Reber) and red when wrong. Each env picks
its picture in its ``paint`` method; pygame is imported only while drawing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from envs.sequence.base import SequenceEnv

WIDTH, HEIGHT = 640, 200
BACKGROUND = (245, 245, 240)
INK = (40, 40, 40)
GRID = (200, 200, 195)
PREDICTION = (50, 90, 200)
MARKER = (230, 140, 30)
RIGHT = (40, 150, 60)
WRONG = (200, 50, 50)
TOP, BOTTOM = 40, HEIGHT - 12
"""The plot's first and last pixel rows."""


class SequenceRenderer:
    """Draws a :class:`SequenceEnv` to RGB arrays."""

    def __init__(self) -> None:
        import pygame

        pygame.font.init()
        self.font = pygame.font.SysFont("monospace", 18)

    def frame(self, env: SequenceEnv) -> np.ndarray:
        """The current frame, a ``(HEIGHT, WIDTH, 3)`` uint8 array."""
        import pygame

        surface = pygame.Surface((WIDTH, HEIGHT))
        surface.fill(BACKGROUND)
        title = f"{env.source} (stream 0 of {env.batch_size}), step {env.t}"
        surface.blit(self.font.render(title, True, INK), (8, 6))
        env.paint(surface, self.font)
        return np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2)).copy()


def _plot(surface: Any, low: float, high: float) -> Callable[[float], int]:
    """Draws the middle grid line of a plot of values in [low, high]; returns the pixel row of
    a value (clipped to the range)."""
    import pygame

    def y(value: float) -> int:
        value = min(max(value, low), high)
        return int(BOTTOM - (value - low) / (high - low) * (BOTTOM - TOP))

    pygame.draw.line(surface, GRID, (0, y((low + high) / 2)), (WIDTH, y((low + high) / 2)))
    return y


def paint_values(surface: Any, history: Sequence[tuple], low: float, high: float) -> None:
    """The observed values as a line, each prediction as a dot over the value it predicts."""
    import pygame

    y = _plot(surface, low, high)
    step = WIDTH / (len(history) + 1)
    points = []
    for i, (element, pred, _, _, _) in enumerate(history):
        points.append((int((i + 0.5) * step), y(float(element[0]))))
        pygame.draw.circle(surface, PREDICTION, (int((i + 1.5) * step), y(float(pred))), 3)
    if len(points) > 1:
        pygame.draw.lines(surface, INK, False, points, 2)


def paint_sums(surface: Any, history: Sequence[tuple]) -> None:
    """The adding problem: a bar per value (marked ones highlighted), and at the scored step the
    true sum (a ring) and the predicted one (a dot), in [0, 2]."""
    import pygame

    y = _plot(surface, 0.0, 2.0)
    step = WIDTH / (len(history) + 1)
    for i, (element, pred, truth, _, scored) in enumerate(history):
        x = int((i + 0.5) * step)
        value, marked = float(element[0]), element[1] > 0
        pygame.draw.line(surface, MARKER if marked else GRID, (x, BOTTOM), (x, y(value)), 3)
        if scored:  # The sum: truth and prediction are both shifted by -1.
            pygame.draw.circle(surface, INK, (x, y(truth + 1.0)), 5, 1)
            pygame.draw.circle(surface, PREDICTION, (x, y(pred + 1.0)), 4)


def paint_symbols(surface: Any, font: Any, history: Sequence[tuple], chars: list[str]) -> None:
    """Two rows of characters: the last 31 seen, and under each the prediction made there."""
    cell = WIDTH // 32
    for i, (element, pred, _, right, _) in enumerate(list(history)[-31:]):
        x = 8 + i * cell
        surface.blit(font.render(_visible(chars[int(element)]), True, INK), (x, 70))
        guess = font.render(_visible(chars[int(pred)]), True, RIGHT if right else WRONG)
        surface.blit(guess, (x + cell // 2, 120))
    surface.blit(font.render("seen", True, GRID), (8, 45))
    surface.blit(font.render("predicted next", True, GRID), (8, 150))


def _visible(char: str) -> str:
    """Shows whitespace as a visible mark."""
    return {"\n": "\u21b5", " ": "\u00b7", "\t": "\u2192"}.get(char, char)
