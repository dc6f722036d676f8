"""A small fuzzer: valid manifests, mutated, must load or be refused cleanly, and import nothing.

Each example takes a real checkpoint's manifest and applies one to three mutations (replace a
value anywhere in the document, delete a key, add one) with hostile values: wrong types, huge and
negative numbers, module env ids, paths, deep nesting. Loading must then either give an agent or
raise an :class:`~arena.errors.ArenaError`; any other exception is a bug. A marker module named by
some of the values must never be imported. Bounded in examples and derandomized, so the default
suite runs the same cases in a few seconds on every machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arena
import envs  # noqa: F401  (registers arena/ ids)
from arena.checkpoint import MANIFEST, load_checkpoint, save_checkpoint
from arena.errors import ArenaError

MARKER_MODULE = "arena_fuzz_marker"
BASES = {
    "random-chain": ("random", "arena/Chain-v0"),
    "random-cartpole": ("random", "CartPole-v1"),
    "q-learning-frozenlake": ("q-learning", "FrozenLake-v1"),
    "mlp-iris": ("mlp", "arena/Iris-v0"),
    "gru-sine": ("gru", "arena/Sine-v0"),
}

HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 1e308, -1e308, 0.5, float("inf")]),
    st.text(max_size=12),
    st.sampled_from(
        [
            "this:Taxi-v4",
            f"{MARKER_MODULE}:FrozenLake-v1",
            "../../etc/passwd",
            "state-0000000000000000.safetensors",
            "float32",
            "object",
            "Box",
            "Tuple",
            "Dict",
            "torch",
            "numpy",
            "inf",
        ]
    ),
    st.lists(st.integers(min_value=-5, max_value=100_000), max_size=4),
    st.dictionaries(st.sampled_from(["type", "n", "shape", "spaces", "id", "x"]), st.integers(),
                    max_size=3),
    st.integers(min_value=50, max_value=300).map(lambda d: _nest(d)),
)  # fmt: skip


def _nest(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in the document, the root's children first."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        found.append((*prefix, key))
        if isinstance(child, (dict, list)) and child:
            found.extend(_paths(child, (*prefix, key)))
    return found


def _parent(document: Any, path: tuple) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    out = {}
    for label, (name, env_id) in BASES.items():
        env = gym.make(env_id)
        agent = arena.make_agent(name, env, seed=1, device="cpu").learn(env, 100, progress=False)
        path = save_checkpoint(agent, tmp_path_factory.mktemp(label) / "ckpt")
        load_checkpoint(path, device="cpu")  # imports the agent's modules before the fuzzing
        out[label] = (path, json.loads((path / MANIFEST).read_text()))
    return out


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_manifests_load_or_are_refused_cleanly(bases, data, tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_MEMORY_LIMIT", "1G")
    marker = tmp_path / "imported"
    (tmp_path / f"{MARKER_MODULE}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path, original = bases[data.draw(st.sampled_from(sorted(bases)), label="base")]
    manifest = json.loads(json.dumps(original))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(manifest)
        if not paths:
            break
        where = data.draw(st.sampled_from(paths), label="path")
        parent = _parent(manifest, where)
        action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
        if action == "delete" and isinstance(parent, dict):
            del parent[where[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8), label="key")] = data.draw(HOSTILE)
        else:
            parent[where[-1]] = data.draw(HOSTILE, label="value")
    text = json.dumps(manifest)  # NaN and Infinity literals included: those must be refused
    (path / MANIFEST).write_text(text)
    try:
        load_checkpoint(path, device="cpu")
    except ArenaError:
        pass
    finally:
        (path / MANIFEST).write_text(json.dumps(original))
    assert not marker.exists(), "a module named by the manifest was imported"
