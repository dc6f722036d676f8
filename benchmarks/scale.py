"""``arena compare`` on Ray against the same runs one after another, and its fault cases.

Run it from the repository root, on a quiet machine (the full run takes ~25 minutes on 2 cores:
``ratio list sweep`` took 14, cluster and kill add a compare each)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/scale.py
    .venv/bin/python benchmarks/scale.py --steps 3000 --seeds 2 --parts ratio cluster kill list
    .venv/bin/python benchmarks/scale.py --parts list kill            # some parts only

The small version leaves out ``sweep``, whose rows always run the issue's own budgets.

It measures, side by side in one run (issue #21's targets):

1. ratio: ``arena compare dqn sb3-dqn --env CartPole-v1 --seeds 4`` as a fresh command (Python's
   and Ray's start-up included) against the same 8 runs (train, then evaluate, exactly as a
   worker does) one after another in this process; target <= 0.6 on 2 cores (the limit is 0.5).
   The two must give the same evaluation returns, run for run.
2. cluster: ``ray start --head`` on 127.0.0.1 (its own temp dir and token, see
   :data:`arena.cluster.AUTH_HINT`), the same compare with ``--address``: the same numbers as
   the local one. The head is stopped by its process group, never by ``ray stop``, which would
   stop every Ray instance on the machine.
3. kill: a compare whose worker is killed (SIGKILL, its pid read from the run's lock file)
   mid-run completes with every seed's result.
4. list: ``arena list``'s start-up (median of 5) imports neither ray nor torch.
5. sweep: the issue's two sweep rows, ``arena sweep q-learning FrozenLake-v1 --trials 16``
   against the preset and ``arena sweep dqn CartPole-v1 --trials 8 --steps 30000`` against a
   mean return of 475 (:mod:`benchmarks.sweep`, where they are described and measured).

Measured on 2026-12-01 00:51-00:58 UTC, a small version (``--steps 3000 --seeds 2 --episodes
5``) on the shared 2-core machine while other helpers' jobs ran (load average 11.6 at the start,
17 during it): it shows that each part works, not how fast; the ratio of such short runs is all
start-up (Python, imports, Ray), and the full run belongs on a quiet machine::

    ratio: compare 72.1s, sequential 37.2s in one process: 1.94 (target <= 0.6) [MISSED];
      same returns run for run: True
    cluster: compare --address 127.0.0.1:35935 in 58.3s; the same numbers as the local run:
      True [ok]
    kill: SIGKILLed worker 30189 on dqn/seed-0 mid-run; compare exit 0, every seed's result
      present: True [ok]
    list: arena list in 1.14s (median of 5); heavy modules imported: [] [ok]

The full ratio on 2026-12-01 04:09-04:17 UTC, another 2-core machine, quiet (load average 0.7 at
the start; ``--parts ratio list``, the presets' budgets, 4 seeds, 10 episodes)::

    ratio: compare 159.2s, sequential 300.2s in one process: 0.53 (target <= 0.6) [ok];
      same returns run for run: True (every run 500.00, dqn and sb3-dqn)
    list: arena list in 0.28s (median of 5); heavy modules imported: [] [ok]

After the dqn CartPole preset's change (5-step returns, hidden (128, 128): ~18 s CPU a seed
against ~10 s), on 2026-12-01 06:01-06:15 UTC, quiet (load average 0.6 at the start; ``--parts
ratio list sweep``)::

    ratio: compare 238.0s, sequential 440.8s in one process: 0.54 (target <= 0.6) [ok];
      same returns run for run: True (every run 500.00, dqn and sb3-dqn)
    list: arena list in 0.39s (median of 5); heavy modules imported: [] [ok]
    sweep: sweep q-learning FrozenLake-v1 --trials 16: best 0.749 vs preset 0.749 (+-0.027,
      2000 episodes each); 4 complete, 12 pruned, 45 s; target best >= preset [ok]
    sweep: sweep dqn CartPole-v1 --trials 8 --steps 30000: best trial 500.0 at its last
      evaluation (20 episodes; 500.0 at its best, kept in its best/); 6 complete, 2 pruned,
      84 s; target mean return >= 475 [ok]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ARENA = Path(sys.executable).with_name("arena")
RAY = Path(sys.executable).with_name("ray")


def sequential(
    agents: list[str], env_id: str, seeds: int, steps: int | None, episodes: int, out: Path
) -> tuple[float, dict[tuple[str, int], float]]:
    """The compare's runs one after another in this process: wall seconds and returns."""
    from arena.building import build_agent
    from arena.fanout import SeedJob, run_seed
    from arena.training import step_budget

    returns = {}
    started = time.perf_counter()
    for name in agents:
        agent, env, preset = build_agent(name, env_id, seed=0)
        env.close()
        budget = step_budget(agent, env_id, steps, preset, None)
        for seed in range(seeds):
            job = SeedJob(name, env_id, seed, str(out / name / f"seed-{seed}"), budget, episodes)
            report = run_seed(job)
            if "error" in report:
                raise SystemExit(report["error"])
            returns[name, seed] = report["mean_return"]
    return time.perf_counter() - started, returns


