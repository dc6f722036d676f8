"""Tests of arena/Reconstruction-v0 and its preset ids."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest
from sklearn.datasets import load_digits

import envs
from arena.registry import env_owners, evaluation_kwargs
from envs.reconstruction import ReconstructionEnv
from envs.reconstruction.env import MAX_PSNR
from envs.reconstruction.render import GAP, MAX_SHOWN

PRESET_IDS = [i for i, (entry, _, _) in envs.ENVS.items() if entry.startswith("envs.recon")]


def play(env: ReconstructionEnv, policy, seed: int = 0) -> tuple[list[dict], list[float]]:
    """Plays one episode answering ``policy(observation)``; returns the infos and rewards."""
    observation, _ = env.reset(seed=seed)
    infos, rewards, done = [], [], False
    while not done:
        observation, reward, done, _, info = env.step(policy(observation))
        infos.append(info)
        rewards.append(reward)
    return infos, rewards


def corrupted_and_clean(noise: str, seed: int = 0, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Every (corrupted, clean) input of one episode over the digits train split, flat."""
    env = ReconstructionEnv(batch_size=64, flatten=True, noise=noise, **kwargs)
    shown, clean, infos = [], [], []
    observation, _ = env.reset(seed=seed)
    done = False
    while not done:
        shown.append(observation)
        observation, _, done, _, info = env.step(observation)
        infos.append(info)
        clean.append(info["clean"])
    valid = np.concatenate([info["valid"] for info in infos])
    return np.concatenate(shown)[valid], np.concatenate(clean)[valid]


def test_presets_are_plugin_ids_and_pass_the_conformance_test():
    assert set(PRESET_IDS) == {
        "arena/Reconstruction-v0",
        "arena/DigitsRecon-v0",
        "arena/DigitsDenoise-v0",
    }
    # tests/envs/test_conformance.py runs Gymnasium's and SB3's checkers over these.
    assert set(PRESET_IDS) <= set(env_owners())
    denoise = gym.make("arena/DigitsDenoise-v0").unwrapped
    assert (denoise.noise, denoise.p, denoise.observation_space.shape) == ("mask", 0.25, (64,))
    assert gym.make("arena/DigitsRecon-v0").unwrapped.noise == "none"


def test_documented_info_keys_are_returned():
    doc = ReconstructionEnv.__doc__.split("## Info")[1].split("## Version History")[0]
    documented = set(re.findall(r"^\s*- ``(\w+)``", doc, re.MULTILINE))
    assert documented == {"clean", "valid", "indices", "metrics"}
    env = ReconstructionEnv("wine", batch_size=32, noise="gaussian")
    _, reset_info = env.reset(seed=0)
    assert reset_info == {"size": env.size}
    infos, _ = play(env, lambda observation: observation)
    for info in infos:
        assert {"clean", "valid", "indices"} <= set(info)
        assert info["clean"].shape == env.observation_space.shape == (32, 13)
        assert info["valid"].shape == info["indices"].shape == (32,)
    assert all("metrics" not in info for info in infos[:-1])
    assert set(infos[-1]["metrics"]) == {"mse", "psnr", "psnr_gain"}


