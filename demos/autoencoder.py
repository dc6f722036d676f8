"""A denoising autoencoder learns to fill in masked digits: corrupted, rebuilt and clean rows."""

from __future__ import annotations

import sys

import numpy as np

import arena
from arena.callbacks import Callback
from arena.demo import Stage, main
from arena.presets import find_preset
from arena.registry import agent_class, evaluation_kwargs
from demos.kit import MUTED, canvas, draw_frame, draw_text, to_array

ENV = "arena/DigitsDenoise-v0"
AGENT = "denoising-ae"
SHOWN = 16
"""Test digits on screen: the env's frame draws up to 16 of a batch."""


class Snapshots(Callback):
    """Every ``every`` steps, answers one fixed masked test batch and keeps the env's frame."""

    def __init__(self, every: int, seed: int) -> None:
        self.every = every
        self.seed = seed
        self.view = arena.make_env(
            ENV, batch_size=SHOWN, render_mode="rgb_array", **evaluation_kwargs(ENV)
        )
        self.frames: list[tuple[int, float, np.ndarray]] = []

    def on_learn_start(self, agent: arena.Agent, steps: int) -> None:
        self.agent = agent
        self.snap(0)

    def on_step(self, step: int) -> bool:
        if step % self.every == 0:
            self.snap(step)
        return True

    def snap(self, step: int) -> None:
        # The same seed masks the same entries each time: what changes is the agent.
        observation, _ = self.view.reset(seed=self.seed)
        _, reward, *_ = self.view.step(self.agent.reconstruct(observation))
        self.frames.append((step, -reward, self.view.render()))


def run(stage: Stage) -> None:
    """denoising-ae trains on masked digits; a fixed test batch shows what it makes of them."""
    stage.need(AGENT)
    preset = find_preset(agent_class(AGENT), ENV)
    env = arena.make_env(ENV, **preset.env_kwargs)
    agent = arena.make_agent(AGENT, env, seed=stage.seed, preset=True)
    steps = (preset.steps or 10_000) // (6 if stage.fast else 1)
    snapshots = Snapshots(max(steps // 30, 1), stage.seed)
    agent.learn(env, steps, callback=snapshots, progress=False)
    if snapshots.frames[-1][0] != steps:
        snapshots.snap(steps)
    env.close()
    snapshots.view.close()
    stage.fps = 6
    last = len(snapshots.frames) - 1
    for index in [*range(last + 1), *[last] * 12]:  # Then hold the result on screen.
        step, mse, frame = snapshots.frames[index]
        height, width = frame.shape[:2]
        surface = canvas(max(width + 32, 480), height + 110)
        draw_text(surface, "denoising-ae fills in masked test digits", (16, 12), 28)
        draw_text(surface, f"step {step:,} of {steps:,}   test batch MSE {mse:.4f}", (16, 44), 20)
        draw_text(
            surface,
            "top: 25% of pixels masked, middle: reconstruction, bottom: clean",
            (16, 68),
            20,
            MUTED,
        )
        draw_frame(surface, frame, (16, 96, width, height))
        stage.show(to_array(surface))


if __name__ == "__main__":
    sys.exit(main(run, "autoencoder"))
