"""arena/SequencePrediction-v0: the checkers, the documented info keys, the baselines, bad args."""

from __future__ import annotations

import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers the ids)
from envs.sequence import SequencePredictionEnv
from envs.sequence_sources import SYMBOLS

IDS = ["arena/SequencePrediction-v0", "arena/Sine-v0", "arena/Reber-v0", "arena/Adding-v0"]
TEXT = "arena/Text-v0"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    """A small user corpus, so that most tests need not build the default one."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("the quick brown fox jumps over the lazy dog. " * 40 + "Zebra!")
    return str(path)


def play(env: gym.Env, policy=None, seed: int = 0) -> list[dict]:
    """Plays one episode; returns the info of every step."""
    env.reset(seed=seed)
    infos, done = [], False
    while not done:
        action = env.action_space.sample() if policy is None else policy(env)
        _, _, terminated, truncated, info = env.step(action)
        infos.append(info)
        done = terminated or truncated
    return infos


def _check(env: gym.Env) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
        sb3_check_env(env)


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 3}])
def test_checkers_pass(env_id: str, kwargs: dict) -> None:
    _check(gym.make(env_id, **kwargs))


def test_checkers_pass_for_text_and_plain_reber(corpus: str) -> None:
    _check(gym.make(TEXT))
    _check(gym.make(TEXT, corpus=corpus, batch_size=2, length=20, split="test"))
    _check(gym.make("arena/Reber-v0", embedded=False, batch_size=2))


def test_checkers_pass_for_every_shipped_preset() -> None:
    from arena.presets import preset_table
    from arena.registry import agent_class

    seen = set()
    for name in ("rnn", "lstm", "gru", "transformer"):
        for env_id, entry in preset_table(agent_class(name)).items():
            kwargs = entry.get("env_kwargs", {})
            key = (env_id, tuple(sorted(kwargs.items())))
            if key not in seen:
                seen.add(key)
                _check(gym.make(env_id, **kwargs))
    assert len(seen) >= 4


def _documented_info_keys() -> set[str]:
    doc = SequencePredictionEnv.__doc__
    section = doc.split("## Info")[1].split("## Version History")[0]
    return set(re.findall(r"^\s*- ``(\w+)``", section, re.MULTILINE))


@pytest.mark.parametrize("env_id", [*IDS, TEXT])
def test_documented_info_keys_are_returned(env_id: str, corpus: str) -> None:
    kwargs = {"corpus": corpus, "length": 30} if env_id == TEXT else {}
    infos = play(gym.make(env_id, batch_size=2, **kwargs))
    documented = _documented_info_keys()
    assert documented == {"truth", "scored", "allowed", "metrics"}
    per_step = {"truth", "scored"} | ({"allowed"} if env_id == "arena/Reber-v0" else set())
    for info in infos:
        assert per_step <= set(info)
        assert info["truth"].shape == (2,) and info["scored"].dtype == bool
    assert "metrics" in infos[-1] and all("metrics" not in i for i in infos[:-1])
    documented_metrics = {
        "arena/SequencePrediction-v0": {"mse", "persistence_mse"},
        "arena/Sine-v0": {"mse", "persistence_mse"},
        "arena/Reber-v0": {"valid_rate", "long_lag_accuracy"},
        "arena/Adding-v0": {"mse"},
        TEXT: {"accuracy", "bits_per_char", "bigram_accuracy"},
    }[env_id]
    assert set(infos[-1]["metrics"]) == documented_metrics
    for name in documented_metrics:
        assert f"``{name}``" in SequencePredictionEnv.__doc__


def test_adding_constant_one_scores_about_a_sixth() -> None:
    env = gym.make("arena/Adding-v0", batch_size=2000, T=20)
    infos = play(env, lambda e: np.zeros(2000, np.float32))
    assert infos[-1]["metrics"]["mse"] == pytest.approx(1 / 6, abs=0.015)
    assert [bool(i["scored"].any()) for i in infos] == [False] * 19 + [True]


def test_sine_persistence_baseline_is_repeating_the_last_value() -> None:
    env = gym.make("arena/Sine-v0", batch_size=4)
    last = env.reset(seed=3)[0]
    done, info = False, {}
    while not done:
        last, _, done, _, info = env.step(last)
    assert info["metrics"]["mse"] == pytest.approx(info["metrics"]["persistence_mse"])


def test_embedded_reber_forces_the_second_to_last_symbol() -> None:
    env = gym.make("arena/Reber-v0")
    for seed in range(20):
        first, _ = env.reset(seed=seed)
        assert SYMBOLS[first] == "B"
        branch = None

        def oracle(e: gym.Env) -> int:
            streams = e.unwrapped.streams
            return int(np.flatnonzero(streams.allowed[e.unwrapped.t, 0])[0])

        done, symbols, infos = False, [first], []
        while not done:
            symbol, reward, done, _, info = env.step(oracle(env))
            assert reward == 1.0
            symbols.append(symbol)
            infos.append(info)
        branch = symbols[1]
        assert symbols[-2] == branch and SYMBOLS[symbols[-1]] == "E"
        assert np.flatnonzero(infos[-2]["allowed"][0]).tolist() == [branch]
        assert infos[-1]["metrics"] == {"valid_rate": 1.0, "long_lag_accuracy": 1.0}


def test_plain_reber_has_no_long_lag_metric() -> None:
    infos = play(gym.make("arena/Reber-v0", embedded=False, batch_size=3))
    assert set(infos[-1]["metrics"]) == {"valid_rate"}


def test_text_split_unknown_characters_and_uniform_bits(corpus: str) -> None:
    env = gym.make(TEXT, corpus=corpus, length=5, split="test")
    unwrapped = env.unwrapped
    size = unwrapped.corpus.size
    assert "Z" not in unwrapped.corpus.chars  # only in the test part
    assert unwrapped.corpus.test[-6] == unwrapped.corpus.unknown
    infos = play(env, lambda e: np.zeros(size, np.float32))
    assert infos[-1]["metrics"]["bits_per_char"] == pytest.approx(np.log2(size))


def test_the_default_corpus_is_built_offline() -> None:
    env = gym.make(TEXT, batch_size=2)
    corpus = env.unwrapped.corpus
    assert len(corpus.train) > 100_000 and 50 < corpus.size < 200
    assert 0.1 < play(env)[-1]["metrics"]["bigram_accuracy"] < 0.6


def test_same_seed_same_streams() -> None:
    a, b = gym.make("arena/Sine-v0", batch_size=2), gym.make("arena/Sine-v0", batch_size=2)
    np.testing.assert_array_equal(a.reset(seed=5)[0], b.reset(seed=5)[0])
    np.testing.assert_array_equal(
        a.unwrapped.episode_observations(), b.unwrapped.episode_observations()
    )


def test_episode_observations_are_what_the_steps_show() -> None:
    env = gym.make("arena/Adding-v0", batch_size=3, T=6)
    observation, _ = env.reset(seed=1)
    rows = env.unwrapped.episode_observations()
    for row in rows:
        np.testing.assert_array_equal(observation, row.reshape(-1))
        observation, *_ = env.step(np.zeros(3, np.float32))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "adding", "T": 1}, "T must be an integer >= 2"),
        ({"source": "text", "corpus": "/no/such/file.txt"}, "does not exist"),
        ({"source": "music"}, "source must be one of"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"split": "valid"}, "split must be"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SequencePredictionEnv(**kwargs)


def test_empty_or_short_corpus(tmp_path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        SequencePredictionEnv(source="text", corpus=str(empty))
    short = tmp_path / "short.txt"
    short.write_text("abc" * 50)
    with pytest.raises(ValueError, match="needs at least"):
        SequencePredictionEnv(source="text", corpus=str(short), length=200)


@pytest.mark.parametrize("source", ["sine", "reber", "adding", "text"])
def test_render_rgb_array_and_close_twice(source: str, corpus: str) -> None:
    kwargs = {"corpus": corpus, "length": 40} if source == "text" else {}
    env = SequencePredictionEnv(source=source, render_mode="rgb_array", **kwargs)
    play(env)
    frame = env.render()
    assert frame.shape == (200, 640, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 3
    env.close()
    env.close()
