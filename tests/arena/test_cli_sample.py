"""``arena sample``: its errors for agents that cannot generate and for bad arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import arena


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "arena.cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def random_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = arena.make_env("arena/Chain-v0")
    agent = arena.make_agent("random", env, seed=0)
    return agent.learn(env, 10, progress=False).save(tmp_path_factory.mktemp("random"))


def test_sample_refuses_an_agent_that_cannot_generate(random_checkpoint: Path, tmp_path: Path):
    out = tmp_path / "x.npy"
    result = run_cli("sample", "--checkpoint", str(random_checkpoint), "--out", str(out))
    assert result.returncode == 2
    assert "random agents cannot generate samples" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "0", "--out", "x.npy"], "--n must be at least 1"),
        (["--out", "x.csv"], "--out must name a .npy file"),
        (["--out", "no/such/dir/x.npy"], "does not exist"),
    ],
)
def test_sample_rejects_bad_arguments(random_checkpoint: Path, args: list[str], message: str):
    result = run_cli("sample", "--checkpoint", str(random_checkpoint), *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_sample_reports_a_missing_checkpoint(tmp_path: Path):
    result = run_cli("sample", "--checkpoint", str(tmp_path / "none"), "--out", "x.npy")
    assert result.returncode == 2
    assert "No checkpoint" in result.stderr
