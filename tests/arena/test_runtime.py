"""The torch runtime: the core sets torch's threads around learn and evaluate, nothing else does;
and format-1 checkpoints, which carried the threads in their configs, still load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import arena
import envs  # noqa: F401  (registers arena/ ids)
from arena.callbacks import Callback
from arena.manifest import FORMAT_VERSION, RETIRED_CONFIG_FIELDS
from tests.conftest import run_arena

FIXTURES = Path(__file__).parent.parent / "fixtures" / "v1"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
ENV_KWARGS = {"cnn": {"batch_size": 64, "flatten": False}}


@pytest.fixture
def two_threads():
    """Torch at two threads, as a host program might have set it; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


class ThreadProbe(Callback):
    """Records torch's thread count each time the loop reports its steps."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def on_step(self, step: int) -> bool:
        self.seen.add(torch.get_num_threads())
        return True


def _fixture(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_format_1_checkpoint_loads_and_plays_as_it_did(name, tmp_path, two_threads):
    manifest = json.loads((FIXTURES / name / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    agent = arena.load(_fixture(name, tmp_path), device="cpu")
    assert torch.get_num_threads() == 2  # loading touched nothing process-wide
    config = vars(agent.config) if hasattr(agent.config, "__dict__") else {}
    assert not set(RETIRED_CONFIG_FIELDS) & set(config)
    env = arena.make_env(EXPECTED[name]["env"], **ENV_KWARGS.get(name, {}))
    observation, _ = env.reset(seed=0)
    agent.reset()
    action = np.asarray(agent.act(observation))
    expected = np.asarray(EXPECTED[name]["action"])
    if np.issubdtype(expected.dtype, np.integer):
        np.testing.assert_array_equal(action, expected)
    else:  # float32 arithmetic: the last bits differ between CPUs (their SIMD kernels)
        np.testing.assert_allclose(action, expected, rtol=1e-5, atol=1e-6)


def test_an_upgraded_checkpoint_is_saved_in_the_new_format(tmp_path):
    agent = arena.load(_fixture("mlp", tmp_path), device="cpu")
    agent.save(tmp_path / "again")
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION == 3
    assert "cpu_threads" not in manifest["config"]


@pytest.mark.parametrize(
    ("name", "env_id", "steps"),
    [("mlp", "arena/Iris-v0", 60), ("gru", "arena/Sine-v0", 60), ("gan", "arena/Ring8-v0", 5)],
)
def test_learn_and_evaluate_use_the_agents_threads_and_restore_torchs(
    name, env_id, steps, two_threads
):
    env = arena.make_env(env_id)
    agent = arena.make_agent(name, env, seed=0, device="cpu")
    assert torch.get_num_threads() == 2  # building the agent set nothing
    probe = ThreadProbe()
    agent.learn(env, steps, callback=probe, progress=False)
    assert probe.seen == {1} and torch.get_num_threads() == 2
    agent.threads = 0  # leaves torch's own setting
    probe = ThreadProbe()
    agent.learn(env, steps, callback=probe, progress=False)
    assert probe.seen == {2} and torch.get_num_threads() == 2
    agent.threads = 1
    arena.evaluate(agent, arena.make_env(env_id), episodes=1)
    assert torch.get_num_threads() == 2


def test_the_cli_takes_threads_and_refuses_bad_counts(tmp_path):
    checkpoint = _fixture("q-learning", tmp_path)
    done = run_arena("evaluate", "--checkpoint", str(checkpoint), "--threads", "2", "--json")
    assert done.returncode == 0, done.stderr
    bad = run_arena("evaluate", "--checkpoint", str(checkpoint), "--threads", "-1")
    assert bad.returncode == 2 and "--threads must be at least 0" in bad.stderr
    retired = run_arena(
        "train", "mlp", "arena/Iris-v0", "--out", str(tmp_path / "r"), "--set", "cpu_threads=2"
    )
    assert retired.returncode == 2 and "Unknown mlp config key 'cpu_threads'" in retired.stderr
