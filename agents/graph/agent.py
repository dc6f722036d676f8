"""The graph agents: GCN, GAT and GraphSAGE on PyTorch Geometric, and a features-only MLP.

This module stays light (no torch import) because ``arena list`` imports it; the networks and
the learner live in :mod:`.networks`, imported when an agent is built.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from agents.graph.config import GATConfig, GraphConfig
from arena.agent import Agent
from arena.rollout import Transition
from arena.sizes import FLOAT32, adam_bytes

NEEDS = (
    "a Dict observation of a graph, x Box(N, F) float, edge_index Box(2, E) integer and mask "
    "MultiBinary(N), with a MultiDiscrete([n_classes] * N) action (arena/NodeClassification-v0)"
)


def graph_sizes(observation_space: spaces.Space, action_space: spaces.Space) -> tuple[int, ...]:
    """``(N, F, E, n_classes)`` of a node classification env's spaces.

    Raises:
        ValueError: The spaces are not those of a node classification env.
    """
    if not isinstance(observation_space, spaces.Dict) or set(observation_space.spaces) != {
        "x",
        "edge_index",
        "mask",
    }:
        raise ValueError("the observation must be a Dict of x, edge_index and mask")
    x, edges, mask = (observation_space[k] for k in ("x", "edge_index", "mask"))
    if not (isinstance(x, spaces.Box) and x.dtype.kind == "f" and len(x.shape) == 2):
        raise ValueError("x must be a float Box (N, F)")
    n, f = x.shape
    if not (
        isinstance(edges, spaces.Box)
        and edges.dtype.kind in "iu"
        and len(edges.shape) == 2
        and edges.shape[0] == 2
    ):
        raise ValueError("edge_index must be an integer Box (2, E)")
    if not (isinstance(mask, spaces.MultiBinary) and tuple(np.atleast_1d(mask.n)) == (n,)):
        raise ValueError("mask must be MultiBinary(N)")
    if not (
        isinstance(action_space, spaces.MultiDiscrete)
        and action_space.nvec.shape == (n,)
        and np.all(action_space.nvec == action_space.nvec[0])
        and action_space.nvec[0] >= 2
        and np.all(action_space.start == 0)
    ):
        raise ValueError("the action must be MultiDiscrete([n_classes] * N)")
    return n, f, edges.shape[1], int(action_space.nvec[0])


class GraphAgent(Agent):
    """A node classifier that learns from the training nodes' labels and the graph.

    It plays the node classification game in the core's loop: each step it answers every
    node from a training forward pass, and :meth:`observe` takes one Adam step on the
    cross-entropy of the nodes whose label ``info["labels"]`` reveals (one full-batch epoch).
    """

    kind: ClassVar[str] = "gcn"
    Config = GraphConfig
    presets = "presets.toml"
    uses_torch = True

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        from agents.graph.networks import GraphLearner

        _, n_features, _, n_classes = graph_sizes(observation_space, action_space)
        self.learner = GraphLearner(self, self.kind, self.config, n_features, n_classes)

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        try:
            graph_sizes(observation_space, action_space)
        except ValueError:
            raise cls.incompatible(NEEDS, observation_space) from None

    @classmethod
    def memory_needed(
        cls, config: GraphConfig, observation_space: spaces.Space, action_space: spaces.Space
    ) -> dict[str, int]:
        """The weights with Adam's copies; the graph on the device (features, edges, and the
        normalised edges with self-loops); each layer's activations, their dropout masks and
        gradients, per node and, for GAT, per edge and head."""
        n, f, e, classes = graph_sizes(observation_space, action_space)
        heads = config.heads if isinstance(config, GATConfig) else 1
        width = config.hidden_size * heads
        widths = [f] + [width] * (config.layers - 1) + [classes]
        params = sum(a * b + b + 2 * b for a, b in pairwise(widths))
        graph = n * f * FLOAT32 + 2 * (e + n) * 8 * 2 + (e + n) * FLOAT32
        per_edge = 4 * (e + n) * heads * config.layers * FLOAT32 if cls.kind == "gat" else 0
        activations = 4 * n * sum(widths) * FLOAT32 + per_edge
        what = f"network and graph (hidden_size={config.hidden_size}, layers={config.layers})"
        return {what: adam_bytes(params) + graph + activations}

    def act(self, observation: Any, explore: bool = False) -> np.ndarray:
        """Returns a class for every node of the graph."""
        return self.learner.answer(observation, explore)

    def observe(self, transition: Transition) -> None:
        self.learner.learn(transition.info)
        self.learn_info = self.learner.summary()

    def state(self) -> dict[str, Any]:
        return self.learner.state()

    def state_allowance(self) -> int:
        """Adam's moments, which its state gains at the first update."""
        from arena.torch_utils import optimizer_state_bytes

        return optimizer_state_bytes(self.learner.optimizer)

    def extra_state(self) -> dict[str, Any]:
        return self.learner.extra_state()

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.learner.load_state(arrays, extra)


class GCN(GraphAgent):
    """Graph convolutional network (Kipf and Welling, 2017): each layer averages a node's and
    its neighbours' features, symmetrically normalised by degree, then applies shared
    weights."""

    kind = "gcn"


class GAT(GraphAgent):
    """Graph attention network (Velickovic et al., 2018): each layer weighs a node's
    neighbours by learned attention, with several heads (its attention() method returns them)."""

    kind = "gat"
    Config = GATConfig

    def attention(self, observation: dict[str, Any]) -> np.ndarray:
        """The first layer's attention on each edge of ``observation["edge_index"]``, ``(E,)``,
        averaged over heads: how much each edge's target node listens to its source."""
        return self.learner.attention(observation)


class GraphSAGE(GraphAgent):
    """GraphSAGE (Hamilton et al., 2017) with mean aggregation: each layer combines a node's
    own features with the mean of its neighbours', through separate weights."""

    kind = "graphsage"


class NodeMLP(GraphAgent):
    """A multi-layer perceptron on each node's features alone: the structure-blind baseline,
    trained exactly as the graph agents are but ignoring the edges."""

    kind = "mlp"
