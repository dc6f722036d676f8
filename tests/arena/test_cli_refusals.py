"""Refusals instead of tracebacks: signals, --config, --env-kwargs, numeric options, plugins.

Each case asserts the exit status, the message, that no traceback is printed and that nothing
is written. Commands that need no subprocess run in-process through ``arena.cli.main``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena.cli import main
from arena.training import MAX_DEFAULT_SAVE_EVERY, default_save_every
from tests.conftest import PLUGIN_MODULE, run_arena, run_json, write_distribution


def _run(*argv: str) -> tuple[int, str, str]:
    """``arena ARGV`` in this process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def _spawn(*args: str) -> subprocess.Popen:
    """``python -m arena ARGS`` with SIGINT at its default disposition, as in a terminal."""
    return subprocess.Popen(
        [sys.executable, "-m", "arena", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell starts background jobs with SIGINT ignored and a child inherits that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


# Signals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_a_signal_during_start_up_is_one_line_and_its_status(signum, status, word):
    # Evaluating sb3-ppo spends seconds importing torch and SB3: the signals land there.
    statuses = []
    for delay in (0.6, 1.2, 2.0):
        process = _spawn("evaluate", "sb3-ppo", "CartPole-v1", "--episodes", "1", "--device", "cpu")
        time.sleep(delay)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        assert "Traceback" not in stderr
        assert process.returncode in (0, status), stderr
        if process.returncode == status:
            assert stderr == f"arena: {word}.\n"
        statuses.append(process.returncode)
    assert status in statuses


LOST_INTERRUPT = """
import os, signal, sys, time, weakref
from arena import entry
signal.signal(signal.SIGTERM, entry._terminate)
sys.unraisablehook = entry._unraisable
class Thing: pass
thing = Thing()
# The signal's handler raises inside a weakref callback, as it can in importlib's module locks.
ref = weakref.ref(thing, lambda ref: os.kill(os.getpid(), signal.SIG{name}))
try:
    del thing
    for _ in range(200): time.sleep(0.01)
except KeyboardInterrupt as e:
    print(type(e).__name__)
"""


@pytest.mark.parametrize(("name", "error"), [("INT", "KeyboardInterrupt"), ("TERM", "Terminated")])
def test_an_interrupt_raised_in_a_callback_is_raised_again_in_ordinary_code(name, error):
    done = subprocess.run(
        [sys.executable, "-c", LOST_INTERRUPT.format(name=name)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert (done.stdout, done.stderr) == (f"{error}\n", "")


def test_sigterm_unwinds_keeps_the_checkpoint_and_exits_143(tmp_path):
    run = tmp_path / "run"
    process = _spawn(
        "train",
        "random",
        "CartPole-v1",
        "--steps",
        "1e8",
        "--save-every",
        "2000",
        "--out",
        str(run),
    )
    deadline = time.monotonic() + 120
    while not (run / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert stderr == f"arena: terminated. The last checkpoint in {run} is kept.\n"
    assert not [p for p in os.listdir(run) if p.endswith(".tmp")]
    # The checkpoint loads, and the run is free to continue (any lock was released).
    again = run_json("train", "--resume", str(run), "--out", str(run), "--steps", "10", "--json")
    assert again["agent"] == "random"


# --config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("folder", "is a folder"),
        (b"\xff\xfe not utf-8", "is not UTF-8"),
        (b"gamma = ", "is not valid TOML"),
        (b"config = 3", "'config' must be a table"),
        (b"config = [1, 2]", "'config' must be a table"),
        (b"a = " + b"[" * 3000 + b"]" * 3000, "nests too deeply"),
        (None, "does not exist"),
    ],
)
def test_a_bad_config_file_is_refused(content, message, tmp_path):
    path = tmp_path / "config.toml"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    out = tmp_path / "run"
    status, _, stderr = _run(
        "train",
        "q-learning",
        "FrozenLake-v1",
        "--steps",
        "10",
        "--config",
        str(path),
        "--out",
        str(out),
    )
    assert status == 2 and stderr.startswith("arena: error: Config file") and message in stderr
    assert not out.exists()


def test_a_config_that_is_not_a_regular_file_is_not_read(tmp_path):
    status, _, stderr = _run(
        "train",
        "random",
        "FrozenLake-v1",
        "--steps",
        "10",
        "--config",
        "/dev/zero",
        "--out",
        str(tmp_path / "run"),
    )
    assert status == 2 and "is not a regular file" in stderr


# --env-kwargs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("train", "random", "FrozenLake-v1", "--steps", "10"),
        ("evaluate", "random", "FrozenLake-v1", "--episodes", "1"),
    ],
)
@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [(["map_name=9x9"], "KeyError: '9x9'"), (["desc=[1]"], "ValueError")],
)
def test_an_env_constructor_failing_on_user_arguments_is_exit_2(argv, kwargs, needle, tmp_path):
    out = ("--out", str(tmp_path / "run")) if argv[0] == "train" else ()
    status, _, stderr = _run(*argv, *out, "--env-kwargs", *kwargs)
    assert status == 2, stderr
    assert stderr.startswith("arena: error: Could not make FrozenLake-v1 with the arguments {")
    assert kwargs[0].split("=")[0] in stderr and needle in stderr
    assert not (tmp_path / "run").exists()


