"""What graph-level models share: message-passing layers over each graph's nodes, a readout that
pools a graph's nodes into one vector, and a small MLP from that vector to the targets
(DGL-LifeSci's ``MLPPredictor``),

.. math::  h_G = \\mathrm{readout}\\big(\\{h_v^{(L)} : v \\in G\\}\\big), \\qquad
           \\hat{y}_G = W_2\\, \\mathrm{BN}(\\mathrm{ReLU}(W_1\\, \\mathrm{dropout}(h_G) + b_1)) + b_2

with ``readout`` the sum, mean or max over the nodes (``dgl.nn.SumPooling``, ``AvgPooling``,
``MaxPooling``), ``attention``, :math:`\\sum_v \\mathrm{softmax}_v(w^\\top h_v)\\, h_v`
(``dgl.nn.GlobalAttentionPooling``; Li et al. 2016), or ``weighted_sum_and_max``,
:math:`[\\sum_v \\sigma(w^\\top h_v + b)\\, h_v \\,\\|\\, \\max_v h_v]` (DGL-LifeSci's
``WeightedSumAndMax``, twice the node state's size).

The batch norm in the MLP needs two graphs or more per training batch: the task drops a last
batch of one graph (as DGL-LifeSci's training loop skips it).

Shapes: a batched graph of ``B`` graphs (``dgl.batch``) and node features ``(N, in_feats)`` ->
``(B, num_targets)``.
"""
from typing import Literal, Tuple

import torch
from dgl import DGLGraph
from dgl.nn import AvgPooling, GlobalAttentionPooling, MaxPooling, SumPooling
from torch import nn

from ..config.groups import hyperparameter
from ._base import NodeEncoderHyperparameters


class GraphPredictorHyperparameters(NodeEncoderHyperparameters):
    """Message-passing layers, the readout and the MLP after it."""

    readout: Literal["sum", "mean", "max", "attention", "weighted_sum_and_max"] = hyperparameter(
        "mean", "How a graph's node states become one vector: sum, mean, max, attention (a learnt softmax gate), or "
        "weighted_sum_and_max (a learnt sigmoid-gated sum beside the max, as DGL-LifeSci).",
    )
    predictor_hidden_size: int = hyperparameter(128, "Hidden units of the MLP after the readout.", gt=0)


def make_readout(kind: str, size: int) -> Tuple[nn.Module, int]:
    """The pooling module of ``readout`` ``kind`` for node states of ``size`` units, and its output size."""
    if kind == "attention":
        return GlobalAttentionPooling(nn.Linear(size, 1)), size
    if kind == "weighted_sum_and_max":
        from dgllife.model.readout import WeightedSumAndMax

        return WeightedSumAndMax(size), 2 * size
    return {"sum": SumPooling, "mean": AvgPooling, "max": MaxPooling}[kind](), size


class GraphPredictor(nn.Module):
    """A readout and an MLP over the node states of :meth:`node_states` (subclasses fill ``layers``).

    Args:
        hidden_size: size of the node states.
        num_targets: outputs per graph (classes, or tasks).
        dropout: dropout before the MLP (and in the layers, as the subclass uses it).
        readout: see :class:`GraphPredictorHyperparameters`.
        predictor_hidden_size: hidden units of the MLP.
    """

    #: True when the graphs must have a self loop on every node (GCN).
    needs_self_loops = False

    def __init__(self, hidden_size: int, num_targets: int, dropout: float, readout: str, predictor_hidden_size: int):
        super().__init__()
        from dgllife.model.model_zoo.mlp_predictor import MLPPredictor  # DGL-LifeSci imports take a second

        self.readout, readout_size = make_readout(readout, hidden_size)
        self.head = MLPPredictor(readout_size, predictor_hidden_size, num_targets, dropout)

    def node_states(self, graph: DGLGraph, features: torch.Tensor) -> torch.Tensor:
        """Every node's state after the message-passing layers, ``(N, hidden_size)``."""
        raise NotImplementedError

    def embed(self, graph: DGLGraph, features: torch.Tensor) -> torch.Tensor:
        """One vector per graph: the readout of the node states."""
        return self.readout(graph, self.node_states(graph, features))

    def forward(self, graph: DGLGraph, features: torch.Tensor) -> torch.Tensor:
        """Outputs ``(B, num_targets)``: logits (classification) or values (regression)."""
        return self.head(self.embed(graph, features))
