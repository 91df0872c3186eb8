"""DGMG on cycles trained the way DGL's example does it (``examples/pytorch/dgmg/main.py``).

One graph at a time: ``loss = -log_prob / batch_size`` is backpropagated per graph, and every
``batch_size`` (10) graphs the gradients are clipped to norm 0.25 and Adam (lr 5e-4) steps. The
model is DGL-LifeSci's ``DGMG``, the example's model as a library (the same modules, and the same
message passing through ``update_all`` with a Python reduce function), with the example's sizes:
node states of 16, 2 propagation rounds, no dropout. The graphs are the example's: cycles of 10
to 20 nodes (uniform size) drawn before training, each built node by node with an edge to the
previous node (and, for the last, to the first).

``--propagation edges`` swaps in this package's ``propagate_over_edges`` for the library's
message passing, which separates the effect of the loop from that of the message passing.

Prints, and writes to ``--json``, the median time per training graph over the batches after
``--warmup`` (graph drawing excluded) and the mean log-likelihood of the last 10 batches.

    .venv/bin/python benchmarks/dgmg_dgl_loop.py --graphs 500 --seed 0
"""
import argparse
import json
import random
import statistics
import time
import types

import torch
from dgllife.model import DGMG
from torch.nn.utils import clip_grad_norm_

ADD_NODE, ADD_EDGE, CHOOSE_DESTINATION = 0, 1, 2


def cycle_actions(size: int):
    """DGL-LifeSci's decisions for a cycle of ``size`` nodes numbered around it."""
    actions = [(ADD_NODE, 0), (ADD_EDGE, 1)]
    for node in range(1, size):
        actions += [(ADD_NODE, 0), (ADD_EDGE, 0), (CHOOSE_DESTINATION, node - 1)]
        if node == size - 1:
            actions += [(ADD_EDGE, 0), (CHOOSE_DESTINATION, 0)]
        actions.append((ADD_EDGE, 1))
    return actions + [(ADD_NODE, 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graphs", type=int, default=500, help="training graphs (one pass)")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5, help="batches left out of the median")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--propagation", choices=("library", "edges"), default="library")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()
    if args.graphs // args.batch_size <= args.warmup:
        parser.error(f"--graphs {args.graphs} makes {args.graphs // args.batch_size} batches; more than --warmup "
                     f"{args.warmup} are needed")
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    dataset = [cycle_actions(random.randint(10, 20)) for _ in range(args.graphs)]

    model = DGMG(atom_types=[0], bond_types=[0], node_hidden_size=16, num_prop_rounds=2, dropout=0.0)
    if args.propagation == "edges":
        from sagemaker_dgl.models.dgmg import propagate_over_edges

        model.graph_prop.forward = types.MethodType(propagate_over_edges, model.graph_prop)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    model.train()
    batch_times, batch_log_probs = [], []
    optimizer.zero_grad()
    started, log_prob_sum = time.perf_counter(), 0.0
    for count, actions in enumerate(dataset, 1):
        log_prob = model(actions=actions, compute_log_prob=True)
        (-log_prob / args.batch_size).backward()
        log_prob_sum += log_prob.item()
        if count % args.batch_size == 0:
            clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()
            optimizer.zero_grad()
            batch_times.append((time.perf_counter() - started) / args.batch_size)
            batch_log_probs.append(log_prob_sum / args.batch_size)
            started, log_prob_sum = time.perf_counter(), 0.0
    result = {"graphs": args.graphs, "propagation": args.propagation, "threads": torch.get_num_threads(),
              "time_per_graph_s": statistics.median(batch_times[args.warmup:]),
              "mean_log_prob_last_10_batches": statistics.fmean(batch_log_probs[-10:])}
    print(" ".join(f"{key}={value}" for key, value in result.items()), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
