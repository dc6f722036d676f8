"""Frames for ``arena/Generation-v0``: point clouds over mode centres, or a grid of images.

The frames are numpy RGB arrays, so ``rgb_array`` needs no pygame; ``human`` mode shows them in
:class:`arena.window.Window`, which imports pygame only when a human asks to watch.
"""

from __future__ import annotations

import math

import numpy as np

SIZE = 480
"""The side of a mixture frame in pixels."""
BACKGROUND = (250, 250, 250)
REAL = (160, 160, 160)
FAKE = (40, 90, 210)
CENTRE = (220, 40, 40)
ZOOM = 4
"""Pixels per image pixel in the image grid, for images up to ``MAX_CELL // ZOOM`` a side."""
MAX_CELL = 64
"""The most pixels an image's side takes in the grid: larger images are zoomed less (28x28
ones by 2), so that a grid of 64 stays about as wide as a mixture frame."""


def _to_pixels(points_N2: np.ndarray) -> np.ndarray:
    """Maps env coordinates in [-1, 1]^2 to (row, column) pixels, y pointing up."""
    pixels = np.rint((np.asarray(points_N2, np.float64) + 1.0) / 2.0 * (SIZE - 1))
    pixels = np.clip(np.nan_to_num(pixels), 0, SIZE - 1).astype(np.int64)
    return np.stack([SIZE - 1 - pixels[:, 1], pixels[:, 0]], axis=1)


def _dots(frame: np.ndarray, points_N2: np.ndarray, colour: tuple[int, int, int], r: int) -> None:
    for row, col in _to_pixels(points_N2):
        frame[max(row - r, 0) : row + r + 1, max(col - r, 0) : col + r + 1] = colour


def mixture_frame(real_N2: np.ndarray, fake_M2: np.ndarray, centres_K2: np.ndarray) -> np.ndarray:
    """Draws real points, generated points and mode centres (first two dimensions) in [-1, 1]^2.

    Returns:
        A (SIZE, SIZE, 3) uint8 frame.
    """
    frame = np.full((SIZE, SIZE, 3), BACKGROUND, np.uint8)
    _dots(frame, real_N2[:, :2], REAL, 1)
    _dots(frame, fake_M2[:, :2], FAKE, 1)
    for row, col in _to_pixels(centres_K2[:, :2]):
        frame[max(row - 6, 0) : row + 7, col] = CENTRE
        frame[row, max(col - 6, 0) : col + 7] = CENTRE
    return frame


def image_grid(samples_ND: np.ndarray, max_images: int = 64) -> np.ndarray:
    """Tiles up to ``max_images`` samples in [-1, 1] as grey images, dark ink on white.

    A sample of D values is a square image when D is a square number, else a 1 x D strip.
    Each image pixel takes ``ZOOM`` x ``ZOOM`` pixels, or fewer where that would make a square
    image's side longer than :data:`MAX_CELL`.

    Returns:
        An (H, W, 3) uint8 frame.
    """
    samples = np.asarray(samples_ND, np.float64)[:max_images]
    dim = samples.shape[1] if samples.ndim == 2 else 64
    side = math.isqrt(dim)
    shape = (side, side) if side * side == dim else (1, dim)
    zoom = min(ZOOM, max(1, MAX_CELL // shape[0]))  # a 1 x D strip keeps its full zoom
    columns = max(1, math.ceil(math.sqrt(max_images)))
    rows = max(1, math.ceil(max(len(samples), 1) / columns))
    cell_h, cell_w = shape[0] * zoom + 2, shape[1] * zoom + 2
    frame = np.full((rows * cell_h + 2, columns * cell_w + 2, 3), 200, np.uint8)
    for i, sample in enumerate(samples):
        ink = np.clip(np.nan_to_num((sample + 1.0) / 2.0), 0.0, 1.0).reshape(shape)
        grey = np.kron(255 * (1.0 - ink), np.ones((zoom, zoom))).astype(np.uint8)
        top, left = 2 + (i // columns) * cell_h, 2 + (i % columns) * cell_w
        frame[top : top + grey.shape[0], left : left + grey.shape[1]] = grey[..., None]
    return frame
