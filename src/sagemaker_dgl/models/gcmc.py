"""Graph Convolutional Matrix Completion (GCMC).

van den Berg, Kipf & Welling, "Graph Convolutional Matrix Completion", KDD Deep Learning Day 2018,
https://arxiv.org/abs/1706.02263 (reference code: riannevdberg/gc-mc; DGL: examples/pytorch/gcmc).

Users and items are the two sides of a bipartite graph with one edge type per rating level
:math:`r` (and its reverse). The encoder sends each node's learnt vector for level :math:`r`
(``W_r[j]``: the input is one-hot, so :math:`W_r x_j` is a row) to the other side,

.. math::  \\mu_{j \\to i, r} = \\frac{1}{c_{ij}} W_r[j], \\qquad
           z_i = \\sigma\\Big(\\mathrm{accum}\\big(\\textstyle\\sum_{j \\in \\mathcal{N}_{i,1}} \\mu_{j \\to i, 1},
           \\ldots, \\sum_{j \\in \\mathcal{N}_{i,R}} \\mu_{j \\to i, R}\\big)\\Big), \\qquad u_i = W z_i

with :math:`c_{ij} = \\sqrt{|\\mathcal{N}_i| |\\mathcal{N}_j|}` (degrees over all levels),
``accumulation`` ``stack`` (concatenate the levels; ``hidden_size / R`` units each) or ``sum``,
:math:`\\sigma` a leaky ReLU (slope 0.1). ``ordinal_weight_sharing`` ties the levels,
:math:`W_r = \\sum_{s \\le r} T_s`, so a rating shares what lower ones learnt. Dropout drops each
node's messages of a level at rate ``dropout`` (node dropout, rescaled, as DGL's example does it),
and the hidden units :math:`z_i`. With ``side_features``, :math:`u_i = W z_i + W_2^f \\mathrm{ReLU}(W_1^f x_i + b)`
for the node's feature vector :math:`x_i` (the paper's side-information layer).

The bilinear decoder gives the probability of each level,

.. math::  p(M_{ij} = r) = \\mathrm{softmax}_r\\big(u_i^\\top Q_r v_j\\big), \\qquad Q_r = \\sum_{s=1}^{b} a_{rs} P_s

(``num_basis`` :math:`b` shared matrices), and the predicted rating is the expectation
:math:`\\sum_r r\\, p(M_{ij} = r)`.

Shapes: the encoder graph (node types ``user`` and ``item``; edge types ``level<k>`` user->item and
``rev-level<k>`` item->user; node data ``norm`` :math:`1/\\sqrt{|\\mathcal{N}_i|}`, and ``feat``
with side features) -> ``(num_users, embedding_size)``, ``(num_items, embedding_size)``; a graph of ``E``
user -> item pairs (:func:`pair_graph`) -> logits ``(E, num_levels)``.
"""
from typing import Literal, Tuple

import dgl
import dgl.function as fn
import torch
import torch.nn.functional as F
from dgl import DGLGraph
from torch import nn

from ..config.groups import HyperparameterGroup, hyperparameter
from ._registry import register_model

SIDES = ("user", "item")
LEAKY_SLOPE = 0.1


def level_etype(level: int, reverse: bool = False) -> str:
    """The encoder graph's edge type of rating level ``level`` (user -> item; ``reverse``: item -> user)."""
    return f"rev-level{level}" if reverse else f"level{level}"


def rating_graph(pairs: torch.Tensor, levels: torch.Tensor, num_users: int, num_items: int,
                 num_levels: int) -> DGLGraph:
    """The encoder graph of ratings ``pairs`` ``(E, 2)`` (user, item) at level indices ``levels``
    ``(E,)``: edges of each level both ways, and each node's ``norm``, :math:`1/\\sqrt{\\text{its ratings}}`
    (1 without ratings)."""
    edges = {}
    for level in range(num_levels):
        users, items = pairs[levels == level].unbind(1)
        edges[("user", level_etype(level), "item")] = (users, items)
        edges[("item", level_etype(level, reverse=True), "user")] = (items, users)
    graph = dgl.heterograph(edges, num_nodes_dict={"user": num_users, "item": num_items})
    for side, column, size in (("user", 0, num_users), ("item", 1, num_items)):
        degrees = torch.bincount(pairs[:, column], minlength=size).float()
        graph.nodes[side].data["norm"] = degrees.clamp(min=1).pow(-0.5).unsqueeze(1)
    return graph


