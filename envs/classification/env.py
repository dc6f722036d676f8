"""Supervised classification as a game: label the samples of a dataset, one pass per episode."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.classification.datasets import SCALES, load_dataset, scaler, stratified_split

SPLITS = ("train", "test")


class ClassificationEnv(gym.Env):
    """Label every sample of a dataset's train or test split; each step shows a batch.

    A supervised dataset becomes a contextual bandit. Each episode is one pass over the split,
    in an order the env's ``np_random`` shuffles anew at every reset. Each step shows
    ``batch_size`` samples; the agent answers with a class for each and is rewarded for the
    right ones. After the action, ``info["labels"]`` reveals the true classes: that is what
    supervised learners learn from, while RL agents can learn from the reward alone.

    The split is fixed: ``data_seed`` seeds a stratified split that puts ``test_size`` of each
    class in the test split. Training plays ``split="train"`` (the default), and the env's
    ``metadata["evaluation_kwargs"]`` asks ``arena evaluate`` to play ``split="test"``, so
    evaluation plays held-out samples that training never saw.

    Features are scaled with statistics of the train split alone (``scale="standard"``: zero
    mean and unit variance per feature, as scikit-learn's ``StandardScaler`` does; images take
    one mean and variance over all their pixels, so that a pixel means the same everywhere).

    ## Action Space
    ``batch_size=1``: ``Discrete(n_classes)``, the class of the shown sample.
    ``batch_size=B > 1``: ``MultiDiscrete([n_classes] * B)``, a class per row of the batch.

    ## Observation Space
    ``Box(low, high, shape, float32)``, the scaled features; ``low`` and ``high`` are the
    smallest and largest scaled value in the whole dataset, rounded out to integers, so that
    both splits have the same space. ``shape`` is the feature shape for
    ``batch_size=1`` and ``(B, *feature_shape)`` otherwise. Tabular data has feature shape
    ``(n_features,)``; image data keeps its 2-D shape for CNNs (``(8, 8)`` for ``digits``,
    ``(28, 28)`` for the IDX sets), unless ``flatten=True`` makes it a vector. After the last
    step the observation is all zeros (clipped to the bounds).

    ## Rewards
    The number of right answers in the step, so an episode's return is the number of samples
    labelled right. When the split's size is not a multiple of ``B``, the last batch is filled
    up with samples shown earlier in the episode; they do not count (``info["valid"]``).

    ## Episode End
    Termination: every sample of the split has been shown once, after ``ceil(size / B)`` steps.
    No truncation (the ids register no ``max_episode_steps``).

    ## Arguments
    - ``dataset`` (str, default "iris"): ``digits``, ``iris``, ``wine``, ``breast_cancer``
      (scikit-learn's bundled sets), ``blobs`` (3 linearly separable classes), ``moons``,
      ``xor`` (2 classes, not linearly separable), ``fashion-mnist`` or ``mnist`` (28x28
      images read from their four IDX files, see ``path``), or a path to a ``.npz`` file with
      arrays ``X`` (samples first) and ``y``, or to a ``.csv`` file with a header and a label
      column.
    - ``path`` (str or None, default None): the folder of ``fashion-mnist``'s or ``mnist``'s
      four files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
      ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzipped as ``.gz`` or not).
      None reads Fashion-MNIST from where Debian's ``dataset-fashion-mnist`` package puts it,
      ``/usr/share/datasets/fashion-mnist``; MNIST has no default. Nothing is downloaded.
    - ``split`` ("train" or "test", default "train"): the part of the data to play.
    - ``batch_size`` (int, default 1): samples per step.
    - ``test_size`` (float, default 0.2): the test split's share of each class; the IDX sets
      keep their own split (60,000 train and 10,000 test images).
    - ``data_seed`` (int, default 0): seeds the split and the generated sets.
    - ``scale`` ("standard", "minmax" or "none", default "standard"): feature scaling, fitted
      on the train split.
    - ``flatten`` (bool, default False): flatten images to vectors.
    - ``n_samples`` (int, default 300) and ``noise`` (float or None): size and Gaussian noise
      of the generated sets (noise defaults: blobs 1.0, moons 0.15, xor 0.25).
    - ``label_column`` (str, default "label"): the CSV column holding the labels.
    - ``render_mode`` (None, "human" or "rgb_array"): images show the batch as a grid with the
      predicted and true labels; tabular data shows a 2-D projection of the split, coloured by
      true class, over the regions the agent's predictions so far mark out.

    A missing file, a wrong shape, NaNs, a single class or a bad argument raise ValueError.
    The IDX sets stay uint8 in memory, and each step scales only the batch it shows.

    ## Info
    Returned by ``step`` (``reset`` returns ``size``, the number of samples in the split):
    - ``labels``: int64 array ``(B,)``, the true classes of the batch just answered.
    - ``valid``: bool array ``(B,)``, which rows count (False for the filler rows of the last
      batch).
    - ``indices``: int64 array ``(B,)``, the rows' positions in the split, a stable sample id
      (learners use it to hold out a validation slice).
    - ``metrics``: ``{"accuracy": right answers / size}``, on the final step only.

    ## Version History
    - v0: the first version.
    """

    metadata = {
        "render_modes": ["human", "rgb_array"],
        "render_fps": 4,
        "evaluation_kwargs": {"split": "test"},
    }

    def __init__(
        self,
        dataset: str = "iris",
        split: str = "train",
        batch_size: int = 1,
        test_size: float = 0.2,
        data_seed: int = 0,
        scale: str = "standard",
        flatten: bool = False,
        n_samples: int = 300,
        noise: float | None = None,
        label_column: str = "label",
        path: str | None = None,
        render_mode: str | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        data = load_dataset(
            dataset,
            n_samples=n_samples,
            noise=noise,
            seed=data_seed,
            label_column=label_column,
            path=path,
        )
        if data.test_start is None:
            train_rows, test_rows = stratified_split(data.y, test_size, data_seed)
        else:  # the set's own split, as views
            train_rows, test_rows = slice(0, data.test_start), slice(data.test_start, None)
        self._train_raw = data.X[train_rows]
        self._offset, self._factor = scaler(self._train_raw, scale, per_feature=not data.is_image)
        rows = train_rows if split == "train" else test_rows
        self.dataset = data.name
        self.split = split
        self.batch_size = batch_size
        self.class_names = data.class_names
        self.n_classes = len(data.class_names)
        self.is_image = data.is_image and not flatten
        self.raw = data.X[rows]
        """The split's unscaled features (uint8 for the IDX sets); batches are scaled from it."""
        self.y = data.y[rows]
        self.size = len(self.raw)
        sample_shape = self.raw.shape[1:]
        self.feature_shape = (math.prod(sample_shape),) if flatten else sample_shape
        self.render_mode = render_mode
        shape = self.feature_shape if batch_size == 1 else (batch_size, *self.feature_shape)
        # Scaling is monotone (its factors are positive), so the extremes of the scaled data are
        # the scaled extremes, found without a scaled copy of the set.
        low = float(np.floor(((data.X.min(axis=0) - self._offset) * self._factor).min()))
        high = float(np.ceil(((data.X.max(axis=0) - self._offset) * self._factor).max()))
        high = max(high, low + 1.0)
        self.observation_space = spaces.Box(low, high, shape, np.float32)
        self.action_space = (
            spaces.Discrete(self.n_classes)
            if batch_size == 1
            else spaces.MultiDiscrete([self.n_classes] * batch_size)
        )
        self._position = self.size
        self._correct = 0
        self._deal(np.arange(self.size))
        self.shown = self._batch(0)
        """The rows (and which count) of the batch on screen, for rendering."""
        self.predictions: np.ndarray | None = None
        """The answers to ``shown``, ``(B,)``, or None before the first step."""
        self.answered: tuple[np.ndarray, np.ndarray] = (np.zeros(0, int), np.zeros(0, int))
        """Split rows answered this episode and the answers given, for rendering."""
        self._renderer = None
        self._window = None

    @property
    def X(self) -> np.ndarray:
        """The split's scaled features, ``(size, *feature_shape)`` float32 (a new array on each
        access: the env itself scales one batch at a time)."""
        return self._scale(self.raw).reshape(self.size, *self.feature_shape)

    def train_rows(self, limit: int) -> np.ndarray:
        """At most ``limit`` evenly spaced rows of the train split, scaled and flat: what the
        renderer fits its 2-D map on (scaling all of Fashion-MNIST's 60,000 rows took seconds)."""
        rows = self._train_raw[:: max(1, -(-len(self._train_raw) // limit))]
        return self._scale(rows).reshape(len(rows), -1)

    def _scale(self, raw: np.ndarray) -> np.ndarray:
        """Scaled float32 features of unscaled rows (of any leading shape)."""
        return ((raw - self._offset) * self._factor).astype(np.float32)

    def _deal(self, order: np.ndarray) -> None:
        """Lays out an episode: the split's rows in ``order``, filled up to whole batches with
        rows from its start, and their labels, so that each step takes slices."""
        total = -(-self.size // self.batch_size) * self.batch_size
        self._rows = np.resize(order, total)
        self._valid = np.arange(total) < self.size
        self._labels = self.y[self._rows]

    def _batch(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """The split rows of the batch at ``position``, and which of them count."""
        end = position + self.batch_size
        return self._rows[position:end], self._valid[position:end]

    def _observation(self) -> np.ndarray:
        if self._position >= self.size:
            space = self.observation_space
            return np.clip(np.zeros(space.shape, np.float32), space.low, space.high)
        rows = self._rows[self._position : self._position + self.batch_size]
        x_B = self._scale(self.raw[rows]).reshape(self.batch_size, *self.feature_shape)
        return x_B[0] if self.batch_size == 1 else x_B

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._deal(self.np_random.permutation(self.size))
        self._position = 0
        self._correct = 0
        self.shown = self._batch(0)
        self.predictions = None
        self.answered = (np.zeros(0, int), np.zeros(0, int))
        if self.render_mode == "human":
            self.render()
        return self._observation(), {"size": self.size}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._position >= self.size:
            raise RuntimeError("The episode has ended (or never started); call reset() first.")
        predictions = np.asarray(action).reshape(-1)
        if predictions.shape != (self.batch_size,) or predictions.dtype.kind not in "iu":
            raise ValueError(f"action must be {self.batch_size} integer class(es), got {action!r}")
        if predictions.min() < 0 or predictions.max() >= self.n_classes:
            raise ValueError(f"actions must be classes in [0, {self.n_classes}), got {action!r}")
        start, end = self._position, self._position + self.batch_size
        rows, valid, labels = self._rows[start:end], self._valid[start:end], self._labels[start:end]
        right = int(np.count_nonzero((predictions == labels) & valid))
        self._correct += right
        self.shown = (rows, valid)
        self.predictions = predictions
        if self.render_mode is not None:
            self.answered = (
                np.concatenate([self.answered[0], rows[valid]]),
                np.concatenate([self.answered[1], predictions[valid]]),
            )
        info: dict[str, Any] = {"labels": labels, "valid": valid, "indices": rows}
        self._position = end
        terminated = end >= self.size
        if terminated:
            info["metrics"] = {"accuracy": self._correct / self.size}
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(right), terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs a render_mode: make the env with render_mode set.")
            return None
        from envs.classification.render import ClassificationRenderer

        if self._renderer is None:
            self._renderer = ClassificationRenderer(self)
        frame = self._renderer.frame()
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            from arena.window import Window

            caption = f"arena/Classification-v0: {self.dataset}"
            self._window = Window(caption, self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
