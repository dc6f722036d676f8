"""The entry-point registry: built-ins, a real third-party plugin, a broken one, laziness."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arena.errors import UnknownNameError
from arena.registry import agent_class, agent_plugins, env_plugins
from tests.conftest import run_arena, run_json


def test_builtins_come_from_our_own_entry_points():
    assert agent_plugins()["random"].distribution == "gym-arena"
    assert any(p.distribution == "gym-arena" for p in env_plugins().values())
    assert agent_class("random").name == "random"


def test_unknown_agent_suggests_close_names():
    with pytest.raises(UnknownNameError) as info:
        agent_class("randon")
    message = str(info.value)
    assert "Did you mean 'random'" in message  # The closest name comes first.
    assert "Known agents:" in message


def test_third_party_plugin_is_listed_with_its_distribution(plugin_path):
    listing = run_json("list", "--json", pythonpath=plugin_path)
    agents = {a["name"]: a for a in listing["agents"]}
    assert agents["counter"]["distribution"] == "arena-counter-plugin"
    assert agents["counter"]["version"] == "0.3.1"
    assert agents["counter"]["summary"].startswith("Counts the reward of each action")
    envs = {e["id"]: e for e in listing["envs"]}
    assert envs["thirdparty/Bandit-v0"]["distribution"] == "arena-counter-plugin"
    assert envs["arena/Chain-v0"]["distribution"] == "gym-arena"
    assert listing["errors"] == []


def test_third_party_plugin_trains_and_evaluates(plugin_path, tmp_path):
    run = tmp_path / "run"
    done = run_arena(
        "train",
        "counter",
        "thirdparty/Bandit-v0",
        "--steps",
        "300",
        "--out",
        str(run),
        pythonpath=plugin_path,
    )
    assert done.returncode == 0, done.stderr
    report = run_json(
        "evaluate", "--checkpoint", str(run), "--episodes", "3", "--json", pythonpath=plugin_path
    )
    assert report["agent"] == "counter"
    assert report["env"] == "thirdparty/Bandit-v0"
    assert report["mean_return"] == 10.0  # It learned that arm 2 pays.
    assert report["metrics"] == {"hit": 1.0}


def test_broken_plugin_is_named_and_the_others_keep_working(broken_plugin_path):
    listing = run_json("list", "--json", pythonpath=broken_plugin_path)
    agents = {a["name"]: a for a in listing["agents"]}
    assert "error" not in agents["counter"]
    assert "error" not in agents["random"]
    broken = agents["broken"]["error"]
    assert "'broken'" in broken and "arena-broken-plugin" in broken
    assert "a_module_that_does_not_exist" in broken
    assert any("broken-envs" in e and "arena-broken-plugin" in e for e in listing["errors"])
    assert "thirdparty/Bandit-v0" in {e["id"] for e in listing["envs"]}

    done = run_arena("evaluate", "broken", "CartPole-v1", pythonpath=broken_plugin_path)
    assert done.returncode == 2
    assert "arena-broken-plugin" in done.stderr and "Traceback" not in done.stderr

    report = run_json(
        "evaluate",
        "counter",
        "thirdparty/Bandit-v0",
        "--episodes",
        "2",
        "--json",
        pythonpath=broken_plugin_path,
    )
    assert report["episodes"] == 2


def test_list_imports_neither_torch_nor_numba():
    code = (
        "import sys, contextlib, io\n"
        "from arena.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['list', '--json'])\n"
        "print([m for m in ('torch', 'numba') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_arena_envs_work_after_import_envs_and_through_the_module_prefix():
    code = (
        "import gymnasium as gym\n"
        "import json\n"
        "before = 'arena/Chain-v0' in gym.registry\n"
        "env = gym.make('envs:arena/Chain-v0')\n"
        "print(json.dumps([before, env.spec.id]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, "arena/Chain-v0"]
