"""Training progress on stderr: a rich progress bar on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import TYPE_CHECKING

from arena.callbacks import Callback, Episode

REFRESH = 0.1
"""Seconds between two updates of the progress shown: the core loop calls ``on_step`` after
every env step, far more often than anyone can read."""

if TYPE_CHECKING:
    from arena.agent import Agent


class ProgressBar(Callback):
    """Shows steps, steps per second and the mean return of the last episodes.

    Args:
        window: How many recent episodes the shown mean return covers.
        plain_lines: On a non-terminal stderr, how many plain progress lines to print in all.
    """

    def __init__(self, window: int = 20, plain_lines: int = 10) -> None:
        self.recent: deque[float] = deque(maxlen=window)
        self.plain_lines = plain_lines
        self.episodes = 0
        self._bar = None
        self._task = None

    def on_learn_start(self, agent: Agent, steps: int) -> None:
        self.total = steps
        self.start_step = agent.num_timesteps
        self.started = time.perf_counter()
        self.next_line = 1
        self.next_refresh = 0.0
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self._bar = Progress(
                "[bold]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                "{task.fields[rate]}",
                "{task.fields[score]}",
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(agent.name, total=steps, rate="", score="")

    def on_episode(self, episode: Episode) -> None:
        self.episodes += 1
        self.recent.append(episode.ret)

    def on_step(self, step: int) -> bool:
        done = step - self.start_step
        now = time.perf_counter()
        if now < self.next_refresh and done < self.total:
            return True
        self.next_refresh = now + REFRESH
        elapsed = max(now - self.started, 1e-9)
        rate = f"{done / elapsed:,.0f} steps/s"
        score = f"return {sum(self.recent) / len(self.recent):.2f}" if self.recent else ""
        if self._bar is not None:
            self._bar.update(self._task, completed=done, rate=rate, score=score)
        elif self.total and done >= self.next_line * self.total / self.plain_lines:
            self.next_line = int(done * self.plain_lines / self.total) + 1
            print(
                f"step {done}/{self.total}  {rate}  episodes {self.episodes}  {score}",
                file=sys.stderr,
                flush=True,
            )
        return True

    def on_learn_end(self, agent: Agent) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
