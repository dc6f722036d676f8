"""Generative modelling as a game: the env is a referee that shows real data and scores fakes."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.generation.conditioning import (
    ConditionalTally,
    check_classes,
    num_classes,
    sample_of_classes,
)
from envs.generation.metrics import EVAL_SAMPLES, Mixture, Tally, make_target

NOISE_BOUND = 4.0
"""Latent noise is standard normal clipped to [-4, 4], so that its Box is finite."""


class GenerationEnv(gym.Env):
    """Generate samples that the referee cannot tell from the target distribution's.

    Each step the env shows a batch of ``batch_size`` real samples and a batch of latent noise
    vectors; the agent answers with a batch of generated samples (a generator would map each
    noise vector to one sample). The referee scores the batch. The agent learns only from the
    real samples it is shown: the rewards are for watching, not for learning.

    All samples live in the env's coordinates, the data divided by ``info["scale"]``, so that
    they fit the [-1, 1] Box that Stable-Baselines3 asks of actions. Multiply by the scale to
    get data coordinates.

    With ``conditional=True`` the game asks for a class per sample: the observation gains the
    requested ``labels``, the real sample shown in each row is of that row's class, and the
    referee scores whether each generated sample is of the class asked for
    (:mod:`envs.generation.conditioning`). Registered as ``arena/Ring8Cond-v0``,
    ``arena/Grid25Cond-v0`` and ``arena/DigitsCond-v0``.

    Targets (``target=``), each also registered as its own id:

    - ``"ring8"`` (``arena/Ring8-v0``): 8 Gaussians with means on a circle of radius 1, std
      0.01; scale 1.25.
    - ``"grid25"`` (``arena/Grid25-v0``): 25 Gaussians with means on {-4, -2, 0, 2, 4}^2, std
      0.05; scale 5.
    - ``"digits"`` (``arena/DigitsGen-v0``): scikit-learn's 1,797 8x8 digits as 64-vectors,
      scaled from 0..16 to [-1, 1]; scale 1.
    - ``"fashion-mnist"`` (``arena/FashionGen-v0``) and ``"mnist"``: the 60,000 28x28 images
      of the set's IDX training split as 784-vectors, scaled from 0..255 to [-1, 1]; scale 1.
      They are read from ``path`` (Fashion-MNIST by default from Debian's
      ``dataset-fashion-mnist``, ``/usr/share/datasets/fashion-mnist``; MNIST has no default),
      as ``arena/FashionMNIST-v0`` reads them; nothing is downloaded.
    - a path ending in ``.npz``: ``centres`` (K, D) and ``std`` make a Gaussian mixture (scale
      ``1.25 * (max |centre| + 6 std)``); ``data`` (N, ...) in [-1, 1] and integer ``labels``
      (N,) make a data set.

    ## Action Space
    ``Box(-1, 1, (batch_size, D), float32)``: one generated sample per row, D = 2 for the
    mixtures, 64 for digits and 784 for Fashion-MNIST and MNIST. Values outside [-1, 1] are clipped.

    ## Observation Space
    ``Dict(real=Box(-1, 1, (batch_size * D,)), noise=Box(-4, 4, (batch_size *
    latent_dim,)))``, float32, with noise bounds of -4 and 4. ``real`` holds ``batch_size``
    real samples (clipped to [-1, 1], which no preset reaches) and ``noise`` as many standard
    normal latent vectors (clipped to [-4, 4], as Gymnasium's checker wants finite bounds), each
    flattened row-major: reshape them to ``(batch_size, -1)``. (They are flat because
    Stable-Baselines3's checker accepts only 1-D or image Box observations.)

    With ``conditional=True`` it also holds ``labels``, ``MultiDiscrete([C] * batch_size)``:
    row i's class, C the target's classes (a mixture's modes, a data set's labels). The real
    sample of row i is of class ``labels[i]`` (drawn uniformly among that class's samples, so
    the classes come equally often), and the generated sample of row i is asked to be of it.

    ## Rewards
    The referee's mean score of the generated batch:

    - mixtures: the fraction of high-quality samples, those within 3 standard deviations of
      their nearest mode;
    - data sets: the mean confidence (largest class probability) of the referee, a multinomial
      logistic regression (scikit-learn, C=1) fitted once per process on the whole real set;
      on Fashion-MNIST and MNIST, C=0.1 on a fixed, seeded 10,000 of the 60,000 images, which
      takes seconds instead of half a minute (83.3% right on Fashion-MNIST's test split;
      :func:`envs.generation.metrics.idx_target`).

    With ``conditional=True``, each sample's score counts only when the judge puts it in the
    class its row asked for (a mixture's nearest mode; a data set's support vector classifier,
    independent of the referee).

    ## Episode End
    Termination: after the step that brings the episode's generated samples to
    ``episode_samples`` (2,500, the published protocol), that is ``ceil(episode_samples /
    batch_size)`` steps; only the first ``episode_samples`` samples are scored. So a training
    episode is a fixed number of steps, and every episode, in training or in ``arena
    evaluate``, scores exactly one protocol sample set. No truncation.

    ## Arguments
    - ``target`` (str, default "ring8"): a preset name or a ``.npz`` path (above).
    - ``path`` (str or None, default None): the folder of ``fashion-mnist``'s or ``mnist``'s
      IDX files (gzipped or not), as for ``arena/Classification-v0``; None reads
      Fashion-MNIST from its Debian folder. Missing files raise an error that says how to get
      them (the CLI exits 2); a ``path`` with another target is a ValueError.
    - ``batch_size`` (int, default 250): samples per step, B.
    - ``latent_dim`` (int, default 16): the size of each noise vector.
    - ``episode_samples`` (int, default 2500): generated samples scored per episode.
    - ``conditional`` (bool, default False): ask for a class per sample (above).
    - ``render_mode`` (None, "human" or "rgb_array"): mixtures draw the real (grey) and
      generated (blue) points of the last step over the mode centres (red); data sets draw a
      grid of up to 64 generated images.

    ## Info
    - ``scale``: data coordinates per env coordinate (float).
    - ``samples``: generated samples scored so far in this episode (int).
    - ``metrics``: the scores of those samples (on the final step, of the whole episode):
      mixtures ``modes_captured`` (modes with at least one high-quality sample nearest to them)
      and ``hq_fraction``; data sets ``classes_covered`` (classes with at least one sample the
      referee gives them with confidence >= 0.9), ``confidence`` (the referee's mean
      confidence) and ``hq_fraction`` (the fraction with confidence >= 0.9). With
      ``conditional=True`` also ``label_agreement``: the share of the samples that the judge
      puts in the class they were asked to be of.

    ## Version History
    - v0: the first version; ``conditional``, and later the ``fashion-mnist`` and ``mnist``
      targets with ``path``, were added leaving the other games as they were.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 30}

    def __init__(
        self,
        target: str = "ring8",
        batch_size: int = 250,
        latent_dim: int = 16,
        episode_samples: int = EVAL_SAMPLES,
        conditional: bool = False,
        path: str | None = None,
        render_mode: str | None = None,
    ) -> None:
        for name, value in (
            ("batch_size", batch_size),
            ("latent_dim", latent_dim),
            ("episode_samples", episode_samples),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(conditional, bool):
            raise ValueError(f"conditional must be True or False, got {conditional!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.target = make_target(target, path)
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.episode_samples = episode_samples
        self.conditional = conditional
        self.render_mode = render_mode
        dim = self.target.dim
        observed = {
            "real": spaces.Box(-1.0, 1.0, (batch_size * dim,), np.float32),
            "noise": spaces.Box(-NOISE_BOUND, NOISE_BOUND, (batch_size * latent_dim,), np.float32),
        }
        if conditional:
            check_classes(self.target)
            observed["labels"] = spaces.MultiDiscrete(np.full(batch_size, num_classes(self.target)))
        self.observation_space = spaces.Dict(observed)
        self.action_space = spaces.Box(-1.0, 1.0, (batch_size, dim), np.float32)
        self._tally = self._new_tally()
        self._labels_B = np.zeros(batch_size, np.int64)
        self._real_BD = np.zeros((batch_size, dim), np.float32)
        self._fake_BD: np.ndarray | None = None
        self._window = None

    def _new_tally(self) -> Tally:
        return ConditionalTally(self.target) if self.conditional else Tally(self.target)

    def _observe(self) -> dict[str, np.ndarray]:
        if self.conditional:
            return self._observe_labelled()
        real = self.target.sample(self.np_random, self.batch_size) / self.target.scale
        self._real_BD = np.clip(real, -1.0, 1.0).astype(np.float32)
        noise = self.np_random.standard_normal(self.batch_size * self.latent_dim)
        noise = np.clip(noise, -NOISE_BOUND, NOISE_BOUND).astype(np.float32)
        return {"real": self._real_BD.reshape(-1), "noise": noise}

    def _observe_labelled(self) -> dict[str, np.ndarray]:
        """The conditional observation: requested classes, real samples of them, noise."""
        self._labels_B = self.np_random.integers(num_classes(self.target), size=self.batch_size)
        real = sample_of_classes(self.target, self.np_random, self._labels_B) / self.target.scale
        self._real_BD = np.clip(real, -1.0, 1.0).astype(np.float32)
        noise = self.np_random.standard_normal(self.batch_size * self.latent_dim)
        noise = np.clip(noise, -NOISE_BOUND, NOISE_BOUND).astype(np.float32)
        return {"real": self._real_BD.reshape(-1), "noise": noise, "labels": self._labels_B}

    def _info(self) -> dict[str, Any]:
        return {
            "scale": float(self.target.scale),
            "samples": self._tally.count,
            "metrics": self._tally.metrics(),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self._tally = self._new_tally()
        self._fake_BD = None
        observation = self._observe()
        if self.render_mode == "human":
            self.render()
        return observation, self._info()

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        fake = np.asarray(action, np.float32)
        if fake.shape != self.action_space.shape:
            raise ValueError(
                f"The action must be a batch of shape {self.action_space.shape}, got {fake.shape}"
            )
        self._fake_BD = np.clip(fake, -1.0, 1.0)
        keep = min(self.batch_size, self.episode_samples - self._tally.count)
        scored = self._fake_BD[:keep].astype(np.float64) * self.target.scale
        if self.conditional:
            reward = self._tally.add_labelled(scored, self._labels_B[:keep])
        else:
            reward = self._tally.add(scored)
        terminated = self._tally.count >= self.episode_samples
        observation = self._observe()
        if self.render_mode == "human":
            self.render()
        return observation, reward, terminated, False, self._info()

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs a render_mode: make the env with render_mode set.")
            return None
        from envs.generation.render import image_grid, mixture_frame

        fake = self._fake_BD if self._fake_BD is not None else np.zeros((0, self.target.dim))
        if isinstance(self.target, Mixture):
            frame = mixture_frame(self._real_BD, fake, self.target.centres / self.target.scale)
        else:
            frame = image_grid(fake)
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            from arena.window import Window

            self._window = Window("arena/Generation-v0", self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
