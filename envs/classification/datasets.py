"""Data for the classification env: bundled, generated and user sets, checked, split and scaled.

Every loader returns a :class:`Dataset` of features ``X`` (one row per sample; images keep their
2-D shape) and labels ``y`` in ``0 .. n_classes - 1``. Bad data raises ValueError saying what is
wrong, so that ``gym.make`` (and the CLI, which exits 2) reports it clearly.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arena.arrays import weigh_npz
from envs.classification.idx import IdxError, MissingDataError, read_idx

BUNDLED = ("digits", "iris", "wine", "breast_cancer")
GENERATED = ("blobs", "moons", "xor")
IDX_SETS = {
    "fashion-mnist": (
        "/usr/share/datasets/fashion-mnist",
        "dataset-fashion-mnist",
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
    "mnist": (None, None, tuple(str(d) for d in range(10))),
}
"""The 28x28 sets read from the four standard IDX files: their default folder (where a Debian
package installs them, or None), that package, and their class names."""
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
IDX_TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FILE_SUFFIXES = (".npz", ".csv")
DEFAULT_NOISE = {"blobs": 1.0, "moons": 0.15, "xor": 0.25}
SCALES = ("standard", "minmax", "none")
BYTE_CHUNK = 2**22
"""Pixels per chunk when counting a byte image set's histogram."""