def test_digits_are_pixels_over_16_and_the_test_split_matches_classification():
    from envs.classification.env import ClassificationEnv

    recon = ReconstructionEnv(split="test")
    labelled = ClassificationEnv("digits", split="test", scale="none")
    np.testing.assert_allclose(recon.X, labelled.raw / 16, atol=1e-7)
    assert recon.observation_space.shape == (8, 8) and recon.image_shape == (8, 8)
    assert ReconstructionEnv().size + recon.size == len(load_digits().images)


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_an_episode_shows_every_input_once_and_reward_is_minus_the_mse(batch_size):
    env = ReconstructionEnv("iris", batch_size=batch_size, noise="salt-pepper")
    rng = np.random.default_rng(1)
    infos, rewards = play(env, lambda _: rng.uniform(-1, 1, env.action_space.shape))
    shown = np.concatenate([np.atleast_1d(i["indices"])[i["valid"]] for i in infos])
    assert sorted(shown) == list(range(env.size))
    assert len(infos) == -(-env.size // batch_size)
    # The reward is minus the MSE of the clipped answer over the counting rows.
    answer = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
    env.reset(seed=2)
    _, reward, _, _, info = env.step(answer)
    clean = info["clean"].reshape(batch_size, -1)[info["valid"]]
    clipped = np.clip(answer.reshape(batch_size, -1)[info["valid"]], 0, 1)
    assert reward == pytest.approx(-np.mean((clipped - clean) ** 2))
    assert all(r <= 0 for r in rewards)


def test_padded_rows_do_not_count():
    env = ReconstructionEnv("iris", batch_size=25)  # 120 train rows: the 5th batch has 20.
    env.reset(seed=0)
    for _ in range(4):
        _, _, done, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert not done
    _, _, done, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert done and info["valid"].sum() == 20
    answer = info["clean"].copy()  # right on the 20 that count, wrong on the filler rows
    answer[~info["valid"]] = 1 - answer[~info["valid"]]
    env.reset(seed=0)
    for _ in range(4):
        env.step(np.zeros(env.action_space.shape, np.float32))
    _, reward, *_ = env.step(answer)
    assert reward == 0.0


def test_metrics_match_a_hand_computation():
    env = ReconstructionEnv("digits", batch_size=50, flatten=True, noise="mask", p=0.5)
    shown, errors = [], []
    observation, _ = env.reset(seed=0)
    done = False
    while not done:
        answer = np.full(env.action_space.shape, 0.5, np.float32)
        before = observation
        observation, _, done, _, info = env.step(answer)
        valid = info["valid"]
        errors.append((0.5 - info["clean"][valid]) ** 2)
        shown.append((before[valid] - info["clean"][valid]) ** 2)
    mse, input_mse = np.concatenate(errors).mean(), np.concatenate(shown).mean()
    metrics = info["metrics"]
    assert metrics["mse"] == pytest.approx(mse)
    assert metrics["psnr"] == pytest.approx(10 * np.log10(1 / mse))
    assert metrics["psnr_gain"] == pytest.approx(10 * np.log10(input_mse / mse))


def test_a_perfect_reconstruction_scores_mse_0_and_the_psnr_cap():
    env = ReconstructionEnv("digits", batch_size=100, noise="gaussian", sigma=0.2)
    first_pass, _ = play(env, lambda observation: observation, seed=3)
    answers = iter([info["clean"] for info in first_pass])
    infos, rewards = play(env, lambda _: next(answers), seed=3)  # the same seed deals the same
    assert rewards == [0.0] * len(infos)
    metrics = infos[-1]["metrics"]
    assert metrics["mse"] == 0.0 and metrics["psnr"] == MAX_PSNR == 100.0
    assert metrics["psnr_gain"] > 70  # 100 dB minus the corrupted input's ~16 dB
    identity, _ = play(ReconstructionEnv("digits", batch_size=100), lambda o: o)
    assert identity[-1]["metrics"] == {"mse": 0.0, "psnr": MAX_PSNR}  # no psnr_gain unnoised


def test_masking_zeroes_a_fraction_p_of_each_input():
    shown, clean = corrupted_and_clean("mask", p=0.25)
    changed = shown != clean
    assert np.all(shown[changed] == 0)
    # Exactly round(0.25 * 64) = 16 entries per input are masked; those already 0 stay 0.
    masked_of_ink = ((shown == 0) & (clean > 0)).sum() / (clean > 0).sum()
    assert masked_of_ink == pytest.approx(0.25, abs=0.02)
    assert np.all(changed.sum(axis=1) <= 16)


def test_gaussian_noise_has_std_sigma_and_stays_in_range():
    shown, clean = corrupted_and_clean("gaussian", sigma=0.05)
    assert shown.min() >= 0 and shown.max() <= 1
    middle = (clean > 0.3) & (clean < 0.7)  # 6 sigma from both clips
    noise = shown[middle] - clean[middle]
    assert middle.sum() > 5000
    assert noise.std() == pytest.approx(0.05, rel=0.05)
    assert abs(noise.mean()) < 0.005


def test_salt_pepper_sets_a_fraction_p_to_0_or_1():
    shown, clean = corrupted_and_clean("salt-pepper", p=0.2)
    changed = shown != clean
    assert np.all((shown[changed] == 0) | (shown[changed] == 1))
    assert np.all(changed.sum(axis=1) <= 13)  # round(0.2 * 64) chosen entries per input
    middle = (clean > 0) & (clean < 1)  # every chosen entry strictly inside changes
    assert changed[middle].mean() == pytest.approx(0.2, abs=0.02)
    assert (shown[middle] == 1).mean() == pytest.approx(0.1, abs=0.02)


def test_no_noise_shows_the_clean_inputs():
    shown, clean = corrupted_and_clean("none")
    np.testing.assert_array_equal(shown, clean)


@pytest.mark.parametrize("noise", ["mask", "gaussian", "salt-pepper"])
def test_the_same_seed_gives_the_same_corruption(noise):
    first, _ = corrupted_and_clean(noise, seed=5)
    again, _ = corrupted_and_clean(noise, seed=5)
    other, _ = corrupted_and_clean(noise, seed=6)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_evaluation_plays_the_test_split():
    for env_id in PRESET_IDS:
        assert evaluation_kwargs(env_id) == {"split": "test"}
    env = gym.make("arena/DigitsRecon-v0", **evaluation_kwargs("arena/DigitsRecon-v0"))
    assert env.unwrapped.split == "test" and env.unwrapped.size == 359


def test_other_sets_are_min_max_scaled_with_train_statistics(tmp_path):
    for dataset in ("iris", "wine", "breast_cancer"):
        train = ReconstructionEnv(dataset)
        assert train.X.min(axis=0) == pytest.approx(0) and train.X.max(axis=0) == pytest.approx(1)
        test = ReconstructionEnv(dataset, split="test")
        assert test.X.min() >= 0 and test.X.max() <= 1


def test_user_files_with_and_without_labels(tmp_path):
    X = np.random.default_rng(0).uniform(-5, 5, size=(40, 3))
    np.savez(tmp_path / "unlabelled.npz", X=X)
    env = ReconstructionEnv(str(tmp_path / "unlabelled.npz"), split="test")
    assert env.size == 8 and env.observation_space.shape == (3,)
    np.savez(tmp_path / "labelled.npz", X=X, y=np.arange(40) % 2)
    assert ReconstructionEnv(str(tmp_path / "labelled.npz"), split="test").size == 8
    images = np.random.default_rng(0).uniform(0, 255, size=(30, 5, 6))
    np.savez(tmp_path / "images.npz", X=images)
    env = ReconstructionEnv(str(tmp_path / "images.npz"), batch_size=4, render_mode="rgb_array")
    assert env.observation_space.shape == (4, 5, 6) and env.image_shape == (5, 6)
    header = "a,b,c\n" + "\n".join(",".join(str(v) for v in row) for row in X)
    (tmp_path / "plain.csv").write_text(header + "\n")
    assert ReconstructionEnv(str(tmp_path / "plain.csv")).observation_space.shape == (3,)
    rows = [f"{a},{b},{label}" for (a, b, _), label in zip(X, ["x", "y"] * 20, strict=True)]
    (tmp_path / "labelled.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    assert ReconstructionEnv(str(tmp_path / "labelled.csv")).observation_space.shape == (2,)
    with pytest.raises(ValueError, match=r"no label column 'zzz' in the header \(a, b, label\)"):
        ReconstructionEnv(str(tmp_path / "labelled.csv"), label_column="zzz")
    quoted = [f'"{a}","{b}","{label}"' for (a, b, _), label in zip(X, ["x", "y"] * 20, strict=True)]
    (tmp_path / "quoted.csv").write_text('"a","b","y"\n' + "\n".join(quoted) + "\n")
    env = ReconstructionEnv(str(tmp_path / "quoted.csv"), label_column="y")
    assert env.observation_space.shape == (2,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"noise": "blur"}, "noise must be one of none, mask, gaussian, salt-pepper"),
        ({"noise": "mask", "p": 0.0}, r"p \(the corrupted fraction\) must be in \(0, 1\]"),
        ({"p": 1.5}, r"must be in \(0, 1\], got 1.5"),
        ({"p": "half"}, "p .* must be in"),
        ({"sigma": -0.1}, "sigma .* must be a positive number"),
        ({"sigma": float("inf")}, "sigma .* must be a positive number"),
        ({"split": "validation"}, "split must be"),
        ({"batch_size": 0}, "batch_size"),
        ({"test_size": 1.0}, "test_size"),
        ({"dataset": "cifar10"}, "Unknown dataset 'cifar10'"),
        ({"dataset": "moons"}, "Unknown dataset 'moons'"),
        ({"render_mode": "ansi"}, "render_mode"),
    ],
)
def test_bad_arguments_get_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReconstructionEnv(**kwargs)


