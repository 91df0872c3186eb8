"""What data formats produce (one typed container per shape of data) and the format and dataset
registries.

A format file registers its reader with ``@register_format(name, detect=..., expects=...,
produces=GraphData)`` and its named datasets with :func:`register_dataset`. A task declares the
container it trains on (``Task.data_type``); the loader checks that the format produces it.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import dgl
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


class GenerationData:
    """What graph generation learns from: a synthetic family or a set of molecules."""


@dataclass
class GraphFamilyData(GenerationData):
    """No files: graph generation draws its training graphs from the synthetic family that
    ``graph_family`` names (:mod:`~sagemaker_dgl.data.graph_families`)."""

    name: str = "synthetic_graphs"
    info: Dict[str, Any] = field(default_factory=dict)


@dataclass
class MoleculeSetData(GenerationData):
    """Molecules to learn to generate: ``smiles['train']``, canonical SMILES of the molecules
    RDKit parsed; ``files`` the file of each split (``'valid'``, ``'test'`` when the channel has
    them), read when a task asks for them (:meth:`split_smiles`; DGMG does not)."""

    smiles: Dict[str, List[str]]
    name: str
    files: Dict[str, Path] = field(default_factory=dict)
    info: Dict[str, Any] = field(default_factory=dict)

    def split_smiles(self, split: str) -> List[str]:
        """The SMILES of ``split``, read from its file on first use (unparsable lines counted in
        ``info['unparsed_smiles']``); a split without a file is an error naming the file."""
        if split not in self.smiles:
            from .molecule_sets import read_split

            self.smiles[split], self.info.setdefault("unparsed_smiles", {})[split] = read_split(self.files, split)
        return self.smiles[split]


@dataclass
class HeteroGraphData:
    """A multi-relational graph (an RDF graph) whose labelled entities carry a class.

    ``triples`` holds ``(T, 3)`` int64 (subject, relation, object) ids into ``entities`` and
    ``relations``, without inverses (:meth:`graph` adds them). Entity names are URIs, ``_:id``
    for blank nodes and N-Triples text for literals (``"1.5"^^<...#double>``): one line each.
    ``labels`` maps a split (``'train'``, ``'test'``) to ``(entity ids, class ids)``, class ids
    into ``classes`` (the label strings, e.g. ``['0.0', '1.0']``). ``info['label_predicates']``
    lists the predicates that state the labels (the format's suggestion of what to remove)."""

    triples: torch.Tensor
    entities: List[str]
    relations: List[str]
    labels: Dict[str, Tuple[torch.Tensor, torch.Tensor]]
    classes: List[str]
    name: str
    info: Dict[str, Any] = field(default_factory=dict)

    @property
    def num_relations(self) -> int:
        """Relation types of :meth:`graph`: each relation and its inverse."""
        return 2 * len(self.relations)

    def graph(self) -> DGLGraph:
        """The homogeneous graph R-GCN runs on: triple (s, r, o) gives edge s -> o of type r and
        edge o -> s of type r + len(relations) (the inverse), in ``edata['etype']``."""
        s, r, o = self.triples.t()
        graph = dgl.graph((torch.cat([s, o]), torch.cat([o, s])), num_nodes=len(self.entities))
        graph.edata["etype"] = torch.cat([r, r + len(self.relations)])
        return graph

    def without_relations(self, names: List[str]) -> "HeteroGraphData":
        """The data without the triples of relations ``names`` (unknown names are ignored), and
        without the entities left in no triple; ids are renumbered, names and labels kept."""
        drop = [index for index, relation in enumerate(self.relations) if relation in set(names)]
        keep = ~torch.isin(self.triples[:, 1], torch.tensor(drop, dtype=torch.int64))
        triples = self.triples[keep]
        used = torch.unique(torch.cat([triples[:, 0], triples[:, 2]]))
        new_entity = torch.full((len(self.entities),), -1, dtype=torch.int64)
        new_entity[used] = torch.arange(len(used))
        kept_relations = [index for index in range(len(self.relations)) if index not in drop]
        new_relation = torch.full((len(self.relations),), -1, dtype=torch.int64)
        new_relation[kept_relations] = torch.arange(len(kept_relations))
        triples = torch.stack([new_entity[triples[:, 0]], new_relation[triples[:, 1]], new_entity[triples[:, 2]]], 1)
        labels = {split: (new_entity[ids], classes) for split, (ids, classes) in self.labels.items()}
        return HeteroGraphData(triples, [self.entities[i] for i in used.tolist()],
                               [self.relations[i] for i in kept_relations], labels, self.classes, self.name,
                               dict(self.info))


@dataclass
class TripleData:
    """Knowledge-graph triples: ``splits['train']``, ``['valid']``, ``['test']`` hold ``(N, 3)``
    int64 (head, relation, tail) indices into ``entities`` and ``relations`` (their ids in the
    files); ``entity_names`` maps some entity ids to readable names."""

    splits: Dict[str, torch.Tensor]
    entities: List[str]
    relations: List[str]
    name: str
    info: Dict[str, Any] = field(default_factory=dict)
    entity_names: Dict[str, str] = field(default_factory=dict)


@dataclass
class RatingData:
    """Ratings of items by users: rating ``i`` is ``ratings[i]``, given by user ``pairs[i, 0]`` to
    item ``pairs[i, 1]`` (``(N, 2)`` int64 indices into ``users`` and ``items``, the ids in the
    files). ``test_folds`` maps the data's own splits to the rows of their test part (MovieLens
    100K: ``'u1'`` ... ``'u5'``, ``'ua'``, ``'ub'``; first: the canonical one); empty when the
    data has none. ``scale`` lists the rating levels in increasing order. Side features, when the
    files have them, are ``(num_users, F_u)`` and ``(num_items, F_i)`` float32 (names in
    ``info``); ``item_names`` maps item ids to titles."""

    pairs: torch.Tensor
    ratings: torch.Tensor
    users: List[str]
    items: List[str]
    scale: List[float]
    name: str
    test_folds: Dict[str, torch.Tensor] = field(default_factory=dict)
    user_features: Optional[torch.Tensor] = None
    item_features: Optional[torch.Tensor] = None
    item_names: Dict[str, str] = field(default_factory=dict)
    info: Dict[str, Any] = field(default_factory=dict)


@dataclass
class GraphSetData:
    """A set of graphs with graph-level targets (graph classification and regression).

    ``labels`` is ``(num_graphs, num_targets)`` float32, NaN where a target is missing, of one of
    three kinds (``target_kind``): ``'multiclass'`` (one column of class ids into ``classes``),
    ``'binary'`` (each column 0 or 1: multi-task classification, as Tox21) or ``'regression'``.
    ``target_names`` name the columns. Every graph has ``ndata['feat']`` (float32, one size for
    all) and may have ``edata['feat']``; ``smiles`` holds the molecules' SMILES strings (scaffold
    split, predictor) when the graphs are molecules."""

    graphs: List[DGLGraph]
    labels: torch.Tensor
    target_kind: str
    target_names: List[str]
    name: str
    classes: List[str] = field(default_factory=list)
    smiles: Optional[List[str]] = None
    info: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataFormat:
    """A registered reader of channel folders. ``options`` names the hyperparameters the reader
    takes as keyword arguments (a molecule CSV's ``smiles_column``)."""

    name: str
    read: Callable[..., Any]  # (folder, dataset name or None, **options) -> a container
    detect: Callable[[Path], bool]
    expects: str  # the files it reads, for messages
    produces: type
    options: Tuple[str, ...] = ()


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


def register_format(name: str, *, detect: Callable[[Path], bool], expects: str, produces: type,
                    options: Tuple[str, ...] = ()):
    """Decorator that registers a reader ``read(folder, dataset_name, **options) -> container``."""

    def decorator(read):
        FORMATS.add(name, DataFormat(name, read, detect, expects, produces, tuple(options)))
        return read

    return decorator


def register_dataset(dataset: Dataset) -> Dataset:
    """Register a named dataset."""
    return DATASETS.add(dataset.name, dataset)


def first_line(path: Path) -> str:
    """The first line of a text file without its line ending (a table's header)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.readline().rstrip("\r\n")