@dataclass(frozen=True)
class Dataset:
    """Features and labels, checked.

    Attributes:
        name: The bundled or generated set's name, or the file's path.
        X: Features, ``(n, *feature_shape)`` float64; images are ``(n, height, width)``.
        y: Labels, ``(n,)`` int64 in ``0 .. len(class_names) - 1``.
        class_names: The original label of each class, as text.
        is_image: Whether the rows are 2-D images.
        test_start: Where the set's own test split starts, for sets that come split (the
            rows before it are the train split); None for sets the env splits itself.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    is_image: bool
    test_start: int | None = None


def load_dataset(
    dataset: str,
    *,
    n_samples: int,
    noise: float | None,
    seed: int,
    label_column: str,
    path: str | None = None,
) -> Dataset:
    """Loads a bundled set, generates one, reads an IDX set or a user's ``.npz`` or ``.csv``.

    Args:
        dataset: A name from :data:`BUNDLED`, :data:`GENERATED` or :data:`IDX_SETS`, or a
            file path.
        n_samples: How many samples a generated set has.
        noise: The generated set's noise (Gaussian std); None takes :data:`DEFAULT_NOISE`.
        seed: Seeds the generated sets.
        label_column: The CSV header naming the label column.
        path: The folder of an IDX set's four files; None takes its default folder.

    Raises:
        ValueError: An unknown name, a missing file, or data that fails :func:`check_data`.
        IdxError: An IDX set's files are missing (the message says how to get them) or
            corrupt.
    """
    if path is not None and dataset not in IDX_SETS:
        raise ValueError(f"path= is the folder of {' or '.join(IDX_SETS)}, not of {dataset!r}")
    if dataset in BUNDLED:
        return _bundled(dataset)
    if dataset in IDX_SETS:
        return load_idx_set(dataset, path)
    if dataset in GENERATED:
        if not isinstance(n_samples, int) or n_samples < 8:
            raise ValueError(f"n_samples must be an integer >= 8, got {n_samples!r}")
        noise = DEFAULT_NOISE[dataset] if noise is None else noise
        if not noise >= 0:
            raise ValueError(f"noise must be >= 0, got {noise!r}")
        X, y = _generate(dataset, n_samples, float(noise), np.random.default_rng(seed))
        return check_data(X, y, dataset)
    if str(dataset).lower().endswith(FILE_SUFFIXES):
        return _read_file(Path(dataset), label_column)
    names = ", ".join(BUNDLED + GENERATED + tuple(IDX_SETS))
    raise ValueError(
        f"Unknown dataset {dataset!r}: use one of {names}, or a path to a .npz file "
        "(arrays X and y) or a .csv file (with a label column)."
    )


def load_idx_set(name: str, path: str | None) -> Dataset:
    """Reads a set of :data:`IDX_SETS` from its four files in ``path``, each gzipped
    (``.gz``) or not: the train split's rows first, then the test split's. The images stay
    uint8, so that the 70,000 of them take 55 MB.

    Raises:
        MissingDataError: A file is missing; the message says how to get the four.
        IdxError: A file is corrupt, or the files disagree with each other.
    """
    default, _, class_names = IDX_SETS[name]
    folder = Path(path if path is not None else default or "")
    if path is None and default is None:
        raise MissingDataError(
            _how_to_get(name, "it has no default folder, and no path= was given")
        )
    parts = []
    for images_name, labels_name in (IDX_FILES, IDX_TEST_FILES):
        images = read_idx(_idx_file(name, folder, images_name), ndim=3)
        labels = read_idx(_idx_file(name, folder, labels_name), ndim=1)
        if len(images) != len(labels) or images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise IdxError(
                f"{folder / images_name} and its labels disagree: {images.shape} {images.dtype} "
                f"images, {labels.shape} {labels.dtype} labels (uint8, one label per image)"
            )
        if labels.size and labels.max() >= len(class_names):
            raise IdxError(
                f"{folder / labels_name} has the label {labels.max()}; {name} has "
                f"{len(class_names)} classes"
            )
        parts.append((images, labels))
    (train_X, train_y), (test_X, test_y) = parts
    if train_X.shape[1:] != test_X.shape[1:] or not len(train_X) or not len(test_X):
        raise IdxError(
            f"{folder}: the train images {train_X.shape} and test images {test_X.shape} must be "
            "non-empty and of one size"
        )
    X = np.concatenate([train_X, test_X])
    y = np.concatenate([train_y, test_y]).astype(np.int64)
    return Dataset(name, X, y, class_names, True, test_start=len(train_X))


def _idx_file(name: str, folder: Path, stem: str) -> Path:
    """The file ``stem.gz`` or ``stem`` in ``folder``.

    Raises:
        IdxError: Neither is there; the message says how to get the set.
    """
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise MissingDataError(_how_to_get(name, f"{folder / stem}[.gz] is missing"))


def _how_to_get(name: str, problem: str) -> str:
    default, package, _ = IDX_SETS[name]
    files = ", ".join(f"{stem}.gz" for stem in IDX_FILES + IDX_TEST_FILES)
    ways = (
        f"put its four files ({files}; gzipped or not) in a folder and give it with "
        "--env-kwargs path=DIR"
    )
    if package is not None:
        ways = (
            f"install Debian's package (sudo apt-get install {package}, which puts them in "
            f"{default}), or {ways}"
        )
    return f"{name}: {problem}. Nothing is downloaded at run time: {ways}."


def check_data(X: np.ndarray, y: np.ndarray, name: str) -> Dataset:
    """Checks shapes, values and classes, and maps the labels to ``0 .. n_classes - 1``.

    Raises:
        ValueError: X is not 2-D or 3-D, X and y disagree in length, X is not numeric or has
            NaN or infinite values, or there are fewer than two classes.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{name}: X must have shape (samples, features) or (samples, height, width), "
            f"got shape {X.shape}"
        )
    if y.ndim != 1:
        raise ValueError(f"{name}: y must have shape (samples,), got shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{name}: X has {len(X)} rows but y has {len(y)} labels")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise ValueError(f"{name}: X must hold real numbers, got dtype {X.dtype}")
    if X.size == 0 or X[0].size == 0:
        raise ValueError(f"{name}: X has no samples or no features, shape {X.shape}")
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(X), -1).any(axis=1))
        raise ValueError(
            f"{name}: X has {int(bad.sum())} NaN or infinite values, in {len(rows)} rows "
            f"(the first is row {rows[0]}); remove or impute them first"
        )
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"{name}: y has NaN or infinite labels")
    classes, y_int = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        found = f"only the class {classes[0]!r}" if len(classes) else "no samples"
        raise ValueError(f"{name}: classification needs at least 2 classes, found {found}")
    names = tuple(str(c) for c in classes)
    return Dataset(name, X, y_int.astype(np.int64), names, X.ndim == 3)