def pair_graph(users: torch.Tensor, items: torch.Tensor, num_users: int, num_items: int) -> DGLGraph:
    """The pairs to score, as edges user -> item (edge ``b`` is (``users[b]``, ``items[b]``))."""
    return dgl.heterograph({("user", "rates", "item"): (users, items)}, num_nodes_dict={"user": num_users,
                                                                                       "item": num_items})


class GCMCHyperparameters(HyperparameterGroup):
    """The GCMC encoder and decoder."""

    hidden_size: int = hyperparameter(500, "Hidden units of the graph convolution (over all rating levels).", gt=0)
    embedding_size: int = hyperparameter(75, "Size of the user and item embeddings the decoder reads.", gt=0)
    accumulation: Literal["stack", "sum"] = hyperparameter(
        "stack", "How the levels' messages combine: stack (hidden_size/levels units each) or sum.",
    )
    ordinal_weight_sharing: bool = hyperparameter(False, "W_r = T_1 + ... + T_r: levels share lower levels' weights.")
    dropout: float = hyperparameter(0.7, "Node dropout of the messages and dropout of the hidden units.",
                                    ge=0.0, lt=1.0)
    num_basis: int = hyperparameter(2, "Basis matrices shared by the levels' bilinear decoders.", gt=0)
    side_features: bool = hyperparameter(
        False, "Use the data's user and item features (MovieLens: demographics, genres; a .mat file's side graphs) "
        "through the side-information layer.",
    )
    side_hidden_size: int = hyperparameter(10, "Hidden units of the side-information layer.", gt=0)

    def inactive(self):
        return frozenset() if self.side_features else frozenset({"side_hidden_size"})


@register_model("gcmc", tasks=("rating_prediction",), hyperparameters=GCMCHyperparameters,
                defaults=dict(lr=0.01, max_grad_norm=1.0, epochs=2000, lr_scheduler="plateau", lr_decay=0.5,
                              lr_patience=50, min_lr=0.001, early_stopping_patience=200, ema_decay=0.995))
