"""Graphs for the node classification env: the karate club, a contextual SBM, a user's file.

Every loader returns a :class:`Graph`, checked: node features ``x``, edges ``edge_index`` (as
PyTorch Geometric lays them out, one column per directed edge), labels ``y`` and the training
and test nodes. Bad data raises ValueError saying what is wrong, so that ``gym.make`` (and the
CLI, which exits 2) reports it clearly.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arena.arrays import weigh_npz

KARATE = ("karate", "karate4")
MAX_NODES = 10_000_000
MAX_EDGES = 200_000_000


@dataclass(frozen=True)
class Graph:
    """A graph whose nodes are to be classified, checked.

    Attributes:
        name: The graph's name, or the file's path.
        x: Node features, ``(N, F)`` float32, finite.
        edge_index: Directed edges, ``(2, E)`` int64, each in ``0 .. N - 1``; an undirected
            graph holds both directions.
        y: Labels, ``(N,)`` int64 in ``0 .. n_classes - 1``.
        train: The training nodes' indices, sorted; every class has at least one.
        test: The test nodes' indices, sorted, disjoint from ``train``.
        n_classes: How many classes there are.
    """

    name: str
    x: np.ndarray
    edge_index: np.ndarray
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray
    n_classes: int


def karate(classes: int = 2) -> Graph:
    """Zachary's karate club with one-hot node features (Kipf and Welling's setting).

    Args:
        classes: 2, the two factions after the split (networkx's ``club`` attribute), with the
            instructor (node 0) and the administrator (node 33) labelled; or 4, the four
            communities of PyTorch Geometric's ``KarateClub`` with its one labelled node each.
    """
    import networkx as nx

    graph = nx.karate_club_graph()
    n = graph.number_of_nodes()
    if classes == 2:
        y = np.array([graph.nodes[i]["club"] != "Mr. Hi" for i in range(n)], np.int64)
        train = np.array([0, 33])
        name = "karate"
    else:
        # PyG builds this dataset from data in its package: nothing is downloaded.
        from torch_geometric.datasets import KarateClub

        data = KarateClub()[0]
        y = data.y.numpy().astype(np.int64)
        train = np.flatnonzero(data.train_mask.numpy())
        name = "karate4"
    pairs = np.array(graph.edges(), np.int64).T
    edge_index = np.concatenate([pairs, pairs[::-1]], axis=1)
    test = np.setdiff1d(np.arange(n), train)
    return check_graph(name, np.eye(n, dtype=np.float32), edge_index, y, train, test)


def csbm(
    rng: np.random.Generator,
    *,
    n_classes: int = 4,
    block_size: int = 100,
    p_in: float = 0.05,
    p_out: float = 0.005,
    feature_dim: int = 16,
    mu: float = 3.0,
    labels_per_class: int = 10,
) -> Graph:
    """A contextual stochastic block model: blocks of nodes with Gaussian features.

    Each pair of nodes is joined with probability ``p_in`` within a block and ``p_out`` across
    blocks, independently. Node features are unit Gaussians around their block's mean; the
    means are ``mu`` times the first ``n_classes`` unit vectors, scaled so that any two are
    ``mu`` apart. ``labels_per_class`` random nodes of each block are the training nodes.

    Args:
        rng: The generator that draws the graph, the features and the training nodes.

    Raises:
        ValueError: An argument out of range.
    """
    _require(_whole(n_classes) and n_classes >= 2, f"n_classes must be >= 2, got {n_classes!r}")
    _require(_whole(block_size) and block_size >= 2, f"block_size must be >= 2, got {block_size!r}")
    for name, p in (("p_in", p_in), ("p_out", p_out)):
        _require(
            isinstance(p, (int, float)) and 0 <= p <= 1, f"{name} must be in [0, 1], got {p!r}"
        )
    _require(
        _whole(feature_dim) and feature_dim >= n_classes,
        f"feature_dim must be >= n_classes ({n_classes}), got {feature_dim!r}",
    )
    _require(isinstance(mu, (int, float)) and mu >= 0, f"mu must be >= 0, got {mu!r}")
    _require(
        _whole(labels_per_class) and 1 <= labels_per_class < block_size,
        f"labels_per_class must be in [1, block_size), got {labels_per_class!r}",
    )
    n = n_classes * block_size
    _require(n <= MAX_NODES, f"a CSBM of {n} nodes is over the {MAX_NODES} allowed")
    expected = n * (block_size - 1) * p_in + n * (n - block_size) * p_out
    _require(expected <= MAX_EDGES, f"a CSBM of about {expected:.0f} edges is too large")
    y = np.repeat(np.arange(n_classes), block_size)
    blocks = []
    for a in range(n_classes):
        for b in range(a, n_classes):
            blocks.append(
                _block_edges(
                    rng,
                    a * block_size,
                    b * block_size,
                    block_size,
                    a == b,
                    p_in if a == b else p_out,
                )
            )
    pairs = np.concatenate(blocks, axis=1)
    edge_index = np.concatenate([pairs, pairs[::-1]], axis=1)
    means = np.zeros((n_classes, feature_dim))
    means[np.arange(n_classes), np.arange(n_classes)] = mu / np.sqrt(2)
    x = (means[y] + rng.standard_normal((n, feature_dim))).astype(np.float32)
    train = np.concatenate(
        [
            c * block_size + rng.choice(block_size, labels_per_class, replace=False)
            for c in range(n_classes)
        ]
    )
    test = np.setdiff1d(np.arange(n), train)
    name = f"csbm({n_classes}x{block_size})"
    return check_graph(name, x, edge_index, y, np.sort(train), test)


def _block_edges(
    rng: np.random.Generator, first: int, second: int, size: int, same: bool, p: float
) -> np.ndarray:
    """The edges between two blocks of ``size`` nodes starting at ``first`` and ``second``,
    each pair joined with probability ``p``, as ``(2, k)`` pairs (each pair once).

    It draws how many of the ``size**2`` cells of the blocks' adjacency are set, then which:
    this is each cell set independently with probability ``p``, at the cost of the edges
    alone. Within a block, only the cells above the diagonal are kept.
    """
    cells = size * size
    count = rng.binomial(cells, p)
    chosen = rng.choice(cells, count, replace=False)
    rows, cols = np.divmod(chosen, size)
    if same:
        keep = rows < cols
        rows, cols = rows[keep], cols[keep]
    return np.stack([rows + first, cols + second]).astype(np.int64)


def load_npz(path: str, rng: np.random.Generator, labels_per_class: int = 20) -> Graph:
    """Reads a user's graph: ``edge_index`` (2, E), ``x`` (N, F), ``y`` (N,), and optionally
    ``train_mask`` and ``test_mask`` (N,) booleans.

    Without ``train_mask``, ``labels_per_class`` random nodes of each class are the training
    nodes; without ``test_mask``, every node that is not a training node is a test node.

    Raises:
        ValueError: A missing or unreadable file, a missing array, or data that fails
            :func:`check_graph`.
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"graph file {path!r} does not exist (or is not a file)")
    try:
        weigh_npz(file, f"graph file {path!r}")
        with np.load(file, allow_pickle=False) as arrays:
            found = {k: arrays[k] for k in arrays.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"cannot read {path!r} as an .npz file without pickles: {error}") from None
    missing = [k for k in ("edge_index", "x", "y") if k not in found]
    _require(not missing, f"{path!r} lacks the array(s) {', '.join(missing)}")
    x, edge_index, y = found["x"], found["edge_index"], found["y"]
    _require(x.ndim == 2, f"x must be (N, F), got shape {x.shape}")
    _require(x.dtype.kind in "fiub", f"x must be numbers, got {x.dtype}")
    _require(y.shape == (len(x),), f"y must be (N,) = ({len(x)},), got shape {y.shape}")
    _require(y.dtype.kind in "iu", f"y must be integer labels, got {y.dtype}")
    _require(len(y) >= 2 and y.min() >= 0, "y must hold labels >= 0 for two or more nodes")
    n = len(x)
    _require(
        int(y.max()) < n,
        f"y must hold labels 0 .. K-1 with K at most the {n} nodes, got a label {int(y.max())}",
    )
    train = _mask(found, "train_mask", n)
    if train is None:
        _require(
            _whole(labels_per_class) and labels_per_class >= 1,
            f"labels_per_class must be a whole number >= 1, got {labels_per_class!r}",
        )
        train = np.concatenate(
            [
                np.sort(rng.permutation(np.flatnonzero(y == c))[:labels_per_class])
                for c in np.unique(y)
            ]
        )
    test = _mask(found, "test_mask", n)
    if test is None:
        test = np.setdiff1d(np.arange(n), train)
    return check_graph(str(path), x, edge_index, y, np.sort(train), test)


