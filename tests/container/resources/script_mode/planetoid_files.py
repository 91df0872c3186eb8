"""Read Planetoid ind.<name>.* files (the user's own loader; the image's is sagemaker_dgl.data)."""
import pickle
from pathlib import Path

import dgl
import numpy as np
import scipy.sparse as sp
import torch


def read_planetoid(directory):
    directory = Path(directory)
    name = next(directory.glob("ind.*.x")).name.split(".")[1]

    def load(part):
        with open(directory / f"ind.{name}.{part}", "rb") as handle:
            return pickle.load(handle, encoding="latin1")  # Python 2 pickles

    x, y, tx, ty, allx, ally, links = (load(part) for part in ("x", "y", "tx", "ty", "allx", "ally", "graph"))
    test_index = np.loadtxt(directory / f"ind.{name}.test.index", dtype=np.int64)
    order = np.sort(test_index)
    features = sp.vstack((allx, tx)).tolil()
    features[test_index, :] = features[order, :]
    labels = np.vstack((ally, ty))
    labels[test_index, :] = labels[order, :]
    src = [s for s, targets in links.items() for _ in targets]
    dst = [t for targets in links.values() for t in targets]
    graph = dgl.add_self_loop(dgl.to_bidirected(dgl.graph((src, dst), num_nodes=features.shape[0])))
    features = torch.tensor(features.toarray(), dtype=torch.float32)
    features = features / features.sum(1, keepdim=True).clamp(min=1)
    train = torch.arange(len(y))
    return graph, features, torch.tensor(labels.argmax(1)), train, torch.tensor(test_index)
