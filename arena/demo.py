"""``arena demo NAME``: runs a demo found through the ``arena.demos`` entry-point group.

A demo is a function ``run(stage: Stage) -> None`` that trains or loads agents and shows
``rgb_array`` frames through ``stage.show``. The stage sends each frame to a pygame window (or
SDL's dummy driver with ``--headless``) and keeps it for ``--record FILE``; the file is written
only when the demo ends, so Ctrl-C leaves nothing half-written. Closing the window, or pressing
Esc or q, ends the demo cleanly with exit status 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arena.cli_common import MAX_SEED, plural, whole_number
from arena.errors import ArenaError
from arena.recording import Window, WindowClosed, check_record_path, write_frames

DEMO_GROUP = "arena.demos"


class DemoUnavailable(Exception):
    """A demo whose agents or envs are not installed; it says so and exits 0."""


@dataclass
class Stage:
    """Where a demo shows its frames.

    Attributes:
        window: The window, or None when nothing is shown on screen.
        record: The file that ``--record`` writes at the end, or None.
        fast: Train with a smaller budget (``--fast``).
        seed: Seeds the demo's agents and envs.
        fps: Frames per second on screen and in the recording.
        frames: The frames kept for the recording.
    """

    window: Window | None
    record: Path | None
    fast: bool = False
    seed: int = 0
    fps: float = 30
    frames: list[np.ndarray] = field(default_factory=list)

    def show(self, frame: np.ndarray) -> None:
        """Shows and records one RGB frame; raises WindowClosed when the user closed the window."""
        frame = np.asarray(frame, np.uint8)
        if self.window is not None and not self.window.show(frame):
            raise WindowClosed  # The frame was never shown, so it is not recorded either.
        if self.record is not None:
            self.frames.append(frame)

    def need(self, *agents: str) -> None:
        """Raises DemoUnavailable unless every named agent is installed and loads."""
        from arena.errors import PluginError
        from arena.registry import agent_class, agent_plugins

        missing = [a for a in agents if a not in agent_plugins()]
        if missing:
            raise DemoUnavailable(
                f"This demo needs the agents {', '.join(missing)}, which are not installed yet."
            )
        for name in agents:
            try:
                agent_class(name)
            except PluginError as e:
                raise DemoUnavailable(
                    f"This demo needs {name}, whose plugin is broken: {e}"
                ) from None


def demo_names() -> dict[str, str]:
    """Every demo by name, with its distribution, without importing any."""
    from arena.registry import plugins

    return {name: p.distribution for name, p in sorted(plugins(DEMO_GROUP).items())}


def load_demo(name: str) -> Callable[[Stage], None]:
    """Loads the demo ``name``; unknown names get "did you mean" and the list."""
    from arena.errors import UnknownNameError
    from arena.registry import load_plugin, plugins

    found = plugins(DEMO_GROUP)
    if name not in found:
        raise UnknownNameError("demo", name, found)
    return load_plugin(found[name])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every demo takes."""
    parser.add_argument("--headless", action="store_true", help="no window (SDL dummy driver)")
    parser.add_argument("--record", metavar="FILE", help="save the frames to a .gif or .mp4")
    parser.add_argument("--fast", action="store_true", help="train with a smaller budget")
    parser.add_argument("--seed", type=whole_number("--seed", 0, MAX_SEED), default=0)


def run_demo(run: Callable[[Stage], None], args: argparse.Namespace, title: str) -> int:
    """Runs one demo with the parsed options; returns the exit status."""
    record = check_record_path(args.record) if args.record else None
    window = Window(f"gym-arena: {title}", headless=args.headless)
    stage = Stage(window=window, record=record, fast=args.fast, seed=args.seed)
    try:
        run(stage)
    except DemoUnavailable as e:
        print(f"{title}: {e}")
        return 0
    except WindowClosed:
        print(f"{title}: window closed.")
    finally:
        window.close()
    if record is not None and stage.frames:
        write_frames(stage.frames, record, stage.fps)
        print(f"Recorded {plural(len(stage.frames), 'frame')} to {record}")
    return 0


def main(run: Callable[[Stage], None], title: str, argv: Sequence[str] | None = None) -> int:
    """The entry of a demo script run directly: ``python demos/NAME.py [options]``."""
    parser = argparse.ArgumentParser(
        prog=title, description=(run.__doc__ or "").strip(), allow_abbrev=False
    )
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
        return run_demo(run, args, title)
    except ArenaError as e:
        print(f"{title}: error: {e}", file=sys.stderr)
        return 2
