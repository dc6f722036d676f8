"""Draws ``arena/SequencePrediction-v0``: stream 0's recent elements with the predictions over them.

Numeric streams (sine, adding) are a line of the observed values with the predictions as dots;
symbol streams (Reber, text) are two rows of characters, the stream and the prediction made at
each position, coloured green when right (allowed, for Reber) and red when wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.sequence import SequencePredictionEnv

WIDTH, HEIGHT = 640, 200
BACKGROUND = (245, 245, 240)
INK = (40, 40, 40)
GRID = (200, 200, 195)
PREDICTION = (50, 90, 200)
MARKER = (230, 140, 30)
RIGHT = (40, 150, 60)
WRONG = (200, 50, 50)


class SequenceRenderer:
    """Draws the env to an RGB array, or to a pygame window in ``"human"`` mode."""

    def __init__(self, mode: str, fps: int) -> None:
        import pygame

        pygame.font.init()
        self.mode = mode
        self.fps = fps
        self.font = pygame.font.SysFont("monospace", 18)
        self.window = None
        self.clock = None

    def draw(self, env: SequencePredictionEnv) -> np.ndarray | None:
        """Draws the current frame; returns it in ``"rgb_array"`` mode."""
        import pygame

        surface = pygame.Surface((WIDTH, HEIGHT))
        surface.fill(BACKGROUND)
        title = f"{env.source} (stream 0 of {env.batch_size}), step {env.t}"
        surface.blit(self.font.render(title, True, INK), (8, 6))
        if env.symbols is None:
            self._numbers(surface, env)
        else:
            self._symbols(surface, env)
        if self.mode == "rgb_array":
            return np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2)).copy()
        if self.window is None:
            pygame.display.init()
            pygame.display.set_caption("arena/SequencePrediction-v0")
            self.window = pygame.display.set_mode((WIDTH, HEIGHT))
            self.clock = pygame.time.Clock()
        self.window.blit(surface, (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        self.clock.tick(self.fps)
        return None

    def _numbers(self, surface, env: SequencePredictionEnv) -> None:
        import pygame

        top, bottom = 40, HEIGHT - 12
        low, high = (-1.0, 1.0) if env.source == "sine" else (0.0, 2.0)

        def y(value: float) -> int:
            value = min(max(value, low), high)
            return int(bottom - (value - low) / (high - low) * (bottom - top))

        step = WIDTH / (len(env.history) + 1)
        pygame.draw.line(surface, GRID, (0, y((low + high) / 2)), (WIDTH, y((low + high) / 2)))
        points = []
        for i, (element, pred, truth, _, scored) in enumerate(env.history):
            x = int((i + 0.5) * step)
            if env.source == "adding":
                value, marked = float(element[0]), element[1] > 0
                bar = MARKER if marked else GRID
                pygame.draw.line(surface, bar, (x, bottom), (x, y(value)), 3)
                if scored:  # The sum: truth and prediction are both shifted by -1.
                    pygame.draw.circle(surface, INK, (x, y(truth + 1.0)), 5, 1)
                    pygame.draw.circle(surface, PREDICTION, (x, y(pred + 1.0)), 4)
                continue
            points.append((x, y(float(element[0]))))
            pygame.draw.circle(surface, PREDICTION, (int((i + 1.5) * step), y(float(pred))), 3)
        if len(points) > 1:
            pygame.draw.lines(surface, INK, False, points, 2)

    def _symbols(self, surface, env: SequencePredictionEnv) -> None:
        chars = env.symbols
        cell = WIDTH // 32
        history = list(env.history)[-31:]
        for i, (element, pred, _, right, _) in enumerate(history):
            x = 8 + i * cell
            surface.blit(self.font.render(_visible(chars[int(element)]), True, INK), (x, 70))
            colour = RIGHT if right else WRONG
            guess = self.font.render(_visible(chars[int(pred)]), True, colour)
            surface.blit(guess, (x + cell // 2, 120))
        surface.blit(self.font.render("seen", True, GRID), (8, 45))
        surface.blit(self.font.render("predicted next", True, GRID), (8, 150))

    def close(self) -> None:
        """Closes the window, if one was opened; safe to call twice."""
        if self.window is not None:
            import pygame

            pygame.display.quit()
            self.window = None


def _visible(char: str) -> str:
    """Shows whitespace as a visible mark."""
    return {"\n": "\u21b5", " ": "\u00b7", "\t": "\u2192"}.get(char, char)
