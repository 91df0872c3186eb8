"""A user's own DGL script, run in script mode (Estimator(entry_point=..., source_dir=...)).

It reads the SageMaker environment variables the toolkit sets, trains a two-layer GCN on the
Planetoid files of channel 'train' (read with this package's loader) and saves the weights.
"""
import argparse
import json
import os

import dgl
import torch
import torch.nn.functional as F
from dgl.nn import GraphConv

from sagemaker_dgl.data.planetoid import load_planetoid
from helpers import accuracy  # a module next to this script: source_dir is importable

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
args = parser.parse_args()

graph = dgl.add_self_loop(load_planetoid(args.train).graph)
features, labels = graph.ndata["feat"], graph.ndata["label"]
train, test = graph.ndata["train_mask"], graph.ndata["test_mask"]
conv1, conv2 = GraphConv(features.shape[1], 16), GraphConv(16, int(labels.max()) + 1)
optimizer = torch.optim.Adam(list(conv1.parameters()) + list(conv2.parameters()), lr=0.01, weight_decay=5e-4)
for epoch in range(args.epochs):
    logits = conv2(graph, F.relu(conv1(graph, features)))
    loss = F.cross_entropy(logits[train], labels[train])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"epoch={epoch} train_loss={loss.item():.4f}")
print(f"test_accuracy={accuracy(logits[test], labels[test]):.4f}")
torch.save({"conv1": conv1.state_dict(), "conv2": conv2.state_dict()}, os.path.join(args.model_dir, "gcn.pt"))
with open(os.path.join(args.model_dir, "info.json"), "w") as handle:
    json.dump({"epochs": args.epochs}, handle)
