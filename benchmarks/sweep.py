"""``arena sweep`` against the issue's targets (issue 21): the rows for ``benchmarks/scale.py``.

Run (from the repository root, with the ``ray`` extra installed)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sweep.py
    .venv/bin/python benchmarks/sweep.py --rows q-learning --trials 4   # a smaller check

Rows, each through the ``arena`` command as a user runs it (a local Ray instance per sweep):

- ``arena sweep q-learning FrozenLake-v1 --trials 16`` (the default space and the preset's budget,
  100 episodes per evaluation): the best config found, retrained with ``arena train --config
  DIR/best.toml`` at seed 0, against the preset trained at seed 0; both scored by ``arena
  evaluate --episodes 2000``. Target: the best at least as good as the preset, within the
  evaluation's noise (two standard errors of the difference).
- ``arena sweep dqn CartPole-v1 --trials 8 --steps 30000`` (the default space, 20 episodes per
  evaluation): the best finished trial's final evaluation. Target: a mean return of 475 or more.

:func:`rows` returns the measured rows, for ``benchmarks/scale.py`` to print beside its own.

Measured here on 1 Dec 2026, 00:59-01:09 UTC, on 2 cores shared with other helpers' benchmarks and
test suites (load average 14-33, so the times are long and not comparable)::

    sweep q-learning FrozenLake-v1 --trials 16: best 0.749 vs preset 0.749 (+-0.027, 2000 episodes
    each); 4 complete, 12 pruned, 161 s; target best >= preset: met
    sweep dqn CartPole-v1 --trials 8 --steps 30000: best trial 467.3 (20 episodes); 3 complete,
    5 pruned, 494 s; target mean return >= 475: MISSED

FrozenLake's preset is the optimum (0.744), so the best finished trial is the preset's own point
(trial 1, which ties trial 6 at 0.74 over 100 episodes): met, but only as a tie. On CartPole the
best finished trial scored 500 at its evaluations from 18k to 25k steps and 467.3 at 30k (its
``best/`` keeps a 500 agent); ASHA stopped five trials at 7.5k or 15k steps. The same sweep with
``--no-prune`` (01:11-01:18 UTC, every trial to 30k) finished two trials at 500.0 (trial 6, which
ASHA had stopped at 9.2k with 104.3, and trial 8): DQN's greedy score swings between
evaluations, so early evaluations rank its trials poorly and a single last evaluation is noisy.

Again on 1 Dec 2026, 03:40-03:50 UTC (another machine, load 2), after the CartPole preset took
``max_grad_norm = 0.5`` (its 50k-step run reaches 500 on seeds 0-5, but more slowly: at 40k only
3 of 10 seeds were at 500): best trial 406.7, the preset's own point (2 complete, 6 pruned);
with ``max_grad_norm`` (0.5, 1, 10) added to the space, 406.7 again (4 complete; trial 3,
norm 10, scored 486.5 at its best evaluation and 355.1 at its last): MISSED by 68. 30k steps
is short for the slower preset, and 8 trials leave TPE in its random start-up.

On 1 Dec 2026, 05:55-05:57 UTC (quiet machine, load 1), after the CartPole preset took 5-step
returns, hidden (128, 128), lr 3e-3 and epsilon at its floor by 6k steps (it reaches 500 within
30k steps on half the seeds, mean 470 over ten; benchmarks/dqn.py lists the screen) and the
space narrowed around it (lr 1e-3 to 5e-3, batch 128 or 256, gamma 0.99 to 0.999, train_freq
4 or 8, target every 300 to 2000 steps, 3-, 5- or 8-step returns, final epsilon 0.01 to 0.05,
norm 0.5, 1 or 10)::

    sweep dqn CartPole-v1 --trials 8 --steps 30000: best trial 500.0 at its last evaluation
    (20 episodes; 500.0 at its best, kept in its best/); 6 complete, 2 pruned, 91 s; target
    mean return >= 475: met

Five of the six finished trials ended at 500.0 (the preset's own point, trial 1, among them;
the sixth, with 3-step returns, at 441.3); ASHA stopped two at 9k steps (143.4 and 127.9).
The same rows again from ``benchmarks/scale.py --parts ratio list sweep`` at 06:13-06:15 UTC:
q-learning best 0.749 vs preset 0.749, 45 s; dqn best trial 500.0, 6 complete, 2 pruned, 84 s.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EVAL_EPISODES = 2000


def arena(*args: str) -> dict[str, Any]:
    """Runs ``python -m arena ARGS --json`` and returns its summary."""
    done = subprocess.run(
        [sys.executable, "-m", "arena", *args, "--json"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"arena {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def _score(checkpoint: Path) -> tuple[float, float]:
    """The mean return of ``EVAL_EPISODES`` greedy episodes and its standard error."""
    report = arena("evaluate", "--checkpoint", str(checkpoint), "--episodes", str(EVAL_EPISODES))
    return report["mean_return"], report["std_return"] / math.sqrt(EVAL_EPISODES)


def q_learning_row(work: Path, trials: int) -> dict[str, Any]:
    """Sweeps q-learning on FrozenLake-v1 and compares its best config with the preset."""
    started = time.perf_counter()
    summary = arena(
        "sweep", "q-learning", "FrozenLake-v1", "--trials", str(trials),
        "--eval-episodes", "100", "--out", str(work / "ql-sweep"),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    best_run, preset_run = work / "ql-best", work / "ql-preset"
    arena("train", "q-learning", "FrozenLake-v1", "--config", summary["best_toml"],
          "--out", str(best_run))  # fmt: skip
    arena("train", "q-learning", "FrozenLake-v1", "--out", str(preset_run))
    (best, best_se), (preset, preset_se) = _score(best_run), _score(preset_run)
    margin = 2 * math.hypot(best_se, preset_se)
    return {
        "what": f"sweep q-learning FrozenLake-v1 --trials {trials}",
        "measured": f"best {best:.3f} vs preset {preset:.3f} (+-{margin:.3f}, {EVAL_EPISODES} "
        f"episodes each); {summary['complete']} complete, {summary['pruned']} pruned, "
        f"{seconds:.0f} s",
        "target": "best >= preset",
        "met": best >= preset - margin,
    }


def dqn_row(work: Path, trials: int, steps: int, prune: bool = True) -> dict[str, Any]:
    """Sweeps dqn on CartPole-v1 and reads its best trial's final evaluation."""
    started = time.perf_counter()
    summary = arena(
        "sweep", "dqn", "CartPole-v1", "--trials", str(trials), "--steps", str(steps),
        "--eval-episodes", "20", "--out", str(work / "dqn-sweep"),
        *([] if prune else ["--no-prune"]),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    best = summary["best"] or {"objective": float("nan"), "best_objective": float("nan")}
    return {
        "what": f"sweep dqn CartPole-v1 --trials {trials} --steps {steps}"
        + ("" if prune else " --no-prune"),
        "measured": f"best trial {best['objective']:.1f} at its last evaluation (20 episodes; "
        f"{best['best_objective']:.1f} at its best, kept in its best/); "
        f"{summary['complete']} complete, {summary['pruned']} pruned, {seconds:.0f} s",
        "target": "mean return >= 475",
        "met": best["objective"] >= 475,
    }


def rows(
    which: list[str],
    work: Path,
    ql_trials: int = 16,
    dqn_trials: int = 8,
    dqn_steps: int = 30000,
    prune: bool = True,
) -> list[dict[str, Any]]:
    """The measured rows named in ``which`` (``q-learning``, ``dqn``), run in ``work``."""
    out = []
    if "q-learning" in which:
        out.append(q_learning_row(work, ql_trials))
    if "dqn" in which:
        out.append(dqn_row(work, dqn_trials, dqn_steps, prune))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", nargs="+", default=["q-learning", "dqn"])
    parser.add_argument("--trials", type=int, help="trials of every row (the issue's by default)")
    parser.add_argument("--dqn-steps", type=int, default=30000)
    parser.add_argument("--no-prune", action="store_true", help="the dqn sweep without ASHA")
    parser.add_argument("--work", help="the folder for the sweeps (a temporary one by default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(args.work or temporary)
        measured = rows(
            args.rows,
            work,
            ql_trials=args.trials or 16,
            dqn_trials=args.trials or 8,
            dqn_steps=args.dqn_steps,
            prune=not args.no_prune,
        )
    for row in measured:
        mark = "met" if row["met"] else "MISSED"
        print(f"{row['what']}: {row['measured']}; target {row['target']}: {mark}")


if __name__ == "__main__":
    main()
