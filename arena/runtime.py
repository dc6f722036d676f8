"""The torch runtime: how many CPU threads torch uses while an agent learns or plays.

A library never changes process-wide state behind its caller's back. Torch's intra-op thread
count is process-wide, so no agent sets it: the core sets it around ``learn`` and ``evaluate``
(:func:`torch_threads`) to the agent's :attr:`~arena.agent.Agent.threads`, and restores it
afterwards. ``arena train`` and ``arena evaluate`` take it as ``--threads N``.

One thread is the default: the models here are small, and on a machine with few cores one
thread was measured 10-150x faster than two for them, because the threads' synchronisation
costs more than the matrices they share. Large models on many cores want more: ``--threads 0``
leaves torch's own setting (one thread per core).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_THREADS = 1
"""Torch's CPU threads while an agent learns or plays, unless the caller says otherwise."""
MAX_THREADS = 1024


@contextmanager
def torch_threads(count: int | None, *, import_torch: bool = False) -> Iterator[None]:
    """Runs the block with torch using ``count`` CPU threads, then restores torch's setting.

    Nothing happens when ``count`` is 0 or None, or when torch was never imported (an agent
    without torch) and ``import_torch`` is off. An agent that builds its torch model lazily,
    inside the block, passes ``import_torch`` (its ``uses_torch``): otherwise its first
    ``learn`` would run with torch's default threads and the next with ``count``, and their
    results would differ in the last bits from a run resumed from a checkpoint.
    """
    if count and import_torch:
        importlib.import_module("torch")
    torch = sys.modules.get("torch")
    if not count or torch is None:
        yield
        return
    before = torch.get_num_threads()
    if before != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
