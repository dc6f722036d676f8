"""Tests of arena/NodeClassification-v0 and its preset ids (the karate club, the CSBM)."""

from __future__ import annotations

import math
import re

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from arena.registry import evaluation_kwargs
from envs.graphs.env import NodeClassificationEnv
from tests.conftest import run_arena


def play(env, answer=None, seed=0):
    """Plays one episode; returns the infos, the return and the step count."""
    observation, _ = env.reset(seed=seed)
    infos, total, steps = [], 0.0, 0
    done = False
    while not done:
        action = answer(observation) if answer is not None else env.action_space.sample()
        observation, reward, terminated, truncated, info = env.step(action)
        infos.append(info)
        total += reward
        steps += 1
        done = terminated or truncated
    return infos, total, steps


def test_documented_info_keys_are_returned():
    doc = NodeClassificationEnv.__doc__.split("## Info")[1].split("## Version History")[0]
    assert set(re.findall(r"^\s*- ``(\w+)``", doc, re.MULTILINE)) == {"labels", "metrics"}
    env = gym.make("arena/CSBM-v0", batch_size=64)
    _, reset_info = env.reset(seed=0)
    assert reset_info == {"size": 40, "n_train": 40}
    infos, _, _ = play(env)
    assert all(set(info) == {"labels"} for info in infos[:-1])
    assert set(infos[-1]) == {"labels", "metrics"}
    assert set(infos[-1]["metrics"]) == {"accuracy", "train_accuracy"}


def test_karate_club_has_its_factions_and_two_labelled_nodes():
    env = gym.make("arena/KarateClub-v0").unwrapped
    graph = env.graph
    assert graph.x.shape == (34, 34) and graph.edge_index.shape == (2, 156)
    assert graph.train.tolist() == [0, 33] and len(graph.test) == 32
    assert graph.y[0] != graph.y[33] and graph.n_classes == 2
    four = gym.make("arena/KarateClub-v0", graph="karate4").unwrapped.graph
    assert four.n_classes == 4 and len(four.train) == 4 and len(four.test) == 30
    assert sorted(four.y[four.train].tolist()) == [0, 1, 2, 3]


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("batch_size", [None, 7])
def test_the_env_never_reveals_a_test_nodes_label(split, batch_size):
    env = gym.make("arena/CSBM-v0", split=split, batch_size=batch_size)
    graph = env.unwrapped.graph
    for seed in range(3):
        infos, _, _ = play(env, seed=seed)
        for info in infos:
            labels = info["labels"]
            assert (labels[graph.test] == -1).all()
            assert (labels[graph.train] == graph.y[graph.train]).all()


@pytest.mark.parametrize("batch_size", [None, 1, 7, 1000])
def test_an_episode_asks_every_node_of_the_split_once(batch_size):
    env = gym.make("arena/CSBM-v0", split="test", batch_size=batch_size)
    inner = env.unwrapped
    asked = []

    def answer(observation):
        asked.extend(np.flatnonzero(observation["mask"]).tolist())
        return inner.graph.y.copy()

    infos, total, steps = play(env, answer)
    assert sorted(asked) == inner.graph.test.tolist()
    assert total == inner.size == 360
    assert steps == math.ceil(360 / min(batch_size or 360, 360))
    assert infos[-1]["metrics"] == {"accuracy": 1.0, "train_accuracy": 1.0}


def test_wrong_answers_score_nothing_and_accuracy_is_of_the_split():
    env = gym.make("arena/KarateClub-v0", split="test")
    y = env.unwrapped.graph.y
    infos, total, _ = play(env, lambda _: 1 - y)
    assert total == 0 and infos[-1]["metrics"] == {"accuracy": 0.0, "train_accuracy": 0.0}


def test_evaluation_plays_the_test_nodes():
    assert evaluation_kwargs("arena/KarateClub-v0") == {"split": "test"}
    train = gym.make("arena/CSBM-v0").unwrapped
    test = gym.make("arena/CSBM-v0", split="test").unwrapped
    assert train.observation_space == test.observation_space
    assert train.action_space == test.action_space


def test_csbm_same_seed_same_graph_other_seed_other_graph():
    first = gym.make("arena/CSBM-v0", data_seed=3).unwrapped.graph
    again = gym.make("arena/CSBM-v0", data_seed=3).unwrapped.graph
    other = gym.make("arena/CSBM-v0", data_seed=4).unwrapped.graph
    for name in ("x", "edge_index", "y", "train", "test"):
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.x, other.x)


def test_csbm_edge_counts_match_p_in_and_p_out():
    blocks, size, p_in, p_out = 4, 300, 0.04, 0.004
    graph = gym.make(
        "arena/CSBM-v0", n_classes=blocks, block_size=size, p_in=p_in, p_out=p_out
    ).unwrapped.graph
    source, target = graph.edge_index
    assert not (source == target).any()
    pairs = {(a, b) for a, b in zip(source.tolist(), target.tolist(), strict=True)}
    assert len(pairs) == len(source) and all((b, a) in pairs for a, b in pairs)
    upper = source < target
    same = graph.y[source[upper]] == graph.y[target[upper]]
    for count, cells, p in (
        (same.sum(), blocks * size * (size - 1) / 2, p_in),
        ((~same).sum(), blocks * (blocks - 1) / 2 * size * size, p_out),
    ):
        expected, sigma = cells * p, math.sqrt(cells * p * (1 - p))
        assert abs(count - expected) < 4 * sigma, (count, expected, sigma)
    # Features: unit Gaussians around means mu apart.
    means = np.stack([graph.x[graph.y == c].mean(axis=0) for c in range(blocks)])
    assert np.linalg.norm(means[0] - means[1]) == pytest.approx(3.0, abs=0.3)
    assert graph.x[graph.y == 0].std(axis=0).mean() == pytest.approx(1.0, abs=0.1)


