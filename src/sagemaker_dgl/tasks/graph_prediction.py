"""Graph property prediction: a class, several 0/1 properties, or numbers for each graph of a set.

The data is :class:`~sagemaker_dgl.data.GraphSetData`, whose ``target_kind`` decides the loss,
the metrics and the objective:

| kind         | loss                                                       | metrics           | objective |
|--------------|------------------------------------------------------------|-------------------|-----------|
| ``multiclass`` | cross-entropy                                            | loss, accuracy    | ``val_accuracy`` (max) |
| ``binary``   | binary cross-entropy per task, missing labels masked out, positives weighted by the training split's negatives/positives (as DGL-LifeSci) | loss, ROC-AUC (mean over the tasks with both classes in the split; the test split also per task, ``test_roc_auc_<task>``) | ``val_roc_auc`` (max) |
| ``regression`` | mean squared error on targets standardised with the training split's mean and deviation, missing ones masked out | loss, RMSE, MAE (original units) | ``val_rmse`` (min) |

Splits: ``split=random`` draws ``train_fraction`` and ``val_fraction`` of the graphs (seeded);
the rest is the test split. Training takes shuffled mini-batches of ``batch_size`` graphs
(``dgl.batch``), without a last batch of one graph (the batch norms need two); evaluation runs
over each split in batches.
"""
import contextlib
import io
import logging
import math
from pathlib import Path
from typing import Dict, List, Literal, Optional, Sequence

import dgl
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from pydantic import model_validator

from ..config.groups import HyperparameterGroup, hyperparameter
from ..data import GraphSetData
from ..errors import ConfigError, DataFormatError
from ..models import MODELS
from ._base import Objective, Predictor, Step, Task, register_task
from ._splits import random_split

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
OBJECTIVES = {"multiclass": Objective("val_accuracy", "max", tie_breaker=("val_loss", "min")),
              "binary": Objective("val_roc_auc", "max", tie_breaker=("val_loss", "min")),
              "regression": Objective("val_rmse", "min")}
METRICS = {"multiclass": ("loss", "accuracy"), "binary": ("loss", "roc_auc"), "regression": ("loss", "rmse", "mae")}


class GraphPredictionHyperparameters(HyperparameterGroup):
    """Hyperparameters of graph property prediction."""

    split: Literal["random", "scaffold"] = hyperparameter(
        "random", "How graphs are split, by the fractions: random (seeded), or scaffold (molecules: each Bemis-Murcko "
        "scaffold in one split, the largest groups in training, as DGL-LifeSci's ScaffoldSplitter).",
    )
    train_fraction: float = hyperparameter(0.8, "Fraction of the graphs to train on.", gt=0.0, lt=1.0)
    val_fraction: float = hyperparameter(0.1, "Fraction of the graphs that validates (the rest is the test split).",
                                         gt=0.0, lt=1.0)
    batch_size: int = hyperparameter(128, "Graphs per training mini-batch (and per evaluation batch).", gt=0)
    smiles_column: Optional[str] = hyperparameter(
        None, "Molecule CSV: the column of SMILES strings. Unset: the column named smiles, SMILES or mol.",
    )
    task_columns: Optional[str] = hyperparameter(
        None, "Molecule CSV: comma-separated columns to predict. Unset: every numeric column.",
    )
    target_type: Literal["auto", "binary", "regression"] = hyperparameter(
        "auto", "Molecule CSV: binary (0/1, empty: unknown), regression, or auto (binary; other values fail).",
    )

    @model_validator(mode="after")
    def _leaves_a_test_split(self):
        if self.train_fraction + self.val_fraction >= 1.0:
            raise ValueError(f"train_fraction + val_fraction = {self.train_fraction + self.val_fraction:g} leaves no "
                             "test graphs; keep the sum below 1")
        return self


