"""Node classification: predict a label for each node of one graph (Cora, a user's CSV graph).

The graph carries ``ndata['feat']`` (float features), ``ndata['label']`` (int, -1 = unlabelled)
and boolean ``train_mask``/``val_mask``/``test_mask``; data formats without masks get a seeded
random split of the labelled nodes. Full-graph training by default; with ``fanouts`` it trains
on neighbour-sampled mini-batches and evaluates with exact layer-wise inference.
"""
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import dgl
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataFormatError, IncompatibleTaskError
from ..models import MODELS, attach_full_degrees
from ..plots import plot_embeddings
from ._base import Task, register_task

#: Below this share of non-zero entries, features stay sparse for models that accept them.
SPARSE_DENSITY = 0.1
SPLITS = ("train", "val", "test")


@register_task("node_classification")
class NodeClassification(Task):
    """Cross-entropy on labelled nodes; metrics ``<split>_loss`` and ``<split>_accuracy``."""

    objective = "val_accuracy"

    def __init__(self, hyperparameters, data, device):
        super().__init__(hyperparameters, data, device)
        graph = data.graph
        for key in ("feat", "label"):
            if key not in graph.ndata:
                raise IncompatibleTaskError(
                    f"task 'node_classification' needs node data '{key}' but dataset '{data.name}' has "
                    f"{sorted(graph.ndata)}; add a '{key}' column to nodes.csv"
                )
        labels = graph.ndata["label"].long()
        features = graph.ndata["feat"].float()
        if not torch.isfinite(features).all():
            raise DataFormatError(f"dataset '{data.name}': node features contain NaN or infinite values")
        masks = _masks(graph, labels, hyperparameters)
        self.num_classes = _check_labels(labels, masks, hyperparameters.num_classes, data.name)
        model_class = MODELS.get(hyperparameters.model)
        graph, features = model_inputs(graph, features, model_class.needs_self_loops, hyperparameters.normalize_features)
        self.in_feats = features.shape[1]
        self.minibatch = hyperparameters.fanouts is not None
        density = float((features != 0).sum()) / max(features.numel(), 1)
        if not self.minibatch and model_class.accepts_sparse_features and density < SPARSE_DENSITY:
            features = features.to_sparse().coalesce()
        self.graph = graph.to(device) if not self.minibatch else graph
        self.features = features.to(device) if not self.minibatch else features
        self.labels = labels.to(device)
        self.index = {split: torch.nonzero(masks[split]).flatten() for split in SPLITS}
        if self.minibatch:
            attach_full_degrees(self.graph)  # sampled blocks carry them (GCN normalises with them)
            sampler = dgl.dataloading.NeighborSampler(hyperparameters.fanouts)
            self.loader = dgl.dataloading.DataLoader(
                self.graph,
                self.index["train"],
                sampler,
                batch_size=hyperparameters.batch_size,
                shuffle=True,
                drop_last=False,
                num_workers=hyperparameters.num_workers,
            )
            self.inference_batch_size = hyperparameters.batch_size * 4
            self.receptive_fields: Dict[Tuple[str, int], List[torch.Tensor]] = {}

    def model_args(self):
        return {"in_feats": self.in_feats, "out_feats": self.num_classes}

    def data_facts(self):
        return {
            "dataset": self.data.name,
            "num_nodes": self.graph.num_nodes(),
            "num_edges": self.graph.num_edges(),
            "in_feats": self.in_feats,
            "num_classes": self.num_classes,
            "self_loops_added": MODELS.get(self.hp.model).needs_self_loops,
            "features_normalized": self.hp.normalize_features,
            **{f"num_{split}_nodes": int(self.index[split].numel()) for split in SPLITS},
        }

    def train_epoch(self, model, optimizer):
        model.train()
        if not self.minibatch:
            idx = self.index["train"]
            logits = model(self.graph, self.features)[idx]
            return self._step(optimizer, logits, self.labels[idx])
        totals = {"train_loss": 0.0, "train_accuracy": 0.0}
        for input_nodes, output_nodes, blocks in self.loader:
            blocks = [block.to(self.device) for block in blocks]
            inputs = self.features[input_nodes].to(self.device)
            logits = model(blocks, inputs)
            metrics = self._step(optimizer, logits, self.labels[output_nodes.to(self.device)])
            for key in totals:
                totals[key] += metrics[key] * len(output_nodes)
        return {key: value / len(self.index["train"]) for key, value in totals.items()}

    def _step(self, optimizer, logits, labels) -> Dict[str, float]:
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        accuracy = (logits.argmax(1) == labels).float().mean()
        return {"train_loss": loss.item(), "train_accuracy": accuracy.item()}

    @torch.no_grad()
    def evaluate(self, model, split):
        model.eval()
        idx = self.index[split]
        logits = self._inference(model, len(model.layers), split)
        labels = self.labels[idx]
        return {
            f"{split}_loss": F.cross_entropy(logits, labels).item(),
            f"{split}_accuracy": (logits.argmax(1) == labels).float().mean().item(),
        }

    def _inference(self, model, num_layers: int, split: Optional[str] = None) -> torch.Tensor:
        """Outputs of the first ``num_layers`` layers, without sampling, for the nodes of ``split``
        (every node when None)."""
        if not self.minibatch:
            h = model._run(self.graph, self.features, num_layers)
            return h if split is None else h[self.index[split]]
        # Layer by layer in batches, so that memory stays bounded on large graphs, and each layer
        # only for the nodes that the layers above need.
        h = self.features
        for index, targets in enumerate(self._receptive_field(split, num_layers)):
            loader = dgl.dataloading.DataLoader(self.graph, targets, dgl.dataloading.MultiLayerFullNeighborSampler(1),
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
        key = (split, num_layers)
        if key not in self.receptive_fields:
            fields = [self.index[split]]
            for _ in range(num_layers - 1):
                sources, _ = self.graph.in_edges(fields[0])
                fields.insert(0, torch.unique(torch.cat([fields[0], sources])))
            self.receptive_fields[key] = fields
        return self.receptive_fields[key]

    @torch.no_grad()
    def export(self, model, output_dir: Path):
        model.eval()
        embeddings = self._inference(model, len(model.layers) - 1).cpu()
        if embeddings.is_sparse:
            embeddings = embeddings.to_dense()
        np.save(output_dir / "node_embeddings.npy", embeddings.numpy())
        plot_embeddings(embeddings, self.labels.cpu(), output_dir / "node_embeddings.png")
        return {"embeddings": "node_embeddings.npy", "embeddings_plot": "node_embeddings.png"}


def model_inputs(graph, features: torch.Tensor, add_self_loops: bool, normalize_features: bool):
    """The graph (its edges alone, self loops added if asked) and the features (row-normalised if
    asked) that a node model takes. To predict with a loaded model, pass the flags of its
    ``model_config['data']``: ``self_loops_added`` and ``features_normalized``."""
    if normalize_features:
        features = features / features.abs().sum(1, keepdim=True).clamp(min=1e-12)
    graph = dgl.graph(graph.edges(), num_nodes=graph.num_nodes())
    if add_self_loops:
        graph = dgl.add_self_loop(dgl.remove_self_loop(graph))
    return graph, features


def _masks(graph, labels, hp) -> Dict[str, torch.Tensor]:
    """The graph's masks, or a seeded random split of the labelled nodes when it has none."""
    if all(f"{split}_mask" in graph.ndata for split in SPLITS):
        return {split: graph.ndata[f"{split}_mask"].bool() for split in SPLITS}
    labelled = torch.nonzero(labels >= 0).flatten()
    order = labelled[torch.randperm(len(labelled), generator=torch.Generator().manual_seed(hp.seed))]
    n_train = max(1, int(round(hp.train_fraction * len(order))))
    n_val = int(round(hp.val_fraction * len(order)))
    parts = {"train": order[:n_train], "val": order[n_train : n_train + n_val], "test": order[n_train + n_val :]}
    masks = {}
    for split, nodes in parts.items():
        masks[split] = torch.zeros(len(labels), dtype=torch.bool)
        masks[split][nodes] = True
    return masks


def _check_labels(labels, masks, num_classes, name) -> int:
    """Number of classes, after checking that every node in a split has a label in range."""
    if not masks["train"].any():
        raise DataFormatError(f"dataset '{name}': no training nodes (train_mask is all false)")
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
