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

#: Most score-tensor elements (queries x entities x dimensions) materialised at once.
CHUNK_ELEMENTS = 1 << 25


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
        """Default: the interaction with every entity, in chunks of queries that fit in memory."""
        entities = self.entity.weight
        chunk = max(1, CHUNK_ELEMENTS // (entities.shape[0] * entities.shape[1]))
        parts = []
        for start in range(0, known.shape[0], chunk):
            q, rel = known[start : start + chunk, None], r[start : start + chunk, None]
            parts.append(self.interaction(q, rel, entities[None]) if tail else self.interaction(entities[None], rel, q))
        return torch.cat(parts)

    def regularization(self, entities: torch.Tensor, relations: torch.Tensor, p: int) -> torch.Tensor:
        """:func:`penalty` of the embeddings of ``entities (B, k)`` (a triple's head and tail) and
        ``relations (B,)``."""
        return penalty(self.entity(entities), self.relation(relations), p, self.complex_entities,
                       self.complex_relations)

    def embeddings(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The entity and relation tables, ``(num_entities, entity_dim)`` and ``(num_relations, relation_dim)``."""
        return self.entity.weight.detach(), self.relation.weight.detach()


def penalty(entity: torch.Tensor, relation: torch.Tensor, p: int, complex_entities: bool = False,
            complex_relations: bool = False) -> torch.Tensor:
    """Mean over a batch of the summed ``|x|^p`` of its embeddings, ``entity (B, k, d)`` and
    ``relation (B, d)``. N3 is ``p=3`` on the moduli of complex numbers (Lacroix et al. 2018); L2
    is ``p=2``."""
    entity = _modulus(entity) if complex_entities else entity.abs()
    relation = _modulus(relation) if complex_relations else relation.abs()
    return (entity.pow(p).sum((-2, -1)) + relation.pow(p).sum(-1)).mean()


def _modulus(x: torch.Tensor) -> torch.Tensor:
    """Moduli of complex numbers stored as [real | imaginary] halves of the last dimension."""
    real, imaginary = x.chunk(2, dim=-1)
    return torch.sqrt(real**2 + imaginary**2 + 1e-12)


def split_complex(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The real and imaginary halves of the last dimension."""
    return x.chunk(2, dim=-1)
