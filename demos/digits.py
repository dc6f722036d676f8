"""An MLP learns scikit-learn's digits through the classification game, then labels test digits;
where Fashion-MNIST is installed, it then does the same with clothes."""

from __future__ import annotations

import sys
import time

import arena
from arena.demo import Stage, main
from demos.kit import MUTED, canvas, draw_frame, draw_text, to_array
from envs.classification.idx import MissingDataError

BATCH = 24  # Three rows of eight images on screen.
SETTINGS = {"flatten": False, "batch_size": BATCH}
WIDTH, HEIGHT = 800, 410  # Both games' frames fit, so that a recording keeps one size.


def run(stage: Stage) -> None:
    """The mlp learns the digits game from info["labels"], then labels the held-out test split;
    then Fashion-MNIST's, for part of an epoch, and a few of its 10,000 test images."""
    stage.need("mlp")
    epochs = 4 if stage.fast else 10
    play(stage, "arena/Digits-v0", "digits", lambda size: epochs * -(-size // BATCH), None)
    try:
        arena.make_env("arena/FashionMNIST-v0", split="test", **SETTINGS).close()
    except MissingDataError as e:
        print(f"Fashion-MNIST left out: {e}")
        return
    steps = 300 if stage.fast else 2500  # 2,500 steps of 24: one epoch of 60,000 images
    play(stage, "arena/FashionMNIST-v0", "clothes", lambda _: steps, 6 if stage.fast else 25)


def play(stage: Stage, env_id: str, what: str, budget, batches: int | None) -> None:
    """Trains an mlp on ``env_id`` for ``budget(train size)`` steps, then shows it labelling
    the test split's batches (the first ``batches`` of them, or all)."""
    agent, env, _ = arena.build_agent("mlp", env_id, seed=stage.seed, env_kwargs=SETTINGS)
    steps = budget(int(env.unwrapped.size))
    started = time.perf_counter()
    agent.learn(env, steps, progress=False)
    seconds = time.perf_counter() - started
    env.close()
    test = arena.make_env(env_id, split="test", render_mode="rgb_array", **SETTINGS)
    observation, info = test.reset(seed=stage.seed)
    agent.reset()
    stage.fps = 1.5
    legend = "green: right, red: wrong (predicted / true)"
    if what == "clothes":
        legend = "green: right, red: wrong (predicted, over the true class in grey)"
    right = shown = 0
    done = False
    while not done and (batches is None or shown < batches * BATCH):
        observation, reward, terminated, truncated, info = test.step(agent.act(observation))
        right += int(reward)
        shown += int(info["valid"].sum())
        done = terminated or truncated
        frame = test.render()
        surface = canvas(max(frame.shape[1] + 32, WIDTH), max(frame.shape[0] + 96, HEIGHT))
        draw_text(surface, f"mlp labels held-out {what}", (16, 12), 28)
        draw_text(
            surface,
            f"learned {steps * BATCH:,} images in {seconds:.1f} s   test accuracy so far "
            f"{right}/{shown} = {right / max(shown, 1):.1%}",
            (16, 44),
            20,
            MUTED,
        )
        draw_text(surface, legend, (16, 66), 20, MUTED)
        draw_frame(surface, frame, (16, 88, frame.shape[1], frame.shape[0]))
        stage.show(to_array(surface))
    test.close()


if __name__ == "__main__":
    sys.exit(main(run, "digits"))
