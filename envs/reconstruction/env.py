"""Reconstruction as a game: rebuild each clean input of a batch from what the env shows."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from arena.limits import check_memory
from envs.reconstruction.corruption import check_noise, corrupt
from envs.reconstruction.data import DEFAULT_LABEL_COLUMN, load_split

SPLITS = ("train", "test")
MAX_PSNR = 100.0
"""PSNR in dB of a perfect reconstruction: the mean squared error is floored at 1e-10, so that
the metric stays finite (reports keep only finite metrics)."""


def psnr(mse: float) -> float:
    """Peak signal-to-noise ratio in dB for data in [0, 1] (peak 1), at most :data:`MAX_PSNR`."""
    return float(10.0 * np.log10(1.0 / max(mse, 10.0 ** (-MAX_PSNR / 10.0))))


class ReconstructionEnv(gym.Env):
    """Rebuild every clean input of a dataset's train or test split from a corrupted view.

    Each episode is one pass over the split, in an order the env's ``np_random`` shuffles anew
    at every reset. Each step shows ``batch_size`` inputs, corrupted by ``noise`` (or not); the
    agent answers with its reconstruction of each clean input and is rewarded by how close it
    comes. After the action, ``info["clean"]`` reveals the clean inputs: that is what an
    autoencoder learns from. The corruption is drawn anew from ``np_random`` each time an input
    is shown, so a denoising learner never sees the same corruption twice.

    Corruption (``noise=``):

    - ``"none"``: the inputs as they are (``arena/DigitsRecon-v0``).
    - ``"mask"``: ``round(p * D)`` of each input's D entries, chosen at random, set to 0: the
      masking noise of Vincent et al. (2008) (``arena/DigitsDenoise-v0``, p = 0.25).
    - ``"gaussian"``: normal noise of std ``sigma`` added to every entry, clipped to [0, 1].
    - ``"salt-pepper"``: ``round(p * D)`` entries of each input set to 0 or 1 (even odds).

    The split is fixed: ``data_seed`` seeds it, and ``test_size`` of the rows go to the test
    split (of each class, stratified, when the data has labels: the same rows as the
    classification env's test split). Training plays ``split="train"`` (the default), and the
    env's ``metadata["evaluation_kwargs"]`` asks ``arena evaluate`` to play ``split="test"``.
    Features are min-max scaled to [0, 1] with statistics of the train split and clipped
    (digits: ``pixel / 16``; images take one scale over all their pixels).

    ## Action Space
    ``Box(-1, 1, shape, float32)``, the same shape as the observation: one reconstruction per
    input. The bounds are Stable-Baselines3's convention for continuous actions; answers are
    clipped to [0, 1], the data's range, before scoring (which can only lower their error).

    ## Observation Space
    ``Box(0, 1, shape, float32)``, the (corrupted) inputs. ``shape`` is the feature shape for
    ``batch_size=1`` and ``(B, *feature_shape)`` otherwise. Tabular data has feature shape
    ``(n_features,)``; image data (``digits``) keeps its 2-D shape ``(8, 8)`` unless
    ``flatten=True`` makes it ``(64,)`` (as the ids register). After the last step the
    observation is all zeros.

    ## Rewards
    Minus the mean squared error between the clipped reconstructions and the clean inputs,
    over the batch's entries. When the split's size is not a multiple of ``B``, the last batch
    is filled up with inputs shown earlier in the episode; they do not count
    (``info["valid"]``).

    ## Episode End
    Termination: every input of the split has been shown once, after ``ceil(size / B)`` steps.
    No truncation (the ids register no ``max_episode_steps``).

    ## Arguments
    - ``dataset`` (str, default "digits"): ``digits``, ``iris``, ``wine``, ``breast_cancer``
      (scikit-learn's bundled sets), ``fashion-mnist`` or ``mnist`` (28x28 images from their
      four IDX files, in their own 60,000/10,000 split; see ``path``), or a path to a ``.npz``
      file with an array ``X`` (samples first; an array ``y`` of labels is optional) or to a
      ``.csv`` file with a header row (a label column is optional and is not reconstructed).
    - ``path`` (str or None, default None): the folder of ``fashion-mnist``'s or ``mnist``'s
      IDX files, as for ``arena/Classification-v0``; None reads Fashion-MNIST from
      ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``).
    - ``split`` ("train" or "test", default "train"): the part of the data to play.
    - ``batch_size`` (int, default 1): inputs per step.
    - ``test_size`` (float, default 0.2): the test split's share.
    - ``data_seed`` (int, default 0): seeds the split.
    - ``flatten`` (bool, default False): flatten images to vectors.
    - ``noise`` ("none", "mask", "gaussian" or "salt-pepper", default "none"): the corruption.
    - ``p`` (float in (0, 1], default 0.25): the fraction that ``mask`` and ``salt-pepper``
      corrupt; the other kinds ignore it.
    - ``sigma`` (float > 0, default 0.1): the std of ``gaussian`` noise; the others ignore it.
    - ``label_column`` (str, default "label"): the CSV column holding labels, if any; a name
      other than the default must be in the file's header.
    - ``render_mode`` (None, "human" or "rgb_array"): three bands of up to 16 of the batch's
      inputs, top to bottom: the corrupted inputs, the reconstructions (blank before the first
      answer) and the clean inputs; images as images, tabular inputs as vertical grey strips,
      one cell per feature (dark is 1).

    A missing file, a wrong shape, NaNs or a bad argument raise ValueError.

    ## Info
    Returned by ``step`` (``reset`` returns ``size``, the number of inputs in the split):
    - ``clean``: float32 array of the observation's shape, the clean inputs just answered.
    - ``valid``: bool array ``(B,)``, which rows count (False for the filler rows of the last
      batch).
    - ``indices``: int64 array ``(B,)``, the rows' positions in the split, a stable sample id.
    - ``metrics``: on the final step only, over the whole split: ``mse`` (the mean squared
      error), ``psnr`` (``10 log10(1 / mse)`` dB; a perfect reconstruction scores
      :data:`MAX_PSNR`, 100 dB) and, when ``noise`` is not "none", ``psnr_gain`` (``psnr``
      minus the PSNR of the corrupted inputs shown, in dB).

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
        dataset: str = "digits",
        split: str = "train",
        batch_size: int = 1,
        test_size: float = 0.2,
        data_seed: int = 0,
        flatten: bool = False,
        noise: str = "none",
        p: float = 0.25,
        sigma: float = 0.1,
        label_column: str = DEFAULT_LABEL_COLUMN,
        path: str | None = None,
        render_mode: str | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
        check_noise(noise, p, sigma)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        data = load_split(dataset, split, test_size, data_seed, label_column, path)
        self.dataset = data.name
        self.split = split
        self.batch_size = batch_size
        self.noise, self.p, self.sigma = noise, float(p), float(sigma)
        self.image_shape = data.image_shape
        """The 2-D shape of each input for image data (also when flattened), else None."""
        self.X = data.X.reshape(len(data.X), -1) if flatten else data.X
        self.feature_shape = self.X.shape[1:]
        self.size = len(self.X)
        # A step holds four batches: the shown, the clean, the answer and its error.
        values = batch_size * int(np.prod(self.feature_shape))
        check_memory(
            f"batch_size={batch_size} inputs of {values // batch_size} values", 16 * values
        )
        self.render_mode = render_mode
        shape = self.feature_shape if batch_size == 1 else (batch_size, *self.feature_shape)
        self.observation_space = spaces.Box(0.0, 1.0, shape, np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape, np.float32)
        self._position = self.size
        self._deal(np.arange(self.size))
        self._shown_BD = self._corrupted()
        self.shown = (self._rows[:batch_size], self._valid[:batch_size])
        """The rows (and which count) of the batch on screen, for rendering."""
        self.shown_input_BD = self._shown_BD
        """The flat (corrupted) inputs of ``shown`` as the agent saw them."""
        self.reconstructed_BD: np.ndarray | None = None
        """The clipped, flat answers to ``shown``, or None before the first step."""
        self._window = None

    def _deal(self, order: np.ndarray) -> None:
        """Lays out an episode: the split's rows in ``order``, filled up to whole batches with
        rows from its start, and resets the error sums."""
        total = -(-self.size // self.batch_size) * self.batch_size
        self._rows = np.resize(order, total)
        self._valid = np.arange(total) < self.size
        self._output_error = 0.0
        self._input_error = 0.0

    def _clean_BD(self, position: int) -> np.ndarray:
        """The clean, flat inputs of the batch at ``position``."""
        rows = self._rows[position : position + self.batch_size]
        return self.X[rows].reshape(self.batch_size, -1)

    def _corrupted(self) -> np.ndarray:
        """Draws the corruption of the batch at the current position; flat ``(B, D)``."""
        if self._position >= self.size:
            return np.zeros((self.batch_size, int(np.prod(self.feature_shape))), np.float32)
        clean = self._clean_BD(self._position)
        return corrupt(clean, self.noise, self.p, self.sigma, self.np_random)

    def _observation(self) -> np.ndarray:
        return self._shown_BD.reshape(self.observation_space.shape)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._deal(self.np_random.permutation(self.size))
        self._position = 0
        self._shown_BD = self._corrupted()
        self.shown = (self._rows[: self.batch_size], self._valid[: self.batch_size])
        self.shown_input_BD = self._shown_BD
        self.reconstructed_BD = None
        if self.render_mode == "human":
            self.render()
        return self._observation(), {"size": self.size}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._position >= self.size:
            raise RuntimeError("The episode has ended (or never started); call reset() first.")
        try:
            answer = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            answer = np.zeros(0)
        if answer.size != self._shown_BD.size:
            raise ValueError(
                f"action must be numbers of shape {self.action_space.shape}, got {action!r:.80}"
            )
        if not np.isfinite(answer).all():
            raise ValueError("action has NaN or infinite values")
        start, end = self._position, self._position + self.batch_size
        rows, valid = self._rows[start:end], self._valid[start:end]
        clean = self._clean_BD(start).astype(np.float64)
        reconstructed = np.clip(answer.reshape(clean.shape), 0.0, 1.0)
        output_error = float(((reconstructed - clean)[valid] ** 2).sum())
        self._output_error += output_error
        self._input_error += float(((self._shown_BD - clean)[valid] ** 2).sum())
        self.shown = (rows, valid)
        self.shown_input_BD = self._shown_BD
        self.reconstructed_BD = reconstructed.astype(np.float32)
        info: dict[str, Any] = {
            "clean": clean.astype(np.float32).reshape(self.observation_space.shape),
            "valid": valid,
            "indices": rows,
        }
        reward = -output_error / (int(valid.sum()) * clean.shape[1])
        self._position = end
        terminated = end >= self.size
        if terminated:
            info["metrics"] = self._metrics()
        self._shown_BD = self._corrupted()
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, terminated, False, info

    def _metrics(self) -> dict[str, float]:
        """The episode's scores over the whole split."""
        entries = self.size * int(np.prod(self.feature_shape))
        mse = self._output_error / entries
        metrics = {"mse": mse, "psnr": psnr(mse)}
        if self.noise != "none":
            metrics["psnr_gain"] = metrics["psnr"] - psnr(self._input_error / entries)
        return metrics

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs a render_mode: make the env with render_mode set.")
            return None
        from envs.reconstruction.render import frame

        frame_HW3 = frame(self)
        if self.render_mode == "rgb_array":
            return frame_HW3
        if self._window is None:
            from arena.window import Window

            caption = f"arena/Reconstruction-v0: {self.dataset}"
            self._window = Window(caption, self.metadata["render_fps"])
        self._window.show(frame_HW3)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
