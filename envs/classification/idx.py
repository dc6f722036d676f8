"""Reading IDX files, the format of MNIST and Fashion-MNIST, gzipped or not (numpy only).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian 32-bit size per dimension, then the values, big-endian, row-major. The sizes are
weighed against the memory limit before any value is read, and a file with fewer or more
values than its header declares is refused: every problem is an error naming the file.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from arena.errors import ArenaError
from arena.limits import check_memory

TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""The IDX type codes and the big-endian dtypes they name."""
GZIP_MAGIC = b"\x1f\x8b"


class IdxError(ArenaError, ValueError):
    """An IDX file that is missing, corrupt, truncated or not what was expected."""


class MissingDataError(IdxError, FileNotFoundError):
    """A data set's files are not where they were looked for; the message says how to get them."""


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Reads one IDX file, gzipped (detected by its first bytes, whatever its name) or raw.

    Args:
        path: The file.
        ndim: The number of dimensions the array must have; None accepts any.

    Returns:
        The array, in native byte order (uint8 for MNIST's images and labels).

    Raises:
        IdxError: The file is missing or unreadable, its magic number is wrong, it has
            another number of dimensions than ``ndim``, or fewer or more values than its
            header declares.
        ResourceLimitError: Its header declares an array larger than the memory limit.
    """
    path = Path(path)
    if not path.is_file():
        what = "is not a regular file" if path.exists() else "does not exist"
        raise IdxError(f"IDX file {str(path)!r} {what}.")
    try:
        with path.open("rb") as raw:
            if raw.read(2) != GZIP_MAGIC:
                raw.seek(0)
                return _read(raw, str(path), ndim)
        with gzip.open(path, "rb") as f:
            return _read(f, str(path), ndim)
    except (OSError, EOFError, zlib.error) as e:
        raise IdxError(f"IDX file {str(path)!r} is not readable: {e}.") from None


def _read(f: IO[bytes], name: str, ndim: int | None) -> np.ndarray:
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in TYPES or magic[3] == 0:
        raise IdxError(
            f"{name!r} is not an IDX file: its magic number is {magic.hex() or 'missing'}; an "
            "IDX file starts with two zero bytes, a type code (08 for unsigned bytes) and the "
            "number of dimensions."
        )
    dtype, dims = TYPES[magic[2]], magic[3]
    if ndim is not None and dims != ndim:
        raise IdxError(f"{name!r} holds a {dims}-D array; {ndim}-D was expected here.")
    header = f.read(4 * dims)
    if len(header) < 4 * dims:
        raise IdxError(f"{name!r} is truncated: its header ends before its {dims} sizes.")
    shape = tuple(int(n) for n in np.frombuffer(header, ">u4"))
    count = int(np.prod(shape, dtype=np.int64))
    # The bytes read, and the array made from them.
    size = float(np.prod(shape, dtype=float)) * dtype.itemsize
    check_memory(f"IDX file {name!r} of shape {shape}", 2 * size)
    data = f.read(count * dtype.itemsize)
    if len(data) < count * dtype.itemsize:
        raise IdxError(
            f"{name!r} is truncated: its header declares {count} values of shape {shape}, "
            f"but only {len(data) // dtype.itemsize} follow."
        )
    if f.read(1):
        raise IdxError(f"{name!r} has data past the {count} values its header declares.")
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))
