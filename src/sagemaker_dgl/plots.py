"""Plots written to /opt/ml/output/data: learning curves, a 2-D view of node embeddings, drawn graphs
and molecules."""
from pathlib import Path
from typing import Any, Dict, List

import torch

SPLIT_PREFIXES = ("train_", "val_", "test_")


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (imported on first use: it takes ~0.5 s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curves(history: List[Dict[str, float]], path: Path) -> None:
    """One panel per metric (loss, accuracy, ...) with a line per split, over the epochs that
    logged it (validation may run every few epochs)."""
    plt = _pyplot()
    keys = list(dict.fromkeys(key for row in history for key in row if key.startswith(SPLIT_PREFIXES)))
    metrics = list(dict.fromkeys(key.split("_", 1)[1] for key in keys))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        for key in (k for k in keys if k.split("_", 1)[1] == metric):
            rows = [row for row in history if key in row]
            axis.plot([row["epoch"] for row in rows], [row[key] for row in rows], label=key,
                      marker="o" if len(rows) < len(history) else None, markersize=3)
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


def plot_graphs(graphs: List[Any], titles: List[str], path: Path, columns: int = 4) -> None:
    """Drawings of a few graphs (networkx graphs), one panel each, in a grid."""
    import networkx as nx

    plt = _pyplot()
    rows = max(1, -(-len(graphs) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, graph, title in zip(axes.flat, graphs, titles):
        nx.draw_kamada_kawai(graph, ax=axis, node_size=60, node_color="tab:blue", edge_color="0.4")
        axis.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_molecules(smiles: List[str], path: Path, columns: int = 4) -> None:
    """RDKit drawings of a few molecules (SMILES), their SMILES below each (a panel that says so
    when there is none)."""
    from rdkit import Chem
    from rdkit.Chem import Draw

    if not smiles:
        plt = _pyplot()
        fig, axis = plt.subplots(figsize=(4, 1))
        axis.axis("off")
        axis.text(0.5, 0.5, "no valid molecule to draw", ha="center", va="center")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return
    image = Draw.MolsToGridImage([Chem.MolFromSmiles(text) for text in smiles], molsPerRow=columns,
                                 subImgSize=(250, 250), legends=list(smiles))
    image.save(path)
