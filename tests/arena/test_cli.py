"""The ``arena`` command end to end, in subprocesses: JSON shapes, exit codes, messages."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_arena, run_json

EVAL_KEYS = {
    "agent",
    "env",
    "episodes",
    "seed",
    "mean_return",
    "std_return",
    "min_return",
    "max_return",
    "mean_length",
    "metrics",
}


def test_list_json_shape():
    listing = run_json("list", "--json")
    assert set(listing) >= {"agents", "envs"}
    for agent in listing["agents"]:
        assert set(agent) >= {"name", "distribution", "version", "summary"}
    for env in listing["envs"]:
        assert set(env) == {"id", "distribution", "version"}


def test_evaluate_random_cartpole_is_deterministic():
    args = ("evaluate", "random", "CartPole-v1", "--episodes", "5", "--seed", "0", "--json")
    first = run_json(*args)
    assert set(first) >= EVAL_KEYS
    assert first["agent"] == "random" and first["env"] == "CartPole-v1"
    assert first["episodes"] == 5 and first["seed"] == 0
    assert first["min_return"] <= first["mean_return"] <= first["max_return"]
    assert run_json(*args) == first
    assert run_json(*args[:-2], "1", "--json") != first


def test_train_then_evaluate_round_trip(tmp_path):
    run = tmp_path / "chain"
    done = run_arena(
        "train",
        "random",
        "arena/Chain-v0",
        "--steps",
        "1000",
        "--seed",
        "3",
        "--env-kwargs",
        "length=5",
        "--save-every",
        "200",
        "--out",
        str(run),
    )
    assert done.returncode == 0, done.stderr
    assert "Trained random on arena/Chain-v0 to 1000 steps" in done.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["steps"] == 1000
    assert manifest["env"] == {"id": "arena/Chain-v0", "kwargs": {"length": 5}}
    rows = (run / "progress.csv").read_text().splitlines()
    assert rows[0] == "step,return,length,time,episodes,success"
    assert len(rows) > 10
    report = run_json("evaluate", "--checkpoint", str(run), "--episodes", "4", "--json")
    assert report["env"] == "arena/Chain-v0"
    assert set(report["metrics"]) == {"success"}
    assert report == run_json("evaluate", "--checkpoint", str(run), "--episodes", "4", "--json")
    ignored = run_arena("evaluate", "--checkpoint", str(run), "--set", "x=1")
    assert ignored.returncode == 2 and "--set configures a fresh AGENT" in ignored.stderr


def test_train_json_summary_and_resume(tmp_path):
    run = tmp_path / "run"
    first = run_json(
        "train", "random", "arena/Chain-v0", "--steps", "300", "--out", str(run), "--json"
    )
    assert first["steps"] == 300
    again = run_json("train", "--resume", str(run), "--out", str(run), "--steps", "200", "--json")
    assert again["steps"] == 500
    assert again["env"] == "arena/Chain-v0"


def test_plot_draws_several_runs(tmp_path):
    for name in ("a", "b"):
        done = run_arena(
            "train", "random", "arena/Chain-v0", "--steps", "500", "--out", str(tmp_path / name)
        )
        assert done.returncode == 0, done.stderr
    png = tmp_path / "curves.png"
    done = run_arena("plot", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(png))
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("evaluate", "randm", "CartPole-v1"), ["Unknown agent 'randm'", "Did you mean 'random'"]),
        (("evaluate", "random", "CartPol-v1"), ["Unknown env 'CartPol-v1'", "'CartPole-v1'"]),
        (
            ("train", "random", "CartPole-v1", "--steps", "10", "--set", "lr=0.1", "--out", "x"),
            ["Unknown random config key 'lr'"],
        ),
        (("evaluate", "--checkpoint", "no/such/dir"), ["No checkpoint at 'no/such/dir'"]),
        (("evaluate", "random"), ["evaluate takes AGENT ENV"]),
        (("evaluate", "random", "CartPole-v1", "--episodes", "0"), ["episodes must be at least 1"]),
        (
            ("evaluate", "random", "arena/Chain-v0", "--env-kwargs", "length=1"),
            ["length must be an integer >= 2"],
        ),
        (("train", "random", "CartPole-v1", "--out", "x"), ["pass --steps N"]),
        (("plot", "no/such/run"), ["has no progress.csv"]),
    ],
)
def test_user_mistakes_exit_2_without_traceback(args, needles, tmp_path):
    done = run_arena(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("arena: error: ")
    for needle in needles:
        assert needle in done.stderr


def test_bad_config_key_and_type_list_the_valid_keys(plugin_path, tmp_path):
    bad_key = run_arena(
        "train",
        "counter",
        "thirdparty/Bandit-v0",
        "--steps",
        "10",
        "--set",
        "acton=1",
        "--out",
        str(tmp_path / "a"),
        pythonpath=plugin_path,
    )
    assert bad_key.returncode == 2
    assert "Did you mean 'action'?" in bad_key.stderr and "Known" in bad_key.stderr
    bad_type = run_arena(
        "train",
        "counter",
        "thirdparty/Bandit-v0",
        "--steps",
        "10",
        "--set",
        "action=left",
        "--out",
        str(tmp_path / "b"),
        pythonpath=plugin_path,
    )
    assert bad_type.returncode == 2
    assert "action='left' is not a valid int" in bad_type.stderr


def test_incompatible_agent_names_need_and_env(plugin_path):
    done = run_arena("evaluate", "counter", "MountainCarContinuous-v0", pythonpath=plugin_path)
    assert done.returncode == 2
    assert (
        "counter needs a Discrete action space; MountainCarContinuous-v0 has Box(1,)" in done.stderr
    )


def test_corrupt_checkpoint_is_refused(tmp_path):
    run = tmp_path / "run"
    assert (
        run_arena("train", "random", "CartPole-v1", "--steps", "50", "--out", str(run)).returncode
        == 0
    )
    (run / "manifest.json").write_text("{not json")
    done = run_arena("evaluate", "--checkpoint", str(run))
    assert done.returncode == 2
    assert "corrupt" in done.stderr and "Traceback" not in done.stderr


def test_existing_checkpoint_is_not_overwritten(tmp_path):
    run = tmp_path / "run"
    assert (
        run_arena("train", "random", "CartPole-v1", "--steps", "50", "--out", str(run)).returncode
        == 0
    )
    done = run_arena("train", "random", "CartPole-v1", "--steps", "50", "--out", str(run))
    assert done.returncode == 2
    assert "--resume" in done.stderr


def test_info_lists_config_with_help(plugin_path):
    info = run_json("info", "counter", "--json", pythonpath=plugin_path)
    assert info["config"] == [
        {
            "name": "action",
            "type": "int",
            "default": "0",
            "help": "The action to play until learning picks the best one.",
        }
    ]


def test_same_seed_same_training(plugin_path, tmp_path):
    manifests = []
    for name in ("a", "b"):
        run = tmp_path / name
        done = run_arena(
            "train",
            "counter",
            "thirdparty/Bandit-v0",
            "--steps",
            "500",
            "--seed",
            "4",
            "--out",
            str(run),
            pythonpath=plugin_path,
        )
        assert done.returncode == 0, done.stderr
        manifests.append(json.loads((run / "manifest.json").read_text()))
    assert manifests[0]["state"]["sha256"] == manifests[1]["state"]["sha256"]


def test_ctrl_c_keeps_the_last_good_checkpoint(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    run = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arena",
            "train",
            "random",
            "CartPole-v1",
            "--steps",
            "100000000",
            "--save-every",
            "2000",
            "--out",
            str(run),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As in a terminal's foreground. A shell starts background jobs (`cmd &`) with SIGINT
        # ignored, a child inherits that, and Python then installs no KeyboardInterrupt handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not (run / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in stderr and "is kept" in stderr and "Traceback" not in stderr
    report = run_json("evaluate", "--checkpoint", str(run), "--episodes", "1", "--json")
    assert report["agent"] == "random"
    assert not [p for p in os.listdir(run) if p.endswith(".tmp")]


def test_info_lists_the_presets_envs_and_the_sweep_spaces_apart():
    done = run_arena("info", "sb3-ppo")
    assert done.returncode == 0, done.stderr
    presets = next(line for line in done.stdout.splitlines() if line.startswith("Presets"))
    assert "CartPole-v1" in presets and "default" not in presets  # a sweep-only default table
    assert "Sweep spaces (arena sweep): arena/Iris-v0, default (any other env)" in done.stdout


def test_info_says_which_conditions_a_conditional_sampler_takes():
    done = run_arena("info", "cgan")
    assert done.returncode == 0, done.stderr
    assert "  arena sample --labels: the class of each sample" in done.stdout
    assert run_json("info", "cgan", "--json")["conditions"].keys() == {"labels"}
    assert run_json("info", "gan", "--json")["conditions"] == {}
