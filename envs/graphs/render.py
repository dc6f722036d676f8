"""Draws the node classification env with pygame: nodes filled with their predicted class and
ringed with their true class, in a layout computed once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.graphs.env import NodeClassificationEnv

PALETTE = np.array(
    [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ],
    np.uint8,
)
UNANSWERED = (200, 200, 200)
EDGE = (190, 190, 190)
SIZE = 480
MARGIN = 24
MAX_DRAWN = 1000
"""Larger graphs show this many of their nodes (a fixed random sample) and the edges among them."""


class GraphRenderer:
    """Draws :class:`NodeClassificationEnv` frames as RGB arrays; the env's ``edge_weights``,
    when set, give each edge's width and darkness."""

    def __init__(self, env: NodeClassificationEnv) -> None:
        import pygame

        pygame.font.init()
        self.env = env
        self.font = pygame.font.Font(None, 20)
        n = env.n_nodes
        self.drawn = (
            np.arange(n)
            if n <= MAX_DRAWN
            else np.sort(np.random.default_rng(0).choice(n, MAX_DRAWN, replace=False))
        )
        source, target = env.graph.edge_index
        inside = np.zeros(n, bool)
        inside[self.drawn] = True
        self.edges = np.flatnonzero(inside[source] & inside[target] & (source < target))
        self.position = _layout(self.drawn, env.graph.edge_index[:, self.edges])
        self.radius = 9 if len(self.drawn) <= 100 else 3

    def frame(self) -> np.ndarray:
        """The current frame, an (H, W, 3) uint8 array."""
        import pygame

        env = self.env
        surface = pygame.Surface((SIZE, SIZE + 28))
        surface.fill((255, 255, 255))
        source, target = env.graph.edge_index
        weights = env.edge_weights
        for edge in self.edges:
            a, b = self.position[source[edge]], self.position[target[edge]]
            weight = None if weights is None else float(np.clip(weights[edge], 0, 1))
            if weight is None:
                pygame.draw.line(surface, EDGE, a, b, 1)
            else:
                shade = int(220 - 200 * weight)
                pygame.draw.line(surface, (shade, shade, shade), a, b, 1 + int(4 * weight))
        predictions = env.predictions
        radius = self.radius
        for node in self.drawn:
            centre = self.position[node]
            truth = tuple(int(c) for c in PALETTE[env.graph.y[node] % len(PALETTE)])
            fill = (
                UNANSWERED
                if predictions is None
                else tuple(int(c) for c in PALETTE[predictions[node] % len(PALETTE)])
            )
            pygame.draw.circle(surface, truth, centre, radius + 4)
            pygame.draw.circle(surface, (255, 255, 255), centre, radius)
            pygame.draw.circle(surface, fill, centre, radius - 1)
            if env.revealed[node] >= 0:
                pygame.draw.circle(surface, (0, 0, 0), centre, radius + 6, 2)
        text = f"{env.graph.name}, {env.split} split: fill = predicted, ring = true class"
        surface.blit(self.font.render(text, True, (0, 0, 0)), (8, SIZE + 6))
        return pygame.surfarray.array3d(surface).transpose(1, 0, 2).copy()


def _layout(nodes: np.ndarray, edge_index: np.ndarray) -> dict[int, tuple[int, int]]:
    """A spring layout of the drawn nodes (networkx, fixed seed), in pixels."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(nodes.tolist())
    graph.add_edges_from(edge_index.T.tolist())
    found = nx.spring_layout(graph, seed=0)
    xy = np.array([found[int(n)] for n in nodes])
    low, high = xy.min(axis=0), xy.max(axis=0)
    scaled = (xy - low) / np.maximum(high - low, 1e-9) * (SIZE - 2 * MARGIN) + MARGIN
    return {int(n): (int(p[0]), int(p[1])) for n, p in zip(nodes, scaled, strict=True)}