# Numeric options ----------------------------------------------------------------------------

TRAIN = ("train", "random", "arena/Chain-v0", "--steps", "100")
EVALUATE = ("evaluate", "random", "arena/Chain-v0", "--episodes", "1")

NUMERIC = [
    (TRAIN, "--steps", ["-1", "1e20", "1e400", "nan", "inf", "2.5", "", "ten"]),
    (TRAIN, "--seed", ["-1", "4294967296", "0.5"]),
    (TRAIN, "--num-envs", ["0", "-3", "100000"]),
    (TRAIN, "--save-every", ["0", "-5", "nan"]),
    (TRAIN, "--eval-every", ["0", "-1"]),
    (TRAIN, "--eval-episodes", ["0", "-1"]),
    (TRAIN, "--seeds", ["0", "-2", "1e9"]),
    (EVALUATE, "--episodes", ["0", "-1", "1e20"]),
    (EVALUATE, "--max-episode-steps", ["0", "-1"]),
    (EVALUATE, "--seed", ["-1", "1e30"]),
    (("sample", "--checkpoint", "nowhere", "--out", "x.npy"), "--n", ["0", "-1", "1e12"]),
    (("sample", "--checkpoint", "nowhere", "--out", "x.npy"), "--seed", ["-1"]),
    (("plot", "nowhere"), "--window", ["0", "-1", "nan"]),
]


@pytest.mark.parametrize(
    ("argv", "flag", "value"),
    [(argv, flag, value) for argv, flag, values in NUMERIC for value in values],
    ids=lambda x: x if isinstance(x, str) else x[0],
)
def test_every_numeric_option_refuses_out_of_range_values(argv, flag, value, tmp_path):
    extra = ("--out", str(tmp_path / "run")) if argv[0] == "train" else ()
    with contextlib.chdir(tmp_path):
        status, _, stderr = _run(*argv, *extra, flag, value)
    assert status == 2, stderr
    assert stderr.startswith(f"arena: error: {flag} must be")
    assert list(tmp_path.iterdir()) == []


def test_steps_take_1e5_style_whole_numbers(tmp_path):
    status, stdout, stderr = _run(
        "train", "random", "arena/Chain-v0", "--steps", "3e2", "--out", str(tmp_path), "--json"
    )
    assert status == 0, stderr
    assert json.loads(stdout)["steps"] == 300


def test_the_default_checkpoint_interval_is_a_tenth_of_the_budget_at_most_a_million():
    assert [default_save_every(n) for n in (0, 5, 100, 10**7)] == [1, 1, 10, 10**6]
    assert default_save_every(10**12) == MAX_DEFAULT_SAVE_EVERY == 10**6


# Plugins ------------------------------------------------------------------------------------

EXITING_MODULE = """
import sys

sys.exit(3)
"""

RIVAL_MODULE = """
from pathlib import Path

Path(__file__).with_name("rival-was-imported").write_text("yes")
"""


@pytest.fixture(scope="module")
def exiting_plugin(tmp_path_factory) -> Path:
    return write_distribution(
        tmp_path_factory.mktemp("exiting"),
        "arena-exiting-plugin",
        "1.0",
        {"arena_exiting_plugin": EXITING_MODULE},
        """
        [arena.agents]
        quitter = arena_exiting_plugin:Agent

        [arena.envs]
        quitter-envs = arena_exiting_plugin:register
        """,
    )


def test_a_plugin_that_calls_sys_exit_is_a_plugin_failure(exiting_plugin):
    done = run_arena("list", "--json", pythonpath=exiting_plugin)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    agents = {a["name"]: a for a in listing["agents"]}
    assert "SystemExit: 3" in agents["quitter"]["error"]
    assert "arena-exiting-plugin" in agents["quitter"]["error"]
    assert "summary" in agents["random"] and "error" not in agents["random"]
    assert any("quitter-envs" in e and "SystemExit" in e for e in listing["errors"])
    assert "arena/Chain-v0" in {e["id"] for e in listing["envs"]}
    info = run_arena("info", "quitter", pythonpath=exiting_plugin)
    assert info.returncode == 2 and "arena-exiting-plugin" in info.stderr
    assert "Traceback" not in info.stderr


@pytest.fixture(scope="module")
def rival_plugin(tmp_path_factory) -> Path:
    return write_distribution(
        tmp_path_factory.mktemp("rival"),
        "arena-rival-plugin",
        "2.0",
        {"arena_rival_plugin": RIVAL_MODULE},
        """
        [arena.agents]
        dqn = arena_rival_plugin:DQN

        [arena.envs]
        gym-arena = arena_rival_plugin:register

        [arena.importers]
        sb3 = arena_rival_plugin:convert
        """,
    )


