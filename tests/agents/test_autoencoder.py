"""ae, sparse-ae and denoising-ae: they learn what they say, save and load, and encode."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from sklearn.decomposition import PCA

import arena
from agents.autoencoder.config import DenoisingConfig
from agents.autoencoder.networks import corrupt
from arena.errors import ConfigError, IncompatibleEnvError
from arena.registry import evaluation_kwargs
from envs.reconstruction.data import load_split
from tests.conftest import run_arena

RECON, DENOISE = "arena/DigitsRecon-v0", "arena/DigitsDenoise-v0"
STEPS = 1000
"""Each learning test's budget: 1,000 batches of 32, about 3 CPU seconds."""


def digits(split: str) -> np.ndarray:
    """The env's flat digits of a split, in [0, 1]."""
    X = load_split("digits", split, 0.2, 0, "label").X
    return X.reshape(len(X), -1)


def trained(name: str, env_id: str, steps: int, seed: int = 0, **config) -> arena.Agent:
    env = arena.make_env(env_id, batch_size=32)
    agent = arena.make_agent(name, env, seed=seed, device="cpu", **config)
    return agent.learn(env, steps, progress=False)


def scores(agent: arena.Agent, env_id: str) -> dict[str, float]:
    """One episode of the env's test split."""
    env = arena.make_env(env_id, batch_size=32, **evaluation_kwargs(env_id))
    return arena.evaluate(agent, env, episodes=1, seed=0).metrics


@pytest.fixture(scope="module")
def ae_on_digits() -> arena.Agent:
    return trained("ae", RECON, STEPS)


def test_a_short_run_beats_pca_with_the_same_code_size(ae_on_digits):
    train, test = digits("train"), digits("test")
    pca = PCA(16, random_state=0).fit(train)
    rebuilt = np.clip(pca.inverse_transform(pca.transform(test)), 0, 1)
    pca_mse = float(np.mean((rebuilt - test) ** 2))
    mse = scores(ae_on_digits, RECON)["mse"]
    assert mse < 0.8 * pca_mse, (mse, pca_mse)  # measured 0.0079 and 0.0070 against 0.0115


def test_the_sparsity_penalty_pulls_the_mean_activation_towards_rho():
    test = digits("test")
    kl = trained("sparse-ae", RECON, STEPS, rho=0.1).encode(test).mean()
    free = trained("sparse-ae", RECON, STEPS, rho=0.1, sparsity_weight=0.0).encode(test).mean()
    l1_agent = trained("sparse-ae", RECON, STEPS, sparsity="l1")  # l1's own default weight
    l1 = l1_agent.encode(test).mean()
    assert abs(kl - 0.1) < 0.02, kl  # measured 0.099 and 0.102 (seeds 0, 1)
    assert free > 0.3, free  # the same sigmoid code without the penalty: 0.50 and 0.51
    assert l1 < 0.5 * free, (l1, free)  # 0.038 and 0.050
    # ... and the code still carries the digits: with kl's weight (0.03) every unit was off
    # and the MSE 0.074, that of answering the mean digit; measured 0.023 and 0.016.
    assert scores(l1_agent, RECON)["mse"] < 0.04


def test_denoising_gains_over_the_plain_autoencoder_on_masked_digits():
    dae_gain = scores(trained("denoising-ae", DENOISE, STEPS), DENOISE)["psnr_gain"]
    ae_gain = scores(trained("ae", DENOISE, STEPS), DENOISE)["psnr_gain"]
    assert dae_gain >= 4.0, dae_gain  # measured 4.99 and 5.02 dB (seeds 0, 1)
    assert dae_gain >= ae_gain + 2.0, (dae_gain, ae_gain)  # ae: 0.74 and 0.81 dB