class GCMC(nn.Module):
    """GCMC: a one-layer graph auto-encoder of the rating graph with a bilinear decoder.

    Args:
        num_users, num_items: nodes of each side.
        levels: the rating levels, increasing (``[1.0, 2.0, 3.0, 4.0, 5.0]``).
        user_feats, item_feats: side-feature sizes (0: none; the side-information layer needs both).
        hidden_size, embedding_size, accumulation, ordinal_weight_sharing, dropout, num_basis,
        side_features, side_hidden_size: see :class:`GCMCHyperparameters`.
    """

    def __init__(self, num_users: int, num_items: int, levels: list, user_feats: int, item_feats: int,
                 hidden_size: int, embedding_size: int, accumulation: str, ordinal_weight_sharing: bool,
                 dropout: float, num_basis: int, side_features: bool, side_hidden_size: int):
        super().__init__()
        num_levels = len(levels)
        if accumulation == "stack" and hidden_size % num_levels:
            raise ValueError(f"accumulation=stack splits hidden_size={hidden_size} over {num_levels} rating levels; "
                             "set hidden_size to a multiple of the number of levels")
        units = hidden_size // num_levels if accumulation == "stack" else hidden_size
        self.accumulation, self.ordinal_weight_sharing, self.dropout = accumulation, ordinal_weight_sharing, dropout
        self.register_buffer("levels", torch.tensor(levels, dtype=torch.float32))
        # Level r's message table of each side, (levels, nodes, units): row j is W_r x_j for one-hot x_j.
        self.message_weights = nn.ParameterDict({
            "user": nn.Parameter(torch.empty(num_levels, num_users, units)),
            "item": nn.Parameter(torch.empty(num_levels, num_items, units)),
        })
        for weight in self.message_weights.values():
            for level in weight:
                nn.init.xavier_uniform_(level)
        self.dense = nn.ModuleDict({side: nn.Linear(hidden_size, embedding_size) for side in SIDES})
        self.side = None
        if side_features and user_feats and item_feats:
            self.side = nn.ModuleDict({
                side: nn.Sequential(nn.Linear(feats, side_hidden_size), nn.ReLU(),
                                    nn.Linear(side_hidden_size, embedding_size, bias=False))
                for side, feats in zip(SIDES, (user_feats, item_feats))
            })
        self.bases = nn.Parameter(torch.empty(num_basis, embedding_size, embedding_size))
        for basis in self.bases:
            nn.init.xavier_uniform_(basis)
        self.combine_bases = nn.Linear(num_basis, num_levels, bias=False)

    def encode(self, graph: DGLGraph) -> Tuple[torch.Tensor, torch.Tensor]:
        """User and item embeddings on the encoder ``graph``."""
        num_levels = len(self.levels)
        with graph.local_scope():
            functions = {}
            for source, reverse in (("user", False), ("item", True)):
                weights = self.message_weights[source]
                if self.ordinal_weight_sharing:
                    weights = torch.cumsum(weights, 0)
                norm = graph.nodes[source].data["norm"]
                for level in range(num_levels):
                    kept = F.dropout(norm, self.dropout, self.training)  # (N, 1): drops whole nodes
                    graph.nodes[source].data[f"m{level}"] = weights[level] * kept
                    functions[level_etype(level, reverse)] = (fn.copy_u(f"m{level}", "m"), fn.sum("m", "h"))
            graph.multi_update_all(functions, "stack" if self.accumulation == "stack" else "sum")
            outputs = []
            for side in SIDES:
                hidden = self._normalised(graph, side)
                hidden = F.dropout(F.leaky_relu(hidden.flatten(1), LEAKY_SLOPE), self.dropout, self.training)
                embedding = self.dense[side](hidden)
                if self.side is not None:
                    embedding = embedding + self.side[side](graph.nodes[side].data["feat"])
                outputs.append(embedding)
        return outputs[0], outputs[1]

    @staticmethod
    def _normalised(graph: DGLGraph, side: str) -> torch.Tensor:
        hidden, norm = graph.nodes[side].data["h"], graph.nodes[side].data["norm"]
        return hidden * (norm.unsqueeze(1) if hidden.dim() == 3 else norm)

    def decode(self, pairs: DGLGraph, user_embeddings: torch.Tensor, item_embeddings: torch.Tensor) -> torch.Tensor:
        """Logits ``(E, num_levels)`` of the edges of ``pairs`` (:func:`pair_graph`), from the embedding
        tables: each user is projected by every basis once, and each edge is a dot product per basis."""
        num_basis, size, _ = self.bases.shape
        projected = (user_embeddings @ self.bases.transpose(0, 1).reshape(size, num_basis * size)).view(-1, num_basis, size)
        per_basis = dgl.ops.u_dot_v(pairs, projected, item_embeddings.unsqueeze(1))  # (E, num_basis, 1)
        return self.combine_bases(per_basis.squeeze(-1))

    def forward(self, graph: DGLGraph, pairs: DGLGraph) -> torch.Tensor:
        """Logits ``(E, num_levels)`` of the user-item edges of ``pairs``, encoding ``graph``."""
        return self.decode(pairs, *self.encode(graph))

    def expected_rating(self, logits: torch.Tensor) -> torch.Tensor:
        """The predicted rating: the levels weighted by their probabilities, ``(B,)``."""
        return torch.softmax(logits, 1) @ self.levels
