"""The package layout: one subpackage per family, light configs, no import cycles.

A family's ``config`` module is what ``arena list`` and ``arena info`` read, so it must not
import torch; a family's modules import one another one way only (agent -> networks -> config),
even through lazy imports, and an agent never imports an env module: it reads what it needs
from the spaces.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agents", "envs")
FAMILIES = sorted(p.parent.name for p in (ROOT / "agents").glob("*/config.py"))


def module_name(path: Path) -> str:
    """``agents/dqn/agent.py`` -> ``agents.dqn.agent``; a package's ``__init__`` -> the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module under the built-in packages, by dotted name."""
    return {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def is_type_checking(node: ast.If) -> bool:
    """Whether an ``if`` is ``if TYPE_CHECKING:``, whose imports never run."""
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imported(node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> set[str]:
    """The built-in modules an import statement names (a submodule counts as itself)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.level or node.module is None:
        raise AssertionError(f"relative import at line {node.lineno}: write it absolute")
    found = {node.module} if node.module in known else set()
    found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known}
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every built-in module a module imports anywhere, lazily or not (type hints aside)."""
    tree = ast.parse(path.read_text())
    hidden = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and is_type_checking(node)
        for inner in ast.walk(node)
    }
    return {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in hidden
        for name in imported(node, known)
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in a directed graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_family_is_a_package_with_a_config():
    assert FAMILIES == [
        "autoencoder",
        "dqn",
        "generative",
        "graph",
        "sb3",
        "sequence",
        "supervised",
        "tabular",
    ]
    flat = [p.name for p in (ROOT / "agents").glob("*.py") if p.name != "__init__.py"]
    assert flat == [], f"agents/ holds modules outside a family package: {flat}"


def test_no_import_cycle_even_through_lazy_imports():
    # A lazy import inside a method still closes a cycle (agent -> networks -> agent) as soon
    # as it runs; only imports under ``if TYPE_CHECKING:`` are left out.
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_agent_imports_an_env_module():
    known = modules()
    offenders = {
        name: sorted(n for n in imports(path, known) if n.split(".")[0] == "envs")
        for name, path in known.items()
        if name.startswith("agents")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_config_modules_import_no_torch():
    # One fresh interpreter for all families: each config is checked right after its import.
    code = (
        "import importlib, sys\n"
        f"for family in {FAMILIES!r}:\n"
        "    importlib.import_module(f'agents.{family}.config')\n"
        "    assert 'torch' not in sys.modules, f'agents.{family}.config imports torch'\n"
        "    assert 'numba' not in sys.modules, f'agents.{family}.config imports numba'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("source", ["import agents.x.y", "from agents.x import y"])
def test_imports_of_submodules_are_seen(tmp_path, source):
    module = tmp_path / "m.py"
    module.write_text(source + "\n")
    known = {"agents.x": Path(), "agents.x.y": Path()}
    assert "agents.x.y" in imports(module, known)