class GraphPredictionPredictor(Predictor):
    """Predicts for new graphs, featurised as the training graphs were (``ndata['feat']`` of the
    same size), or for SMILES strings when the model was trained on molecules::

        predictor = sagemaker_dgl.load_model("model")
        predictor.predict([graph1, graph2])        # class names, 0/1 task probabilities, or values
        predictor.predict_proba([graph1, graph2])  # classification: (B, classes) or (B, tasks)
        predictor.predict_smiles(["CCO", "c1ccccc1O"])  # {'NR-AR': [0.02, 0.11], ...}; None: unparseable
    """

    def predict_smiles(self, smiles: Sequence[str]) -> Dict[str, List[Optional[float]]]:
        """Each target's prediction (probability or value) per SMILES string, featurised as in
        training; None for a string RDKit cannot parse."""
        from ..data.molecules import featurise

        facts = self.config["data"]
        if facts.get("format") != "molecules_csv":
            raise DataFormatError("this model was trained on graphs, not molecules: use predict with graphs")
        graphs, kept = featurise(list(smiles))
        out = self.predict(graphs) if graphs else torch.zeros(0, len(facts["target_names"]))
        rows = {index: row for index, row in zip(kept, out.tolist())}
        return {name: [rows[i][column] if i in rows else None for i in range(len(smiles))]
                for column, name in enumerate(facts["target_names"])}

    def outputs(self, graphs: Sequence[dgl.DGLGraph]) -> torch.Tensor:
        """The model's raw outputs ``(B, num_targets)`` (values in the targets' units for regression)."""
        facts = self.config["data"]
        if self.config["model_args"].get("in_feats") is not None:
            for index, graph in enumerate(graphs):
                size = graph.ndata["feat"].shape[1] if "feat" in graph.ndata else None
                if size != facts["in_feats"]:
                    raise DataFormatError(f"graph {index} has node features of size {size}; the model was trained on "
                                          f"ndata['feat'] of size {facts['in_feats']}")
        if facts["self_loops"]:
            graphs = [dgl.add_self_loop(dgl.remove_self_loop(graph)) for graph in graphs]
        batch = dgl.batch(list(graphs)).to(self.device)
        with torch.no_grad():
            out = self.model(batch, batch.ndata["feat"].float()).cpu()
        if facts["target_kind"] == "regression":
            out = out * torch.tensor(facts["target_std"]) + torch.tensor(facts["target_mean"])
        return out

    def predict_proba(self, graphs: Sequence[dgl.DGLGraph]) -> torch.Tensor:
        """Class probabilities ``(B, classes)`` (multiclass) or each task's probability ``(B, tasks)``."""
        out = self.outputs(graphs)
        kind = self.config["data"]["target_kind"]
        if kind == "regression":
            raise DataFormatError("predict_proba is for classification; this model predicts values: use predict")
        return torch.softmax(out, 1) if kind == "multiclass" else torch.sigmoid(out)

    def predict(self, graphs: Sequence[dgl.DGLGraph]):
        """Class names (multiclass), task probabilities ``(B, tasks)`` (binary), or values ``(B, targets)``."""
        kind = self.config["data"]["target_kind"]
        if kind == "multiclass":
            return [self.config["data"]["classes"][i] for i in self.predict_proba(graphs).argmax(1).tolist()]
        return self.predict_proba(graphs) if kind == "binary" else self.outputs(graphs)


