"""Link prediction on a knowledge graph: rank the missing entity of ``(h, r, ?)`` and ``(?, r, t)``.

The data is :class:`~sagemaker_dgl.data.TripleData` (train, valid and test triples). Three ways
to train a scoring model ``f(h, r, t)`` (``training``):

- ``1vsall``: each training triple scores every entity as its tail; the loss is the cross-entropy
  of the true tail (``loss=softmax``) or a binary cross-entropy summed over all entities (``bce``);
- ``kvsall``: each distinct ``(h, r)`` of the training data scores every entity, with all its
  known tails as positives (``bce``, optional ``label_smoothing``) as in ConvE and LibKGE;
- ``negative_sampling``: each triple against ``num_negatives`` random corruptions of its head or
  tail (half of a batch each), with the logistic loss with margin :math:`\\gamma`
  (``logistic``, RotatE's: :math:`-\\log\\sigma(\\gamma + f^+) - \\sum_i w_i \\log\\sigma(-\\gamma - f^-_i)`),
  the margin ranking loss :math:`\\max(0, \\gamma - f^+ + f^-)` (``margin``, TransE's), or
  ``bce``. The weights :math:`w_i` are uniform, or self-adversarial,
  :math:`\\mathrm{softmax}(\\alpha f^-)` without gradient, with ``adversarial_temperature`` :math:`\\alpha > 0`.

With ``reciprocal_relations`` each relation ``r`` gets an inverse ``r + R`` and a head query
``(?, r, t)`` becomes the tail query ``(t, r + R, ?)`` (Lacroix et al. 2018; LibKGE's best
FB15k-237 results use it); otherwise heads are scored with ``score_heads``. Regularisation
(``regularizer``): L2 or N3 of the embeddings of each batch's triples, times ``regularization_weight``.

Evaluation ranks the answer of both queries of every triple against all entities in the
filtered setting (:mod:`._ranking`, ties at the mean rank) and reports MRR, MR and Hits@1/3/10;
``val_mrr`` is the objective. During training, validation ranks ``val_triples`` triples (a
fixed seeded subset; 0: all); the final test metrics always use every test triple.
"""
import logging
from pathlib import Path
from typing import Dict, List, Literal, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..artifacts import read_ids, write_ids
from ..config.groups import HyperparameterGroup, hyperparameter
from ..data import TripleData
from ..errors import ConfigError, SageMakerDGLError
from ..models import MODELS
from ..registry import closest
from ._base import Objective, Predictor, Step, Task, register_task
from ._ranking import HITS_AT, KnownAnswers, filtered_ranks, queries, ranking_metrics

logger = logging.getLogger(__name__)

SPLITS = {"train": "train", "val": "valid", "test": "test"}
RANKING = ("mrr", "mr", *(f"hits@{k}" for k in HITS_AT))
ENTITIES_FILE, RELATIONS_FILE, NAMES_FILE = "entities.tsv", "relations.tsv", "entity_names.tsv"
ENTITY_EMBEDDINGS, RELATION_EMBEDDINGS, TRAIN_TRIPLES = "entity_embeddings.npy", "relation_embeddings.npy", "train_triples.npy"


