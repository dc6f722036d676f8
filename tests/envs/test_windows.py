"""Every env's ``human`` mode shows its ``rgb_array`` frames in the one shared window."""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar

import gymnasium as gym
import numpy as np
import pytest

import arena.window
from arena.registry import env_owners
from tests.envs.idx_data import make_or_skip

PLUGIN_IDS = sorted(env_owners())


class FakeWindow:
    """Stands in for :class:`arena.window.Window` and keeps what it is shown."""

    opened: ClassVar[list[FakeWindow]] = []

    def __init__(self, title: str, fps: float = 30, headless: bool = False) -> None:
        self.title, self.fps, self.frames, self.closes = title, fps, [], 0
        FakeWindow.opened.append(self)

    def show(self, frame: np.ndarray) -> bool:
        self.frames.append(frame.copy())
        return True

    def close(self) -> None:
        self.closes += 1


# Fashion-MNIST's window draws the same renderer as Digits' and MNIST's over 60,000 images: 15-20 s.
WINDOW_IDS = [
    pytest.param(i, marks=pytest.mark.slow) if i == "arena/FashionMNIST-v0" else i
    for i in PLUGIN_IDS
]


@pytest.mark.parametrize("env_id", WINDOW_IDS)
def test_human_mode_shows_the_rgb_array_frames_in_the_shared_window(env_id, monkeypatch):
    monkeypatch.setattr(arena.window, "Window", FakeWindow)
    FakeWindow.opened = []
    human = make_or_skip(env_id, render_mode="human")
    pictures = gym.make(env_id, render_mode="rgb_array")
    expected = []
    for env in (human, pictures):
        env.reset(seed=7)
        env.action_space.seed(7)
        if env is pictures:
            expected.append(env.render())
        for _ in range(3):
            *_, terminated, truncated, _ = env.step(env.action_space.sample())
            if env is pictures:
                expected.append(env.render())
            if terminated or truncated:
                break
    [window] = FakeWindow.opened
    assert window.fps == human.metadata["render_fps"] and window.title.startswith("arena/")
    assert len(window.frames) == len(expected)
    for shown, drawn in zip(window.frames, expected, strict=True):
        np.testing.assert_array_equal(shown, drawn)
    human.close()
    human.close()
    pictures.close()
    assert window.closes == 1


def test_a_real_headless_window_takes_each_frame_size():
    with arena.window.Window("test", fps=1000, headless=True) as window:
        assert window.show(np.zeros((20, 30, 3), np.uint8))
        assert window.show(np.zeros((40, 10, 3), np.uint8))
        assert window._screen.get_size() == (10, 40)


def test_importing_the_window_and_the_envs_does_not_import_pygame():
    code = (
        "import sys, pkgutil, importlib, envs, arena.window, arena.recording\n"
        "for m in pkgutil.walk_packages(envs.__path__, 'envs.'):\n"
        "    importlib.import_module(m.name)\n"
        "assert 'pygame' not in sys.modules, 'pygame imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
