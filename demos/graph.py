"""A GCN learns the karate club's two factions from two labels; then a GAT, edges by attention."""

from __future__ import annotations

import sys
import time

import arena
from arena.demo import Stage, main
from arena.training import build_agent
from demos.kit import MUTED, canvas, draw_frame, draw_text, to_array

ENV = "arena/KarateClub-v0"


def run(stage: Stage) -> None:
    """gcn, then gat, learn the karate club epoch by epoch; each frame colours the nodes by the
    agent's answers (rings: the true faction, black: the two labelled nodes); gat's frames draw
    each edge by its attention."""
    stage.need("gcn", "gat")
    epochs = 60 if stage.fast else 200
    every = 10 if stage.fast else 5
    stage.fps = 8
    for name in ("gcn", "gat"):
        agent, env, _ = build_agent(name, ENV, seed=stage.seed, device="cpu")
        shown = arena.make_env(ENV, split="test", render_mode="rgb_array")
        started = time.perf_counter()
        for done in range(0, epochs + 1, every):
            if done:
                agent.learn(env, every, progress=False)
            observation, _ = shown.reset(seed=stage.seed)
            if name == "gat":
                weights = agent.attention(observation)
                shown.unwrapped.edge_weights = weights / weights.max()
            *_, info = shown.step(agent.act(observation))
            accuracy = info["metrics"]["accuracy"]
            frame = shown.render()
            surface = canvas(frame.shape[1] + 32, frame.shape[0] + 100)
            draw_text(surface, f"{name} learns Zachary's karate club from two labels", (16, 12), 26)
            draw_text(
                surface,
                f"epoch {done}/{epochs}   {time.perf_counter() - started:.1f} s   accuracy on "
                f"the 32 unlabelled members {accuracy:.1%}",
                (16, 42),
                20,
                MUTED,
            )
            what = "edges by attention" if name == "gat" else "edges: friendships"
            draw_text(
                surface, f"fill: predicted faction, ring: true one; {what}", (16, 64), 20, MUTED
            )
            draw_frame(surface, frame, (16, 88, frame.shape[1], frame.shape[0]))
            stage.show(to_array(surface))
        env.close()
        shown.close()


if __name__ == "__main__":
    sys.exit(main(run, "graph"))
