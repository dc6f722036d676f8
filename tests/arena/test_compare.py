"""``arena compare`` on real Ray: end to end, rerun, a killed worker, Ctrl-C, a joined cluster.

The module shares one local Ray instance (``ray_local``); the command-line tests start their
own, as a user's command does.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")

from arena.cluster import ray_session
from arena.compare import compare
from arena.errors import ArenaError
from arena.evaluation import evaluate
from arena.fanout import eval_seed
from arena.registry import make_env
from arena.training import train

ARENA = Path(sys.executable).with_name("arena")
ENV = "FrozenLake-v1"
SLOW_STEPS = 60_000
"""Steps of a ``random`` run that lasts a few seconds: long enough to be caught mid-run."""


@pytest.fixture(scope="module")
def ray_local():
    with ray_session("tests") as ray:
        yield ray


@pytest.fixture(scope="module")
def tabular(ray_local, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "out"
    summary = compare(
        ["q-learning", "sarsa"], ENV, seeds=2, steps=20_000, episodes=20, out=out,
        tensorboard=out / "tensorboard",
    )  # fmt: skip
    return out, summary


def rows_of(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / "results.csv").read_text().splitlines()))


def test_compare_trains_evaluates_and_aggregates_every_agent_and_seed(tabular, tmp_path):
    out, summary = tabular
    rows = rows_of(out)
    assert [(r["agent"], r["seed"]) for r in rows] == [
        ("q-learning", "0"),
        ("q-learning", "1"),
        ("sarsa", "0"),
        ("sarsa", "1"),
    ]
    assert all(r["steps"] == "20000" and r["success"] != "" for r in rows)
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["runs"] == {"trained": 4, "resumed": 0, "evaluated": 0, "reused": 0}
    for name in ("q-learning", "sarsa"):
        scores = [float(r["mean_return"]) for r in rows if r["agent"] == name]
        stats = summary["agents"][name]["return"]
        assert stats["mean"] == pytest.approx(sum(scores) / 2) and stats["runs"] == 2
        assert (
            min(scores) <= stats["iqm_ci"][0] <= stats["iqm"] <= stats["iqm_ci"][1] <= max(scores)
        )
        assert set(summary["agents"][name]["metrics"]) == {"success"}
        for seed in (0, 1):
            run = out / name / f"seed-{seed}"
            assert {"manifest.json", "progress.csv", "result.json"} <= {
                p.name for p in run.iterdir()
            }
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (out / "tensorboard").iterdir()) == [
        f"{name}_{ENV}_seed-{seed}_1" for name in ("q-learning", "sarsa") for seed in (0, 1)
    ]
    # A worker's run is the run `arena train` and `arena evaluate` make in this process.
    agent = train("q-learning", ENV, out=tmp_path / "alone", steps=20_000, seed=1).agent
    env = make_env(ENV, **agent.env_kwargs)
    alone = evaluate(agent, env, episodes=20, seed=eval_seed(1)).mean_return
    assert alone == float(rows[1]["mean_return"])
    # The events folder inside OUT is the comparison's own, recorded: a rerun without the flag
    # reuses every run; another run may not put events among an earlier agent's runs.
    again = compare(["q-learning", "sarsa"], ENV, seeds=2, steps=20_000, episodes=20, out=out)
    assert again["runs"] == {"trained": 0, "resumed": 0, "evaluated": 0, "reused": 4}
    with pytest.raises(ArenaError, match="an agent's runs"):
        compare(
            ["q-learning"], ENV, seeds=2, steps=20_000, episodes=20, out=out,
            tensorboard=out / "sarsa",
        )  # fmt: skip


def test_the_events_folder_is_never_a_users_folder(tmp_path):
    out = tmp_path / "out"
    (out / "mine").mkdir(parents=True)
    (out / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(ArenaError, match="holds files arena compare did not write"):
        compare(["random"], ENV, seeds=1, steps=10, out=out, tensorboard=out / "mine")
    assert (out / "mine" / "notes.txt").read_text() == "mine" and not (
        out / "compare.json"
    ).exists()


def test_workers_run_one_blas_and_one_numba_thread(ray_local):
    def threads() -> tuple[str | None, int]:
        import numba

        return os.environ.get("OPENBLAS_NUM_THREADS"), numba.get_num_threads()

    assert ray_local.get(ray_local.remote(num_cpus=1)(threads).remote()) == ("1", 1)


def test_rerun_reuses_what_stands_and_finishes_the_rest(ray_local, tmp_path):
    out = tmp_path / "out"
    compare(["random"], ENV, seeds=2, steps=500, episodes=5, out=out)
    first = (out / "random" / "seed-0" / "result.json").stat().st_mtime_ns
    (out / "random" / "seed-1" / "result.json").unlink()
    train("random", ENV, out=out / "random" / "seed-2", steps=200, seed=2)  # stopped short
    summary = compare(["random"], ENV, seeds=4, steps=500, episodes=5, out=out)
    assert summary["runs"] == {"trained": 1, "resumed": 1, "evaluated": 1, "reused": 1}
    assert (out / "random" / "seed-0" / "result.json").stat().st_mtime_ns == first
    assert [r["steps"] for r in rows_of(out)] == ["500"] * 4
    with pytest.raises(ArenaError, match="holds a comparison with 5 episodes"):
        compare(["random"], ENV, seeds=4, steps=500, episodes=6, out=out)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ArenaError, match="did not write"):
        compare(["random"], ENV, seeds=4, steps=500, episodes=5, out=out)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_killed_worker_is_retried_and_every_seed_completes(ray_local, tmp_path):
    out = tmp_path / "out"
    finished: dict = {}

    def run() -> None:
        try:
            finished["summary"] = compare(
                ["random"], ENV, seeds=2, steps=SLOW_STEPS, episodes=5, out=out
            )
        except BaseException as error:  # reported by the assertion below
            finished["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and thread.is_alive() and time.monotonic() < deadline:
        killed = kill_a_worker(out / "random")
        time.sleep(0.02)
    thread.join(timeout=300)
    assert killed is not None, "no worker was caught mid-run"
    assert "error" not in finished, finished.get("error")
    assert [r["steps"] for r in rows_of(out)] == [str(SLOW_STEPS)] * 2


def kill_a_worker(runs: Path) -> int | None:
    """SIGKILLs the Ray worker that holds a run's lock (its pid is in the lock file)."""
    for lock in runs.glob("seed-*/.arena.lock"):
        try:
            pid = json.loads(lock.read_text())["pid"]
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, KeyError):
            continue
        if pid != os.getpid() and b"ray::" in command:
            os.kill(pid, signal.SIGKILL)
            return pid
    return None


