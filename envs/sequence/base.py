"""What the next-step prediction games share: an episode's streams, the loop, the renderer hook.

Each source (``sine``, ``reber``, ``adding``, ``text``) is one :class:`SequenceEnv` subclass in its
own module. It draws an episode as :class:`Streams` (every observation, the truth each prediction
is scored against, which predictions count) and scores an action; this base steps through the
streams, fills ``info`` and renders.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

HISTORY = 48
"""How many recent steps of stream 0 the renderer shows."""


@dataclass(frozen=True)
class Streams:
    """One episode of ``B`` streams, ``L`` scored steps long.

    Attributes:
        obs: ``(L + 1, B)`` symbol ids, or ``(L + 1, B, D)`` floats: ``obs[0]`` comes with the
            reset, ``obs[t + 1]`` with step ``t``.
        truth: ``(L, B)``: what step ``t``'s action should be (0 where it is not scored).
        scored: ``(L, B)`` bools: which steps' predictions count.
        allowed: ``(L, B, 7)`` bools for Reber: the symbols the grammar allows at step ``t``.
        long_lag: ``(B,)`` for embedded Reber: the step that predicts the second-to-last symbol.
    """

    obs: np.ndarray
    truth: np.ndarray
    scored: np.ndarray
    allowed: np.ndarray | None = None
    long_lag: np.ndarray | None = None


def check_count(name: str, value: Any, least: int) -> None:
    """Raises ValueError unless ``value`` is an integer of at least ``least``."""
    if not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")


def symbol_space(size: int, batch_size: int) -> spaces.Discrete | spaces.MultiDiscrete:
    """One symbol id per stream: ``Discrete(size)`` for one stream, else ``MultiDiscrete``."""
    return spaces.Discrete(size) if batch_size == 1 else spaces.MultiDiscrete([size] * batch_size)


class SequenceEnv(gym.Env):
    """The shared base of the next-step prediction envs; see a subclass for its manual.

    A subclass sets ``source``, its spaces, and implements :meth:`_draw`, :meth:`_score`,
    :meth:`_metrics` and :meth:`paint`; it may override :meth:`_right` and ``symbols``.

    Args:
        batch_size: The number of streams ``B``.
        render_mode: None, "human" or "rgb_array".
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 8}
    source = ""
    """The source's name, shown in the rendered frame's title."""
    history_every_step = False
    """Whether stream 0's unscored steps enter ``history`` too (the renderer shows them)."""

    def __init__(self, batch_size: int = 1, render_mode: str | None = None) -> None:
        check_count("batch_size", batch_size, 1)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.batch_size = batch_size
        self.render_mode = render_mode
        self.streams: Streams | None = None
        self.t = 0
        self._sums: dict[str, float] = {}
        self.history: deque[tuple] = deque(maxlen=HISTORY)
        """Stream 0's recent (element, prediction, truth, right or None, scored), to render."""
        self._renderer = None
        self._window = None

    @property
    def symbols(self) -> list[str] | None:
        """The characters of the symbol ids (Reber, text), or None for numeric streams."""
        return None

    def episode_observations(self) -> np.ndarray:
        """Every observation of the current episode that an action follows, in stream layout.

        ``(L, B)`` symbol ids or ``(L, B, D)`` numbers, where row ``t`` is what the agent sees
        before step ``t``. It is a fast path for causal agents (whose prediction at step ``t``
        depends only on rows up to ``t``): they compute all their predictions in one pass and
        then play them, which is the same game as predicting step by step.
        """
        if self.streams is None:
            raise RuntimeError("Call reset() before episode_observations().")
        return self.streams.obs[:-1]

    def _draw(self) -> Streams:
        """Draws a new episode's streams from ``self.np_random``."""
        raise NotImplementedError

    def _score(self, action: Any, scored_B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Returns each stream's score and its prediction (for the renderer and accuracy), and
        adds to the episode's sums (``self._add``) what :meth:`_metrics` needs."""
        raise NotImplementedError

    def _metrics(self) -> dict[str, float]:
        """The episode's ``info["metrics"]``, from the sums."""
        raise NotImplementedError

    def _right(self, pred_B: np.ndarray) -> bool | None:
        """Whether stream 0's prediction at this step is right, for the renderer; None for
        numbers, which are not right or wrong."""
        return None

    def paint(self, surface: Any, font: Any) -> None:
        """Draws ``history`` on a pygame surface below the title (see ``render``)."""
        raise NotImplementedError

    def _obs(self) -> int | np.ndarray:
        element = self.streams.obs[self.t]
        if isinstance(self.observation_space, spaces.Discrete):
            return int(element[0])
        if isinstance(self.observation_space, spaces.MultiDiscrete):
            return element.copy()
        return element.reshape(-1).astype(np.float32)

    def _add(self, key: str, values: np.ndarray) -> None:
        self._sums[key] = self._sums.get(key, 0.0) + float(np.sum(values))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int | np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.streams = self._draw()
        self.t = 0
        self._sums = {}
        self.history.clear()
        if self.render_mode == "human":
            self.render()
        return self._obs(), {}

    def step(self, action: Any) -> tuple[int | np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.streams is None:
            raise RuntimeError("Call reset() before step().")
        if self.t >= len(self.streams.truth):
            raise RuntimeError("The episode has ended; call reset().")
        streams, t = self.streams, self.t
        scored_B = streams.scored[t]
        score_B, pred_B = self._score(action, scored_B)
        reward = float(score_B[scored_B].mean()) if scored_B.any() else 0.0
        info: dict[str, Any] = {"truth": streams.truth[t].copy(), "scored": scored_B.copy()}
        if streams.allowed is not None:
            info["allowed"] = streams.allowed[t].copy()
        if scored_B[0] or self.history_every_step:
            right = self._right(pred_B)
            self.history.append(
                (streams.obs[t, 0], pred_B[0], streams.truth[t, 0], right, scored_B[0])
            )
        self.t += 1
        terminated = self.t == len(streams.truth)
        if terminated:
            info["metrics"] = self._metrics()
        if self.render_mode == "human":
            self.render()
        return self._obs(), reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs a render_mode: make the env with render_mode set.")
            return None
        if self._renderer is None:
            from envs.sequence.render import SequenceRenderer

            self._renderer = SequenceRenderer()
        frame = self._renderer.frame(self)
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            from arena.window import Window

            caption = f"arena/SequencePrediction-v0: {self.source}"
            self._window = Window(caption, self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
