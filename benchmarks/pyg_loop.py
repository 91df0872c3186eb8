"""Baseline: PyTorch Geometric's GCN or GAT on a Planetoid graph (run it in benchmarks/.venv-pyg).

The models follow PyG's examples (examples/gcn.py and examples/gat.py in pyg-team/pytorch_geometric)
with the hyperparameters DGL's examples and this package use:

- GCN: dropout(0.5) on the input features -> GCNConv(F, 16, cached=True) -> relu -> dropout(0.5)
  -> GCNConv(16, C, cached=True). ``cached=True`` (as in PyG's example) computes the symmetric
  normalisation once and reuses it; ``--no-cache`` recomputes it every forward pass, as DGL's
  GraphConv does. lr 0.01, weight decay 5e-4 on all parameters (PyG's example puts it on the first
  layer only).
- GAT: dropout(0.6) on the input features -> GATConv(F, 8, heads=8, dropout=0.6) -> elu ->
  dropout(0.6) -> GATConv(64, C, heads=1, concat=False, dropout=0.6). lr 0.005, weight decay 5e-4.

GCNConv and GATConv add the self loops themselves, so the graph is given without them.
Installed pure-python (no torch_scatter / torch_sparse / pyg-lib): aggregation runs on
torch's own scatter_reduce / index_add.

Timing and output as in dgl_loop.py: ``train_time`` (forward, backward, step), ``eval_time``
(validation pass), ``epoch_time`` (their sum), ``wall`` (Unix time at the end of the epoch).

Usage::

    benchmarks/.venv-pyg/bin/python benchmarks/pyg_loop.py --data ../shared/data/cora --model gat --seed 0
"""
import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torch_geometric
from torch_geometric.nn import GATConv, GCNConv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cora import load_planetoid  # noqa: E402


class GCN(torch.nn.Module):
    def __init__(self, in_size, hidden_size, out_size, cached=True):
        super().__init__()
        self.conv1 = GCNConv(in_size, hidden_size, cached=cached)
        self.conv2 = GCNConv(hidden_size, out_size, cached=cached)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.5, training=self.training)
        x = self.conv1(x, edge_index).relu()
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index)


class GAT(torch.nn.Module):
    def __init__(self, in_size, hidden_size, out_size, heads=8):
        super().__init__()
        self.conv1 = GATConv(in_size, hidden_size, heads=heads, dropout=0.6)
        self.conv2 = GATConv(hidden_size * heads, out_size, heads=1, concat=False, dropout=0.6)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.6, training=self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.6, training=self.training)
        return self.conv2(x, edge_index)


SETTINGS = {"gcn": dict(hidden=16, lr=1e-2, weight_decay=5e-4), "gat": dict(hidden=8, lr=5e-3, weight_decay=5e-4)}


@torch.no_grad()
def accuracy(model, features, edge_index, labels, mask):
    model.eval()
    logits = model(features, edge_index)[mask]
    return (logits.argmax(1) == labels[mask]).float().mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder with ind.<dataset>.* files")
    parser.add_argument("--dataset", default="cora")
    parser.add_argument("--model", choices=sorted(SETTINGS), default="gcn")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cache", action="store_true", help="GCN: recompute the normalisation every forward")
    parser.add_argument("--json", type=Path, help="write per-epoch timings and accuracies here")
    args = parser.parse_args(argv)
    imported = time.time()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    data = load_planetoid(args.data, args.dataset)
    edge_index = torch.stack([data["src"], data["dst"]])
    features, labels = data["features"], data["labels"]
    train_mask, val_mask, test_mask = data["train_mask"], data["val_mask"], data["test_mask"]
    settings = SETTINGS[args.model]
    if args.model == "gcn":
        model = GCN(features.shape[1], settings["hidden"], data["num_classes"], cached=not args.no_cache)
    else:
        model = GAT(features.shape[1], settings["hidden"], data["num_classes"])
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
    ready = time.time()

    rows = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        logits = model(features, edge_index)
        loss = F.cross_entropy(logits[train_mask], labels[train_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        t1 = time.perf_counter()
        val_acc = accuracy(model, features, edge_index, labels, val_mask)
        t2 = time.perf_counter()
        row = dict(epoch=epoch, loss=loss.item(), val_accuracy=val_acc, train_time=t1 - t0, eval_time=t2 - t1,
                   epoch_time=t2 - t0, wall=time.time())
        rows.append(row)
        print(" ".join(f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    test_acc = accuracy(model, features, edge_index, labels, test_mask)
    print(f"test_accuracy={test_acc:.4f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(dict(
            implementation="pyg", model=args.model, seed=args.seed, cached=not args.no_cache,
            test_accuracy=test_acc, imported_wall=imported, ready_wall=ready, epochs=rows,
            threads=torch.get_num_threads(),
            versions=dict(torch=torch.__version__, torch_geometric=torch_geometric.__version__),
        )))


if __name__ == "__main__":
    main()
