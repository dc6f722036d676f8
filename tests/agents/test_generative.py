"""gan, wgan-gp and vae: spaces, config, learning on ring8, checkpoints and ``arena sample``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import arena
from arena.errors import ConfigError, IncompatibleEnvError
from envs.generation.metrics import score_samples

AGENTS = ["gan", "wgan-gp", "vae"]


def test_entry_point_module_does_not_import_torch():
    code = "import sys, agents.generative.agent; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("name", AGENTS)
def test_refuses_envs_that_are_not_generation_games(name):
    env = arena.make_env("CartPole-v1")
    with pytest.raises(IncompatibleEnvError, match=f"{name} needs a Dict observation"):
        arena.make_agent(name, env)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("gan", {"generator_learning_rate": 0.0}),
        ("gan", {"beta1": 1.0}),
        ("gan", {"hidden_sizes": ()}),
        ("wgan-gp", {"critic_steps": 0}),
        ("wgan-gp", {"gp_weight": -1.0}),
        ("vae", {"recon_std": 0.0}),
        ("vae", {"learning_rate_final_fraction": 2.0}),
        ("vae", {"learning_rate_decay_steps": -1}),
        ("gan", {"pack": 0}),
        ("gan", {"pack": 3}),  # does not divide the batch of 250
        ("gan", {"pack": 2, "rejection_sampling": True}),
        ("gan", {"drs_percentile": 101.0}),
        ("gan", {"refine_steps": -1}),
        ("gan", {"refine_step_size": 0.0}),
        ("gan", {"pack": 2, "refine_steps": 5}),
        ("wgan-gp", {"refine_steps": -1}),
        ("wgan-gp", {"refine_step_size": 0.0}),
    ],
)
def test_bad_config_raises_config_error(name, bad):
    env = arena.make_env("arena/Ring8-v0")
    with pytest.raises(ConfigError):
        arena.make_agent(name, env, **bad)


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("gan", "generator_lr", "generator_learning_rate"),
        ("gan", "discriminator_lr", "discriminator_learning_rate"),
        ("wgan-gp", "critic_lr", "critic_learning_rate"),
        ("vae", "lr_decay_steps", "learning_rate_decay_steps"),
        ("vae", "final_lr_fraction", "learning_rate_final_fraction"),
    ],
)
def test_old_config_keys_are_refused_with_their_new_names(name, old, new):
    env = arena.make_env("arena/Ring8-v0")
    with pytest.raises(ConfigError, match=f"'{old}' was renamed to '{new}'"):
        arena.make_agent(name, env, **{old: 1e-3})


def test_gan_learns_ring8_in_a_short_run():
    env = arena.make_env("arena/Ring8-v0")
    agent = arena.make_agent("gan", env, seed=0, device="cpu")  # a constant learning rate
    agent.learn(env, 4000, progress=False)
    scores = score_samples(env.unwrapped.target, agent.sample(2500, np.random.default_rng(0)))
    # An untrained generator scores 0 modes and 0.0; the protocol's target is 8 and 0.98. The
    # exact numbers follow the CPU's float kernels (BLAS, torch's matmul), so they differ from
    # machine to machine: at 2,000 steps hq was 0.049 on one machine and above 0.05 on another.
    # At 4,000 steps seeds 0 and 1 gave 7-8 modes and hq 0.51 and 0.42 on a 2-core machine: the
    # thresholds leave a margin of 2x on hq and one mode or more.
    assert scores["modes_captured"] >= 6
    assert scores["hq_fraction"] >= 0.2
    report = arena.evaluate(agent, env, episodes=1, seed=0)
    assert report.metrics["modes_captured"] >= 6


def test_training_metrics_are_labelled_apart_from_evaluation():
    # The train summary scores the raw samples made while learning; evaluate scores the trained
    # model through its filters, so their hq_fraction differ (0.95 and 0.998 with the preset).
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    config = {"rejection_sampling": True, "refine_steps": 2}
    agent = arena.make_agent("gan", env, seed=0, device="cpu", **config)
    agent.learn(env, 50, progress=False)  # one training episode of 2,500 samples
    assert set(agent.learn_info) == {"last_training_episode", "scored_on"}
    assert set(agent.learn_info["last_training_episode"]) == {"modes_captured", "hq_fraction"}
    assert "raw samples while it learned" in agent.learn_info["scored_on"]
    assert "arena evaluate scores the trained model's samples" in agent.learn_info["scored_on"]


@pytest.mark.parametrize("name", AGENTS)
def test_save_load_gives_the_same_samples_and_actions(name, tmp_path):
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent(name, env, seed=3, device="cpu").learn(env, 20, progress=False)
    agent.save(tmp_path / name)
    loaded = arena.load(tmp_path / name, device="cpu")
    assert loaded.scale == agent.scale == 1.25
    np.testing.assert_array_equal(
        loaded.sample(100, np.random.default_rng(7)), agent.sample(100, np.random.default_rng(7))
    )
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    # Training resumes from the same optimizer state: one more step agrees too.
    a = agent.learn(env, 10, progress=False).sample(10, np.random.default_rng(0))
    b = loaded.learn(env, 10, progress=False).sample(10, np.random.default_rng(0))
    assert a.shape == b.shape == (10, 2)


@pytest.mark.parametrize("name", AGENTS)
def test_a_checkpoint_with_adams_moments_over_a_mebibyte_loads(name, tmp_path):
    # Adam's moments appear at the first step: here 2 x 4 MB of them, which a fresh agent's
    # state lacks; the reader's size limit must allow for them.
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent(name, env, seed=0, device="cpu", hidden_sizes=(512, 512))
    agent.learn(env, 2, progress=False).save(tmp_path / name)
    loaded = arena.load(tmp_path / name, device="cpu")
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))


def test_learning_rates_decay_with_the_step_count_across_learn_calls(tmp_path):
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent("gan", env, seed=0, device="cpu", learning_rate_decay_steps=40)
    agent.learn(env, 10, progress=False).learn(env, 10, progress=False)
    assert agent.config.learning_rate_fraction(agent.num_timesteps) == pytest.approx(0.5)
    # The 20th step (step count 19) ran at 1 - 19/40 of the configured 1e-3.
    assert agent.model.g_optim.param_groups[0]["lr"] == pytest.approx(1e-3 * 21 / 40)
    agent.save(tmp_path / "gan")
    loaded = arena.load(tmp_path / "gan", device="cpu").learn(env, 30, progress=False)
    assert (
        loaded.config.learning_rate_fraction(loaded.num_timesteps) == 0.0
    )  # the schedule went on from step 20, and ends at 40


def test_packed_gan_learns_and_rejection_sampling_is_deterministic():
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    packed = arena.make_agent("gan", env, seed=0, device="cpu", pack=2)
    samples = packed.learn(env, 20, progress=False).sample(10, np.random.default_rng(0))
    assert samples.shape == (10, 2)
    agent = arena.make_agent("gan", env, seed=0, device="cpu", rejection_sampling=True)
    agent.learn(env, 200, progress=False)
    obs, _ = env.reset(seed=0)
    filtered = agent.act(obs)
    np.testing.assert_array_equal(filtered, agent.act(obs))
    agent.model.rejection_sampling = False
    assert not np.array_equal(filtered, agent.act(obs))


def test_refinement_climbs_the_discriminator_and_is_deterministic():
    import torch

    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent("gan", env, seed=0, device="cpu", refine_steps=20)
    agent.learn(env, 200, progress=False)
    obs, _ = env.reset(seed=0)
    refined = agent.act(obs)
    np.testing.assert_array_equal(refined, agent.act(obs))
    agent.model.refine_steps = 0
    raw = agent.act(obs)
    with torch.no_grad():
        logits = [agent.model.discriminator(torch.as_tensor(x)).mean() for x in (raw, refined)]
    assert logits[1] > logits[0]


def test_wgan_gp_refinement_climbs_the_critic_and_is_deterministic():
    import torch

    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent("wgan-gp", env, seed=0, device="cpu", refine_steps=20)
    agent.learn(env, 200, progress=False)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(agent.act(obs), agent.act(obs))
    noise = torch.as_tensor(obs["noise"].reshape(50, -1))
    with torch.no_grad():  # unclipped samples: act clips to the action box
        refined, raw = agent.model.decode(noise), agent.model.generator(noise)
        values = [agent.model.critic(x).mean() for x in (raw, refined)]
    assert values[1] > values[0]


@pytest.mark.parametrize("name", AGENTS)
def test_a_training_act_is_one_training_step_and_a_greedy_act_learns_nothing(name):
    import torch

    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent(name, env, seed=0, device="cpu")
    observation, _ = env.reset(seed=0)
    before = {k: v.clone() for k, v in agent.state().items()}
    agent.act(observation)
    assert agent.model.updates == 0
    assert all(torch.equal(v, before[k]) for k, v in agent.state().items())
    fake = agent.act(observation, explore=True)  # what the core loop calls while learning
    assert agent.model.updates == 1 and fake.shape == (50, 2)
    after = agent.state()  # now with the optimizers' state too
    changed = [k for k, v in before.items() if not torch.equal(v, after[k])]
    assert any(k.endswith(".0.weight") for k in changed)  # wgan-gp steps only its critic here


def test_same_seed_same_training():
    def run() -> np.ndarray:
        env = arena.make_env("arena/Ring8-v0", batch_size=50)
        agent = arena.make_agent("wgan-gp", env, seed=5, device="cpu")
        return agent.learn(env, 30, progress=False).sample(20, np.random.default_rng(0))

    np.testing.assert_array_equal(run(), run())


def test_cli_sample_writes_the_agents_samples(tmp_path):
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    agent = arena.make_agent("gan", env, seed=1, device="cpu").learn(env, 10, progress=False)
    agent.save(tmp_path / "gan")
    out = tmp_path / "samples.npy"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "arena.cli",
            "sample",
            "--checkpoint",
            str(tmp_path / "gan"),
            "--n",
            "300",
            "--seed",
            "4",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote 300 samples of shape (2,) from gan" in result.stdout
    written = np.load(out, allow_pickle=False)
    np.testing.assert_allclose(written, agent.sample(300, np.random.default_rng(4)), rtol=1e-6)
    assert not list(Path(tmp_path).glob(".samples.npy.*"))


@pytest.mark.cuda
def test_runs_on_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    env = arena.make_env("arena/Ring8-v0", batch_size=50)
    for name in AGENTS:
        agent = arena.make_agent(name, env, seed=0, device="cuda").learn(env, 20, progress=False)
        assert agent.model.device.type == "cuda"
        assert agent.sample(10, np.random.default_rng(0)).shape == (10, 2)


@pytest.mark.slow
def test_gan_preset_meets_the_ring8_target():
    from arena.training import build_agent

    agent, env, steps = build_agent("gan", "arena/Ring8-v0", seed=0, device="cpu")
    agent.learn(env, steps, progress=False)
    filtered = arena.evaluate(agent, env, episodes=1, seed=10_000).metrics
    agent.model.rejection_sampling = False
    agent.model.refine_steps = 0
    raw = arena.evaluate(agent, env, episodes=1, seed=10_000).metrics
    # Measured at seed 0: 8 modes, hq 1.000 with DRS and refinement, 0.964 with neither
    # (again on this branch); untrained 0 modes and 0.0. The target is 0.98 (over seeds 0-4:
    # 0.998, seeds 5-9: 0.994). Without the filters the mean over seeds 0-4 is 0.945, so raw is
    # held to 0.90, not to 0.93, which sat 0.034 under seed 0. torch's CPU kernels decide the
    # last digits.
    assert filtered["modes_captured"] == raw["modes_captured"] == 8
    assert filtered["hq_fraction"] >= 0.98
    assert raw["hq_fraction"] >= 0.90
