"""The corruptions the reconstruction env can apply to its inputs, all in [0, 1]."""

from __future__ import annotations

from numbers import Real

import numpy as np

NOISES = ("none", "mask", "gaussian", "salt-pepper")


def check_noise(noise: str, p: float, sigma: float) -> None:
    """Checks the corruption's arguments.

    Raises:
        ValueError: An unknown kind, ``p`` outside (0, 1], or ``sigma`` not a positive number.
    """
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
    if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 < p <= 1.0:
        raise ValueError(f"p (the corrupted fraction) must be in (0, 1], got {p!r}")
    if isinstance(sigma, bool) or not isinstance(sigma, Real) or not 0.0 < sigma < np.inf:
        raise ValueError(
            f"sigma (the Gaussian noise's std) must be a positive number, got {sigma!r}"
        )


def corrupt(
    clean_BD: np.ndarray, noise: str, p: float, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Returns a corrupted copy of a batch of flat inputs in [0, 1].

    - ``mask``: ``round(p * D)`` entries of each input, chosen at random, set to 0 (the masking
      noise of Vincent et al., 2008).
    - ``gaussian``: adds normal noise of std ``sigma`` to every entry, then clips to [0, 1].
    - ``salt-pepper``: ``round(p * D)`` entries of each input set to 0 or 1, each with
      probability 1/2.

    Args:
        clean_BD: The inputs, ``(B, D)`` float32.
        noise: One of :data:`NOISES`.
        p: The fraction of entries that ``mask`` and ``salt-pepper`` corrupt.
        sigma: The std of ``gaussian`` noise.
        rng: The source of every random draw.
    """
    corrupted = clean_BD.copy()
    if noise == "gaussian":
        noisy = clean_BD + sigma * rng.standard_normal(clean_BD.shape)
        return np.clip(noisy, 0.0, 1.0).astype(np.float32)
    if noise in ("mask", "salt-pepper"):
        chosen = _chosen_entries(clean_BD.shape, p, rng)
        if noise == "mask":
            corrupted[chosen] = 0.0
        else:
            corrupted[chosen] = (rng.random(int(chosen.sum())) < 0.5).astype(np.float32)
    return corrupted


def _chosen_entries(shape: tuple[int, int], p: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean ``(B, D)`` array with ``round(p * D)`` True entries per row, placed at random."""
    count = round(p * shape[1])
    chosen = np.zeros(shape, bool)
    if count:
        ranks = rng.random(shape).argsort(axis=1)
        np.put_along_axis(chosen, ranks[:, :count], True, axis=1)
    return chosen
