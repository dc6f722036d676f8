"""Evaluation during training: play the agent every N steps and keep its best checkpoint.

``arena train --eval-every N`` plays greedy episodes on a separate env every N steps, as SB3's
``EvalCallback`` does, and saves the agent to ``OUT/best`` whenever it beats every earlier
evaluation. The env is the one ``arena evaluate`` plays: on a dataset env, its held-out split,
so the evaluations score what ``arena evaluate`` scores (and a sweep that selects on them
selects on that split). A value-based agent's greedy policy can swing from one update round
to the next (DQN on MountainCar-v0 is the classic case), so the last weights of a run are not
always its best; ``OUT/best`` keeps the best ones seen. The evaluation episodes are not
training steps: they do not count towards the budget and the agent never learns from them.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.callbacks import Callback
from arena.errors import ArenaError
from arena.rundir import BEST_DIR, EVALUATIONS_FILE
from arena.rundir import EVALUATIONS_HEADER as FIELDS

if TYPE_CHECKING:
    import gymnasium as gym

    from arena.agent import Agent


class PeriodicEval(Callback):
    """Every ``every`` steps, and at the end (:meth:`finish`), evaluates a copy of the agent.

    The copy (:func:`~arena.checkpoint.clone_agent`) plays ``episodes`` greedy episodes, so the
    evaluation cannot disturb the agent's own state. Each evaluation appends a row to
    ``out/evaluations.csv``; when its mean return beats every earlier one (those already in the
    file too, so ``--resume`` goes on from them), the agent is saved to ``out/best``.

    Args:
        make_env: Builds the evaluation env: one env, also when training uses a vector env.
        out: The run directory.
        every: Steps between evaluations.
        episodes: Greedy episodes per evaluation.
        seed: Every evaluation's first reset takes this seed, so each plays the same episodes.
        report: Called after each evaluation with the agent, the step and the report's
            numbers (:meth:`~arena.evaluation.EvalReport.summary`): TensorBoard, a sweep's trial.
    """

    def __init__(
        self,
        make_env: Callable[[], gym.Env],
        out: Path,
        every: int,
        episodes: int,
        seed: int,
        report: Callable[[Agent, int, dict[str, Any]], None] | None = None,
    ) -> None:
        self.make_env = make_env
        self.out = out
        self.every = every
        self.episodes = episodes
        self.seed = seed
        self.report = report
        self.agent: Agent | None = None
        self.env: gym.Env | None = None
        self.last = 0
        self.best = -math.inf

    def on_learn_start(self, agent: Agent, steps: int) -> None:
        self.agent = agent
        self.last = agent.num_timesteps
        self.best = max((row["mean_return"] for row in self.history()), default=-math.inf)

    def on_step(self, step: int) -> bool:
        if self.agent is not None and step - self.last >= self.every:
            self.evaluate(step)
        return True

    def on_learn_end(self, agent: Agent) -> None:
        self.close()

    def finish(self, agent: Agent) -> None:
        """Evaluates the final agent, unless the last evaluation saw it.

        Training calls this once ``learn`` has returned: a run stopped by an error (a NaN loss,
        Ctrl-C) has no final agent worth keeping, so :meth:`on_learn_end` does not evaluate.
        """
        if agent.num_timesteps > self.last:
            self.evaluate(agent.num_timesteps)
        self.close()

    def close(self) -> None:
        """Closes the evaluation env, if one is open."""
        if self.env is not None:
            self.env.close()
            self.env = None

    def evaluate(self, step: int) -> None:
        """Evaluates the agent now; saves it to ``out/best`` if it is the best so far."""
        from arena.checkpoint import clone_agent, save_checkpoint
        from arena.evaluation import evaluate

        if self.env is None:
            self.env = self.make_env()
        report = evaluate(clone_agent(self.agent), self.env, self.episodes, seed=self.seed)
        numbers = report.summary()  # NaN-aware: a NaN return is a NaN row, not a crash
        mean_return = round(numbers["mean_return"], 6)  # as the file keeps it, for --resume
        is_best = mean_return > self.best
        if is_best:
            save_checkpoint(self.agent, self.out / BEST_DIR)
            self.best = mean_return
        self._append(
            {
                "step": step,
                "mean_return": mean_return,
                "std_return": round(numbers["std_return"], 6),
                "mean_length": round(numbers["mean_length"], 6),
                "best": int(is_best),
            }
        )
        self.last = step
        if self.report is not None:
            self.report(self.agent, step, numbers)

    def history(self) -> list[dict[str, float]]:
        """The evaluations already in ``out/evaluations.csv``, oldest first.

        Raises:
            ArenaError: A file that is not arena's evaluation log; the message names the line.
        """
        path = self.out / EVALUATIONS_FILE
        if not path.is_file():
            return []
        try:
            with path.open(newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                table = []
                for row in reader:
                    if None in row or None in row.values() or set(row) != set(FIELDS):
                        raise ValueError(f"its columns are not {','.join(FIELDS)}")
                    table.append({k: float(v) for k, v in row.items()})
        except (ValueError, UnicodeDecodeError, csv.Error) as e:
            raise ArenaError(
                f"{str(path)!r}, line {reader.line_num}: not an evaluation log arena can read "
                f"({e}). Move it away to start the log anew."
            ) from None
        return table

    def _append(self, row: dict[str, float]) -> None:
        path = self.out / EVALUATIONS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.is_file() or path.stat().st_size == 0
        with path.open("a", newline="") as f:
            writer = csv.DictWriter(f, FIELDS)
            if new:
                writer.writeheader()
            writer.writerow(row)
