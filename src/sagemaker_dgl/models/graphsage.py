"""GraphSAGE.

Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017,
https://arxiv.org/abs/1706.02216 (DGL: examples/pytorch/graphsage).

Each layer combines a node with an aggregate of its (possibly sampled) neighbours,

.. math::  h_i' = \\sigma(W_{self} h_i + W_{neigh} \\,\\mathrm{AGG}_{j \\in N(i)} h_j + b)

with ``AGG`` one of mean, gcn, pool or lstm. It trains full-graph or on neighbour-sampled
mini-batches (``fanouts`` hyperparameter), which is how it scales to graphs of millions of nodes.

Shapes: features ``(N, in_feats)`` -> logits ``(N, num_classes)``.
"""
from typing import Literal

import torch.nn.functional as F
from dgl.nn import SAGEConv
from torch import nn

from ..config.groups import hyperparameter
from ._base import NodeEncoderHyperparameters, NodeModel
from ._registry import register_model


class GraphSAGEHyperparameters(NodeEncoderHyperparameters):
    aggregator: Literal["mean", "gcn", "pool", "lstm"] = hyperparameter("mean", "Neighbour aggregator.")


@register_model("graphsage", tasks=("node_classification",), hyperparameters=GraphSAGEHyperparameters,
                defaults=dict(lr=0.01, weight_decay=5e-4, epochs=200))
class GraphSAGE(NodeModel):
    """GraphSAGE for node classification.

    Args:
        in_feats: input feature size.
        num_classes: number of classes.
        hidden_size: hidden units per layer.
        num_layers: SAGE layers, including the output one.
        dropout: dropout before every layer, input included.
        aggregator: neighbour aggregator: mean, gcn, pool or lstm.
    """

    def __init__(self, in_feats: int, num_classes: int, hidden_size: int, num_layers: int, dropout: float,
                 aggregator: str):
        super().__init__()
        sizes = [in_feats] + [hidden_size] * (num_layers - 1) + [num_classes]
        self.layers = nn.ModuleList(SAGEConv(a, b, aggregator) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = nn.Dropout(dropout)

    def layer(self, index, graph, h):
        h = self.layers[index](graph, self.dropout(h))
        return h if index == len(self.layers) - 1 else F.relu(h)
