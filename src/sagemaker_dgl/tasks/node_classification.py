"""Node classification: predict a label for each node of one graph (Cora, a user's CSV graph).

The graph carries ``ndata['feat']`` (float features), ``ndata['label']`` (int, -1 = unlabelled)
and optional boolean ``train_mask``/``val_mask``/``test_mask``. Channels ``validation`` and
``test`` fix those splits with node-id files; data without masks gets a seeded random split of
the labelled nodes. Full-graph training by default; with ``fanouts`` it trains on
neighbour-sampled mini-batches and evaluates with exact layer-wise inference.

Loss: cross-entropy on the training nodes; metrics ``<split>_loss`` and ``<split>_accuracy``;
the objective is ``val_accuracy`` (ties: lower ``val_loss``).
"""
import logging
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import dgl
import numpy as np
import torch
import torch.nn.functional as F

from ..config.groups import hyperparameter
from ..data import GraphData, channel_files
from ..errors import DataFormatError, IncompatibleTaskError, SageMakerDGLError
from ..models import MODELS, attach_full_degrees
from ..plots import plot_embeddings
from ..sampling import ReproducibleNeighborSampler
from ._base import Objective, Predictor, Step, Task, register_task
from ._sampling import NeighborSamplingHyperparameters
from ._splits import RandomSplitHyperparameters, random_split

logger = logging.getLogger(__name__)

#: Below this share of non-zero entries, features stay sparse for models that accept them.
SPARSE_DENSITY = 0.1
SPLITS = ("train", "val", "test")
#: Channels that fix a split: channel name -> split.
SPLIT_CHANNELS = {"validation": "val", "test": "test"}
#: The training graph saved with the model (DGL's binary format), when ``save_graph``.
GRAPH_FILE = "graph.bin"
#: ``save_graph`` unset: save graphs whose features and edges take at most this many bytes.
SAVE_GRAPH_BYTES = 256 << 20


class NodeClassificationHyperparameters(RandomSplitHyperparameters, NeighborSamplingHyperparameters):
    """Hyperparameters of node classification."""

    normalize_features: bool = hyperparameter(True, "Row-normalise input features (as GCN and DGL do).")
    num_classes: Optional[int] = hyperparameter(
        None, "Number of classes; inferred from the labels when unset. Labels must be below it.", gt=1
    )
    save_graph: Optional[bool] = hyperparameter(
        None, "Save the training graph and features with the model (graph.bin), so that its predictor classifies "
        "the training graph's nodes by id. Unset: when they take at most 256 MiB (a 1M-node graph with 128 "
        "features takes about 800 MiB of model.tar.gz).", resumable=True,
    )


def model_inputs(graph, features: torch.Tensor, add_self_loops: bool, normalize_features: bool):
    """The graph (its edges alone, self loops added if asked) and the features (row-normalised if
    asked) that a node model takes."""
    if normalize_features:
        features = features / features.abs().sum(1, keepdim=True).clamp(min=1e-12)
    graph = dgl.graph(graph.edges(), num_nodes=graph.num_nodes())
    if add_self_loops:
        graph = dgl.add_self_loop(dgl.remove_self_loop(graph))
    return graph, features


