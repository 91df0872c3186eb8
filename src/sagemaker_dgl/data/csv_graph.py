"""A user's own graph, or set of graphs, in DGL's CSV dataset format (``dgl.data.CSVDataset``).

Expected files in the channel (https://docs.dgl.ai/guide/data-loadcsv.html)::

    meta.yaml    dataset_name, edge_data: [{file_name: edges.csv}], node_data: [{file_name: nodes.csv}]
    nodes.csv    node_id, feat ("0.1, 0.2, ..."), label, optional train_mask/val_mask/test_mask
    edges.csv    src_id, dst_id

Without masks the labelled nodes (label >= 0) get a seeded random split
(``train_fraction``/``val_fraction``). One homogeneous graph per dataset.

Several graphs (format ``csv_graphs``, for graph prediction): ``meta.yaml`` also names
``graph_data: {file_name: graphs.csv}`` (``graph_id``, ``label``: an integer class or a number
per graph), and ``nodes.csv`` and ``edges.csv`` carry a ``graph_id`` column; node features in
``feat`` (none: the constant 1).

DGL reads the files; the columns go through :class:`NodeColumns` and :class:`EdgeColumns`
(``CSVDataset``'s parser hooks) instead of DGL's default parser, which evaluates every cell as
Python (slow, and a text cell fails with ``malformed node or string``): ``feat`` must be numbers
of one length per row, ``label`` integers, masks true/false; a bad cell is named by file, data
row and column, and columns node classification does not read are ignored (and logged).
"""
import logging
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import pandas as pd
import torch

from ..errors import DataFormatError, JobInterrupted
from ._base import GraphData, GraphSetData, register_format

logger = logging.getLogger(__name__)
TRUE = {"true", "1", "1.0"}
FALSE = {"false", "0", "0.0"}


def _meta(directory: Path) -> Optional[dict]:
    """meta.yaml of ``directory`` as a dict; None without one, ``{}`` when it does not parse."""
    import yaml

    path = Path(directory) / "meta.yaml"
    if not path.is_file():
        return None
    try:
        meta = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _detect(directory: Path) -> bool:
    meta = _meta(directory)
    return meta is not None and not meta.get("graph_data")


def _detect_graphs(directory: Path) -> bool:
    return bool((_meta(directory) or {}).get("graph_data"))


def _uncached_csv_dataset(directory: Path, **parsers):
    """``dgl.data.CSVDataset`` of ``directory`` that neither reads nor writes a cache (channels stay read-only)."""
    from dgl.data import CSVDataset

    class Uncached(CSVDataset):
        def has_cache(self):
            return False

        def save(self):
            pass

    return Uncached(str(directory), verbose=False, **parsers)


def _bad(file_name: str, row: int, column: str, problem: str) -> DataFormatError:
    return DataFormatError(f"{file_name} data row {row + 1}, column '{column}': {problem}")


