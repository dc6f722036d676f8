"""Reading a user's array files (``.npy`` or ``.npz``) safely: a command's ``--input``, and
the size check an env runs on a user's ``.npz`` before loading it (:func:`weigh_npz`).

Nothing is unpickled (``allow_pickle=False``), only numbers are accepted, and an array's size
is read from its header and weighed against the memory limit before its data is.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from arena.errors import ArenaError
from arena.limits import check_memory
from arena.spaces import shorten

SUFFIXES = (".npy", ".npz")
NUMERIC_KINDS = "biuf"
"""bool, signed and unsigned integers, floats: the dtype kinds an input array may have."""


def read_array(path: Path, flag: str = "--input") -> np.ndarray:
    """Reads one numeric array from ``path``.

    A ``.npz`` file must hold one array, or an array named ``X`` among others. The memory
    check counts the array and one float32 copy of it.

    Args:
        path: A ``.npy`` or ``.npz`` file.
        flag: The option that named the file, for messages.

    Raises:
        ArenaError: Another extension, a file that is missing, not a regular file or not
            readable, an archive without a clear array, an array of objects, strings or
            records, or one over the memory limit.
    """
    shown = shorten(str(path))
    if path.suffix.lower() not in SUFFIXES:
        raise ArenaError(f"{flag} must name a .npy or .npz file, got {shown!r}.")
    if not path.is_file():
        what = "is not a regular file" if path.exists() else "does not exist"
        raise ArenaError(f"{flag} {shown!r} {what}.")
    try:
        if path.suffix.lower() == ".npy":
            with path.open("rb") as f:
                _check_header(f, f"{flag} {shown!r}")
            return np.load(path, allow_pickle=False)
        with zipfile.ZipFile(path) as archive:
            member = _member(archive, f"{flag} {shown!r}")
            with archive.open(member) as f:
                _check_header(f, f"{flag} {shown!r}, array {member[:-4]!r},")
        with np.load(path, allow_pickle=False) as data:
            return data[member[:-4]]
    except (
        OSError,
        EOFError,
        ValueError,
        RuntimeError,
        NotImplementedError,
        zipfile.BadZipFile,
    ) as e:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression.
        kind = path.suffix.lower()
        raise ArenaError(f"{flag} {shown!r} is not a readable {kind} file ({e}).") from None


def _member(archive: zipfile.ZipFile, where: str) -> str:
    arrays = [n for n in archive.namelist() if n.endswith(".npy")]
    if "X.npy" in arrays:
        return "X.npy"
    if len(arrays) == 1:
        return arrays[0]
    names = ", ".join(shorten(n[:-4], 40) for n in arrays[:10]) or "none"
    raise ArenaError(
        f"{where} holds {len(arrays)} arrays ({names}); name the one to read X, or keep one."
    )


def weigh_npz(path: Path, where: str) -> None:
    """Refuses an ``.npz`` whose arrays, by their headers, need more than the memory limit,
    before any of their data is read (a small zip can declare a huge array).

    Raises:
        ResourceLimitError: The arrays together are over the limit.
        OSError, ValueError, zipfile.BadZipFile: The file is not a readable archive of arrays.
    """
    total = 0.0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".npy"):
                with archive.open(name) as f:
                    shape, dtype = _header(f)
                total += float(np.prod(shape, dtype=float)) * dtype.itemsize
    check_memory(f"{where}'s arrays", total)


def _header(f: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    return shape, dtype


def _check_header(f: IO[bytes], where: str) -> None:
    shape, dtype = _header(f)
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ArenaError(f"{where} holds {dtype} values; give numbers (bool, int or float).")
    size = float(np.prod(shape, dtype=float))
    check_memory(f"{where} {shorten(str(shape))} array", size * (dtype.itemsize + 4))
