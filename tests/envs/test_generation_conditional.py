"""arena/Generation-v0 with conditional=True: requested labels, real samples of those classes,
the judge and ``label_agreement``."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the arena/ ids)
from envs.generation.conditioning import judge_for, label_agreement
from envs.generation.env import GenerationEnv
from envs.generation.metrics import EVAL_SAMPLES, digits, grid25, load_npz, ring8

COND_IDS = ["arena/Ring8Cond-v0", "arena/Grid25Cond-v0", "arena/DigitsCond-v0"]


@pytest.mark.parametrize("target", [ring8(), grid25()], ids=["ring8", "grid25"])
def test_mixture_agreement_is_the_share_nearest_to_the_requested_mode(target):
    labels = np.arange(EVAL_SAMPLES) % target.num_modes
    at_modes = target.centres[labels]
    assert label_agreement(target, at_modes, labels) == 1.0
    assert label_agreement(target, at_modes, (labels + 1) % target.num_modes) == 0.0
    half = np.where(np.arange(EVAL_SAMPLES) % 2 == 0, labels, (labels + 1) % target.num_modes)
    assert label_agreement(target, at_modes, half) == 0.5
    # Nearest, not high quality: a sample far off its mode, yet nearer it than any other, agrees.
    gaps = np.linalg.norm(target.centres[:, None] - target.centres[None], axis=2)
    step = np.array([gaps[gaps > 0].min(), 0.0])
    assert label_agreement(target, at_modes + 0.4 * step, labels) == 1.0
    assert label_agreement(target, at_modes + 0.6 * step, labels) < 1


def test_non_finite_samples_never_agree():
    target = ring8()
    samples = np.array([[np.nan, 0.0], [np.inf, 0.0], [1.0, 0.0]])
    assert label_agreement(target, samples, np.zeros(3, np.int64)) == pytest.approx(1 / 3)


def test_digits_judge_is_independent_and_right_on_real_digits():
    target = digits()
    judge = judge_for(target)
    # Measured: 0.998 on the quarter of the digits it was not fitted on.
    assert judge.held_out_accuracy >= 0.97
    assert label_agreement(target, target.data, target.labels) >= 0.99
    assert label_agreement(target, target.data, (target.labels + 1) % 10) <= 0.01
    assert label_agreement(target, -np.ones((10, 64)), np.arange(10)) == pytest.approx(0.1)


@pytest.mark.parametrize("env_id", COND_IDS)
def test_observation_asks_for_labels_and_shows_real_samples_of_them(env_id):
    env = gym.make(env_id, batch_size=100)
    target = env.unwrapped.target
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"real", "noise", "labels"}
    assert env.observation_space["labels"] == gym.spaces.MultiDiscrete(
        np.full(100, target.num_modes)
    )
    labels = obs["labels"]
    assert len(np.unique(labels)) > 1
    real = obs["real"].reshape(100, -1) * target.scale
    assert label_agreement(target, real, labels) >= 0.99
    again, _ = env.reset(seed=0)
    np.testing.assert_array_equal(again["labels"], labels)


def test_an_episode_scores_agreement_and_rewards_only_the_requested_class():
    env = gym.make("arena/Ring8Cond-v0", batch_size=250)
    target = env.unwrapped.target
    obs, _ = env.reset(seed=0)
    done, steps = False, 0
    while not done:
        labels = obs["labels"]
        asked = target.centres[labels] / target.scale
        wrong = target.centres[(labels + 1) % 8] / target.scale
        answer = np.where((np.arange(250) < 125)[:, None], asked, wrong).astype(np.float32)
        obs, reward, done, _, info = env.step(answer)
        assert reward == pytest.approx(0.5)
        steps += 1
    assert steps == EVAL_SAMPLES // 250
    assert info["metrics"] == {"modes_captured": 8.0, "hq_fraction": 1.0, "label_agreement": 0.5}


def test_the_unconditional_game_is_unchanged_by_the_option():
    plain, off = GenerationEnv(batch_size=20), GenerationEnv(batch_size=20, conditional=False)
    a, _ = plain.reset(seed=4)
    b, _ = off.reset(seed=4)
    assert set(a) == {"real", "noise"}
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert plain.observation_space == off.observation_space


def test_documented_conditional_metric_is_returned():
    section = GenerationEnv.__doc__.split("## Info")[1].split("##")[0]
    assert "label_agreement" in re.findall(r"``(\w+)``", section)
    env = gym.make("arena/DigitsCond-v0")
    env.reset(seed=0)
    *_, info = env.step(env.action_space.sample())
    assert set(info["metrics"]) == {
        "classes_covered",
        "confidence",
        "hq_fraction",
        "label_agreement",
    }


def test_user_files_play_conditionally(tmp_path):
    mixture = tmp_path / "three.npz"
    np.savez(mixture, centres=np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), std=0.05)
    env = gym.make("arena/Generation-v0", target=str(mixture), conditional=True, batch_size=10)
    assert env.observation_space["labels"].nvec.tolist() == [3] * 10
    gaps = tmp_path / "gaps.npz"
    np.savez(gaps, data=np.zeros((6, 4)) + np.arange(6)[:, None] / 10, labels=[0, 0, 2, 2, 2, 0])
    assert load_npz(gaps).num_modes == 3  # the unconditional game takes it
    with pytest.raises(ValueError, match="no sample of class 1"):
        GenerationEnv(target=str(gaps), conditional=True)


def test_conditional_must_be_a_bool():
    with pytest.raises(ValueError, match="conditional must be True or False"):
        GenerationEnv(conditional="yes")
