"""``arena/Reber-v0``: predict the next symbol of strings of the (embedded) Reber grammar."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.sequence.base import SequenceEnv, Streams, symbol_space

SYMBOLS = "BTPSXVE"
"""The Reber alphabet; a symbol's index is its observation and action."""
_B, _T, _P, _S, _X, _V, _E = range(7)
# The Reber grammar: state -> ((symbol, next state), ...), each with probability 1/2. State 0
# follows the opening B; state 5 is the end, where only E may follow.
_REBER = {
    0: ((_T, 1), (_P, 2)),
    1: ((_S, 1), (_X, 3)),
    2: ((_T, 2), (_V, 4)),
    3: ((_X, 2), (_S, 5)),
    4: ((_P, 3), (_V, 5)),
}


def _reber_string(rng: np.random.Generator, embedded: bool) -> tuple[list[int], list[set[int]]]:
    """One string and, for each of its positions, the set of symbols the grammar allows there."""
    symbols, allowed = [_B], [{_B}, {_T, _P}]
    state = 0
    while state != 5:
        choices = _REBER[state]
        symbol, state = choices[int(rng.integers(2))]
        symbols.append(symbol)
        allowed.append({s for s, _ in _REBER[state]} if state != 5 else {_E})
    symbols.append(_E)
    if not embedded:
        return symbols, allowed
    branch = _T if rng.integers(2) == 0 else _P
    outer = [_B, branch, *symbols, branch, _E]
    outer_allowed = [{_B}, {_T, _P}, *allowed, {branch}, {_E}]
    return outer, outer_allowed


def reber_streams(rng: np.random.Generator, batch: int, embedded: bool) -> Streams:
    """Reber strings, one per stream; shorter strings pad with E and their padding is not scored.

    Embedded: ``B``, then ``T`` or ``P``, a whole Reber string, the same ``T`` or ``P``, ``E``.
    """
    strings = [_reber_string(rng, embedded) for _ in range(batch)]
    steps = max(len(symbols) for symbols, _ in strings) - 1
    obs = np.full((steps + 1, batch), _E, dtype=np.int64)
    allowed = np.zeros((steps, batch, len(SYMBOLS)), dtype=bool)
    scored = np.zeros((steps, batch), dtype=bool)
    long_lag = np.zeros(batch, dtype=np.int64)
    for b, (symbols, sets) in enumerate(strings):
        n = len(symbols)
        obs[:n, b] = symbols
        scored[: n - 1, b] = True
        long_lag[b] = n - 3
        for t in range(n - 1):
            allowed[t, b, sorted(sets[t + 1])] = True
    return Streams(
        obs=obs,
        truth=obs[1:].copy(),
        scored=scored,
        allowed=allowed,
        long_lag=long_lag if embedded else None,
    )


class ReberEnv(SequenceEnv):
    """Predict the next symbol of ``batch_size`` strings of the embedded Reber grammar.

    Each stream is one string of the embedded Reber grammar (``B``, ``T`` or ``P``, a Reber
    string, the same ``T`` or ``P``, ``E``), drawn afresh each episode, whose second symbol
    decides its second-to-last: remembering it over the whole inner string is the test of
    long-term memory. ``embedded=False`` plays the plain grammar. At each step the agent sees the
    current symbol of every stream and predicts the next one; ``info["truth"]`` then reveals
    it, which supervised agents learn from. A recurrent agent keeps its memory across the steps
    of an episode and clears it at the next episode's start. The streams are independent; they
    run side by side for speed.

    ## Action Space
    ``Discrete(7)``, or ``MultiDiscrete([7] * B)`` for ``B > 1``: the next symbol of each
    stream, an index into ``BTPSXVE``.

    ## Observation Space
    ``Discrete(7)`` or ``MultiDiscrete([7] * B)``: the current symbols; a stream whose string
    has ended keeps showing ``E``.

    ## Rewards
    The mean, over the streams whose string has not ended, of 1 when the predicted symbol is
    one the grammar allows next, else 0 (0 when every string has ended).

    ## Episode End
    Termination when every stream's string has reached its ``E``. No truncation is registered.

    ## Arguments
    - ``batch_size`` (int, default 1): the number of streams ``B``.
    - ``embedded`` (bool, default True): play the embedded grammar, else the plain one.
    - ``render_mode`` (None, "human" or "rgb_array"): stream 0's recent symbols with the
      predictions under them, coloured allowed (green) or not (red).

    ## Info
    After each step:

    - ``truth``: ``(B,)`` array, the next symbol's id.
    - ``scored``: ``(B,)`` bools, which streams' predictions counted (those not yet ended).
    - ``allowed``: ``(B, 7)`` bools, the symbols the grammar allowed.
    - ``metrics`` (final step only), over every stream's scored predictions in the episode:
      ``valid_rate``, and with ``embedded=True`` ``long_lag_accuracy``, the accuracy at the
      forced second-to-last symbol.

    ## Version History
    - v0: the first version (until 0.1.0 one class with the other sources, ``source="reber"``).
    """

    source = "reber"

    def __init__(
        self, batch_size: int = 1, embedded: bool = True, render_mode: str | None = None
    ) -> None:
        super().__init__(batch_size, render_mode)
        self.embedded = embedded
        self.observation_space = symbol_space(len(SYMBOLS), batch_size)
        self.action_space = self.observation_space

    @property
    def symbols(self) -> list[str]:
        return list(SYMBOLS)

    def _draw(self) -> Streams:
        return reber_streams(self.np_random, self.batch_size, self.embedded)

    def _score(self, action: Any, scored_B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        streams, t, B = self.streams, self.t, self.batch_size
        pred_B = np.asarray(action, dtype=np.int64).reshape(B)
        valid_B = streams.allowed[t, np.arange(B), pred_B].astype(np.float64)
        self._add("valid", valid_B[scored_B])
        if streams.long_lag is not None:
            self._add("long_lag", (pred_B == streams.truth[t])[streams.long_lag == t])
        return valid_B, pred_B

    def _metrics(self) -> dict[str, float]:
        count = max(float(self.streams.scored.sum()), 1.0)
        metrics = {"valid_rate": self._sums["valid"] / count}
        if self.streams.long_lag is not None:
            metrics["long_lag_accuracy"] = self._sums["long_lag"] / self.batch_size
        return metrics

    def _right(self, pred_B: np.ndarray) -> bool:
        return bool(self.streams.allowed[self.t, 0, pred_B[0]])

    def paint(self, surface: Any, font: Any) -> None:
        from envs.sequence.render import paint_symbols

        paint_symbols(surface, font, self.history, self.symbols)
