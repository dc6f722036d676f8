"""An MLP learns scikit-learn's digits through the classification game, then labels test digits."""

from __future__ import annotations

import sys
import time

import arena
from arena.demo import Stage, main
from demos.kit import MUTED, canvas, draw_frame, draw_text, to_array

ENV = "arena/Digits-v0"
BATCH = 24  # Three rows of eight digits on screen.


def run(stage: Stage) -> None:
    """The mlp learns the digits game from info["labels"], then labels the held-out test split."""
    stage.need("mlp")
    settings = {"flatten": False, "batch_size": BATCH}
    agent, env, _ = arena.build_agent("mlp", ENV, seed=stage.seed, env_kwargs=settings)
    epochs = 4 if stage.fast else 10
    steps = epochs * -(-int(env.unwrapped.size) // BATCH)
    started = time.perf_counter()
    agent.learn(env, steps, progress=False)
    seconds = time.perf_counter() - started
    env.close()
    test = arena.make_env(ENV, split="test", render_mode="rgb_array", **settings)
    observation, info = test.reset(seed=stage.seed)
    agent.reset()
    stage.fps = 1.5
    right = shown = 0
    done = False
    while not done:
        observation, reward, terminated, truncated, info = test.step(agent.act(observation))
        right += int(reward)
        shown += int(info["valid"].sum())
        done = terminated or truncated
        frame = test.render()
        surface = canvas(frame.shape[1] + 32, frame.shape[0] + 96)
        draw_text(surface, "mlp labels held-out digits", (16, 12), 28)
        draw_text(
            surface,
            f"learned {epochs} epochs in {seconds:.1f} s   test accuracy so far "
            f"{right}/{shown} = {right / max(shown, 1):.1%}",
            (16, 44),
            20,
            MUTED,
        )
        draw_text(surface, "green: right, red: wrong (predicted / true)", (16, 66), 20, MUTED)
        draw_frame(surface, frame, (16, 88, frame.shape[1], frame.shape[0]))
        stage.show(to_array(surface))
    test.close()


if __name__ == "__main__":
    sys.exit(main(run, "digits"))
