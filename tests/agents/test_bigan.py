"""bigan: learning on ring8, the encoder capability, ALICE's cycle term, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

import arena
from arena.capabilities import Encoder, Sampler, capabilities
from arena.errors import ConfigError
from envs.generation.metrics import reconstruction_scores, score_samples


def ring8_reconstruction(agent, env) -> dict[str, float]:
    """The reconstruction scores of 1,000 real ring8 samples, in data coordinates."""
    target = env.unwrapped.target
    real = target.sample(np.random.default_rng(5), 1000)
    recon = agent.reconstruct(real / target.scale) * target.scale
    return reconstruction_scores(target, real, recon)


def test_declares_the_sample_and_encode_capabilities():
    from agents.generative.bigan import BiGAN

    assert issubclass(BiGAN, Sampler) and issubclass(BiGAN, Encoder)
    assert capabilities(BiGAN) == ["sample", "encode"]


@pytest.mark.parametrize("bad", [{"cycle_weight": -1.0}, {"discriminator_learning_rate": 0.0}])
def test_bad_config_raises_config_error(bad):
    env = arena.make_env("arena/Ring8-v0")
    with pytest.raises(ConfigError):
        arena.make_agent("bigan", env, **bad)


def test_learns_ring8_in_a_short_run():
    env = arena.make_env("arena/Ring8-v0", batch_size=64)
    agent = arena.make_agent(
        "bigan", env, seed=0, device="cpu", cycle_weight=10.0, learning_rate_decay_steps=1500
    )
    agent.learn(env, 1500, progress=False)
    scores = score_samples(env.unwrapped.target, agent.sample(2500, np.random.default_rng(0)))
    # An untrained generator scores 0 modes and hq 0.0. Measured at seeds 0-2 (about 10 CPU s
    # each): 8, 8 and 7 modes, hq 0.257, 0.269 and 0.181; the thresholds leave a mode or more
    # and 2x on hq. The preset's longer run is in benchmarks/adversarial.py.
    assert scores["modes_captured"] >= 6
    assert scores["hq_fraction"] >= 0.09


def test_the_cycle_term_makes_reconstructions_land_on_the_input_mode():
    env = arena.make_env("arena/Ring8-v0", batch_size=64)
    plain, cycled = (
        arena.make_agent("bigan", env, seed=0, device="cpu", cycle_weight=weight).learn(
            env, 600, progress=False
        )
        for weight in (0.0, 10.0)
    )
    without, with_cycle = ring8_reconstruction(plain, env), ring8_reconstruction(cycled, env)
    # Measured on the segment loop (600 steps, seeds 0-4): MSE 0.115, 0.311, 0.045, 0.051, 0.115
    # without the term, 0.012, 0.014, 0.027, 0.011, 0.014 with it; same mode 0.38-0.88 without,
    # 0.88-1.0 with (1.0 at seed 0). Plain BiGAN's reconstructions can happen to be fair (seed 2),
    # so the check is on a seed where they are not.
    assert with_cycle["recon_mse"] < without["recon_mse"] / 3
    assert with_cycle["same_mode"] >= 0.9


def test_encode_and_reconstruct_shapes():
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent("bigan", env, seed=0, device="cpu")
    assert agent.input_shape == (2,)
    x = np.zeros((7, 2), np.float32)
    assert agent.encode(x).shape == (7, 16) and agent.encode(x).dtype == np.float32
    assert agent.reconstruct(x).shape == (7, 2)
    assert agent.encode(np.zeros((0, 2), np.float32)).shape == (0, 16)


def test_save_load_gives_the_same_samples_and_encodings(tmp_path):
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent("bigan", env, seed=3, device="cpu", cycle_weight=1.0)
    agent.learn(env, 20, progress=False)
    agent.save(tmp_path / "bigan")
    loaded = arena.load(tmp_path / "bigan", device="cpu")
    assert loaded.scale == agent.scale == 1.25
    np.testing.assert_array_equal(
        loaded.sample(100, np.random.default_rng(7)), agent.sample(100, np.random.default_rng(7))
    )
    x = np.random.default_rng(0).uniform(-1, 1, (50, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.encode(x), agent.encode(x))
    np.testing.assert_array_equal(loaded.reconstruct(x), agent.reconstruct(x))
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
