"""GraphSAGE.

Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017,
https://arxiv.org/abs/1706.02216 (DGL: examples/pytorch/graphsage).

Each layer combines a node with an aggregate of its (possibly sampled) neighbours,

.. math::  h_i' = \\sigma(W_{self} h_i + W_{neigh} \\,\\mathrm{AGG}_{j \\in N(i)} h_j + b)

with ``AGG`` one of mean, gcn, pool or lstm. It trains full-graph or on neighbour-sampled
mini-batches (``fanouts`` hyperparameter), which is how it scales to graphs of millions of nodes.

Shapes: features ``(N, in_feats)`` -> logits ``(N, out_feats)``.
"""
import torch.nn.functional as F
from dgl.nn import SAGEConv
from torch import nn

from ._base import NodeModel
from ._registry import register_model


@register_model("graphsage", defaults=dict(hidden_size=16, dropout=0.5, lr=0.01, weight_decay=5e-4, epochs=200))
class GraphSAGE(NodeModel):
    """GraphSAGE for node classification.

    Args:
        in_feats: input feature size.
        out_feats: number of classes.
        hidden_size: hidden units per layer (default: 16).
        num_layers: SAGE layers, including the output one (default: 2).
        dropout: dropout before every layer, input included (default: 0.5).
        aggregator: neighbour aggregator: mean, gcn, pool or lstm (default: mean).
    """

    def __init__(
        self,
        in_feats: int,
        out_feats: int,
        hidden_size: int = 16,
        num_layers: int = 2,
        dropout: float = 0.5,
        aggregator: str = "mean",
    ):
        super().__init__()
        sizes = [in_feats] + [hidden_size] * (num_layers - 1) + [out_feats]
        self.layers = nn.ModuleList(SAGEConv(a, b, aggregator) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = nn.Dropout(dropout)

    def layer(self, index, graph, h):
        h = self.layers[index](graph, self.dropout(h))
        return h if index == len(self.layers) - 1 else F.relu(h)
