"""Graph Attention Network.

Veličković et al., "Graph Attention Networks", ICLR 2018, https://arxiv.org/abs/1710.10903
(reference code: PetarV-/GAT; DGL: examples/pytorch/gat).

Each head :math:`k` of a layer computes attention over the neighbours :math:`j` of node :math:`i`,

.. math::  \\alpha_{ij}^k = \\mathrm{softmax}_j(\\mathrm{LeakyReLU}(a_k^\\top [W_k h_i \\| W_k h_j])),
           \\quad h_i' = \\big\\Vert_k \\, \\mathrm{ELU}(\\textstyle\\sum_j \\alpha_{ij}^k W_k h_j)

Hidden layers concatenate their heads; the output layer averages its ``num_out_heads`` heads.
The first layer's projection :math:`W x` runs in :class:`InputProjection` so that sparse
features stay sparse; its ``GATConv`` then skips its own (identity) projection.

For graph prediction (:class:`GATGraphPredictor`) the layers are DGL-LifeSci's ``GAT`` over each
graph of a batch (self loops added; the last layer averages its heads, the others concatenate
them), then the readout and MLP of :class:`~sagemaker_dgl.models._graph.GraphPredictor`. The
defaults are DGL-LifeSci's ``GAT_canonical_Tox21`` configuration.

Shapes: features ``(N, in_feats)`` (dense or sparse COO) -> logits ``(N, num_classes)``; for graph
prediction a batched graph -> ``(B, num_targets)``.
"""
import torch.nn.functional as F
from dgl.nn import GATConv
from torch import nn

from ..config.groups import hyperparameter
from ._base import InputProjection, NodeEncoderHyperparameters, NodeModel
from ._graph import GraphPredictor, GraphPredictorHyperparameters
from ._registry import register_model


class AttentionHyperparameters(NodeEncoderHyperparameters):
    """What every GAT layer has."""

    num_heads: int = hyperparameter(8, "Attention heads in hidden layers.", gt=0)
    attn_dropout: float = hyperparameter(0.6, "Dropout on attention coefficients.", ge=0.0, lt=1.0)
    negative_slope: float = hyperparameter(0.2, "LeakyReLU slope in the attention.", ge=0.0)
    residual: bool = hyperparameter(False, "Residual connections (node classification: after the first layer).")


class GATHyperparameters(AttentionHyperparameters):
    num_out_heads: int = hyperparameter(1, "Attention heads in the output layer (averaged).", gt=0)


class GATGraphPredictorHyperparameters(AttentionHyperparameters, GraphPredictorHyperparameters):
    """GAT layers (each with ``num_heads`` heads, the last one averaged), the readout and the MLP."""


@register_model("gat", tasks=("node_classification",), hyperparameters=GATHyperparameters,
                defaults=dict(hidden_size=8, dropout=0.6, lr=0.005, weight_decay=5e-4, epochs=200))
class GAT(NodeModel):
    """GAT for node classification.

    Args:
        in_feats: input feature size.
        num_classes: number of classes.
        hidden_size: hidden units per head.
        num_layers: attention layers, including the output one.
        num_heads: heads in each hidden layer.
        num_out_heads: heads in the output layer, averaged.
        dropout: dropout on each layer's input features.
        attn_dropout: dropout on attention coefficients.
        negative_slope: LeakyReLU slope in the attention.
        residual: residual connections in layers after the first.
    """

    accepts_sparse_features = True
    needs_self_loops = True

    def __init__(self, in_feats: int, num_classes: int, hidden_size: int, num_layers: int, num_heads: int,
                 num_out_heads: int, dropout: float, attn_dropout: float, negative_slope: float, residual: bool):
        super().__init__()
        heads = [num_heads] * (num_layers - 1) + [num_out_heads]
        sizes = [hidden_size] * (num_layers - 1) + [num_classes]
        self.input_projection = InputProjection(in_feats, sizes[0] * heads[0], dropout)
        self.layers = nn.ModuleList()
        for index, (size, num) in enumerate(zip(sizes, heads)):
            in_size = sizes[0] * heads[0] if index == 0 else sizes[index - 1] * heads[index - 1]
            conv = GATConv(
                in_size,
                size,
                num,
                feat_drop=0.0 if index == 0 else dropout,
                attn_drop=attn_dropout,
                negative_slope=negative_slope,
                residual=residual and index > 0,
                allow_zero_in_degree=True,
            )
            if index == 0:
                conv.fc = nn.Identity()  # the projection already ran in self.input_projection
            self.layers.append(conv)

    def layer(self, index, graph, h):
        if index == 0:
            h = self.input_projection(h)
        h = self.layers[index](graph, h)
        if index == len(self.layers) - 1:
            return h.mean(dim=1)
        return F.elu(h).flatten(1)


@register_model("gat", tasks=("graph_prediction",), hyperparameters=GATGraphPredictorHyperparameters,
                defaults=dict(hidden_size=128, num_layers=1, num_heads=4, dropout=0.06, attn_dropout=0.06,
                              negative_slope=0.57, residual=True, readout="weighted_sum_and_max",
                              predictor_hidden_size=32, lr=0.001, batch_size=128, epochs=300,
                              early_stopping_patience=30))
class GATGraphPredictor(GraphPredictor):
    """DGL-LifeSci's GAT layers, a readout and an MLP, for graph prediction.

    Args:
        in_feats: node feature size.
        num_targets: outputs per graph.
        hidden_size, num_layers, num_heads, dropout, attn_dropout, negative_slope, residual, readout,
            predictor_hidden_size: see :class:`GATGraphPredictorHyperparameters`.
    """

    needs_self_loops = True

    def __init__(self, in_feats: int, num_targets: int, hidden_size: int, num_layers: int, num_heads: int,
                 dropout: float, attn_dropout: float, negative_slope: float, residual: bool, readout: str,
                 predictor_hidden_size: int):
        from dgllife.model.gnn import GAT as LifeSciGAT

        super().__init__(hidden_size, num_targets, dropout, readout, predictor_hidden_size)
        self.gnn = LifeSciGAT(in_feats, [hidden_size] * num_layers, num_heads=[num_heads] * num_layers,
                              feat_drops=[dropout] * num_layers, attn_drops=[attn_dropout] * num_layers,
                              alphas=[negative_slope] * num_layers, residuals=[residual] * num_layers)

    def node_states(self, graph, features):
        return self.gnn(graph, features)
