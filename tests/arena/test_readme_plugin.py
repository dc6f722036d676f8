"""The README's example plugin, as written there: installed from a folder, trained, evaluated."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from tests.conftest import run_arena, run_json

README = Path(__file__).resolve().parents[2] / "README.md"

ENVS_MODULE = '''
"""my_package.envs, which the README names but does not show: a one-step game paying the action."""

import gymnasium as gym
from gymnasium import spaces


class PayTheAction(gym.Env):
    observation_space = spaces.Discrete(1)
    action_space = spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 0, float(action), True, False, {}


def register():
    gym.register("my/Env-v0", entry_point=PayTheAction)
'''


def readme_blocks(section: str) -> dict[str, str]:
    """The first ```toml and ```python blocks of the README section titled ``section``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else len(text)]
    blocks = {}
    for language in ("toml", "python"):
        match = re.search(rf"```{language}\n(.*?)```", body, re.DOTALL)
        assert match, f"README section {section!r} has no {language} block"
        blocks[language] = match.group(1)
    return blocks


@pytest.fixture(scope="module")
def readme_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's plugin as an installed-looking distribution, ``my-package`` 1.0."""
    blocks = readme_blocks("Write your own agent or env")
    root = tmp_path_factory.mktemp("readme-site")
    package = root / "my_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "agents.py").write_text(blocks["python"])  # as written, not dedented or edited
    (package / "envs.py").write_text(textwrap.dedent(ENVS_MODULE))
    entry_points = tomllib.loads(blocks["toml"])["project"]["entry-points"]
    info = root / "my_package-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-package\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in points.items())
            for group, points in entry_points.items()
        )
    )
    return root


def test_readme_plugin_is_listed(readme_plugin):
    done = run_arena("list", pythonpath=readme_plugin)
    assert done.returncode == 0, done.stderr
    assert re.search(r"counter\s+my-package 1\.0", done.stdout)
    assert "BROKEN" not in done.stdout
    info = run_arena("info", "counter", pythonpath=readme_plugin)
    assert "The action to play before anything is learned" in info.stdout


def test_readme_plugin_plays_its_configured_action_then_learns(readme_plugin, tmp_path):
    def mean_return(*args: str) -> float:
        report = run_json("evaluate", *args, "--episodes", "3", "--json", pythonpath=readme_plugin)
        return report["mean_return"]

    # Untrained, it plays `action`: 0 by default, 1 with --set action=1 (the game pays the action).
    assert mean_return("counter", "my/Env-v0") == 0.0
    assert mean_return("counter", "my/Env-v0", "--set", "action=1") == 1.0
    run = tmp_path / "c"
    train = ("train", "counter", "my/Env-v0", "--steps", "300", "--out", str(run))
    done = run_arena(*train, "--set", "action=1", pythonpath=readme_plugin)
    assert done.returncode == 0, done.stderr
    assert mean_return("--checkpoint", str(run)) == 2.0  # learned: action 2 pays most
