"""``arena/Text-v0``: predict the next character of windows of a text corpus."""

from __future__ import annotations

import ast
import functools
import sysconfig
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from envs.sequence.base import SequenceEnv, Streams, check_count, symbol_space

SPLITS = ("train", "test")
SCORE_SCALE = 10.0
"""Text actions are scores in [-1, 1]; the predicted distribution is softmax(10 * score)."""
TRAIN_FRACTION = 0.9
"""The text corpus's first 90% is the train split, the rest the test split."""
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


class TextEnv(SequenceEnv):
    """Predict the next character of ``batch_size`` windows of a text, one step at a time.

    Each stream is a window of ``length`` characters from a corpus, split by position (the first
    90% trains, the rest tests): a ``.txt`` file, or by default the docstrings of a fixed set of
    standard-library modules, text that ships with every Python. At each step the agent sees
    the current character of every stream and scores every character of the vocabulary as the
    next one; ``info["truth"]`` then reveals it, which supervised agents learn from. A
    recurrent agent keeps its memory across the steps of an episode and clears it at the next
    episode's start. The streams are independent; they run side by side for speed.

    ## Action Space
    ``Box(-1, 1, (B * V,), float32)``: a score per character of the vocabulary of ``V``
    symbols, for each stream; the predicted distribution is ``softmax(10 * score)`` and the
    predicted character its argmax.

    ## Observation Space
    ``Discrete(V)``, or ``MultiDiscrete([V] * B)`` for ``B > 1``: character ids in the train
    split's sorted characters; the last id, ``V - 1``, stands for characters it lacks.

    ## Rewards
    ``log2`` of the probability given to the true character (minus its bits), the mean over
    the streams.

    ## Episode End
    Termination after ``length`` steps. No truncation is registered.

    ## Arguments
    - ``batch_size`` (int, default 1): the number of streams ``B``.
    - ``length`` (int, default 200): steps per episode.
    - ``corpus`` (str or None, default None): a UTF-8 ``.txt`` file; None builds the default
      corpus.
    - ``split`` ("train" or "test", default "train"): which part of the corpus to play;
      ``metadata["evaluation_kwargs"]`` asks ``arena evaluate`` for ``"test"``.
    - ``render_mode`` (None, "human" or "rgb_array"): stream 0's recent characters with the
      predictions under them, coloured right (green) or wrong (red).

    ## Info
    After each step:

    - ``truth``: ``(B,)`` array, the next character's id.
    - ``scored``: ``(B,)`` bools, which streams' predictions counted (all of them).
    - ``metrics`` (final step only), over every stream's predictions in the episode:
      ``accuracy``, ``bits_per_char``, and ``bigram_accuracy``, that of the train split's most
      frequent successor of each character, on the same text.

    ## Version History
    - v0: the first version (until 0.1.0 one class with the other sources, ``source="text"``).
    """

    # arena evaluate plays the held-out part of the text.
    metadata = {**SequenceEnv.metadata, "evaluation_kwargs": {"split": "test"}}
    source = "text"

    def __init__(
        self,
        batch_size: int = 1,
        length: int = 200,
        corpus: str | None = None,
        split: str = "train",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(batch_size, render_mode)
        check_count("length", length, 1)
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.length = length
        self.split = split
        self.corpus = load_corpus(corpus, length)
        self.observation_space = symbol_space(self.corpus.size, batch_size)
        self.action_space = spaces.Box(-1.0, 1.0, (batch_size * self.corpus.size,), np.float32)

    @property
    def symbols(self) -> list[str]:
        return [*self.corpus.chars, "\N{REPLACEMENT CHARACTER}"]

    def _draw(self) -> Streams:
        return self.corpus.streams(self.np_random, self.batch_size, self.length, self.split)

    def _score(self, action: Any, scored_B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        streams, t, B = self.streams, self.t, self.batch_size
        truth_B = streams.truth[t]
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
        return {
            "accuracy": self._sums["correct"] / count,
            "bits_per_char": self._sums["bits"] / count,
            "bigram_accuracy": self._sums["bigram_correct"] / count,
        }

    def _right(self, pred_B: np.ndarray) -> bool:
        return bool(pred_B[0] == self.streams.truth[self.t, 0])

    def paint(self, surface: Any, font: Any) -> None:
        from envs.sequence.render import paint_symbols

        paint_symbols(surface, font, self.history, self.symbols)
