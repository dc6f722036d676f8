"""What a newcomer meets first (issue #15): bare ``arena``, no abbreviated options, counts in
words, ``arena info``'s layout, headless recordings without SDL's noise, and SB3 imports that say
what their evaluation needs."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_arena, run_json


def test_bare_arena_prints_the_help_and_exits_2():
    done = run_arena()
    # No command ran, so it is a usage error, like any other call argparse refuses.
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("usage: arena")
    for command in ("train", "evaluate", "info", "import-sb3"):
        assert f"    {command}" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_parser_takes_abbreviated_options():
    from arena.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert parser.allow_abbrev is False
    assert {name: p.allow_abbrev for name, p in commands.choices.items()} == dict.fromkeys(
        commands.choices, False
    )


def test_a_demo_script_takes_no_abbreviated_options():
    demo = Path(__file__).resolve().parents[2] / "demos" / "frozenlake.py"
    done = subprocess.run(
        [sys.executable, str(demo), "--headles"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2 and "unrecognized arguments: --headles" in done.stderr


def test_env_is_never_read_as_env_kwargs():
    done = run_arena("evaluate", "random", "CartPole-v1", "--env", "CartPole-v1")
    assert done.returncode == 2 and "unrecognized arguments: --env" in done.stderr
    assert "--env-kwargs" not in done.stderr
    done = run_arena("train", "random", "CartPole-v1", "--out", "unused", "--eval-ep", "3")
    assert done.returncode == 2 and "unrecognized arguments: --eval-ep" in done.stderr


def test_one_episode_is_singular():
    done = run_arena("evaluate", "random", "CartPole-v1", "--episodes", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("random on CartPole-v1: 1 episode, seed 0\n")


def test_info_keeps_the_indent_of_wrapped_help_lines():
    done = run_arena("info", "q-learning")
    assert done.returncode == 0, done.stderr
    config = done.stdout.split("Config (--set key=value):\n")[1].split("\n\n")[0]
    for line in config.splitlines():
        assert re.match(r"  \w+: .+ = ", line) or line.startswith("      "), line
    # horizon's help wraps onto more lines.
    assert "\n      episode (set it to the env's time limit)" in config


def test_headless_recording_prints_no_sdl_noise(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "SDL_VIDEODRIVER")}
    gif = tmp_path / "lake.gif"
    command = ["evaluate", "random", "FrozenLake-v1", "--episodes", "1", "--record", str(gif)]
    done = subprocess.run(
        [sys.executable, "-m", "arena", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert gif.stat().st_size > 0
    assert done.stderr == f"Recorded 4 frames to {gif}\n"
    assert "XDG" not in done.stdout


def _sb3_zip(tmp_path):
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, seed=0, device="cpu")
    path = tmp_path / "ppo.zip"
    model.save(path)
    return path


def test_import_sb3_without_env_says_how_to_evaluate(tmp_path):
    out = tmp_path / "imported"
    summary = run_json("import-sb3", str(_sb3_zip(tmp_path)), "--out", str(out), "--json")
    assert summary["env"] is None
    assert f"arena evaluate --checkpoint {out} ENV_ID" in summary["note"]
    assert "--env ENV_ID" in summary["note"]
    done = run_arena("evaluate", "--checkpoint", str(out))
    assert done.returncode == 2
    assert f"records no env; name one after it: arena evaluate --checkpoint {out} ENV_ID" in (
        done.stderr
    )
    report = run_json("evaluate", "--checkpoint", str(out), "CartPole-v1", "--json")
    assert report["env"] == "CartPole-v1"


def test_import_sb3_records_the_env_it_is_given(tmp_path):
    out = tmp_path / "imported"
    zip_path = _sb3_zip(tmp_path)
    summary = run_json(
        "import-sb3", str(zip_path), "--env", "CartPole-v1", "--out", str(out), "--json"
    )
    assert summary["env"] == "CartPole-v1" and "note" not in summary
    report = run_json("evaluate", "--checkpoint", str(out), "--episodes", "1", "--json")
    assert report["env"] == "CartPole-v1" and report["episodes"] == 1
