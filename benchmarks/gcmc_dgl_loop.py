"""GCMC on MovieLens 100K written the way DGL's ``examples/pytorch/gcmc/train.py`` does it: the
reference loop of ``gcmc_movielens.py``.

As the example runs with ``--data_name=ml-100k --use_one_hot_fea --gcn_agg_accum=stack`` (its
README: test RMSE 0.9088):

- data: ``u1.base`` / ``u1.test``; a random 10% of ``u1.base`` validates, the rest trains;
- encoder graph: a heterograph with one edge type per rating and its reverse, node data ``ci`` and
  ``cj`` = 1/sqrt(degree over all ratings); training and validation run on the training ratings'
  graph, the test on the graph of ``u1.base``;
- encoder: ``dgl.nn.HeteroGraphConv`` of one graph convolution per edge type (one-hot input, so the
  convolution's weight is a per-rating table of 100 units; dropout on ``cj``), ``aggregate='stack'``,
  leaky ReLU (0.1), dropout 0.7, a ``Linear(500, 75)`` per side;
- decoder: 2 basis matrices, ``apply_edges(u_dot_v)`` per basis on a user->item graph of the
  pairs, ``Linear(2, 5)`` without bias; the prediction is the expected rating;
- Adam (lr 0.01), gradient clipping 1.0, full batch, up to 2,000 iterations; validation every
  iteration, the test at each better validation; lr halves after 50 validations without
  improvement (not below 0.001), and training stops after 100 more once at the minimum.

Usage::

    .venv/bin/python benchmarks/gcmc_dgl_loop.py --data ../shared/data/ml-100k --seed 0 --json out.json
"""
import argparse
import json
import time
from pathlib import Path

import dgl
import dgl.function as fn
import dgl.nn as dglnn
import numpy as np
import pandas as pd
import torch
import torch.nn as nn


class GraphConv(nn.Module):
    """One rating type's convolution: ``ci * sum_j dropout(cj) * W[j]`` (one-hot input)."""

    def __init__(self, num_src: int, units: int, dropout: float):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_src, units))
        nn.init.xavier_uniform_(self.weight)
        self.dropout = nn.Dropout(dropout)

    def forward(self, graph, feat):
        with graph.local_scope():
            graph.srcdata["h"] = self.weight * self.dropout(graph.srcdata["cj"])
            graph.update_all(fn.copy_u("h", "m"), fn.sum("m", "h"))
            return graph.dstdata["h"] * graph.dstdata["ci"]


class Net(nn.Module):
    def __init__(self, num_users, num_items, ratings, hidden=500, out=75, dropout=0.7, num_basis=2):
        super().__init__()
        units = hidden // len(ratings)
        convs = {}
        for r in ratings:
            convs[f"{r}"] = GraphConv(num_users, units, dropout)
            convs[f"rev-{r}"] = GraphConv(num_items, units, dropout)
        self.conv = dglnn.HeteroGraphConv(convs, aggregate="stack")
        self.act = nn.LeakyReLU(0.1)
        self.dropout = nn.Dropout(dropout)
        self.ufc, self.ifc = nn.Linear(hidden, out), nn.Linear(hidden, out)
        self.Ps = nn.ParameterList([nn.Parameter(torch.empty(out, out)) for _ in range(num_basis)])
        for p in self.Ps:
            nn.init.xavier_uniform_(p)
        self.combine_basis = nn.Linear(num_basis, len(ratings), bias=False)

    def forward(self, enc_graph, dec_graph):
        feats = {"user": torch.zeros(enc_graph.num_nodes("user"), 1), "item": torch.zeros(enc_graph.num_nodes("item"), 1)}
        out = self.conv(enc_graph, feats)
        user = self.ufc(self.dropout(self.act(out["user"].reshape(out["user"].shape[0], -1))))
        item = self.ifc(self.dropout(self.act(out["item"].reshape(out["item"].shape[0], -1))))
        with dec_graph.local_scope():
            dec_graph.nodes["item"].data["h"] = item
            basis_out = []
            for p in self.Ps:
                dec_graph.nodes["user"].data["h"] = user @ p
                dec_graph.apply_edges(fn.u_dot_v("h", "h", "sr"))
                basis_out.append(dec_graph.edata["sr"])
            return self.combine_basis(torch.cat(basis_out, 1))


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", header=None, names=["user", "item", "rating", "time"])


