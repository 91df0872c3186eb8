"""DistMult.

Yang et al., "Embedding Entities and Relations for Learning and Inference in Knowledge Bases",
ICLR 2015, https://arxiv.org/abs/1412.6575 (DGL-KE, PyKEEN and LibKGE implement it).

A triple's score is the trilinear product of real embeddings,

.. math::  f(h, r, t) = \\langle \\mathbf{e}_h, \\mathbf{w}_r, \\mathbf{e}_t \\rangle = \\sum_k e_{h,k}\\, w_{r,k}\\, e_{t,k}

which is symmetric in head and tail. Scoring every tail is one product ``(e_h * w_r) @ E^T``.

Shapes: index tensors broadcast to scores; ``score_tails`` gives ``(B, num_entities)``.
"""
from torch import nn

from ._kge import KGEHyperparameters, KGEModel
from ._registry import register_model

#: The benchmark configuration (benchmarks/RESULTS.md): 1-vs-all with reciprocal relations and N3.
BILINEAR_DEFAULTS = dict(embedding_dim=100, training="1vsall", regularizer="n3", regularization_weight=0.05,
                         optimizer="adagrad", lr=0.1, batch_size=1000, epochs=20, eval_every=2)


@register_model("distmult", tasks=("link_prediction",), hyperparameters=KGEHyperparameters,
                defaults=BILINEAR_DEFAULTS)
class DistMult(KGEModel):
    """DistMult.

    Args:
        num_entities, num_relations: table sizes.
        embedding_dim: embedding size.
        sparse_embeddings: sparse gradients.
    """

    def __init__(self, num_entities: int, num_relations: int, embedding_dim: int, sparse_embeddings: bool):
        super().__init__(num_entities, num_relations, embedding_dim, embedding_dim, sparse_embeddings)
        for table in (self.entity, self.relation):
            nn.init.normal_(table.weight, std=1e-3)  # small initial norms, as Lacroix et al. (kbc)

    def interaction(self, h, r, t):
        return (h * r * t).sum(-1)

    def _against_all(self, known, r, tail):
        return (known * r) @ self.entity.weight.t()  # symmetric: heads and tails alike
