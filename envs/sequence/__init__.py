"""Next-step prediction as a game: see the current element of a stream, predict the next.

One env class per source, each in its own module with its manual: :class:`SineEnv`
(``arena/Sine-v0``), :class:`ReberEnv` (``arena/Reber-v0``), :class:`AddingEnv`
(``arena/Adding-v0``) and :class:`TextEnv` (``arena/Text-v0``), over the shared
:class:`~envs.sequence.base.SequenceEnv`. ``arena/SequencePrediction-v0`` names the source with
an argument: :class:`SequencePredictionEnv` builds that source's env.
"""

from __future__ import annotations

import inspect
from typing import Any

from envs.sequence.adding import AddingEnv
from envs.sequence.base import SequenceEnv
from envs.sequence.reber import ReberEnv
from envs.sequence.sine import SineEnv
from envs.sequence.text import TextEnv

SOURCES: dict[str, type[SequenceEnv]] = {
    "sine": SineEnv,
    "reber": ReberEnv,
    "adding": AddingEnv,
    "text": TextEnv,
}
"""The env class of each source, by the name ``source=`` takes."""


def _arguments(env_class: type[SequenceEnv]) -> set[str]:
    return set(inspect.signature(env_class.__init__).parameters) - {"self"}


class SequencePredictionEnv:
    """``arena/SequencePrediction-v0``: the env of the source named by ``source``.

    Calling it builds a :class:`SineEnv`, :class:`ReberEnv`, :class:`AddingEnv` or
    :class:`TextEnv`; see their manuals for the spaces, rewards, episode end and info. It takes
    the arguments of all four and passes each source those it uses, so one set of arguments
    serves every source.

    ## Arguments
    - ``source`` ("sine", "reber", "adding" or "text", default "sine").
    - ``batch_size``, ``render_mode``: as every source takes them.
    - ``length`` (sine, text), ``noise`` (sine), ``embedded`` (reber), ``T`` (adding),
      ``corpus`` and ``split`` (text): as those sources take them; the other sources ignore
      them. ``metadata["evaluation_kwargs"]`` asks ``arena evaluate`` for ``split="test"``.

    Raises:
        ValueError: An unknown source, or a bad value of an argument the source uses.
        TypeError: An argument no source takes.
    """

    metadata = TextEnv.metadata

    def __new__(cls, source: str = "sine", **kwargs: Any) -> SequenceEnv:
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
        known = set().union(*map(_arguments, SOURCES.values()))
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(
                f"SequencePredictionEnv() got an unexpected keyword argument {unknown[0]!r}"
            )
        env_class = SOURCES[source]
        uses = _arguments(env_class)
        return env_class(**{name: value for name, value in kwargs.items() if name in uses})


__all__ = ["SOURCES", "AddingEnv", "ReberEnv", "SequencePredictionEnv", "SineEnv", "TextEnv"]
