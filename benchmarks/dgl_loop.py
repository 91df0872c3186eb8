"""Baseline: a plain DGL training loop for GCN or GAT on a Planetoid graph.

Written the way DGL's own examples are (examples/pytorch/gcn/train.py and
examples/pytorch/gat/train.py in dmlc/dgl): a small model class over ``dgl.nn.GraphConv`` /
``dgl.nn.GATConv``, dense row-normalised features, self loops added to the graph, Adam,
200 full-graph epochs, validation accuracy after every epoch, test accuracy of the last
epoch's model. It does not import sagemaker_dgl.

What each model does (the same as the examples):

- GCN: GraphConv(F, 16, relu) -> dropout(0.5) -> GraphConv(16, C). No dropout on the input
  features (the current DGL example applies dropout between layers only); ``--input-dropout``
  adds dropout(0.5) on the input features as in Kipf & Welling's paper, the PyG example and
  this package's GCN. lr 0.01, weight decay 5e-4 on all parameters.
- GAT: GATConv(F, 8, 8 heads, feat_drop 0.6, attn_drop 0.6, elu) -> flatten ->
  GATConv(64, C, 1 head, feat_drop 0.6, attn_drop 0.6) -> mean over heads. feat_drop is dropout
  on each layer's (dense) input features. lr 0.005, weight decay 5e-4.

Timing: ``train_time`` is forward + backward + optimizer step; ``eval_time`` is the
validation pass (eval mode, no grad); ``epoch_time`` is their sum, which is what this
package's ``epoch_time=`` log value covers (train_epoch + evaluate('val')).

Usage::

    python benchmarks/dgl_loop.py --data ../shared/data/cora --model gcn --seed 0 [--json out.json]

Every epoch prints ``epoch=N ... epoch_time=S wall=UNIX_TIME``; ``wall`` of epoch 1 gives the
start-up time measured by node_classification_cora.py.
"""
import argparse
import json
import random
import sys
import time
from pathlib import Path

import dgl
import dgl.nn as dglnn
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cora import load_planetoid, start_profiler  # noqa: E402


class GCN(nn.Module):
    def __init__(self, in_size, hidden_size, out_size, input_dropout=False):
        super().__init__()
        self.layers = nn.ModuleList(
            [dglnn.GraphConv(in_size, hidden_size, activation=F.relu), dglnn.GraphConv(hidden_size, out_size)]
        )
        self.dropout = nn.Dropout(0.5)
        self.input_dropout = input_dropout

    def forward(self, graph, features):
        h = features
        for index, layer in enumerate(self.layers):
            if index > 0 or self.input_dropout:
                h = self.dropout(h)
            h = layer(graph, h)
        return h


class GAT(nn.Module):
    def __init__(self, in_size, hidden_size, out_size, heads=(8, 1)):
        super().__init__()
        self.layers = nn.ModuleList(
            [
                dglnn.GATConv(in_size, hidden_size, heads[0], feat_drop=0.6, attn_drop=0.6, activation=F.elu),
                dglnn.GATConv(hidden_size * heads[0], out_size, heads[1], feat_drop=0.6, attn_drop=0.6),
            ]
        )

    def forward(self, graph, features):
        h = features
        for index, layer in enumerate(self.layers):
            h = layer(graph, h)
            h = h.mean(1) if index == len(self.layers) - 1 else h.flatten(1)
        return h


SETTINGS = {"gcn": dict(hidden=16, lr=1e-2, weight_decay=5e-4), "gat": dict(hidden=8, lr=5e-3, weight_decay=5e-4)}


@torch.no_grad()
def accuracy(model, graph, features, labels, mask):
    model.eval()
    logits = model(graph, features)[mask]
    return (logits.argmax(1) == labels[mask]).float().mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder with ind.<dataset>.* files")
    parser.add_argument("--dataset", default="cora")
    parser.add_argument("--model", choices=sorted(SETTINGS), default="gcn")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input-dropout", action="store_true", help="GCN: dropout(0.5) on the input features too")
    parser.add_argument("--json", type=Path, help="write per-epoch timings and accuracies here")
    parser.add_argument("--profile", action="store_true", help="print a torch.profiler table of epochs 26-75")
    args = parser.parse_args(argv)
    imported = time.time()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    dgl.seed(args.seed)

    data = load_planetoid(args.data, args.dataset)
    graph = dgl.graph((data["src"], data["dst"]), num_nodes=data["num_nodes"])
    graph = dgl.add_self_loop(dgl.remove_self_loop(graph))
    features, labels = data["features"], data["labels"]
    train_mask, val_mask, test_mask = data["train_mask"], data["val_mask"], data["test_mask"]
    settings = SETTINGS[args.model]
    if args.model == "gcn":
        model = GCN(features.shape[1], settings["hidden"], data["num_classes"], args.input_dropout)
    else:
        model = GAT(features.shape[1], settings["hidden"], data["num_classes"])
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
    loss_fn = nn.CrossEntropyLoss()
    ready = time.time()

    profiler = start_profiler(args.profile)
    rows = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        logits = model(graph, features)
        loss = loss_fn(logits[train_mask], labels[train_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        t1 = time.perf_counter()
        val_acc = accuracy(model, graph, features, labels, val_mask)
        t2 = time.perf_counter()
        if profiler:
            profiler.step()
        row = dict(epoch=epoch, loss=loss.item(), val_accuracy=val_acc, train_time=t1 - t0, eval_time=t2 - t1,
                   epoch_time=t2 - t0, wall=time.time())
        rows.append(row)
        print(" ".join(f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    if profiler:
        profiler.stop()
        print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    test_acc = accuracy(model, graph, features, labels, test_mask)
    print(f"test_accuracy={test_acc:.4f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(dict(
            implementation="dgl", model=args.model, seed=args.seed, input_dropout=args.input_dropout,
            test_accuracy=test_acc, imported_wall=imported, ready_wall=ready, epochs=rows,
            num_edges=graph.num_edges(), threads=torch.get_num_threads(),
            versions=dict(torch=torch.__version__, dgl=dgl.__version__),
        )))


if __name__ == "__main__":
    main()
