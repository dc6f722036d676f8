"""Draws the classification env with pygame: an image grid, or a 2-D map of tabular data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.classification.env import ClassificationEnv

PALETTE = np.array(
    [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ],
    np.uint8,
)
RIGHT, WRONG, UNKNOWN = (30, 150, 60), (210, 40, 40), (90, 90, 90)
CELL = 64
COLUMNS = 8
MAX_IMAGES = 64
MAP = 480
GRID = 96
MAX_REGION_POINTS = 600
PROJECTION_ROWS = 5000
"""The most train rows the 2-D map's principal components are fitted on."""


class ClassificationRenderer:
    """Draws :class:`ClassificationEnv` frames as RGB arrays."""

    def __init__(self, env: ClassificationEnv) -> None:
        import pygame

        pygame.font.init()
        self.env = env
        self.font = pygame.font.Font(None, 20)
        self.project = None if env.is_image else _projection(env.train_rows(PROJECTION_ROWS))

    def frame(self) -> np.ndarray:
        """The current frame, an (H, W, 3) uint8 array."""
        import pygame

        surface = self._image_grid() if self.env.is_image else self._map()
        return pygame.surfarray.array3d(surface).transpose(1, 0, 2).copy()

    def _image_grid(self):
        """The batch on screen as images, each captioned ``predicted / true``, or, where the
        class names are too long for one line, with the prediction over the true class."""
        import pygame

        env = self.env
        rows, valid = env.shown
        count = min(int(valid.sum()), MAX_IMAGES)
        columns = min(COLUMNS, count) or 1
        lines = -(-count // columns) or 1
        widest = max(self.font.size(name)[0] for name in env.class_names)
        two_lines = 2 * widest + self.font.size(" / ")[0] > CELL - 8
        width = max(CELL, widest + 8) if two_lines else CELL
        height = CELL + (36 if two_lines else 18)
        surface = pygame.Surface((columns * width, lines * height))
        surface.fill((245, 245, 245))
        images = env.raw[rows[:count]]
        low, high = images.min(), images.max()
        for i, image in enumerate(images):
            gray = (255 * (1 - (image - low) / max(high - low, 1e-9))).astype(np.uint8)
            pixels = np.repeat(gray[:, :, None], 3, axis=2)
            tile = pygame.transform.scale(
                pygame.surfarray.make_surface(pixels.transpose(1, 0, 2)), (CELL - 8, CELL - 8)
            )
            x, y = (i % columns) * width, (i // columns) * height
            surface.blit(tile, (x + (width - CELL) // 2 + 4, y + 4))
            true = env.class_names[env.y[rows[i]]]
            if env.predictions is None:
                guess, color = "?", UNKNOWN
            else:
                answer = int(env.predictions[i])
                color = RIGHT if answer == env.y[rows[i]] else WRONG
                guess = env.class_names[answer]
            if two_lines:
                surface.blit(self.font.render(guess, True, color), (x + 4, y + CELL))
                surface.blit(self.font.render(true, True, UNKNOWN), (x + 4, y + CELL + 17))
            else:
                text = f"{guess} / {true}"
                surface.blit(self.font.render(text, True, color), (x + 4, y + CELL))
        return surface

    def _map(self):
        """The split projected to 2-D over the regions the answers so far mark out."""
        import pygame

        env = self.env
        points = self.project(env.X.reshape(env.size, -1))
        low, high = points.min(axis=0), points.max(axis=0)
        span = np.maximum(high - low, 1e-9) * 1.1
        low = low - span / 22

        def to_pixels(p: np.ndarray) -> np.ndarray:
            return ((p - low) / span * (MAP - 1)).astype(int)

        frame = np.full((GRID, GRID, 3), 250, np.uint8)
        answered, answers = env.answered
        if len(answered):
            keep = answered[-MAX_REGION_POINTS:]
            cells = np.stack(np.meshgrid(np.arange(GRID), np.arange(GRID)[::-1]), -1)
            grid = (low + (cells.reshape(-1, 2) + 0.5) * (span / GRID)).astype(np.float32)
            seen = points[keep].astype(np.float32)
            distance = (seen**2).sum(axis=1) - 2 * grid @ seen.T
            nearest = distance.argmin(axis=1).reshape(GRID, GRID)
            colors = PALETTE[answers[-MAX_REGION_POINTS:][nearest] % len(PALETTE)]
            frame = (0.35 * colors + 0.65 * 255).astype(np.uint8)
        surface = pygame.transform.scale(
            pygame.surfarray.make_surface(frame.transpose(1, 0, 2)), (MAP, MAP)
        )
        pixels = to_pixels(points)
        for (x, y), label in zip(pixels, env.y, strict=True):
            color = [int(c) for c in PALETTE[label % len(PALETTE)]]
            pygame.draw.circle(surface, color, (int(x), MAP - 1 - int(y)), 4)
        rows, valid = env.shown
        for x, y in pixels[rows[valid]]:
            pygame.draw.circle(surface, (0, 0, 0), (int(x), MAP - 1 - int(y)), 7, 2)
        done = len(answered)
        right = int((answers == env.y[answered]).sum()) if done else 0
        caption = f"{env.dataset} {env.split}: {right}/{done} right, {env.size} samples"
        surface.blit(self.font.render(caption, True, (20, 20, 20)), (8, 8))
        return surface


def _projection(rows: np.ndarray):
    """Maps flat features to 2-D: as they are for 2 features, else onto the top 2 principal
    components of ``rows``, at most :data:`PROJECTION_ROWS` of the train split (a full SVD of
    Fashion-MNIST's 60,000 x 784 took 8.5 s; two components need far fewer rows)."""
    if rows.shape[1] <= 2:
        return lambda X: np.pad(X, ((0, 0), (0, 2 - X.shape[1])))
    mean = rows.mean(axis=0)
    _, _, vt = np.linalg.svd(rows - mean, full_matrices=False)
    return lambda X: (X - mean) @ vt[:2].T
