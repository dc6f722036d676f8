"""SARSA against Q-learning on Taxi-v4: learning curves side by side, then both drive."""

from __future__ import annotations

import sys

import arena
from arena.callbacks import Callback, Episode
from arena.demo import Stage, main
from demos.kit import MUTED, canvas, draw_curves, draw_frame, draw_text, to_array

ENV = "Taxi-v4"
AGENTS = ("sarsa", "q-learning")


class Curve(Callback):
    """Keeps every training episode's return."""

    def __init__(self) -> None:
        self.returns: list[float] = []

    def on_episode(self, episode: Episode) -> None:
        self.returns.append(episode.ret)


def run(stage: Stage) -> None:
    """SARSA and Q-learning learn Taxi-v4; their curves are compared, then both drive greedily."""
    stage.need(*AGENTS)
    agents, envs, curves = [], [], []
    for name in AGENTS:
        agent, env, steps = arena.build_agent(
            name, ENV, seed=stage.seed, env_kwargs={"render_mode": "rgb_array"}
        )
        curve = Curve()
        agent.learn(env, steps or 200_000, callback=curve, progress=False)  # Compiled: fast.
        agents.append(agent)
        envs.append(env)
        curves.append(curve.returns)
    stage.fps = 4
    episodes = 2 if stage.fast else 5
    for episode in range(episodes):
        observations = [env.reset(seed=stage.seed + episode)[0] for env in envs]
        totals = [0.0, 0.0]
        done = [False, False]
        while True:
            surface = canvas(1000, 620)
            draw_text(surface, "SARSA vs Q-learning on Taxi-v4", (16, 12), 28)
            draw_text(surface, f"greedy episode {episode + 1}/{episodes}", (16, 42), 20, MUTED)
            for i, (name, env) in enumerate(zip(AGENTS, envs, strict=True)):
                x = 16 + i * 330
                draw_text(surface, f"{name}: return {totals[i]:.0f}", (x, 70), 22)
                draw_frame(surface, env.render(), (x, 96, 310, 200))
            draw_curves(
                surface,
                (676, 70, 308, 226),
                list(zip(AGENTS, curves, strict=True)),
                "training return (mean of 100)",
                window=100,
            )
            stage.show(to_array(surface)[:320])
            if all(done):
                break
            for i, (agent, env) in enumerate(zip(agents, envs, strict=True)):
                if not done[i]:
                    observations[i], reward, terminated, truncated, _ = env.step(
                        agent.act(observations[i])
                    )
                    totals[i] += reward
                    done[i] = terminated or truncated
    for env in envs:
        env.close()


if __name__ == "__main__":
    sys.exit(main(run, "taxi"))
