"""Frames for ``arena/Reconstruction-v0``: corrupted inputs, reconstructions and clean inputs.

The frames are numpy RGB arrays, so ``rgb_array`` needs no pygame; ``human`` mode shows them in
:class:`arena.window.Window`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.reconstruction.env import ReconstructionEnv

MAX_SHOWN = 16
"""The most inputs of a batch that a frame shows."""
TILE = 64
"""The longer side of an input's picture, in pixels (at least one pixel per entry)."""
STRIP_WIDTH = 12
"""The width of a tabular input's strip, in pixels."""
GAP = 4
BACKGROUND = 200
BLANK = 235
"""The grey of the reconstruction band before the first answer."""


def frame(env: ReconstructionEnv) -> np.ndarray:
    """Draws the batch on screen in three bands, top to bottom: the corrupted inputs, the
    reconstructions and the clean inputs.

    Returns:
        An ``(H, W, 3)`` uint8 array, ``H = 3 * (tile_h + GAP) + GAP`` and ``W = n * (tile_w +
        GAP) + GAP`` for ``n`` (at most :data:`MAX_SHOWN`) shown inputs; images are ``tile_h x
        tile_w`` pictures, tabular inputs vertical strips of one cell per feature.
    """
    rows, valid = env.shown
    keep = np.flatnonzero(valid)[:MAX_SHOWN]
    clean = env.X[rows[keep]].reshape(len(keep), -1)
    bands = [env.shown_input_BD[keep], env.reconstructed_BD, clean]
    if bands[1] is not None:
        bands[1] = bands[1][keep]
    shape = env.image_shape or (clean.shape[1], 1)
    zoom = max(1, TILE // max(shape))
    cell = (zoom, zoom) if env.image_shape else (zoom, STRIP_WIDTH)
    tile_h, tile_w = shape[0] * cell[0], shape[1] * cell[1]
    height = 3 * (tile_h + GAP) + GAP
    width = max(len(keep), 1) * (tile_w + GAP) + GAP
    frame_HW = np.full((height, width), BACKGROUND, np.uint8)
    for band, values in enumerate(bands):
        top = GAP + band * (tile_h + GAP)
        for i in range(len(keep)):
            left = GAP + i * (tile_w + GAP)
            if values is None:
                tile = np.full((tile_h, tile_w), BLANK, np.uint8)
            else:
                ink = np.clip(values[i], 0.0, 1.0).reshape(shape)
                tile = np.kron(255 * (1.0 - ink), np.ones(cell)).astype(np.uint8)
            frame_HW[top : top + tile_h, left : left + tile_w] = tile
    return np.repeat(frame_HW[:, :, None], 3, axis=2)
