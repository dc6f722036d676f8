"""Run directories: one writer at a time, and nothing of the user's overwritten or deleted.

A run directory is the ``--out`` of ``arena train`` or ``arena import-*``. While a process
writes one, it holds an OS file lock (``flock``) on ``.arena.lock`` inside it, so the lock goes
away with the process however it ends, ``kill -9`` included. The lock file records who holds
it (pid, command line, since when) for the message a second writer gets.

:func:`open_run` checks an ``--out`` before any work: a new or empty folder, the checkpoint a
``--resume`` continues in place, or an existing checkpoint with ``--overwrite``; anything else
is refused. Replacing an old run removes only the files arena recognisably wrote (its manifest,
the state file that manifest names, ``progress.csv``, ``evaluations.csv`` and the checkpoint in
``best/``), and only once the new run is about to write its first file.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import stat
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.errors import ArenaError, RunDirBusyError
from arena.manifest import FORMAT as CHECKPOINT_FORMAT
from arena.manifest import MANIFEST
from arena.manifest import MAX_BYTES as _MAX_MANIFEST_BYTES
from arena.runlogs import (
    EVALUATIONS_FILE,
    EVALUATIONS_HEADER,
    PROGRESS_FILE,
    PROGRESS_HEADER,
    check_header,
    truncate_logs,
)

LOCK_FILE = ".arena.lock"
BEST_DIR = "best"
STAGING_PREFIX = ".staging-"
KEPT_PREFIX = ".replaced-"


@dataclass
class _Lock:
    fd: int
    file: Path
    count: int = 1


_held: dict[tuple[int, int], _Lock] = {}
_held_guard = threading.Lock()


@contextmanager
def hold(path: str | Path) -> Iterator[Path]:
    """Holds the one-writer lock of the existing directory ``path`` while the block runs.

    A process that already holds it re-enters it: ``flock`` locks belong to open files, so a
    second lock taken by the same process would conflict with its first.

    Raises:
        RunDirBusyError: Another process holds the lock; the message names it.
        ArenaError: ``path`` is not a folder, or arena cannot write its lock file there.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as e:
        raise ArenaError(f"Cannot lock {str(path)!r}: {e.strerror}.") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ArenaError(f"Cannot lock {str(path)!r}: it is not a folder.")
    key = (info.st_dev, info.st_ino)
    with _held_guard:
        lock = _held.get(key)
        if lock is None:
            lock = _held[key] = _acquire(path)
        else:
            lock.count += 1
    try:
        yield path
    finally:
        with _held_guard:
            lock.count -= 1
            if lock.count == 0:
                del _held[key]
                _release(lock)