def stratified_split(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, seeded, stratified split: returns the sorted train and test row indices.

    Each class puts ``round(test_size * count)`` of its rows in the test split (at least one,
    and at least one left for training).

    Raises:
        ValueError: A class has fewer than two samples.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in range(int(y.max()) + 1):
        rows = rng.permutation(np.flatnonzero(y == label))
        if len(rows) < 2:
            raise ValueError(
                f"class {label} has {len(rows)} sample(s); a train/test split needs at least 2"
            )
        n_test = min(max(round(test_size * len(rows)), 1), len(rows) - 1)
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def scaler(X_train: np.ndarray, scale: str, per_feature: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, factor)`` from the train split: features become ``(X - offset) * factor``.

    Tabular data is scaled per feature (constant features map to 0). Images are scaled by one
    offset and factor for all pixels, so that a pixel means the same wherever it is.
    """
    if scale == "none":
        return np.zeros(X_train.shape[1:]), np.ones(X_train.shape[1:])
    if X_train.dtype == np.uint8 and not per_feature:
        return _byte_scaler(X_train, scale)
    axis = 0 if per_feature else None
    if scale == "standard":
        offset, spread = X_train.mean(axis=axis), X_train.std(axis=axis)
    else:
        offset = X_train.min(axis=axis)
        spread = X_train.max(axis=axis) - offset
    spread = np.asarray(spread, np.float64)
    return offset, np.divide(1.0, spread, out=np.ones_like(spread), where=spread > 0)


def _byte_scaler(X_train: np.ndarray, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`scaler` for byte images, from a histogram of their pixels: exact, and without a
    float copy of the set (NumPy's ``std`` makes one)."""
    counts = np.zeros(256, np.int64)
    flat = X_train.reshape(-1)
    for start in range(0, flat.size, BYTE_CHUNK):
        counts += np.bincount(flat[start : start + BYTE_CHUNK], minlength=256)
    values = np.arange(256.0)
    if scale == "standard":
        offset = counts @ values / counts.sum()
        spread = np.sqrt(counts @ (values - offset) ** 2 / counts.sum())
    else:
        present = np.flatnonzero(counts)
        offset, spread = values[present[0]], values[present[-1]] - values[present[0]]
    spread = np.asarray(spread, np.float64)
    factor = np.divide(1.0, spread, out=np.ones_like(spread), where=spread > 0)
    return np.asarray(offset, np.float64), factor


def _bundled(name: str) -> Dataset:
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    bunch = loader()
    X = bunch.images if name == "digits" else bunch.data
    data = check_data(X, bunch.target, name)
    names = tuple(str(n) for n in bunch.target_names)
    return Dataset(name, data.X, data.y, names, data.is_image)


def _generate(
    name: str, n: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if name == "blobs":
        angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3
        centers = 6.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        y = np.arange(n) % 3
        return centers[y] + noise * rng.standard_normal((n, 2)), y
    if name == "moons":
        y = np.arange(n) % 2
        t = rng.uniform(0.0, np.pi, n)
        upper = np.stack([np.cos(t), np.sin(t)], axis=1)
        lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
        X = np.where(y[:, None] == 0, upper, lower)
        return X + noise * rng.standard_normal((n, 2)), y
    corners = rng.integers(0, 2, (n, 2))
    X = (2.0 * corners - 1.0) + noise * rng.standard_normal((n, 2))
    return X, corners[:, 0] ^ corners[:, 1]


def _read_file(path: Path, label_column: str) -> Dataset:
    if not path.is_file():
        raise ValueError(f"dataset file {str(path)!r} does not exist")
    if path.suffix.lower() == ".npz":
        try:
            weigh_npz(path, f"dataset {str(path)!r}")
            with np.load(path, allow_pickle=False) as data:
                missing = [k for k in ("X", "y") if k not in data.files]
                if missing:
                    raise ValueError(
                        f"{path}: a .npz dataset needs arrays X and y; it lacks "
                        f"{' and '.join(missing)} (it has {', '.join(data.files) or 'nothing'})"
                    )
                return check_data(data["X"], data["y"], str(path))
        except (OSError, EOFError) as e:
            raise ValueError(f"{path} is not a readable .npz file: {e}") from None
    return _read_csv(path, label_column)


def shown_header(names: list[str], limit: int = 20) -> str:
    """A CSV header's names for a message: the first ``limit`` of them and how many there are."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} columns)"


def _read_csv(path: Path, label_column: str) -> Dataset:
    with path.open(newline="") as f:
        rows = [row for row in csv.reader(f) if row]
    if len(rows) < 2:
        raise ValueError(f"{path}: a .csv dataset needs a header row and data rows")
    header = [h.strip() for h in rows[0]]
    if label_column not in header:
        raise ValueError(
            f"{path}: no label column {label_column!r} in the header ({shown_header(header)}); "
            "name it with label_column="
        )
    col = header.index(label_column)
    labels, features = [], []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}: line {number} has {len(row)} fields, the header has {len(header)}"
            )
        labels.append(row[col].strip())
        try:
            features.append(
                [float(v) if v.strip() else np.nan for i, v in enumerate(row) if i != col]
            )
        except ValueError as e:
            raise ValueError(f"{path}: line {number} has a non-numeric feature ({e})") from None
    y = np.array(labels)
    if all(label.lstrip("+-").isdigit() for label in labels):
        y = y.astype(np.int64)  # numeric labels sort as numbers, not as text
    return check_data(np.array(features, dtype=np.float64), y, str(path))
