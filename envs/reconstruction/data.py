"""Data for the reconstruction env: bundled or user sets, split and scaled to [0, 1].

Labels are optional here. A set with labels is split as the classification env splits it (the
same ``data_seed`` and ``test_size`` give the same test rows); a user file without labels is
split by a seeded shuffle.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arena.arrays import weigh_npz
from arena.limits import check_memory
from envs.classification.datasets import (
    BUNDLED,
    FILE_SUFFIXES,
    IDX_SETS,
    load_dataset,
    load_idx_set,
    scaler,
    shown_header,
    stratified_split,
)

DEFAULT_LABEL_COLUMN = "label"
"""A .csv's label column when none is named; a file without it is read as unlabelled."""


@dataclass(frozen=True)
class Split:
    """One split of a set, scaled to [0, 1] with statistics of the train split.

    Attributes:
        name: The bundled set's name, or the file's path.
        X: The split's scaled features, ``(n, *feature_shape)`` float32 in [0, 1].
        image_shape: The 2-D shape of each sample for image data, else None.
    """

    name: str
    X: np.ndarray
    image_shape: tuple[int, int] | None


def load_split(
    dataset: str,
    split: str,
    test_size: float,
    data_seed: int,
    label_column: str,
    path: str | None = None,
) -> Split:
    """Loads a bundled set or a user's ``.npz`` or ``.csv`` file, and returns one split of it.

    Features are min-max scaled with the train split's statistics (per feature for tabular
    data, one offset and factor over all pixels for images, so digits become ``pixel / 16``)
    and clipped to [0, 1], since test values may fall outside the train range.

    Args:
        dataset: A name from :data:`~envs.classification.datasets.BUNDLED` or
            :data:`~envs.classification.datasets.IDX_SETS` (which keep their own split and
            ignore ``test_size`` and ``data_seed``), or a file path.
        split: "train" or "test".
        test_size: The test split's share of the rows (of each class, when there are labels).
        data_seed: Seeds the split.
        label_column: The CSV header naming the label column, if the file has one.
        path: The folder of an IDX set's four files; None takes its default folder.

    Raises:
        ValueError: An unknown name, a missing or unreadable file, or bad data.
        MissingDataError: An IDX set's files are missing; the message says how to get them.
    """
    if path is not None and dataset not in IDX_SETS:
        raise ValueError(f"path= is the folder of {' or '.join(IDX_SETS)}, not of {dataset!r}")
    if dataset in IDX_SETS:
        return _idx_split(dataset, split, path)
    if dataset not in BUNDLED and not str(dataset).lower().endswith(FILE_SUFFIXES):
        names = ", ".join((*BUNDLED, *IDX_SETS))
        raise ValueError(
            f"Unknown dataset {dataset!r}: use one of {names}, or a path to a .npz "
            "file (array X, and y optional) or a .csv file with a header (a label column is "
            "optional)."
        )
    X, y = _features_and_labels(dataset, label_column)
    if y is None:
        train_rows, test_rows = _shuffled_split(len(X), test_size, data_seed)
    else:
        train_rows, test_rows = stratified_split(y, test_size, data_seed)
    is_image = X.ndim == 3
    offset, factor = scaler(X[train_rows], "minmax", per_feature=not is_image)
    rows = train_rows if split == "train" else test_rows
    scaled = np.clip((X[rows] - offset) * factor, 0.0, 1.0).astype(np.float32)
    return Split(str(dataset), scaled, X.shape[1:] if is_image else None)


def _idx_split(dataset: str, split: str, path: str | None) -> Split:
    """One split of an IDX set, min-max scaled from its uint8 pixels (weighed first: 60,000
    float32 images take 188 MB)."""
    data = load_idx_set(dataset, path)
    rows = slice(0, data.test_start) if split == "train" else slice(data.test_start, None)
    raw = data.X[rows]
    check_memory(f"{dataset}'s {split} split as float32", raw.size * 4)
    offset, factor = scaler(data.X[: data.test_start], "minmax", per_feature=False)
    scaled = np.clip((raw - offset) * factor, 0.0, 1.0).astype(np.float32)
    return Split(dataset, scaled, raw.shape[1:])


def _features_and_labels(dataset: str, label_column: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The set's float64 features, and its labels when it has them."""
    path = Path(dataset)
    if dataset in BUNDLED or _has_labels(path, label_column):
        data = load_dataset(dataset, n_samples=0, noise=None, seed=0, label_column=label_column)
        return data.X, data.y
    if path.suffix.lower() == ".npz":
        weigh_npz(path, f"dataset {str(path)!r}")
        with np.load(path, allow_pickle=False) as arrays:
            if "X" not in arrays.files:
                raise ValueError(
                    f"{path}: a .npz dataset needs an array X; it has "
                    f"{', '.join(arrays.files) or 'nothing'}"
                )
            return check_features(arrays["X"], str(path)), None
    try:
        X = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
    except ValueError as e:
        raise ValueError(
            f"{path}: the .csv file has a non-numeric or missing value ({e})"
        ) from None
    return check_features(X, str(path)), None


def _has_labels(path: Path, label_column: str) -> bool:
    """Whether a user file holds labels: a .npz with an array y, a .csv with the label column.

    Raises:
        ValueError: The file does not exist or cannot be read, or a .csv lacks a label column
            named otherwise than the default.
    """
    if not path.is_file():
        raise ValueError(f"dataset file {str(path)!r} does not exist")
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                return "y" in arrays.files
        with path.open(newline="") as f:
            names = [name.strip() for name in next(csv.reader(f), [])]  # as _read_csv reads it
    except (OSError, EOFError, ValueError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{path} is not a readable {path.suffix} file: {e}") from None
    if label_column not in names and label_column != DEFAULT_LABEL_COLUMN:
        raise ValueError(
            f"{path}: no label column {label_column!r} in the header ({shown_header(names)}); "
            f"name one of its columns, or leave label_column out for a file without labels"
        )
    return label_column in names


def check_features(X: np.ndarray, name: str) -> np.ndarray:
    """Checks unlabelled features: 2-D or 3-D, real, finite, at least two rows.

    Returns:
        The features as float64.

    Raises:
        ValueError: Saying what is wrong.
    """
    X = np.asarray(X)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{name}: X must have shape (samples, features) or (samples, height, width), "
            f"got shape {X.shape}"
        )
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise ValueError(f"{name}: X must hold real numbers, got dtype {X.dtype}")
    if len(X) < 2 or X[0].size == 0:
        raise ValueError(f"{name}: X needs at least 2 samples and 1 feature, shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: X has NaN or infinite values; remove or impute them first")
    return X.astype(np.float64)


def _shuffled_split(n: int, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, seeded split of ``n`` unlabelled rows: the sorted train and test row indices."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(max(round(test_size * n), 1), n - 1)
    return np.sort(order[n_test:]), np.sort(order[:n_test])
