"""Q-learning learns slippery FrozenLake in about a second, then plays it."""

from __future__ import annotations

import sys
import time

import arena
from arena.demo import Stage, main
from demos.kit import MUTED, canvas, draw_frame, draw_text, to_array

ENV = "FrozenLake-v1"


def run(stage: Stage) -> None:
    """Q-learning learns FrozenLake (compiled, in about a second), then plays it with pygame."""
    stage.need("q-learning")
    agent, env, steps = arena.build_agent(
        "q-learning", ENV, seed=stage.seed, env_kwargs={"render_mode": "rgb_array"}
    )
    steps = steps or 200_000
    started = time.perf_counter()
    agent.learn(env, steps, progress=False)  # Compiled: the full budget is fast even with --fast.
    seconds = time.perf_counter() - started
    stage.fps = 6
    wins = 0
    episodes = 3 if stage.fast else 10
    for episode in range(episodes):
        observation, _ = env.reset(seed=stage.seed + episode)
        agent.reset()
        done, reward = False, 0.0
        while True:
            surface = canvas(420, 500)
            draw_text(surface, "Q-learning on FrozenLake-v1 (slippery)", (16, 14), 26)
            draw_text(
                surface,
                f"learned {agent.num_timesteps:,} steps in {seconds:.2f} s (compiling included)",
                (16, 44),
                20,
                MUTED,
            )
            draw_text(surface, f"episode {episode + 1}/{episodes}   wins {wins}", (16, 68), 22)
            draw_frame(surface, env.render(), (18, 96, 384, 384))
            stage.show(to_array(surface))
            if done:
                break
            observation, reward, terminated, truncated, _ = env.step(agent.act(observation))
            done = terminated or truncated
        wins += int(reward > 0)
    env.close()


if __name__ == "__main__":
    sys.exit(main(run, "frozenlake"))