def compare_command(agents: list[str], args: argparse.Namespace, out: Path) -> list[str]:
    command = [str(ARENA), "compare", *agents, "--env", args.env, "--seeds", str(args.seeds)]
    command += ["--episodes", str(args.episodes), "--out", str(out), "--json"]
    return command + (["--steps", str(args.steps)] if args.steps is not None else [])


def returns_of(out: Path) -> dict[tuple[str, int], float]:
    rows = csv.DictReader((out / "results.csv").read_text().splitlines())
    return {(r["agent"], int(r["seed"])): float(r["mean_return"]) for r in rows}


def run(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def ratio(args: argparse.Namespace, work: Path) -> None:
    seq_seconds, seq_returns = sequential(
        args.agents, args.env, args.seeds, args.steps, args.episodes, work / "sequential"
    )
    ray_seconds = run(compare_command(args.agents, args, work / "compare"))
    same = returns_of(work / "compare") == seq_returns
    print(
        f"ratio: compare {ray_seconds:.1f}s, sequential {seq_seconds:.1f}s in one process: "
        f"{ray_seconds / seq_seconds:.2f} (target <= 0.6) "
        f"[{'ok' if ray_seconds / seq_seconds <= 0.6 else 'MISSED'}]; "
        f"same returns run for run: {same}"
    )
    for key in sorted(seq_returns):
        print(f"  {key[0]} seed {key[1]}: {seq_returns[key]:.2f}")


def cluster(args: argparse.Namespace, work: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short socket paths
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--port", str(port), "--node-ip-address", "127.0.0.1",
         "--temp-dir", str(temp), "--include-dashboard", "false", "--disable-usage-stats"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        _, log = head.communicate(timeout=300)
        if head.returncode != 0:
            raise SystemExit(f"ray start failed:\n{log}")
        local = work / "cluster-local"
        joined = work / "cluster-joined"
        run(compare_command(args.agents, args, local))
        seconds = run([*compare_command(args.agents, args, joined), "--address",
                       f"127.0.0.1:{port}"], env=env)  # fmt: skip
    finally:
        stop_group(head.pid)
        shutil.rmtree(temp, ignore_errors=True)
    same = returns_of(local) == returns_of(joined)
    print(
        f"cluster: compare --address 127.0.0.1:{port} in {seconds:.1f}s; the same numbers as "
        f"the local run: {same} [{'ok' if same else 'MISSED'}]"
    )


def kill(args: argparse.Namespace, work: Path) -> None:
    out = work / "kill"
    process = subprocess.Popen(compare_command(args.agents, args, out), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    killed = None
    while killed is None and process.poll() is None:
        for lock in out.glob("*/seed-*/.arena.lock"):
            try:
                pid = json.loads(lock.read_text())["pid"]
                if b"ray::" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
                    killed = (lock.parent, pid)
                    break
            except (OSError, ValueError, KeyError):
                continue
        time.sleep(0.05)
    _, stderr = process.communicate()
    complete = process.returncode == 0 and len(returns_of(out)) == len(args.agents) * args.seeds
    where = f"worker {killed[1]} on {killed[0].relative_to(out)}" if killed else "no worker"
    print(
        f"kill: SIGKILLed {where} mid-run; compare exit {process.returncode}, every seed's "
        f"result present: {complete} [{'ok' if killed and complete else 'MISSED'}]"
    )
    if process.returncode != 0:
        print(stderr)


def startup(args: argparse.Namespace, work: Path) -> None:
    times = [run([str(ARENA), "list"]) for _ in range(5)]
    probe = (
        "import sys; from arena.cli import main; main(['list']); "
        "print(sorted(m for m in ('ray', 'torch') if m in sys.modules))"
    )
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    heavy = imported.stdout.strip().splitlines()[-1]
    print(
        f"list: arena list in {statistics.median(times):.2f}s (median of 5); heavy modules "
        f"imported: {heavy} [{'ok' if heavy == '[]' else 'MISSED'}]"
    )


def sweeps(args: argparse.Namespace, work: Path) -> None:
    from sweep import rows  # benchmarks/sweep.py, beside this script

    for row in rows(["q-learning", "dqn"], work):
        mark = "ok" if row["met"] else "MISSED"
        print(f"sweep: {row['what']}: {row['measured']}; target {row['target']} [{mark}]")


def stop_group(group: int) -> None:
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


PARTS = {"ratio": ratio, "cluster": cluster, "kill": kill, "list": startup, "sweep": sweeps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", nargs="+", default=["dqn", "sb3-dqn"])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--steps", type=int, help="steps per run (default: the presets')")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
    args = parser.parse_args()
    print(
        f"{' '.join(args.agents)} on {args.env}, {args.seeds} seeds, steps "
        f"{args.steps or 'preset'}, {args.episodes} episodes; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="arena-scale-") as work:
        for part in args.parts:
            PARTS[part](args, Path(work))


if __name__ == "__main__":
    main()