def _write(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def _good():
    edge_index = np.array([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    return {"edge_index": edge_index, "x": x, "y": np.array([0, 0, 1, 1])}


def test_user_npz_graph_with_and_without_masks(tmp_path):
    path = _write(tmp_path / "g.npz", **_good())
    env = gym.make("arena/NodeClassification-v0", graph=path, labels_per_class=1)
    graph = env.unwrapped.graph
    assert len(graph.train) == 2 and len(graph.test) == 2
    assert sorted(graph.y[graph.train].tolist()) == [0, 1]
    masks = {"train_mask": np.array([1, 0, 0, 1], bool), "test_mask": np.array([0, 1, 0, 0], bool)}
    path = _write(tmp_path / "m.npz", **_good(), **masks)
    graph = gym.make("arena/NodeClassification-v0", graph=path).unwrapped.graph
    assert graph.train.tolist() == [0, 3] and graph.test.tolist() == [1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"edge_index": np.array([[0, 1], [1, 4]])}, "edge_index must name nodes 0 .. 3"),
        ({"edge_index": np.array([[0, -1], [1, 2]])}, "edge_index must name nodes 0 .. 3"),
        ({"edge_index": np.array([0, 1, 1, 0])}, "edge_index must be (2, E)"),
        ({"x": np.zeros((3, 2), np.float32)}, "y must be (N,) = (3,)"),
        ({"x": np.array([[0, 1], [np.nan, 2], [3, 4], [5, 6]])}, "non-finite"),
        ({"y": np.array([0.0, 0.0, 1.0, 1.0])}, "y must be integer labels"),
        ({"train_mask": np.array([1, 1, 0, 0], bool)}, "class(es) [1] have no training node"),
        ({"train_mask": np.array([1, 1], bool)}, "train_mask must be a bool array of (4,)"),
    ],
)
def test_bad_graphs_get_clear_errors(tmp_path, change, message):
    path = _write(tmp_path / "bad.npz", **{**_good(), **change})
    with pytest.raises(ValueError, match=re.escape(message)):
        gym.make("arena/NodeClassification-v0", graph=path)


def test_bad_files_and_arguments_get_clear_errors(tmp_path):
    (tmp_path / "junk.npz").write_text("not a zip")
    cases = [
        ({"graph": str(tmp_path / "none.npz")}, "does not exist"),
        ({"graph": str(tmp_path / "junk.npz")}, "cannot read"),
        ({"graph": "cora"}, "graph must be one of"),
        ({"graph": "csbm", "p_in": 2.0}, "p_in must be in [0, 1]"),
        ({"graph": "csbm", "feature_dim": 2}, "feature_dim must be >= n_classes"),
        ({"split": "val"}, "split must be"),
        ({"batch_size": 0}, "batch_size must be None"),
        ({"graph": "karate", "mu": 1.0}, "graph 'karate' does not use mu: the CSBM's arguments"),
        ({"labels_per_class": 3, "n_classes": 2}, "does not use n_classes, labels_per_class"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            gym.make("arena/NodeClassification-v0", **kwargs)
    np.savez(tmp_path / "pickled.npz", x=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="cannot read"):
        gym.make("arena/NodeClassification-v0", graph=str(tmp_path / "pickled.npz"))


def test_a_bad_graph_exits_2_from_the_cli(tmp_path):
    path = _write(tmp_path / "bad.npz", **{**_good(), "edge_index": np.array([[0], [9]])})
    done = run_arena(
        "evaluate",
        "random",
        "arena/NodeClassification-v0",
        "--env-kwargs",
        f"graph={path!r}",
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "edge_index must name nodes 0 .. 3" in done.stderr


def test_bad_actions_are_refused():
    env = gym.make("arena/KarateClub-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="34 integer classes"):
        env.step(np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="classes in"):
        env.step(np.full(34, 2))


def test_rgb_array_rendering_colours_by_prediction():
    env = gym.make("arena/KarateClub-v0", split="test", render_mode="rgb_array")
    env.reset(seed=0)
    before = env.render()
    env.step(np.zeros(34, np.int64))
    after = env.render()
    assert before.shape == after.shape and before.dtype == np.uint8 and before.shape[2] == 3
    assert not np.array_equal(before, after)
    env.close()
    env.close()


@pytest.mark.parametrize(
    ("y", "kwargs", "message"),
    [
        ([0, 10**9] * 5, {}, "K at most the 10 nodes, got a label 1000000000"),
        ([0, 1] * 5, {"labels_per_class": -3}, "labels_per_class must be a whole number >= 1"),
        ([0, 1] * 5, {"labels_per_class": 20}, "or labels_per_class below the size of every"),
    ],
)
def test_a_user_graphs_labels_are_checked_before_allocating(tmp_path, y, kwargs, message):
    from envs.graphs.data import load_npz

    path = tmp_path / "g.npz"
    edges = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    np.savez(path, x=np.ones((10, 4)), edge_index=edges, y=np.array(y))
    with pytest.raises(ValueError, match=message):
        load_npz(str(path), np.random.default_rng(0), **kwargs)
