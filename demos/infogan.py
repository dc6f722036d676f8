"""InfoGAN on the digits: watch its categorical code come to mean the digit, unsupervised."""

from __future__ import annotations

import sys

import numpy as np

import arena
from arena.callbacks import Callback
from arena.demo import Stage, main
from demos.kit import MUTED, canvas, draw_frame, draw_text, to_array
from envs.generation.render import image_grid

ENV = "arena/DigitsGen-v0"
GRID = 480
SWEEP = np.linspace(-1.0, 1.0, 10)


def code_grid(agent: arena.Agent, seed: int) -> np.ndarray:
    """Samples of one noise vector: rows the categorical code's 10 values, columns its first
    continuous code from -1 to 1 (the same code for every column when it has none)."""
    has_sweep = agent.config.continuous_codes > 0
    codes = [{"c": c, "u1": u} if has_sweep else {"c": c} for c in range(10) for u in SWEEP]
    samples = [agent.sample(1, np.random.default_rng(seed), {"code": code}) for code in codes]
    return image_grid(np.concatenate(samples), max_images=100)


class Grids(Callback):
    """Keeps the code grid every ``every`` training steps, with the MI bound at that step."""

    def __init__(self, every: int, seed: int) -> None:
        self.every = every
        self.seed = seed
        self.grids: list[tuple[int, np.ndarray, float]] = []

    def on_learn_start(self, agent: arena.Agent, steps: int) -> None:
        self.agent = agent
        self.next = self.every

    def on_step(self, step: int) -> bool:
        if step >= self.next:
            bound = self.agent.model.mi_bound(self.seed)
            self.grids.append((step, code_grid(self.agent, self.seed), bound))
            self.next += self.every
        return True


def run(stage: Stage) -> None:
    """infogan trains on the digits; its code grid is redrawn as training goes."""
    stage.need("infogan")
    agent, env, steps = arena.build_agent("infogan", ENV, seed=stage.seed)
    steps = steps or 6000
    steps = steps // 16 if stage.fast else steps
    grids = Grids(max(steps // 20, 1), stage.seed)
    agent.learn(env, steps, callback=grids, progress=False)
    env.close()
    stage.fps = 6
    frames = [*grids.grids, *[grids.grids[-1]] * 12]  # Then hold the last grid on screen.
    for step, grid, bound in frames:
        surface = canvas(GRID + 32, GRID + 110)
        draw_text(surface, "InfoGAN on 8x8 digits", (16, 12), 28)
        draw_text(
            surface,
            "rows: the categorical code c = 0..9; columns: the continuous code u1, -1 to 1",
            (16, 42),
            18,
            MUTED,
        )
        draw_text(
            surface, f"step {step:,}: mutual-information bound {bound:.2f} of 2.30 nats", (16, 66)
        )
        draw_frame(surface, grid, (16, 94, GRID, GRID))
        stage.show(to_array(surface))


if __name__ == "__main__":
    sys.exit(main(run, "infogan"))
