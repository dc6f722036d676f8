"""The one pygame window that gym-arena shows pictures in.

Envs' ``human`` render mode, ``arena evaluate --render human`` and the demos all draw an RGB frame
(height x width x 3, uint8) and hand it to a :class:`Window`. pygame is imported when a window
opens, never when this module is imported, so ``arena list`` and ``rgb_array`` rendering do
without it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


class Window:
    """Shows frames in a pygame window; closing it or pressing Esc or q asks to stop.

    The window takes the size of the frame it shows, and follows it when the size changes.

    Args:
        title: The window's caption.
        fps: The most frames shown per second.
        headless: Use SDL's dummy video driver: nothing is shown, frames are still made.
    """

    def __init__(self, title: str, fps: float = 30, headless: bool = False) -> None:
        if headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self._pygame = pygame
        pygame.display.init()
        pygame.display.set_caption(title)
        self.fps = fps
        self.closed = False
        self._typed: list[str] = []
        self._screen = None
        self._clock = pygame.time.Clock()

    def show(self, frame: np.ndarray) -> bool:
        """Draws a frame and waits to keep ``fps``; returns False once the user has closed the
        window (then nothing more is drawn)."""
        pygame = self._pygame
        if pygame is None:
            return False
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (
                event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q)
            ):
                self.closed = True
            elif event.type == pygame.KEYDOWN and event.unicode:
                self._typed.append(event.unicode)
        if self.closed:
            return False
        height, width = frame.shape[:2]
        if self._screen is None or self._screen.get_size() != (width, height):
            self._screen = pygame.display.set_mode((width, height))
        surface = pygame.surfarray.make_surface(np.asarray(frame[:, :, :3]).swapaxes(0, 1))
        self._screen.blit(surface, (0, 0))
        pygame.display.flip()
        self._clock.tick(self.fps)
        return True

    def take_keys(self) -> list[str]:
        """The characters typed in the window since the last call (Esc and q close it instead);
        a demo that answers key presses reads them here."""
        typed, self._typed = self._typed, []
        return typed

    def close(self) -> None:
        """Closes the window; safe to call twice."""
        if self._pygame is not None:
            self._pygame.display.quit()
            self._pygame = None

    def __enter__(self) -> Window:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
