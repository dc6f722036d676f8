"""arena/Generation-v0: the referee's metrics, the episode protocol, spaces, errors, rendering."""

from __future__ import annotations

import math
import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers the arena/ ids)
from envs.generation.env import GenerationEnv
from envs.generation.metrics import (
    CONFIDENT,
    EVAL_SAMPLES,
    digits,
    grid25,
    load_npz,
    make_target,
    reconstruction_scores,
    ring8,
    score_samples,
)

IDS = ["arena/Generation-v0", "arena/Ring8-v0", "arena/Grid25-v0", "arena/DigitsGen-v0"]


@pytest.mark.parametrize("target", [ring8(), grid25()], ids=["ring8", "grid25"])
def test_all_samples_at_the_centres_capture_every_mode(target):
    samples = np.repeat(target.centres, 100, axis=0)
    assert score_samples(target, samples) == {
        "modes_captured": target.num_modes,
        "hq_fraction": 1.0,
    }


@pytest.mark.parametrize("target", [ring8(), grid25()], ids=["ring8", "grid25"])
def test_one_mode_only_captures_one(target):
    rng = np.random.default_rng(0)
    samples = target.centres[3] + target.std * rng.uniform(-2, 2, (EVAL_SAMPLES, 2))
    assert score_samples(target, samples) == {"modes_captured": 1.0, "hq_fraction": 1.0}


def test_pure_noise_between_the_modes_captures_nothing():
    target = grid25()
    rng = np.random.default_rng(0)
    # Centres of the grid's cells: 1.41 away from every mode, far beyond 3 std (0.15).
    cells = np.array([-3.0, -1.0, 1.0, 3.0])[rng.integers(4, size=(EVAL_SAMPLES, 2))]
    noise = cells + rng.uniform(-0.5, 0.5, cells.shape)
    assert score_samples(target, noise) == {"modes_captured": 0.0, "hq_fraction": 0.0}


def test_quality_counts_only_samples_within_three_std():
    target = ring8()
    near = target.centres[:4] + np.array([2.9 * target.std, 0.0])
    far = target.centres[4:] + np.array([3.1 * target.std, 0.0])
    scores = score_samples(target, np.concatenate([near, far]))
    assert scores == {"modes_captured": 4.0, "hq_fraction": 0.5}


def test_nan_samples_are_never_high_quality():
    scores = score_samples(ring8(), np.array([[np.nan, 0.0], [1.0, 0.0]]))
    assert scores == {"modes_captured": 1.0, "hq_fraction": 0.5}


def test_digits_referee_covers_every_class_on_real_digits():
    target = digits()
    scores = score_samples(target, target.data)
    assert scores["classes_covered"] == 10
    assert scores["confidence"] > 0.9
    assert 0.8 < scores["hq_fraction"] <= 1.0


def test_digits_of_one_class_cover_one_class():
    target = digits()
    threes = target.data[target.labels == 3]
    assert score_samples(target, threes)["classes_covered"] == 1


def test_blank_images_are_not_digits():
    scores = score_samples(digits(), -np.ones((EVAL_SAMPLES, 64)))
    assert scores["classes_covered"] <= 1
    assert scores["hq_fraction"] in (0.0, 1.0)  # all the same image: one verdict for all


@pytest.mark.parametrize("env_id", IDS)
def test_checkers_pass_with_warnings_as_errors(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id)
        check_env(env.unwrapped)
        sb3_check_env(env)
        env.close()


def documented_info_keys() -> set[str]:
    section = GenerationEnv.__doc__.split("## Info")[1].split("##")[0]
    return set(re.findall(r"^\s*- ``(\w+)``", section, re.MULTILINE))


def documented_metric_keys() -> set[str]:
    section = GenerationEnv.__doc__.split("## Info")[1].split("##")[0]
    metrics = section.split("``metrics``")[1]
    return set(re.findall(r"``(\w+)``", metrics))


@pytest.mark.parametrize("env_id", ["arena/Ring8-v0", "arena/DigitsGen-v0"])
def test_documented_info_keys_are_returned(env_id):
    env = gym.make(env_id)
    _, info = env.reset(seed=0)
    assert documented_info_keys() == {"scale", "samples", "metrics"}
    assert set(info) == documented_info_keys()
    *_, info = env.step(env.action_space.sample())
    assert set(info) == documented_info_keys()
    assert set(info["metrics"]) <= documented_metric_keys()
    kind = {"modes_captured", "hq_fraction"}
    if env_id == "arena/DigitsGen-v0":
        kind = {"classes_covered", "confidence", "hq_fraction"}
    assert set(info["metrics"]) == kind