@register_task("graph_prediction")
class GraphPrediction(Task):
    """Predict properties of whole graphs."""

    hyperparameters = GraphPredictionHyperparameters
    size_names = ("in_feats", "num_targets")
    objective = OBJECTIVES["multiclass"]  # set per data set in __init__
    logged_metrics = tuple(dict.fromkeys(f"{split}_{metric}" for split in SPLITS for kind in METRICS.values()
                                         for metric in kind))
    data_type = GraphSetData
    predictor = GraphPredictionPredictor

    def __init__(self, hp, data: GraphSetData, channels, device):
        super().__init__(hp, data, channels, device)
        self.kind = data.target_kind
        self.objective = OBJECTIVES[self.kind]
        model_class = MODELS.spec(hp.common.model, "graph_prediction").model_class
        self.self_loops = getattr(model_class, "needs_self_loops", False)
        self.graphs = [dgl.add_self_loop(dgl.remove_self_loop(g)) if self.self_loops else g for g in data.graphs]
        self.in_feats = self.graphs[0].ndata["feat"].shape[1]
        self.labels = data.labels.float()
        self.ids = self._split()
        self._eval_batches: Dict[str, list] = {}
        train = self.labels[self.ids["train"]]
        if self.kind == "binary":
            positives = (train == 1).sum(0).float()
            negatives = (train == 0).sum(0).float()
            self.pos_weight = torch.where(positives > 0, negatives / positives.clamp(min=1), torch.ones_like(positives))
        if self.kind == "regression":
            self.mean = torch.nanmean(train, 0)
            self.std = torch.sqrt(torch.nanmean((train - self.mean) ** 2, 0)).clamp(min=1e-8)

    def model_sizes(self):
        return {"in_feats": self.in_feats,
                "num_targets": len(self.data.classes) if self.kind == "multiclass" else self.labels.shape[1]}

    def data_facts(self):
        facts = {"dataset": self.data.name, "num_graphs": len(self.graphs), "target_kind": self.kind,
                 "target_names": self.data.target_names, "classes": self.data.classes, "in_feats": self.in_feats,
                 "self_loops": self.self_loops, **{f"num_{split}_graphs": len(ids) for split, ids in self.ids.items()},
                 **self.data.info}
        if self.kind == "regression":
            facts.update(target_mean=self.mean.tolist(), target_std=self.std.tolist())
        return facts

    def _split(self) -> Dict[str, torch.Tensor]:
        task = self.hp.task
        if task.split == "scaffold":
            parts = scaffold_split(self.data, task.train_fraction, task.val_fraction)
        else:
            parts = random_split(torch.arange(len(self.graphs)), {"train": task.train_fraction,
                                                                  "val": task.val_fraction},
                                 self.hp.common.seed, rest="test")
        if len(parts["train"]) == 1:
            raise ConfigError(f"the train split of {len(self.graphs)} graphs holds one graph; the models' batch norms "
                              "need two or more: raise train_fraction or give more graphs")
        for split in SPLITS:
            if len(parts[split]) == 0:
                raise ConfigError(f"the {split} split of {len(self.graphs)} graphs is empty; change train_fraction "
                                  "and val_fraction or give more graphs")
        return parts

    # --- Training ---
    def train_batches(self, epoch):
        ids = self.ids["train"][torch.randperm(len(self.ids["train"]))]
        size = self.hp.task.batch_size
        starts = range(0, len(ids) - 1, size)  # no last batch of one graph: the batch norms need two
        return (ids[start : start + size] for start in starts)

    def _batch(self, ids: torch.Tensor):
        graph = dgl.batch([self.graphs[i] for i in ids.tolist()]).to(self.device)
        return graph, graph.ndata["feat"].float(), self.labels[ids].to(self.device)

    def training_step(self, model, batch):
        graph, features, labels = self._batch(batch)
        loss = self._loss(model(graph, features), labels)
        return Step(loss, {"train_loss": loss.item()}, len(batch))

    def _loss(self, out: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.kind == "multiclass":
            return F.cross_entropy(out, labels[:, 0].long())
        known = ~torch.isnan(labels)
        if self.kind == "binary":
            losses = F.binary_cross_entropy_with_logits(out, torch.nan_to_num(labels), reduction="none",
                                                        pos_weight=self.pos_weight.to(out.device))
        else:
            target = (labels - self.mean.to(out.device)) / self.std.to(out.device)
            losses = (out - torch.nan_to_num(target)) ** 2
        return (losses * known).sum() / known.sum().clamp(min=1)

    # --- Evaluation ---
    def _outputs(self, model, split: str) -> torch.Tensor:
        """The model's outputs for the graphs of ``split``, over evaluation batches built once."""
        if split not in self._eval_batches:
            ids, size = self.ids[split], self.hp.task.batch_size
            self._eval_batches[split] = [self._batch(ids[start : start + size])[:2] for start in range(0, len(ids), size)]
        return torch.cat([model(graph, features) for graph, features in self._eval_batches[split]])

    def _in_units(self, out: torch.Tensor) -> torch.Tensor:
        """Regression outputs in the targets' units (the model predicts standardised values)."""
        return out * self.std.to(out.device) + self.mean.to(out.device)

    def evaluate(self, model, split):
        out, labels = self._outputs(model, split), self.labels[self.ids[split]].to(self.device)
        metrics = {f"{split}_loss": self._loss(out, labels).item()}
        if self.kind == "multiclass":
            metrics[f"{split}_accuracy"] = (out.argmax(1) == labels[:, 0].long()).float().mean().item()
        elif self.kind == "binary":
            per_task = roc_auc_per_task(torch.sigmoid(out).cpu().numpy(), labels.cpu().numpy())
            finite = [value for value in per_task if not math.isnan(value)]
            metrics[f"{split}_roc_auc"] = float(np.mean(finite)) if finite else float("nan")
            if split == "test":
                metrics.update({f"test_roc_auc_{name}": value for name, value in zip(self.data.target_names, per_task)})
        else:
            values = self._in_units(out)
            known = ~torch.isnan(labels)
            error = (values - torch.nan_to_num(labels))[known]
            metrics[f"{split}_rmse"] = error.pow(2).mean().sqrt().item()
            metrics[f"{split}_mae"] = error.abs().mean().item()
        return metrics

    def write_outputs(self, model, directory: Path):
        """``test_predictions.csv``: each test graph (its index in the data set, and its SMILES for
        molecules) with its labels and the model's predictions."""
        ids = self.ids["test"]
        out = self._outputs(model, "test").cpu()
        table = pd.DataFrame({"graph": ids.numpy()})
        if self.data.smiles is not None:
            table["smiles"] = [self.data.smiles[i] for i in ids.tolist()]
        labels = self.labels[ids]
        if self.kind == "multiclass":
            table["label"] = [self.data.classes[i] for i in labels[:, 0].long().tolist()]
            table["predicted"] = [self.data.classes[i] for i in out.argmax(1).tolist()]
        else:
            values = torch.sigmoid(out) if self.kind == "binary" else self._in_units(out)
            suffix = "probability" if self.kind == "binary" else "predicted"
            for column, name in enumerate(self.data.target_names):
                table[name] = labels[:, column].numpy()
                table[f"{name}_{suffix}"] = values[:, column].numpy().round(6)
        table.to_csv(directory / "test_predictions.csv", index=False)
        return {"test_predictions": "test_predictions.csv"}


def scaffold_split(data: GraphSetData, train_fraction: float, val_fraction: float) -> Dict[str, torch.Tensor]:
    """DGL-LifeSci's deterministic scaffold split of the molecules (no seed: the largest scaffold
    groups fill training first)."""
    from dgllife.utils import ScaffoldSplitter

    if data.smiles is None:
        raise ConfigError(f"split=scaffold needs molecules (SMILES strings); dataset '{data.name}' is graphs of "
                          f"format {data.info.get('format')}: use split=random")

    class Molecules:
        smiles = data.smiles

        def __len__(self):
            return len(data.smiles)

    with contextlib.redirect_stdout(io.StringIO()):  # it prints its progress
        subsets = ScaffoldSplitter.train_val_test_split(Molecules(), frac_train=train_fraction, frac_val=val_fraction,
                                                        frac_test=1.0 - train_fraction - val_fraction, log_every_n=None)
    return {split: torch.tensor(subset.indices, dtype=torch.int64) for split, subset in zip(SPLITS, subsets)}


def roc_auc_per_task(probabilities: np.ndarray, labels: np.ndarray) -> List[float]:
    """Each task's ROC-AUC over its labelled examples; NaN where the split holds one class only."""
    from sklearn.metrics import roc_auc_score

    values = []
    for task in range(labels.shape[1]):
        known = ~np.isnan(labels[:, task])
        truth = labels[known, task]
        values.append(float(roc_auc_score(truth, probabilities[known, task])) if len(np.unique(truth)) == 2
                      else float("nan"))
    return values
