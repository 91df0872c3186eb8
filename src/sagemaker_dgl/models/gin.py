"""Graph Isomorphism Network (GIN), for graph classification and regression.

Xu, Hu, Leskovec & Jegelka, "How Powerful are Graph Neural Networks?", ICLR 2019,
https://arxiv.org/abs/1810.00826 (DGL: examples/pytorch/gin, whose layer, ``dgl.nn.GINConv``, this uses).

Each layer sums the neighbours' states with the node's own and applies an MLP (GIN-0: :math:`\\epsilon = 0`),

.. math::  h_v^{(l+1)} = \\mathrm{ReLU}\\Big(\\mathrm{BN}\\Big(\\mathrm{MLP}^{(l)}\\big(h_v^{(l)} + \\textstyle\\sum_{u \\in \\mathcal{N}(v)} h_u^{(l)}\\big)\\Big)\\Big),
           \\qquad \\mathrm{MLP}^{(l)} = \\mathrm{Linear} \\circ \\mathrm{ReLU} \\circ \\mathrm{BN} \\circ \\mathrm{Linear}

then dropout; the readout and the MLP to the targets are :class:`~sagemaker_dgl.models._graph.GraphPredictor`'s
(the paper's sum readout by default). Sum aggregation tells apart neighbourhoods of different sizes,
so GIN learns from graphs without node features (every node's feature is 1).

Shapes: a batched graph and node features ``(N, in_feats)`` -> ``(B, num_targets)``.
"""
from dgl.nn import GINConv
from torch import nn

from ._graph import GraphPredictor, GraphPredictorHyperparameters
from ._registry import register_model


def mlp(in_size: int, out_size: int) -> nn.Sequential:
    """GIN's two-layer MLP: Linear, batch norm, ReLU, Linear."""
    return nn.Sequential(nn.Linear(in_size, out_size), nn.BatchNorm1d(out_size), nn.ReLU(), nn.Linear(out_size, out_size))


@register_model("gin", tasks=("graph_prediction",), hyperparameters=GraphPredictorHyperparameters,
                defaults=dict(hidden_size=64, num_layers=5, readout="sum", lr=0.01, epochs=100))
class GIN(GraphPredictor):
    """GIN-0 with a readout.

    Args:
        in_feats: node feature size.
        num_targets: outputs per graph.
        hidden_size, num_layers, dropout, readout, predictor_hidden_size: see
            :class:`~sagemaker_dgl.models._graph.GraphPredictorHyperparameters`.
    """

    def __init__(self, in_feats: int, num_targets: int, hidden_size: int, num_layers: int, dropout: float,
                 readout: str, predictor_hidden_size: int):
        super().__init__(hidden_size, num_targets, dropout, readout, predictor_hidden_size)
        sizes = [in_feats] + [hidden_size] * num_layers
        self.layers = nn.ModuleList(GINConv(mlp(a, b), "sum") for a, b in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_size) for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)

    def node_states(self, graph, features):
        h = features
        for layer, norm in zip(self.layers, self.norms):
            h = self.dropout(nn.functional.relu(norm(layer(graph, h))))
        return h
