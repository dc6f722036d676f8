"""TensorBoard event files of a run, as Stable-Baselines3's ``tensorboard_log`` writes them.

``arena train --tensorboard DIR`` writes the run's events to ``DIR/AGENT_ENV_seed-S_N`` (``N``
counts the runs written there, as SB3 counts its own), step by the agent's step count:

- ``rollout/return`` and ``rollout/length``: the training episodes' means, grouped as
  ``progress.csv`` groups them (:class:`arena.runlogs.ProgressCSV`), so a compiled run's
  millions of episodes make a few thousand points;
- ``metrics/NAME``: the env's end-of-episode metrics, grouped the same way;
- ``train/NAME``: the agent's training scalars (:meth:`arena.agent.Agent.training_scalars`: the
  last update's loss, epsilon...), read at each group's end;
- ``eval/mean_return``, ``eval/mean_length`` and ``eval/NAME``: each evaluation during training
  (``--eval-every``).

The writer is ``tensorboardX``'s or ``torch.utils.tensorboard``'s, whichever is installed,
imported only when a run asks for events.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.callbacks import Callback, Episode
from arena.errors import ArenaError
from arena.runlogs import PROGRESS_ROWS

if TYPE_CHECKING:
    from arena.agent import Agent

INSTALL_HINT = 'pip install "gym-arena[ray]" (or pip install tensorboard)'
"""How to get a TensorBoard writer, as the messages say it."""


def summary_writer_class() -> type:
    """The installed ``SummaryWriter``: tensorboardX's, else torch's (which needs tensorboard).

    Raises:
        ArenaError: Neither is installed; the message says how to install one.
    """
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ArenaError(
                f"--tensorboard writes TensorBoard event files, and no writer is installed. "
                f"Install one: {INSTALL_HINT}"
            ) from None
    return SummaryWriter


def run_folder(root: Path, agent: str, env_id: str, seed: int | None) -> Path:
    """The first free ``root/AGENT_ENV_seed-S_N`` (N from 1), where a run writes its events."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", f"{agent}_{env_id}_seed-{seed}")
    number = 1
    while (root / f"{stem}_{number}").exists():
        number += 1
    return root / f"{stem}_{number}"


class TensorBoardLog(Callback):
    """Writes a run's episodes, training scalars and evaluations as TensorBoard events.

    Args:
        root: The ``--tensorboard`` folder; the run writes into a new folder inside it
            (:func:`run_folder`), made when learning starts.
    """

    def __init__(self, root: Path) -> None:
        self.writer_class = summary_writer_class()
        self.root = root
        self.folder: Path | None = None
        self.writer: Any = None
        self.agent: Agent | None = None
        self.window = 1
        self._group: list[Episode] = []

    def on_learn_start(self, agent: Agent, steps: int) -> None:
        self.agent = agent
        self.window = max(1, steps // PROGRESS_ROWS)
        if self.writer is None:
            self.folder = run_folder(self.root, agent.name, agent.env_id or "env", agent.seed)
            try:
                self.writer = self.writer_class(str(self.folder))
            except OSError as e:
                raise ArenaError(
                    f"--tensorboard: cannot write events to {str(self.folder)!r}: "
                    f"{e.strerror or e}."
                ) from None

    def on_episode(self, episode: Episode) -> None:
        last = self._group[-1].step if self._group else None
        if last is not None and (last - 1) // self.window != (episode.step - 1) // self.window:
            self.flush()
        self._group.append(episode)

    def flush(self) -> None:
        """Writes the episodes not yet written as one point of each tag, with the agent's
        training scalars as they are now."""
        group, self._group = self._group, []
        if not group or self.writer is None:
            return
        step = group[-1].step
        self._scalar("rollout/return", _mean([e.ret for e in group]), step)
        self._scalar("rollout/length", _mean([e.length for e in group]), step)
        for name in sorted({name for e in group for name in e.metrics}):
            values = [e.metrics[name] for e in group if name in e.metrics]
            self._scalar(f"metrics/{name}", _mean(values), step)
        if self.agent is not None:
            for name, value in self.agent.training_scalars().items():
                self._scalar(f"train/{name}", value, step)

    def evaluation(self, step: int, numbers: Mapping[str, Any]) -> None:
        """Writes one evaluation during training (a :class:`~arena.evaluation.EvalReport`'s
        summary)."""
        if self.writer is None:
            return
        self._scalar("eval/mean_return", numbers["mean_return"], step)
        self._scalar("eval/mean_length", numbers["mean_length"], step)
        for name, value in numbers.get("metrics", {}).items():
            self._scalar(f"eval/{name}", value, step)
        self.writer.flush()

    def on_learn_end(self, agent: Agent) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        """Closes the event file; the run calls it once training and evaluation are over."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _scalar(self, tag: str, value: float, step: int) -> None:
        if math.isfinite(value):
            self.writer.add_scalar(tag, value, step)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
