"""The sequence ids play the same game as before they became one class per source.

``tests/fixtures/sequence_streams.json`` holds sha256 digests of the observation, reward and
info streams of a few hundred steps per id, arguments and seed, recorded from the code before
the split (one ``SequencePredictionEnv`` branching on ``source``, commit 5b7e9e3) with
``python -m tests.envs.test_sequence_same_game > tests/fixtures/sequence_streams.json``.
The actions are the action space's own samples, seeded like the env.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "sequence_streams.json"
STEPS = 300
SEEDS = (0, 1)
CORPUS_TEXT = (
    "The quick brown fox jumps over the lazy dog; pack my box with five dozen jugs.\n"
) * 30
"""The user corpus of most ``text`` cases; ``DEFAULT_CORPUS_CASES`` play the stdlib one."""
USER_CORPUS = "<user corpus>"
CASES: list[tuple[str, dict[str, Any]]] = [
    *[
        (env_id, kwargs)
        for env_id in (
            "arena/SequencePrediction-v0",
            "arena/Sine-v0",
            "arena/Reber-v0",
            "arena/Adding-v0",
        )
        for kwargs in ({}, {"batch_size": 3})
    ],
    ("arena/Sine-v0", {"length": 30, "noise": 0.0}),
    ("arena/Reber-v0", {"embedded": False, "batch_size": 2}),
    ("arena/Adding-v0", {"T": 7, "batch_size": 2}),
    ("arena/Text-v0", {"corpus": USER_CORPUS, "length": 40}),
    ("arena/Text-v0", {"corpus": USER_CORPUS, "length": 25, "batch_size": 3, "split": "test"}),
    ("arena/SequencePrediction-v0", {"source": "reber", "batch_size": 2}),
    ("arena/SequencePrediction-v0", {"source": "adding", "T": 9}),
    ("arena/SequencePrediction-v0", {"source": "text", "corpus": USER_CORPUS, "length": 20}),
]
DEFAULT_CORPUS_CASES: list[tuple[str, dict[str, Any]]] = [
    ("arena/Text-v0", {}),
    ("arena/Text-v0", {"batch_size": 2, "length": 50, "split": "test"}),
]
"""Cases on the default corpus, which differs between Python versions: checked only where the
corpus is the one the fixture was recorded with."""


def _feed(h: Any, value: Any) -> None:
    """Adds a value to a digest, with its type, so 1, 1.0, True and "1" differ."""
    if isinstance(value, dict):
        h.update(b"{")
        for key in sorted(value):
            h.update(repr(key).encode())
            _feed(h, value[key])
        h.update(b"}")
    elif isinstance(value, np.ndarray):
        h.update(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, list | tuple):
        h.update(b"[")
        for item in value:
            _feed(h, item)
        h.update(b"]")
    else:
        h.update(f"{type(value).__name__}:{value!r};".encode())


def stream_digests(env_id: str, kwargs: dict[str, Any], seed: int, corpus: str) -> dict[str, str]:
    """Plays ``STEPS`` seeded random steps, resetting after each episode's end.

    Returns:
        sha256 digests of the observations (with ``episode_observations()`` and ``symbols``
        at each reset), the rewards and end flags, and the infos.
    """
    kwargs = {k: corpus if v == USER_CORPUS else v for k, v in kwargs.items()}
    env = gym.make(env_id, **kwargs)
    env.action_space.seed(seed)
    obs_h, reward_h, info_h = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()

    def on_reset(observation: Any, info: dict) -> None:
        _feed(obs_h, observation)
        _feed(obs_h, env.unwrapped.episode_observations())
        _feed(obs_h, env.unwrapped.symbols)
        _feed(info_h, info)

    on_reset(*env.reset(seed=seed))
    for _ in range(STEPS):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        _feed(obs_h, observation)
        _feed(reward_h, (reward, terminated, truncated))
        _feed(info_h, info)
        if terminated or truncated:
            on_reset(*env.reset())
    env.close()
    return {"obs": obs_h.hexdigest(), "reward": reward_h.hexdigest(), "info": info_h.hexdigest()}


def corpus_digest() -> str:
    """The digest of the default corpus as the text env sees it (characters and both splits)."""
    corpus = gym.make("arena/Text-v0").unwrapped.corpus
    h = hashlib.sha256()
    _feed(h, corpus.chars)
    _feed(h, corpus.train)
    _feed(h, corpus.test)
    return h.hexdigest()


def _key(env_id: str, kwargs: dict[str, Any], seed: int) -> str:
    return f"{env_id} {json.dumps(kwargs, sort_keys=True)} seed={seed}"


def record(corpus: str) -> dict[str, Any]:
    """Every case's digests, and the default corpus's, as the fixture stores them."""
    streams = {
        _key(env_id, kwargs, seed): stream_digests(env_id, kwargs, seed, corpus)
        for env_id, kwargs in CASES + DEFAULT_CORPUS_CASES
        for seed in SEEDS
    }
    return {"steps": STEPS, "default_corpus": corpus_digest(), "streams": streams}


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text(CORPUS_TEXT, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_same_streams_as_recorded(env_id, kwargs, seed, corpus, expected) -> None:
    assert (
        stream_digests(env_id, kwargs, seed, corpus)
        == expected["streams"][_key(env_id, kwargs, seed)]
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("env_id", "kwargs"), DEFAULT_CORPUS_CASES)
def test_same_streams_on_the_default_corpus(env_id, kwargs, seed, corpus, expected) -> None:
    if corpus_digest() != expected["default_corpus"]:
        pytest.skip("this Python's standard library gives another default corpus")
    assert (
        stream_digests(env_id, kwargs, seed, corpus)
        == expected["streams"][_key(env_id, kwargs, seed)]
    )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        user_corpus = Path(folder) / "corpus.txt"
        user_corpus.write_text(CORPUS_TEXT, encoding="utf-8")
        json.dump(record(str(user_corpus)), sys.stdout, indent=1, sort_keys=True)
        print()
