"""Relational Graph Convolutional Network (R-GCN).

Schlichtkrull, Kipf, Bloem, van den Berg, Titov & Welling, "Modeling Relational Data with Graph
Convolutional Networks", ESWC 2018, https://arxiv.org/abs/1703.06103 (reference code:
tkipf/relational-gcn; DGL: examples/pytorch/rgcn, whose layer, ``dgl.nn.RelGraphConv``, this uses).

Each layer computes, for node :math:`i` with neighbours :math:`\\mathcal{N}_i^r` under relation
:math:`r` (every relation and its inverse) and :math:`c_{i,r} = |\\mathcal{N}_i^r|`,

.. math::  h_i^{(l+1)} = \\sigma\\Big(\\sum_{r \\in \\mathcal{R}} \\sum_{j \\in \\mathcal{N}_i^r}
           \\frac{1}{c_{i,r}} W_r^{(l)} h_j^{(l)} + W_0^{(l)} h_i^{(l)} + b^{(l)}\\Big)

(:math:`W_0`: the self loop, ``self_loop``). To share parameters between relations, ``num_bases``
:math:`B` decomposes each :math:`W_r` into bases, :math:`W_r = \\sum_{b=1}^B a_{rb} V_b`
(``decomposition='basis'``), or into a block-diagonal matrix of :math:`B` blocks,
:math:`W_r = \\bigoplus_{b=1}^B Q_{rb}` (``'bdd'``: ``hidden_size`` must be divisible by
:math:`B`); ``num_bases`` -1 or 0 gives every relation its own :math:`W_r`. Entities have no
features, and ``input_layer`` says how the first layer sees them:

- ``relational`` (the paper's): the input is one-hot, so :math:`W_r^{(0)} h_j` is row :math:`j` of
  a per-relation table, and :math:`W_0^{(0)} h_i` row :math:`i` of a self-loop table
  (:class:`RelationalInputLayer`, ``nn.Embedding`` tables; with ``num_bases`` the tables are
  combinations of shared basis tables, ``bdd`` included since blocks of a one-hot input mean nothing);
- ``embedding`` (DGL's current examples): one learnt ``nn.Embedding`` row per entity, then
  ``num_layers`` ``RelGraphConv`` layers.

:math:`\\sigma` is ReLU, followed by dropout, on every layer but the last.

:math:`c_{i,r}` is counted on the graph (or sampled block) the layer runs on, so a block with every
neighbour kept computes the whole graph's layer exactly.

Shapes: a graph (or one block per layer) with ``edata['etype']`` ``(E,)`` and entity ids ``(N_src,)``
-> representations ``(N_dst, out_size)``.
"""
from typing import Literal, Optional, Sequence, Union

import dgl
import dgl.function as fn
import torch
import torch.nn.functional as F
from dgl import DGLGraph
from dgl.nn import RelGraphConv
from pydantic import model_validator
from torch import nn

from ..config.groups import HyperparameterGroup, hyperparameter
from ._kge import penalty
from ._registry import register_model


class RGCNLayers(HyperparameterGroup):
    """R-GCN layers and their weight sharing."""

    hidden_size: int = hyperparameter(16, "Entity embedding and hidden units per layer.", gt=0)
    num_layers: int = hyperparameter(2, "R-GCN layers, the output layer included.", ge=1, le=8)
    num_bases: int = hyperparameter(
        -1, "Bases (basis) or blocks (bdd) each relation's weight is decomposed into; -1 or 0: none "
        "(one full matrix per relation).", ge=-1,
    )
    decomposition: Literal["basis", "bdd"] = hyperparameter(
        "basis", "Weight decomposition when num_bases > 0: basis (shared bases) or bdd (block-diagonal; "
        "hidden_size must be divisible by num_bases).",
    )
    dropout: float = hyperparameter(0.0, "Dropout after each hidden layer.", ge=0.0, lt=1.0)
    self_loop: bool = hyperparameter(True, "Add each entity's own representation (W_0 h_i) in every layer.")

    @model_validator(mode="after")
    def _blocks_divide_hidden_size(self):
        if self.decomposition == "bdd" and self.num_bases > 0 and self.hidden_size % self.num_bases:
            raise ValueError(
                f"decomposition=bdd splits each relation's weight into num_bases={self.num_bases} blocks, which "
                f"needs hidden_size={self.hidden_size} divisible by it; set num_bases to a divisor of hidden_size "
                "(or decomposition=basis)"
            )
        return self


