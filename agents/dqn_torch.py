"""DQN's torch side: the Q-network, the on-device replay buffer and the update step.

``agents.dqn`` imports this module lazily, so ``arena list`` never imports torch.

Everything an update touches (sampling, targets, loss, optimizer, priorities) lives on the agent's
device, and one update launches no host round-trip. The host meets the device once per update
round: it copies the round's staged transitions in and, on an accelerator, reads back the
weights it acts with. The losses stay on the device until the core non-finite guard
(:mod:`arena.guard`) reads their check back, once per episode.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

STAGE_ROWS = 1024


class QNetwork(nn.Module):
    """An MLP from a flat observation to one Q-value per action, optionally with dueling heads.

    Args:
        obs_dim: The flattened observation size.
        num_actions: The number of discrete actions.
        hidden: The hidden layer sizes (ReLU after each).
        dueling: Split the output into a state value and action advantages,
            ``Q = V + A - mean(A)``.
        device: Where to allocate; ``"meta"`` defers allocation to :func:`build_network`.
    """

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        hidden: tuple[int, ...],
        dueling: bool,
        device: str | torch.device = "meta",
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = obs_dim
        for size in hidden:
            layers += [nn.Linear(width, size, device=device), nn.ReLU()]
            width = size
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_actions, device=device)
        """The Q-values, or with dueling heads the advantages."""
        self.value = nn.Linear(width, 1, device=device) if dueling else None

    def forward(self, obs_BD: torch.Tensor) -> torch.Tensor:
        features_BH = self.trunk(obs_BD)
        head_BA = self.head(features_BH)
        if self.value is None:
            return head_BA
        return self.value(features_BH) + head_BA - head_BA.mean(1, keepdim=True)

    def linears(self) -> list[nn.Linear]:
        """The layers that decide the greedy action: the trunk's, then the Q or advantage head.

        With dueling heads, ``V`` and ``mean(A)`` are the same for every action, so the
        advantage head alone gives the argmax.
        """
        return [m for m in self.trunk if isinstance(m, nn.Linear)] + [self.head]


def build_network(
    obs_dim: int,
    num_actions: int,
    hidden: tuple[int, ...],
    dueling: bool,
    device: torch.device,
    generator: torch.Generator,
) -> QNetwork:
    """Makes a network initialised from ``generator`` (torch's default Linear init).

    The weights are drawn on the CPU, so a seed gives the same network on every device, and the
    global torch generator is never touched.
    """
    net = QNetwork(obs_dim, num_actions, hidden, dueling).to_empty(device="cpu")
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)
                nn.init.uniform_(module.weight, -bound, bound, generator=generator)
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
    return net.to(device)


class HostPolicy:
    """The greedy policy in numpy, for the env loop: one small matmul chain per step.

    A torch forward pass for one observation costs about ten times as much as these matmuls
    here. On the CPU the arrays are views of the network's own parameters, so they follow every
    optimizer step for free; on an accelerator :meth:`refresh` copies them over once per round.
    """

    def __init__(self, net: QNetwork) -> None:
        self.net = net
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        self.on_cpu = False
        self.refresh()

    def refresh(self) -> None:
        """Points at (CPU) or copies (accelerator) the current weights."""
        if self.layers and self.on_cpu:
            return
        linears = self.net.linears()
        params = [p.detach() for layer in linears for p in (layer.weight, layer.bias)]
        self.on_cpu = params[0].device.type == "cpu"
        if self.on_cpu:
            arrays = [p.numpy() for p in params]
            self.layers = [(w.T, b) for w, b in zip(arrays[::2], arrays[1::2], strict=True)]
            return
        flat = torch.cat([p.flatten() for p in params]).cpu().numpy()
        self.layers, start = [], 0
        for layer in linears:
            out_dim, in_dim = layer.weight.shape
            w = flat[start : start + out_dim * in_dim].reshape(out_dim, in_dim)
            start += out_dim * in_dim
            self.layers.append((w.T, flat[start : start + out_dim]))
            start += out_dim

    def greedy(self, obs_ND: np.ndarray) -> np.ndarray:
        """The argmax action index for each row of a float32 observation batch."""
        h = obs_ND
        for w_T, b in self.layers[:-1]:
            h = np.maximum(h @ w_T + b, 0.0)
        w_T, b = self.layers[-1]
        return (h @ w_T + b).argmax(1)


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


def td_targets(
    next_q_target_BA: torch.Tensor,
    next_q_online_BA: torch.Tensor | None,
    ret_B: torch.Tensor,
    discount_B: torch.Tensor,
) -> torch.Tensor:
    """The bootstrapped targets ``R + discount * Q_target(s', a')``.

    Args:
        next_q_target_BA: The target network's Q-values at the next observations.
        next_q_online_BA: The online network's, for Double DQN (``a'`` is its argmax, scored
            by the target network); None for plain DQN (``a'`` maximises the target's).
        ret_B: The n-step returns.
        discount_B: ``gamma ** k``, or 0 where the episode terminated.
    """
    if next_q_online_BA is None:
        next_q_B = next_q_target_BA.max(1).values
    else:
        best_B1 = next_q_online_BA.argmax(1, keepdim=True)
        next_q_B = next_q_target_BA.gather(1, best_B1).squeeze(1)
    return ret_B + discount_B * next_q_B


class Learner:
    """The online and target networks, the optimizer and the update step.

    Args:
        online: The network that acts and learns.
        target: Its slowly updated copy.
        config: The agent's :class:`~agents.dqn.DQNConfig`.
    """

    def __init__(self, online: QNetwork, target: QNetwork, config: Any) -> None:
        self.online = online
        self.target = target
        self.config = config
        self.target.requires_grad_(False)
        self.params = list(online.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=config.learning_rate, fused=True)
        self.updates = 0

    def set_learning_rate(self, lr: float) -> None:
        """Sets the optimizer's step size (the schedule's value at the current step)."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def update(self, buffer: ReplayBuffer, beta: float) -> torch.Tensor:
        """One gradient step on a sampled batch; returns the loss (on the device, unsynced)."""
        cfg = self.config
        rows_BW, index_B, weight_B = buffer.sample(cfg.batch_size, beta)
        obs_BD, action_B, ret_B, next_obs_BD, discount_B = buffer.split(rows_BW)
        batch = obs_BD.shape[0]
        if cfg.double_q:
            # One forward pass scores both halves; the next-obs half only picks a' (no grad).
            q_all = self.online(torch.cat([obs_BD, next_obs_BD]))
            q_BA, next_q_online_BA = q_all[:batch], q_all[batch:].detach()
        else:
            q_BA, next_q_online_BA = self.online(obs_BD), None
        with torch.no_grad():
            target_B = td_targets(self.target(next_obs_BD), next_q_online_BA, ret_B, discount_B)
        q_B = q_BA.gather(1, action_B[:, None]).squeeze(1)
        if weight_B is None:
            loss = F.smooth_l1_loss(q_B, target_B)
        else:
            loss = (weight_B * F.smooth_l1_loss(q_B, target_B, reduction="none")).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.params, cfg.max_grad_norm, foreach=True)
        self.optimizer.step()
        if weight_B is not None:
            buffer.update_priorities(index_B, (q_B - target_B).detach())
        self.updates += 1
        return loss.detach()

    @torch.no_grad()
    def update_target(self) -> None:
        """Moves the target network toward the online one by ``tau`` (1 copies it)."""
        for t, o in zip(self.target.parameters(), self.online.parameters(), strict=True):
            t.lerp_(o, self.config.tau)
