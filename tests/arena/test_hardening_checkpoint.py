"""Hardening, the checkpoint's side: a tampered checkpoint is refused before anything is built.

Every case asserts what the issue asks: a clear ``CheckpointError`` (exit 2 on the command line,
no traceback) naming what is wrong, nothing imported on the checkpoint's word, no file outside the
checkpoint read, and every file left byte-identical.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import arena
import envs  # noqa: F401  (registers arena/ ids)
from arena.checkpoint import MANIFEST, load_checkpoint, save_checkpoint
from arena.errors import ArenaError, CheckpointError, TrainingError
from tests.conftest import run_arena

Edit = Callable[[dict], object]


def _space(data: dict) -> Edit:
    return lambda m: m.update(observation_space=data)


def _nested_tuple(depth: int) -> dict:
    space: dict = {"type": "Discrete", "n": 2, "start": 0}
    for _ in range(depth):
        space = {"type": "Tuple", "spaces": [space]}
    return space


BOX = {"type": "Box", "shape": [2], "dtype": "float32", "low": 0.0, "high": 1.0}

# (edit of a valid manifest, a fragment of the message). Each is a case the attack found, or
# its neighbour.
TAMPERED: list[tuple[Edit, str]] = [
    (lambda m: m.update(format_version=0), "format_version 0"),
    (lambda m: m.update(format_version=-5), "format_version -5"),
    (lambda m: m.update(format_version="1"), "format_version '1'"),
    (lambda m: m.update(format_version=True), "format_version True"),
    (lambda m: m.update(steps="abc"), "'steps' must be an integer"),
    (lambda m: m.update(steps=None), "'steps' must be an integer"),
    (lambda m: m.update(steps=-1), "'steps' must be an integer"),
    (lambda m: m.update(steps=2**64), "'steps' must be an integer"),
    (lambda m: m.update(steps=1.5), "'steps' must be an integer"),
    (lambda m: m.update(seed="abc"), "'seed' must be null or an integer"),
    (lambda m: m.update(seed=-3), "'seed' must be null or an integer"),
    (lambda m: m.update(agent=["random"]), "'agent' must be an agent's entry-point name"),
    (lambda m: m.update(agent=""), "'agent' must be"),
    (lambda m: m.update(agent="../random"), "'agent' must be"),
    (lambda m: m.update(agent=7), "'agent' must be"),
    (lambda m: m.update(config=[1, 2]), "'config' must be an object"),
    (lambda m: m.update(config="x"), "'config' must be an object"),
    (lambda m: m.update(env="FrozenLake-v1"), "'env' must be an object"),
    (lambda m: m.update(env={"id": 5, "kwargs": {}}), "'env.id' must be"),
    (lambda m: m.update(env={"id": "arena/Chain-v0", "kwargs": [1]}), "'env.kwargs' must be"),
    (lambda m: m.update(state="state.safetensors"), "'state' must be an object"),
    (lambda m: m["state"].update(file=5), "'state.file' must name"),
    (lambda m: m["state"].update(file="/etc/passwd"), "'state.file' must name"),
    (lambda m: m["state"].update(sha256="00"), "'state.sha256' must be"),
    (lambda m: m["state"].update(tensors="pickle"), "'state.tensors' must be"),
    (lambda m: m.update(extra=[1, 2]), "'extra' must be an object"),
    (lambda m: m.update(arena_version=["x"]), "'arena_version' must be"),
    (lambda m: m.pop("state"), "lacks state"),
    (
        _space({"type": "Box", "shape": [100000, 100000], "dtype": "float32", "low": 0, "high": 1}),
        "would need 74.5 GiB",
    ),
    (_space({"type": "MultiBinary", "n": [100000, 100000]}), "would need"),
    (_space({**BOX, "dtype": "object"}), "dtype 'object' is not one of"),
    (_space({**BOX, "dtype": "V100000000"}), "is not one of"),
    (_space({**BOX, "shape": [-2]}), "expected an integer from 0"),
    (_space({**BOX, "shape": "2"}), "expected a list of integers"),
    (_space({**BOX, "low": [0.0, 0.0, 0.0]}), "holds 3 numbers for a shape of 2"),
    (_space({**BOX, "low": ["nan", 0.0]}), "a bound must be a number"),
    (_space({**BOX, "low": 2.0}), "low values must be less than or equal to high"),
    (_space({"type": "Discrete", "n": 0}), "expected an integer from 1"),
    (_space({"type": "Discrete", "n": "16"}), "expected an integer from 1"),
    (_space({"type": "Discrete", "n": 2**70}), "expected an integer from 1"),
    (_space({"type": "Dict", "spaces": [1]}), "'spaces' must be an object"),
    (_space({"type": "Tuple", "spaces": [BOX] * 20_000}), "more than 10000 spaces"),
    (_space(_nested_tuple(400)), "nests more than"),
    (_space({"type": "Pickle"}), "unknown space type"),
    (_space([1]), "must be a space object"),
]


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    env = gym.make("arena/Chain-v0")
    agent = arena.make_agent("random", env, seed=7)
    agent.learn(env, 200, progress=False)
    return save_checkpoint(agent, tmp_path / "ckpt")


def _edit(path: Path, edit: Edit) -> dict:
    manifest = json.loads((path / MANIFEST).read_text())
    edit(manifest)
    (path / MANIFEST).write_text(json.dumps(manifest))
    return manifest


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (links not followed) and its bytes."""
    return {
        str(p.relative_to(root)): (os.readlink(p).encode() if p.is_symlink() else p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


@pytest.mark.parametrize(("edit", "message"), TAMPERED)
def test_a_tampered_manifest_is_refused_naming_the_field(checkpoint, edit, message, monkeypatch):
    monkeypatch.setenv("ARENA_MEMORY_LIMIT", "4G")
    _edit(checkpoint, edit)
    before = _snapshot(checkpoint.parent)
    with pytest.raises(ArenaError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_checkpoint(checkpoint)
    assert _snapshot(checkpoint.parent) == before


@pytest.mark.parametrize(
    ("rewrite", "message"),
    [
        (lambda t: "[" * 200_000 + "]" * 200_000, "nests too deeply|not a gym-arena checkpoint"),
        (lambda t: t.replace('"steps": 200', '"steps": NaN'), "not valid JSON"),
        (lambda t: t.replace('"steps": 200', '"steps": 1e400'), "'steps' must be an integer"),
        (lambda t: t.replace('"steps": 200', '"steps": ' + "9" * 5000), "not valid JSON"),
        (lambda t: t.replace('"steps": 200', '"steps": ' + "[" * 100 + "]" * 100), "levels"),
        (lambda t: "\udcff" + t, "not valid JSON"),
    ],
)
def test_malformed_json_is_refused(checkpoint, rewrite, message):
    text = (checkpoint / MANIFEST).read_text()
    (checkpoint / MANIFEST).write_bytes(rewrite(text).encode("utf-8", "surrogateescape"))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(checkpoint)


def test_the_manifest_must_be_a_small_regular_file(checkpoint, tmp_path):
    real = (checkpoint / MANIFEST).read_bytes()
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(real)
    (checkpoint / MANIFEST).unlink()
    (checkpoint / MANIFEST).symlink_to(elsewhere)
    with pytest.raises(CheckpointError, match="symbolic link"):
        load_checkpoint(checkpoint)
    (checkpoint / MANIFEST).unlink()
    os.mkfifo(checkpoint / MANIFEST)  # opening a FIFO for reading must not hang
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_checkpoint(checkpoint)
    (checkpoint / MANIFEST).unlink()
    with (checkpoint / MANIFEST).open("wb") as f:
        f.truncate(64 * 2**20)
    with pytest.raises(CheckpointError, match="more than"):
        load_checkpoint(checkpoint)


def test_a_state_file_outside_the_checkpoint_is_never_read(checkpoint, tmp_path):
    state = next(checkpoint.glob("state-*.safetensors"))
    outside = tmp_path / "outside.safetensors"
    outside.write_bytes(state.read_bytes())
    state.unlink()
    state.symlink_to(outside)
    atime = outside.stat().st_atime_ns
    with pytest.raises(CheckpointError, match=r"symbolic link.*regular files inside"):
        load_checkpoint(checkpoint)
    assert outside.stat().st_atime_ns == atime


def test_a_huge_state_file_is_refused_without_reading_it(checkpoint, tmp_path):
    state = next(checkpoint.glob("state-*.safetensors"))
    sparse = tmp_path / "sparse"
    with sparse.open("wb") as f:
        f.truncate(8 * 2**30)  # 8 GiB, sparse: costs no disk
    state.unlink()
    state.symlink_to(sparse)
    with pytest.raises(CheckpointError, match="symbolic link"):
        load_checkpoint(checkpoint)
    state.unlink()
    with state.open("wb") as f:
        f.truncate(8 * 2**30)
    with pytest.raises(CheckpointError, match="more than the"):
        load_checkpoint(checkpoint)


def test_an_env_id_with_a_module_part_is_never_imported(checkpoint, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "arena_evil_module.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _edit(checkpoint, lambda m: m["env"].update(id="arena_evil_module:arena/Chain-v0"))
    with pytest.raises(CheckpointError, match="never imports code a checkpoint names"):
        load_checkpoint(checkpoint)
    assert not marker.exists()
    # The user names the env: the recorded id is not used, and nothing is imported either.
    agent = load_checkpoint(checkpoint, env_id="arena/Chain-v0")
    assert agent.env_id is None and agent.env_kwargs == {}
    assert not marker.exists()


def test_the_cli_refuses_a_module_env_id_even_run_from_the_modules_folder(checkpoint, tmp_path):
    marker = tmp_path / "imported"
    (tmp_path / "this_runs.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    _edit(checkpoint, lambda m: m["env"].update(id="this_runs:arena/Chain-v0"))
    before = _snapshot(tmp_path)
    for args in (
        ("evaluate", "--checkpoint", str(checkpoint), "--episodes", "1"),
        ("train", "--resume", str(checkpoint), "--out", str(checkpoint), "--steps", "10"),
    ):
        done = run_arena(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "never imports code a checkpoint names" in done.stderr
        assert "Traceback" not in done.stderr
    assert not marker.exists()
    assert _snapshot(tmp_path) == before
    named = run_arena(
        "evaluate", "--checkpoint", str(checkpoint), "arena/Chain-v0", "--episodes", "1"
    )
    assert named.returncode == 0, named.stderr
    assert not marker.exists()


def test_an_agent_from_another_distribution_is_refused_unless_allowed(checkpoint):
    _edit(checkpoint, lambda m: m.update(agent_distribution="someone-else"))
    with pytest.raises(CheckpointError, match="saved by the distribution 'someone-else'"):
        load_checkpoint(checkpoint)
    assert load_checkpoint(checkpoint, allow_other_distribution=True).num_timesteps == 200
    done = run_arena("evaluate", "--checkpoint", str(checkpoint), "--episodes", "1")
    assert done.returncode == 2 and "--allow-other-distribution" in done.stderr
    allowed = run_arena(
        "evaluate", "--checkpoint", str(checkpoint), "--episodes", "1",
        "--allow-other-distribution",
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr


def _limit_memory() -> None:
    limit = 3 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize(
    "edit",
    [
        _space({"type": "Box", "shape": [100000, 100000], "dtype": "float32", "low": 0,
                "high": 1}),
        _space({"type": "MultiBinary", "n": [100000, 100000]}),
    ],
)  # fmt: skip
def test_memory_bombs_are_refused_under_a_real_memory_limit(checkpoint, edit):
    _edit(checkpoint, edit)
    done = subprocess.run(
        [sys.executable, "-m", "arena", "evaluate", "--checkpoint", str(checkpoint)],
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "would need" in done.stderr and "more than the limit of 3.0 GiB" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_save_removes_only_what_it_owns(tmp_path):
    env = gym.make("FrozenLake-v1")
    agent = arena.make_agent("q-learning", env, seed=0)
    checkpoint = save_checkpoint(agent.learn(env, 100, progress=False), tmp_path / "ckpt")
    old_state = json.loads((checkpoint / MANIFEST).read_text())["state"]["file"]
    theirs = checkpoint / "state-0123456789abcdef.safetensors"
    theirs.write_bytes(b"the user's own file")
    stale = [checkpoint / ".manifest.json.abcd1234.tmp", checkpoint / f".{old_state}.x1y2z3w4.tmp"]
    for file in stale:
        file.write_bytes(b"left by a crash")
    agent.learn(env, 100, progress=False)
    agent.q_SA[0, 0] += 1.0  # a new state, so a new state file
    save_checkpoint(agent, checkpoint)
    names = {p.name for p in checkpoint.iterdir()}
    assert theirs.read_bytes() == b"the user's own file"
    assert old_state not in names  # the previous manifest's own state file is replaced
    assert not any(f.exists() for f in stale)
    assert load_checkpoint(checkpoint).num_timesteps == 200


def test_a_non_finite_agent_is_never_saved(tmp_path):
    env = gym.make("FrozenLake-v1")
    agent = arena.make_agent("q-learning", env, seed=0)
    agent.learn(env, 100, progress=False)
    path = save_checkpoint(agent, tmp_path / "ckpt")
    before = _snapshot(path)
    agent.load_state({"q": np.full_like(np.asarray(agent.state()["q"]), np.nan)}, {})
    with pytest.raises(TrainingError, match=r"non-finite values.*last checkpoint is kept"):
        save_checkpoint(agent, path)
    assert _snapshot(path) == before
    assert np.isfinite(np.asarray(load_checkpoint(path).state()["q"])).all()


# The second attack (358 cases, on the merged branches): what it found, replayed.

FIXTURES = Path(__file__).parent.parent / "fixtures" / "v1"


@pytest.fixture
def mlp_checkpoint(tmp_path: Path) -> Path:
    """A small mlp checkpoint with Adam's state, copied from the committed fixtures."""
    import shutil

    return Path(shutil.copytree(FIXTURES / "mlp", tmp_path / "mlp"))


OPTIMIZER_TAMPERING = [
    {"capturable": True},
    {"differentiable": True},
    {"maximize": True},
    {"lr": "abc"},
    {"lr": 1e300},
    {"betas": [5, "x"]},
    {"eps": None},
    {"params": [0, 1, 2, 999999]},
    {"surprise": 1},
]


@pytest.mark.parametrize("change", OPTIMIZER_TAMPERING, ids=lambda c: next(iter(c)))
def test_a_tampered_optimizer_state_is_refused(mlp_checkpoint, change):
    _edit(mlp_checkpoint, lambda m: m["extra"]["optimizer"]["param_groups"][0].update(change))
    with pytest.raises(CheckpointError, match="does not fit a mlp agent"):
        load_checkpoint(mlp_checkpoint, device="cpu")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["env"].update(kwargs={"desc": ["F" * 300] * 300}), "more than the 65536"),
        (lambda m: m["env"].update(kwargs={"render_mode": "human"}), "may not set render_mode"),
        (lambda m: m.update(steps=2**63 - 1), "'steps' must be an integer from 0 to 10\\*\\*15"),
        (lambda m: m["config"].update(learning_rate=10**400), "not a valid float"),
    ],
)
def test_env_arguments_steps_and_numbers_are_bounded(tmp_path, edit, message):
    env = gym.make("FrozenLake-v1")
    path = save_checkpoint(arena.make_agent("q-learning", env, seed=0), tmp_path / "ckpt")
    text = json.dumps(edit_json(path, edit))
    (path / MANIFEST).write_text(text)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def edit_json(path: Path, edit: Edit) -> dict:
    manifest = json.loads((path / MANIFEST).read_text())
    edit(manifest)
    return manifest


def test_a_huge_multidiscrete_is_refused_at_once(checkpoint):
    import time

    space = {"type": "MultiDiscrete", "nvec": [2] * 1_000_000, "start": [0] * 1_000_000}
    _edit(checkpoint, lambda m: m.update(agent="q-learning", config={}, observation_space=space))
    started = time.perf_counter()
    with pytest.raises(ArenaError, match="states x actions"):
        load_checkpoint(checkpoint)
    assert time.perf_counter() - started < 20


def test_a_state_or_manifest_that_is_a_folder_is_refused(checkpoint):
    state = next(checkpoint.glob("state-*.safetensors"))
    state.unlink()
    state.mkdir()
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_checkpoint(checkpoint)
    (checkpoint / MANIFEST).unlink()
    (checkpoint / MANIFEST).mkdir()
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_checkpoint(checkpoint)


def test_a_nan_state_with_a_matching_sha_is_refused(tmp_path):
    import hashlib

    from safetensors.numpy import save

    env = gym.make("FrozenLake-v1")
    path = save_checkpoint(arena.make_agent("q-learning", env, seed=0), tmp_path / "ckpt")
    manifest = json.loads((path / MANIFEST).read_text())
    data = save({"q": np.full((16, 4), np.nan)})
    (path / manifest["state"]["file"]).write_bytes(data)
    manifest["state"]["sha256"] = hashlib.sha256(data).hexdigest()
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="NaN or infinite values in 'q'"):
        load_checkpoint(path)


def test_messages_quote_at_most_a_few_hundred_characters(checkpoint):
    low = list(range(5000))
    box = {"type": "Box", "shape": [5000], "dtype": "float32", "low": low, "high": -1.0}
    _edit(checkpoint, _space(box))
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(checkpoint)
    assert len(str(caught.value)) < 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("evaluate", "mlp", "arena/Iris-v0", "--device", "meta"), "Bad device 'meta'"),
        (("evaluate", "mlp", "arena/Iris-v0", "--device", "mps"), "MPS is not available"),
        (("evaluate", "random", "no_such_module:Env"), "importing its code failed"),
        (("evaluate", "--checkpoint", ""), "--checkpoint is empty"),
        (("train", "q-learning", "FrozenLake-v1", "--num-envs", "2", "--out", "x"), "single env"),
        (("train", "mlp", "arena/Iris-v0", "--set", "hidden_sizes=[[1,2]]", "--out", "x"),
         "not a nested one"),
    ],
)  # fmt: skip
def test_cli_refusals_the_second_attack_found(tmp_path, args, message):
    done = run_arena(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


HIJACKER = """
import gymnasium as gym

from envs.classification.env import ClassificationEnv


class Hijacked(ClassificationEnv):
    pass


def register():
    gym.register("arena/Iris-v0", entry_point="arena_hijack_plugin:Hijacked")
    gym.registry["CartPole-v1"].max_episode_steps = 3
"""


def test_a_plugin_that_hijacks_or_edits_an_env_id_is_named(tmp_path):
    from tests.conftest import write_distribution

    site = write_distribution(
        tmp_path / "site",
        "arena-hijack-plugin",
        "1.0",
        {"arena_hijack_plugin": HIJACKER},
        """
        [arena.envs]
        hijack = arena_hijack_plugin:register
        """,
    )
    for env_id in ("arena/Iris-v0", "CartPole-v1"):
        done = run_arena("evaluate", "random", env_id, "--episodes", "1", pythonpath=site)
        assert done.returncode == 2, done.stderr
        assert f"The env id {env_id!r} is registered twice" in done.stderr
        assert "arena-hijack-plugin" in done.stderr and "Traceback" not in done.stderr


def test_an_overwrite_that_stops_before_its_first_checkpoint_keeps_the_old_one(tmp_path):
    out = tmp_path / "run"
    first = run_arena(
        "train", "mlp", "arena/Iris-v0", "--steps", "100", "--out", str(out), "--quiet"
    )
    assert first.returncode == 0, first.stderr
    before = _snapshot(out)
    diverging = run_arena(
        "train", "mlp", "arena/Iris-v0", "--steps", "300", "--save-every", "100000",
        "--set", "learning_rate=1e30", "--out", str(out), "--overwrite", "--quiet",
    )  # fmt: skip
    assert diverging.returncode == 1, diverging.stderr
    assert _snapshot(out) == before  # the old run, byte for byte, and nothing of the new one
    assert load_checkpoint(out, device="cpu").num_timesteps == 100
    replaced = run_arena(
        "train", "mlp", "arena/Iris-v0", "--steps", "50", "--out", str(out), "--overwrite",
        "--quiet",
    )  # fmt: skip
    assert replaced.returncode == 0, replaced.stderr
    assert load_checkpoint(out, device="cpu").num_timesteps == 50
    assert not [p for p in out.iterdir() if p.name.startswith(".replaced-")]


def test_seeds_write_only_into_a_folder_of_seed_runs(tmp_path):
    out = tmp_path / "runs"
    out.mkdir()
    (out / "data.txt").write_text("mine")
    args = ("train", "q-learning", "FrozenLake-v1", "--seeds", "2", "--steps", "100")
    done = run_arena(*args, "--out", str(out))
    assert done.returncode == 2 and "holds other files than seed-K runs (data.txt)" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["data.txt"]


def test_a_time_limit_below_one_is_refused(tmp_path):
    done = run_arena(
        "train", "q-learning", "FrozenLake-v1", "--env-kwargs", "max_episode_steps=-1",
        "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "max_episode_steps for FrozenLake-v1 must be a whole number of at least 1" in done.stderr
