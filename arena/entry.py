"""The ``arena`` command's entry point: signals first, then everything else.

``python -m arena`` and the ``arena`` console script both start here. This module imports
nothing heavy, so the handlers below are in place before the first slow import: from then on,
Ctrl-C prints ``arena: interrupted.`` and exits 130, SIGTERM unwinds the same way (``finally``
blocks run, envs close, locks are released, the last checkpoint is kept) and exits 143, and
neither prints a traceback, also when the signal lands in a callback Python cannot raise
from (it is raised again a moment later). A signal in Python's own start-up, before this
module runs (the first tenth of a second or so), meets Python's defaults: no handler can be
there yet.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Any

INTERRUPTED = 130
TERMINATED = 143
REDELIVERY = 0.01
"""Seconds after which an interrupt lost in a callback is raised again (:func:`_unraisable`)."""


class Terminated(KeyboardInterrupt):
    """Raised by the SIGTERM handler; a :class:`KeyboardInterrupt`, so every ``except`` and
    ``finally`` that serves Ctrl-C serves SIGTERM too."""


def interruption(error: KeyboardInterrupt, out: str | None = None) -> int:
    """Prints the one line that ends an interrupted run; returns its exit status.

    Args:
        error: The interrupt: a plain :class:`KeyboardInterrupt` for Ctrl-C, or :class:`Terminated`.
        out: The run directory, when the command writes one; a checkpoint in it is named as kept.
    """
    from pathlib import Path

    kept = ""
    try:
        if out and Path(out, "manifest.json").is_file():
            kept = f" The last checkpoint in {out} is kept."
        elif out and any(Path(out).glob("seed-*/manifest.json")):
            kept = f" The last checkpoints in {Path(out, 'seed-N')} are kept."
    except (OSError, ValueError):  # An --out that is no path at all.
        pass
    terminated = isinstance(error, Terminated)
    print(f"arena: {'terminated' if terminated else 'interrupted'}.{kept}", file=sys.stderr)
    return TERMINATED if terminated else INTERRUPTED


def _terminate(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # One unwinding at a time.
    raise Terminated


def _unraisable(hook_args: Any) -> None:
    """Raises again, a moment later, an interrupt that landed where Python cannot raise it.

    A signal's exception raised inside a weakref callback or a ``__del__`` (importlib runs one
    when a module lock is dropped, so an import can meet it) cannot propagate: Python would
    print "Exception ignored" with a traceback and go on. A timer raises it again
    :data:`REDELIVERY` seconds later, from ordinary code (or, should it land in such a place
    again, once more after that), so that it unwinds the command as usual. A signal sent again
    from here would run its handler in here, where it would be lost once more. Anything else
    goes to Python's own hook.
    """
    error = hook_args.exc_value
    if not isinstance(error, KeyboardInterrupt):
        sys.__unraisablehook__(hook_args)
        return

    def raise_again(signum: int, frame: FrameType | None) -> None:
        raise error

    signal.signal(signal.SIGALRM, raise_again)
    signal.setitimer(signal.ITIMER_REAL, REDELIVERY)


def run() -> int:
    """Runs the ``arena`` command in this process, which it owns; returns its exit status."""
    signal.signal(signal.SIGTERM, _terminate)
    sys.unraisablehook = _unraisable
    for stream in (sys.stdout, sys.stderr):
        # A path typed as undecodable bytes must not crash a print of it.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        try:
            from arena.cli import main

            status = main()
        finally:
            _ignore_signals()  # The work is done or unwound; an interrupt now changes nothing.
    except KeyboardInterrupt as e:  # During the imports above, or a second one in main's.
        _ignore_signals()
        status = interruption(e)
    if status in (INTERRUPTED, TERMINATED):
        # Everything has unwound and the message is out. CPython remembers an interrupt that
        # crossed some C-level import paths even when it was caught, and would end the process
        # by SIGINT instead of this status; leave without its finalization.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def _ignore_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