def _mask(found: dict[str, np.ndarray], key: str, n: int) -> np.ndarray | None:
    if key not in found:
        return None
    mask = found[key]
    _require(mask.shape == (n,) and mask.dtype == bool, f"{key} must be a bool array of ({n},)")
    return np.flatnonzero(mask)


def check_graph(
    name: str,
    x: np.ndarray,
    edge_index: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
) -> Graph:
    """Checks a graph's arrays and returns them as a :class:`Graph` of the documented dtypes.

    Raises:
        ValueError: Mismatched shapes, edges out of range, non-finite features, labels that
            skip a class, overlapping or empty splits, or a class without training nodes.
    """
    _require(x.ndim == 2 and x.shape[1] >= 1, f"x must be (N, F) with F >= 1, got {x.shape}")
    n = len(x)
    _require(2 <= n <= MAX_NODES, f"the graph must have 2 to {MAX_NODES} nodes, got {n}")
    _require(y.shape == (n,), f"y must be (N,) = ({n},), got shape {y.shape}")
    _require(
        edge_index.ndim == 2 and edge_index.shape[0] == 2,
        f"edge_index must be (2, E), got shape {edge_index.shape}",
    )
    _require(edge_index.dtype.kind in "iu", f"edge_index must be integers, got {edge_index.dtype}")
    _require(edge_index.shape[1] <= MAX_EDGES, f"the graph has more than {MAX_EDGES} edges")
    if edge_index.size:
        low, high = int(edge_index.min()), int(edge_index.max())
        _require(
            low >= 0 and high < n,
            f"edge_index must name nodes 0 .. {n - 1}, got values from {low} to {high}",
        )
    x = x.astype(np.float32)
    bad = ~np.isfinite(x)
    _require(not bad.any(), f"x has {int(bad.sum())} non-finite (NaN or infinite) value(s)")
    _require(int(y.max()) < n, f"y must hold labels below the {n} nodes, got {int(y.max())}")
    n_classes = int(y.max()) + 1
    present = np.bincount(y, minlength=n_classes)
    _require(
        (present > 0).all(),
        f"labels must be 0 .. {n_classes - 1} with none missing; "
        f"class(es) {np.flatnonzero(present == 0).tolist()} have no node",
    )
    _require(
        len(train) > 0 and len(test) > 0,
        "there must be training and test nodes (a train_mask and test_mask, or labels_per_class "
        "below the size of every class)",
    )
    _require(not np.intersect1d(train, test).size, "a node cannot be both training and test")
    unlabelled = np.setdiff1d(np.arange(n_classes), y[train])
    _require(
        not unlabelled.size,
        f"class(es) {unlabelled.tolist()} have no training node: a learner could never name them",
    )
    return Graph(
        name,
        x,
        edge_index.astype(np.int64),
        y.astype(np.int64),
        train.astype(np.int64),
        test.astype(np.int64),
        n_classes,
    )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