def test_ctrl_c_leaves_out_resumable(ray_local, tmp_path):
    out = tmp_path / "out"
    command = [ARENA, "compare", "random", "--env", ENV, "--seeds", "2", "--episodes", "5"]
    command += ["--steps", str(SLOW_STEPS), "--out", out]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("random/seed-*/manifest.json")) and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr and "Traceback" not in stderr
    summary = compare(["random"], ENV, seeds=2, steps=SLOW_STEPS, episodes=5, out=out)
    assert summary["runs"]["trained"] <= 1  # the checkpoint caught above was kept
    assert [r["steps"] for r in rows_of(out)] == [str(SLOW_STEPS)] * 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["q-learnin"], "Did you mean 'q-learning'"),
        (["dqn"], "dqn needs a Box observation space; FrozenLake-v1 has Discrete(16)"),
        (["q-learning", "q-learning"], "more than once"),
        (["q-learning", "--seeds", "0"], "--seeds must be at least 1"),
        (["q-learning", "--address", "nowhere"], "--address must be HOST:PORT"),
        (["q-learning", "--tensorboard", "{out}"], "would mix its events"),
        (["q-learning", "--tensorboard", "{out}/q-learning"], "would mix its events"),
        (["q-learning", "--tensorboard", "{out}/q-learning/tb"], "would mix its events"),
        (["q-learning", "--tensorboard", ""], "--tensorboard is empty"),
    ],
)
def test_bad_input_exits_2_before_any_worker_starts(tmp_path, arguments, message):
    out = tmp_path / "out"
    arguments = [a.replace("{out}", str(out)) for a in arguments]
    command = [ARENA, "compare", *arguments, "--env", ENV, "--out", out]
    if "--seeds" not in arguments:
        command += ["--seeds", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_cluster_joined_by_address_gives_the_local_numbers(tabular):
    out, _ = tabular
    port = free_port()
    # Short: Ray's socket paths under it must stay within the OS's 107 characters.
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    # `ray start` requires Ray's token authentication where ~/.ray/auth_token exists; give the
    # head and the command their own token rather than depend on the user's.
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    head = subprocess.Popen(
        [
            *(Path(sys.executable).with_name("ray"), "start", "--head", "--port", str(port)),
            *("--node-ip-address", "127.0.0.1", "--temp-dir", temp, "--num-cpus", "2"),
            *("--include-dashboard", "false", "--disable-usage-stats"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # every process of the head in one group, ours to stop
    )
    try:
        _, started = head.communicate(timeout=180)
        assert head.returncode == 0, started
        command = [ARENA, "compare", "q-learning", "--env", ENV, "--seeds", "2", "--steps"]
        command += ["20000", "--episodes", "20", "--json", "--out", temp / "out"]
        done = subprocess.run(
            [*command, "--address", f"127.0.0.1:{port}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        joined = rows_of(temp / "out")
    finally:
        stop_group(head.pid)
        shutil.rmtree(temp, ignore_errors=True)
    local = [r for r in rows_of(out) if r["agent"] == "q-learning"]
    assert [r["mean_return"] for r in joined] == [r["mean_return"] for r in local]


def stop_group(group: int) -> None:
    """Stops the Ray head this test started, by its process group, not `ray stop` (which
    would stop every Ray instance on the machine)."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
