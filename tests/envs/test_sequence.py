"""The sequence envs: the checkers, each source's manual and info keys, the generic id, the
baselines, bad arguments."""

from __future__ import annotations

import inspect
import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers the ids)
from envs.sequence import (
    SOURCES,
    AddingEnv,
    ReberEnv,
    SequencePredictionEnv,
    SineEnv,
    TextEnv,
)
from envs.sequence.reber import SYMBOLS

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
    from arena.presets import find_preset, preset_envs
    from arena.registry import agent_class

    seen = set()
    for name in ("rnn", "lstm", "gru", "transformer"):
        cls = agent_class(name)
        for env_id in preset_envs(cls):
            kwargs = find_preset(cls, env_id).env_kwargs
            key = (env_id, tuple(sorted(kwargs.items())))
            if key not in seen:
                seen.add(key)
                _check(gym.make(env_id, **kwargs))
    assert len(seen) >= 4


SECTIONS = (
    "## Action Space",
    "## Observation Space",
    "## Rewards",
    "## Episode End",
    "## Arguments",
    "## Info",
    "## Version History",
)
METRICS = {
    "arena/SequencePrediction-v0": {"mse", "persistence_mse"},
    "arena/Sine-v0": {"mse", "persistence_mse"},
    "arena/Reber-v0": {"valid_rate", "long_lag_accuracy"},
    "arena/Adding-v0": {"mse"},
    TEXT: {"accuracy", "bits_per_char", "bigram_accuracy"},
}


def _documented_info_keys(doc: str) -> set[str]:
    section = doc.split("## Info")[1].split("## Version History")[0]
    return set(re.findall(r"^\s*- ``(\w+)``", section, re.MULTILINE))


@pytest.mark.parametrize("env_class", SOURCES.values(), ids=SOURCES.keys())
def test_each_source_is_one_class_with_a_manual(env_class) -> None:
    doc = env_class.__doc__
    positions = [doc.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    for name in inspect.signature(env_class).parameters:
        assert f"``{name}``" in doc.split("## Arguments")[1].split("## Info")[0]


@pytest.mark.parametrize("env_id", [*IDS, TEXT])
def test_documented_info_keys_are_returned(env_id: str, corpus: str) -> None:
    kwargs = {"corpus": corpus, "length": 30} if env_id == TEXT else {}
    env = gym.make(env_id, batch_size=2, **kwargs)
    infos = play(env)
    doc = type(env.unwrapped).__doc__
    documented = _documented_info_keys(doc)
    assert documented == {"truth", "scored", "metrics"} | (
        {"allowed"} if env_id == "arena/Reber-v0" else set()
    )
    for info in infos:
        assert documented - {"metrics"} == set(info) - {"metrics"}
        assert info["truth"].shape == (2,) and info["scored"].dtype == bool
    assert "metrics" in infos[-1] and all("metrics" not in i for i in infos[:-1])
    assert set(infos[-1]["metrics"]) == METRICS[env_id]
    for name in METRICS[env_id]:
        assert f"``{name}``" in doc


@pytest.mark.parametrize(
    ("env_id", "env_class"),
    [
        ("arena/Sine-v0", SineEnv),
        ("arena/Reber-v0", ReberEnv),
        ("arena/Adding-v0", AddingEnv),
        (TEXT, TextEnv),
        ("arena/SequencePrediction-v0", SineEnv),
    ],
)
def test_each_id_makes_its_source_class(env_id: str, env_class: type) -> None:
    assert type(gym.make(env_id).unwrapped) is env_class


@pytest.mark.parametrize("source", SOURCES)
def test_the_generic_id_passes_each_source_the_arguments_it_uses(source: str, corpus) -> None:
    every = {"batch_size": 2, "length": 30, "noise": 0.0, "embedded": False, "T": 6}
    every |= {"corpus": corpus, "split": "test"}
    env = gym.make("arena/SequencePrediction-v0", source=source, **every).unwrapped
    assert type(env) is SOURCES[source] and env.batch_size == 2
    for name in set(inspect.signature(SOURCES[source]).parameters) - {"render_mode", "corpus"}:
        assert getattr(env, name) == every[name]


def test_evaluation_plays_the_held_out_text_only_where_there_is_text() -> None:
    from arena.registry import evaluation_kwargs

    assert evaluation_kwargs(TEXT) == {"split": "test"}
    assert evaluation_kwargs("arena/SequencePrediction-v0") == {"split": "test"}
    for env_id in ("arena/Sine-v0", "arena/Reber-v0", "arena/Adding-v0"):
        assert evaluation_kwargs(env_id) == {}


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
        ({"source": "text", "split": "valid"}, "split must be"),
        ({"length": 0}, "length must be an integer >= 1"),
        ({"noise": -0.1}, "noise must be >= 0"),
        ({"source": "reber", "render_mode": "ascii"}, "render_mode must be one of"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SequencePredictionEnv(**kwargs)


def test_an_argument_no_source_takes_or_the_source_does_not_take() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        SequencePredictionEnv(source="sine", colour=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'T'"):
        SineEnv(T=5)
    with pytest.raises(ValueError, match="T must be an integer >= 2"):
        AddingEnv(T=1)
    with pytest.raises(ValueError, match="split must be"):
        TextEnv(split="valid")


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
