"""GAN against WGAN-GP on the 25-Gaussian grid: watch the modes get covered, or collapse."""

from __future__ import annotations

import sys

import numpy as np
import pygame

import arena
from arena.callbacks import Callback
from arena.demo import Stage, main
from arena.registry import evaluation_kwargs
from demos.kit import COLORS, MUTED, canvas, draw_text, to_array

ENV = "arena/Grid25-v0"
AGENTS = ("gan", "wgan-gp")
PANEL = 400
POINTS = 1000


class Snapshots(Callback):
    """Keeps ``POINTS`` generated samples every ``every`` training steps."""

    def __init__(self, every: int, seed: int) -> None:
        self.every = every
        self.seed = seed
        self.samples: list[tuple[int, np.ndarray]] = []

    def on_learn_start(self, agent: arena.Agent, steps: int) -> None:
        self.agent = agent
        self.next = self.every

    def on_step(self, step: int) -> bool:
        if step >= self.next:
            rng = np.random.default_rng(self.seed)  # The same noise each time: motion is learning.
            self.samples.append((step, self.agent.sample(POINTS, rng)))
            self.next += self.every
        return True


def _scatter(surface, x, y, real, fake, centres, color) -> None:
    pygame.draw.rect(surface, (250, 250, 247), (x, y, PANEL, PANEL))
    limit = float(np.abs(centres).max()) * 1.3

    def pixel(point):
        return (
            int(x + (point[0] / limit + 1) / 2 * PANEL),
            int(y + (1 - (point[1] / limit + 1) / 2) * PANEL),
        )

    for point in real:
        pygame.draw.circle(surface, (200, 200, 200), pixel(point), 2)
    for centre in centres:
        pygame.draw.circle(surface, (60, 60, 60), pixel(centre), 9, 1)
    for point in fake:
        if np.all(np.abs(point) < limit):
            pygame.draw.circle(surface, color, pixel(point), 2)


def run(stage: Stage) -> None:
    """gan and wgan-gp train on arena/Grid25-v0; their samples are replayed side by side."""
    stage.need(*AGENTS)
    histories, verdicts = [], []
    for name in AGENTS:
        agent, env, steps = arena.build_agent(name, ENV, seed=stage.seed)  # the preset's batch
        target = env.unwrapped.target
        steps = steps or 10_000
        steps = steps // 6 if stage.fast else steps
        snapshots = Snapshots(max(steps // 40, 1), stage.seed)
        agent.learn(env, steps, callback=snapshots, progress=False)
        env.close()
        histories.append(snapshots.samples)
        # Judged as `arena evaluate --checkpoint` would: the env it trained on, for evaluation.
        judge = arena.make_env(ENV, **{**agent.env_kwargs, **evaluation_kwargs(ENV)})
        metrics = arena.evaluate(agent, judge, episodes=1, seed=stage.seed).metrics
        judge.close()
        verdicts.append(
            f"{metrics.get('modes_captured', 0):.0f}/25 modes, "
            f"{metrics.get('hq_fraction', 0):.0%} high quality"
        )
    stage.fps = 8
    frames = min(len(h) for h in histories)
    real = target.sample(np.random.default_rng(stage.seed), POINTS)
    for index in [*range(frames), *[frames - 1] * 24]:  # Then hold the verdict on screen.
        surface = canvas(2 * PANEL + 48, PANEL + 110)
        draw_text(surface, "GAN vs WGAN-GP on 25 Gaussians", (16, 12), 28)
        draw_text(
            surface, "grey: real samples, colour: generated, rings: modes", (16, 42), 20, MUTED
        )
        for i, (name, history) in enumerate(zip(AGENTS, histories, strict=True)):
            step, fake = history[index]
            label = verdicts[i] if index == frames - 1 else f"step {step:,}"
            left = 16 + i * (PANEL + 16)
            draw_text(surface, f"{name}: {label}", (left, 70), 22)
            _scatter(surface, left, 96, real, fake, target.centres, COLORS[i])
        stage.show(to_array(surface))


if __name__ == "__main__":
    sys.exit(main(run, "gan"))
