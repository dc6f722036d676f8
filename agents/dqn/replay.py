"""DQN's n-step accumulator and its on-device replay buffer (uniform or prioritized)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np
import torch

STAGE_ROWS = 1024


class NStepAccumulator:
    """Turns each env's stream of one-step transitions into n-step ones, on the host.

    A transition from ``obs_t`` carries ``R = sum_{j<k} gamma^j r_{t+j}``, the observation
    ``k`` steps later and ``discount = gamma^k``, or 0 when the episode terminated within those
    steps; ``k = n``, or fewer at an episode's end. A truncated episode keeps its discount, so
    the target bootstraps from the last observation.

    Args:
        num_envs: How many envs step side by side.
        n: The number of steps.
        gamma: The discount factor.
        emit: Receives ``(obs, action, ret, next_obs, discount)`` for each finished transition.
    """

    def __init__(self, num_envs: int, n: int, gamma: float, emit: Callable[..., None]) -> None:
        self.n = n
        self.gamma = gamma
        self.emit = emit
        self.histories: list[deque] = [deque() for _ in range(num_envs)]
        self.last_next: list[np.ndarray | None] = [None] * num_envs

    def add(
        self,
        index: int,
        obs: np.ndarray,
        action: int,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        done: bool,
    ) -> None:
        """Adds env ``index``'s transition; emits what is complete."""
        if self.n == 1:
            self.emit(obs, action, reward, next_obs, 0.0 if terminated else self.gamma)
            return
        history = self.histories[index]
        history.append((obs.copy(), action, float(reward)))
        if done:
            while history:
                self._emit_first(history, next_obs, terminated)
            self.last_next[index] = None
        else:
            if len(history) == self.n:
                self._emit_first(history, next_obs, False)
            self.last_next[index] = next_obs.copy()

    def flush(self) -> None:
        """Emits every unfinished transition as if its episode were truncated here."""
        for index, history in enumerate(self.histories):
            while history:
                self._emit_first(history, self.last_next[index], False)

    def state(self) -> dict[str, torch.Tensor]:
        """The first env's unfinished steps, for a checkpoint (nothing when there are none)."""
        history = self.histories[0]
        if not history:
            return {}
        obs, actions, rewards = zip(*history, strict=True)
        return {
            "nstep.obs": torch.from_numpy(np.stack(obs)),
            "nstep.actions": torch.tensor(actions, dtype=torch.int64),
            "nstep.rewards": torch.tensor(rewards, dtype=torch.float64),
            "nstep.next": torch.from_numpy(self.last_next[0].copy()),
        }

    def load(self, arrays: dict[str, torch.Tensor], obs_dim: int, num_actions: int) -> None:
        """Restores what :meth:`state` returned into the first env's history.

        Raises:
            ValueError: The arrays are not fewer than ``n`` steps of this observation size.
        """
        obs, actions = arrays["nstep.obs"], arrays["nstep.actions"]
        rewards, next_obs = arrays["nstep.rewards"], arrays["nstep.next"]
        k = len(actions)
        if not (
            0 < k < self.n
            and tuple(obs.shape) == (k, obs_dim)
            and tuple(rewards.shape) == (k,)
            and tuple(next_obs.shape) == (obs_dim,)
        ):
            raise ValueError(
                f"its unfinished n-step transitions must be fewer than {self.n} steps of "
                f"{obs_dim} numbers"
            )
        if not bool(((actions >= 0) & (actions < num_actions)).all()):
            raise ValueError("its unfinished n-step transitions' actions are not all valid")
        if not (bool(rewards.isfinite().all()) and bool(obs.isfinite().all())):
            raise ValueError("its unfinished n-step transitions are not all finite")
        obs_KD = obs.cpu().numpy().astype(np.float32)
        history = self.histories[0]
        history.clear()
        for i in range(k):
            history.append((obs_KD[i], int(actions[i]), float(rewards[i])))
        self.last_next[0] = next_obs.cpu().numpy().astype(np.float32)

    def _emit_first(self, history: deque, next_obs: np.ndarray, terminated: bool) -> None:
        ret = sum(self.gamma**j * reward for j, (_, _, reward) in enumerate(history))
        discount = 0.0 if terminated else self.gamma ** len(history)
        obs, action, _ = history.popleft()
        self.emit(obs, action, ret, next_obs, discount)


