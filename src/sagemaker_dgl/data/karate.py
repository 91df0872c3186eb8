"""Zachary's karate club (34 members, 78 friendships), the offline default job.

W. W. Zachary, "An information flow model for conflict and fission in small groups", 1977; read
from ``networkx.karate_club_graph()``, so it needs no download. Semi-supervised as in Kipf &
Welling's demo: only the two leaders (node 0, Mr. Hi, and node 33, the Officer) are labelled for
training; features are one-hot node ids. Validation = 8 fixed members, test = the other 24.
"""
import dgl
import networkx as nx
import torch

from ._base import Dataset, GraphData, register_dataset

VALIDATION_NODES = [1, 5, 10, 15, 20, 25, 30, 32]


def load_karate() -> GraphData:
    """The karate club graph with one-hot features, faction labels and masks."""
    club = nx.karate_club_graph()
    graph = dgl.to_bidirected(dgl.from_networkx(club))
    num_nodes = graph.num_nodes()
    graph.ndata["feat"] = torch.eye(num_nodes)
    graph.ndata["label"] = torch.tensor([int(club.nodes[n]["club"] != "Mr. Hi") for n in range(num_nodes)])
    train = torch.zeros(num_nodes, dtype=torch.bool)
    train[[0, num_nodes - 1]] = True
    val = torch.zeros(num_nodes, dtype=torch.bool)
    val[VALIDATION_NODES] = True
    graph.ndata.update({"train_mask": train, "val_mask": val, "test_mask": ~(train | val)})
    return GraphData(graph=graph, name="karate", info={"format": "networkx"})


register_dataset(Dataset("karate", GraphData, source="networkx.karate_club_graph()", build=load_karate))
