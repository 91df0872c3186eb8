"""What every node-level model shares: layer-by-layer forward over a graph or sampled blocks, and
the hyperparameters of a stack of message-passing layers."""
from typing import List, Sequence, Union

import torch
import torch.nn.functional as F
from dgl import DGLGraph
from torch import nn

from ..config.groups import HyperparameterGroup, hyperparameter


class NodeEncoderHyperparameters(HyperparameterGroup):
    """A stack of message-passing layers (GCN, GraphSAGE; GAT adds its own)."""

    hidden_size: int = hyperparameter(16, "Hidden units per layer (per head for GAT).", gt=0)
    num_layers: int = hyperparameter(2, "Message-passing layers, the output layer included.", ge=1, le=8)
    dropout: float = hyperparameter(0.5, "Dropout on each layer's input.", ge=0.0, lt=1.0)


class InputProjection(nn.Module):
    """Dropout then a bias-free linear map, for dense or ``torch.sparse`` COO features.

    Bag-of-words features are mostly zeros (Cora: 98.7%); keeping them sparse makes dropout and
    the first matrix product cost O(nnz) instead of O(N x F). Dropout on a sparse tensor drops
    stored values only, which equals dense dropout since dropped zeros stay zero.

    Shapes: input ``(N, in_feats)``, output ``(N, out_feats)``.
    """

    def __init__(self, in_feats: int, out_feats: int, dropout: float):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_feats, out_feats))
        self.dropout = dropout
        nn.init.xavier_uniform_(self.weight)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.is_sparse:
            values = F.dropout(features.values(), self.dropout, self.training)
            dropped = torch.sparse_coo_tensor(
                features.indices(), values, features.shape, is_coalesced=True, check_invariants=False
            )
            return torch.sparse.mm(dropped, self.weight)
        return F.dropout(features, self.dropout, self.training) @ self.weight


#: Node data that mini-batch tasks attach to the whole graph, so that sampled blocks carry each
#: node's degrees in the whole graph (``block.srcdata``/``block.dstdata``).
FULL_DEGREES = ("full_out_degree", "full_in_degree")


def attach_full_degrees(graph: DGLGraph) -> None:
    """Store every node's out- and in-degree in ``graph.ndata`` under :data:`FULL_DEGREES`."""
    graph.ndata[FULL_DEGREES[0]] = graph.out_degrees().float()
    graph.ndata[FULL_DEGREES[1]] = graph.in_degrees().float()


class NodeModel(nn.Module):
    """A stack of message-passing layers that maps node features to ``num_classes`` outputs.

    Subclasses fill ``self.layers`` and define :meth:`layer`. ``forward`` takes either one graph
    (full-graph training, the same graph for every layer) or a list of DGL blocks, one per layer
    (neighbour-sampled mini-batches).
    """

    #: True when the model accepts ``torch.sparse`` input features (see :class:`InputProjection`).
    accepts_sparse_features = False
    #: True when the model expects every node to have a self loop (GCN, GAT).
    needs_self_loops = False

    layers: nn.ModuleList

    @property
    def num_layers(self) -> int:
        """Message-passing layers, the output layer included."""
        return len(self.layers)

    def layer(self, index: int, graph: DGLGraph, h: torch.Tensor) -> torch.Tensor:
        """Apply layer ``index`` (with its dropout and activation) to ``h`` on ``graph``."""
        raise NotImplementedError

    def forward(self, graphs: Union[DGLGraph, Sequence[DGLGraph]], features: torch.Tensor) -> torch.Tensor:
        """Outputs (logits) for the destination nodes of the last graph, ``(N_dst, num_classes)``."""
        return self._run(graphs, features, len(self.layers))

    def embed(self, graphs: Union[DGLGraph, Sequence[DGLGraph]], features: torch.Tensor) -> torch.Tensor:
        """Hidden representation before the output layer, ``(N_dst, hidden)``."""
        return self._run(graphs, features, len(self.layers) - 1)

    def _run(self, graphs, features, num_layers: int) -> torch.Tensor:
        blocks: List[DGLGraph] = list(graphs) if isinstance(graphs, (list, tuple)) else [graphs] * len(self.layers)
        h = features
        for index in range(num_layers):
            h = self.layer(index, blocks[index], h)
        return h
