"""Entity classification: predict a class for entities of an RDF graph (AIFB, MUTAG), as R-GCN does.

The data (format ``rdf``) is a multi-relational graph of featureless entities with labelled
training and test entities. The task removes the triples that state the labels
(``label_predicates``), gives every relation its inverse, and carves a seeded validation split
(``val_fraction``) from the training entities for model selection. Full-graph training by
default; with ``fanouts`` it trains on neighbour-sampled mini-batches and evaluates exactly,
layer by layer over every neighbour.

Loss: cross-entropy on the training entities (L2 regularisation: ``weight_decay``); metrics
``<split>_loss`` and ``<split>_accuracy``; the objective is ``val_accuracy`` (ties: lower ``val_loss``).
"""
import logging
from pathlib import Path
from typing import List, Optional, Sequence, Union

import dgl
import numpy as np
import torch
import torch.nn.functional as F

from ..artifacts import read_ids, write_ids
from ..config.groups import hyperparameter
from ..data import HeteroGraphData
from ..errors import DataFormatError, SageMakerDGLError
from ..models.rgcn import relation_norm
from ..sampling import ReproducibleNeighborSampler
from ._base import Objective, Predictor, Step, Task, register_task
from ._sampling import NeighborSamplingHyperparameters
from ._splits import random_split

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
#: Assets saved with the model (open formats: NumPy and text).
TRIPLES_FILE, ENTITIES_FILE, RELATIONS_FILE = "triples.npy", "entities.tsv", "relations.tsv"
EMBEDDINGS_FILE = "entity_embeddings.npy"


class EntityClassificationHyperparameters(NeighborSamplingHyperparameters):
    """Hyperparameters of entity classification."""

    val_fraction: float = hyperparameter(
        0.2, "Fraction of the training entities held out (seeded) as the validation split that selects the "
        "best epoch. 0: train on every training entity and keep the last epoch (the R-GCN paper's protocol).",
        ge=0.0, lt=1.0,
    )
    label_predicates: Optional[str] = hyperparameter(
        None, "Comma-separated predicate URIs whose triples state the labels and are removed before training "
        "(as in R-GCN), or 'none'. Unset: those of aifb (swrc affiliation, employs) and mutag (isMutagenic) "
        "that the graph contains.",
    )
    batch_size: int = hyperparameter(128, "Training entities per mini-batch (with fanouts).", gt=0)

    def predicates(self) -> Optional[List[str]]:
        """The label predicates given (``[]`` for 'none'), or None when unset."""
        if self.label_predicates is None:
            return None
        parts = [part.strip().strip("<>") for part in self.label_predicates.split(",") if part.strip()]
        return [] if [p.lower() for p in parts] in ([], ["none"]) else parts


def with_inverses(triples: torch.Tensor, num_entities: int, num_base_relations: int) -> dgl.DGLGraph:
    """The graph of :meth:`HeteroGraphData.graph` from saved triples, with ``edata['norm']``."""
    s, r, o = triples.t()
    graph = dgl.graph((torch.cat([s, o]), torch.cat([o, s])), num_nodes=num_entities)
    graph.edata["etype"] = torch.cat([r, r + num_base_relations])
    graph.edata["norm"] = relation_norm(graph, 2 * num_base_relations)
    return graph


