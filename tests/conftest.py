"""Shared fixtures: run the CLI in a subprocess, and build a throwaway third-party plugin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def pytest_configure(config: pytest.Config) -> None:
    """Gives SIGINT back its Ctrl-C handler where the shell left it ignored.

    A shell without job control starts a background command (``pytest &``) with SIGINT ignored,
    and this process and the arena commands it starts would inherit that: the tests that press
    Ctrl-C would see nothing happen.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def run_arena(
    *args: str, pythonpath: Path | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Runs ``python -m arena ARGS`` and returns the finished process (text output)."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "arena", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def run_json(*args: str, **kwargs) -> dict:
    """Runs the CLI, checks it succeeded, and parses its stdout as one JSON object."""
    done = run_arena(*args, **kwargs)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


PLUGIN_MODULE = '''
"""A third-party gym-arena plugin, as another package would write it."""

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from arena.agent import Agent
from arena.callbacks import EpisodeTracker
from arena.config import require


@dataclass(frozen=True)
class CounterConfig:
    """Hyperparameters of the counter agent."""

    action: int = 0
    """The action to play until learning picks the best one."""


class CounterAgent(Agent):
    """Counts the reward of each action and plays the best one; a third-party test plugin."""

    Config = CounterConfig

    def __init__(self, observation_space, action_space, **kwargs):
        super().__init__(observation_space, action_space, **kwargs)
        self.totals = np.zeros(action_space.n)
        self.counts = np.zeros(action_space.n)

    @classmethod
    def check_spaces(cls, observation_space, action_space):
        if not isinstance(action_space, spaces.Discrete):
            raise cls.incompatible("a Discrete action space", action_space)

    def act(self, observation, explore=False):
        if explore:
            return int(self.np_random.integers(self.action_space.n))
        if self.counts.sum() == 0:
            return self.config.action
        return int(np.argmax(self.totals / np.maximum(self.counts, 1)))

    def _learn(self, env, steps, callback):
        tracker = EpisodeTracker(callback)
        env.reset(seed=self.env_seed())
        self.reset()
        for _ in range(steps):
            action = self.act(None, explore=True)
            _, reward, terminated, truncated, info = env.step(action)
            self.totals[action] += reward
            self.counts[action] += 1
            self.num_timesteps += 1
            tracker.record(self.num_timesteps, 0, reward, terminated or truncated, info)
            if terminated or truncated:
                env.reset()
                self.reset()
                if not callback.on_step(self.num_timesteps):
                    return
        callback.on_step(self.num_timesteps)

    def state(self):
        return {"totals": self.totals, "counts": self.counts}

    def load_state(self, arrays, extra):
        self.totals = arrays["totals"]
        self.counts = arrays["counts"]


class BanditEnv(gym.Env):
    """Three arms; arm 2 pays 1, the others 0. Episodes last 10 pulls."""

    metadata = {"render_modes": []}

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Discrete(1)
        self.action_space = spaces.Discrete(3)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return 0, {}

    def step(self, action):
        self.t += 1
        reward = float(action == 2)
        return 0, reward, self.t >= 10, False, {"metrics": {"hit": reward}}


def register():
    if "thirdparty/Bandit-v0" not in gym.registry:
        gym.register("thirdparty/Bandit-v0", entry_point="arena_counter_plugin:BanditEnv")
'''

BROKEN_MODULE = """
import a_module_that_does_not_exist  # noqa: F401
"""


def write_distribution(
    root: Path, name: str, version: str, modules: dict, entry_points: str
) -> Path:
    """Writes an installed-looking distribution (modules + .dist-info) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    return root


@pytest.fixture(scope="session")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a working third-party plugin distribution, ``arena-counter-plugin``."""
    return write_distribution(
        tmp_path_factory.mktemp("site"),
        "arena-counter-plugin",
        "0.3.1",
        {"arena_counter_plugin": PLUGIN_MODULE},
        """
        [arena.agents]
        counter = arena_counter_plugin:CounterAgent

        [arena.envs]
        counter-envs = arena_counter_plugin:register
        """,
    )


@pytest.fixture(scope="session")
def broken_plugin_path(plugin_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working plugin plus ``arena-broken-plugin``, whose modules fail to import."""
    root = tmp_path_factory.mktemp("broken-site")
    for item in plugin_path.iterdir():
        target = root / item.name
        if item.is_dir():
            target.mkdir()
            for f in item.iterdir():
                (target / f.name).write_text(f.read_text())
        else:
            target.write_text(item.read_text())
    return write_distribution(
        root,
        "arena-broken-plugin",
        "9.9",
        {"arena_broken_plugin": BROKEN_MODULE},
        """
        [arena.agents]
        broken = arena_broken_plugin:Agent

        [arena.envs]
        broken-envs = arena_broken_plugin:register
        """,
    )