class RGCNHyperparameters(RGCNLayers):
    """R-GCN layers, their weight sharing and the input layer (entity classification)."""

    input_layer: Literal["relational", "embedding"] = hyperparameter(
        "relational", "First layer on the featureless entities: relational (the paper's: a row per entity and "
        "relation, as one-hot inputs give) or embedding (one embedding per entity, then num_layers R-GCN layers).",
    )


def relation_norm(graph: DGLGraph, num_relations: int) -> torch.Tensor:
    """``1 / c_{i,r}`` per edge, ``(E, 1)``: one over the number of edges of the edge's type into its
    destination, counted on ``graph`` (a whole graph or a block)."""
    _, dst = graph.edges()
    key = dst.long() * num_relations + graph.edata["etype"].long()
    _, inverse, counts = torch.unique(key, return_inverse=True, return_counts=True)
    return (1.0 / counts.float())[inverse].unsqueeze(1)


class RelationalInputLayer(nn.Module):
    """The first R-GCN layer on one-hot (featureless) entities: the message of edge j -> i of
    relation r is row j of a table :math:`W_r` ``(num_nodes, out_size)``, the self loop row i of
    :math:`W_0`. With ``num_bases`` > 0, :math:`W_r = \\sum_b a_{rb} V_b`, aggregated without
    materialising :math:`W_r` (one fused ``u_mul_e`` sum per basis).

    Shapes: a graph or block with ``edata['etype']``, entity ids of its source nodes ``(N_src,)``
    and edge norms ``(E, 1)`` -> ``(N_dst, out_size)``.
    """

    def __init__(self, num_nodes: int, num_relations: int, out_size: int, num_bases: int, self_loop: bool,
                 activation, dropout: float):
        super().__init__()
        self.num_nodes = num_nodes
        self.num_bases = num_bases
        bound = nn.init.calculate_gain("relu") * (6.0 / (num_nodes + out_size)) ** 0.5  # Glorot, per table
        if num_bases > 0:
            self.bases = nn.Parameter(torch.empty(num_bases, num_nodes, out_size).uniform_(-bound, bound))
            self.coefficients = nn.Parameter(torch.empty(num_relations, num_bases))
            nn.init.xavier_uniform_(self.coefficients, gain=nn.init.calculate_gain("relu"))
        else:
            self.weight = nn.Embedding(num_relations * num_nodes, out_size)
            nn.init.uniform_(self.weight.weight, -bound, bound)
        self.loop = nn.Embedding(num_nodes, out_size) if self_loop else None
        if self.loop is not None:
            nn.init.uniform_(self.loop.weight, -bound, bound)
        self.bias = nn.Parameter(torch.zeros(out_size))
        self.activation = activation
        self.dropout = nn.Dropout(dropout)

    def forward(self, graph: DGLGraph, node_ids: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
        src, _ = graph.edges()
        etype = graph.edata["etype"].long()
        with graph.local_scope():
            if self.num_bases > 0:
                graph.srcdata["v"] = self.bases[:, node_ids].transpose(0, 1)  # (N_src, B, out)
                graph.edata["w"] = (self.coefficients[etype] * norm).unsqueeze(-1)  # (E, B, 1)
                graph.update_all(fn.u_mul_e("v", "w", "m"), fn.sum("m", "h"))
                h = graph.dstdata["h"].sum(1)
            else:
                graph.edata["m"] = self.weight(etype * self.num_nodes + node_ids[src.long()]) * norm
                graph.update_all(fn.copy_e("m", "m"), fn.sum("m", "h"))
                h = graph.dstdata["h"]
        h = h + self.bias
        if self.loop is not None:
            h = h + self.loop(node_ids[: graph.num_dst_nodes()])
        if self.activation is not None:
            h = self.activation(h)
        return self.dropout(h)


class RGCNEncoder(nn.Module):
    """Entity embeddings followed by ``num_layers`` R-GCN layers: ``hidden_size`` units each, the
    last ``out_size`` (default ``hidden_size``) without activation or dropout.

    For link prediction, use it as is and score triples from its output (DistMult); entity
    classification sets ``out_size`` to the number of classes.

    Args:
        num_nodes: entities (rows of the embedding).
        num_relations: edge types, inverses included (``edata['etype']`` values are below it).
        hidden_size: embedding and hidden size.
        num_layers: R-GCN layers.
        num_bases: bases or blocks per relation weight; -1 or 0: none.
        decomposition: ``'basis'`` or ``'bdd'`` (when ``num_bases`` > 0). A last layer whose sizes
            ``num_bases`` does not divide uses ``'basis'``.
        dropout: dropout after each layer but the last.
        self_loop: add ``W_0 h_i`` in every layer.
        out_size: size of the last layer's output (None: ``hidden_size``).
        input_layer: ``'embedding'`` (one ``nn.Embedding`` row per entity, then ``num_layers``
            layers) or ``'relational'`` (the first of the ``num_layers`` layers is a
            :class:`RelationalInputLayer`).
    """

    def __init__(self, num_nodes: int, num_relations: int, hidden_size: int, num_layers: int, num_bases: int,
                 decomposition: str, dropout: float, self_loop: bool, out_size: Optional[int] = None,
                 input_layer: str = "embedding"):
        super().__init__()
        self.num_relations = num_relations
        self.relational_input = input_layer == "relational"
        self.embedding = None if self.relational_input else nn.Embedding(num_nodes, hidden_size)
        sizes = [hidden_size] * num_layers + [out_size or hidden_size]
        self.layers = nn.ModuleList()
        for index, (size_in, size_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = index == num_layers - 1
            if index == 0 and self.relational_input:
                self.layers.append(RelationalInputLayer(num_nodes, num_relations, size_out, num_bases, self_loop,
                                                        None if last else F.relu, 0.0 if last else dropout))
                continue
            kind = None if num_bases <= 0 else decomposition
            if kind == "bdd" and (size_in % num_bases or size_out % num_bases):
                kind = "basis"
            self.layers.append(RelGraphConv(
                size_in, size_out, num_relations, regularizer=kind,
                num_bases=num_bases if kind else None, self_loop=self_loop,
                activation=None if last else F.relu, dropout=0.0 if last else dropout,
            ))

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def input(self, node_ids: torch.Tensor) -> torch.Tensor:
        """What layer 0 takes for entities ``node_ids``: their embeddings, or the ids themselves
        (``relational`` input layer)."""
        return node_ids if self.relational_input else self.embedding(node_ids)

    def layer(self, index: int, graph: DGLGraph, h: torch.Tensor) -> torch.Tensor:
        """Apply layer ``index`` (with its activation and dropout) to ``h`` on ``graph``; the
        normalisation is ``graph.edata['norm']`` when present, else counted on ``graph``."""
        norm = graph.edata["norm"] if "norm" in graph.edata else relation_norm(graph, self.num_relations)
        if index == 0 and self.relational_input:
            return self.layers[0](graph, h, norm)
        return self.layers[index](graph, h, graph.edata["etype"], norm)

    def forward(self, graphs: Union[DGLGraph, Sequence[DGLGraph]], node_ids: torch.Tensor,
                num_layers: Optional[int] = None) -> torch.Tensor:
        """Representations of the destination nodes of the last graph (its nodes, for a whole
        graph): ``graphs`` is one graph for every layer or one block per layer, ``node_ids`` the
        entity ids of the first graph's source nodes. ``num_layers`` stops early (0: the embeddings)."""
        blocks = list(graphs) if isinstance(graphs, (list, tuple)) else [graphs] * len(self.layers)
        h = self.input(node_ids)
        for index in range(len(self.layers) if num_layers is None else num_layers):
            h = self.layer(index, blocks[index], h)
        return h


@register_model("rgcn", tasks=("entity_classification",), hyperparameters=RGCNHyperparameters,
                defaults=dict(num_bases=30, weight_decay=5e-4, lr=0.01, epochs=50, val_fraction=0.0))
class RGCN(nn.Module):
    """R-GCN entity classifier: an :class:`RGCNEncoder` whose last layer gives class logits.

    Args:
        num_nodes, num_relations, hidden_size, num_layers, num_bases, decomposition, input_layer,
        dropout, self_loop: as :class:`RGCNEncoder`.
        num_classes: number of classes.
    """

    def __init__(self, num_nodes: int, num_relations: int, num_classes: int, hidden_size: int, num_layers: int,
                 num_bases: int, decomposition: str, input_layer: str, dropout: float, self_loop: bool):
        super().__init__()
        self.encoder = RGCNEncoder(num_nodes, num_relations, hidden_size, num_layers, num_bases, decomposition,
                                   dropout, self_loop, out_size=num_classes, input_layer=input_layer)

    @property
    def num_layers(self) -> int:
        return self.encoder.num_layers

    def forward(self, graphs, node_ids: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N_dst, num_classes)``."""
        return self.encoder(graphs, node_ids)

    def embed(self, graphs, node_ids: torch.Tensor) -> torch.Tensor:
        """The representation before the output layer ``(N_dst, hidden_size)``."""
        return self.encoder(graphs, node_ids, num_layers=self.num_layers - 1)


class RGCNLinkHyperparameters(RGCNLayers):
    """R-GCN layers, their weight sharing and edge dropout (link prediction)."""

    edge_dropout: float = hyperparameter(
        0.5, "Share of each training batch's triples left out of the graph its messages pass on (they stay "
        "positives to score), as in the paper and DGL's example.", ge=0.0, lt=1.0,
    )


@register_model("rgcn", tasks=("link_prediction",), hyperparameters=RGCNLinkHyperparameters,
                defaults=dict(hidden_size=200, num_bases=40, decomposition="bdd", dropout=0.2,
                              training="negative_sampling", loss="bce", num_negatives=10, batch_size=30000,
                              regularizer="l2", regularization_weight=3e-5, optimizer="adam", lr=0.01,
                              max_grad_norm=1.0, epochs=600, eval_every=50, val_triples=2000))
class RGCNLinkPredictor(nn.Module):
    """R-GCN link prediction: an :class:`RGCNEncoder` (embedding input) gives each entity a
    representation :math:`\\mathbf{h}_i` from its neighbourhood, and DistMult scores triples from
    them, :math:`f(h, r, t) = \\langle \\mathbf{h}_h, \\mathbf{w}_r, \\mathbf{h}_t \\rangle`.

    Training runs on a small graph per batch of triples (:meth:`graph`: the batch's triples and
    their inverses, less ``edge_dropout`` of them); evaluation encodes the whole training graph
    once and scores every entity (:meth:`on_graph`).

    Args:
        num_entities: entities.
        num_relations: relations of the triples (the graph adds their inverses).
        hidden_size, num_layers, num_bases, decomposition, dropout, self_loop: as :class:`RGCNEncoder`.
        edge_dropout: share of a training batch's triples left out of its graph.
    """

    encodes_graph = True

    def __init__(self, num_entities: int, num_relations: int, hidden_size: int, num_layers: int, num_bases: int,
                 decomposition: str, dropout: float, self_loop: bool, edge_dropout: float):
        super().__init__()
        self.num_relations = num_relations
        self.edge_dropout = edge_dropout
        self.encoder = RGCNEncoder(num_entities, 2 * num_relations, hidden_size, num_layers, num_bases,
                                   decomposition, dropout, self_loop, input_layer="embedding")
        self.relation = nn.Embedding(num_relations, hidden_size)
        nn.init.xavier_uniform_(self.relation.weight, gain=nn.init.calculate_gain("relu"))

    def graph(self, triples: torch.Tensor, num_nodes: int) -> DGLGraph:
        """The message-passing graph of ``triples`` ``(E, 3)`` over nodes ``0..num_nodes-1``: each
        triple an edge of its relation and an inverse edge of relation ``r + R``, with
        ``edata['etype']`` and ``edata['norm']``; in training mode a random ``edge_dropout`` share of
        the triples is left out."""
        if self.training and self.edge_dropout > 0:
            kept = torch.randperm(len(triples), device=triples.device)[: round(len(triples) * (1 - self.edge_dropout))]
            triples = triples[kept]
        heads, relations, tails = triples.unbind(1)
        graph = dgl.graph((torch.cat([heads, tails]), torch.cat([tails, heads])), num_nodes=num_nodes)
        graph.edata["etype"] = torch.cat([relations, relations + self.num_relations])
        graph.edata["norm"] = relation_norm(graph, 2 * self.num_relations)
        return graph

    def on_graph(self, graph: DGLGraph, node_ids: torch.Tensor) -> "EncodedEntities":
        """Score triples among ``node_ids`` (the entities of ``graph``'s nodes) from their encoding on ``graph``."""
        return EncodedEntities(self.encoder(graph, node_ids), self.relation.weight)


class EncodedEntities:
    """DistMult over fixed entity representations: what :class:`RGCNLinkPredictor` computed on a
    graph, scored like a knowledge-graph-embedding model (same methods as
    :class:`~sagemaker_dgl.models._kge.KGEModel`; entity indices are rows of ``entities``)."""

    def __init__(self, entities: torch.Tensor, relations: torch.Tensor):
        self.entities, self.relations = entities, relations

    def __call__(self, heads, relations, tails):
        return (self.entities[heads] * self.relations[relations] * self.entities[tails]).sum(-1)

    def score_tails(self, heads, relations):
        return (self.entities[heads] * self.relations[relations]) @ self.entities.t()

    def score_heads(self, relations, tails):
        return self.score_tails(tails, relations)  # DistMult is symmetric

    def regularization(self, entities, relations, p: int):
        return penalty(self.entities[entities], self.relations[relations], p)

    def embeddings(self):
        return self.entities.detach(), self.relations.detach()
