"""The one schedule helper: a value that moves linearly with the step count, then stays.

Plain Python on numbers, so that a numba kernel compiles the same function
(``numba.njit(inline="always")(linear)``) and a compiled loop and a Python one agree.
"""

from __future__ import annotations


def linear(start: float, end: float, t: float, steps: float) -> float:
    """Goes linearly from ``start`` at step 0 to ``end`` at step ``steps``, then stays at ``end``.

    Args:
        start: The value at step 0.
        end: The value from step ``steps`` on.
        t: The current step (an env step count, absolute across ``learn`` calls).
        steps: The step at which ``end`` is reached; 0 or less gives ``end`` from the start.

    Returns:
        ``start + (end - start) * t / steps`` while ``t < steps``, else ``end``.
    """
    if t >= steps:
        return end
    return start + (end - start) / steps * t
