"""ComplEx.

Trouillon et al., "Complex Embeddings for Simple Link Prediction", ICML 2016,
https://arxiv.org/abs/1606.06357; with N3 regularisation and reciprocal relations as in Lacroix
et al., "Canonical Tensor Decomposition for Knowledge Base Completion", ICML 2018 (kbc).

Embeddings are complex vectors (stored as real and imaginary halves); a triple's score is

.. math::  f(h, r, t) = \\mathrm{Re}\\Big(\\sum_k e_{h,k}\\, w_{r,k}\\, \\overline{e_{t,k}}\\Big)

which, unlike DistMult, can model asymmetric relations. Scoring every tail (or head) is one
matrix product with the entity table.

Shapes: index tensors broadcast to scores; ``score_tails`` gives ``(B, num_entities)``.
"""
import torch
from torch import nn

from ._kge import KGEHyperparameters, KGEModel, split_complex
from ._registry import register_model
from .distmult import BILINEAR_DEFAULTS


@register_model("complex", tasks=("link_prediction",), hyperparameters=KGEHyperparameters,
                defaults=BILINEAR_DEFAULTS)
class ComplEx(KGEModel):
    """ComplEx.

    Args:
        num_entities, num_relations: table sizes.
        embedding_dim: complex dimensions (``2 * embedding_dim`` reals per embedding).
        sparse_embeddings: sparse gradients.
    """

    complex_entities = True
    complex_relations = True

    def __init__(self, num_entities: int, num_relations: int, embedding_dim: int, sparse_embeddings: bool):
        super().__init__(num_entities, num_relations, 2 * embedding_dim, 2 * embedding_dim, sparse_embeddings)
        for table in (self.entity, self.relation):
            nn.init.normal_(table.weight, std=1e-3)

    def interaction(self, h, r, t):
        (h_re, h_im), (r_re, r_im), (t_re, t_im) = split_complex(h), split_complex(r), split_complex(t)
        return ((h_re * r_re - h_im * r_im) * t_re + (h_re * r_im + h_im * r_re) * t_im).sum(-1)

    def _against_all(self, known, r, tail):
        (k_re, k_im), (r_re, r_im) = split_complex(known), split_complex(r)
        if tail:  # Re(h r conj(t)) = [Re(h r), Im(h r)] . [t_re, t_im]
            query = torch.cat([k_re * r_re - k_im * r_im, k_re * r_im + k_im * r_re], -1)
        else:  # = [Re(r conj(t)), -Im(r conj(t))] . [h_re, h_im], with known = t
            query = torch.cat([r_re * k_re + r_im * k_im, r_re * k_im - r_im * k_re], -1)
        return query @ self.entity.weight.t()
