"""The config vocabulary: one name and one range for each idea that agent families share.

A family's config is a frozen dataclass that derives from :class:`ConfigBase`, directly or
through the blocks below, and declares each field's range beside its type (:mod:`arena.ranges`).
The blocks are keyword-only, so that a family may mix several and add fields with or without
defaults in any order::

    @dataclass(frozen=True, kw_only=True)
    class DQNConfig(OptimizerConfig, NetworkConfig, ExplorationConfig):
        max_grad_norm: float | None = 10.0  # a new default; the range stays the block's
        gamma: Annotated[float, Between(0, 1)] = 0.99

======================  ================================  ============================
idea                    name                              range
======================  ================================  ============================
step size               ``learning_rate``                 > 0 (a family may narrow it)
gradient clipping       ``max_grad_norm``                 > 0, or None: no clipping
learning-rate decay     ``learning_rate_decay_steps``     >= 0; 0: constant
                        ``learning_rate_final_fraction``  in [0, 1]
hidden layer widths     ``hidden_sizes``                  one or more values >= 1
epsilon-greedy          ``exploration_initial_eps``       in [0, 1]
                        ``exploration_final_eps``         in [0, 1]
                        ``exploration_steps``             >= 0
discount                ``gamma``                         in [0, 1]
minibatch               ``batch_size``                    >= 1
======================  ================================  ============================

Schedules count env steps, absolute across ``learn`` calls and checkpoints, and are computed with
:func:`arena.schedules.linear`. A family with one rate per network (a GAN's generator and
discriminator) prefixes the name (``generator_learning_rate``) and scales every rate by the one
decay. Stable-Baselines3's configs keep SB3's own names where they mean SB3's arguments.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from arena.ranges import Above, AtLeast, Between, Each, Length, check_ranges
from arena.schedules import linear


class ConfigBase:
    """The base of config dataclasses: declared ranges are checked on every construction.

    The ranges (:mod:`arena.ranges`) are checked before the class's own ``__post_init__`` runs,
    once, whether or not it calls ``super().__post_init__()``; so its cross-field rules
    (:func:`arena.config.require`) see fields that are each in range.

    Attributes:
        renamed: Old field names mapped to their new names. A checkpoint that holds an old name
            is read with the new one (:func:`arena.config.upgrade_config`); an old name typed
            with ``--set``, in a TOML file or a preset is refused with the new name given.
            Each class lists its own renames; a subclass's table adds to its bases'.
    """

    renamed: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is not None and own not in _RANGES_FIRST:
            cls.__post_init__ = _ranges_first(own)

    def __post_init__(self) -> None:
        if type(self).__post_init__ is ConfigBase.__post_init__:
            check_ranges(self)

    @classmethod
    def upgrade(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Rewrites a saved config whose meaning changed, not only its names (an absolute value
        that became a fraction, say). Called on a checkpoint's config after the renames.

        The values come from an unchecked manifest: test their types before computing with
        them, and leave what you do not recognise to :func:`arena.config.build_config`. The
        default changes nothing.
        """
        return values


def _ranges_first(post_init: Callable[[Any], None]) -> Callable[[Any], None]:
    """Wraps a config's ``__post_init__`` to check the ranges before it, in the outermost call."""

    @functools.wraps(post_init)
    def checked(self: Any) -> None:
        if type(self).__post_init__ is checked:
            check_ranges(self)
        post_init(self)

    _RANGES_FIRST.add(checked)
    return checked


_RANGES_FIRST: set[Callable[[Any], None]] = set()
"""The wrappers :func:`_ranges_first` made (``dataclass(slots=True)`` makes a class again)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimizerConfig(ConfigBase):
    """A gradient optimizer's step size and gradient clipping."""

    learning_rate: Annotated[float, Above(0)] = 1e-3
    """The optimizer's step size."""
    max_grad_norm: Annotated[float | None, Above(0)] = None
    """Clip the gradients' global norm to this before each step; None: no clipping."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class DecayConfig(ConfigBase):
    """A learning rate that decays linearly with the agent's step count, then stays."""

    learning_rate_decay_steps: Annotated[int, AtLeast(0)] = 0
    """The env step at which the decay ends; 0 keeps the learning rate constant."""
    learning_rate_final_fraction: Annotated[float, Between(0, 1)] = 0.0
    """The fraction of the learning rate left from learning_rate_decay_steps on."""

    def learning_rate_fraction(self, step: int) -> float:
        """The fraction of the configured learning rate to use at env step ``step``."""
        if self.learning_rate_decay_steps == 0:
            return 1.0
        return linear(1.0, self.learning_rate_final_fraction, step, self.learning_rate_decay_steps)


@dataclasses.dataclass(frozen=True, kw_only=True)
class NetworkConfig(ConfigBase):
    """The hidden layers of a dense network."""

    hidden_sizes: Annotated[tuple[int, ...], Each(AtLeast(1)), Length(1)] = (64, 64)
    """Hidden layer widths, input side first."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExplorationConfig(ConfigBase):
    """Epsilon-greedy exploration whose epsilon decays linearly with the agent's step count."""

    exploration_initial_eps: Annotated[float, Between(0, 1)] = 1.0
    """Epsilon, the probability of a random action, at step 0."""
    exploration_final_eps: Annotated[float, Between(0, 1)] = 0.05
    """Epsilon from exploration_steps on."""
    exploration_steps: Annotated[int, AtLeast(0)] = 10_000
    """The env step at which epsilon reaches its final value; absolute, so --resume continues."""

    def exploration_eps(self, step: int) -> float:
        """Epsilon at env step ``step``."""
        return linear(
            self.exploration_initial_eps, self.exploration_final_eps, step, self.exploration_steps
        )
