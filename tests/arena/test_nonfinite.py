"""Non-finite training stops with the step named and keeps the last finite checkpoint; NaN
returns are reported, not crashed on (issue #14, item 4)."""

from __future__ import annotations

import hashlib
import json
import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from safetensors.torch import load, save

import arena
import envs  # noqa: F401  (registers the arena envs)
from arena.agent import Agent
from arena.errors import TrainingError
from arena.evaluation import EvalReport
from arena.guard import LOSS_EVERY, NonFiniteGuard, first_nonfinite
from arena.training import train
from tests.conftest import run_arena


class _Table(Agent):
    """A stand-in with one numpy table, which a test can poison."""

    name = "table"

    def __init__(self) -> None:
        super().__init__(gym.spaces.Discrete(2), gym.spaces.Discrete(2))
        self.q = np.zeros((2, 2))

    def act(self, observation, explore=False):
        return 0

    def _learn(self, env, steps, callback):
        raise NotImplementedError

    def state(self):
        return {"q": self.q, "visits": np.zeros(2, np.int64)}


def test_guard_stops_on_a_non_finite_loss_with_the_step_named():
    agent = _Table()
    guard = NonFiniteGuard(every=1_000)
    guard.on_learn_start(agent, 100)
    agent.record_loss(torch.tensor(1e30))
    agent.record_loss(None)
    assert guard.on_step(LOSS_EVERY)
    agent.record_loss(torch.tensor(2.0))
    agent.record_loss(torch.tensor(math.inf))
    agent.record_loss(torch.tensor(3.0))
    assert guard.on_step(LOSS_EVERY + 1)  # no device sync between two checks
    with pytest.raises(
        TrainingError,
        match=rf"^table: the training loss became nan or inf.* by step {2 * LOSS_EVERY}\.",
    ):
        guard.on_step(2 * LOSS_EVERY)
    guard.on_learn_end(agent)  # stopped already: no second error


def test_guard_checks_parameters_on_the_checkpoint_cadence_and_at_the_end():
    agent = _Table()
    guard = NonFiniteGuard(every=100)
    guard.on_learn_start(agent, 1_000)
    agent.q[1, 0] = np.nan
    assert guard.on_step(50)  # between checkpoints only the losses are checked
    with pytest.raises(TrainingError, match=r"parameter 'q' became nan or infinite by step 100"):
        guard.on_step(100)
    agent.q[:] = 0
    guard.on_learn_start(agent, 10)
    agent.q[0, 0] = -np.inf
    agent.num_timesteps = 7
    with pytest.raises(TrainingError, match="by step 7"):
        guard.on_learn_end(agent)


def test_first_nonfinite_reads_numpy_and_torch_floats_and_skips_integers():
    assert first_nonfinite({"a": np.zeros(3), "b": torch.ones(2), "c": np.arange(3)}) is None
    assert first_nonfinite({"a": np.zeros(3), "b": torch.tensor([1.0, math.nan])}) == "b"
    assert first_nonfinite({"s": torch.tensor(5), "t": np.array([np.inf], np.float32)}) == "t"