def _vectors(values: pd.Series, file_name: str, column: str) -> np.ndarray:
    """``"0.1, 0.2"`` cells (or plain numbers) -> a float32 ``(rows, width)`` array, every cell checked."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64).reshape(-1, 1)
    else:
        cells = values.fillna("").astype(str).str.strip("[] ").str.split(",", expand=True)
        lengths = cells.notna().sum(axis=1).to_numpy()
        usual = int(np.bincount(lengths).argmax())
        if (lengths != usual).any():
            row = int(np.flatnonzero(lengths != usual)[0])
            raise _bad(file_name, row, column, f"{lengths[row]} values where the other rows have {usual}; "
                                               "every row needs the same number of features")
        text = cells.apply(lambda part: part.str.strip())
        numbers = text.apply(lambda part: pd.to_numeric(part, errors="coerce")).to_numpy(dtype=np.float64)
        if np.isnan(numbers).any():
            row, position = (int(i[0]) for i in np.nonzero(np.isnan(numbers)))
            raise _bad(file_name, row, column, f"{text.iat[row, position]!r} is not a number")
    if not np.isfinite(numbers).all():
        row = int(np.flatnonzero(~np.isfinite(numbers).all(axis=1))[0])
        raise _bad(file_name, row, column, "NaN or infinite feature values")
    return numbers.astype(np.float32)


def _integers(values: pd.Series, file_name: str, column: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(numbers) | (numbers != np.round(numbers))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise _bad(file_name, row, column, f"{_plain(values.iat[row])!r} is not an integer class (use -1 for an "
                                           "unlabelled node)")
    return numbers.astype(np.int64)


def _booleans(values: pd.Series, file_name: str, column: str) -> np.ndarray:
    text = values.astype(str).str.strip().str.lower()
    known = text.isin(TRUE | FALSE).to_numpy()
    if not known.all():
        row = int(np.flatnonzero(~known)[0])
        shown = "an empty cell" if values.isna().iat[row] or not str(values.iat[row]).strip() else repr(values.iat[row])
        raise _bad(file_name, row, column, f"{shown} is not true/false (1/0)")
    return text.isin(TRUE).to_numpy()


class NodeColumns:
    """The ``ndata_parser`` of ``CSVDataset``: the node columns node classification reads."""

    def __init__(self, file_name: str):
        self.file_name = file_name

    def __call__(self, frame: pd.DataFrame) -> Dict[str, np.ndarray]:
        data, ignored = {}, []
        for column in frame:
            if column == "feat":
                data[column] = _vectors(frame[column], self.file_name, column)
            elif column == "label":
                data[column] = _integers(frame[column], self.file_name, column)
            elif column in ("train_mask", "val_mask", "test_mask"):
                data[column] = _booleans(frame[column], self.file_name, column)
            else:
                ignored.append(column)
        if ignored:
            logger.info("%s: ignoring columns %s (node classification reads feat, label and the *_mask columns)",
                        self.file_name, ignored)
        return data


class EdgeColumns:
    """The ``edata_parser`` of ``CSVDataset``: node classification reads no edge columns."""

    def __init__(self, file_name: str):
        self.file_name = file_name

    def __call__(self, frame: pd.DataFrame) -> Dict[str, np.ndarray]:
        if len(frame.columns):
            logger.info("%s: ignoring columns %s (node classification reads src_id and dst_id)", self.file_name,
                        list(frame.columns))
        return {}


@register_format("csv", detect=_detect, expects="meta.yaml, nodes.csv, edges.csv", produces=GraphData)
def load_csv_graph(directory: Path, name=None) -> GraphData:
    """Read a DGL CSV dataset from ``directory`` (the channel stays read-only: no cache is written)."""
    import yaml

    directory = Path(directory)
    if not _detect(directory):
        raise DataFormatError(f"no meta.yaml in {directory}; the CSV format needs meta.yaml, nodes.csv, edges.csv")
    try:
        meta = yaml.safe_load((directory / "meta.yaml").read_text())
        node_file, edge_file = meta["node_data"][0]["file_name"], meta["edge_data"][0]["file_name"]
    except Exception as error:  # a YAML error, a missing key, a list where a mapping belongs ...
        raise DataFormatError(f"meta.yaml in {directory} does not name node_data and edge_data files ({error})") \
            from None
    try:
        if pd.read_csv(directory / edge_file, usecols=["src_id", "dst_id"]).empty:
            return _without_edges(directory, node_file, meta.get("dataset_name", directory.name))
        dataset = _uncached_csv_dataset(directory, ndata_parser=NodeColumns(node_file),
                                        edata_parser=EdgeColumns(edge_file))
        if len(dataset) != 1:
            raise DataFormatError(f"the CSV dataset holds {len(dataset)} graphs; node classification needs one")
        graph = dataset[0]
        node_ids = np.unique(pd.read_csv(directory / node_file, usecols=["node_id"])["node_id"].to_numpy())
    except (DataFormatError, JobInterrupted):
        raise
    except KeyError as error:  # DGL maps an edge's node id that the node file does not list
        raise DataFormatError(
            f"an edge in {edge_file} names node {_plain(error.args[0])}, which {node_file} does not list"
        ) from None
    except Exception as error:  # DGL raises DGLError, ValueError, pydantic errors ... on bad files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataFormatError(f"cannot read the CSV dataset in {directory}: {first_line}") from None
    if graph.is_homogeneous is False:
        raise DataFormatError("the CSV dataset is heterogeneous; node classification needs one node and edge type")
    return GraphData(graph=graph, name=dataset.name, info={"format": "csv"}, node_ids=node_ids)


def _without_edges(directory: Path, node_file: str, name: str) -> GraphData:
    """A graph with nodes and no edges (DGL's CSV reader cannot build one): still a valid graph."""
    import dgl

    frame = pd.read_csv(directory / node_file).sort_values("node_id")
    data = NodeColumns(node_file)(frame.drop(columns="node_id"))
    graph = dgl.graph(([], []), num_nodes=len(frame))
    graph.ndata.update({key: torch.from_numpy(value) for key, value in data.items()})
    return GraphData(graph=graph, name=name, info={"format": "csv"}, node_ids=frame["node_id"].to_numpy())


def _plain(value) -> str:
    """``np.int64(999)`` -> ``'999'``."""
    return str(value.item() if isinstance(value, np.generic) else value)


class FeatureColumns:
    """The node and edge parser of a graph set: ``feat`` (other columns are logged and ignored)."""

    def __init__(self, file_name: str):
        self.file_name = file_name

    def __call__(self, frame: pd.DataFrame) -> Dict[str, np.ndarray]:
        ignored = [column for column in frame if column != "feat"]
        if ignored:
            logger.info("%s: ignoring columns %s (graph prediction reads feat)", self.file_name, ignored)
        return {"feat": _vectors(frame["feat"], self.file_name, "feat")} if "feat" in frame else {}


class GraphColumns:
    """The graph parser: ``label``, integer classes or numbers (other columns ignored)."""

    def __init__(self, file_name: str):
        self.file_name = file_name

    def __call__(self, frame: pd.DataFrame) -> Dict[str, np.ndarray]:
        if "label" not in frame:
            raise DataFormatError(f"{self.file_name} has no 'label' column (its columns: {', '.join(frame.columns)}); "
                                  "graph prediction needs a label per graph")
        return {"label": _vectors(frame["label"], self.file_name, "label")}


@register_format("csv_graphs", detect=_detect_graphs,
                 expects="meta.yaml with graph_data, graphs.csv (graph_id, label), nodes.csv and edges.csv with graph_id",
                 produces=GraphSetData)
def load_csv_graphs(directory: Path, name=None) -> GraphSetData:
    """Several graphs in DGL's CSV dataset format, a label per graph."""
    directory = Path(directory)
    meta = _meta(directory)
    try:
        node_file, edge_file = meta["node_data"][0]["file_name"], meta["edge_data"][0]["file_name"]
        graph_file = meta["graph_data"]["file_name"]
    except Exception as error:  # a missing key, a list where a mapping belongs ...
        raise DataFormatError(f"meta.yaml in {directory} does not name node_data, edge_data and graph_data files "
                              f"({error})") from None
    try:
        dataset = _uncached_csv_dataset(directory, ndata_parser=FeatureColumns(node_file),
                                        edata_parser=FeatureColumns(edge_file), gdata_parser=GraphColumns(graph_file))
    except (DataFormatError, JobInterrupted):
        raise
    except Exception as error:  # DGL raises DGLError, ValueError, pydantic errors ... on bad files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataFormatError(f"cannot read the CSV graphs in {directory}: {first_line}") from None
    graphs = list(dataset.graphs)
    for graph in graphs:
        graph.ndata["feat"] = graph.ndata["feat"].float() if "feat" in graph.ndata else torch.ones(graph.num_nodes(), 1)
    labels = torch.as_tensor(np.asarray(dataset.data["label"])).float().reshape(len(graphs), -1)
    if torch.equal(labels, labels.round()) and labels.shape[1] == 1:
        values, index = torch.unique(labels[:, 0], return_inverse=True)
        return GraphSetData(graphs, index.float().unsqueeze(1), "multiclass", ["class"], name or dataset.name,
                            classes=[f"{v:g}" for v in values.tolist()], info={"format": "csv_graphs"})
    return GraphSetData(graphs, labels, "regression", [f"target{i}" for i in range(labels.shape[1])],
                        name or dataset.name, info={"format": "csv_graphs"})
