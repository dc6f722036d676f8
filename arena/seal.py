"""Seals on folders that only this user's arena may read back: an HMAC under a private key.

Some state arena does not write itself is pickled (Ray Tune's experiment state, which
``arena sweep`` restores to resume). Unpickling runs code, so arena never reads such state from a
folder that could come from anywhere. It seals the folder when it has written it (an
HMAC-SHA256 of every file's path and bytes, under a key kept in the user's state folder, created
on first use with mode 0600), and reads it back only when the seal still matches: a folder
written by someone else, or changed since, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

KEY_BYTES = 32


def key_file() -> Path:
    """Where the user's sealing key lives (``$XDG_STATE_HOME/gym-arena/seal.key``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "gym-arena" / "seal.key"


def _key() -> bytes:
    """The user's key, made on first use."""
    path = key_file()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = os.urandom(KEY_BYTES)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        with os.fdopen(descriptor, "wb") as f:
            f.write(data)
    return data


def seal(folder: Path) -> str:
    """The seal of ``folder``: an HMAC of its files' relative paths and bytes, in name order.

    Raises:
        ValueError: The folder holds a link or something else than files and folders.
    """
    mac = hmac.new(_key(), digestmod=hashlib.sha256)
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise ValueError(f"{str(path)!r} is not a plain file or folder")
        if path.is_file():
            name = path.relative_to(folder).as_posix().encode()
            mac.update(len(name).to_bytes(8, "big") + name)
            data = path.read_bytes()
            mac.update(len(data).to_bytes(8, "big") + data)
    return mac.hexdigest()


def is_sealed(folder: Path, seal_file: Path) -> bool:
    """Whether ``seal_file`` holds ``folder``'s seal under this user's key."""
    try:
        expected = seal_file.read_text(encoding="ascii").strip()
        return hmac.compare_digest(expected, seal(folder))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
