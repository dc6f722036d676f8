"""The non-finite guard: training that produced a NaN or infinite loss or parameter stops.

One guard serves every family. It runs as the first of a run's callbacks that save or evaluate
(see :mod:`arena.training`), so the weights it refuses are never checkpointed:

- every ``LOSS_EVERY`` steps (``on_step`` comes after every step of the core loop, once per
  compiled chunk), before every parameter check and at the end of ``learn``, it asks the agent
  whether the losses reported through :meth:`~arena.agent.Agent.record_loss` since the last call
  were finite: one float, one device sync, whatever the model's size;
- on the checkpoint's cadence, just before :class:`~arena.training.PeriodicCheckpoint` saves,
  and at the end of ``learn``, it checks every float array of
  :meth:`~arena.agent.Agent.state`, which covers the families that report no loss (tabular
  tables, SB3's networks) and costs no more than the save that follows it.

A failed check raises :class:`~arena.errors.TrainingError`, naming the step; the run's last
finite checkpoint stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from arena.callbacks import Callback
from arena.errors import TrainingError

LOSS_EVERY = 256
"""Steps between two checks of the losses: each check waits for the device (a GPU sync), so a
check at every step would cost a sync per step; a run stops at most this many steps late."""

if TYPE_CHECKING:
    from arena.agent import Agent


class NonFiniteGuard(Callback):
    """Stops training when a loss or a parameter stops being finite.

    Args:
        every: Check the parameters every this many steps (the checkpoint's cadence), besides
            the losses every ``LOSS_EVERY`` steps and both at the end of ``learn``.
    """

    def __init__(self, every: int) -> None:
        self.every = every
        self.agent: Agent | None = None
        self.last_checked = 0
        self.last_loss_check = 0
        self.stopped = False

    def on_learn_start(self, agent: Agent, steps: int) -> None:
        self.agent = agent
        self.last_checked = self.last_loss_check = agent.num_timesteps
        self.stopped = False
        agent.losses_finite()  # forget losses recorded outside this run

    def on_step(self, step: int) -> bool:
        if self.agent is None:
            return True
        check_parameters = step - self.last_checked >= self.every
        if check_parameters or step - self.last_loss_check >= LOSS_EVERY:
            self.last_loss_check = step
            if not self.agent.losses_finite():
                self._stop("the training loss became nan or infinite", step)
        if check_parameters:
            self._check_parameters(step)
            self.last_checked = step
        return True

    def on_learn_end(self, agent: Agent) -> None:
        if self.agent is None or self.stopped:
            return
        if not agent.losses_finite():
            self._stop("the training loss became nan or infinite", agent.num_timesteps)
        self._check_parameters(agent.num_timesteps)

    def _check_parameters(self, step: int) -> None:
        assert self.agent is not None
        name = first_nonfinite(self.agent.state())
        if name is not None:
            self._stop(f"its parameter {name!r} became nan or infinite", step)

    def _stop(self, what: str, step: int) -> None:
        self.stopped = True
        assert self.agent is not None
        raise TrainingError(
            f"{self.agent.name}: {what} by step {step}. Training stopped without saving these "
            "weights; the run's last finite checkpoint, if it has one, is kept. Try a lower "
            "learning rate, or check the env's rewards and observations."
        )


def first_nonfinite(arrays: Mapping[str, Any]) -> str | None:
    """The name of the first float array (numpy or torch) holding a NaN or an infinity, or None."""
    for name, value in arrays.items():
        if type(value).__module__.startswith("torch"):
            import torch

            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                return name
            continue
        array = np.asarray(value)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            return name
    return None