def test_bad_files_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ReconstructionEnv(str(tmp_path / "missing.npz"))
    np.savez(tmp_path / "nox.npz", features=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="needs an array X; it has features"):
        ReconstructionEnv(str(tmp_path / "nox.npz"))
    np.savez(tmp_path / "nan.npz", X=np.array([[1.0, np.nan]] * 10))
    with pytest.raises(ValueError, match="NaN"):
        ReconstructionEnv(str(tmp_path / "nan.npz"))
    np.savez(tmp_path / "flat.npz", X=np.zeros(10))
    with pytest.raises(ValueError, match="must have shape"):
        ReconstructionEnv(str(tmp_path / "flat.npz"))
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        ReconstructionEnv(str(tmp_path / "broken.npz"))
    (tmp_path / "words.csv").write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(ValueError, match="non-numeric or missing"):
        ReconstructionEnv(str(tmp_path / "words.csv"))


def test_bad_actions_are_refused():
    env = ReconstructionEnv("iris", batch_size=2)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(np.zeros((2, 4)))
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        env.step(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        env.step("zeros")
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.full((2, 4), np.nan))


@pytest.mark.parametrize(
    ("dataset", "tile"),
    [("digits", (64, 64)), ("wine", (13 * 4, 12))],
)
def test_rgb_array_rendering(dataset, tile):
    env = ReconstructionEnv(dataset, batch_size=20, noise="mask", render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    shown = min(20, MAX_SHOWN)
    expected = (3 * (tile[0] + GAP) + GAP, shown * (tile[1] + GAP) + GAP, 3)
    assert first.dtype == np.uint8 and first.shape == expected
    env.step(np.ones(env.action_space.shape, np.float32))
    frame = env.render()
    assert frame.shape == expected and not np.array_equal(first, frame)
    # The middle band shows the answer: all ones, black ink.
    band = frame[2 * GAP + tile[0] : 2 * GAP + 2 * tile[0], GAP : GAP + tile[1]]
    assert np.all(band == 0)
    env.close()
    env.close()


def test_render_without_a_mode_warns_and_returns_none():
    env = ReconstructionEnv("iris")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
