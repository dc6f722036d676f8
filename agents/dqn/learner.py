"""DQN's update step: TD targets, the loss, the optimizer and the target network."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

from agents.dqn.config import DQNConfig

if TYPE_CHECKING:
    from agents.dqn.networks import QNetwork
    from agents.dqn.replay import ReplayBuffer


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
        config: The agent's hyperparameters.
    """

    def __init__(self, online: QNetwork, target: QNetwork, config: DQNConfig) -> None:
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
        if cfg.max_grad_norm is not None:
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