class EntityClassificationPredictor(Predictor):
    """Class probabilities and classes of entities of the training graph (saved with the model)::

        predictor = sagemaker_dgl.load_model("model")
        predictor.predict(entities=["http://www.aifb.uni-karlsruhe.de/Personen/viewPersonOWL/id1instance", 5])
        predictor.predict_proba()   # every entity, (num_entities, num_classes)
    """

    _graph: Optional[dgl.DGLGraph] = None

    @property
    def classes(self) -> List[str]:
        """The class names, by class index."""
        return self.config["data"]["classes"]

    def predict_proba(self, entities: Optional[Sequence[Union[str, int]]] = None) -> torch.Tensor:
        """``(len(entities), num_classes)`` probabilities; ``entities`` are URIs (names as in
        ``entities.tsv``) or indices; every entity when None."""
        graph = self._training_graph()
        with torch.no_grad():
            logits = self.model(graph.to(self.device), torch.arange(graph.num_nodes(), device=self.device))
        probabilities = torch.softmax(logits, 1).cpu()
        return probabilities if entities is None else probabilities[self._indices(entities)]

    def predict(self, entities: Optional[Sequence[Union[str, int]]] = None) -> List[str]:
        """The most probable class name of each entity (arguments as :meth:`predict_proba`)."""
        return [self.classes[index] for index in self.predict_proba(entities).argmax(1).tolist()]

    def _indices(self, entities) -> torch.Tensor:
        if isinstance(entities, (str, int)):
            entities = [entities]
        names = self._names()
        indices = []
        for entity in entities:
            if isinstance(entity, str):
                index = self._index.get(entity.strip("<>") if entity.startswith("<") else entity)
                if index is None:
                    raise SageMakerDGLError(f"entity {entity[:200]!r} is not in the training graph "
                                            f"(see {ENTITIES_FILE} in the model folder)")
            else:
                index = int(entity)
                if not 0 <= index < len(names):
                    raise SageMakerDGLError(f"entity index {index} is out of range 0..{len(names) - 1}")
            indices.append(index)
        return torch.tensor(indices, dtype=torch.int64)

    def _names(self) -> List[str]:
        if not hasattr(self, "_entity_names"):
            self._entity_names = read_ids(self.model_dir / ENTITIES_FILE)
            self._index = {name: index for index, name in enumerate(self._entity_names)}
        return self._entity_names

    def _training_graph(self) -> dgl.DGLGraph:
        if self._graph is None:
            triples = torch.from_numpy(np.load(self.model_dir / TRIPLES_FILE))
            facts = self.config["data"]
            self._graph = with_inverses(triples, facts["num_entities"], facts["num_relations"] // 2)
        return self._graph


@register_task("entity_classification")
class EntityClassification(Task):
    """Cross-entropy on the labelled entities of a multi-relational graph."""

    hyperparameters = EntityClassificationHyperparameters
    size_names = ("num_nodes", "num_relations", "num_classes")
    objective = Objective("val_accuracy", "max", tie_breaker=("val_loss", "min"))
    logged_metrics = tuple(f"{split}_{metric}" for split in SPLITS for metric in ("loss", "accuracy"))
    channels = ("train",)
    data_type = HeteroGraphData
    default_dataset = "aifb"
    predictor = EntityClassificationPredictor
    divergence_hint = "lower lr, or set weight_decay (L2) or max_grad_norm"

    @classmethod
    def check_hyperparameters(cls, hp):
        hp.task.check_layers(hp.model.num_layers)

    def __init__(self, hp, data, channels, device):
        super().__init__(hp, data, channels, device)
        self.data = data = self._remove_label_predicates(data)
        if len(data.classes) < 2:
            raise DataFormatError(f"dataset '{data.name}': every labelled entity has class {data.classes[0]!r}; "
                                  "entity classification needs at least 2 classes")
        train_ids, train_classes = data.labels["train"]
        parts = random_split(torch.arange(len(train_ids)), {"val": hp.task.val_fraction}, hp.common.seed, rest="train")
        if not len(parts["val"]):
            logger.info("val_fraction=0: training on every training entity; the last epoch's model is kept")
            self.validates, self.objective = False, Objective(None)
        if not len(parts["train"]):
            raise DataFormatError(
                f"dataset '{data.name}': {len(train_ids)} training entities leave none to train on after holding out "
                f"val_fraction={hp.task.val_fraction:g} for validation; lower val_fraction or label more entities"
            )
        self.index = {split: train_ids[parts[split]] for split in ("train", "val")}
        self.index["test"] = data.labels["test"][0]
        targets = {split: train_classes[parts[split]] for split in ("train", "val")}
        targets["test"] = data.labels["test"][1]
        self.node_labels = torch.full((len(data.entities),), -1, dtype=torch.int64)
        for split in SPLITS:
            self.node_labels[self.index[split]] = targets[split]
        self.labels = {split: targets[split].to(device) for split in SPLITS}
        self.num_classes = len(data.classes)
        self.minibatch = hp.task.fanouts is not None
        graph = data.graph()
        self.etypes = graph.edata["etype"]
        if self.minibatch:
            self.graph = graph  # blocks count their own normalisation (relation_norm)
            self.sampler = ReproducibleNeighborSampler(hp.task.fanouts)
            self.inference_batch_size = max(hp.task.batch_size * 8, 1024)
        else:
            graph.edata["norm"] = relation_norm(graph, data.num_relations)
            self.graph = graph.to(device)
        self.node_ids = torch.arange(graph.num_nodes(), device=device if not self.minibatch else "cpu")

    def _remove_label_predicates(self, data: HeteroGraphData) -> HeteroGraphData:
        """The data without the triples that state the labels; what was removed is logged."""
        given = self.hp.task.predicates()
        predicates = data.info.get("label_predicates", []) if given is None else given
        counts = torch.bincount(data.triples[:, 1], minlength=len(data.relations))
        removed = {}
        for predicate in predicates:
            if predicate in data.relations:
                removed[predicate] = int(counts[data.relations.index(predicate)])
            else:
                logger.warning("label predicate %s is not in the graph (nothing to remove)", predicate)
        for predicate, count in removed.items():
            logger.info("removed %d triples of label predicate %s", count, predicate)
        if given is None and not removed:
            logger.info("no known label predicate in the graph; if triples state the labels, name their predicates "
                        "in hyperparameter label_predicates")
        stripped = data.without_relations(list(removed)) if removed else data
        stripped.info["label_predicates_removed"] = removed
        if not len(stripped.triples):
            raise DataFormatError(f"dataset '{data.name}': no triples are left after removing the label predicates "
                                  f"{', '.join(removed)}")
        for split, (ids, _) in stripped.labels.items():
            if (ids < 0).any():
                lost = data.entities[int(data.labels[split][0][torch.nonzero(ids < 0)[0]])]
                raise DataFormatError(
                    f"dataset '{data.name}': {split} entity {lost[:200]!r} is only in triples of the removed label "
                    "predicates, so nothing is left to classify it from; check label_predicates"
                )
        return stripped

    def model_sizes(self):
        return {"num_nodes": len(self.data.entities), "num_relations": self.data.num_relations,
                "num_classes": self.num_classes}

    def data_facts(self):
        return {
            "dataset": self.data.name,
            "num_entities": len(self.data.entities),
            "num_relations": self.data.num_relations,
            "num_triples": int(len(self.data.triples)),
            "num_classes": self.num_classes,
            "classes": list(self.data.classes),
            "label_predicates_removed": self.data.info["label_predicates_removed"],
            **{f"num_{split}_entities": int(self.index[split].numel()) for split in SPLITS},
        }

    # --- Training ---
    def train_batches(self, epoch):
        if not self.minibatch:
            return [None]
        # A new loader each epoch (as node classification): its order depends on torch's random state alone.
        return dgl.dataloading.DataLoader(
            self.graph, self.index["train"], self.sampler, batch_size=self.hp.task.batch_size, shuffle=True,
            drop_last=False, num_workers=self.hp.task.num_workers,
        )

    def training_step(self, model, batch):
        if batch is None:
            logits = model(self.graph, self.node_ids)[self.index["train"].to(self.device)]
            labels = self.labels["train"]
        else:
            input_nodes, output_nodes, blocks = batch
            logits = model([self._typed(block).to(self.device) for block in blocks], input_nodes.to(self.device))
            labels = self.node_labels[output_nodes].to(self.device)
        loss = F.cross_entropy(logits, labels)
        accuracy = (logits.argmax(1) == labels).float().mean()
        return Step(loss, {"train_loss": loss.item(), "train_accuracy": accuracy.item()}, len(labels))

    def _typed(self, block: dgl.DGLGraph) -> dgl.DGLGraph:
        """A sampled block with the edge types of its edges."""
        if "etype" not in block.edata:
            block.edata["etype"] = self.etypes[block.edata[dgl.EID]]
        return block

    # --- Evaluation ---
    def evaluate(self, model, split):
        logits = self._inference(model)[self.index[split].to(self.device)]
        labels = self.labels[split]
        return {
            f"{split}_loss": F.cross_entropy(logits, labels).item(),
            f"{split}_accuracy": (logits.argmax(1) == labels).float().mean().item(),
        }

    def _inference(self, model, embed: bool = False) -> torch.Tensor:
        """Outputs of every entity (or, with ``embed``, the representation before the output
        layer), without sampling: mini-batch jobs go layer by layer over every neighbour."""
        if not self.minibatch:
            return (model.embed if embed else model)(self.graph, self.node_ids)
        everyone = torch.arange(self.graph.num_nodes())
        h = model.encoder.input(everyone.to(self.device)).cpu()
        for index in range(model.num_layers - 1 if embed else model.num_layers):
            loader = dgl.dataloading.DataLoader(self.graph, everyone, ReproducibleNeighborSampler([-1]),
                                                batch_size=self.inference_batch_size, shuffle=False)
            outputs = None
            for input_nodes, output_nodes, blocks in loader:
                block = self._typed(blocks[0]).to(self.device)
                y = model.encoder.layer(index, block, h[input_nodes].to(self.device)).cpu()
                if outputs is None:
                    outputs = torch.zeros(self.graph.num_nodes(), y.shape[1])
                outputs[output_nodes] = y
            h = outputs
        return h.to(self.device)

    # --- Artifacts and outputs ---
    def save_assets(self, model, directory: Path):
        np.save(directory / TRIPLES_FILE, self.data.triples.numpy())
        write_ids(directory / ENTITIES_FILE, self.data.entities)
        write_ids(directory / RELATIONS_FILE, self.data.relations)
        return {"triples": TRIPLES_FILE, "entities": ENTITIES_FILE, "relations": RELATIONS_FILE}

    def write_outputs(self, model, directory: Path):
        embeddings = self._inference(model, embed=True).cpu()
        np.save(directory / EMBEDDINGS_FILE, embeddings.numpy().astype(np.float32))
        write_ids(directory / ENTITIES_FILE, self.data.entities)
        return {"embeddings": EMBEDDINGS_FILE, "entities": ENTITIES_FILE}
