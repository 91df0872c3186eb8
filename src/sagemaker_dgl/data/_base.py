"""What data formats produce (one typed container per shape of data) and the format and dataset
registries.

A format file registers its reader with ``@register_format(name, detect=..., expects=...,
produces=GraphData)`` and its named datasets with :func:`register_dataset`. A task declares the
container it trains on (``Task.data_type``); the loader checks that the format produces it.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
from dgl import DGLGraph

from ..registry import Registry


@dataclass
class GraphData:
    """One homogeneous graph with its node data (``feat``, ``label``, optional ``*_mask``).

    ``node_ids`` holds the ids the data files give the nodes, by node index (None: the indices
    themselves); files that name nodes (split channels) use these ids."""

    graph: DGLGraph
    name: str
    info: Dict[str, Any] = field(default_factory=dict)
    node_ids: Optional[np.ndarray] = None


@dataclass
class HeteroGraphData:
    """One graph with several node and edge types (an RDF graph): labels on ``target_ntype``."""

    graph: DGLGraph
    name: str
    target_ntype: str
    info: Dict[str, Any] = field(default_factory=dict)


@dataclass
class TripleData:
    """Knowledge-graph triples: ``splits['train']`` etc. hold ``(N, 3)`` int64 (head, relation,
    tail) ids into ``entities`` and ``relations``."""

    splits: Dict[str, torch.Tensor]
    entities: List[str]
    relations: List[str]
    name: str
    info: Dict[str, Any] = field(default_factory=dict)


@dataclass
class RatingData:
    """Bipartite ratings: ``splits['train']`` etc. hold ``(N, 3)`` (user id, item id, rating) rows."""

    splits: Dict[str, torch.Tensor]
    users: List[str]
    items: List[str]
    name: str
    info: Dict[str, Any] = field(default_factory=dict)


@dataclass
class GraphSetData:
    """A set of graphs with graph-level ``labels`` ``(num_graphs, num_targets)``."""

    graphs: List[DGLGraph]
    labels: torch.Tensor
    name: str
    info: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataFormat:
    """A registered reader of channel folders."""

    name: str
    read: Callable[[Path, Optional[str]], Any]  # (folder, dataset name or None) -> a container
    detect: Callable[[Path], bool]
    expects: str  # the files it reads, for messages
    produces: type


@dataclass(frozen=True)
class Dataset:
    """A named dataset: ``download(folder)`` writes files that ``format`` reads (a channel's
    content), or ``build()`` makes it in memory."""

    name: str
    produces: type
    source: str  # where it comes from, for messages
    format: Optional[str] = None
    download: Optional[Callable[[Path], None]] = None
    build: Optional[Callable[[], Any]] = None


FORMATS: Registry[DataFormat] = Registry("data format", hyperparameter="data_format")
DATASETS: Registry[Dataset] = Registry("dataset", hyperparameter="dataset")


def register_format(name: str, *, detect: Callable[[Path], bool], expects: str, produces: type):
    """Decorator that registers a reader ``read(folder, dataset_name) -> container``."""

    def decorator(read):
        FORMATS.add(name, DataFormat(name, read, detect, expects, produces))
        return read

    return decorator


def register_dataset(dataset: Dataset) -> Dataset:
    """Register a named dataset."""
    return DATASETS.add(dataset.name, dataset)
