"""TransE.

Bordes et al., "Translating Embeddings for Modeling Multi-relational Data", NeurIPS 2013.

A relation is a translation: a true triple has its tail near head plus relation,

.. math::  f(h, r, t) = -\\lVert \\mathbf{e}_h + \\mathbf{w}_r - \\mathbf{e}_t \\rVert_p , \\quad p \\in \\{1, 2\\}

Scoring every tail is ``-cdist(e_h + w_r, E, p)``, every head ``-cdist(e_t - w_r, E, p)``.
Embeddings start uniform in :math:`\\pm(\\gamma + 2)/d` (:math:`\\gamma = 9`), as in RotatE's
reference code, whose training (margin :math:`\\gamma`, self-adversarial negatives) the defaults follow;
at the paper's :math:`\\pm 6/\\sqrt{d}` the initial L1 distances are about 9 times the margin.

Shapes: index tensors broadcast to scores; ``score_tails`` gives ``(B, num_entities)``.
"""
from typing import Literal

import torch
from torch import nn

from ..config.groups import hyperparameter
from ._kge import GAMMA, KGEHyperparameters, KGEModel
from ._registry import register_model


class TransEHyperparameters(KGEHyperparameters):
    """TransE's embeddings and its distance."""

    p_norm: Literal[1, 2] = hyperparameter(1, "The distance: 1 (L1, the usual choice) or 2 (L2).")


@register_model("transe", tasks=("link_prediction",), hyperparameters=TransEHyperparameters,
                defaults=dict(training="negative_sampling", margin=GAMMA, adversarial_temperature=1.0,
                              num_negatives=128, optimizer="adam", lr=0.001, batch_size=1024, epochs=50,
                              eval_every=5))
class TransE(KGEModel):
    """TransE.

    Args:
        num_entities, num_relations: table sizes.
        embedding_dim: embedding size.
        sparse_embeddings: sparse gradients.
        p_norm: 1 or 2.
    """

    def __init__(self, num_entities: int, num_relations: int, embedding_dim: int, sparse_embeddings: bool,
                 p_norm: int):
        super().__init__(num_entities, num_relations, embedding_dim, embedding_dim, sparse_embeddings)
        self.p_norm = p_norm
        bound = (GAMMA + 2.0) / embedding_dim
        for table in (self.entity, self.relation):
            nn.init.uniform_(table.weight, -bound, bound)

    def interaction(self, h, r, t):
        # Add the relation on the smaller side: many heads (corrupted, or all) against one tail.
        difference = h - (t - r) if h.numel() > t.numel() else (h + r) - t
        return -torch.linalg.vector_norm(difference, ord=self.p_norm, dim=-1)

    def _against_all(self, known, r, tail):
        query = known + r if tail else known - r
        return -torch.cdist(query, self.entity.weight, p=self.p_norm)
