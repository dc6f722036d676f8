"""``arena/Adding-v0``: after a stream of (value, marker) pairs, predict the sum of the two
marked values."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs.sequence.base import SequenceEnv, Streams


def adding_streams(rng: np.random.Generator, batch: int, steps: int) -> Streams:
    """``steps`` (value, marker) pairs per stream; the last action should be the sum minus 1.

    Values are uniform in [0, 1]. One marker falls in the first half, one in the second. The
    final observation, which comes with the scored step, is all zeros.
    """
    obs = np.zeros((steps + 1, batch, 2), dtype=np.float32)
    obs[:steps, :, 0] = rng.uniform(0.0, 1.0, (steps, batch))
    half = steps // 2
    first = rng.integers(0, half, batch)
    second = rng.integers(half, steps, batch)
    cols = np.arange(batch)
    obs[first, cols, 1] = 1.0
    obs[second, cols, 1] = 1.0
    truth = np.zeros((steps, batch), dtype=np.float32)
    truth[-1] = obs[first, cols, 0] + obs[second, cols, 0] - 1.0
    scored = np.zeros((steps, batch), dtype=bool)
    scored[-1] = True
    return Streams(obs=obs, truth=truth, scored=scored)


class AddingEnv(SequenceEnv):
    """The adding problem: remember two marked values among ``T`` and predict their sum.

    Each of ``batch_size`` streams is ``T`` (value, marker) pairs with values uniform in [0, 1]
    and one marker in each half, drawn afresh each episode; after the last pair the agent
    predicts the sum of the two marked values. Only that last prediction is scored, and
    ``info["truth"]`` then reveals the sum, which supervised agents learn from. A recurrent
    agent keeps its memory across the steps of an episode and clears it at the next episode's
    start. The streams are independent; they run side by side for speed.

    ## Action Space
    ``Box(-1, 1, (B,), float32)``: the predicted sum *minus 1* of each stream: sums lie in
    [0, 2], so the action 0 predicts 1.0. Only the last step's action counts.

    ## Observation Space
    ``Box(0, 1, (2 * B,), float32)``: each stream's (value, marker) pair, in stream order; all
    zeros with the final step.

    ## Rewards
    0, then at the last step minus the squared error of the predicted sum, the mean over the
    streams.

    ## Episode End
    Termination after ``T`` steps. No truncation is registered.

    ## Arguments
    - ``batch_size`` (int, default 1): the number of streams ``B``.
    - ``T`` (int, default 100): pairs per episode, at least 2.
    - ``render_mode`` (None, "human" or "rgb_array"): stream 0's values as bars, the marked
      ones highlighted, with the true sum (a ring) and the predicted one (a dot) at the end.

    ## Info
    After each step:

    - ``truth``: ``(B,)`` array, the true sum minus 1 (0 before the last step).
    - ``scored``: ``(B,)`` bools, which streams' predictions counted (all at the last step,
      none before).
    - ``metrics`` (final step only): ``mse`` over the streams (predicting 1.0 gives about
      0.167).

    ## Version History
    - v0: the first version (until 0.1.0 one class with the other sources, ``source="adding"``).
    """

    source = "adding"
    history_every_step = True

    def __init__(self, batch_size: int = 1, T: int = 100, render_mode: str | None = None) -> None:
        super().__init__(batch_size, render_mode)
        if not isinstance(T, int) or T < 2:
            raise ValueError(f"T must be an integer >= 2 (the adding problem marks two), got {T!r}")
        self.T = T
        self.observation_space = spaces.Box(0.0, 1.0, (2 * batch_size,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (batch_size,), np.float32)

    def _draw(self) -> Streams:
        return adding_streams(self.np_random, self.batch_size, self.T)

    def _score(self, action: Any, scored_B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pred_B = np.asarray(action, dtype=np.float64).reshape(self.batch_size)
        error_B = (pred_B - self.streams.truth[self.t]) ** 2
        self._add("squared_error", error_B[scored_B])
        return -error_B, pred_B

    def _metrics(self) -> dict[str, float]:
        count = max(float(self.streams.scored.sum()), 1.0)
        return {"mse": self._sums["squared_error"] / count}

    def paint(self, surface: Any, font: Any) -> None:
        from envs.sequence.render import paint_sums

        paint_sums(surface, self.history)