class ReplayBuffer:
    """Transitions in one preallocated ``[capacity, 2 * D + 3]`` float32 tensor on the device.

    A row is ``obs (D) | action | n-step return | next obs (D) | discount``, so a batch is one
    gather. The host writes rows into a small staging array (pinned on CUDA) and :meth:`flush`
    copies them in at once before each update round. With ``prioritized``, sampling is
    proportional to ``priority ** alpha`` through a cumulative sum and ``searchsorted`` over the
    whole buffer: O(capacity) per batch but one kernel each, on the device, without a sum tree.

    Args:
        capacity: The number of transitions kept; the oldest are overwritten.
        obs_dim: The flattened observation size.
        device: Where the transitions live.
        generator: The sampling generator, on ``device``.
        prioritized: Sample by priority (Schaul et al., 2016) instead of uniformly.
        alpha: How strongly priorities skew sampling (0 is uniform).
    """

    def __init__(
        self,
        capacity: int,
        obs_dim: int,
        device: torch.device,
        generator: torch.Generator,
        prioritized: bool = False,
        alpha: float = 0.6,
    ) -> None:
        self.capacity = capacity
        self.obs_dim = obs_dim
        self.device = device
        self.generator = generator
        self.prioritized = prioritized
        self.alpha = alpha
        width = 2 * obs_dim + 3
        self.data = torch.zeros(capacity, width, device=device)
        stage = torch.zeros(STAGE_ROWS, width, pin_memory=device.type == "cuda")
        self._stage_tensor = stage
        self.stage = stage.numpy()
        self.staged = 0
        self.pos = 0
        self.size = 0
        if prioritized:
            self.priority = torch.zeros(capacity, device=device)
            self.max_priority = torch.ones((), device=device)

    def add(
        self, obs: np.ndarray, action: int, ret: float, next_obs: np.ndarray, discount: float
    ) -> None:
        """Stages one transition (host side); flushes when the staging area is full."""
        d = self.obs_dim
        row = self.stage[self.staged]
        row[:d] = obs
        row[d] = action
        row[d + 1] = ret
        row[d + 2 : 2 * d + 2] = next_obs
        row[-1] = discount
        self.staged += 1
        if self.staged == STAGE_ROWS:
            self.flush()

    def flush(self) -> None:
        """Copies the staged rows into the device buffer."""
        count = self.staged
        if count == 0:
            return
        rows = self._stage_tensor[:count].to(self.device)
        first = min(count, self.capacity - self.pos)
        self.data[self.pos : self.pos + first] = rows[:first]
        self.data[: count - first] = rows[first:]
        if self.prioritized:
            self.priority[self.pos : self.pos + first] = self.max_priority
            self.priority[: count - first] = self.max_priority
        self.pos = (self.pos + count) % self.capacity
        self.size = min(self.size + count, self.capacity)
        self.staged = 0

    def sample(
        self, batch_size: int, beta: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Draws a batch: ``(rows_BW, indices_B, importance weights_B or None)``."""
        if not self.prioritized:
            index_B = torch.randint(
                self.size, (batch_size,), device=self.device, generator=self.generator
            )
            return self.data[index_B], index_B, None
        cdf = self.priority[: self.size].cumsum(0)
        total = cdf[-1]
        u_B = torch.rand(batch_size, device=self.device, generator=self.generator) * total
        index_B = torch.searchsorted(cdf, u_B).clamp_(max=self.size - 1)
        weight_B = (self.size * self.priority[index_B] / total).pow(-beta)
        return self.data[index_B], index_B, weight_B / weight_B.max()

    def update_priorities(self, index_B: torch.Tensor, td_error_B: torch.Tensor) -> None:
        """Sets the sampled rows' priorities from their absolute TD errors."""
        priority_B = (td_error_B.abs() + 1e-6).pow(self.alpha)
        self.priority[index_B] = priority_B
        torch.maximum(self.max_priority, priority_B.max(), out=self.max_priority)

    def state(self) -> dict[str, torch.Tensor]:
        """The transitions kept and staged, and their priorities, for a checkpoint.

        Only the filled rows are stored (the buffer fills from row 0 and wraps when full), so a
        young buffer makes a small checkpoint.
        """
        tensors = {
            "replay.data": self.data[: self.size],
            "replay.staged": torch.from_numpy(self.stage[: self.staged].copy()),
            "replay.pos": torch.tensor(self.pos, dtype=torch.int64),
        }
        if self.prioritized:
            tensors["replay.priority"] = self.priority[: self.size]
            tensors["replay.max_priority"] = self.max_priority
        return tensors

    def load(self, arrays: dict[str, torch.Tensor]) -> None:
        """Restores what :meth:`state` returned.

        Raises:
            ValueError: The arrays do not fit this buffer's capacity, width or priorities.
        """
        data, staged = arrays["replay.data"], arrays["replay.staged"]
        pos = int(arrays["replay.pos"])
        size, width = len(data), self.data.shape[1]
        if data.ndim != 2 or data.shape[1] != width or size > self.capacity:
            raise ValueError(
                f"its replay buffer has shape {tuple(data.shape)}; this agent keeps at most "
                f"{self.capacity} rows of {width}"
            )
        if staged.ndim != 2 or staged.shape[1] != width or len(staged) >= STAGE_ROWS:
            raise ValueError(f"its staged transitions have shape {tuple(staged.shape)}")
        if not (0 <= pos < self.capacity and (size == self.capacity or pos == size)):
            raise ValueError(f"its replay position {pos} does not fit {size} of {self.capacity}")
        if self.prioritized != ("replay.priority" in arrays):
            raise ValueError("its replay buffer's priorities do not match the config")
        self.data[:size] = data.to(self.device)
        self.stage[: len(staged)] = staged.cpu().numpy()
        self.staged, self.pos, self.size = len(staged), pos, size
        if self.prioritized:
            self.priority[:size] = arrays["replay.priority"].to(self.device).reshape(size)
            self.max_priority.copy_(arrays["replay.max_priority"].reshape(()))

    def split(self, rows_BW: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(obs_BD, action_B, ret_B, next_obs_BD, discount_B)`` views of sampled rows."""
        d = self.obs_dim
        return (
            rows_BW[:, :d],
            rows_BW[:, d].long(),
            rows_BW[:, d + 1],
            rows_BW[:, d + 2 : 2 * d + 2],
            rows_BW[:, -1],
        )
