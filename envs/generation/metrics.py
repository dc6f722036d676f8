"""The targets of ``arena/Generation-v0`` and the referee's scores of generated samples.

A target is either a :class:`Mixture` of isotropic Gaussians (ring8, grid25, or a user's
``.npz`` of centres and a std) or a :class:`DataSet` (scikit-learn's 8x8 digits, the 28x28
Fashion-MNIST or MNIST training split, or a user's ``.npz`` of data and labels) judged by a
classifier fitted on the real data.

Both score a sample the same way, so one tally serves both: each sample gets a *quality* (the
reward's share) and a *hit*, the index of the mode or class it counts for, or -1 when it is not
a high-quality sample.

- Mixture: a sample is high quality when it lies within ``HQ_STDS`` (3) standard deviations of
  its nearest centre; its quality is 1 then, else 0, and it hits that nearest centre.
- Data set: the referee is a multinomial logistic regression fitted once per process on the
  whole real set (on the 28x28 sets, on a fixed subset of it: :func:`idx_target`). A sample's
  quality is the referee's confidence (its largest class probability); it is high quality when
  that reaches ``CONFIDENT`` (0.9), and then hits the predicted class.
"""

from __future__ import annotations

import functools
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arena.limits import check_memory

EVAL_SAMPLES = 2500
"""Generated samples per evaluation, the published protocol (VEEGAN, PacGAN)."""
HQ_STDS = 3.0
"""A mixture sample within this many standard deviations of its nearest mode is high quality."""
CONFIDENT = 0.9
"""A data-set sample whose referee confidence reaches this is high quality."""
PRESETS = ("ring8", "grid25", "digits")
IDX_TARGETS = ("fashion-mnist", "mnist")
"""The 28x28 sets read from their IDX files (:mod:`envs.classification.datasets`)."""
REFEREE_ROWS = 10_000
"""The training images a 28x28 set's referee is fitted on (all 60,000 take 7 times as long)."""
REFEREE_C = 0.1
"""The inverse regularisation of a 28x28 set's referee (digits' takes scikit-learn's 1)."""
REFEREE_SEED = 0
"""Seeds the choice of the :data:`REFEREE_ROWS` a 28x28 set's referee is fitted on."""


@dataclass(frozen=True, eq=False)
class Mixture:
    """A mixture of equally weighted isotropic Gaussians.

    Attributes:
        name: The preset name or the file it came from.
        centres: The modes' means, shape (K, D), in data coordinates.
        std: The standard deviation of every mode.
        scale: Data coordinates divided by ``scale`` lie in [-1, 1]: the env's spaces use those.
    """

    name: str
    centres: np.ndarray
    std: float
    scale: float

    @property
    def dim(self) -> int:
        """The dimension of one sample."""
        return self.centres.shape[1]

    @property
    def num_modes(self) -> int:
        """The number of modes (K)."""
        return self.centres.shape[0]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draws ``n`` real samples in data coordinates, shape (n, D)."""
        modes = rng.integers(self.num_modes, size=n)
        return self.centres[modes] + self.std * rng.standard_normal((n, self.dim))

    def score(self, samples_ND: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Returns each sample's quality (1.0 if high quality) and hit (nearest mode or -1)."""
        hits = mixture_hits(samples_ND, self.centres, self.std)
        return (hits >= 0).astype(np.float64), hits


