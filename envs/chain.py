"""A corridor MDP with a known optimal Q: the smallest test of whether an agent learns."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

LEFT, RIGHT = 0, 1
CELL = 48


class ChainEnv(gym.Env):
    """Walk right along a corridor of ``length`` cells to reach the goal at the far end.

    The agent starts in cell 0. Moving right ``length - 1`` times reaches the goal, the only
    reward. With ``slip > 0`` a move goes the other way with that probability. The optimal
    action-value function is known in closed form, so agents can be checked against it: without
    slip, ``Q*(s, right) = gamma ** (length - 2 - s)`` and
    ``Q*(s, left) = gamma * Q*(max(s - 1, 0), right)``.

    Like Gymnasium's toy-text envs it exposes its tabular model as ``P[s][a]``, a list of
    ``(probability, next_state, reward, terminated)``, and ``initial_state_distrib``.

    ## Action Space
    ``Discrete(2)``: 0 moves left (staying put in cell 0), 1 moves right.

    ## Observation Space
    The agent's cell. ``observation="discrete"``: ``Discrete(length)``.
    ``observation="onehot"``: ``Box(0, 1, (length,), float32)``, a one-hot vector, for agents
    that need a Box.

    ## Rewards
    +1 for the step that reaches the goal, 0 otherwise.

    ## Episode End
    Termination: the agent reaches the goal, cell ``length - 1``.
    Truncation: 100 steps (``max_episode_steps`` at registration).

    ## Arguments
    - ``length`` (int, default 8): the number of cells, at least 2.
    - ``slip`` (float, default 0.0): the probability that a move goes the opposite way.
    - ``observation`` ("discrete" or "onehot", default "discrete"): the observation form.
    - ``render_mode`` (None, "human" or "rgb_array").

    ## Info
    - ``prob``: the probability of the transition just taken (1.0 after reset).
    - ``metrics``: ``{"success": 1.0 if the agent stands on the goal else 0.0}``.

    ## Version History
    - v0: the first version.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 8}

    def __init__(
        self,
        length: int = 8,
        slip: float = 0.0,
        observation: str = "discrete",
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(length, int) or length < 2:
            raise ValueError(f"length must be an integer >= 2, got {length!r}")
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"slip must be in [0, 1], got {slip!r}")
        if observation not in ("discrete", "onehot"):
            raise ValueError(f"observation must be 'discrete' or 'onehot', got {observation!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.length = length
        self.slip = slip
        self.observation = observation
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(2)
        if observation == "discrete":
            self.observation_space = spaces.Discrete(length)
        else:
            self.observation_space = spaces.Box(0.0, 1.0, (length,), np.float32)
        self.initial_state_distrib = np.zeros(length)
        self.initial_state_distrib[0] = 1.0
        self.P = {s: {a: self._transitions(s, a) for a in (LEFT, RIGHT)} for s in range(length)}
        self.s = 0
        self._window = None

    def _transitions(self, s: int, a: int) -> list[tuple[float, int, float, bool]]:
        goal = self.length - 1
        if s == goal:
            return [(1.0, s, 0.0, True)]
        out = []
        for move, prob in ((a, 1.0 - self.slip), (1 - a, self.slip)):
            if prob == 0.0:
                continue
            nxt = min(s + 1, goal) if move == RIGHT else max(s - 1, 0)
            out.append((prob, nxt, float(nxt == goal), nxt == goal))
        return out

    def _obs(self) -> int | np.ndarray:
        if self.observation == "discrete":
            return int(self.s)
        onehot = np.zeros(self.length, np.float32)
        onehot[self.s] = 1.0
        return onehot

    def _info(self, prob: float) -> dict[str, Any]:
        return {"prob": prob, "metrics": {"success": float(self.s == self.length - 1)}}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int | np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.s = int(self.np_random.choice(self.length, p=self.initial_state_distrib))
        if self.render_mode == "human":
            self.render()
        return self._obs(), self._info(1.0)

    def step(self, action: int) -> tuple[int | np.ndarray, float, bool, bool, dict[str, Any]]:
        transitions = self.P[self.s][int(action)]
        probs = [t[0] for t in transitions]
        prob, nxt, reward, terminated = transitions[
            int(self.np_random.choice(len(transitions), p=probs))
        ]
        self.s = nxt
        if self.render_mode == "human":
            self.render()
        return self._obs(), reward, terminated, False, self._info(prob)

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs a render_mode: make the env with render_mode set.")
            return None
        frame = np.full((CELL, CELL * self.length, 3), 235, np.uint8)
        for s in range(self.length):
            x = s * CELL
            frame[:, x : x + 2] = 120
            if s == self.length - 1:
                frame[4:-4, x + 4 : x + CELL - 4] = (80, 190, 90)
        x = self.s * CELL
        frame[12:-12, x + 12 : x + CELL - 12] = (50, 90, 200)
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            from arena.window import Window

            self._window = Window("arena/Chain-v0", self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