def _acquire(path: Path) -> _Lock:
    file = path / LOCK_FILE
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(20):
        try:
            fd = os.open(file, flags, 0o644)
        except OSError as e:
            raise ArenaError(
                f"Cannot write in {str(path)!r}: creating its lock file {LOCK_FILE} failed "
                f"({e.strerror}). A run directory must be a folder arena can write in."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunDirBusyError(path, holder) from None
        except OSError as e:
            os.close(fd)
            raise ArenaError(
                f"Cannot lock {str(path)!r}: this file system refused a file lock "
                f"({e.strerror}). Pick an --out on a local disk."
            ) from None
        if _same_file(fd, file):
            _write_holder(fd)
            return _Lock(fd, file)
        # A holder removed the file while releasing it, after we opened it: start again.
        os.close(fd)
    raise RunDirBusyError(path, {})


def _same_file(fd: int, file: Path) -> bool:
    try:
        on_disk = os.stat(file, follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _write_holder(fd: int) -> None:
    holder = {
        "pid": os.getpid(),
        "command": shlex.join(getattr(sys, "orig_argv", sys.argv)),
        "since": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)


def _read_holder(fd: int) -> dict[str, Any]:
    """What the holder wrote into the lock file; it may still be writing it, so wait a little."""
    for _ in range(10):
        try:
            holder = json.loads(os.pread(fd, 4096, 0))
        except (OSError, ValueError):
            holder = None
        if isinstance(holder, dict):
            return holder
        time.sleep(0.05)
    return {}


def _release(lock: _Lock) -> None:
    # Remove the file while still holding it; a process that opened it meanwhile notices
    # (see _same_file) and starts again on a new file.
    try:
        if _same_file(lock.fd, lock.file):
            lock.file.unlink()
    except OSError:
        pass
    os.close(lock.fd)


@dataclass
class RunDir:
    """A run directory held by this process, from :func:`open_run`.

    Attributes:
        path: The directory.
        continues: A ``--resume`` in place: the run goes on from the checkpoint there.
        replaces: Files and folders of an old run that ``--overwrite`` replaces.
    """

    path: Path
    continues: bool = False
    replaces: list[Path] = field(default_factory=list)
    kept: Path | None = None
    """Where :meth:`begin` put the replaced run's files until the new run's first checkpoint."""

    def begin(self, step: int) -> None:
        """Call right before the first write: replaces the old run, or, for a run that
        continues in place, cuts ``progress.csv`` and ``evaluations.csv`` back to ``step``
        (the checkpoint's), dropping rows written after it by a run that was stopped."""
        if self.continues:
            truncate_logs([self.path / PROGRESS_FILE, self.path / EVALUATIONS_FILE], step)
        self._replace_old()

    def _replace_old(self) -> None:
        """Moves the replaced run's files aside, into a hidden folder of this run: they are
        deleted once the new run has saved its first checkpoint (:meth:`close`) and put back if
        it stops before that, so an interrupted ``--overwrite`` keeps the old checkpoint."""
        files = []
        for item in self.replaces:
            if item.is_dir() and not item.is_symlink():
                manifest = checkpoint_manifest(item)
                if manifest is not None:
                    files += [item / MANIFEST, *_state_files(item, manifest)]
            elif item.exists():
                files.append(item)
        self.replaces = []
        if not files:
            return
        self.kept = self.path / f"{KEPT_PREFIX}{os.getpid()}.tmp"
        for file in files:
            aside = self.kept / file.relative_to(self.path)
            aside.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, aside)

    def close(self) -> None:
        """Ends the run: drops the replaced run's files if a new checkpoint now stands in their
        place, or else puts them back over what the stopped run wrote."""
        if self.kept is not None:
            settle_kept(self.path, self.kept)
            self.kept = None

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh folder inside the run directory for a writer that cannot be interrupted
        half-way (an importer); :meth:`commit` moves what it wrote into place. The folder is
        removed afterwards, also when the writer fails."""
        stage = self.path / f"{STAGING_PREFIX}{os.getpid()}.tmp"
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir()
        try:
            yield stage
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def commit(self, stage: Path) -> None:
        """Replaces the old run (with ``--overwrite``) by the checkpoint written in ``stage``.

        The manifest moves last: it is the checkpoint's commit point.

        Raises:
            ArenaError: ``stage`` holds no checkpoint; the old run is then left as it is.
        """
        if checkpoint_manifest(stage) is None:
            raise ArenaError(f"The importer wrote no checkpoint into {str(self.path)!r}.")
        self._replace_old()
        entries = sorted(stage.iterdir(), key=lambda p: p.name == MANIFEST)
        for entry in entries:
            if entry.name != LOCK_FILE:
                os.replace(entry, self.path / entry.name)


@contextmanager
def open_run(
    out: str | Path,
    *,
    overwrite: bool = False,
    continues: bool = False,
    flag: str = "--out",
) -> Iterator[RunDir]:
    """Checks, creates and locks a run directory before any work is done.

    Accepted: a new folder (created, with its parents), an empty one, the checkpoint a run
    continues in place (``continues``), or a checkpoint arena wrote, with ``overwrite``.
    Folders this call created are removed on the way out if they are still empty, so a run
    refused at its start leaves nothing behind.

    Args:
        out: The run directory.
        overwrite: Replace a checkpoint that is there (see :meth:`RunDir.begin`).
        continues: The run continues the checkpoint that is there.
        flag: The option that named ``out``, for messages.

    Raises:
        ArenaError: An empty name, a file, a path under a file, a folder arena cannot write
            in, a folder with other files, or a checkpoint without ``overwrite``.
        RunDirBusyError: Another process writes there.
    """
    if not str(out).strip():
        raise ArenaError(f"{flag} is empty; name the folder to write the run into.")
    path = Path(out)
    check_folder_target(path, flag)
    created = _make_dirs(path, flag)
    try:
        with hold(path):
            _remove_stale_staging(path)
            run = RunDir(path, continues=continues)
            if not continues:
                run.replaces = _old_run(path, overwrite, flag)
            try:
                yield run
            finally:
                run.close()
    finally:
        for folder in reversed(created):
            _remove_if_empty(folder)


def check_seeds_folder(path: Path, flag: str = "--out") -> None:
    """Refuses a ``--seeds`` folder holding anything but ``seed-K`` folders: each of those is
    then a run directory of its own, checked by :func:`open_run`."""
    try:
        others = sorted(p.name for p in path.iterdir() if not p.name.startswith("seed-"))
    except FileNotFoundError:
        return
    except OSError as e:
        raise ArenaError(f"{flag} {str(path)!r} cannot be listed: {e.strerror}.") from None
    if others:
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        raise ArenaError(
            f"{flag} {str(path)!r} holds other files than seed-K runs ({', '.join(others[:5])}"
            f"{more}). arena train --seeds writes into a new or empty folder, or one with only "
            "its own seed-K runs; pick another folder."
        )


def check_run_target(path: Path, overwrite: bool = False, flag: str = "--out") -> None:
    """Checks a run directory as :func:`open_run` does, without creating or locking anything:
    for a driver that hands the folder to a worker and must refuse it before any worker starts.

    Raises:
        ArenaError: What :func:`open_run` would refuse.
    """
    check_folder_target(path, flag)
    if path.is_dir():
        _old_run(path, overwrite, flag)


def clear_unfinished(path: Path) -> None:
    """Removes the logs that a run killed before its first checkpoint left in ``path``, so that
    a new run may start there; the caller holds the folder's lock.

    Only ``progress.csv`` and ``evaluations.csv`` with arena's headers go; nothing happens in a
    folder that holds a checkpoint or any other file, which :func:`open_run` then judges.
    """
    if checkpoint_manifest(path) is not None:
        return
    logs = {PROGRESS_FILE: PROGRESS_HEADER, EVALUATIONS_FILE: EVALUATIONS_HEADER}
    entries = [p for p in path.iterdir() if p.name != LOCK_FILE]
    if any(p.name not in logs or not p.is_file() or p.is_symlink() for p in entries):
        return
    for log in entries:
        check_header(log, logs[log.name])
    for log in entries:
        log.unlink()


def check_folder_target(path: Path, flag: str = "--out") -> None:
    """Refuses a folder target that is a file, lies under a file, or cannot be written."""
    if path.exists():
        if not path.is_dir():
            kind = "a file" if path.is_file() else "not a regular file or folder"
            raise ArenaError(f"{flag} {str(path)!r} is {kind}; it must name a folder.")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ArenaError(f"{flag} {str(path)!r} is a folder arena cannot write in.")
        return
    if path.is_symlink():
        raise ArenaError(f"{flag} {str(path)!r} is a symbolic link to nothing; name a folder.")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ArenaError(
            f"{flag} {str(path)!r} lies under {str(ancestor)!r}, which is not a folder."
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ArenaError(
            f"{flag} {str(path)!r} cannot be created: arena cannot write in {str(ancestor)!r}."
        )


def check_file_target(path: Path, suffix: str, overwrite: bool, flag: str = "--out") -> Path:
    """Checks a file an arena command will write, before any work.

    Raises:
        ArenaError: The wrong extension, a folder, a missing folder, or an existing file
            without ``overwrite``.
    """
    if path.suffix.lower() != suffix:
        raise ArenaError(f"{flag} must name a {suffix} file, got {str(path)!r}.")
    if path.is_dir():
        raise ArenaError(f"{flag} {str(path)!r} is a folder; it must name a {suffix} file.")
    check_parent(path, flag)
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise ArenaError(
            f"{flag} {str(path)!r} already exists; pass --overwrite to replace it, "
            "or name another file."
        )
    return path


def check_parent(path: Path, flag: str) -> None:
    """Refuses a file target whose folder is missing, is not a folder, or is read-only."""
    folder = path.parent
    if not folder.exists():
        raise ArenaError(f"{flag}'s folder {str(folder)!r} does not exist.")
    if not folder.is_dir():
        raise ArenaError(f"{flag} {str(path)!r} lies under {str(folder)!r}, which is not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ArenaError(f"{flag} {str(path)!r}: arena cannot write in {str(folder)!r}.")


def _make_dirs(path: Path, flag: str) -> list[Path]:
    """Creates ``path`` and its missing parents; returns the folders created, outermost first."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    created: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir()
            created.append(folder)
    except OSError as e:
        for folder in reversed(created):
            _remove_if_empty(folder)
        raise ArenaError(f"{flag} {str(path)!r} cannot be created: {e.strerror}.") from None
    return created


def _remove_stale_staging(path: Path) -> None:
    """Removes staging folders that writers killed half-way left behind, and settles the files
    a killed ``--overwrite`` run had put aside: whoever made them no longer holds the lock this
    process now holds."""
    for stage in path.glob(f"{STAGING_PREFIX}*.tmp"):
        if stage.is_dir() and not stage.is_symlink():
            shutil.rmtree(stage, ignore_errors=True)
    for kept in path.glob(f"{KEPT_PREFIX}*.tmp"):
        if kept.is_dir() and not kept.is_symlink():
            settle_kept(path, kept)


def settle_kept(path: Path, kept: Path) -> None:
    """Deletes the files a run that replaced another put aside in ``kept``, if ``path`` now holds
    a checkpoint, else moves them back, replacing the logs the stopped run began."""
    if checkpoint_manifest(path) is None:
        for log in (PROGRESS_FILE, EVALUATIONS_FILE):
            if not (kept / log).exists():
                (path / log).unlink(missing_ok=True)
        for file in sorted(kept.rglob("*"), key=lambda f: f.name == MANIFEST):
            if file.is_file() and not file.is_symlink():
                target = path / file.relative_to(kept)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(file, target)
    shutil.rmtree(kept, ignore_errors=True)
    _remove_if_empty(path / BEST_DIR)


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()


def checkpoint_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of the checkpoint arena wrote at ``path``, or None if there is none."""
    file = path / MANIFEST
    try:
        if not file.is_file() or file.stat().st_size > _MAX_MANIFEST_BYTES:
            return None
        manifest = json.loads(file.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(manifest, dict) and manifest.get("format") == CHECKPOINT_FORMAT:
        return manifest
    return None


def _old_run(path: Path, overwrite: bool, flag: str) -> list[Path]:
    """What of the run at ``path`` a new run replaces; refuses what it may not replace."""
    try:
        entries = sorted(p.name for p in path.iterdir() if p.name != LOCK_FILE)
    except OSError as e:
        raise ArenaError(f"{flag} {str(path)!r} cannot be listed: {e.strerror}.") from None
    if not entries:
        return []
    manifest = checkpoint_manifest(path)
    if manifest is None:
        more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
        shown = ", ".join(entries[:5]) + more
        raise ArenaError(
            f"{flag} {str(path)!r} is a folder with other files in it ({shown}) and no "
            "checkpoint. arena writes a run only into a new or empty folder, or over its own "
            "checkpoint with --overwrite; pick another folder."
        )
    if not overwrite:
        raise ArenaError(
            f"{flag} {str(path)!r} already holds a checkpoint (a {manifest.get('agent')} agent, "
            f"{manifest.get('steps')} steps). Continue it with `arena train --resume "
            f"{path}`, replace it with --overwrite, or pick another folder."
        )
    replaces = [path / MANIFEST, *_state_files(path, manifest)]
    for name, header in ((PROGRESS_FILE, PROGRESS_HEADER), (EVALUATIONS_FILE, EVALUATIONS_HEADER)):
        if (path / name).exists() or (path / name).is_symlink():
            check_header(path / name, header)
            replaces.append(path / name)
    best = path / BEST_DIR
    if best.exists() or best.is_symlink():
        if best.is_symlink() or checkpoint_manifest(best) is None:
            raise ArenaError(
                f"--overwrite would replace the run in {str(path)!r}, but its {BEST_DIR} is "
                "not a checkpoint arena wrote; move it away first."
            )
        replaces.append(best)
    return replaces


def _state_files(path: Path, manifest: dict[str, Any]) -> list[Path]:
    """The state file a manifest names, if it is a plain file inside the checkpoint."""
    state = manifest.get("state")
    name = state.get("file") if isinstance(state, dict) else None
    if not isinstance(name, str) or not name.startswith("state-") or "/" in name:
        return []
    file = path / name
    return [file] if file.is_file() and not file.is_symlink() else []
