"""Frames to files and to a window: what ``--record`` and ``--render human`` share.

Frames are ``rgb_array`` images (height x width x 3, uint8). A recording is written in one go when
it ends, to a temporary file that is then renamed into place, so an interrupted run never leaves a
half-written file. GIF needs only Pillow; MP4 needs an ``ffmpeg`` program (on the PATH, or from
the ``imageio-ffmpeg`` package: ``pip install "gym-arena[video]"``).
The window is :class:`arena.window.Window`, the one the envs' ``human`` mode opens too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from arena.errors import ArenaError
from arena.rundir import check_parent
from arena.tempfiles import temporary_beside
from arena.window import Window

FORMATS = (".gif", ".mp4")


def check_record_path(path: str | Path, *, overwrite: bool = True) -> Path:
    """Checks a ``--record`` path before any work is done.

    Args:
        path: The file to write.
        overwrite: Whether an existing file may be replaced (the CLI's ``--overwrite``).

    Raises:
        ArenaError: An unsupported extension, a folder, a missing folder, an existing file
            without ``overwrite``, or MP4 without ffmpeg.
    """
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ArenaError(f"--record writes {' or '.join(FORMATS)} files, not {path.name!r}.")
    check_parent(path, "--record")
    if path.is_dir():
        raise ArenaError(f"--record {str(path)!r} is a folder; name a file.")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise ArenaError(
            f"--record {str(path)!r} already exists; pass --overwrite to replace it, "
            "or name another file."
        )
    if path.suffix.lower() == ".mp4":
        _ffmpeg()
    return path


def _ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ArenaError(
            "Writing .mp4 needs ffmpeg: install it, or `pip install imageio-ffmpeg`. "
            "A .gif needs nothing more."
        ) from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def write_frames(frames: Sequence[np.ndarray], path: str | Path, fps: float = 30) -> Path:
    """Writes frames to a GIF or MP4 file atomically.

    Args:
        frames: RGB uint8 images of one size.
        path: The file to write; its extension picks the format.
        fps: Frames per second.

    Returns:
        The written path.
    """
    path = check_record_path(path)
    if not frames:
        raise ArenaError("There are no frames to record.")
    with temporary_beside(path, suffix=path.suffix) as temporary:
        if path.suffix.lower() == ".gif":
            _write_gif(frames, str(temporary), fps)
        else:
            _write_mp4(frames, str(temporary), fps)
        os.replace(temporary, path)
    return path


def _write_gif(frames: Sequence[np.ndarray], file: str, fps: float) -> None:
    from PIL import Image

    images = [Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    images[0].save(
        file,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(int(1000 / fps), 20),
        loop=0,
    )


def _write_mp4(frames: Sequence[np.ndarray], file: str, fps: float) -> None:
    height, width = frames[0].shape[:2]
    even = (height - height % 2, width - width % 2)  # yuv420p wants even sizes.
    command = [
        _ffmpeg(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{even[1]}x{even[0]}", "-r", str(fps), "-i", "-",
        "-pix_fmt", "yuv420p", "-vcodec", "libx264", "-f", "mp4", file,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    for frame in frames:
        process.stdin.write(np.ascontiguousarray(frame[: even[0], : even[1], :3]).tobytes())
    _, error = process.communicate()
    if process.returncode != 0:
        raise ArenaError(f"ffmpeg could not write the video: {error.decode(errors='replace')}")


def render_off_screen() -> None:
    """Lets SDL draw frames that no window shows (``--record``, ``--render rgb_array``).

    Envs draw their frames with pygame, whose SDL probes the desktop's video drivers when no
    driver is chosen; on a machine without a desktop it prints "XDG_RUNTIME_DIR is invalid or
    not set" though nothing is shown. This chooses SDL's dummy driver for this process only
    (its environment, not the user's shell), and only when the user has not chosen one.
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


class WindowClosed(Exception):
    """The user closed the window: stop cleanly."""


class FrameTap(gym.Wrapper):
    """Renders an ``rgb_array`` env after every reset and step, for a window and a recording.

    Args:
        env: An env made with ``render_mode="rgb_array"``.
        window: Shows each frame; closing it raises :class:`WindowClosed` from ``step``.
        keep: Keep the frames in ``self.frames`` for :func:`write_frames`.
    """

    def __init__(self, env: gym.Env, window: Window | None = None, keep: bool = False) -> None:
        super().__init__(env)
        self.window = window
        self.keep = keep
        self.frames: list[np.ndarray] = []

    def reset(self, **kwargs: Any) -> Any:
        out = self.env.reset(**kwargs)
        self._tap()
        return out

    def step(self, action: Any) -> Any:
        out = self.env.step(action)
        self._tap()
        return out

    def _tap(self) -> None:
        frame = self.env.render()
        if frame is None:
            return
        if self.keep:
            self.frames.append(np.asarray(frame))
        if self.window is not None and not self.window.show(frame):
            raise WindowClosed