class NodeClassificationPredictor(Predictor):
    """Class probabilities for nodes: of the training graph (saved with the model), or of a new
    graph with its features. Self loops and feature normalisation are applied as in training::

        predictor = sagemaker_dgl.load_model("model")
        predictor.predict_proba(nodes=[0, 5, 7])               # nodes of the training graph
        predictor.predict(graph=new_graph, features=new_feat)  # every node of another graph
    """

    def predict_proba(self, nodes: Optional[Sequence[int]] = None, graph: Optional[dgl.DGLGraph] = None,
                      features: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(len(nodes), num_classes)`` probabilities; every node when ``nodes`` is None.
        ``features`` default to ``graph.ndata['feat']``."""
        if graph is None:
            graph = self._training_graph()
        if features is None:
            if "feat" not in graph.ndata:
                raise SageMakerDGLError("pass features=..., or a graph with ndata['feat']")
            features = graph.ndata["feat"]
        facts = self.config["data"]
        if features.shape != (graph.num_nodes(), facts["in_feats"]):
            raise SageMakerDGLError(
                f"features must have shape ({graph.num_nodes()}, {facts['in_feats']}) for this graph and model, "
                f"not {tuple(features.shape)}"
            )
        inputs, features = model_inputs(graph, features.float(), facts["self_loops_added"], facts["features_normalized"])
        with torch.no_grad():
            probabilities = torch.softmax(self.model(inputs.to(self.device), features.to(self.device)), 1).cpu()
        return probabilities if nodes is None else probabilities[torch.as_tensor(nodes, dtype=torch.int64)]

    def predict(self, nodes: Optional[Sequence[int]] = None, graph: Optional[dgl.DGLGraph] = None,
                features: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The most probable class of each node (arguments as :meth:`predict_proba`)."""
        return self.predict_proba(nodes, graph, features).argmax(1)

    def _training_graph(self) -> dgl.DGLGraph:
        path = self.model_dir / GRAPH_FILE
        if not path.is_file():
            raise SageMakerDGLError(
                f"{path} is missing (the job did not save the training graph; see save_graph): pass graph=... and "
                "features=..."
            )
        graphs, _ = dgl.load_graphs(str(path))
        return graphs[0]


@register_task("node_classification")
class NodeClassification(Task):
    """Cross-entropy on labelled nodes of one graph."""

    hyperparameters = NodeClassificationHyperparameters
    size_names = ("in_feats", "num_classes")
    objective = Objective("val_accuracy", "max", tie_breaker=("val_loss", "min"))
    logged_metrics = tuple(f"{split}_{metric}" for split in SPLITS for metric in ("loss", "accuracy"))
    channels = ("train", *SPLIT_CHANNELS)
    data_type = GraphData
    default_dataset = "karate"
    predictor = NodeClassificationPredictor
    divergence_hint = "lower lr, check the features for extreme values, or keep normalize_features=true"

    @classmethod
    def check_hyperparameters(cls, hp):
        hp.task.check_layers(hp.model.num_layers)

    def __init__(self, hp, data, channels, device):
        super().__init__(hp, data, channels, device)
        graph = data.graph
        for key in ("feat", "label"):
            if key not in graph.ndata:
                raise IncompatibleTaskError(
                    f"task 'node_classification' needs node data '{key}' but dataset '{data.name}' has "
                    f"{sorted(graph.ndata)}; add a '{key}' column to nodes.csv"
                )
        self.raw_features = graph.ndata["feat"].float()
        if not torch.isfinite(self.raw_features).all():
            raise DataFormatError(f"dataset '{data.name}': node features contain NaN or infinite values")
        labels = graph.ndata["label"].long()
        masks = self._masks(graph, labels)
        self.num_classes = _check_labels(labels, masks, hp.task.num_classes, data.name)
        model_class = MODELS.spec(hp.common.model, "node_classification").model_class
        self.needs_self_loops = model_class.needs_self_loops
        graph, features = model_inputs(graph, self.raw_features, self.needs_self_loops, hp.task.normalize_features)
        self.in_feats = features.shape[1]
        self.minibatch = hp.task.fanouts is not None
        density = float((features != 0).sum()) / max(features.numel(), 1)
        if not self.minibatch and model_class.accepts_sparse_features and density < SPARSE_DENSITY:
            features = features.to_sparse().coalesce()
        self.graph = graph.to(device) if not self.minibatch else graph
        self.features = features.to(device) if not self.minibatch else features
        self.labels = labels.to(device)
        self.index = {split: torch.nonzero(masks[split]).flatten() for split in SPLITS}
        if self.minibatch:
            attach_full_degrees(self.graph)  # sampled blocks carry them (GCN normalises with them)
            self.sampler = ReproducibleNeighborSampler(hp.task.fanouts)
            self.inference_batch_size = hp.task.batch_size * 4
            self.receptive_fields: Dict[str, List[torch.Tensor]] = {}

    def model_sizes(self):
        return {"in_feats": self.in_feats, "num_classes": self.num_classes}

    def data_facts(self):
        return {
            "dataset": self.data.name,
            "num_nodes": self.graph.num_nodes(),
            "num_edges": self.graph.num_edges(),
            "in_feats": self.in_feats,
            "num_classes": self.num_classes,
            "self_loops_added": self.needs_self_loops,
            "features_normalized": self.hp.task.normalize_features,
            **{f"num_{split}_nodes": int(self.index[split].numel()) for split in SPLITS},
        }

    # --- Training ---
    def train_batches(self, epoch):
        if not self.minibatch:
            return [self.index["train"]]
        # A new loader each epoch: DGL's shuffles the previous epoch's order, which a checkpoint
        # does not hold; a fresh one's order depends on torch's random state alone.
        return dgl.dataloading.DataLoader(
            self.graph, self.index["train"], self.sampler, batch_size=self.hp.task.batch_size, shuffle=True,
            drop_last=False, num_workers=self.hp.task.num_workers,
        )

    def training_step(self, model, batch):
        if not self.minibatch:
            logits = model(self.graph, self.features)[batch]
            labels = self.labels[batch]
        else:
            input_nodes, output_nodes, blocks = batch
            logits = model([block.to(self.device) for block in blocks], self.features[input_nodes].to(self.device))
            labels = self.labels[output_nodes.to(self.device)]
        loss = F.cross_entropy(logits, labels)
        accuracy = (logits.argmax(1) == labels).float().mean()
        return Step(loss, {"train_loss": loss.item(), "train_accuracy": accuracy.item()}, len(labels))

    # --- Evaluation ---
    def evaluate(self, model, split):
        logits = self._inference(model, split)
        labels = self.labels[self.index[split]]
        return {
            f"{split}_loss": F.cross_entropy(logits, labels).item(),
            f"{split}_accuracy": (logits.argmax(1) == labels).float().mean().item(),
        }

    def _inference(self, model, split: Optional[str] = None, embed: bool = False) -> torch.Tensor:
        """Outputs (or, with ``embed``, the representation before the output layer), without
        sampling, for the nodes of ``split`` (every node when None)."""
        if not self.minibatch:
            h = (model.embed if embed else model)(self.graph, self.features)
            return h if split is None else h[self.index[split]]
        # Layer by layer in batches, so that memory stays bounded on large graphs, and each layer
        # only for the nodes that the layers above need.
        num_layers = model.num_layers - 1 if embed else model.num_layers
        h = self.features
        for index, targets in enumerate(self._receptive_field(split, num_layers)):
            loader = dgl.dataloading.DataLoader(self.graph, targets, ReproducibleNeighborSampler([-1]),
                                                batch_size=self.inference_batch_size, shuffle=False)
            outputs = None
            for input_nodes, output_nodes, blocks in loader:
                y = model.layer(index, blocks[0].to(self.device), h[input_nodes].to(self.device)).cpu()
                if outputs is None:
                    outputs = torch.zeros(self.graph.num_nodes(), y.shape[1])
                outputs[output_nodes] = y
            h = outputs
        return (h if split is None else h[self.index[split]]).to(self.device)

    def _receptive_field(self, split: Optional[str], num_layers: int) -> List[torch.Tensor]:
        """The nodes each layer must compute: the split's nodes at the last layer, and at each layer
        below, those of the layer above plus their in-neighbours."""
        if split is None:
            return [torch.arange(self.graph.num_nodes())] * num_layers
        key = f"{split}/{num_layers}"
        if key not in self.receptive_fields:
            fields = [self.index[split]]
            for _ in range(num_layers - 1):
                sources, _ = self.graph.in_edges(fields[0])
                fields.insert(0, torch.unique(torch.cat([fields[0], sources])))
            self.receptive_fields[key] = fields
        return self.receptive_fields[key]

    # --- Artifacts and outputs ---
    def save_assets(self, model, directory: Path):
        size = self.raw_features.numel() * 4 + self.data.graph.num_edges() * 16
        if not (self.hp.task.save_graph if self.hp.task.save_graph is not None else size <= SAVE_GRAPH_BYTES):
            if self.hp.task.save_graph is None:
                logger.info("not saving the training graph with the model (about %d MiB); set save_graph=true to "
                            "save it", size >> 20)
            return {}
        graph = dgl.graph(self.data.graph.edges(), num_nodes=self.data.graph.num_nodes())
        graph.ndata["feat"] = self.raw_features
        dgl.save_graphs(str(directory / GRAPH_FILE), [graph])
        return {"graph": GRAPH_FILE}

    def write_outputs(self, model, directory: Path):
        embeddings = self._inference(model, embed=True).cpu()
        if embeddings.is_sparse:
            embeddings = embeddings.to_dense()
        np.save(directory / "node_embeddings.npy", embeddings.numpy())
        plot_embeddings(embeddings, self.labels.cpu(), directory / "node_embeddings.png")
        return {"embeddings": "node_embeddings.npy", "embeddings_plot": "node_embeddings.png"}

    # --- Splits ---
    def _masks(self, graph, labels) -> Dict[str, torch.Tensor]:
        """Masks from the split channels, else the graph's, else a seeded random split of the
        labelled nodes; a split missing next to split channels is carved from the training nodes."""
        hp = self.hp.task
        fixed = {split: _read_node_ids(Path(self.channels[channel]), channel, self.data.node_ids, graph.num_nodes())
                 for channel, split in SPLIT_CHANNELS.items() if channel in self.channels}
        if not fixed and all(f"{split}_mask" in graph.ndata for split in SPLITS):
            masks = {split: graph.ndata[f"{split}_mask"].bool() for split in SPLITS}
            _check_disjoint(masks, f"the train/val/test masks of dataset '{self.data.name}'")
            return masks
        labelled = labels >= 0
        if fixed:
            candidates = graph.ndata["train_mask"].bool() & labelled if "train_mask" in graph.ndata else labelled
            for ids in fixed.values():
                candidates[ids] = False
            fractions = {"val": hp.val_fraction, "test": hp.test_fraction}
            parts = random_split(torch.nonzero(candidates).flatten(),
                                 {split: fractions[split] for split in ("val", "test") if split not in fixed},
                                 self.hp.common.seed, rest="train")
            parts.update(fixed)
        else:
            parts = random_split(torch.nonzero(labelled).flatten(), {"train": hp.train_fraction, "val": hp.val_fraction},
                                 self.hp.common.seed, rest="test")
        masks = {}
        for split in SPLITS:
            masks[split] = torch.zeros(graph.num_nodes(), dtype=torch.bool)
            masks[split][parts[split]] = True
        if "val" in fixed and "test" in fixed:
            _check_disjoint(masks, "the validation and test channels")
        return masks


def _read_node_ids(directory: Path, channel: str, node_ids: Optional[np.ndarray], num_nodes: int) -> torch.Tensor:
    """Node indices of a split channel: one node id per line (first column, an optional header
    line), the ids of the data files (``node_ids``; None: indices 0..N-1)."""
    indices: List[int] = []
    for path in channel_files(directory, channel):
        lines = [line.strip() for line in path.read_text().splitlines()]
        fields = [(number, re.split(r"[,\s]+", line)[0]) for number, line in enumerate(lines, 1) if line]
        numeric = node_ids is None or node_ids.dtype.kind in "iu"
        if fields and (fields[0][1] == "node_id" or (numeric and not fields[0][1].lstrip("-").isdigit())):
            fields = fields[1:]  # header
        for number, field in fields:
            try:
                value = int(field) if numeric else field
            except ValueError:
                raise DataFormatError(
                    f"{path.name} line {number} in channel '{channel}': {field!r} is not a node id"
                ) from None
            index = value if node_ids is None else int(np.searchsorted(node_ids, value))
            known = 0 <= index < num_nodes and (node_ids is None or node_ids[index] == value)
            if not known:
                raise DataFormatError(
                    f"{path.name} line {number} in channel '{channel}': node id {value} is not in the graph "
                    f"({'ids 0..' + str(num_nodes - 1) if node_ids is None else 'the node_id values of nodes.csv'})"
                )
            indices.append(index)
    if not indices:
        raise DataFormatError(f"channel '{channel}' lists no node ids")
    return torch.tensor(indices, dtype=torch.int64)


def _check_disjoint(masks: Dict[str, torch.Tensor], where: str) -> None:
    """Splits that share nodes would leak evaluation data into training or selection."""
    for first, second in (("train", "val"), ("train", "test"), ("val", "test")):
        shared = int((masks[first] & masks[second]).sum())
        if shared:
            raise DataFormatError(
                f"{where} overlap: {shared} node(s) are in both '{first}' and '{second}'; each node may be in one "
                "split at most"
            )


def _check_labels(labels, masks, num_classes, name) -> int:
    """Number of classes, after checking that every split has nodes, each with a label in range."""
    hints = {"train": "train_mask is all false", "val": "set val_fraction > 0, a val_mask, or a validation channel",
             "test": "keep train_fraction + val_fraction below 1, or give a test_mask or test channel"}
    for split, hint in hints.items():
        if not masks[split].any():
            raise DataFormatError(f"dataset '{name}': no {split} nodes ({hint})")
    used = masks["train"] | masks["val"] | masks["test"]
    observed = labels[used]
    if observed.min() < 0:
        bad = int(torch.nonzero(used & (labels < 0))[0])
        raise DataFormatError(
            f"dataset '{name}': node {bad} is in a train/val/test split but has label {int(labels[bad])}; "
            "labels must be integers >= 0 (use -1 only for nodes outside every split)"
        )
    inferred = int(observed.max()) + 1
    if num_classes is not None and inferred > num_classes:
        bad = int(torch.nonzero(used & (labels >= num_classes))[0])
        raise DataFormatError(
            f"dataset '{name}': node {bad} has label {int(labels[bad])}, out of range for "
            f"num_classes={num_classes} (labels must be 0..{num_classes - 1})"
        )
    if num_classes is None and inferred > max(1000, len(labels) // 2):
        raise DataFormatError(
            f"dataset '{name}': the largest label is {inferred - 1}, which would make {inferred} classes for "
            f"{len(labels)} nodes; labels must be class indices 0..C-1 (set num_classes if this is intended)"
        )
    return num_classes or max(inferred, 2)
