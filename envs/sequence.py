"""Next-step prediction as a game: see the current element of a stream, predict the next."""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.sequence_sources import (
    SCORE_SCALE,
    SOURCES,
    SYMBOLS,
    Streams,
    adding_streams,
    load_corpus,
    reber_streams,
    sine_streams,
)

SPLITS = ("train", "test")
HISTORY = 48
"""How many recent steps of stream 0 the renderer shows."""


class SequencePredictionEnv(gym.Env):
    """Predict the next element of ``batch_size`` streams, one step at a time.

    At each step the agent sees the current element of every stream and predicts the next one.
    The reward scores the prediction, and ``info["truth"]`` then reveals the right answer, which
    supervised agents learn from. A recurrent agent keeps its memory across the steps of an
    episode and clears it at the next episode's start. The streams are independent; they run
    side by side for speed. Each source defines its own episode:

    - ``sine``: a sum of two sines with random frequencies (0.02 to 0.1 cycles per step),
      amplitudes and phases, plus Gaussian noise, drawn afresh each episode.
    - ``reber``: one string per stream of the embedded Reber grammar (``B``, ``T`` or ``P``, a
      Reber string, the same ``T`` or ``P``, ``E``), whose second symbol decides its
      second-to-last; ``embedded=False`` plays the plain grammar.
    - ``adding``: ``T`` (value, marker) pairs with values uniform in [0, 1] and one marker in
      each half; after the last pair, predict the sum of the two marked values.
    - ``text``: windows of ``length`` characters from a corpus, split by position (the first
      90% trains, the rest tests): a ``.txt`` file, or by default the docstrings of a fixed set
      of standard-library modules, text that ships with every Python.

    ## Action Space
    One prediction per stream; with ``batch_size=1`` the spaces are those of one stream.

    - ``sine``: ``Box(-1, 1, (B,), float32)``, the next value.
    - ``adding``: ``Box(-1, 1, (B,), float32)``, the predicted sum *minus 1*: sums lie in
      [0, 2], so the action 0 predicts 1.0. Only the last step's action counts.
    - ``reber``: ``Discrete(7)``, or ``MultiDiscrete([7] * B)``: the next symbol, an index into
      ``BTPSXVE``.
    - ``text``: ``Box(-1, 1, (B * V,), float32)``: a score per character of the vocabulary of
      ``V`` symbols; the predicted distribution is ``softmax(10 * score)`` and the predicted
      character its argmax.

    ## Observation Space
    - ``sine``: ``Box(-1, 1, (B,), float32)``, the current values.
    - ``adding``: ``Box(0, 1, (2 * B,), float32)``: each stream's (value, marker) pair, in
      stream order; all zeros with the final step.
    - ``reber``: ``Discrete(7)`` or ``MultiDiscrete([7] * B)``, the current symbols; a stream
      whose string has ended keeps showing ``E``.
    - ``text``: ``Discrete(V)`` or ``MultiDiscrete([V] * B)``: character ids in the train
      split's sorted characters; the last id, ``V - 1``, stands for characters it lacks.

    ## Rewards
    The mean over the streams whose prediction is scored at this step (0 when none is):

    - ``sine``, ``adding``: minus the squared error. Adding scores only its last step.
    - ``reber``: 1 when the predicted symbol is one the grammar allows next, else 0.
    - ``text``: ``log2`` of the probability given to the true character (minus its bits).

    ## Episode End
    Termination: ``sine`` and ``text`` after ``length`` steps; ``adding`` after ``T`` steps;
    ``reber`` when every stream's string has reached its ``E``. No truncation is registered.

    ## Arguments
    - ``source`` ("sine", "reber", "adding" or "text", default "sine").
    - ``batch_size`` (int, default 1): the number of streams ``B``.
    - ``length`` (int, default 200): steps per episode for ``sine`` and ``text``.
    - ``T`` (int, default 100): pairs per episode for ``adding``, at least 2.
    - ``embedded`` (bool, default True): ``reber`` plays the embedded grammar, else the plain.
    - ``noise`` (float, default 0.01): the standard deviation of ``sine``'s noise.
    - ``corpus`` (str or None, default None): a UTF-8 ``.txt`` file for ``text``; None builds
      the default corpus.
    - ``split`` ("train" or "test", default "train"): which part of the corpus ``text`` plays;
      ``metadata["evaluation_kwargs"]`` asks ``arena evaluate`` for ``"test"``.
      The other sources draw fresh random streams every episode, so no episode repeats.
    - ``render_mode`` (None, "human" or "rgb_array"): stream 0's recent elements with the
      predictions overlaid, symbols coloured right (green) or wrong (red).

    ## Info
    After each step:

    - ``truth``: ``(B,)`` array, what each stream's action should have been: the next value
      (``sine``), the true sum minus 1 (``adding``, 0 before the last step), the next symbol's
      id (``reber``, ``text``).
    - ``scored``: ``(B,)`` bools, which streams' predictions counted at this step.
    - ``allowed`` (``reber`` only): ``(B, 7)`` bools, the symbols the grammar allowed.
    - ``metrics`` (final step only), over every stream's scored predictions in the episode:
      ``sine``: ``mse`` and ``persistence_mse`` (the error of repeating the last value);
      ``adding``: ``mse`` (predicting 1.0 gives about 0.167);
      ``reber``: ``valid_rate``, and with ``embedded=True`` ``long_lag_accuracy``, the accuracy
      at the forced second-to-last symbol;
      ``text``: ``accuracy``, ``bits_per_char``, and ``bigram_accuracy``, that of the train
      split's most frequent successor of each character, on the same text.

    ## Version History
    - v0: the first version.
    """

    # arena evaluate plays the held-out part of the text; the random sources ignore the split.
    metadata = {
        "render_modes": ["human", "rgb_array"],
        "render_fps": 8,
        "evaluation_kwargs": {"split": "test"},
    }

    def __init__(
        self,
        source: str = "sine",
        batch_size: int = 1,
        length: int = 200,
        T: int = 100,
        embedded: bool = True,
        noise: float = 0.01,
        corpus: str | None = None,
        split: str = "train",
        render_mode: str | None = None,
    ) -> None:
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
        for name, value, least in (("batch_size", batch_size, 1), ("length", length, 1)):
            if not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if not isinstance(T, int) or T < 2:
            raise ValueError(f"T must be an integer >= 2 (the adding problem marks two), got {T!r}")
        if not noise >= 0.0:
            raise ValueError(f"noise must be >= 0, got {noise!r}")
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.source = source
        self.batch_size = batch_size
        self.length = length
        self.T = T
        self.embedded = embedded
        self.noise = noise
        self.split = split
        self.render_mode = render_mode
        self.corpus = load_corpus(corpus, length) if source == "text" else None
        B = batch_size
        if source in ("sine", "adding"):
            width = 2 * B if source == "adding" else B
            low = -1.0 if source == "sine" else 0.0
            self.observation_space = spaces.Box(low, 1.0, (width,), np.float32)
            self.action_space = spaces.Box(-1.0, 1.0, (B,), np.float32)
        else:
            n = len(SYMBOLS) if source == "reber" else self.corpus.size
            symbols = spaces.Discrete(n) if B == 1 else spaces.MultiDiscrete([n] * B)
            self.observation_space = symbols
            if source == "reber":
                self.action_space = symbols
            else:
                self.action_space = spaces.Box(-1.0, 1.0, (B * n,), np.float32)
        self.streams: Streams | None = None
        self.t = 0
        self._sums: dict[str, float] = {}
        self.history: deque[tuple] = deque(maxlen=HISTORY)
        """Stream 0's recent (element, prediction, truth, right or None, scored), to render."""
        self._renderer = None

    @property
    def symbols(self) -> list[str] | None:
        """The characters of the symbol ids (Reber, text), or None for numeric streams."""
        if self.source == "reber":
            return list(SYMBOLS)
        if self.source == "text":
            return [*self.corpus.chars, "\N{REPLACEMENT CHARACTER}"]
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
        rng, B = self.np_random, self.batch_size
        if self.source == "sine":
            return sine_streams(rng, B, self.length, self.noise)
        if self.source == "reber":
            return reber_streams(rng, B, self.embedded)
        if self.source == "adding":
            return adding_streams(rng, B, self.T)
        return self.corpus.streams(rng, B, self.length, self.split)

    def _obs(self) -> int | np.ndarray:
        element = self.streams.obs[self.t]
        if isinstance(self.observation_space, spaces.Discrete):
            return int(element[0])
        if isinstance(self.observation_space, spaces.MultiDiscrete):
            return element.copy()
        return element.reshape(-1).astype(np.float32)

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

    def _add(self, key: str, values: np.ndarray) -> None:
        self._sums[key] = self._sums.get(key, 0.0) + float(np.sum(values))

    def _score(self, action: Any, scored_B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Returns each stream's score and its prediction (for the renderer and accuracy)."""
        streams, t, B = self.streams, self.t, self.batch_size
        truth_B = streams.truth[t]
        if self.source in ("sine", "adding"):
            pred_B = np.asarray(action, dtype=np.float64).reshape(B)
            error_B = (pred_B - truth_B) ** 2
            self._add("squared_error", error_B[scored_B])
            if self.source == "sine":
                self._add("persistence", (streams.obs[t, :, 0] - truth_B)[scored_B] ** 2)
            return -error_B, pred_B
        if self.source == "reber":
            pred_B = np.asarray(action, dtype=np.int64).reshape(B)
            valid_B = streams.allowed[t, np.arange(B), pred_B].astype(np.float64)
            self._add("valid", valid_B[scored_B])
            if streams.long_lag is not None:
                self._add("long_lag", (pred_B == truth_B)[streams.long_lag == t])
            return valid_B, pred_B
        score_BV = np.asarray(action, dtype=np.float64).reshape(B, self.corpus.size)
        logits_BV = SCORE_SCALE * score_BV
        logits_BV -= logits_BV.max(axis=1, keepdims=True)
        log_norm_B = np.log(np.exp(logits_BV).sum(axis=1))
        bits_B = (log_norm_B - logits_BV[np.arange(B), truth_B]) / np.log(2)
        pred_B = score_BV.argmax(axis=1)
        bigram_B = self.corpus.bigram[streams.obs[t]]
        self._add("bits", bits_B)
        self._add("correct", pred_B == truth_B)
        self._add("bigram_correct", bigram_B == truth_B)
        return -bits_B, pred_B

    def _metrics(self) -> dict[str, float]:
        count = max(float(self.streams.scored.sum()), 1.0)
        s = self._sums
        if self.source in ("sine", "adding"):
            metrics = {"mse": s["squared_error"] / count}
            if self.source == "sine":
                metrics["persistence_mse"] = s["persistence"] / count
            return metrics
        if self.source == "reber":
            metrics = {"valid_rate": s["valid"] / count}
            if self.streams.long_lag is not None:
                metrics["long_lag_accuracy"] = s["long_lag"] / self.batch_size
            return metrics
        return {
            "accuracy": s["correct"] / count,
            "bits_per_char": s["bits"] / count,
            "bigram_accuracy": s["bigram_correct"] / count,
        }

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
        ok = None
        if self.source in ("reber", "text"):
            right = streams.allowed[t, 0, pred_B[0]] if self.source == "reber" else None
            ok = bool(right if right is not None else pred_B[0] == streams.truth[t, 0])
        if scored_B[0] or self.source == "adding":
            self.history.append(
                (streams.obs[t, 0], pred_B[0], streams.truth[t, 0], ok, scored_B[0])
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
            from envs.sequence_render import SequenceRenderer

            self._renderer = SequenceRenderer(self.render_mode, self.metadata["render_fps"])
        return self._renderer.draw(self)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
