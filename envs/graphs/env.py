"""Node classification as a game: label a graph's nodes, learning from a few labelled ones."""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.graphs.data import KARATE, Graph, csbm, karate, load_npz

SPLITS = ("train", "test")
GRAPHS = (*KARATE, "csbm")


class NodeClassificationEnv(gym.Env):
    """Label the nodes of a graph, given its structure and the labels of a few training nodes.

    The transductive, semi-supervised game of Kipf and Welling: the whole graph is always in
    view (every node's features, every edge), and each step asks for a class for the nodes of
    a batch. The reward counts the right ones. After each step ``info["labels"]`` reveals the
    true classes of the *training* nodes only, so a learner learns from them and from the
    graph's structure. The split played decides which nodes are asked and scored: training
    plays ``split="train"`` and evaluation (``metadata["evaluation_kwargs"]``) plays
    ``split="test"``, the nodes whose labels are never revealed.

    With ``batch_size=None`` (the default) one step asks for every node of the split at once,
    so one step is one full-batch epoch of a GCN and "200 epochs" is 200 env steps.

    The graph is fixed by the env's arguments (``data_seed`` for a generated one), not by the
    reset's seed: the reset's seed only orders the batches.

    ## Action Space
    ``MultiDiscrete([n_classes] * N)``: a class for every node of the graph; only the nodes
    asked this step (``observation["mask"]``) are scored. The same space in both splits, so an
    agent trained on one plays the other.

    ## Observation Space
    A ``Dict`` of arrays, PyTorch Geometric's layout (Gymnasium's ``Graph`` space is not used:
    its samples vary in size, and neither arena's checkpoints nor SB3 can hold it; a ``Dict``
    of fixed arrays can, and the graph does not change within an env):
    - ``x``: ``Box(low, high, (N, F), float32)``, the node features (the same every step);
    - ``edge_index``: ``Box(0, N - 1, (2, E), int64)``, one column per directed edge (an
      undirected graph holds both directions);
    - ``mask``: ``MultiBinary(N)``, 1 for the nodes asked this step; all zeros after the last
      step.

    ## Rewards
    The number of asked nodes labelled right, so an episode's return is the number of the
    split's nodes labelled right.

    ## Episode End
    Termination: every node of the split has been asked once, after ``ceil(size / B)`` steps
    (one step with ``batch_size=None``). No truncation.

    ## Arguments
    - ``graph`` (str, default "karate"): ``karate`` (Zachary's karate club, its two factions,
      nodes 0 and 33 labelled), ``karate4`` (its four communities as in PyTorch Geometric's
      ``KarateClub``, one labelled node each), ``csbm`` (a contextual stochastic block model),
      or a path to a ``.npz`` file with ``edge_index`` (2, E), ``x`` (N, F), ``y`` (N,) and
      optionally ``train_mask`` and ``test_mask`` (N,) booleans.
    - ``split`` ("train" or "test", default "train"): the nodes to ask and score.
    - ``batch_size`` (int or None, default None): nodes asked per step; None asks them all.
    - ``data_seed`` (int, default 0): seeds the CSBM, and the training nodes of a file without
      ``train_mask``.
    - ``n_classes`` (4), ``block_size`` (100), ``p_in`` (0.05), ``p_out`` (0.005),
      ``feature_dim`` (16), ``mu`` (3.0), ``labels_per_class`` (10): the CSBM's blocks, edge
      probabilities within and across blocks, feature size, the distance between class means
      (unit Gaussian noise), and training labels per class (also used for a file without
      ``train_mask``, default 20 there).
    - ``render_mode`` (None, "human" or "rgb_array"): the graph, nodes filled with the
      predicted class and ringed with the true class, in a layout computed once.

    A missing file, wrong shapes, edges out of range, NaNs, a class without training labels, a
    bad argument or one the chosen graph does not use (``mu`` for the karate club) raise
    ValueError.

    ## Info
    ``reset`` returns ``size`` (the number of nodes in the split) and ``n_train`` (the number
    of training nodes). ``step`` returns:
    - ``labels``: int64 array ``(N,)``, the true class of each training node and -1 for every
      other node (test nodes' labels are never revealed, in either split).
    - ``metrics``: on the final step only, ``{"accuracy": right answers / size}`` for the
      split played, and ``train_accuracy``, the last answers' accuracy on the training nodes.

    ## Version History
    - v0: the first version.
    """

    metadata = {
        "render_modes": ["human", "rgb_array"],
        "render_fps": 4,
        "evaluation_kwargs": {"split": "test"},
        "sb3_unsupported": "its node features are a 2-D (N, F) array, which SB3's policies do not "
        "take (SB3's checker warns of an unconventional shape)",
    }

    def __init__(
        self,
        graph: str = "karate",
        split: str = "train",
        batch_size: int | None = None,
        data_seed: int = 0,
        n_classes: int = 4,
        block_size: int = 100,
        p_in: float = 0.05,
        p_out: float = 0.005,
        feature_dim: int = 16,
        mu: float = 3.0,
        labels_per_class: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if batch_size is not None and (
            not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1
        ):
            raise ValueError(f"batch_size must be None or an integer >= 1, got {batch_size!r}")
        if not isinstance(data_seed, int) or isinstance(data_seed, bool) or data_seed < 0:
            raise ValueError(f"data_seed must be an integer >= 0, got {data_seed!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        csbm_args = {
            "n_classes": n_classes,
            "block_size": block_size,
            "p_in": p_in,
            "p_out": p_out,
            "feature_dim": feature_dim,
            "mu": mu,
        }
        _check_graph_args(graph, csbm_args, labels_per_class)
        rng = np.random.default_rng(data_seed)
        if graph in KARATE:
            data = karate(2 if graph == "karate" else 4)
        elif graph == "csbm":
            data = csbm(
                rng,
                n_classes=n_classes,
                block_size=block_size,
                p_in=p_in,
                p_out=p_out,
                feature_dim=feature_dim,
                mu=mu,
                labels_per_class=10 if labels_per_class is None else labels_per_class,
            )
        elif isinstance(graph, str) and graph.endswith(".npz"):
            data = load_npz(graph, rng, 20 if labels_per_class is None else labels_per_class)
        else:
            raise ValueError(
                f"graph must be one of {', '.join(GRAPHS)} or an .npz path, got {graph!r}"
            )
        self.graph: Graph = data
        self.split = split
        self.render_mode = render_mode
        self.n_nodes = len(data.y)
        self.n_classes = data.n_classes
        self.nodes = data.train if split == "train" else data.test
        """The split's nodes, the ones asked and scored."""
        self.size = len(self.nodes)
        self.batch_size = self.size if batch_size is None else min(batch_size, self.size)
        self.revealed = np.full(self.n_nodes, -1, np.int64)
        self.revealed[data.train] = data.y[data.train]
        low = float(np.floor(data.x.min()))
        high = max(float(np.ceil(data.x.max())), low + 1.0)
        self.observation_space = spaces.Dict(
            {
                "x": spaces.Box(low, high, data.x.shape, np.float32),
                "edge_index": spaces.Box(0, self.n_nodes - 1, data.edge_index.shape, np.int64),
                "mask": spaces.MultiBinary(self.n_nodes),
            }
        )
        self.action_space = spaces.MultiDiscrete([self.n_classes] * self.n_nodes)
        self._order = self.nodes
        self._position = self.size
        self._correct = 0
        self.predictions: np.ndarray | None = None
        """The last answers, a class per node, or None before the first step (for rendering)."""
        self.edge_weights: np.ndarray | None = None
        """A weight in [0, 1] per edge of ``edge_index`` (an agent's attention, say) that the
        renderer draws as the edge's width and darkness; None draws every edge alike."""
        self._renderer = None
        self._window = None

    def _observation(self) -> dict[str, np.ndarray]:
        mask = np.zeros(self.n_nodes, np.int8)
        mask[self._order[self._position : self._position + self.batch_size]] = 1
        # Copies, as Gymnasium asks: a caller may keep or change what it is given.
        return {"x": self.graph.x.copy(), "edge_index": self.graph.edge_index.copy(), "mask": mask}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if self.batch_size < self.size:
            self._order = self.np_random.permutation(self.nodes)
        self._position = 0
        self._correct = 0
        self.predictions = None
        if self.render_mode == "human":
            self.render()
        return self._observation(), {"size": self.size, "n_train": len(self.graph.train)}

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._position >= self.size:
            raise RuntimeError("The episode has ended (or never started); call reset() first.")
        predictions = np.asarray(action)
        if predictions.shape != (self.n_nodes,) or predictions.dtype.kind not in "iu":
            raise ValueError(f"action must be {self.n_nodes} integer classes, one per node")
        if predictions.min() < 0 or predictions.max() >= self.n_classes:
            raise ValueError(f"actions must be classes in [0, {self.n_classes})")
        asked = self._order[self._position : self._position + self.batch_size]
        right = int(np.count_nonzero(predictions[asked] == self.graph.y[asked]))
        self._correct += right
        self._position += self.batch_size
        self.predictions = predictions.astype(np.int64)
        info: dict[str, Any] = {"labels": self.revealed.copy()}
        terminated = self._position >= self.size
        if terminated:
            train = self.graph.train
            info["metrics"] = {
                "accuracy": self._correct / self.size,
                "train_accuracy": float(np.mean(predictions[train] == self.graph.y[train])),
            }
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(right), terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs a render_mode: make the env with render_mode set.")
            return None
        from envs.graphs.render import GraphRenderer

        if self._renderer is None:
            self._renderer = GraphRenderer(self)
        frame = self._renderer.frame()
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            from arena.window import Window

            caption = f"arena/NodeClassification-v0: {self.graph.name}"
            self._window = Window(caption, self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None


def _check_graph_args(graph: Any, csbm_args: dict[str, Any], labels_per_class: Any) -> None:
    """Refuses the CSBM's own arguments for another graph, which would otherwise be ignored.

    Raises:
        ValueError: An argument other than its default that the chosen graph does not use.
    """
    if graph == "csbm":
        return
    defaults = inspect.signature(NodeClassificationEnv.__init__).parameters
    unused = [name for name, value in csbm_args.items() if value != defaults[name].default]
    if graph in KARATE and labels_per_class is not None:
        unused.append("labels_per_class")  # the karate club has one labelled node a class
    if unused:
        pronoun = "it" if len(unused) == 1 else "them"
        raise ValueError(
            f"graph {graph!r} does not use {', '.join(unused)}: the CSBM's arguments "
            f"(labels_per_class also serves .npz files); leave {pronoun} out, or pass "
            "graph='csbm'"
        )