@pytest.mark.parametrize("batch_size", [250, 300])
def test_an_episode_scores_exactly_the_protocol_samples(batch_size):
    env = gym.make("arena/Grid25-v0", batch_size=batch_size)
    target = env.unwrapped.target
    obs, info = env.reset(seed=1)
    assert info["scale"] == target.scale == 5.0
    real = obs["real"].reshape(batch_size, 2) * target.scale
    assert score_samples(target, real)["hq_fraction"] > 0.95
    at_centres = np.resize(target.centres / target.scale, (batch_size, 2)).astype(np.float32)
    steps, total, done = 0, 0.0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(at_centres)
        steps, total, done = steps + 1, total + reward, terminated or truncated
        assert reward == pytest.approx(1.0)
    assert terminated and not truncated
    assert steps == math.ceil(EVAL_SAMPLES / batch_size)
    assert info["samples"] == EVAL_SAMPLES
    assert info["metrics"] == {"modes_captured": 25.0, "hq_fraction": 1.0}


def test_reward_is_the_referee_confidence_on_digits():
    env = gym.make("arena/DigitsGen-v0", batch_size=50)
    env.reset(seed=0)
    target = env.unwrapped.target
    batch = target.data[:50]
    _, reward, *_ = env.step(batch)
    assert reward == pytest.approx(target.probabilities(batch).max(axis=1).mean(), rel=1e-5)
    assert CONFIDENT == 0.9


def test_user_npz_mixture_and_data_set(tmp_path):
    mixture = tmp_path / "two.npz"
    np.savez(mixture, centres=np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), std=0.1)
    env = gym.make("arena/Generation-v0", target=str(mixture), batch_size=10)
    assert env.action_space.shape == (10, 3)
    assert env.unwrapped.target.scale == pytest.approx(1.25 * 1.6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    data = tmp_path / "bits.npz"
    rng = np.random.default_rng(0)
    labels = rng.integers(2, size=200)
    np.savez(
        data,
        data=np.where(labels[:, None] == 1, 0.8, -0.8) + rng.normal(0, 0.05, (200, 4)),
        labels=labels,
    )
    target = load_npz(data)
    scores = score_samples(target, np.array([[0.8] * 4, [-0.8] * 4]))
    assert scores["classes_covered"] == 2


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("ring9", "Unknown target 'ring9'"),
        ("missing.npz", "does not exist"),
    ],
)
def test_bad_targets_are_refused(target, message):
    with pytest.raises(ValueError, match=message):
        make_target(target)


def test_bad_npz_files_are_refused(tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_text("not a zip")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        load_npz(broken)
    cases = {
        "nothing.npz": {"x": np.zeros(3)},
        "nostd.npz": {"centres": np.zeros((2, 2))},
        "flat.npz": {"centres": np.zeros(2), "std": 0.1},
        "wide.npz": {"data": np.full((5, 4), 3.0), "labels": np.arange(5)},
        "unlabelled.npz": {"data": np.zeros((5, 4))},
        "oneclass.npz": {"data": np.zeros((5, 4)), "labels": np.zeros(5, int)},
    }
    messages = {
        "nothing.npz": "needs 'centres' and 'std'",
        "nostd.npz": "needs 'std'",
        "flat.npz": "finite \\(K, D\\) array",
        "wide.npz": "scaled to \\[-1, 1\\]",
        "unlabelled.npz": "needs 'labels'",
        "oneclass.npz": "at least 2 classes",
    }
    for name, arrays in cases.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(ValueError, match=messages[name]):
            load_npz(tmp_path / name)


@pytest.mark.parametrize(
    "kwargs", [{"batch_size": 0}, {"latent_dim": -1}, {"episode_samples": 2.5}, {"target": 3}]
)
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        GenerationEnv(**kwargs)


def test_wrong_action_shape_is_refused():
    env = GenerationEnv(batch_size=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        env.step(np.zeros((3, 2), np.float32))


@pytest.mark.parametrize(("target", "shape"), [("ring8", (480, 480, 3)), ("digits", None)])
def test_rgb_array_frames(target, shape):
    env = GenerationEnv(target=target, batch_size=64, render_mode="rgb_array")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    if shape:
        assert frame.shape == shape
        assert (frame == (40, 90, 210)).all(axis=2).any()  # generated points are drawn
    else:
        assert frame.shape[0] == frame.shape[1] == 8 * (8 * 4 + 2) + 2
    env.close()
    env.close()


def test_reconstruction_scores_on_hand_made_sets():
    target = ring8()
    real = target.centres[[0, 1, 2, 3]]
    recon = target.centres[[0, 1, 5, 3]] + 0.1  # one lands on another mode
    scores = reconstruction_scores(target, real, recon)
    expected_mse = np.mean((real - recon) ** 2)
    assert scores == pytest.approx({"recon_mse": expected_mse, "same_mode": 0.75})
    data = digits()
    scores = reconstruction_scores(data, data.data[:40], data.data[:40], data.labels[:40])
    assert scores["recon_mse"] == 0.0 and scores["same_mode"] >= 0.9
    assert set(reconstruction_scores(data, data.data[:5], data.data[:5])) == {"recon_mse"}
