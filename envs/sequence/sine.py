"""``arena/Sine-v0``: predict the next value of noisy sums of two sines."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs.sequence.base import SequenceEnv, Streams, check_count

FREQUENCIES = (0.02, 0.1)
"""The range of each sine's frequency, in cycles per step."""
AMPLITUDES = (0.2, 0.45)
"""The range of each sine's amplitude; two of them sum to at most 0.9."""


def sine_streams(rng: np.random.Generator, batch: int, length: int, noise: float) -> Streams:
    """Sums of two sines with random frequencies, amplitudes and phases, plus Gaussian noise.

    Values stay in [-1, 1]: the amplitudes sum to at most 0.9 and the noisy values are clipped.
    """
    freq_KB = rng.uniform(*FREQUENCIES, (2, batch))
    amp_KB = rng.uniform(*AMPLITUDES, (2, batch))
    phase_KB = rng.uniform(0.0, 2 * np.pi, (2, batch))
    t_L = np.arange(length + 1)[:, None, None]
    clean_LB = (amp_KB * np.sin(2 * np.pi * freq_KB * t_L + phase_KB)).sum(axis=1)
    x_LB = np.clip(clean_LB + noise * rng.standard_normal(clean_LB.shape), -1.0, 1.0)
    x_LB = x_LB.astype(np.float32)
    return Streams(
        obs=x_LB[:, :, None], truth=x_LB[1:], scored=np.ones((length, batch), dtype=bool)
    )


class SineEnv(SequenceEnv):
    """Predict the next value of ``batch_size`` noisy sums of two sines, one step at a time.

    Each stream is a sum of two sines with random frequencies (0.02 to 0.1 cycles per step),
    amplitudes and phases, plus Gaussian noise, drawn afresh each episode. At each step the
    agent sees the current value of every stream and predicts the next one; ``info["truth"]``
    then reveals it, which supervised agents learn from. A recurrent agent keeps its memory
    across the steps of an episode and clears it at the next episode's start. The streams are
    independent; they run side by side for speed.

    ## Action Space
    ``Box(-1, 1, (B,), float32)``: the predicted next value of each stream.

    ## Observation Space
    ``Box(-1, 1, (B,), float32)``: the current value of each stream.

    ## Rewards
    Minus the squared error of the prediction, the mean over the streams.

    ## Episode End
    Termination after ``length`` steps. No truncation is registered.

    ## Arguments
    - ``batch_size`` (int, default 1): the number of streams ``B``.
    - ``length`` (int, default 200): steps per episode.
    - ``noise`` (float, default 0.01): the standard deviation of the Gaussian noise.
    - ``render_mode`` (None, "human" or "rgb_array"): stream 0's recent values as a line with
      the predictions as dots.

    ## Info
    After each step:

    - ``truth``: ``(B,)`` array, the next value of each stream.
    - ``scored``: ``(B,)`` bools, which streams' predictions counted (all of them).
    - ``metrics`` (final step only), over every stream's predictions in the episode: ``mse``,
      and ``persistence_mse``, the error of repeating the last value.

    ## Version History
    - v0: the first version (until 0.1.0 one class with the other sources, ``source="sine"``).
    """

    source = "sine"

    def __init__(
        self,
        batch_size: int = 1,
        length: int = 200,
        noise: float = 0.01,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(batch_size, render_mode)
        check_count("length", length, 1)
        if not noise >= 0.0:
            raise ValueError(f"noise must be >= 0, got {noise!r}")
        self.length = length
        self.noise = noise
        self.observation_space = spaces.Box(-1.0, 1.0, (batch_size,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (batch_size,), np.float32)

    def _draw(self) -> Streams:
        return sine_streams(self.np_random, self.batch_size, self.length, self.noise)

    def _score(self, action: Any, scored_B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        streams, t = self.streams, self.t
        truth_B = streams.truth[t]
        pred_B = np.asarray(action, dtype=np.float64).reshape(self.batch_size)
        error_B = (pred_B - truth_B) ** 2
        self._add("squared_error", error_B[scored_B])
        self._add("persistence", (streams.obs[t, :, 0] - truth_B)[scored_B] ** 2)
        return -error_B, pred_B

    def _metrics(self) -> dict[str, float]:
        count = max(float(self.streams.scored.sum()), 1.0)
        return {
            "mse": self._sums["squared_error"] / count,
            "persistence_mse": self._sums["persistence"] / count,
        }

    def paint(self, surface: Any, font: Any) -> None:
        from envs.sequence.render import paint_values

        paint_values(surface, self.history, -1.0, 1.0)
