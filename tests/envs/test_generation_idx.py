"""arena/Generation-v0 on the 28x28 IDX sets: Fashion-MNIST where it is installed, MNIST's
target on a tiny IDX folder the tests write, and the errors when the files are missing."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the arena/ ids)
from envs.classification.datasets import load_idx_set
from envs.classification.idx import MissingDataError
from envs.generation.metrics import REFEREE_ROWS, idx_target, make_target, score_samples
from tests.conftest import run_arena
from tests.envs.idx_data import make_or_skip, write_idx_set


def test_fashion_gen_where_installed():
    env = make_or_skip("arena/FashionGen-v0", batch_size=50)
    target = env.unwrapped.target
    assert target.data.shape == (60_000, 784) and target.data.dtype == np.float32
    assert target.data.min() == -1.0 and target.data.max() == 1.0
    assert env.action_space.shape == (50, 784)
    assert env.observation_space["real"].shape == (50 * 784,)
    assert env.observation_space["noise"].shape == (50 * 64,)
    assert gym.make("arena/Generation-v0", target="fashion-mnist").unwrapped.target is target
    obs, _ = env.reset(seed=0)
    real = obs["real"].reshape(50, 784)
    _, reward, terminated, _, info = env.step(real)
    assert reward == pytest.approx(target.probabilities(real).max(axis=1).mean(), rel=1e-5)
    assert not terminated and info["samples"] == 50
    scores = score_samples(target, target.data[::6])
    assert scores["classes_covered"] == 10
    assert scores["confidence"] > 0.8 and scores["hq_fraction"] > 0.5


def test_fashion_referee_accuracy_on_the_test_split_where_installed():
    try:
        images = load_idx_set("fashion-mnist", None)
    except MissingDataError as e:
        pytest.skip(f"Fashion-MNIST is not installed: {e}")
    start = images.test_start
    test_ND = images.X[start:].reshape(-1, 784) / 127.5 - 1.0
    predicted = idx_target("fashion-mnist").probabilities(test_ND).argmax(axis=1)
    assert np.mean(predicted == images.y[start:]) == pytest.approx(0.833, abs=0.005)


def test_mnist_target_from_a_folder(tmp_path):
    train_y, _ = write_idx_set(tmp_path, size=28)
    env = gym.make(
        "arena/Generation-v0",
        target="mnist",
        path=str(tmp_path),
        batch_size=8,
        render_mode="rgb_array",
    )
    target = env.unwrapped.target
    assert target.name == "mnist" and target.data.shape == (len(train_y), 784)
    assert len(train_y) < REFEREE_ROWS  # the referee saw them all
    assert idx_target("mnist", tmp_path) is target  # one copy per folder, however it is named
    np.testing.assert_array_equal(target.labels, train_y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert obs["real"].shape == (8 * 784,)
    env.step(obs["real"].reshape(8, 784))
    frame = env.render()
    # 28x28 images zoomed by 2 in a grid of 8 columns: 8 cells of 28 * 2 + 2 pixels.
    assert frame.shape == (2 + 58, 8 * 58 + 2, 3)
    assert score_samples(target, target.data)["classes_covered"] == 10


def test_conditional_play_on_an_idx_set(tmp_path):
    write_idx_set(tmp_path, size=28)
    env = gym.make(
        "arena/Generation-v0", target="mnist", path=str(tmp_path), batch_size=20, conditional=True
    )
    obs, _ = env.reset(seed=0)
    target = env.unwrapped.target
    real = obs["real"].reshape(20, 784)
    rows = [np.flatnonzero((target.data == sample).all(axis=1))[0] for sample in real]
    np.testing.assert_array_equal(target.labels[rows], obs["labels"])  # of the classes asked
    *_, info = env.step(real)
    assert info["metrics"]["label_agreement"] > 0.9


def test_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(MissingDataError, match="apt-get install dataset-fashion-mnist"):
        gym.make("arena/Generation-v0", target="fashion-mnist", path=str(tmp_path))
    with pytest.raises(MissingDataError, match=r"no default folder.*path=DIR"):
        make_target("mnist")
    with pytest.raises(ValueError, match="path= is the folder of an IDX set's files"):
        gym.make("arena/Generation-v0", target="ring8", path=str(tmp_path))


def test_the_cli_exits_2_with_the_way_to_get_the_files(tmp_path):
    out = tmp_path / "run"
    done = run_arena(
        "train",
        "gan",
        "arena/Generation-v0",
        "--env-kwargs",
        "target=fashion-mnist",
        "path=/nonexistent",
        "--out",
        str(out),
    )
    assert done.returncode == 2, done.stderr
    assert "apt-get install dataset-fashion-mnist" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