class LinkPredictionHyperparameters(HyperparameterGroup):
    """Hyperparameters of link prediction."""

    training: Literal["1vsall", "kvsall", "negative_sampling"] = hyperparameter(
        "1vsall", "How each batch is scored: 1vsall (every entity as the tail of each triple), kvsall (every entity "
        "for each distinct (head, relation), all known tails positive) or negative_sampling.",
    )
    reciprocal_relations: Optional[bool] = hyperparameter(
        None, "Add an inverse relation per relation and ask head queries as tail queries of the inverse. Unset: "
        "true for 1vsall and kvsall, false for negative_sampling.",
    )
    loss: Literal["auto", "softmax", "bce", "logistic", "margin"] = hyperparameter(
        "auto", "softmax (1vsall), bce, logistic (with margin gamma, RotatE's) or margin (ranking, TransE's; both "
        "negative_sampling only). auto: softmax for 1vsall, bce for kvsall, logistic for negative_sampling.",
    )
    margin: float = hyperparameter(1.0, "The margin gamma of the logistic and margin losses.", ge=0.0)
    num_negatives: int = hyperparameter(128, "Corrupted triples per positive (negative_sampling).", gt=0)
    adversarial_temperature: float = hyperparameter(
        0.0, "Self-adversarial weighting of the negatives (RotatE: 1.0); 0: uniform weights.", ge=0.0
    )
    label_smoothing: float = hyperparameter(0.0, "Label smoothing of kvsall's targets.", ge=0.0, lt=1.0)
    batch_size: int = hyperparameter(1000, "Training triples (queries for kvsall) per batch.", gt=0)
    regularizer: Literal["none", "l2", "n3"] = hyperparameter(
        "none", "Penalty on each batch's embeddings: l2, or n3 (the cubed moduli, Lacroix et al. 2018).",
    )
    regularization_weight: float = hyperparameter(0.0, "Weight of the regularizer.", ge=0.0)
    val_triples: int = hyperparameter(
        0, "Validation triples ranked at each evaluation during training (a fixed seeded subset; 0: all).", ge=0
    )
    eval_batch_size: int = hyperparameter(512, "Queries scored at once in evaluation.", gt=0, resumable=True)

    @property
    def reciprocal(self) -> bool:
        return self.reciprocal_relations if self.reciprocal_relations is not None else self.training != "negative_sampling"

    @property
    def resolved_loss(self) -> str:
        if self.loss != "auto":
            return self.loss
        return {"1vsall": "softmax", "kvsall": "bce", "negative_sampling": "logistic"}[self.training]

    def inactive(self):
        inactive = set()
        if self.training != "negative_sampling":
            inactive |= {"num_negatives", "adversarial_temperature"}
        if self.training != "kvsall":
            inactive.add("label_smoothing")
        if self.resolved_loss not in ("logistic", "margin"):
            inactive.add("margin")
        if self.regularizer == "none":
            inactive.add("regularization_weight")
        return frozenset(inactive)


class LinkPredictionPredictor(Predictor):
    """Answers ``(head, relation, ?)`` and ``(?, relation, tail)`` with the top-k entities::

        predictor = sagemaker_dgl.load_model("model")
        predictor.predict_tails("/m/02mjmr", "/people/person/nationality", k=5)
        # [{'entity': '/m/09c7w0', 'name': 'United States of America', 'score': 12.3}, ...]

    Entities and relations are given by their ids in the data files. ``filter_known=True`` leaves
    out the answers already in the training triples.
    """

    def __init__(self, model, config, model_dir, device):
        super().__init__(model, config, model_dir, device)
        self.entities = read_ids(self.model_dir / ENTITIES_FILE)
        self.relations = read_ids(self.model_dir / RELATIONS_FILE)
        names = self.model_dir / NAMES_FILE
        self.names = dict(line.split("\t", 1) for line in names.read_text().splitlines()) if names.is_file() else {}
        self.entity_index = {entity: index for index, entity in enumerate(self.entities)}
        self.relation_index = {relation: index for index, relation in enumerate(self.relations)}
        self._known: Optional[KnownAnswers] = None
        self._scorer = None

    def predict_tails(self, head: str, relation: str, k: int = 10, filter_known: bool = True) -> List[Dict]:
        """The ``k`` best tails of ``(head, relation, ?)``."""
        return self._top(self._index(head, self.entity_index, "entity"), self._index(relation, self.relation_index,
                                                                                    "relation"), k, filter_known)

    def predict_heads(self, relation: str, tail: str, k: int = 10, filter_known: bool = True) -> List[Dict]:
        """The ``k`` best heads of ``(?, relation, tail)``."""
        relation_id = self._index(relation, self.relation_index, "relation") + len(self.relations)
        return self._top(self._index(tail, self.entity_index, "entity"), relation_id, k, filter_known)

    def _top(self, entity: int, relation: int, k: int, filter_known: bool) -> List[Dict]:
        query_entity, query_relation = torch.tensor([entity]), torch.tensor([relation])
        with torch.no_grad():
            scores = score_queries(self.scorer(), query_entity.to(self.device), query_relation.to(self.device),
                                   len(self.relations), self.config["data"]["reciprocal_relations"]).cpu()[0]
        if filter_known:
            _, answers = self._known_answers().of(query_entity, query_relation)
            scores[answers] = -torch.inf
        values, indices = torch.topk(scores, min(k, len(scores)))
        return [{"entity": self.entities[i], "name": self.names.get(self.entities[i], ""), "score": float(v)}
                for v, i in zip(values.tolist(), indices.tolist()) if v > -torch.inf]

    def scorer(self):
        """What scores the queries: the model, or for R-GCN its encoding of the training graph (computed once)."""
        if self._scorer is None:
            self._scorer = whole_graph_scorer(self.model, self._train_triples(), len(self.entities), self.device)
        return self._scorer

    def _known_answers(self) -> KnownAnswers:
        if self._known is None:
            self._known = KnownAnswers(self._train_triples(), len(self.relations))
        return self._known

    def _train_triples(self) -> torch.Tensor:
        return torch.from_numpy(np.load(self.model_dir / TRAIN_TRIPLES))

    @staticmethod
    def _index(name: str, index: Dict[str, int], kind: str) -> int:
        if name not in index:
            close = closest(name, list(index))
            raise SageMakerDGLError(f"unknown {kind} {name!r}" + (f" (did you mean {close!r}?)" if close else "")
                                    + f"; the model knows {len(index)} {kind} ids from the training data")
        return index[name]


