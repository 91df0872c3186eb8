"""Users' own sets of graphs, for graph classification and regression: the TU benchmark format and
DGL's binary graph file.

| format       | files in the channel                                                          | targets |
|--------------|-------------------------------------------------------------------------------|---------|
| ``tu``       | ``<NAME>_A.txt`` (edges ``row, col``, 1-based node ids), ``<NAME>_graph_indicator.txt`` (a graph id per node), ``<NAME>_graph_labels.txt`` (a class per graph) or ``<NAME>_graph_attributes.txt``; optional ``<NAME>_node_labels.txt``, ``_node_attributes.txt``, ``_edge_labels.txt``, ``_edge_attributes.txt`` | classes, or regression targets |
| ``dgl_graphs`` | one ``.bin`` file written by ``dgl.save_graphs(path, graphs, {"labels": labels})`` (node features in ``ndata['feat']``) | int labels: classes (one column) or 0/1 tasks (several); float: regression (NaN: missing) |

The TU format is that of https://chrsmrrs.github.io/datasets/docs/format/ (MUTAG, PROTEINS,
ENZYMES, NCI1, IMDB-BINARY, ...). Node features are the one-hot node labels followed by the node
attributes; a set without either gets the constant feature 1 for every node (GIN's sum still
counts neighbours). Edge labels (one-hot) and attributes go to ``edata['feat']``. An edge whose two
nodes lie in different graphs, a node id outside the indicator, or files of different lengths
fail with the file and line.
"""
import logging
from pathlib import Path
from typing import List, Optional, Tuple

import dgl
import numpy as np
import pandas as pd
import torch

from ..errors import DataFormatError
from ._base import GraphSetData, register_format

logger = logging.getLogger(__name__)


# --- TU ---------------------------------------------------------------------------------------
def _tu_name(directory: Path) -> Optional[str]:
    names = [p.name[: -len("_A.txt")] for p in Path(directory).glob("*_A.txt")]
    return names[0] if len(names) == 1 and (Path(directory) / f"{names[0]}_graph_indicator.txt").is_file() else None


def _numbers(path: Path, dtype, columns: Optional[int] = None) -> np.ndarray:
    """The comma-separated numbers of each line of a TU file, ``(lines, columns)``; a bad line fails."""
    try:
        frame = pd.read_csv(path, header=None, sep=",", skipinitialspace=True, dtype=str, keep_default_na=False,
                            skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise DataFormatError(f"{path.name} is empty") from None
    except pd.errors.ParserError as error:
        raise DataFormatError(f"{path.name}: {error}") from None
    if columns is not None and frame.shape[1] != columns:
        raise DataFormatError(f"{path.name} line 1: {frame.shape[1]} comma-separated value(s), expected {columns}")
    values = frame.apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce"))
    bad = values.isna().any(axis=1)
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 1
        raise DataFormatError(f"{path.name} line {line}: {','.join(frame.iloc[line - 1])!r} is not "
                              f"{columns or 'a row of'} comma-separated number(s)")
    array = values.to_numpy()
    if dtype is np.int64:
        if not np.all(array == np.round(array)):
            line = int(np.argmax((array != np.round(array)).any(axis=1))) + 1
            raise DataFormatError(f"{path.name} line {line}: expected integers, got {','.join(frame.iloc[line - 1])!r}")
    return array.astype(dtype)


def _one_hot(values: np.ndarray) -> np.ndarray:
    classes, index = np.unique(values, return_inverse=True)
    out = np.zeros((len(values), len(classes)), dtype=np.float32)
    out[np.arange(len(values)), index] = 1.0
    return out


@register_format("tu", detect=lambda d: _tu_name(d) is not None,
                 expects="<NAME>_A.txt, <NAME>_graph_indicator.txt, <NAME>_graph_labels.txt (the TU benchmark format)",
                 produces=GraphSetData)
def load_tu(directory: Path, name: Optional[str] = None) -> GraphSetData:
    """A TU benchmark data set (several graphs, a class or regression targets per graph)."""
    directory = Path(directory)
    prefix = _tu_name(directory)
    if prefix is None:
        raise DataFormatError(f"no <NAME>_A.txt with its <NAME>_graph_indicator.txt in {directory}")
    path = lambda part: directory / f"{prefix}_{part}.txt"  # noqa: E731
    indicator = _numbers(path("graph_indicator"), np.int64, 1)[:, 0]
    edges = _numbers(path("A"), np.int64, 2)
    num_nodes, num_graphs = len(indicator), int(indicator.max())
    if indicator.min() < 1:
        line = int(np.argmax(indicator < 1)) + 1
        raise DataFormatError(f"{path('graph_indicator').name} line {line}: graph id {indicator[line - 1]}; ids start at 1")
    outside = (edges < 1) | (edges > num_nodes)
    if outside.any():
        line = int(outside.any(axis=1).argmax()) + 1
        raise DataFormatError(f"{path('A').name} line {line}: node {edges[line - 1][outside[line - 1]][0]} is outside "
                              f"1..{num_nodes}, the nodes {path('graph_indicator').name} lists")
    edges = edges - 1
    graph_of_edge = indicator[edges[:, 0]]
    across = graph_of_edge != indicator[edges[:, 1]]
    if across.any():
        line = int(across.argmax()) + 1
        u, v = edges[line - 1] + 1
        raise DataFormatError(f"{path('A').name} line {line}: edge {u}, {v} joins node {u} of graph {indicator[u - 1]} "
                              f"and node {v} of graph {indicator[v - 1]}; {path('graph_indicator').name} and the edge "
                              "list disagree")
    node_parts = []
    for part, kind in (("node_labels", "labels"), ("node_attributes", "attributes")):
        if path(part).is_file():
            values = _numbers(path(part), np.float64)
            _check_length(path(part), len(values), num_nodes, f"{path('graph_indicator').name} lists nodes")
            node_parts.append(_one_hot(values[:, 0]) if kind == "labels" else values.astype(np.float32))
    features = np.concatenate(node_parts, 1) if node_parts else np.ones((num_nodes, 1), dtype=np.float32)
    edge_parts = []
    for part, kind in (("edge_labels", "labels"), ("edge_attributes", "attributes")):
        if path(part).is_file():
            values = _numbers(path(part), np.float64)
            _check_length(path(part), len(values), len(edges), f"{path('A').name} lists edges")
            edge_parts.append(_one_hot(values[:, 0]) if kind == "labels" else values.astype(np.float32))
    labels, kind, classes, target_names = _tu_targets(path, num_graphs)
    graphs = _split_graphs(indicator - 1, edges, graph_of_edge - 1, num_graphs, torch.from_numpy(features),
                           torch.from_numpy(np.concatenate(edge_parts, 1)) if edge_parts else None)
    logger.info("TU data set %s: %d graphs, %d nodes, %d edges, node features %d, %s targets (%s)", prefix,
                num_graphs, num_nodes, len(edges), features.shape[1], kind, ", ".join(classes) or len(target_names))
    return GraphSetData(graphs, labels, kind, target_names, name or prefix, classes=classes,
                        info={"format": "tu", "node_features": "one-hot labels, attributes" if node_parts else "constant"})


def _check_length(path: Path, found: int, expected: int, what: str) -> None:
    if found != expected:
        raise DataFormatError(f"{path.name} has {found} lines, but {what} {expected}; one line each")


def _tu_targets(path, num_graphs: int) -> Tuple[torch.Tensor, str, List[str], List[str]]:
    """Graph classes (``_graph_labels``), else regression targets (``_graph_attributes``)."""
    if path("graph_labels").is_file():
        raw = _numbers(path("graph_labels"), np.float64, 1)[:, 0]
        _check_length(path("graph_labels"), len(raw), num_graphs, "the graph indicator numbers graphs up to")
        values, index = np.unique(raw, return_inverse=True)
        classes = [f"{v:g}" for v in values]
        return torch.from_numpy(index.astype(np.float32)).unsqueeze(1), "multiclass", classes, ["class"]
    if path("graph_attributes").is_file():
        values = _numbers(path("graph_attributes"), np.float32)
        _check_length(path("graph_attributes"), len(values), num_graphs, "the graph indicator numbers graphs up to")
        return torch.from_numpy(values), "regression", [], [f"target{i}" for i in range(values.shape[1])]
    raise DataFormatError(f"no {path('graph_labels').name} (a class per graph) or {path('graph_attributes').name} "
                          "(regression targets per graph)")


def _split_graphs(node_graph: np.ndarray, edges: np.ndarray, edge_graph: np.ndarray, num_graphs: int,
                  features: torch.Tensor, edge_features: Optional[torch.Tensor]) -> List[dgl.DGLGraph]:
    """One DGL graph per graph id: nodes renumbered within their graph (in file order)."""
    order = np.argsort(node_graph, kind="stable")
    counts = np.bincount(node_graph, minlength=num_graphs)
    local = np.empty(len(node_graph), dtype=np.int64)
    local[order] = np.arange(len(node_graph)) - np.repeat(np.cumsum(counts) - counts, counts)
    global_id = np.empty(len(node_graph), dtype=np.int64)
    global_id[order] = np.arange(len(node_graph))
    edge_order = np.argsort(edge_graph, kind="stable")
    src, dst = global_id[edges[edge_order, 0]], global_id[edges[edge_order, 1]]
    batched = dgl.graph((torch.from_numpy(src), torch.from_numpy(dst)), num_nodes=len(node_graph))
    batched.ndata["feat"] = features[torch.from_numpy(order)]
    if edge_features is not None:
        batched.edata["feat"] = edge_features[torch.from_numpy(edge_order)]
    batched.set_batch_num_nodes(torch.from_numpy(counts))
    batched.set_batch_num_edges(torch.from_numpy(np.bincount(edge_graph, minlength=num_graphs)))
    return dgl.unbatch(batched)


# --- DGL's binary graph file ----------------------------------------------------------------
def _bin_files(directory: Path) -> List[Path]:
    return sorted(Path(directory).glob("*.bin"))


@register_format("dgl_graphs", detect=lambda d: len(_bin_files(d)) == 1,
                 expects="one .bin file from dgl.save_graphs(path, graphs, {'labels': labels})", produces=GraphSetData)
def load_dgl_graphs(directory: Path, name: Optional[str] = None) -> GraphSetData:
    """Graphs and their labels from a file of ``dgl.save_graphs``."""
    files = _bin_files(directory)
    if len(files) != 1:
        raise DataFormatError(f"the dgl_graphs format reads one .bin file; {directory} has {len(files)}")
    path = files[0]
    try:
        graphs, label_dict = dgl.load_graphs(str(path))
    except Exception as error:  # DGLError and others on a file that is not DGL's
        raise DataFormatError(f"{path.name} is not a file of dgl.save_graphs ({str(error).splitlines()[0][:200]})") \
            from None
    if not graphs:
        raise DataFormatError(f"{path.name} holds no graphs")
    key = "labels" if "labels" in label_dict else (next(iter(label_dict)) if len(label_dict) == 1 else None)
    if key is None:
        raise DataFormatError(f"{path.name}: save the targets as dgl.save_graphs(path, graphs, {{'labels': tensor}}); "
                              f"its labels are {sorted(label_dict) or 'missing'}")
    raw = label_dict[key]
    if raw.shape[0] != len(graphs):
        raise DataFormatError(f"{path.name}: {len(graphs)} graphs but {raw.shape[0]} labels under {key!r}")
    for index, graph in enumerate(graphs):
        if not graph.is_homogeneous:
            raise DataFormatError(f"{path.name}: graph {index} is heterogeneous; graph prediction needs one node and "
                                  "edge type")
    sizes = {graph.ndata["feat"].shape[1:] if "feat" in graph.ndata else None for graph in graphs}
    if len(sizes) > 1:
        raise DataFormatError(f"{path.name}: the graphs' ndata['feat'] differ in shape ({sorted(map(str, sizes))}); "
                              "every graph needs features of one size, or none")
    if sizes == {None}:
        for graph in graphs:
            graph.ndata["feat"] = torch.ones(graph.num_nodes(), 1)
    else:
        for graph in graphs:
            graph.ndata["feat"] = graph.ndata["feat"].float().reshape(graph.num_nodes(), -1)
    labels, kind, classes = _tensor_targets(raw)
    names = ["class"] if kind == "multiclass" else [f"target{i}" for i in range(labels.shape[1])]
    logger.info("%s: %d graphs, node features %d, %s targets", path.name, len(graphs), graphs[0].ndata["feat"].shape[1],
                kind)
    return GraphSetData(graphs, labels, kind, names, name or path.stem, classes=classes,
                        info={"format": "dgl_graphs", "node_features": "ndata['feat']" if sizes != {None} else "constant"})


def _tensor_targets(raw: torch.Tensor) -> Tuple[torch.Tensor, str, List[str]]:
    """Integer labels: one column of classes, or several 0/1 tasks; floats: regression (NaN missing)."""
    if not raw.is_floating_point():
        if raw.dim() == 1 or raw.shape[1] == 1:
            values, index = torch.unique(raw.flatten(), return_inverse=True)
            return index.float().unsqueeze(1), "multiclass", [str(v) for v in values.tolist()]
        if not torch.isin(raw, torch.tensor([0, 1])).all():
            raise DataFormatError("integer labels with several columns are 0/1 tasks; found values other than 0 and 1")
        return raw.float(), "binary", []
    labels = raw.float().reshape(len(raw), -1)
    return labels, "regression", []
