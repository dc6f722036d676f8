"""Ray is an extra: who fans seeds out over it, who never imports it, and the fallback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from arena import cluster
from arena.cli import main
from arena.fanout import fans_out, train_seeds_on_ray
from arena.registry import agent_class
from arena.training import train_seeds

ARENA = Path(sys.executable).with_name("arena")


def test_only_families_without_a_side_by_side_path_fan_out():
    assert fans_out(agent_class("random")) and fans_out(agent_class("dqn"))
    assert not fans_out(agent_class("q-learning"))  # one parallel compiled kernel


def test_list_train_and_evaluate_never_import_ray(tmp_path):
    script = (
        "import sys\n"
        "from arena.cli import main\n"
        "main(['list'])\n"
        f"main(['train', 'random', 'arena/Chain-v0', '--steps', '50', '--out', {str(tmp_path)!r},"
        " '--quiet'])\n"
        f"main(['evaluate', '--checkpoint', {str(tmp_path)!r}, '--episodes', '1'])\n"
        "print('ray' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("False")


def test_train_seeds_without_ray_trains_in_process(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cluster, "ray_installed", lambda: False)
    arguments = ["train", "random", "arena/Chain-v0", "--steps", "300", "--seeds", "2"]
    assert main([*arguments, "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [s["seed"] for s in summary["seeds"]] == [0, 1]


def test_compare_without_ray_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cluster, "ray_installed", lambda: False)
    arguments = ["compare", "random", "--env", "arena/Chain-v0", "--seeds", "2"]
    assert main([*arguments, "--out", str(tmp_path / "out")]) == 2
    assert 'pip install "gym-arena[ray]"' in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_seeds_on_ray_train_as_in_process(tmp_path):
    pytest.importorskip("ray")
    runs, _ = train_seeds_on_ray(
        "random", "arena/Chain-v0", out=tmp_path / "ray", seeds=2, steps=300
    )
    alone = train_seeds("random", "arena/Chain-v0", out=tmp_path / "alone", seeds=2, steps=300)
    assert [(r.seed, r.steps, r.recent_return) for r in runs] == [
        (r.agent.seed, r.steps, r.recent_return) for r in alone
    ]
    assert all((r.out / "manifest.json").is_file() for r in runs)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["q-learning", "FrozenLake-v1", "--seeds", "2", "--address", "127.0.0.1:1"],
            "drop --address",
        ),
        (["random", "FrozenLake-v1", "--address", "127.0.0.1:1"], "it needs --seeds N"),
        (["random", "FrozenLake-v1", "--seeds", "2", "--address", "x"], "must be HOST:PORT"),
    ],
)
def test_train_address_refusals_exit_2(tmp_path, arguments, message):
    done = subprocess.run(
        [ARENA, "train", *arguments, "--steps", "10", "--out", tmp_path / "out"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr
