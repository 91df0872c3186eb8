"""Read a Planetoid citation graph (ind.<name>.* files) without DGL, PyG or sagemaker_dgl.

The baselines in this folder (``dgl_loop.py``, ``pyg_loop.py``) use it so that every
implementation trains on the very same files, preprocessed the way DGL's ``CoraGraphDataset``
and PyG's ``Planetoid(..., transform=NormalizeFeatures())`` do it:

- features: ``allx`` stacked on ``tx``, test rows put back in ``test.index`` order, then
  row-normalised (each row divided by its sum; all-zero rows stay zero), dense float32;
- edges: the adjacency lists made symmetric, duplicates and self loops removed
  (Cora: 10,556 directed edges); self loops are added by the caller;
- split: train = the rows of ``x`` (140), validation = the next 500, test = ``test.index`` (1,000).

Needs numpy, scipy and torch only, so it runs in the package's venv and in the PyG venv.
"""
import pickle
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch


def _unpickle(path: Path):
    with open(path, "rb") as handle:
        return pickle.load(handle, encoding="latin1")


def load_planetoid(directory, name: str = "cora") -> dict:
    """Tensors of dataset ``name`` in ``directory``.

    Returns a dict with ``src``, ``dst`` (int64, both directions, no self loops), ``features``
    (float32, ``(N, F)``, row-normalised), ``labels`` (int64), ``train_mask``/``val_mask``/
    ``test_mask`` (bool) and ``num_nodes``, ``num_classes``.
    """
    directory = Path(directory)
    parts = {part: _unpickle(directory / f"ind.{name}.{part}") for part in ("x", "y", "tx", "ty", "allx", "ally", "graph")}
    test_index = np.loadtxt(directory / f"ind.{name}.test.index", dtype=np.int64)
    test_sorted = np.sort(test_index)
    if name == "citeseer":  # isolated test nodes have no row in tx/ty
        span = test_sorted.max() - test_sorted.min() + 1
        tx = sp.lil_matrix((span, parts["tx"].shape[1]))
        tx[test_sorted - test_sorted.min(), :] = parts["tx"]
        ty = np.zeros((span, parts["ty"].shape[1]))
        ty[test_sorted - test_sorted.min(), :] = parts["ty"]
        parts["tx"], parts["ty"] = tx, ty

    features = sp.vstack((parts["allx"], parts["tx"])).tolil()
    features[test_index, :] = features[test_sorted, :]
    features = sp.csr_matrix(features, dtype=np.float64)
    row_sum = np.asarray(features.sum(1)).flatten()
    inverse = np.divide(1.0, row_sum, out=np.zeros_like(row_sum), where=row_sum != 0)
    features = sp.diags(inverse) @ features

    onehot = np.vstack((parts["ally"], parts["ty"]))
    onehot[test_index, :] = onehot[test_sorted, :]
    labels = onehot.argmax(1)

    adjacency = parts["graph"]
    src = np.fromiter((u for u, vs in adjacency.items() for _ in vs), dtype=np.int64)
    dst = np.fromiter((v for vs in adjacency.values() for v in vs), dtype=np.int64)
    num_nodes = features.shape[0]
    matrix = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(num_nodes, num_nodes)).tocsr()
    matrix = ((matrix + matrix.T) > 0).astype(np.int8).tocoo()
    keep = matrix.row != matrix.col
    src, dst = matrix.row[keep].astype(np.int64), matrix.col[keep].astype(np.int64)

    masks = {}
    for split, nodes in {
        "train": np.arange(parts["y"].shape[0]),
        "val": np.arange(parts["y"].shape[0], parts["y"].shape[0] + 500),
        "test": test_index,
    }.items():
        mask = np.zeros(num_nodes, dtype=bool)
        mask[nodes] = True
        masks[f"{split}_mask"] = torch.from_numpy(mask)
    return {
        "src": torch.from_numpy(src),
        "dst": torch.from_numpy(dst),
        "features": torch.from_numpy(np.asarray(features.todense(), dtype=np.float32)),
        "labels": torch.from_numpy(labels.astype(np.int64)),
        "num_nodes": num_nodes,
        "num_classes": int(onehot.shape[1]),
        **masks,
    }


def start_profiler(enabled: bool):
    """A started ``torch.profiler`` that records epochs 26-75 (call ``.step()`` after each epoch), or None."""
    if not enabled:
        return None
    from torch.profiler import ProfilerActivity, profile, schedule

    profiler = profile(activities=[ProfilerActivity.CPU], schedule=schedule(wait=20, warmup=5, active=50, repeat=1))
    profiler.start()
    return profiler
