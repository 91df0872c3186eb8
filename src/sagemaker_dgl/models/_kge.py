"""What every knowledge-graph-embedding model shares: embedding tables, scoring a batch of
triples, scoring every entity as the tail (or head) of a batch of queries, and regularisation.

A model defines :meth:`KGEModel.interaction`, the score of embedded triples, broadcast over
leading dimensions (higher is more plausible). Scoring against every entity defaults to that
interaction in chunks; bilinear models override it with one matrix product.
"""
from typing import Tuple

import torch
from torch import nn

from ..config.groups import HyperparameterGroup, hyperparameter

#: The margin gamma of RotatE's reference code on FB15k-237, for its RotatE and TransE: their
#: default margin, and the scale of their initial embeddings, uniform in +-(gamma + 2) / dim.
GAMMA = 9.0

#: Queries, and score-tensor elements (queries x entities x dimensions), of one block of
#: all-entity scoring: small enough to stay in the CPU's cache (3x faster on RotatE than large blocks).
QUERY_BLOCK, BLOCK_ELEMENTS = 16, 1 << 20


class KGEHyperparameters(HyperparameterGroup):
    """Embedding tables of a knowledge-graph-embedding model."""

    embedding_dim: int = hyperparameter(
        200, "Embedding size (complex dimensions for ComplEx and RotatE: each takes two reals).", gt=0
    )
    sparse_embeddings: bool = hyperparameter(
        False, "Sparse embedding gradients (only the rows of a batch are updated; SparseAdam or sparse Adagrad). "
        "Only with training=negative_sampling.",
    )


class KGEModel(nn.Module):
    """Entity and relation embeddings and a scoring function.

    Args:
        num_entities, num_relations: table sizes (relations include the reciprocal ones when the
            task adds them).
        entity_dim, relation_dim: real numbers per entity and per relation.
        sparse: sparse gradients for both tables.
    """

    #: True when entity (relation) embeddings are complex numbers stored as [real | imaginary] halves.
    complex_entities = False
    complex_relations = False

    def __init__(self, num_entities: int, num_relations: int, entity_dim: int, relation_dim: int, sparse: bool):
        super().__init__()
        self.entity = nn.Embedding(num_entities, entity_dim, sparse=sparse)
        self.relation = nn.Embedding(num_relations, relation_dim, sparse=sparse)

    def interaction(self, h: torch.Tensor, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Scores of embedded triples, broadcast over all but the last dimension."""
        raise NotImplementedError

    def forward(self, heads: torch.Tensor, relations: torch.Tensor, tails: torch.Tensor) -> torch.Tensor:
        """Scores of index triples (broadcast: ``heads (B, 1)`` with ``tails (B, K)`` gives ``(B, K)``)."""
        return self.interaction(self.entity(heads), self.relation(relations), self.entity(tails))

    def score_tails(self, heads: torch.Tensor, relations: torch.Tensor) -> torch.Tensor:
        """``(B, num_entities)``: the score of every entity as the tail of ``(head, relation, ?)``."""
        return self._against_all(self.entity(heads), self.relation(relations), tail=True)

    def score_heads(self, relations: torch.Tensor, tails: torch.Tensor) -> torch.Tensor:
        """``(B, num_entities)``: the score of every entity as the head of ``(?, relation, tail)``."""
        return self._against_all(self.entity(tails), self.relation(relations), tail=False)

    def _against_all(self, known: torch.Tensor, r: torch.Tensor, tail: bool) -> torch.Tensor:
        """Default: the interaction with every entity, block by block (:func:`blockwise`)."""
        entities = self.entity.weight

        def score(rows, columns):
            query, relation, others = known[rows, None], r[rows, None], entities[None, columns]
            return self.interaction(query, relation, others) if tail else self.interaction(others, relation, query)

        return blockwise(len(known), len(entities), entities.shape[1], score)

    def regularization(self, entities: torch.Tensor, relations: torch.Tensor, p: int) -> torch.Tensor:
        """:func:`penalty` of the embeddings of ``entities (B, k)`` (a triple's head and tail) and
        ``relations (B,)``."""
        return penalty(self.entity(entities), self.relation(relations), p, self.complex_entities,
                       self.complex_relations)

    def embeddings(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The entity and relation tables, ``(num_entities, entity_dim)`` and ``(num_relations, relation_dim)``."""
        return self.entity.weight.detach(), self.relation.weight.detach()


def blockwise(num_queries: int, num_entities: int, dim: int, score) -> torch.Tensor:
    """``(num_queries, num_entities)`` scores assembled from ``score(rows, columns)``, a block of
    :data:`QUERY_BLOCK` queries (a slice) against as many entities (a slice) as keep the block's
    ``queries x entities x dim`` elements under :data:`BLOCK_ELEMENTS`."""
    width = max(1, BLOCK_ELEMENTS // (QUERY_BLOCK * dim))
    rows = [torch.cat([score(slice(start, start + QUERY_BLOCK), slice(column, column + width))
                       for column in range(0, num_entities, width)], 1)
            for start in range(0, num_queries, QUERY_BLOCK)]
    return torch.cat(rows) if rows else torch.empty(0, num_entities)


def penalty(entity: torch.Tensor, relation: torch.Tensor, p: int, complex_entities: bool = False,
            complex_relations: bool = False) -> torch.Tensor:
    """Mean over a batch of the summed ``|x|^p`` of its embeddings, ``entity (B, k, d)`` and
    ``relation (B, d)``. N3 is ``p=3`` on the moduli of complex numbers (Lacroix et al. 2018); L2
    is ``p=2``."""
    entity = _modulus(entity) if complex_entities else entity.abs()
    relation = _modulus(relation) if complex_relations else relation.abs()
    return (entity.pow(p).sum((-2, -1)) + relation.pow(p).sum(-1)).mean()


class Modulus(torch.autograd.Function):
    """``|re + i im|`` in one fused pass (``torch.hypot``), with gradient 0 where both parts are 0:
    ``hypot``'s own gradient there is NaN (0/0), which once diverged RotatE's training at epoch 3."""

    @staticmethod
    def forward(ctx, re: torch.Tensor, im: torch.Tensor) -> torch.Tensor:
        result = torch.hypot(re, im)
        ctx.save_for_backward(re, im, result)
        return result

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        re, im, result = ctx.saved_tensors
        scale = grad / result.clamp_min(torch.finfo(result.dtype).tiny)
        return scale * re, scale * im


def _modulus(x: torch.Tensor) -> torch.Tensor:
    """Moduli of complex numbers stored as [real | imaginary] halves of the last dimension."""
    real, imaginary = x.chunk(2, dim=-1)
    return torch.sqrt(real**2 + imaginary**2 + 1e-12)


def split_complex(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The real and imaginary halves of the last dimension."""
    return x.chunk(2, dim=-1)