def enc_graph(pairs, values, ratings, num_users, num_items):
    data = {}
    for r in ratings:
        chosen = values == r
        u, i = torch.from_numpy(pairs[0][chosen]), torch.from_numpy(pairs[1][chosen])
        data[("user", f"{r}", "item")] = (u, i)
        data[("item", f"rev-{r}", "user")] = (i, u)
    graph = dgl.heterograph(data, num_nodes_dict={"user": num_users, "item": num_items})
    for side, column, size in (("user", 0, num_users), ("item", 1, num_items)):
        degree = np.bincount(pairs[column], minlength=size).astype(np.float32)
        degree[degree == 0] = np.inf
        norm = torch.from_numpy(1.0 / np.sqrt(degree)).unsqueeze(1)
        graph.nodes[side].data.update({"ci": norm, "cj": norm})
    return graph


def dec_graph(pairs, num_users, num_items):
    return dgl.heterograph({("user", "rate", "item"): (torch.from_numpy(pairs[0]), torch.from_numpy(pairs[1]))},
                           num_nodes_dict={"user": num_users, "item": num_items})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    started = time.time()

    all_train, test = read(args.data / "u1.base"), read(args.data / "u1.test")
    everything = pd.concat([all_train, test])
    users = {u: k for k, u in enumerate(sorted(everything["user"].unique()))}
    items = {i: k for k, i in enumerate(sorted(everything["item"].unique()))}
    shuffled = np.random.permutation(len(all_train))
    num_valid = int(np.ceil(0.1 * len(all_train)))
    valid, train = all_train.iloc[shuffled[:num_valid]], all_train.iloc[shuffled[num_valid:]]
    ratings = np.unique(train["rating"].values)
    nu, ni = len(users), len(items)

    def pairs_of(frame):
        return (np.array([users[u] for u in frame["user"]]), np.array([items[i] for i in frame["item"]]),
                frame["rating"].values)

    splits = {name: pairs_of(frame) for name, frame in
              (("all_train", all_train), ("train", train), ("valid", valid), ("test", test))}
    train_enc = enc_graph(splits["train"][:2], splits["train"][2], ratings, nu, ni)
    test_enc = enc_graph(splits["all_train"][:2], splits["all_train"][2], ratings, nu, ni)
    graphs = {"train": (train_enc, dec_graph(splits["train"][:2], nu, ni)),
              "valid": (train_enc, dec_graph(splits["valid"][:2], nu, ni)),
              "test": (test_enc, dec_graph(splits["test"][:2], nu, ni))}
    levels = torch.tensor(ratings, dtype=torch.float32)
    truths = {name: torch.tensor(splits[name][2], dtype=torch.float32) for name in graphs}
    labels = torch.from_numpy(np.searchsorted(ratings, splits["train"][2]))

    net = Net(nu, ni, ratings)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def rmse(segment):
        net.eval()
        with torch.no_grad():
            pred = (torch.softmax(net(*graphs[segment]), 1) * levels).sum(1)
        return float(((pred - truths[segment]) ** 2).mean().sqrt())

    ready = time.time()
    lr, best_valid, best_test, best_iter, no_better, rows = 0.01, np.inf, None, 0, 0, []
    for iteration in range(1, args.iterations):
        t0 = time.perf_counter()
        net.train()
        loss = loss_fn(net(*graphs["train"]), labels)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        train_time = time.perf_counter() - t0
        valid_rmse = rmse("valid")
        if valid_rmse < best_valid:
            best_valid, best_iter, no_better = valid_rmse, iteration, 0
            best_test = rmse("test")
        else:
            no_better += 1
            if no_better > 100 and lr <= 0.001:
                break
            if no_better > 50 and max(lr * 0.5, 0.001) < lr:
                lr = max(lr * 0.5, 0.001)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                no_better = 0
        rows.append({"iteration": iteration, "train_time": train_time, "epoch_time": time.perf_counter() - t0,
                     "loss": loss.item(), "valid_rmse": valid_rmse})
    result = {"best_iteration": best_iter, "best_valid_rmse": best_valid, "test_rmse": best_test,
              "iterations": len(rows), "ready_wall": ready, "started_wall": started, "threads": torch.get_num_threads(),
              "num_parameters": sum(p.numel() for p in net.parameters()),
              "versions": {"dgl": dgl.__version__, "torch": torch.__version__}, "epochs": rows}
    print(f"best iteration {best_iter}: valid RMSE {best_valid:.4f}, test RMSE {best_test:.4f}; "
          f"median iteration {1000 * np.median([r['epoch_time'] for r in rows]):.1f} ms", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
