"""Plots written to /opt/ml/output/data: learning curves and a 2-D view of node embeddings."""
from pathlib import Path
from typing import Dict, List

import torch


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (imported on first use: it takes ~0.5 s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curves(history: List[Dict[str, float]], path: Path) -> None:
    """Loss and accuracy per epoch for every split in ``history`` (one dict per epoch)."""
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy")):
        for key in sorted(history[0]):
            if key.endswith("_" + metric):
                axis.plot(epochs, [row[key] for row in history], label=key)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_embeddings(embeddings: torch.Tensor, labels: torch.Tensor, path: Path, max_points: int = 20000) -> None:
    """Scatter of the embeddings' first two principal components, coloured by label."""
    plt = _pyplot()
    points = embeddings[:max_points].float()
    points = points - points.mean(0)
    _, _, components = torch.linalg.svd(points, full_matrices=False)
    xy = points @ components[:2].T
    if xy.shape[1] == 1:  # a one-dimensional embedding: plot it against zero
        xy = torch.cat([xy, torch.zeros_like(xy)], 1)
    fig, axis = plt.subplots(figsize=(6, 6))
    axis.scatter(xy[:, 0], xy[:, 1], c=labels[:max_points].clamp(min=-1), s=4, cmap="tab10")
    axis.set_title("node embeddings (PCA)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
