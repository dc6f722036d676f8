"""Tests of arena/Classification-v0 and its preset ids."""

from __future__ import annotations

import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs
from arena.registry import evaluation_kwargs
from envs.classification.datasets import shown_header
from envs.classification.env import ClassificationEnv
from tests.envs.idx_data import make_or_skip

PRESET_IDS = [i for i, (entry, _, _) in envs.ENVS.items() if entry.startswith("envs.classif")]


@pytest.fixture(autouse=True)
def _headless(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


def play(env: gym.Env, seed: int = 0, policy=None) -> tuple[list[dict], float, int]:
    """Plays one episode; returns the step infos, the return and the length."""
    env.reset(seed=seed)
    infos, total, done = [], 0.0, False
    while not done:
        action = env.action_space.sample() if policy is None else policy()
        _, reward, terminated, truncated, info = env.step(action)
        infos.append(info)
        total += reward
        done = terminated or truncated
    return infos, total, len(infos)


@pytest.mark.parametrize(
    "env_id",
    # Fashion-MNIST's checkers also run in tests/envs/test_conformance.py; here they add 14 s.
    [
        pytest.param(i, marks=pytest.mark.slow) if i == "arena/FashionMNIST-v0" else i
        for i in PRESET_IDS
    ],
)
def test_every_preset_passes_gymnasium_and_sb3_checkers(env_id):
    assert len(PRESET_IDS) == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = make_or_skip(env_id)
        check_env(env.unwrapped)
        sb3_check_env(env)
        env.close()
        env.close()


def test_documented_info_keys_are_returned():
    doc = ClassificationEnv.__doc__.split("## Info")[1].split("## Version History")[0]
    documented = set(re.findall(r"^\s*- ``(\w+)``", doc, re.MULTILINE))
    assert documented == {"labels", "valid", "indices", "metrics"}
    env = gym.make("arena/Wine-v0", batch_size=32)
    _, reset_info = env.reset(seed=0)
    assert reset_info == {"size": env.unwrapped.size}
    infos, _, _ = play(env)
    for info in infos:
        assert {"labels", "valid", "indices"} <= set(info)
        assert info["labels"].shape == info["valid"].shape == info["indices"].shape == (32,)
    assert all("metrics" not in info for info in infos[:-1])
    assert set(infos[-1]["metrics"]) == {"accuracy"}


@pytest.mark.parametrize("batch_size", [1, 7, 64, 500])
def test_an_episode_shows_every_sample_once_and_scores_it(batch_size):
    env = gym.make("arena/Iris-v0", batch_size=batch_size)
    size = env.unwrapped.size
    infos, total, length = play(env, seed=3)
    assert length == -(-size // batch_size)
    shown = np.concatenate([i["indices"][i["valid"]] for i in infos])
    assert sorted(shown) == list(range(size))
    assert infos[-1]["metrics"]["accuracy"] == pytest.approx(total / size)
    assert 0 < total < size  # random answers on three classes


def test_perfect_answers_score_everything_and_labels_match_the_split():
    env = ClassificationEnv("wine", batch_size=16)
    observation, _ = env.reset(seed=1)
    total, done = 0.0, False
    while not done:
        rows = env._batch(env._position)[0]  # the rows on show, to answer right
        shown = observation
        observation, reward, done, _, info = env.step(env.y[rows])
        np.testing.assert_array_equal(shown, env.X[info["indices"]])
        np.testing.assert_array_equal(info["labels"], env.y[info["indices"]])
        total += reward
    assert total == env.size and info["metrics"]["accuracy"] == 1.0
    assert not observation.any()


def test_split_is_fixed_stratified_and_disjoint():
    train = ClassificationEnv("digits", split="train")
    test = ClassificationEnv("digits", split="test")
    assert train.size + test.size == 1797
    assert abs(test.size / 1797 - 0.2) < 0.01
    np.testing.assert_allclose(
        np.bincount(test.y) / test.size, np.bincount(train.y) / train.size, atol=0.01
    )
    train_rows = {r.tobytes() for r in train.raw}
    assert sum(r.tobytes() in train_rows for r in test.raw) <= 2  # digits has a few duplicates
    again = ClassificationEnv("digits", split="test")
    np.testing.assert_array_equal(again.raw, test.raw)
    other = ClassificationEnv("digits", split="test", data_seed=1)
    assert not np.array_equal(other.raw, test.raw)


def test_features_are_scaled_with_train_statistics():
    train = ClassificationEnv("breast_cancer", split="train")
    test = ClassificationEnv("breast_cancer", split="test")
    np.testing.assert_allclose(train.X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train.X.std(axis=0), 1, atol=1e-4)
    assert np.abs(test.X.mean(axis=0)).max() > 0.01
    assert train.observation_space == test.observation_space
    raw = ClassificationEnv("breast_cancer", scale="none")
    np.testing.assert_allclose(raw.X, raw.raw.astype(np.float32))
    unit = ClassificationEnv("breast_cancer", scale="minmax")
    assert unit.X.min() == 0 and unit.X.max() == 1


def test_spaces_follow_batch_size_and_images_keep_their_shape():
    single = ClassificationEnv("digits")
    assert single.observation_space.shape == (8, 8)
    assert single.action_space == gym.spaces.Discrete(10)
    batched = ClassificationEnv("digits", batch_size=4)
    assert batched.observation_space.shape == (4, 8, 8)
    assert batched.action_space == gym.spaces.MultiDiscrete([10] * 4)
    flat = gym.make("arena/Digits-v0", batch_size=4)
    assert flat.observation_space.shape == (4, 64)
    assert ClassificationEnv("xor").observation_space.shape == (2,)


def test_generated_sets():
    for name, classes in (("blobs", 3), ("moons", 2), ("xor", 2)):
        env = ClassificationEnv(name, n_samples=100)
        assert env.n_classes == classes
        assert env.size + ClassificationEnv(name, n_samples=100, split="test").size == 100


def test_bad_actions_are_refused():
    env = ClassificationEnv("iris", batch_size=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="classes in"):
        env.step(np.array([0, 3]))
    with pytest.raises(ValueError, match="2 integer"):
        env.step(np.array([0]))


def test_user_files(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.array(["cat", "dog"] * 20)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    env = ClassificationEnv(str(tmp_path / "data.npz"))
    assert env.class_names == ("cat", "dog") and env.observation_space.shape == (3,)
    lines = ["a,label,b"] + [f"{r[0]},{lab},{r[1]}" for r, lab in zip(X, y, strict=True)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    env = ClassificationEnv(str(tmp_path / "data.csv"))
    assert env.class_names == ("cat", "dog") and env.observation_space.shape == (2,)


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros(10), np.zeros(10), "must have shape"),
        (np.zeros((10, 2)), np.zeros((10, 1)), r"y must have shape \(samples,\)"),
        (np.zeros((10, 2)), np.zeros(9), "X has 10 rows but y has 9"),
        (np.array([[1.0, np.nan]] * 10), np.arange(10) % 2, "NaN"),
        (np.zeros((10, 2)), np.ones(10), "at least 2 classes"),
        (np.zeros((10, 2)), np.array([0] * 9 + [1]), "class 1 has 1 sample"),
    ],
)
def test_bad_data_gets_a_clear_error(tmp_path, X, y, message):
    np.savez(tmp_path / "bad.npz", X=X, y=y)
    with pytest.raises(ValueError, match=message):
        ClassificationEnv(str(tmp_path / "bad.npz"))


def test_bad_files_and_arguments_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ClassificationEnv(str(tmp_path / "missing.npz"))
    np.savez(tmp_path / "nox.npz", features=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="lacks X and y"):
        ClassificationEnv(str(tmp_path / "nox.npz"))
    (tmp_path / "d.csv").write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(ValueError, match="no label column 'label'"):
        ClassificationEnv(str(tmp_path / "d.csv"))
    with pytest.raises(ValueError, match="Unknown dataset 'cifar10'"):
        ClassificationEnv("cifar10")
    with pytest.raises(ValueError, match="split must be"):
        ClassificationEnv(split="validation")
    with pytest.raises(ValueError, match="batch_size"):
        ClassificationEnv(batch_size=0)


def test_evaluation_plays_the_test_split():
    assert evaluation_kwargs("arena/Iris-v0") == {"split": "test"}
    assert evaluation_kwargs("arena/Chain-v0") == {}


@pytest.mark.parametrize("dataset", ["digits", "wine", "moons"])
def test_rgb_array_rendering(dataset):
    env = ClassificationEnv(dataset, batch_size=8, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert first.shape == frame.shape and not np.array_equal(first, frame)
    env.close()
    env.close()


def test_unscaled_data_keeps_its_bounds_to_the_last_step(tmp_path):
    X = np.random.default_rng(0).uniform(5, 10, size=(20, 2))
    np.savez(tmp_path / "far.npz", X=X, y=np.arange(20) % 2)
    env = ClassificationEnv(str(tmp_path / "far.npz"), scale="none", batch_size=4)
    assert env.observation_space.low.min() == 5
    env.reset(seed=0)
    done = False
    while not done:
        observation, _, done, _, _ = env.step(env.action_space.sample())
        assert observation in env.observation_space


def test_a_wide_header_is_shortened_in_messages():
    assert shown_header(["a", "b"]) == "a, b"
    names = [f"pixel{i}" for i in range(785)]
    assert shown_header(names) == ", ".join(names[:20]) + ", ... (785 columns)"
