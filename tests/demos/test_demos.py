"""Every demo runs headless with --fast --record; its frames are real, moving and sized."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from arena.demo import demo_names
from tests.conftest import run_arena

HEAVY = {"gan", "cgan", "infogan"}
"""Demos whose --fast run trains generative models for 15-40 s: in the slow suite."""


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name
        for name in sorted(demo_names())
    ],
)
def test_demo_records_moving_frames(name, tmp_path):
    gif = tmp_path / f"{name}.gif"
    done = run_arena("demo", name, "--headless", "--fast", "--record", str(gif), timeout=600)
    assert done.returncode == 0, done.stderr
    if "not installed yet" in done.stdout:
        pytest.skip(done.stdout.strip())
    assert "Traceback" not in done.stderr
    with Image.open(gif) as image:
        size = image.size
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB"), np.float32))
    assert size[0] >= 300 and size[1] >= 200
    assert len(frames) >= 3
    assert all(f.std() > 5 for f in frames)  # Not blank.
    assert np.abs(frames[0] - frames[-1]).mean() > 0.5  # Changing over time.


def test_demo_list_and_unknown_name():
    listing = run_arena("demo", "--list")
    assert listing.returncode == 0
    assert "frozenlake" in listing.stdout
    done = run_arena("demo", "frozenlak")
    assert done.returncode == 2
    assert "Did you mean 'frozenlake'?" in done.stderr and "Known demos:" in done.stderr


def test_closing_the_window_ends_a_demo_cleanly_and_keeps_its_recording(tmp_path):
    import argparse

    import pygame

    from arena.demo import run_demo

    def demo(stage):
        for shade in (40, 120, 200):
            stage.show(np.full((40, 60, 3), shade, np.uint8))
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        stage.show(np.zeros((40, 60, 3), np.uint8))
        raise AssertionError("the demo went on after the window was closed")

    gif = tmp_path / "closed.gif"
    args = argparse.Namespace(headless=True, record=str(gif), fast=True, seed=0)
    assert run_demo(demo, args, "closing") == 0
    with Image.open(gif) as image:
        assert image.n_frames == 3
