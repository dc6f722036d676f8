"""Tests of the resnet agent, and of the cnn on Fashion-MNIST where it is installed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import arena
from agents.supervised.common import layout
from agents.supervised.networks import jitter
from agents.supervised.resnet import ResNet
from arena import evaluate, make_agent, make_env
from arena.errors import ConfigError, IncompatibleEnvError
from tests.envs.idx_data import make_or_skip

DIGITS = {"batch_size": 64, "flatten": False}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small networks run faster on one thread, and the test machine is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train(name, env_id, steps, env_kwargs, seed=0, **config):
    env = make_env(env_id, **env_kwargs)
    return make_agent(name, env, seed=seed, device="cpu", **config).learn(
        env, steps, progress=False
    )


SMALL = {"widths": (16, 32), "blocks": 1, "early_stopping": False, "learning_rate": 3e-3}


def test_resnet_learns_digit_images():
    agent = train("resnet", "arena/Digits-v0", 23 * 5, DIGITS, **SMALL)
    test = make_env("arena/Digits-v0", split="test", **DIGITS)
    accuracy = evaluate(agent, test, episodes=1).metrics["accuracy"]
    # 359 test images; untrained about 0.1. Measured after 5 epochs (1 CPU second), seeds 0-2:
    # 0.978, 0.975, 0.972; after 4 epochs 0.967, 0.958, 0.969.
    assert accuracy >= 0.94


def test_save_and_load_round_trip_to_the_same_actions(tmp_path):
    kwargs = {"batch_size": 16, "flatten": False}
    agent = train("resnet", "arena/Digits-v0", 20, kwargs, seed=1, augment=True, flip=True)
    agent.save(tmp_path / "ckpt")
    loaded = arena.load(tmp_path / "ckpt", device="cpu")
    test = make_env("arena/Digits-v0", split="test", **kwargs)
    observation, _ = test.reset(seed=0)
    for _ in range(5):
        expected = agent.act(observation)
        np.testing.assert_array_equal(loaded.act(observation), expected)
        observation, _, _, _, _ = test.step(expected)
    for key, value in agent.state().items():  # batch norm's running statistics included
        np.testing.assert_array_equal(value.numpy(), loaded.state()[key].numpy())
    assert loaded.config.flip and loaded.num_timesteps == 20
    loaded.learn(make_env("arena/Digits-v0", **kwargs), 10, progress=False)


def test_augmentation_comes_from_the_agent_seed():
    runs = [
        train("resnet", "arena/Digits-v0", 6, DIGITS, seed=seed, augment=True, **SMALL)
        for seed in (3, 3, 4)
    ]
    same = runs[0].state()["net.1.weight"], runs[1].state()["net.1.weight"]
    torch.testing.assert_close(*same, rtol=0, atol=0)
    assert not torch.equal(same[0], runs[2].state()["net.1.weight"])


def test_jitter_shifts_within_the_limit_and_flips_half():
    generator = torch.Generator().manual_seed(0)
    x = torch.zeros(400, 7, 7)
    x[:, 3, 3] = 1.0
    shifted = jitter(x, generator, 2, False)
    rows, cols = torch.nonzero(shifted, as_tuple=True)[1:]
    assert len(rows) == 400 and rows.min() >= 1 and rows.max() <= 5
    assert {int(r) for r in rows} == {1, 2, 3, 4, 5} and {int(c) for c in cols} == {1, 2, 3, 4, 5}
    x = torch.zeros(400, 7, 7)
    x[:, 0, 0] = 1.0
    flipped = jitter(x, generator, 0, True)
    assert 150 < int(flipped[:, 0, 6].sum()) < 250
    assert torch.equal(flipped[:, 0, 0] + flipped[:, 0, 6], torch.ones(400))
    assert torch.equal(jitter(x, generator, 0, False), x)


@pytest.mark.parametrize("config", [{}, {"widths": (4, 6, 8, 10), "blocks": 3}, {"widths": (5,)}])
def test_the_parameter_count_is_the_built_network_s(config):
    env = make_env("arena/Digits-v0", **DIGITS)
    agent = make_agent("resnet", env, device="cpu", **config)
    net = agent.trainer.net
    counted = sum(t.numel() for k, t in net.state_dict().items() if "num_batches" not in k)
    found = layout(env.observation_space, env.action_space)
    assert ResNet.parameter_count(agent.config, found) == counted


def test_resnet_needs_images_and_checks_its_config():
    with pytest.raises(IncompatibleEnvError, match=r"resnet needs a Box of 2-D images"):
        make_agent("resnet", make_env("arena/Digits-v0", batch_size=4))
    env = make_env("arena/Digits-v0", **DIGITS)
    with pytest.raises(ConfigError, match="widths must list from 1 to 6 values"):
        make_agent("resnet", env, widths=())
    with pytest.raises(ConfigError, match="blocks must be in"):
        make_agent("resnet", env, blocks=0)


def test_the_agent_module_does_not_import_torch():
    code = "import sys, agents.supervised.resnet; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_one_short_cnn_epoch_learns_fashion_mnist():
    kwargs = {"batch_size": 128, "flatten": False}
    env = make_or_skip("arena/FashionMNIST-v0", **kwargs)
    agent = make_agent(
        "cnn", env, seed=0, device="cpu", channels=(8, 16), hidden_size=64, early_stopping=False
    )
    agent.learn(env, 100, progress=False)  # a short epoch: the first 12,800 images
    test = make_env("arena/FashionMNIST-v0", split="test", **kwargs)
    accuracy = evaluate(agent, test, episodes=1).metrics["accuracy"]
    # 10,000 test images; untrained about 0.1. Measured: 0.771 (seed 0, about 6 CPU seconds).
    assert accuracy >= 0.7