def encodes_graph(model) -> bool:
    """Whether ``model`` computes entity representations on a graph (R-GCN) rather than looking up embeddings."""
    return getattr(model, "encodes_graph", False)


def whole_graph_scorer(model, train_triples: torch.Tensor, num_entities: int, device: torch.device):
    """What scores triples in evaluation: a KGE model itself; for a graph encoder, its encoding of
    the whole training graph (every entity), computed once without gradients."""
    if not encodes_graph(model):
        return model
    with torch.no_grad():
        graph = model.graph(train_triples.to(device), num_entities)
        return model.on_graph(graph, torch.arange(num_entities, device=device))


def score_queries(model, entity: torch.Tensor, relation: torch.Tensor, num_relations: int, reciprocal: bool):
    """``(B, num_entities)`` scores of the queries ``(entity, relation, ?)``, with head queries as
    relations ``>= num_relations`` (scored with the reciprocal relation, or as heads)."""
    if reciprocal:
        return model.score_tails(entity, relation)
    inverse = relation >= num_relations
    if not inverse.any():
        return model.score_tails(entity, relation)
    if inverse.all():
        return model.score_heads(relation - num_relations, entity)
    raise ValueError("a batch mixes head and tail queries")


@register_task("link_prediction")
class LinkPrediction(Task):
    """Rank missing heads and tails of knowledge-graph triples."""

    hyperparameters = LinkPredictionHyperparameters
    size_names = ("num_entities", "num_relations")
    objective = Objective("val_mrr", "max", tie_breaker=("val_mr", "min"))
    logged_metrics = ("train_loss", *(f"{split}_{metric}" for split in ("val", "test") for metric in RANKING))
    data_type = TripleData
    default_dataset = "fb15k-237"
    predictor = LinkPredictionPredictor
    divergence_hint = "lower lr, or add a regularizer (n3 for bilinear models)"

    @classmethod
    def check_hyperparameters(cls, hp):
        task, loss = hp.task, hp.task.resolved_loss
        if loss == "softmax" and task.training == "negative_sampling":
            raise ConfigError("loss=softmax needs training=1vsall or kvsall; with negative_sampling use logistic, "
                              "margin or bce")
        if loss in ("logistic", "margin") and task.training != "negative_sampling":
            raise ConfigError(f"loss={loss} needs training=negative_sampling; with {task.training} use softmax or bce")
        if task.training == "kvsall" and not task.reciprocal:
            raise ConfigError("training=kvsall needs reciprocal_relations=true (head queries are tail queries of "
                              "the inverse relations)")
        if encodes_graph(MODELS.spec(hp.common.model, "link_prediction").model_class):
            if task.training != "negative_sampling" or task.reciprocal:
                raise ConfigError(f"model {hp.common.model!r} trains on a sampled graph per batch, with negatives from "
                                  "that graph: it needs training=negative_sampling and reciprocal_relations=false")
        if getattr(hp.model, "sparse_embeddings", False) and task.training != "negative_sampling":
            raise ConfigError(f"sparse_embeddings=true needs training=negative_sampling: {task.training} scores "
                              "every entity, so every row of the entity table gets a gradient")

    def __init__(self, hp, data: TripleData, channels, device):
        super().__init__(hp, data, channels, device)
        self.num_entities, self.num_relations = len(data.entities), len(data.relations)
        self.reciprocal = hp.task.reciprocal
        self.loss_name = hp.task.resolved_loss
        self.triples = {split: data.splits[name] for split, name in SPLITS.items()}
        self.known = KnownAnswers(torch.cat(list(self.triples.values())), self.num_relations)
        if hp.task.training == "kvsall":
            self.train_known = KnownAnswers(self.triples["train"], self.num_relations)
            entity, relation, _ = queries(self.triples["train"], self.num_relations)
            self.kvsall_queries = torch.unique(torch.stack([entity, relation], 1), dim=0)
        self.val_subset = None
        if 0 < hp.task.val_triples < len(self.triples["val"]):
            order = torch.randperm(len(self.triples["val"]), generator=torch.Generator().manual_seed(hp.common.seed))
            self.val_subset = order[: hp.task.val_triples]

    def model_sizes(self):
        return {"num_entities": self.num_entities,
                "num_relations": self.num_relations * (2 if self.reciprocal else 1)}

    def data_facts(self):
        return {"dataset": self.data.name, "num_entities": self.num_entities, "num_relations": self.num_relations,
                "reciprocal_relations": self.reciprocal,
                **{f"num_{split}_triples": len(triples) for split, triples in self.triples.items()},
                **self.data.info}

    # --- Training ---
    def train_batches(self, epoch):
        examples = self._training_examples()
        order = torch.randperm(len(examples))
        size = self.hp.task.batch_size
        return (examples[order[start : start + size]] for start in range(0, len(examples), size))

    def _training_examples(self) -> torch.Tensor:
        """Rows a batch is drawn from: kvsall's (entity, relation) queries, else triples (with their
        reciprocals when those are used)."""
        if self.hp.task.training == "kvsall":
            return self.kvsall_queries
        if self.reciprocal:
            entity, relation, answer = queries(self.triples["train"], self.num_relations)
            return torch.stack([entity, relation, answer], 1)
        return self.triples["train"]

    def training_step(self, model, batch):
        batch = batch.to(self.device)
        count, training = len(batch), self.hp.task.training
        scorer, num_candidates = model, self.num_entities
        if encodes_graph(model):  # the batch's own graph; its triples and negatives index its nodes
            nodes, ends = torch.unique(batch[:, [0, 2]], return_inverse=True)
            batch = torch.stack([ends[:, 0], batch[:, 1], ends[:, 1]], 1)
            scorer, num_candidates = model.on_graph(model.graph(batch, len(nodes)), nodes), len(nodes)
        if training == "kvsall":
            loss, entities = self._kvsall_loss(scorer, batch), batch[:, :1]
        elif training == "1vsall":
            loss, entities = self._one_vs_all_loss(scorer, batch), batch[:, [0, 2]]
        else:
            loss, entities = self._negative_sampling_loss(scorer, batch, num_candidates), batch[:, [0, 2]]
        if self.hp.task.regularizer != "none":
            p = 3 if self.hp.task.regularizer == "n3" else 2
            loss = loss + self.hp.task.regularization_weight * scorer.regularization(entities, batch[:, 1], p=p)
        return Step(loss, {"train_loss": loss.item()}, count)

    def _one_vs_all_loss(self, model, batch):
        heads, relations, tails = batch.unbind(1)
        if self.reciprocal:
            return self._all_entities_loss(model.score_tails(heads, relations), tails)
        return (self._all_entities_loss(model.score_tails(heads, relations), tails)
                + self._all_entities_loss(model.score_heads(relations, tails), heads)) / 2

    def _all_entities_loss(self, scores, answers):
        if self.loss_name == "softmax":
            return F.cross_entropy(scores, answers)
        targets = torch.zeros_like(scores)
        targets[torch.arange(len(answers), device=scores.device), answers] = 1.0
        return _summed_bce(scores, targets)

    def _kvsall_loss(self, model, batch):
        entity, relation = batch.unbind(1)
        rows, answers = self.train_known.of(entity.cpu(), relation.cpu())
        targets = torch.zeros(len(batch), self.num_entities, device=self.device)
        targets[rows.to(self.device), answers.to(self.device)] = 1.0
        scores = model.score_tails(entity, relation)
        if self.loss_name == "softmax":
            loss = -(targets / targets.sum(1, keepdim=True) * F.log_softmax(scores, 1)).sum(1).mean()
        else:
            smoothing = self.hp.task.label_smoothing
            loss = _summed_bce(scores, targets * (1 - smoothing) + smoothing / self.num_entities)
        return loss

    def _negative_sampling_loss(self, model, batch, num_candidates):
        task = self.hp.task
        heads, relations, tails = batch.unbind(1)
        positive = model(heads, relations, tails)
        negatives = torch.randint(num_candidates, (len(batch), task.num_negatives), device=self.device)
        if self.reciprocal:  # every query is a tail query
            negative = model(heads[:, None], relations[:, None], negatives)
        else:  # first half: corrupted tails, second half: corrupted heads
            half = len(batch) // 2
            negative = torch.cat([model(heads[:half, None], relations[:half, None], negatives[:half]),
                                  model(negatives[half:], relations[half:, None], tails[half:, None])])
        if self.loss_name == "margin":
            return F.relu(task.margin - positive[:, None] + negative).mean()
        if self.loss_name == "bce":
            return (F.binary_cross_entropy_with_logits(positive, torch.ones_like(positive))
                    + F.binary_cross_entropy_with_logits(negative, torch.zeros_like(negative))) / 2
        if task.adversarial_temperature > 0:
            weights = torch.softmax(task.adversarial_temperature * negative.detach(), 1)
        else:
            weights = torch.full_like(negative, 1.0 / negative.shape[1])
        positive_loss = F.softplus(-(task.margin + positive))
        negative_loss = (weights * F.softplus(task.margin + negative)).sum(1)
        return ((positive_loss + negative_loss) / 2).mean()

    # --- Evaluation ---
    def evaluate(self, model, split):
        triples = self.triples[split]
        if split == "val" and self.val_subset is not None:
            triples = triples[self.val_subset]
        scorer = whole_graph_scorer(model, self.triples["train"], self.num_entities, self.device)
        ranks = []
        entity, relation, answer = queries(triples, self.num_relations)
        size = self.hp.task.eval_batch_size
        for part in (slice(0, len(triples)), slice(len(triples), None)):  # tail queries, then head queries
            for start in range(0, len(entity[part]), size):
                batch = slice(start, start + size)
                e, r, a = entity[part][batch], relation[part][batch], answer[part][batch]
                scores = score_queries(scorer, e.to(self.device), r.to(self.device), self.num_relations,
                                       self.reciprocal)
                rows, known = self.known.of(e, r)
                ranks.append(filtered_ranks(scores, a.to(self.device), rows.to(self.device), known.to(self.device)).cpu())
        return ranking_metrics(torch.cat(ranks), split)

    # --- Artifacts ---
    def save_assets(self, model, directory: Path):
        entities, relations = whole_graph_scorer(model, self.triples["train"], self.num_entities,
                                                 self.device).embeddings()
        np.save(directory / ENTITY_EMBEDDINGS, entities.cpu().numpy())
        np.save(directory / RELATION_EMBEDDINGS, relations.cpu().numpy())
        np.save(directory / TRAIN_TRIPLES, self.triples["train"].numpy())
        write_ids(directory / ENTITIES_FILE, self.data.entities)
        write_ids(directory / RELATIONS_FILE, self.data.relations)
        assets = {"entity_embeddings": ENTITY_EMBEDDINGS, "relation_embeddings": RELATION_EMBEDDINGS,
                  "train_triples": TRAIN_TRIPLES, "entities": ENTITIES_FILE, "relations": RELATIONS_FILE}
        if self.data.entity_names:
            (directory / NAMES_FILE).write_text("".join(f"{entity}\t{name}\n"
                                                        for entity, name in self.data.entity_names.items()))
            assets["entity_names"] = NAMES_FILE
        return assets


def _summed_bce(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy summed over the entities and averaged over the queries (LibKGE's
    scale: comparable with the cross-entropy of ``softmax`` and with a regularizer)."""
    return F.binary_cross_entropy_with_logits(scores, targets, reduction="sum") / len(scores)