def test_on_clean_inputs_the_denoising_autoencoder_corrupts_them_itself(ae_on_digits):
    # Trained on DigitsRecon (no noise), it still learns to fill in masked entries.
    dae_gain = scores(trained("denoising-ae", RECON, STEPS), DENOISE)["psnr_gain"]
    ae_gain = scores(ae_on_digits, DENOISE)["psnr_gain"]
    assert dae_gain >= 4.0, dae_gain  # measured 4.88 and 4.91 dB (seeds 0, 1)
    assert dae_gain >= ae_gain + 1.0, (dae_gain, ae_gain)  # ae: 2.83 and 2.42 dB


@pytest.mark.parametrize("noise", ["mask", "salt-pepper", "gaussian"])
def test_the_agents_corruption_does_what_it_says_and_repeats_with_its_seed(noise):
    x = torch.full((50, 64), 0.5)
    config = DenoisingConfig(noise=noise, p=0.25, sigma=0.1)
    first = corrupt(x, config, torch.Generator().manual_seed(3))
    again = corrupt(x, config, torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    assert not torch.equal(first, corrupt(x, config, torch.Generator().manual_seed(4)))
    changed = (first != x).sum(dim=1)
    if noise == "mask":
        assert (changed == 16).all() and set(first[first != x].tolist()) == {0.0}
    elif noise == "salt-pepper":
        assert (changed == 16).all() and set(first[first != x].tolist()) == {0.0, 1.0}
    else:
        assert abs(float((first - x).std()) - 0.1) < 0.01
    assert float(first.min()) >= 0 and float(first.max()) <= 1


@pytest.mark.parametrize("name", ["ae", "sparse-ae", "denoising-ae"])
def test_save_and_load_give_the_same_reconstructions_and_codes(name, tmp_path):
    agent = trained(name, RECON, 30)
    test = digits("test")[:40]
    loaded = arena.load(agent.save(tmp_path / name), device="cpu")
    np.testing.assert_array_equal(loaded.reconstruct(test), agent.reconstruct(test))
    np.testing.assert_array_equal(loaded.encode(test), agent.encode(test))
    assert loaded.encode(test).shape == (40, agent.config.code_size)
    assert loaded.encode(test).dtype == np.float32


def test_a_batch_of_one_plays_too():
    env = arena.make_env(RECON)
    agent = arena.make_agent("ae", env, seed=0, device="cpu").learn(env, 5, progress=False)
    observation, _ = env.reset(seed=0)
    assert env.action_space.contains(agent.act(observation))
    assert agent.input_shape == (64,)


@pytest.mark.parametrize(
    ("observation_space", "action_space", "needs"),
    [
        (spaces.Discrete(4), spaces.Discrete(4), "a Box observation in [0, 1]"),
        (spaces.Box(-5, 5, (8,)), spaces.Box(-1, 1, (8,)), "a Box observation in [0, 1]"),
        (spaces.Box(0, 1, (2, 4, 4)), spaces.Box(-1, 1, (2, 4, 4)), "of shape (D,) or (B, D)"),
        (spaces.Box(0, 1, (8,)), spaces.Box(-1, 1, (4,)), "a Box action of the same shape"),
        (spaces.Box(0, 1, (8,)), spaces.Discrete(8), "a Box action of the same shape"),
        (spaces.Box(0, 1, (8,)), spaces.Box(0, 0.5, (8,)), "whose bounds hold [0, 1]"),
    ],
)
def test_other_spaces_are_refused(observation_space, action_space, needs):
    for name in ("ae", "sparse-ae", "denoising-ae"):
        cls = arena.registry.agent_class(name)
        with pytest.raises(IncompatibleEnvError, match=re.escape(needs)):
            cls(observation_space, action_space)


class HideInfo(gym.Wrapper):
    """Steps the env but shows an empty ``info``."""

    def step(self, action):
        observation, reward, terminated, truncated, _ = self.env.step(action)
        return observation, reward, terminated, truncated, {}


def test_denoising_needs_the_clean_inputs_in_info():
    env = HideInfo(arena.make_env(RECON, batch_size=4))
    agent = arena.make_agent("denoising-ae", env, seed=0, device="cpu")
    with pytest.raises(IncompatibleEnvError, match=r'reveals the clean inputs in info\["clean"\]'):
        agent.learn(env, 2, progress=False)


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "ae"
    done = run_arena("train", "ae", RECON, "--steps", "40", "--out", str(run), "--seed", "1")
    assert done.returncode == 0, done.stderr
    return run


def test_arena_encode_writes_a_trained_autoencoders_codes(ae_run, tmp_path):
    inputs = digits("test")[:25]
    np.savez(tmp_path / "inputs.npz", X=inputs)
    out = tmp_path / "codes.npy"
    done = run_arena(
        "encode", "--checkpoint", str(ae_run), "--input", str(tmp_path / "inputs.npz"),
        "--out", str(out), "--device", "cpu",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Wrote 25 codes of size (16,) from ae to {out}.\n"
    expected = arena.load(ae_run, device="cpu").encode(inputs)
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (np.zeros((3, 8, 8)), r"shape \(3, 8, 8\).*\(n, 64\)"),
        (np.full((2, 64), np.inf), "input 0 holds a non-finite"),
    ],
)
def test_arena_encode_refuses_bad_inputs_with_exit_2(ae_run, tmp_path, inputs, message):
    np.save(tmp_path / "x.npy", inputs)
    done = run_arena(
        "encode", "--checkpoint", str(ae_run), "--input", str(tmp_path / "x.npy"),
        "--out", str(tmp_path / "codes.npy"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert re.search(message, done.stderr), done.stderr


def test_training_on_an_env_it_cannot_play_exits_2(tmp_path):
    done = run_arena(
        "train", "sparse-ae", "CartPole-v1", "--steps", "5", "--out", str(tmp_path / "r")
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "sparse-ae needs a Box observation in [0, 1]" in done.stderr


def test_an_mlp_starts_from_an_autoencoders_hidden_layers_not_its_linear_code(
    ae_on_digits, tmp_path
):
    source = ae_on_digits.save(tmp_path / "ae")
    assert ae_on_digits.encoder_activations() == ["relu", "linear"]
    env = arena.make_env("arena/Digits-v0", scale="minmax", batch_size=32)
    scratch = arena.make_agent("mlp", env, seed=0, device="cpu", hidden_sizes=(128, 16))
    for hidden_sizes in ((128, 16), (128, 32), (128,)):
        mlp = arena.make_agent(
            "mlp", env, seed=0, device="cpu", hidden_sizes=hidden_sizes, init_from=str(source)
        )
        mlp.learn(env, 0, progress=False)
        assert mlp.learn_info["init_from_layers"] == 1
        first = next(m for m in mlp.trainer.net if isinstance(m, torch.nn.Linear))
        weight, bias = ae_on_digits.encoder_layers()[0]
        np.testing.assert_array_equal(first.weight.detach().numpy(), weight)
        np.testing.assert_array_equal(first.bias.detach().numpy(), bias)
    # The code layer learned without the relu that would follow it here: (128, 16) keeps its
    # own start for it, the one it has without init_from.
    mlp = arena.make_agent(
        "mlp", env, seed=0, device="cpu", hidden_sizes=(128, 16), init_from=str(source)
    )
    mlp.learn(env, 0, progress=False)
    np.testing.assert_array_equal(
        mlp.trainer.net[3].weight.detach().numpy(), scratch.trainer.net[3].weight.detach().numpy()
    )
    # An mlp with another activation than the encoder's hidden layers has nothing to take.
    mlp = arena.make_agent(
        "mlp", env, seed=0, device="cpu", hidden_sizes=(128,), activation="tanh",
        init_from=str(source),
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"first layer learned with relu; this mlp's .* tanh"):
        mlp.learn(env, 1, progress=False)


def test_init_from_refuses_mismatched_layers_and_other_agents(ae_on_digits, tmp_path):
    source = ae_on_digits.save(tmp_path / "ae")
    env = arena.make_env("arena/Digits-v0", scale="minmax", batch_size=32)
    mlp = arena.make_agent("mlp", env, seed=0, device="cpu", init_from=str(source))
    with pytest.raises(ConfigError, match=r"layers are 64 -> 128 -> 16; the mlp's start 64 -> 256"):
        mlp.learn(env, 1, progress=False)
    other = arena.make_agent("random", env, seed=0).save(tmp_path / "random")
    mlp = arena.make_agent("mlp", env, seed=0, device="cpu", init_from=str(other))
    with pytest.raises(ConfigError, match="holds a random checkpoint; it needs an autoencoder"):
        mlp.learn(env, 1, progress=False)


def test_init_from_a_missing_folder_exits_2(tmp_path):
    done = run_arena(
        "train", "mlp", "arena/Digits-v0", "--steps", "2", "--out", str(tmp_path / "r"),
        "--set", f"init_from={tmp_path / 'nothing'}",
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "nothing" in done.stderr


def test_init_from_refuses_inputs_scaled_otherwise_than_the_encoders(ae_on_digits, tmp_path):
    # The autoencoder learned from pixel / 16, in [0, 1]; Digits-v0's default standardises the
    # pixels (they span [-1, 2]) and "none" keeps 0-16: the encoder would see other inputs.
    source = ae_on_digits.save(tmp_path / "ae")
    for scale, span in (("standard", r"\[-1, 2\]"), ("none", r"\[0, 16\]")):
        env = arena.make_env("arena/Digits-v0", scale=scale, batch_size=32)
        mlp = arena.make_agent(
            "mlp", env, seed=0, device="cpu", hidden_sizes=(128,), init_from=str(source)
        )
        with pytest.raises(
            ConfigError, match=rf"inputs in \[0, 1\]; this env's inputs span {span}"
        ):
            mlp.learn(env, 1, progress=False)
    # minmax scales digits as the reconstruction env does: the encoder sees the same inputs
    # (the same train split, the same pixel values) and the copied layers give its codes.
    env = arena.make_env("arena/Digits-v0", scale="minmax", batch_size=32)
    x = env.unwrapped.train_rows(10_000)  # all of the train split (fewer rows than that)
    np.testing.assert_array_equal(np.unique(x, axis=0), np.unique(digits("train"), axis=0))
    mlp = arena.make_agent(
        "mlp", env, seed=0, device="cpu", hidden_sizes=(128,), init_from=str(source)
    )
    mlp.learn(env, 0, progress=False)
    features = mlp.trainer.net[:3](torch.as_tensor(x[:50])).detach().numpy()
    with torch.no_grad():
        expected = ae_on_digits.trainer.encoder[:2](torch.as_tensor(x[:50])).numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-5)


def test_init_from_on_standardised_digits_exits_2_and_minmax_trains(ae_run, tmp_path):
    args = [
        "train", "mlp", "arena/Digits-v0", "--steps", "2",
        "--set", f"init_from={ae_run}", "--set", "hidden_sizes=[128]",
    ]  # fmt: skip
    done = run_arena(*args, "--out", str(tmp_path / "standard"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "scale=minmax" in done.stderr, done.stderr
    done = run_arena(*args, "--out", str(tmp_path / "minmax"), "--env-kwargs", "scale=minmax")
    assert done.returncode == 0, done.stderr


def test_a_wide_autoencoders_checkpoint_loads_with_adams_moments(tmp_path):
    # Adam's moments (2 x 1.3 MB here) appear at the first update; a fresh agent's state lacks
    # them, and the reader's size limit must allow for them (it once refused such a checkpoint).
    env = arena.make_env("arena/DigitsRecon-v0")
    agent = arena.make_agent("ae", env, seed=0, device="cpu", hidden_sizes=(512, 512))
    agent.learn(env, 2, progress=False).save(tmp_path / "ae")
    loaded = arena.load(tmp_path / "ae", device="cpu")
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
