"""The streams of ``arena/SequencePrediction-v0``: sums of sines, Reber strings, adding, text.

Each generator draws one episode for ``B`` streams at once, as a :class:`Streams`: every
observation, the truth each prediction is scored against, which predictions count, and (Reber
only) the set of symbols the grammar allows next. The env then only indexes into it.
"""

from __future__ import annotations

import ast
import functools
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SOURCES = ("sine", "reber", "adding", "text")
SYMBOLS = "BTPSXVE"
"""The Reber alphabet; a symbol's index is its observation and action."""
SCORE_SCALE = 10.0
"""Text actions are scores in [-1, 1]; the predicted distribution is softmax(10 * score)."""
TRAIN_FRACTION = 0.9
"""The text corpus's first 90% is the train split, the rest the test split."""

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
# Stdlib modules whose docstrings make the default text corpus: prose that ships with Python.
_CORPUS_FILES = (
    "argparse.py",
    "textwrap.py",
    "inspect.py",
    "pathlib.py",
    "random.py",
    "statistics.py",
    "subprocess.py",
    "threading.py",
    "difflib.py",
    "fractions.py",
    "heapq.py",
    "dataclasses.py",
    "shutil.py",
    "tempfile.py",
    "contextlib.py",
    "datetime.py",
    "zipfile.py",
    "configparser.py",
    "doctest.py",
    "pickle.py",
    "ipaddress.py",
    "logging/__init__.py",
    "unittest/case.py",
)


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


def sine_streams(rng: np.random.Generator, batch: int, length: int, noise: float) -> Streams:
    """Sums of two sines with random frequencies, amplitudes and phases, plus Gaussian noise.

    Values stay in [-1, 1]: the amplitudes sum to at most 0.9 and the noisy values are clipped.
    """
    freq_KB = rng.uniform(0.02, 0.1, (2, batch))
    amp_KB = rng.uniform(0.2, 0.45, (2, batch))
    phase_KB = rng.uniform(0.0, 2 * np.pi, (2, batch))
    t_L = np.arange(length + 1)[:, None, None]
    clean_LB = (amp_KB * np.sin(2 * np.pi * freq_KB * t_L + phase_KB)).sum(axis=1)
    x_LB = np.clip(clean_LB + noise * rng.standard_normal(clean_LB.shape), -1.0, 1.0)
    x_LB = x_LB.astype(np.float32)
    return Streams(
        obs=x_LB[:, :, None], truth=x_LB[1:], scored=np.ones((length, batch), dtype=bool)
    )


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


@functools.cache
def default_corpus() -> str:
    """The docstrings of a fixed set of standard-library modules: text every Python ships.

    Read from the modules' source with ``ast``, so it works without importing them, and under
    ``python -OO`` too. The text differs a little between Python versions.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    parts = []
    for name in _CORPUS_FILES:
        try:
            tree = ast.parse((root / name).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    parts.append(doc)
    return "\n\n".join(parts)


class Corpus:
    """A text split by position into train and test parts, with a vocabulary and a bigram model.

    The vocabulary is the train part's characters plus an unknown symbol, the last id, which
    stands for any character the train part lacks.

    Args:
        text: The whole corpus.
        length: The steps per episode; each split must hold ``length + 1`` characters.

    Raises:
        ValueError: The text is too short to split into two such parts.
    """

    def __init__(self, text: str, length: int) -> None:
        cut = int(len(text) * TRAIN_FRACTION)
        need = length + 1
        if cut < need or len(text) - cut < need:
            raise ValueError(
                f"the corpus has {len(text)} characters; with length={length} it needs at least "
                f"{int(np.ceil(need / (1 - TRAIN_FRACTION)))} so that each split holds "
                f"{need}"
            )
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        known_codes = np.unique(codes[:cut])
        self.chars = [chr(c) for c in known_codes]
        self.unknown = len(self.chars)
        index = np.minimum(np.searchsorted(known_codes, codes), self.unknown - 1)
        ids = np.where(known_codes[index] == codes, index, self.unknown).astype(np.int64)
        self.train, self.test = ids[:cut], ids[cut:]
        size = self.unknown + 1
        pairs = self.train[:-1] * size + self.train[1:]
        counts = np.bincount(pairs, minlength=size * size).reshape(size, size)
        fallback = int(np.bincount(self.train, minlength=size).argmax())
        self.bigram = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), fallback)

    @property
    def size(self) -> int:
        """The vocabulary size, the unknown symbol included."""
        return self.unknown + 1

    def streams(self, rng: np.random.Generator, batch: int, length: int, split: str) -> Streams:
        """Random windows of ``length + 1`` characters from the split, one per stream."""
        ids = self.train if split == "train" else self.test
        starts = rng.integers(0, len(ids) - length, batch)
        obs = np.stack([ids[s : s + length + 1] for s in starts], axis=1)
        return Streams(obs=obs, truth=obs[1:].copy(), scored=np.ones((length, batch), dtype=bool))


def load_corpus(corpus: str | None, length: int) -> Corpus:
    """Reads a user's ``.txt`` file, or builds the default corpus when ``corpus`` is None.

    Raises:
        ValueError: The file is missing, unreadable, empty or too short.
    """
    if corpus is None:
        return _default(length)
    path = Path(corpus)
    if not path.is_file():
        raise ValueError(f"corpus file {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"corpus file {str(path)!r} is not readable UTF-8 text: {e}") from None
    if not text:
        raise ValueError(f"corpus file {str(path)!r} is empty")
    return Corpus(text, length)


@functools.cache
def _default(length: int) -> Corpus:
    text = default_corpus()
    if not text:
        raise ValueError(
            "the default corpus is empty: this Python ships no standard-library sources; "
            "pass corpus='some.txt'"
        )
    return Corpus(text, length)
