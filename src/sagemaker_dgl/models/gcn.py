"""Graph Convolutional Network.

Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017,
https://arxiv.org/abs/1609.02907 (reference code: tkipf/gcn; DGL: examples/pytorch/gcn).

Each layer computes, with self loops added and :math:`\\hat{D}` the degree matrix,

.. math::  H^{(l+1)} = \\sigma(\\hat{D}^{-1/2} \\hat{A} \\hat{D}^{-1/2} \\mathrm{dropout}(H^{(l)}) W^{(l)} + b^{(l)})

As in the paper, dropout also applies to the input features. The first layer's product
:math:`X W^{(0)}` runs in :class:`InputProjection`, so sparse features stay sparse; since the
normalisation is linear, this equals DGL's ``GraphConv(in_feats, hidden)``.

On a sampled block, ``GraphConv`` would normalise by the block's degrees. When the block carries
the whole graph's degrees (:func:`attach_full_degrees`), edge weights make it use those, scaled by
the share of neighbours sampled: an unbiased estimate of the full layer during training, and
the exact layer when every neighbour is kept (evaluation).

For graph prediction (:class:`GCNGraphPredictor`) the layers are DGL-LifeSci's ``GCN`` over each
graph of a batch (self loops added): ``gcn_norm`` chooses the normalisation of the neighbour sum
(``none``, DGL-LifeSci's default: :math:`\\sum_{u \\in \\mathcal{N}(v) \\cup \\{v\\}} h_u W`; ``both``, the
paper's; ``right``, the mean), then ReLU and dropout, optionally a residual connection
(:math:`+\\,\\mathrm{ReLU}(h W_r)`) and batch norm; then the readout and MLP of
:class:`~sagemaker_dgl.models._graph.GraphPredictor`. The defaults are DGL-LifeSci's
``GCN_canonical_Tox21`` configuration.

Shapes: features ``(N, in_feats)`` (dense or sparse COO) -> logits ``(N, num_classes)``; for graph
prediction a batched graph -> ``(B, num_targets)``.
"""
from typing import Literal, Optional

import torch
import torch.nn.functional as F
from dgl import DGLGraph
from dgl.nn import GraphConv
from torch import nn

from ..config.groups import hyperparameter
from ._base import FULL_DEGREES, InputProjection, NodeEncoderHyperparameters, NodeModel
from ._graph import GraphPredictor, GraphPredictorHyperparameters
from ._registry import register_model


@register_model("gcn", tasks=("node_classification",), hyperparameters=NodeEncoderHyperparameters,
                defaults=dict(lr=0.01, weight_decay=5e-4, epochs=200))
class GCN(NodeModel):
    """GCN for node classification.

    Args:
        in_feats: input feature size.
        num_classes: number of classes.
        hidden_size: hidden units per layer.
        num_layers: graph convolutions, including the output one.
        dropout: dropout before every layer, input included.
    """

    accepts_sparse_features = True
    needs_self_loops = True

    def __init__(self, in_feats: int, num_classes: int, hidden_size: int, num_layers: int, dropout: float):
        super().__init__()
        sizes = [hidden_size] * (num_layers - 1) + [num_classes]
        self.input_projection = InputProjection(in_feats, sizes[0], dropout)
        self.layers = nn.ModuleList([GraphConv(sizes[0], sizes[0], weight=False, allow_zero_in_degree=True)])
        self.layers.extend(GraphConv(a, b, allow_zero_in_degree=True) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = nn.Dropout(dropout)

    def layer(self, index, graph, h):
        h = self.input_projection(h) if index == 0 else self.dropout(h)
        h = self.layers[index](graph, h, edge_weight=full_graph_weights(graph))
        return h if index == len(self.layers) - 1 else F.relu(h)


class GCNGraphPredictorHyperparameters(GraphPredictorHyperparameters):
    """The GCN layers' options for graph prediction."""

    gcn_norm: Literal["none", "both", "right"] = hyperparameter(
        "none", "Normalisation of each layer's sum over the neighbours (self loop included): none (the sum, "
        "DGL-LifeSci's default), both (the paper's symmetric one) or right (the mean).",
    )
    residual: bool = hyperparameter(False, "A linear residual connection around each layer.")
    batch_norm: bool = hyperparameter(False, "Batch normalisation after each layer.")


@register_model("gcn", tasks=("graph_prediction",), hyperparameters=GCNGraphPredictorHyperparameters,
                defaults=dict(hidden_size=64, num_layers=3, dropout=0.18, readout="weighted_sum_and_max",
                              predictor_hidden_size=16, lr=0.0009, weight_decay=1.5e-5, batch_size=32, epochs=300,
                              early_stopping_patience=30))
class GCNGraphPredictor(GraphPredictor):
    """DGL-LifeSci's GCN layers, a readout and an MLP, for graph prediction.

    Args:
        in_feats: node feature size.
        num_targets: outputs per graph.
        hidden_size, num_layers, dropout, readout, predictor_hidden_size, gcn_norm, residual, batch_norm: see
            :class:`GCNGraphPredictorHyperparameters`.
    """

    needs_self_loops = True

    def __init__(self, in_feats: int, num_targets: int, hidden_size: int, num_layers: int, dropout: float,
                 readout: str, predictor_hidden_size: int, gcn_norm: str, residual: bool, batch_norm: bool):
        from dgllife.model.gnn import GCN as LifeSciGCN

        super().__init__(hidden_size, num_targets, dropout, readout, predictor_hidden_size)
        self.gnn = LifeSciGCN(in_feats, [hidden_size] * num_layers, gnn_norm=[gcn_norm] * num_layers,
                              activation=[F.relu] * num_layers, residual=[residual] * num_layers,
                              batchnorm=[batch_norm] * num_layers, dropout=[dropout] * num_layers)

    def node_states(self, graph, features):
        return self.gnn(graph, features)


def full_graph_weights(block: DGLGraph) -> Optional[torch.Tensor]:
    """Edge weights that make ``GraphConv`` on a sampled block use the whole graph's degrees.

    With the block's degrees ``d``, ``GraphConv`` computes ``sum_u w_uv h_u / sqrt(d_out(u) d_in(v))``;
    these weights turn it into ``sum_u h_u D_in(v) / (d_in(v) sqrt(D_out(u) D_in(v)))``, with ``D``
    the whole graph's degrees. None for a whole graph, or a block without them.
    """
    if not block.is_block or FULL_DEGREES[0] not in block.srcdata:
        return None
    src, dst = block.edges()
    block_out = block.out_degrees().float().clamp(min=1)[src]
    block_in = block.in_degrees().float().clamp(min=1)[dst]
    full_out = block.srcdata[FULL_DEGREES[0]][src].clamp(min=1)
    full_in = block.dstdata[FULL_DEGREES[1]][dst].clamp(min=1)
    return torch.sqrt(block_out * full_in / (block_in * full_out))
