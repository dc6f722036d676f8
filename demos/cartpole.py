"""DQN learns CartPole with a live return curve, then balances the pole."""

from __future__ import annotations

import sys

import arena
from arena.callbacks import Callback, Episode
from arena.demo import Stage, main
from demos.kit import MUTED, canvas, draw_curves, draw_frame, draw_text, to_array

ENV = "CartPole-v1"


class LiveCurve(Callback):
    """Redraws the return curve on the stage after every few training episodes."""

    def __init__(self, stage: Stage, total: int) -> None:
        self.stage = stage
        self.total = total
        self.returns: list[float] = []

    def on_episode(self, episode: Episode) -> None:
        self.returns.append(episode.ret)
        if len(self.returns) % 5 == 0:
            surface = canvas(600, 420)
            draw_text(surface, "DQN learns CartPole-v1", (16, 12), 28)
            draw_text(surface, f"step {episode.step:,} / {self.total:,}", (16, 42), 20, MUTED)
            draw_curves(surface, (16, 70, 568, 330), [("return", self.returns)], "training return")
            self.stage.show(to_array(surface))


def run(stage: Stage) -> None:
    """DQN trains on CartPole-v1 with a live return curve, then balances the pole greedily."""
    stage.need("dqn")
    agent, env, steps = arena.build_agent(
        "dqn", ENV, seed=stage.seed, env_kwargs={"render_mode": "rgb_array"}
    )
    steps = steps or 50_000
    budget = steps // 5 if stage.fast else steps
    curve = LiveCurve(stage, budget)
    stage.fps = 30
    agent.learn(env, budget, callback=curve, progress=False)
    observation, _ = env.reset(seed=stage.seed)
    agent.reset()
    total, done = 0.0, False
    limit = 200 if stage.fast else 500
    while not done and total < limit:
        surface = canvas(600, 420)
        draw_text(surface, "DQN balances the pole (greedy)", (16, 12), 28)
        draw_text(surface, f"return {total:.0f}", (16, 42), 20, MUTED)
        draw_frame(surface, env.render(), (0, 70, 600, 350))
        stage.show(to_array(surface))
        observation, reward, terminated, truncated, _ = env.step(agent.act(observation))
        total += reward
        done = terminated or truncated
    env.close()


if __name__ == "__main__":
    sys.exit(main(run, "cartpole"))