def _no_traceback(done):
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("agent", "env", "steps", "save_every", "step"),
    [("mlp", "arena/Digits-v0", "120", "12", 12), ("lstm", "arena/Sine-v0", "600", "100", 100)],
)
def test_cli_stops_a_diverging_run_and_writes_no_non_finite_checkpoint(
    tmp_path, agent, env, steps, save_every, step
):
    out = tmp_path / "run"
    done = run_arena(
        "train", agent, env, "--steps", steps, "--save-every", save_every,
        "--out", str(out), "--set", "learning_rate=1e30",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    _no_traceback(done)
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith(f"arena: training stopped: {agent}: the training loss became nan")
    assert f"by step {step}." in message
    # The first update diverged, so there was never a finite checkpoint to keep, and no other.
    assert not (out / "manifest.json").exists()
    assert not out.exists() or not list(out.glob("state-*"))


def _tamper_learning_rate(run, learning_rate):
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["config"]["learning_rate"] = learning_rate
    for group in manifest["extra"]["optimizer"]["param_groups"]:
        group["lr"] = learning_rate
    (run / "manifest.json").write_text(json.dumps(manifest))


def test_cli_resume_that_diverges_keeps_the_last_finite_checkpoint(tmp_path):
    run = tmp_path / "run"
    train(
        "mlp",
        "arena/Digits-v0",
        out=run,
        steps=24,
        save_every=12,
        overrides={"early_stopping": False},
        device="cpu",
        progress=False,
    )
    _tamper_learning_rate(run, 1e30)  # as if the run had been started with it
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    done = run_arena("train", "--resume", str(run), "--out", str(run), "--steps", "48")
    assert done.returncode == 1, done.stderr
    _no_traceback(done)
    # The resume checks every tenth of its 48 steps (4); mlp is on the core loop, which calls
    # on_step after every step, so the first check after the divergence is at step 28.
    assert "training stopped: mlp: the training loss became nan or infinite by step 28" in (
        done.stderr
    )
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert {k: v for k, v in after.items() if k != "progress.csv"} == {
        k: v for k, v in before.items() if k != "progress.csv"
    }
    kept = arena.load(run, device="cpu")
    assert kept.num_timesteps == 24
    assert first_nonfinite(kept.state()) is None


class _PoisonTruth(gym.Wrapper):
    """Reveals a NaN truth from the ``at``-th step on, as a broken data source would."""

    def __init__(self, env, at):
        super().__init__(env)
        self.at, self.count = at, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.count += 1
        if self.count >= self.at:
            info = {**info, "truth": np.full_like(np.asarray(info["truth"], float), np.nan)}
        return obs, reward, terminated, truncated, info


def test_a_run_poisoned_mid_way_keeps_its_last_finite_checkpoint(tmp_path, monkeypatch):
    import arena.building

    real_make = arena.building.make_env
    monkeypatch.setattr(
        arena.building, "make_env", lambda *a, **k: _PoisonTruth(real_make(*a, **k), 500)
    )
    out = tmp_path / "run"
    with pytest.raises(TrainingError, match=r"lstm: the training loss became nan .* by step 500"):
        train("lstm", "arena/Sine-v0", out=out, steps=1_000, save_every=100, progress=False)
    kept = arena.load(out, device="cpu")
    assert kept.num_timesteps == 400
    assert first_nonfinite(kept.state()) is None


def _nan_head(run):
    """Rewrites a sequence checkpoint so that its output layer is NaN (by hand, as an attacker
    or a bug outside the program would; the program itself never saves one)."""
    manifest = json.loads((run / "manifest.json").read_text())
    old = run / manifest["state"]["file"]
    arrays = load(old.read_bytes())
    arrays = {k: v * math.nan if k.startswith("net.head") else v for k, v in arrays.items()}
    data = save(arrays)
    digest = hashlib.sha256(data).hexdigest()
    new = run / f"state-{digest[:16]}.safetensors"
    new.write_bytes(data)
    old.unlink()
    manifest["state"].update(file=new.name, sha256=digest)
    (run / "manifest.json").write_text(json.dumps(manifest))


def test_a_nan_agent_is_evaluated_and_a_nan_checkpoint_refused(tmp_path):
    import torch

    import arena

    run = tmp_path / "run"
    train("lstm", "arena/Sine-v0", out=run, steps=200, device="cpu", progress=False)
    agent = arena.load(run, device="cpu")
    with torch.no_grad():
        for name, tensor in agent.state().items():
            if name.startswith("net.head"):
                tensor.fill_(math.nan)  # a bug in memory, which evaluate must survive
    env = arena.make_env("arena/Sine-v0", **agent.env_kwargs)
    report = arena.evaluate(agent, env, episodes=2)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))  # strict JSON: no NaN
    assert data["episodes"] == 2
    assert data["mean_return"] is None and data["std_return"] is None
    assert data["min_return"] is None and data["max_return"] is None
    _nan_head(run)  # the same on disk: a checkpoint arena never writes, refused on load
    done = run_arena("evaluate", "--checkpoint", str(run), "--episodes", "2", "--json")
    assert done.returncode == 2, done.stderr
    assert "holds NaN or infinite values in 'net.head" in done.stderr


def test_report_with_non_finite_returns_is_strict_json():
    report = EvalReport("a", "e", 3, 0, [1.0, math.nan, 2.0], [1, 1, 1])
    assert math.isnan(report.std_return) and math.isnan(report.mean_return)
    assert math.isnan(report.summary()["min_return"])
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["max_return"] is None
    infinite = EvalReport("a", "e", 2, 0, [1.0, math.inf], [1, 1]).to_dict()
    assert infinite["max_return"] is None and infinite["min_return"] == 1.0
    finite = EvalReport("a", "e", 2, 0, [1.0, 3.0], [1, 1]).to_dict()
    assert finite["std_return"] == 1.0 and finite["min_return"] == 1.0
