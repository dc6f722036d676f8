"""Small IDX files for tests, and making the IDX-backed ids where their data is present."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from envs.classification.idx import MissingDataError

CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i4"): 0x0C}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array`` (uint8, int8 or int32)."""
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    header = bytes([0, 0, CODES[dtype], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(dtype).tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Writes ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``."""
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def write_idx_set(
    folder: Path, n_train: int = 60, n_test: int = 20, size: int = 10, gz: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Writes the four files of a tiny 10-class image set of ``size >= 10`` pixels a side,
    whose class is its bright row, so that it is learnable; returns the train and test
    labels."""
    rng = np.random.default_rng(0)
    labels = []
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        y = (np.arange(n) % 10).astype(np.uint8)
        X = rng.integers(0, 60, (n, size, size), dtype=np.uint8)
        X[np.arange(n), y] = 250
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", X)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y)
        labels.append(y)
    return labels[0], labels[1]


def make_or_skip(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make``, or a skip that says how to get the data when its files are absent."""
    try:
        return gym.make(env_id, **kwargs)
    except MissingDataError as e:
        pytest.skip(f"{env_id}'s data is not installed: {e}")
