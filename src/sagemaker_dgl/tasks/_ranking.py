"""Filtered ranking for link prediction: the known answers of each query, ranks, and metrics.

A triple ``(h, r, t)`` asks two queries: ``(h, r, ?)`` with answer ``t``, and ``(?, r, t)`` with
answer ``h``, written as the query ``(t, r + R, ?)`` of the reciprocal relation (``R``: the
number of relations). In the filtered setting (Bordes et al. 2013) every other known answer of a
query is removed from the candidates before the answer is ranked.

Ties: an answer that scores the same as ``n`` other candidates gets the mean of its optimistic
and pessimistic ranks, ``1 + #higher + n / 2`` (PyKEEN's "realistic" rank): a model that scores
every entity alike gets the rank of a random guess, not rank 1. A non-finite score ranks last.
"""
from typing import Dict, Tuple

import torch

HITS_AT = (1, 3, 10)


def queries(triples: torch.Tensor, num_relations: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The tail queries then the head queries of ``(N, 3)`` triples: ``(entity, relation, answer)``,
    each ``(2N,)``, head queries with relation ``r + num_relations``."""
    heads, relations, tails = triples.unbind(1)
    return (torch.cat([heads, tails]), torch.cat([relations, relations + num_relations]),
            torch.cat([tails, heads]))


class KnownAnswers:
    """Every answer of every query that ``triples`` ask (both directions), for filtering.

    Args:
        triples: ``(N, 3)`` true triples (for filtered evaluation: train, valid and test).
        num_relations: ``R``, the relations before reciprocals.
    """

    def __init__(self, triples: torch.Tensor, num_relations: int):
        entity, relation, answer = queries(triples, num_relations)
        self.num_keys = 2 * num_relations
        keys = entity * self.num_keys + relation
        order = torch.argsort(keys)
        self.keys, counts = torch.unique_consecutive(keys[order], return_counts=True)
        self.answers = answer[order]
        self.offsets = torch.cat([torch.zeros(1, dtype=torch.int64), torch.cumsum(counts, 0)])

    def of(self, entity: torch.Tensor, relation: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The known answers of a batch of queries, as ``(row in the batch, answer entity)`` pairs."""
        keys = entity * self.num_keys + relation
        position = torch.searchsorted(self.keys, keys).clamp(max=len(self.keys) - 1)
        found = self.keys[position] == keys
        start = self.offsets[position]
        counts = torch.where(found, self.offsets[position + 1] - start, torch.zeros_like(start))
        rows = torch.repeat_interleave(torch.arange(len(keys)), counts)
        first = torch.repeat_interleave(start - (torch.cumsum(counts, 0) - counts), counts)
        return rows, self.answers[first + torch.arange(len(rows))]

    def count(self, entity: torch.Tensor, relation: torch.Tensor) -> torch.Tensor:
        """How many known answers each query has."""
        rows, _ = self.of(entity, relation)
        return torch.bincount(rows, minlength=len(entity))


def filtered_ranks(scores: torch.Tensor, answers: torch.Tensor, known_rows: torch.Tensor,
                   known_answers: torch.Tensor) -> torch.Tensor:
    """The rank of each query's answer among the entities that are not other known answers.

    Args:
        scores: ``(B, num_entities)`` scores (changed in place).
        answers: ``(B,)`` the answer entity of each query.
        known_rows, known_answers: the known answers to remove, from :meth:`KnownAnswers.of`.
    """
    rows = torch.arange(len(answers), device=scores.device)
    scores.nan_to_num_(nan=-torch.inf)
    target = scores[rows, answers].clone()
    scores[known_rows, known_answers] = -torch.inf
    scores[rows, answers] = target
    higher = (scores > target[:, None]).sum(1)
    ties = (scores == target[:, None]).sum(1) - 1
    ranks = 1.0 + higher + ties / 2.0
    return torch.where(torch.isfinite(target), ranks, torch.full_like(ranks, scores.shape[1]))


def ranking_metrics(ranks: torch.Tensor, prefix: str) -> Dict[str, float]:
    """``{prefix}_mrr``, ``_mr`` and ``_hits@1/3/10`` of a 1-D tensor of ranks."""
    ranks = ranks.double()
    metrics = {f"{prefix}_mrr": (1.0 / ranks).mean().item(), f"{prefix}_mr": ranks.mean().item()}
    metrics.update({f"{prefix}_hits@{k}": (ranks <= k).double().mean().item() for k in HITS_AT})
    return metrics
