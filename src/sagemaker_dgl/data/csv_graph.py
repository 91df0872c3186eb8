"""A user's own graph in DGL's CSV dataset format (``dgl.data.CSVDataset``).

Expected files in the channel (https://docs.dgl.ai/guide/data-loadcsv.html)::

    meta.yaml    dataset_name, edge_data: [{file_name: edges.csv}], node_data: [{file_name: nodes.csv}]
    nodes.csv    node_id, feat ("0.1, 0.2, ..."), label, optional train_mask/val_mask/test_mask
    edges.csv    src_id, dst_id

Without masks the labelled nodes (label >= 0) get a seeded random split
(``train_fraction``/``val_fraction``). One homogeneous graph per dataset.
"""
from pathlib import Path

import numpy as np

from ..errors import DataFormatError, JobInterrupted
from ._base import GraphData, register_format


def _detect(directory: Path) -> bool:
    return (Path(directory) / "meta.yaml").is_file()


@register_format("csv", detect=_detect, expects="meta.yaml, nodes.csv, edges.csv", produces=GraphData)
def load_csv_graph(directory: Path, name=None) -> GraphData:
    """Read a DGL CSV dataset from ``directory`` (the channel stays read-only: no cache is written)."""
    from dgl.data import CSVDataset

    class _UncachedCSVDataset(CSVDataset):
        def has_cache(self):
            return False

        def save(self):
            pass

    if not _detect(directory):
        raise DataFormatError(f"no meta.yaml in {directory}; the CSV format needs meta.yaml, nodes.csv, edges.csv")
    try:
        dataset = _UncachedCSVDataset(str(directory), verbose=False)
        if len(dataset) != 1:
            raise DataFormatError(f"the CSV dataset holds {len(dataset)} graphs; node classification needs one")
        graph = dataset[0]
        node_ids = _node_ids(directory)
    except (DataFormatError, JobInterrupted):
        raise
    except KeyError as error:  # DGL maps an edge's node id that the node file does not list
        raise DataFormatError(
            f"an edge in {directory} names node {_plain(error.args[0])}, which the node file does not list"
        ) from None
    except Exception as error:  # DGL raises DGLError, KeyError, ValueError, pydantic errors ... on bad files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataFormatError(f"cannot read the CSV dataset in {directory}: {first_line}") from None
    if graph.is_homogeneous is False:
        raise DataFormatError("the CSV dataset is heterogeneous; node classification needs one node and edge type")
    return GraphData(graph=graph, name=dataset.name, info={"format": "csv"}, node_ids=node_ids)


def _plain(value) -> str:
    """``np.int64(999)`` -> ``'999'``."""
    return str(value.item() if isinstance(value, np.generic) else value)


def _node_ids(directory: Path) -> np.ndarray:
    """The ``node_id`` values by node index: DGL numbers nodes in the order of their sorted ids."""
    import pandas as pd
    import yaml

    meta = yaml.safe_load((Path(directory) / "meta.yaml").read_text())
    node_file = Path(directory) / meta["node_data"][0]["file_name"]
    return np.unique(pd.read_csv(node_file, usecols=["node_id"])["node_id"].to_numpy())
