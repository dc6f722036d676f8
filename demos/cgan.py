"""The conditional GAN on the digits: ask for a digit by pressing its key."""

from __future__ import annotations

import sys

import numpy as np

import arena
from arena.callbacks import Callback
from arena.demo import Stage, main
from demos.kit import MUTED, canvas, draw_frame, draw_text, to_array
from envs.generation.render import image_grid

ENV = "arena/DigitsCond-v0"
PANEL = 420
HOLD = 10
"""Frames each digit stays on screen in the tour."""


def class_grid(agent: arena.Agent, seed: int) -> np.ndarray:
    """10 rows of 10 samples: row k asked to be the digit k."""
    labels = np.repeat(np.arange(10), 10)
    return image_grid(agent.sample(100, np.random.default_rng(seed), {"labels": labels}), 100)


class Grids(Callback):
    """Keeps the class grid every ``every`` training steps (the same noise each time)."""

    def __init__(self, every: int, seed: int) -> None:
        self.every = every
        self.seed = seed
        self.grids: list[tuple[int, np.ndarray]] = []

    def on_learn_start(self, agent: arena.Agent, steps: int) -> None:
        self.agent = agent
        self.next = self.every

    def on_step(self, step: int) -> bool:
        if step >= self.next:
            self.grids.append((step, class_grid(self.agent, self.seed)))
            self.next += self.every
        return True


def _frame(title: str, caption: str, grid: np.ndarray) -> np.ndarray:
    surface = canvas(PANEL + 32, PANEL + 100)
    draw_text(surface, title, (16, 12), 28)
    draw_text(surface, caption, (16, 44), 20, MUTED)
    draw_frame(surface, grid, (16, 76, PANEL, PANEL))
    return to_array(surface)


def run(stage: Stage) -> None:
    """cgan learns the digits, then draws 16 samples of each digit asked for: a tour of 0-9,
    and, once a digit key is pressed, whichever digit is pressed until the window closes."""
    stage.need("cgan")
    agent, env, steps = arena.build_agent("cgan", ENV, seed=stage.seed)
    steps = steps or 6000
    steps = steps // 10 if stage.fast else steps
    grids = Grids(max(steps // 20, 1), stage.seed)
    agent.learn(env, steps, callback=grids, progress=False)
    env.close()
    stage.fps = 6
    for step, grid in grids.grids:
        stage.show(_frame("cgan learns the digits", f"row k asks for digit k; step {step:,}", grid))
    window = stage.window
    tour, pressed, draw = list(range(10)), False, 0
    while tour:
        digit = tour.pop(0)
        draw += 1
        samples = agent.sample(16, np.random.default_rng(draw), {"labels": np.full(16, digit)})
        caption = "press a digit key to ask for it (Esc quits)"
        for _ in range(HOLD):
            stage.show(_frame(f"cgan, asked for a {digit}", caption, image_grid(samples, 16)))
            keys = [k for k in (window.take_keys() if window else []) if k.isdigit()]
            if keys:
                pressed, tour = True, [int(keys[-1])]
                break
        if pressed and not tour:
            tour = [digit]  # Hold the last digit asked for until another key or Esc.


if __name__ == "__main__":
    sys.exit(main(run, "cgan"))
