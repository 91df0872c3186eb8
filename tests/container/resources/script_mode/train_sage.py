"""A user's DGL script for script mode: Estimator(entry_point='train_sage.py', source_dir=<this folder>).

Trains a two-layer GraphSAGE with DGL and PyTorch on the Planetoid files of channel 'train' (read by
a helper module beside it), logs metric lines and saves the weights to SM_MODEL_DIR.
"""
import argparse
import json
import os

import dgl
import torch
import torch.nn.functional as F
from dgl.nn import SAGEConv

from planetoid_files import read_planetoid  # a module beside this script: source_dir is importable

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--hidden", type=int, default=16)
args = parser.parse_args()

graph, features, labels, train, test = read_planetoid(os.environ["SM_CHANNEL_TRAIN"])
conv1 = SAGEConv(features.shape[1], args.hidden, "mean")
conv2 = SAGEConv(args.hidden, int(labels.max()) + 1, "mean")
optimizer = torch.optim.Adam([*conv1.parameters(), *conv2.parameters()], lr=0.01, weight_decay=5e-4)
torch.manual_seed(0)
for epoch in range(1, args.epochs + 1):
    logits = conv2(graph, F.relu(conv1(graph, features)))
    loss = F.cross_entropy(logits[train], labels[train])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"epoch={epoch} train_loss={loss.item():.4f}", flush=True)
accuracy = (logits[test].argmax(1) == labels[test]).float().mean().item()
print(f"test_accuracy={accuracy:.4f} dgl={dgl.__version__}")
torch.save({"conv1": conv1.state_dict(), "conv2": conv2.state_dict()}, os.path.join(os.environ["SM_MODEL_DIR"], "sage.pt"))
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "result.json"), "w") as handle:
    json.dump({"epochs": args.epochs, "test_accuracy": accuracy}, handle)
