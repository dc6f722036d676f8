"""Recordings and windows: --record writes a readable file; bad paths get clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from arena.errors import ArenaError
from arena.recording import Window, check_record_path, write_frames
from tests.conftest import run_arena


def test_evaluate_record_writes_a_readable_gif(tmp_path):
    gif = tmp_path / "cartpole.gif"
    done = run_arena(
        "evaluate", "random", "CartPole-v1", "--episodes", "2", "--record", str(gif), "--json"
    )
    assert done.returncode == 0, done.stderr
    with Image.open(gif) as image:
        assert image.size == (600, 400)
        assert image.n_frames > 10
        first = np.asarray(image.convert("RGB"))
        image.seek(image.n_frames - 1)
        last = np.asarray(image.convert("RGB"))
    assert first.std() > 0  # Not blank.
    assert not np.array_equal(first, last)  # It moves.


def test_write_frames_is_atomic_and_checks_paths(tmp_path):
    frames = [np.full((8, 8, 3), i * 20, np.uint8) for i in range(5)]
    out = write_frames(frames, tmp_path / "a.gif", fps=10)
    assert Image.open(out).n_frames == 5
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]
    with pytest.raises(ArenaError, match=r"writes \.gif or \.mp4"):
        check_record_path(tmp_path / "a.avi")
    with pytest.raises(ArenaError, match="does not exist"):
        check_record_path(tmp_path / "missing" / "a.gif")
    with pytest.raises(ArenaError, match="no frames"):
        write_frames([], tmp_path / "b.gif")


def test_bad_record_path_exits_2(tmp_path):
    done = run_arena("evaluate", "random", "CartPole-v1", "--record", str(tmp_path / "x.avi"))
    assert done.returncode == 2 and "writes .gif or .mp4" in done.stderr


def test_headless_window_shows_frames_and_closes_twice():
    window = Window("test", fps=1000, headless=True)
    assert window.show(np.zeros((20, 30, 3), np.uint8))
    window.close()
    window.close()
    assert not window.show(np.zeros((20, 30, 3), np.uint8))


@pytest.mark.parametrize("key", ["quit", "escape", "q"])
def test_closing_the_window_or_pressing_esc_or_q_asks_to_stop(key):
    import pygame

    window = Window("test", fps=1000, headless=True)
    frame = np.zeros((20, 30, 3), np.uint8)
    assert window.show(frame)
    if key == "quit":
        event = pygame.event.Event(pygame.QUIT)
    else:
        code = pygame.K_ESCAPE if key == "escape" else pygame.K_q
        event = pygame.event.Event(pygame.KEYDOWN, key=code)
    pygame.event.post(event)
    assert not window.show(frame)
    assert window.closed
    window.close()
