"""Synthetic graph families for graph generation: training graphs drawn on the fly (no channel),
and the check that a generated graph belongs to the family. ``graph_family`` chooses one.

| family | training graphs | a sample is valid when |
|--------|-----------------|------------------------|
| cycles | a cycle of 10 to 20 nodes (uniform size), numbered around it, as DGL's DGMG example | it is one cycle of 10 to 20 nodes |

Graphs are ``networkx.MultiGraph`` objects (a generated graph may repeat an edge, which makes it
invalid rather than being merged away), nodes numbered in the order they are generated.
"""
from dataclasses import dataclass
from typing import Callable

import networkx as nx
import numpy as np

from ..registry import Registry
from ._base import Dataset, GraphFamilyData, register_dataset


@dataclass(frozen=True)
class GraphFamily:
    """``draw(rng)`` makes one training graph; ``is_valid(graph)`` tells whether a sample belongs."""

    name: str
    description: str
    draw: Callable[[np.random.Generator], nx.MultiGraph]
    is_valid: Callable[[nx.MultiGraph], bool]


GRAPH_FAMILIES: Registry[GraphFamily] = Registry("graph family", hyperparameter="graph_family")

CYCLE_SIZES = (10, 20)


def draw_cycle(rng: np.random.Generator) -> nx.MultiGraph:
    return nx.MultiGraph(nx.cycle_graph(int(rng.integers(CYCLE_SIZES[0], CYCLE_SIZES[1] + 1))))


def is_cycle(graph: nx.MultiGraph) -> bool:
    """One cycle through every node (connected, each node of degree 2, no repeated edge) in the size range."""
    return (CYCLE_SIZES[0] <= graph.number_of_nodes() <= CYCLE_SIZES[1] and nx.is_connected(graph)
            and all(degree == 2 for _, degree in graph.degree()) and not any(nx.selfloop_edges(graph))
            and graph.number_of_edges() == nx.Graph(graph).number_of_edges())


GRAPH_FAMILIES.add("cycles", GraphFamily("cycles", f"cycles of {CYCLE_SIZES[0]}-{CYCLE_SIZES[1]} nodes",
                                         draw_cycle, is_cycle))
register_dataset(Dataset("synthetic_graphs", GraphFamilyData,
                         source="graphs drawn during training from the family that graph_family names",
                         build=GraphFamilyData))