@dataclass(frozen=True, eq=False)
class DataSet:
    """A set of real samples in [-1, 1] with class labels, and the referee fitted on them.

    Attributes:
        name: The preset name or the file it came from.
        data: The real samples, shape (N, D), in [-1, 1].
        labels: Their classes, shape (N,), integers 0..C-1.
        weights: The referee's logistic-regression weights, shape (C, D).
        bias: The referee's intercepts, shape (C,).
        scale: Always 1: the data already lie in [-1, 1].
    """

    name: str
    data: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    scale: float = 1.0

    @property
    def dim(self) -> int:
        """The dimension of one (flattened) sample."""
        return self.data.shape[1]

    @property
    def num_modes(self) -> int:
        """The number of classes (C)."""
        return self.weights.shape[0]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draws ``n`` real samples uniformly with replacement, shape (n, D)."""
        return self.data[rng.integers(len(self.data), size=n)]

    def probabilities(self, samples_ND: np.ndarray) -> np.ndarray:
        """The referee's class probabilities, shape (N, C)."""
        logits = samples_ND.astype(np.float64) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def score(self, samples_ND: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Returns each sample's quality (the referee's confidence) and hit (class or -1)."""
        probs = np.nan_to_num(self.probabilities(samples_ND), nan=0.0)
        return probs.max(axis=1), referee_hits(probs)


Target = Mixture | DataSet


def nearest_modes(samples_ND: np.ndarray, centres_KD: np.ndarray) -> np.ndarray:
    """The index of each sample's nearest centre, shape (N,)."""
    d2_NK = ((samples_ND[:, None, :] - centres_KD[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(np.nan_to_num(d2_NK, nan=np.inf), axis=1)


def mixture_hits(samples_ND: np.ndarray, centres_KD: np.ndarray, std: float) -> np.ndarray:
    """The nearest centre of each high-quality sample, -1 for the others; shape (N,)."""
    nearest = nearest_modes(samples_ND, centres_KD)
    d2_N = ((samples_ND - centres_KD[nearest]) ** 2).sum(axis=1)
    return np.where(d2_N <= (HQ_STDS * std) ** 2, nearest, -1)


def referee_hits(probs_NC: np.ndarray) -> np.ndarray:
    """The predicted class of each confidently classified sample, -1 for the others."""
    return np.where(probs_NC.max(axis=1) >= CONFIDENT, probs_NC.argmax(axis=1), -1)


class Tally:
    """Accumulates a target's scores over an episode's generated samples.

    Args:
        target: What the samples are scored against.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self.hits_K = np.zeros(target.num_modes, np.int64)
        self.quality = 0.0
        self.high_quality = 0
        self.count = 0

    def add(self, samples_ND: np.ndarray) -> float:
        """Scores a batch in data coordinates; returns its mean quality (the step's reward)."""
        quality_N, hits_N = self.target.score(samples_ND)
        hq = hits_N >= 0
        self.hits_K += np.bincount(hits_N[hq], minlength=self.target.num_modes)
        self.quality += float(quality_N.sum())
        self.high_quality += int(hq.sum())
        self.count += len(samples_ND)
        return float(quality_N.mean()) if len(samples_ND) else 0.0

    def metrics(self) -> dict[str, float]:
        """The protocol's scores of the samples added so far."""
        n = max(self.count, 1)
        covered = float((self.hits_K > 0).sum())
        hq_fraction = self.high_quality / n
        if isinstance(self.target, Mixture):
            return {"modes_captured": covered, "hq_fraction": hq_fraction}
        return {
            "classes_covered": covered,
            "confidence": self.quality / n,
            "hq_fraction": hq_fraction,
        }


def score_samples(target: Target, samples_ND: np.ndarray) -> dict[str, float]:
    """The protocol's scores of a whole sample set (data coordinates), as the env reports them."""
    tally = Tally(target)
    tally.add(np.asarray(samples_ND, np.float64).reshape(len(samples_ND), -1))
    return tally.metrics()


def reconstruction_scores(
    target: Target, real_ND: np.ndarray, recon_ND: np.ndarray, labels_N: np.ndarray | None = None
) -> dict[str, float]:
    """How well an encoder-decoder pair rebuilds real samples (both in data coordinates).

    Args:
        target: What the samples come from.
        real_ND: Real samples.
        recon_ND: Their reconstructions, G(E(x)) for an encoder E and generator G.
        labels_N: The real samples' classes, for a data set; a mixture's are its nearest modes.

    Returns:
        ``recon_mse``, the squared error averaged over samples and coordinates, and
        ``same_mode``, the share of reconstructions whose nearest mode (a data set: the
        referee's most likely class) is the real sample's own; a data set without
        ``labels_N`` gives only ``recon_mse``.
    """
    real_ND = np.asarray(real_ND, np.float64).reshape(len(real_ND), -1)
    recon_ND = np.asarray(recon_ND, np.float64).reshape(real_ND.shape)
    scores = {"recon_mse": float(np.mean((real_ND - recon_ND) ** 2))}
    if isinstance(target, Mixture):
        scores["same_mode"] = float(
            np.mean(
                nearest_modes(recon_ND, target.centres) == nearest_modes(real_ND, target.centres)
            )
        )
    elif labels_N is not None:
        predicted = np.argmax(target.probabilities(recon_ND), axis=1)
        scores["same_mode"] = float(np.mean(predicted == np.asarray(labels_N)))
    return scores


def ring8() -> Mixture:
    """8 Gaussians on the unit circle, std 0.01."""
    angles = 2 * np.pi * np.arange(8) / 8
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Mixture("ring8", centres, 0.01, 1.25)


def grid25() -> Mixture:
    """25 Gaussians on {-4, -2, 0, 2, 4}^2, std 0.05."""
    axis = np.arange(-4.0, 5.0, 2.0)
    centres = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    return Mixture("grid25", centres, 0.05, 5.0)


@functools.cache
def digits() -> DataSet:
    """scikit-learn's 1,797 8x8 digits, scaled from 0..16 to [-1, 1], with a fitted referee."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    data = (bunch.data / 8.0 - 1.0).astype(np.float32)
    return _with_referee("digits", data, bunch.target)


def idx_target(name: str, path: str | Path | None = None) -> DataSet:
    """The training split of Fashion-MNIST or MNIST (60,000 images as 784-vectors, scaled from
    0..255 to [-1, 1], float32: 188 MB, held once per process and folder), with a fitted
    referee.

    The referee is fitted on :data:`REFEREE_ROWS` (10,000) images chosen by
    :data:`REFEREE_SEED`, with ``C`` = :data:`REFEREE_C` (0.1): about 5 CPU seconds. On
    Fashion-MNIST's test split it is right on 83.3% of the images. (Measured on one core: all
    60,000 images take 34 CPU seconds to score 84.5%; at ``C`` = 1, 10,000 images score 81.0%
    in the same 5 seconds.)

    Args:
        name: One of :data:`IDX_TARGETS`.
        path: The folder of the set's IDX files; None takes its default folder.

    Raises:
        MissingDataError: The files are missing; the message says how to get them.
        IdxError: A file is corrupt.
        ResourceLimitError: The float32 images would not fit in the memory limit.
    """
    return _idx_target(name, None if path is None else str(Path(path).resolve()))


@functools.cache
def _idx_target(name: str, path: str | None) -> DataSet:
    """:func:`idx_target`, cached on the set's name and absolute folder."""
    from envs.classification.datasets import load_idx_set

    images = load_idx_set(name, path)
    train = images.X[: images.test_start]
    check_memory(f"{name}'s training images as float32", train.size * 4)
    pixels = (np.arange(256) / 127.5 - 1.0).astype(np.float32)
    data = pixels[train.reshape(len(train), -1)]  # a lookup: no float64 copy on the way
    labels = images.y[: images.test_start]
    rows = np.random.default_rng(REFEREE_SEED).permutation(len(data))[:REFEREE_ROWS]
    return _with_referee(name, data, labels, rows, REFEREE_C)


def make_target(target: str, path: str | None = None) -> Target:
    """Resolves a preset name or the path of a ``.npz`` file.

    Args:
        target: A name from :data:`PRESETS` or :data:`IDX_TARGETS`, or an ``.npz`` path.
        path: The folder of an :data:`IDX_TARGETS` set's files; None takes its default folder.

    Raises:
        ValueError: An unknown name, a ``path`` for another target, or a file that is missing
            or malformed.
        MissingDataError: An IDX set's files are missing; the message says how to get them.
    """
    if not isinstance(target, str):
        raise ValueError(f"target must be a preset name or an .npz path, got {target!r}")
    if path is not None and target not in IDX_TARGETS:
        raise ValueError(
            f"path= is the folder of an IDX set's files ({', '.join(IDX_TARGETS)}); target "
            f"{target!r} takes none"
        )
    if target in IDX_TARGETS:
        return idx_target(target, path)
    if target == "ring8":
        return ring8()
    if target == "grid25":
        return grid25()
    if target == "digits":
        return digits()
    if target.endswith(".npz"):
        return load_npz(target)
    raise ValueError(
        f"Unknown target {target!r}: use one of {', '.join(PRESETS + IDX_TARGETS)}, or the "
        "path of an .npz file holding either 'centres' and 'std' (a Gaussian mixture) or "
        "'data' in [-1, 1] and 'labels' (a data set)."
    )


def load_npz(path: str | Path) -> Target:
    """Reads a user target: ``centres`` (K, D) and ``std``, or ``data`` (N, ...) and ``labels``.

    Raises:
        ValueError: The file is missing, not an ``.npz``, or its arrays are malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Target file {str(path)!r} does not exist.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"Target file {str(path)!r} is not a readable .npz file ({e}).") from None
    name = str(path)
    if "centres" in arrays or "centers" in arrays:
        centres = np.asarray(arrays.get("centres", arrays.get("centers")), np.float64)
        std = np.asarray(arrays.get("std", np.nan), np.float64)
        if centres.ndim != 2 or len(centres) < 1 or not np.isfinite(centres).all():
            raise ValueError(
                f"{name}: 'centres' must be a finite (K, D) array, got {centres.shape}."
            )
        if std.size != 1 or not np.isfinite(std) or std.item() <= 0:
            raise ValueError(f"{name}: a mixture needs 'std', one positive number.")
        std = float(std.item())
        scale = float(np.abs(centres).max() + 6 * std) * 1.25
        return Mixture(name, centres, std, scale)
    if "data" in arrays:
        data = np.asarray(arrays["data"])
        labels = np.asarray(arrays.get("labels", np.empty(0)))
        if data.ndim < 2 or len(data) < 2 or not np.issubdtype(data.dtype, np.number):
            raise ValueError(f"{name}: 'data' must be a numeric (N, ...) array, got {data.shape}.")
        data = data.reshape(len(data), -1).astype(np.float32)
        if not np.isfinite(data).all() or np.abs(data).max() > 1.0:
            raise ValueError(f"{name}: 'data' must be finite and scaled to [-1, 1].")
        if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"{name}: a data set needs 'labels', one integer class per row of 'data' "
                "(the referee is trained on them)."
            )
        if labels.min() < 0 or len(np.unique(labels)) < 2:
            raise ValueError(f"{name}: 'labels' must hold at least 2 classes, numbered from 0.")
        return _with_referee(name, data, labels)
    raise ValueError(
        f"{name} holds {sorted(arrays) or 'no arrays'}; a target needs 'centres' and 'std' "
        "(a Gaussian mixture) or 'data' and 'labels' (a data set)."
    )


def _with_referee(
    name: str,
    data: np.ndarray,
    labels: np.ndarray,
    rows: np.ndarray | slice = slice(None),
    c: float = 1.0,
) -> DataSet:
    """Fits the referee, a multinomial logistic regression, on the real set.

    Args:
        name: The target's name.
        data: The real samples, (N, D) in [-1, 1].
        labels: Their classes.
        rows: The samples the referee is fitted on; all by default.
        c: The logistic regression's inverse regularisation strength.
    """
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000).fit(data[rows], labels[rows])
    num_classes = int(labels.max()) + 1
    weights = np.zeros((num_classes, data.shape[1]))
    bias = np.full(num_classes, -np.inf)
    if len(model.classes_) == 2:  # scikit-learn keeps one row for two classes: p1 = sigmoid.
        weights[model.classes_[0]], bias[model.classes_[0]] = 0.0, 0.0
        weights[model.classes_[1]], bias[model.classes_[1]] = model.coef_[0], model.intercept_[0]
    else:
        weights[model.classes_] = model.coef_
        bias[model.classes_] = model.intercept_
    return DataSet(name, data, labels.astype(np.int64), weights, bias)
