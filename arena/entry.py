"""The ``arena`` command's entry point: signals first, then everything else.

``python -m arena`` and the ``arena`` console script both start here. This module imports
nothing heavy, so the handlers below are in place before the first slow import: from then on,
Ctrl-C prints ``arena: interrupted.`` and exits 130, SIGTERM unwinds the same way (``finally``
blocks run, envs close, locks are released, the last checkpoint is kept) and exits 143, and
neither prints a traceback. A signal in Python's own start-up, before this module runs (the
first tenth of a second or so), meets Python's defaults: no handler can be there yet.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

INTERRUPTED = 130
TERMINATED = 143


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


def run() -> int:
    """Runs the ``arena`` command in this process, which it owns; returns its exit status."""
    signal.signal(signal.SIGTERM, _terminate)
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
