"""Graph Convolutional Network.

Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017,
https://arxiv.org/abs/1609.02907 (reference code: tkipf/gcn; DGL: examples/pytorch/gcn).

Each layer computes, with self loops added and :math:`\\hat{D}` the degree matrix,

.. math::  H^{(l+1)} = \\sigma(\\hat{D}^{-1/2} \\hat{A} \\hat{D}^{-1/2} \\mathrm{dropout}(H^{(l)}) W^{(l)} + b^{(l)})

As in the paper, dropout also applies to the input features. The first layer's product
:math:`X W^{(0)}` runs in :class:`InputProjection`, so sparse features stay sparse; since the
normalisation is linear, this equals DGL's ``GraphConv(in_feats, hidden)``.

Shapes: features ``(N, in_feats)`` (dense or sparse COO) -> logits ``(N, out_feats)``.
"""
import torch.nn.functional as F
from dgl.nn import GraphConv
from torch import nn

from ._base import InputProjection, NodeModel
from ._registry import register_model


@register_model("gcn", defaults=dict(hidden_size=16, dropout=0.5, lr=0.01, weight_decay=5e-4, epochs=200))
class GCN(NodeModel):
    """GCN for node classification.

    Args:
        in_feats: input feature size.
        out_feats: number of classes.
        hidden_size: hidden units per layer (default: 16).
        num_layers: graph convolutions, including the output one (default: 2).
        dropout: dropout before every layer, input included (default: 0.5).
    """

    accepts_sparse_features = True
    needs_self_loops = True

    def __init__(self, in_feats: int, out_feats: int, hidden_size: int = 16, num_layers: int = 2, dropout: float = 0.5):
        super().__init__()
        sizes = [hidden_size] * (num_layers - 1) + [out_feats]
        self.input_projection = InputProjection(in_feats, sizes[0], dropout)
        self.layers = nn.ModuleList([GraphConv(sizes[0], sizes[0], weight=False, allow_zero_in_degree=True)])
        self.layers.extend(GraphConv(a, b, allow_zero_in_degree=True) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = nn.Dropout(dropout)

    def layer(self, index, graph, h):
        h = self.input_projection(h) if index == 0 else self.dropout(h)
        h = self.layers[index](graph, h)
        return h if index == len(self.layers) - 1 else F.relu(h)
