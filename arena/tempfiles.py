"""Temporary files beside their target that never outlive an interrupted write.

Every file arena replaces (a manifest, a state file, a cut log, a recording) is first written to
a temporary beside it and renamed into place. Ctrl-C or SIGTERM raises wherever Python happens
to be, including inside :func:`tempfile.mkstemp` after the file exists but before its name is
known; :func:`temporary_beside` holds both signals while the file is made, so an interrupt always
finds the name and removes the file.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Held:
    """Defers SIGINT and SIGTERM until :meth:`release`; a no-op outside the main thread, where
    Python runs no signal handler anyway."""

    def __init__(self) -> None:
        self.caught: list[int] = []
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _Held:
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                self.previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.caught.append(signum)

    def release(self) -> None:
        """Puts the handlers back, then runs the one for the first signal that arrived."""
        previous, self.previous = self.previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        caught, self.caught = self.caught, []
        for signum in caught[:1]:
            handler = previous[signum]
            if callable(handler):  # Not SIG_IGN or SIG_DFL.
                handler(signum, None)


@contextmanager
def temporary_beside(target: Path, suffix: str = ".tmp", mode: int | None = None) -> Iterator[Path]:
    """Yields a new empty file ``.<name>.XXXXXXXX<suffix>`` in ``target``'s folder, and removes
    it when the body raises, interrupts included. A body that renames it into place is done
    with it.

    Args:
        target: The file the temporary will replace.
        suffix: The temporary's name ends with this.
        mode: Its permission bits; by default those a new file gets (``0o666`` less the umask).
    """
    with _Held() as held:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
        temporary = Path(name)
        try:
            try:
                os.fchmod(fd, _new_file_mode() if mode is None else mode)
            finally:
                os.close(fd)
            held.release()
            yield temporary
        except BaseException:
            with _Held():
                temporary.unlink(missing_ok=True)
            raise


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
