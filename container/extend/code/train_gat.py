"""Your own DGL training script, baked into an image that extends sagemaker-dgl.

The SageMaker training toolkit runs it as ``python train_gat.py --epochs 100 ...`` (one flag per
hyperparameter) from /opt/ml/code, with the job's folders in environment variables:

- ``SM_CHANNEL_TRAIN``: the 'train' channel (here: Planetoid files such as ind.cora.*);
- ``SM_MODEL_DIR``: save the model here (SageMaker uploads it as model.tar.gz);
- ``SM_OUTPUT_DATA_DIR``: other outputs (uploaded as output.tar.gz).

It logs ``name=value`` metric lines, so ``sagemaker_dgl.METRIC_DEFINITIONS`` picks them up as
SageMaker metrics. Replace the model and the loop with your own.
"""
import argparse
import json
import logging
import os

import dgl
import torch
import torch.nn.functional as F
from dgl.nn import GATConv

from sagemaker_dgl.data.planetoid import load_planetoid  # the image's loaders are yours to use

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
log = logging.getLogger("train_gat")


class GAT(torch.nn.Module):
    def __init__(self, in_size: int, hidden: int, classes: int, heads: int, dropout: float):
        super().__init__()
        self.conv1 = GATConv(in_size, hidden, heads, feat_drop=dropout, attn_drop=dropout, activation=F.elu)
        self.conv2 = GATConv(hidden * heads, classes, 1, feat_drop=dropout, attn_drop=dropout)

    def forward(self, graph, features):
        hidden = self.conv1(graph, features).flatten(1)
        return self.conv2(graph, hidden).mean(1)


def accuracy(logits, labels, mask) -> float:
    return (logits[mask].argmax(1) == labels[mask]).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--dropout", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--output-dir", default=os.environ.get("SM_OUTPUT_DATA_DIR", "output"))
    args, unknown = parser.parse_known_args()
    if unknown:
        log.warning("ignoring unknown arguments %s", unknown)
    if not args.train:
        parser.error("no 'train' channel: give the job a channel named train (Planetoid files)")

    torch.manual_seed(args.seed)
    dgl.seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = load_planetoid(args.train)
    graph = dgl.add_self_loop(dgl.remove_self_loop(data.graph)).to(device)
    features, labels = graph.ndata["feat"], graph.ndata["label"]
    features = features / features.sum(1, keepdim=True).clamp(min=1)
    masks = {split: graph.ndata[f"{split}_mask"].bool() for split in ("train", "val", "test")}
    model = GAT(features.shape[1], args.hidden, int(labels.max()) + 1, args.heads, args.dropout).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=5e-4)
    log.info("%s: %d nodes, %d edges; training on %s", data.name, graph.num_nodes(), graph.num_edges(), device)

    best = {"val_accuracy": -1.0}
    for epoch in range(1, args.epochs + 1):
        model.train()
        loss = F.cross_entropy(model(graph, features)[masks["train"]], labels[masks["train"]])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            logits = model(graph, features)
        val_accuracy = accuracy(logits, labels, masks["val"])
        log.info("epoch=%d train_loss=%.4f val_accuracy=%.4f", epoch, loss.item(), val_accuracy)
        if val_accuracy > best["val_accuracy"]:
            best = {"epoch": epoch, "val_accuracy": val_accuracy, "test_accuracy": accuracy(logits, labels, masks["test"])}
            torch.save(model.state_dict(), os.path.join(args.model_dir, "gat.pt"))
    log.info("final best_epoch=%d val_accuracy=%.4f test_accuracy=%.4f",
             best["epoch"], best["val_accuracy"], best["test_accuracy"])
    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, "metrics.json"), "w") as handle:
        json.dump({"dataset": data.name, "hyperparameters": vars(args), **best}, handle, indent=2)


if __name__ == "__main__":
    main()