def test_two_distributions_declaring_one_name_is_an_error_naming_both(rival_plugin, tmp_path):
    listing = run_json("list", "--json", pythonpath=rival_plugin)
    dqn = {a["name"]: a for a in listing["agents"]}["dqn"]
    for needle in ("gym-arena", "agents.dqn", "arena-rival-plugin 2.0", "arena_rival_plugin:DQN"):
        assert needle in dqn["error"]
    assert any("arena.envs plugin 'gym-arena'" in e for e in listing["errors"])
    assert any("arena.importers plugin 'sb3'" in e for e in listing["errors"])
    text = run_arena("list", pythonpath=rival_plugin)
    assert text.returncode == 0 and "BROKEN: The arena.agents plugin 'dqn'" in text.stdout
    assert "BROKEN plugin: The arena.importers plugin 'sb3'" in text.stdout
    for argv in (("info", "dqn"), ("import-sb3", "model.zip", "--out", str(tmp_path / "o"))):
        done = run_arena(*argv, pythonpath=rival_plugin, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "gym-arena" in done.stderr and "arena-rival-plugin" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (rival_plugin / "rival-was-imported").exists()


HIJACKING_MODULE = """
import gymnasium as gym


def register():
    gym.register("CartPole-v1", entry_point="arena_hijack_envs:Hijacked")
"""


def test_an_env_plugin_replacing_a_registered_id_makes_the_id_an_error(tmp_path):
    marker = tmp_path / "arena_hijack_envs.py"
    marker.write_text("from pathlib import Path\nPath(__file__).with_name('ran').write_text('')\n")
    site = write_distribution(
        tmp_path,
        "arena-hijack",
        "0.1",
        {"arena_hijack": HIJACKING_MODULE},
        "[arena.envs]\nhijack = arena_hijack:register\n",
    )
    listing = run_json("list", "--json", pythonpath=site)
    assert any("'CartPole-v1'" in e and "arena-hijack 0.1" in e for e in listing["errors"])
    done = run_arena("evaluate", "random", "CartPole-v1", "--episodes", "1", pythonpath=site)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for needle in ("gymnasium.envs.classic_control", "arena_hijack_envs:Hijacked", "arena-hijack"):
        assert needle in done.stderr
    assert not (tmp_path / "ran").exists()
    other = run_arena("evaluate", "random", "FrozenLake-v1", "--episodes", "1", pythonpath=site)
    assert other.returncode == 0, other.stderr


def test_unreadable_entry_points_and_bad_references_are_plugin_failures(tmp_path):
    write_distribution(tmp_path, "arena-garbled", "1.0", {}, "[arena.agents]\nno equals sign\n")
    write_distribution(
        tmp_path / "b", "arena-bad-ref", "1.0", {}, "[arena.agents]\nbadref = not a ref!!\n"
    )
    done = run_arena("list", "--json", pythonpath=Path(f"{tmp_path}{os.pathsep}{tmp_path / 'b'}"))
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert any("arena-garbled 1.0 has unreadable metadata" in e for e in listing["errors"])
    badref = {a["name"]: a for a in listing["agents"]}["badref"]
    assert "is not a valid entry point" in badref["error"]
    assert "random" in {a["name"] for a in listing["agents"]}


def test_one_distribution_seen_twice_is_no_conflict(tmp_path):
    entry_points = """
    [arena.agents]
    counter = arena_counter_plugin:CounterAgent
    """
    first = write_distribution(
        tmp_path / "a",
        "arena-counter-plugin",
        "0.3.1",
        {"arena_counter_plugin": PLUGIN_MODULE},
        entry_points,
    )
    stray = tmp_path / "b" / "Arena_Counter_Plugin.egg-info"
    stray.mkdir(parents=True)
    (stray / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: Arena_Counter_Plugin\nVersion: 0.3.0\n"
    )
    (stray / "entry_points.txt").write_text(entry_points)
    done = run_arena("list", "--json", pythonpath=Path(f"{first}{os.pathsep}{stray.parent}"))
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    counter = {a["name"]: a for a in listing["agents"]}["counter"]
    assert "error" not in counter and listing["errors"] == []


# --set values -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_a_non_finite_float_is_refused_before_training(value, tmp_path):
    status, _, stderr = _run(
        "train",
        "q-learning",
        "FrozenLake-v1",
        "--steps",
        "10",
        "--set",
        f"learning_rate={value}",
        "--out",
        str(tmp_path / "run"),
    )
    assert status == 2 and "learning_rate=" in stderr and "finite" in stderr
    assert not (tmp_path / "run").exists()


def test_convert_reads_whole_numbers_as_set_and_steps_do():
    from arena.config import convert

    assert convert("1e5", int) == 100_000 and convert("50000.0", int) == 50_000
    for bad in ("2.5", "nan", "inf", "1e400", "", "ten"):
        with pytest.raises((TypeError, ValueError)):
            convert(bad, int)
