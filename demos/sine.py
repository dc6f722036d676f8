"""An LSTM learns to predict a noisy sum of sines, then forecasts a fresh stream as it arrives."""

from __future__ import annotations

import sys
import time

import arena
from arena.demo import Stage, main
from demos.kit import MUTED, canvas, draw_frame, draw_text, to_array

ENV = "arena/Sine-v0"


def run(stage: Stage) -> None:
    """The lstm learns arena/Sine-v0 from info["truth"], then predicts a new stream step by step."""
    stage.need("lstm")
    agent, env, steps = arena.build_agent("lstm", ENV, seed=stage.seed)
    budget = (steps or 30_000) // (10 if stage.fast else 1)
    started = time.perf_counter()
    agent.learn(env, budget, progress=False)
    seconds = time.perf_counter() - started
    env.close()
    play = arena.make_env(ENV, render_mode="rgb_array", **agent.env_kwargs)
    observation, _ = play.reset(seed=stage.seed + 1)
    agent.reset()
    stage.fps = 30
    shown = 100 if stage.fast else 200
    for step in range(shown):
        observation, _, terminated, truncated, _ = play.step(agent.act(observation))
        frame = play.render()
        surface = canvas(frame.shape[1] + 32, frame.shape[0] + 80)
        draw_text(surface, "lstm forecasts a sum of sines, one step ahead", (16, 12), 28)
        draw_text(
            surface,
            f"trained {agent.num_timesteps:,} steps x {observation.shape[0]} streams in "
            f"{seconds:.0f} s   step {step + 1}",
            (16, 44),
            20,
            MUTED,
        )
        draw_frame(surface, frame, (16, 72, frame.shape[1], frame.shape[0]))
        stage.show(to_array(surface))
        if terminated or truncated:
            break
    play.close()


if __name__ == "__main__":
    sys.exit(main(run, "sine"))
