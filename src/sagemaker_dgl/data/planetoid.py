"""Planetoid citation graphs (Cora, CiteSeer, PubMed) with the standard public split.

Yang, Cohen & Salakhutdinov, "Revisiting Semi-Supervised Learning with Graph Embeddings",
ICML 2016. Expected files in the channel, for ``<name>`` in cora, citeseer, pubmed::

    ind.<name>.x  ind.<name>.tx  ind.<name>.allx    (scipy CSR features, Python 2 pickles)
    ind.<name>.y  ind.<name>.ty  ind.<name>.ally    (one-hot labels, numpy pickles)
    ind.<name>.graph                                (dict: node -> neighbour list)
    ind.<name>.test.index                           (test node ids, one per line)

Split: train = the rows of ``x``, validation = the next 500 nodes, test = ``test.index``.

| dataset  | nodes  | edges (directed) | features | classes | train/val/test |
|----------|--------|------------------|----------|---------|----------------|
| cora     | 2,708  | 10,556           | 1,433    | 7       | 140/500/1000   |
| citeseer | 3,327  | 9,104            | 3,703    | 6       | 120/500/1000   |
| pubmed   | 19,717 | 88,648           | 500      | 3       | 60/500/1000    |
"""
import pickle
from functools import partial
from pathlib import Path
from typing import Dict, List, Optional

import dgl
import numpy as np
import scipy.sparse as sp
import torch

from ..errors import DataFormatError, JobInterrupted
from ._base import Dataset, GraphData, register_dataset, register_format
from .download import download

PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
SOURCE_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/ind.{name}.{part}"
#: SHA-256 of the canonical files (kimiyoung/planetoid, identical to tkipf/gcn).
CHECKSUMS: Dict[str, Dict[str, str]] = {
    "cora": {
        "x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
        "tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    },
    "citeseer": {
        "x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
        "y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
        "tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
        "ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
        "allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
        "ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
        "graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
        "test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    },
    "pubmed": {
        "x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
        "y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
        "tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
        "ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
        "allx": "508e538e2abdccdd54c4d3e9f49d638b4af7107d85845f66ddea5a5152658b7e",
        "ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
        "graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
        "test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    },
}


def names_in(directory: Path) -> List[str]:
    """Planetoid dataset names whose ``ind.<name>.graph`` file is in ``directory``."""
    return sorted(path.name[len("ind.") : -len(".graph")] for path in Path(directory).glob("ind.*.graph"))


def _detect(directory: Path) -> bool:
    return bool(names_in(directory))


def download_planetoid(name: str, directory: Path) -> None:
    """Fetch the eight ``ind.<name>.*`` files into ``directory``, checking their SHA-256."""
    for part, checksum in CHECKSUMS[name].items():
        download(SOURCE_URL.format(name=name, part=part), Path(directory) / f"ind.{name}.{part}", checksum)


for _name in CHECKSUMS:
    register_dataset(Dataset(_name, GraphData, source=f"ind.{_name}.* from https://github.com/kimiyoung/planetoid",
                             format="planetoid", download=partial(download_planetoid, _name)))


@register_format("planetoid", detect=_detect, expects="ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}",
                 produces=GraphData)
def load_planetoid(directory: Path, name: Optional[str] = None) -> GraphData:
    """Read ``ind.<name>.*`` from ``directory`` into a graph with features, labels and masks."""
    directory = Path(directory)
    found = names_in(directory)
    if not found:
        below = sorted({str(p.parent.relative_to(directory)) for p in directory.rglob("ind.*.graph")})
        where = f"; they are one folder down, in {', '.join(below)}: point the channel there" if below else ""
        raise DataFormatError(f"no ind.<name>.graph file in {directory}, so it holds no Planetoid dataset{where}")
    if name is None:
        if len(found) != 1:
            raise DataFormatError(f"channel holds Planetoid files for {found}; set hyperparameter dataset to one of them")
        name = found[0]
    missing = [f"ind.{name}.{part}" for part in PARTS if not (directory / f"ind.{name}.{part}").is_file()]
    if missing:
        raise DataFormatError(f"Planetoid dataset '{name}' is missing {', '.join(missing)} in {directory}")
    objects = {part: _unpickle(directory / f"ind.{name}.{part}") for part in PARTS if part != "test.index"}
    test_index = _read_index(directory / f"ind.{name}.test.index")
    try:
        graph = _build(objects, test_index, name)
    except (AttributeError, IndexError, ValueError, TypeError, OverflowError, KeyError) as error:
        # scipy and numpy raise these on damaged matrices (for example a flipped byte in an index)
        raise DataFormatError(
            f"Planetoid files for '{name}' are damaged or do not fit together ({type(error).__name__}: {error}); "
            "upload the original files again"
        ) from None
    return GraphData(graph=graph, name=name, info={"format": "planetoid"})


def _unpickle(path: Path):
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle, encoding="latin1")
    except JobInterrupted:
        raise
    except Exception as error:  # pickle raises many types on corrupt or truncated input
        raise DataFormatError(
            f"{path.name} is corrupt or truncated ({type(error).__name__}: {error}); "
            "upload the original Planetoid file again"
        ) from None


def _read_index(path: Path) -> np.ndarray:
    try:
        index = np.array([int(line) for line in path.read_text().split()], dtype=np.int64)
    except ValueError as error:
        raise DataFormatError(f"{path.name} must hold one integer per line ({error})") from None
    if len(index) and index.min() < 0:
        raise DataFormatError(f"{path.name} line {int(np.argmin(index)) + 1}: node id {index.min()} is negative")
    values, counts = np.unique(index, return_counts=True)
    if (counts > 1).any():
        raise DataFormatError(f"{path.name}: node id {values[counts > 1][0]} is listed {counts.max()} times; "
                              "each test node once")
    return index


def _edges(adjacency, num_nodes: int, name: str):
    """Source and destination arrays of ``ind.<name>.graph`` (node -> neighbour list), every id checked
    (DGL would crash on a negative one)."""
    try:
        src = np.array([s for s, neighbours in adjacency.items() for _ in neighbours], dtype=np.int64)
        dst = np.array([d for neighbours in adjacency.values() for d in neighbours], dtype=np.int64)
    except (AttributeError, TypeError, ValueError, OverflowError) as error:
        raise DataFormatError(
            f"ind.{name}.graph must hold a dict of node id -> list of neighbour ids, not {type(adjacency).__name__} "
            f"({error})"
        ) from None
    for ids in (src, dst):
        bad = np.flatnonzero((ids < 0) | (ids >= num_nodes))
        if len(bad):
            raise DataFormatError(
                f"ind.{name}.graph: edge {src[bad[0]]} -> {dst[bad[0]]} names a node outside 0..{num_nodes - 1} "
                f"(the features have {num_nodes} rows)"
            )
    return src, dst


def _build(objects, test_index: np.ndarray, name: str) -> dgl.DGLGraph:
    x, y, tx, ty, allx, ally = (objects[k] for k in ("x", "y", "tx", "ty", "allx", "ally"))
    for part in ("x", "tx", "allx"):
        if not sp.issparse(objects[part]):
            raise DataFormatError(f"ind.{name}.{part} must hold a scipy sparse matrix, not {type(objects[part]).__name__}")
        objects[part].check_format(full_check=True)  # a damaged index array would crash scipy's C code
    adjacency = objects["graph"]
    test_sorted = np.sort(test_index)
    if name == "citeseer":
        # CiteSeer has isolated test nodes missing from tx/ty: give them zero rows (as GCN does).
        full_range = np.arange(test_sorted.min(), test_sorted.max() + 1)
        tx_full = sp.lil_matrix((len(full_range), tx.shape[1]))
        tx_full[test_sorted - test_sorted.min(), :] = tx
        ty_full = np.zeros((len(full_range), ty.shape[1]))
        ty_full[test_sorted - test_sorted.min(), :] = ty
        tx, ty = tx_full, ty_full
    features = sp.vstack((allx, tx)).tolil()
    features[test_index, :] = features[test_sorted, :]
    labels = np.vstack((ally, ty))
    labels[test_index, :] = labels[test_sorted, :]
    num_nodes = features.shape[0]
    if labels.shape[0] != num_nodes or len(adjacency) > num_nodes:
        raise DataFormatError(
            f"Planetoid files for '{name}' disagree: {num_nodes} feature rows, {labels.shape[0]} label rows, "
            f"{len(adjacency)} adjacency entries"
        )
    src, dst = _edges(adjacency, num_nodes, name)
    pairs = np.unique(np.concatenate([np.stack([src, dst], 1), np.stack([dst, src], 1)]), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    graph = dgl.graph((torch.from_numpy(pairs[:, 0]), torch.from_numpy(pairs[:, 1])), num_nodes=num_nodes)
    graph.ndata["feat"] = torch.from_numpy(np.asarray(features.todense(), dtype=np.float32))
    unlabelled = labels.sum(1) == 0
    label = torch.from_numpy(labels.argmax(1).astype(np.int64))
    label[torch.from_numpy(unlabelled)] = -1
    graph.ndata["label"] = label
    masks = {"train": range(y.shape[0]), "val": range(y.shape[0], y.shape[0] + 500), "test": test_index.tolist()}
    for split, nodes in masks.items():
        mask = torch.zeros(num_nodes, dtype=torch.bool)
        mask[list(nodes)] = True
        graph.ndata[f"{split}_mask"] = mask & (label >= 0)
    return graph
