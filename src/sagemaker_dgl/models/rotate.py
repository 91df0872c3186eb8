"""RotatE.

Sun et al., "RotatE: Knowledge Graph Embedding by Relational Rotation in Complex Space",
ICLR 2019, https://arxiv.org/abs/1902.10197 (reference code: DeepGraphLearning/KnowledgeGraphEmbedding).

Entities are complex vectors; a relation rotates each coordinate by a phase
:math:`\\theta_{r,k}` (:math:`w_{r,k} = e^{i\\theta_{r,k}}`, modulus 1), and

.. math::  f(h, r, t) = -\\sum_k \\big| e_{h,k}\\, w_{r,k} - e_{t,k} \\big|

(the paper's :math:`\\gamma - d` with the margin :math:`\\gamma` in the loss: hyperparameter
``margin``). Entities start uniform in :math:`\\pm(\\gamma + 2)/d` as in the paper, phases uniform
in :math:`\\pm\\pi`.

Shapes: index tensors broadcast to scores; ``score_tails`` gives ``(B, num_entities)``.
"""
import math

import torch
from torch import nn

from ._kge import GAMMA, KGEHyperparameters, KGEModel, Modulus, split_complex
from ._registry import register_model

@register_model("rotate", tasks=("link_prediction",), hyperparameters=KGEHyperparameters,
                defaults=dict(training="negative_sampling", margin=GAMMA, adversarial_temperature=1.0,
                              num_negatives=128, optimizer="adam", lr=0.001, batch_size=1024, epochs=50,
                              eval_every=5))
class RotatE(KGEModel):
    """RotatE.

    Args:
        num_entities, num_relations: table sizes.
        embedding_dim: complex dimensions (``2 * embedding_dim`` reals per entity, ``embedding_dim``
            phases per relation).
        sparse_embeddings: sparse gradients.
    """

    complex_entities = True

    def __init__(self, num_entities: int, num_relations: int, embedding_dim: int, sparse_embeddings: bool):
        super().__init__(num_entities, num_relations, 2 * embedding_dim, embedding_dim, sparse_embeddings)
        bound = (GAMMA + 2.0) / embedding_dim
        nn.init.uniform_(self.entity.weight, -bound, bound)
        nn.init.uniform_(self.relation.weight, -math.pi, math.pi)

    def interaction(self, h, r, t):
        (h_re, h_im), (t_re, t_im) = split_complex(h), split_complex(t)
        cos, sin = torch.cos(r), torch.sin(r)
        if h.numel() > t.numel():  # many heads for one tail: rotate the tail back once, |h r - t| = |h - t conj(r)|
            q_re, q_im = t_re * cos + t_im * sin, t_im * cos - t_re * sin
            return -Modulus.apply(h_re - q_re, h_im - q_im).sum(-1)
        q_re, q_im = h_re * cos - h_im * sin, h_re * sin + h_im * cos
        return -Modulus.apply(q_re - t_re, q_im - t_im).sum(-1)
