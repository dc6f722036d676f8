"""The torch side of the graph agents: the networks on PyTorch Geometric, and the learner.

Imported only when an agent is built, so that ``arena list`` stays free of torch and of
torch_geometric.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv, GCNConv, SAGEConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from agents.graph.config import GATConfig, GraphConfig
from arena.torch_utils import load_optimizer_state, optimizer_state, resolve_device

if TYPE_CHECKING:
    from arena.agent import Agent

KINDS = ("gcn", "gat", "graphsage", "mlp")


class GraphNet(nn.Module):
    """A stack of ``layers`` graph layers: dropout, then the layer, then an activation (ReLU,
    or ELU for GAT) between layers.

    Args:
        kind: ``gcn`` (GCNConv on a precomputed symmetric normalisation), ``gat`` (GATConv,
            ``heads`` concatenated heads per hidden layer, one averaged head at the output),
            ``graphsage`` (SAGEConv, mean aggregation) or ``mlp`` (Linear: the edges unused).
        in_size: Node features.
        n_classes: Classes, the output size.
        config: Widths, depth and dropout.
    """

    def __init__(self, kind: str, in_size: int, n_classes: int, config: GraphConfig) -> None:
        super().__init__()
        self.kind = kind
        self.dropout = config.dropout
        heads = config.heads if isinstance(config, GATConfig) else 1
        widths = [in_size] + [config.hidden_size * heads] * (config.layers - 1) + [n_classes]
        self.convs = nn.ModuleList()
        for index, (a, b) in enumerate(pairwise(widths)):
            last = index == config.layers - 1
            if kind == "gcn":
                layer = GCNConv(a, b, normalize=False)
            elif kind == "gat":
                out, count = (b, 1) if last else (config.hidden_size, heads)
                layer = GATConv(a, out, heads=count, concat=not last, dropout=config.dropout)
            elif kind == "graphsage":
                layer = SAGEConv(a, b, aggr="mean")
            else:
                layer = nn.Linear(a, b)
            self.convs.append(layer)
        self.activation = F.elu if kind == "gat" else F.relu

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor | None
    ) -> torch.Tensor:
        """The class scores of every node, ``(N, n_classes)``."""
        for index, layer in enumerate(self.convs):
            x = F.dropout(x, self.dropout, self.training)
            if self.kind == "gcn":
                x = layer(x, edge_index, edge_weight)
            elif self.kind == "mlp":
                x = layer(x)
            else:
                x = layer(x, edge_index)
            if index < len(self.convs) - 1:
                x = self.activation(x)
        return x


class GraphLearner:
    """Answers every node with the network; learns from the training nodes' revealed labels.

    One step of the game is one full-batch epoch: :meth:`answer` runs the training forward
    pass (dropout on), and :meth:`learn` takes the Adam step on the cross-entropy of the nodes
    whose label ``info["labels"]`` reveals, from that same pass.

    Randomness (the initial weights, dropout) comes from a torch generator seeded from the
    agent's: the weights are made, and each training pass runs, with torch's global generator
    seeded from it and restored afterwards, so the caller's global state is untouched and a
    run is reproducible.

    Args:
        agent: The agent it learns for: its device, generator and loss record.
        kind: One of :data:`KINDS`.
        config: The agent's hyperparameters.
        n_features: Node features.
        n_classes: Classes.
    """

    def __init__(
        self, agent: Agent, kind: str, config: GraphConfig, n_features: int, n_classes: int
    ) -> None:
        self.agent = agent
        self.config = config
        self.device = resolve_device(agent.device)
        self.generator = torch.Generator().manual_seed(int(agent.np_random.integers(2**62)))
        with self._seeded(on_cpu=True):
            self.net = GraphNet(kind, n_features, n_classes, config).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        self.graph: tuple[np.ndarray, np.ndarray] | None = None
        """The graph the tensors below hold, as numpy, to recognise it in later observations."""
        self.x = self.edge_index = self.edge_weight = None
        self.labels: np.ndarray | None = None
        self.train_nodes: torch.Tensor | None = None
        self.train_labels: torch.Tensor | None = None
        self.logits: torch.Tensor | None = None
        self.epochs = 0
        self.train_accuracy: float | None = None

    @contextlib.contextmanager
    def _seeded(self, on_cpu: bool = False) -> Iterator[None]:
        """Runs the block with torch's global generator of the device (or of the CPU) seeded
        from ours, then restores it (cheaper than ``fork_rng`` with ``manual_seed``, which seeds
        every CUDA device: this runs at every step)."""
        if self.device.type == "cuda" and not on_cpu:
            generator = torch.cuda.default_generators[self.device.index or 0]
        else:
            generator = torch.default_generator
        saved = generator.get_state()
        generator.manual_seed(int(torch.randint(2**62, (), generator=self.generator)))
        try:
            yield
        finally:
            generator.set_state(saved)

    def load_graph(self, observation: dict[str, Any]) -> None:
        """Moves the observation's graph to the device, unless it is the graph held already."""
        x, edge_index = observation["x"], observation["edge_index"]
        if self.graph is not None and _same(self.graph[0], x) and _same(self.graph[1], edge_index):
            return
        self.graph = (np.array(x), np.array(edge_index))
        self.x = torch.as_tensor(self.graph[0], dtype=torch.float32, device=self.device)
        self.edge_index = torch.as_tensor(self.graph[1], dtype=torch.long, device=self.device)
        self.edge_weight = None
        if self.net.kind == "gcn":
            self.edge_index, self.edge_weight = gcn_norm(
                self.edge_index, None, len(self.x), add_self_loops=True
            )

    def forward(self, observation: dict[str, Any], explore: bool) -> torch.Tensor:
        """The class scores of every node: with dropout and gradients when ``explore``."""
        self.load_graph(observation)
        if not explore:
            self.net.eval()
            with torch.no_grad():
                return self.net(self.x, self.edge_index, self.edge_weight)
        self.net.train()
        with self._seeded():
            return self.net(self.x, self.edge_index, self.edge_weight)

    def answer(self, observation: dict[str, Any], explore: bool) -> np.ndarray:
        """A class for every node; a training pass (kept for :meth:`learn`) when ``explore``."""
        logits = self.forward(observation, explore)
        self.logits = logits if explore else None
        return logits.argmax(dim=1).cpu().numpy()

    def learn(self, info: dict[str, Any]) -> None:
        """One Adam step on the revealed labels, from the last training pass."""
        if self.logits is None or "labels" not in info:
            return
        logits, self.logits = self.logits, None
        self._load_labels(np.asarray(info["labels"]))
        if self.train_nodes is None or len(self.train_nodes) == 0:
            return
        scores = logits[self.train_nodes]
        loss = F.cross_entropy(scores, self.train_labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.agent.record_loss(loss)
        self.epochs += 1
        right = (scores.detach().argmax(dim=1) == self.train_labels).float().mean()
        self.train_accuracy = right

    def _load_labels(self, labels: np.ndarray) -> None:
        if self.labels is not None and _same(self.labels, labels):
            return
        if labels.shape != (len(self.x),) or labels.dtype.kind not in "iu":
            raise ValueError(f"info['labels'] must be ({len(self.x)},) integers, -1 for unknown")
        self.labels = labels.copy()
        nodes = np.flatnonzero(labels >= 0)
        self.train_nodes = torch.as_tensor(nodes, device=self.device)
        self.train_labels = torch.as_tensor(labels[nodes], dtype=torch.long, device=self.device)

    def summary(self) -> dict[str, Any]:
        """What learning did, for ``learn_info``."""
        accuracy = None if self.train_accuracy is None else float(self.train_accuracy)
        return {"epochs": self.epochs, "train_accuracy": accuracy}

    @torch.no_grad()
    def attention(self, observation: dict[str, Any]) -> np.ndarray:
        """The first GAT layer's attention on each edge of ``observation["edge_index"]``,
        averaged over its heads, ``(E,)``: how much each target node listens to each source."""
        self.load_graph(observation)
        self.net.eval()
        layer = self.net.convs[0]
        _, (found, alpha) = layer(self.x, self.edge_index, return_attention_weights=True)
        weight = alpha.mean(dim=1).cpu().numpy()
        # GATConv drops the given self-loops and appends one per node: map its edges back.
        source, target = self.graph[1]
        loops = source == target
        result = np.empty(len(source), np.float32)
        result[~loops] = weight[: int((~loops).sum())]
        result[loops] = weight[found.shape[1] - len(self.x) + source[loops]]
        return result

    # -- checkpoints ----------------------------------------------------------------------

    def state(self) -> dict[str, torch.Tensor]:
        tensors = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        optimizer_tensors, _ = optimizer_state(self.optimizer, "optimizer")
        tensors.update(optimizer_tensors)
        tensors["generator"] = self.generator.get_state()
        return tensors

    def extra_state(self) -> dict[str, Any]:
        _, optimizer_extra = optimizer_state(self.optimizer, "optimizer")
        return {"optimizer": optimizer_extra, "epochs": self.epochs}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        weights = {k[4:]: v for k, v in arrays.items() if k.startswith("net.")}
        self.net.load_state_dict(weights)
        load_optimizer_state(self.optimizer, "optimizer", arrays, extra["optimizer"])
        self.generator.set_state(arrays["generator"].cpu())
        epochs = extra.get("epochs", 0)
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError("epochs must be a whole number")
        self.epochs = epochs


def _same(held: np.ndarray, given: Any) -> bool:
    given = np.asarray(given)
    return held.shape == given.shape and np.array_equal(held, given)
