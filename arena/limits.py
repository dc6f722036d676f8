"""Limits on what untrusted input (a manifest, a config, a file) may make the program allocate.

A number read from a checkpoint or typed on the command line can ask for far more memory than
the machine has: a ``Box`` of shape ``[100000, 100000]``, ``hidden_sizes=[200000, 200000]``, a
replay buffer of ``1e11`` transitions. Each such number is turned into the bytes it would need
and checked here *before* anything is allocated, so the user gets a message naming the field
instead of a frozen machine or an out-of-memory kill.

The limit is the smallest of the machine's physical memory and the process's own ``RLIMIT_AS``
and ``RLIMIT_DATA``; ``ARENA_MEMORY_LIMIT`` (bytes, or a number with ``K``, ``M``, ``G`` or
``T``) sets it explicitly.
"""

from __future__ import annotations

import os

from arena.errors import ResourceLimitError

MEMORY_ENV = "ARENA_MEMORY_LIMIT"
_SUFFIXES = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_limit() -> int:
    """The most bytes one allocation asked for by input may need.

    Raises:
        ResourceLimitError: ``ARENA_MEMORY_LIMIT`` is set but is not a size.
    """
    text = os.environ.get(MEMORY_ENV, "").strip()
    if text:
        return _parse_size(text)
    limits = [_physical_memory()]
    try:
        import resource

        for kind in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft, _ = resource.getrlimit(kind)
            if soft != resource.RLIM_INFINITY and soft > 0:
                limits.append(soft)
    except (ImportError, ValueError, OSError):  # Windows has no resource module.
        pass
    return min(limits)


def check_memory(what: str, nbytes: int | float) -> None:
    """Refuses ``what`` when it would need more than :func:`memory_limit` bytes.

    Args:
        what: Names the field and its value, for the message ("observation_space Box of
            shape (100000, 100000)", "buffer_size=100000000000").
        nbytes: The bytes it would need.

    Raises:
        ResourceLimitError: It would need more than the limit.
    """
    limit = memory_limit()
    if nbytes > limit:
        raise ResourceLimitError(
            f"{what} would need {format_bytes(nbytes)} of memory, more than the limit of "
            f"{format_bytes(limit)} (the machine's memory and this process's limits; set "
            f"{MEMORY_ENV} to change it)."
        )


def format_bytes(nbytes: int | float) -> str:
    """``1.5 GiB``, ``640.0 MiB``, ``12 B``."""
    value, unit = float(nbytes), "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**40


def _parse_size(text: str) -> int:
    number, suffix = text.upper().rstrip("IB"), ""
    if number and number[-1] in _SUFFIXES:
        number, suffix = number[:-1], number[-1]
    try:
        size = float(number) * _SUFFIXES[suffix]
    except ValueError:
        raise ResourceLimitError(
            f"{MEMORY_ENV}={text!r} is not a size; give bytes, or a number with K, M, G or T."
        ) from None
    if not size > 0:
        raise ResourceLimitError(f"{MEMORY_ENV}={text!r} must be positive.")
    return int(size)
