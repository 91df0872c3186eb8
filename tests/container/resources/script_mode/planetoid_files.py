"""The user's helper module beside the script: Planetoid files as tensors, read with the image's loader."""
import dgl
import torch

from sagemaker_dgl.data.planetoid import load_planetoid


def read_planetoid(directory):
    """Graph with self loops, row-normalised features, labels, and train and test node ids."""
    graph = load_planetoid(directory).graph
    features = graph.ndata["feat"]
    features = features / features.sum(1, keepdim=True).clamp(min=1)
    train = torch.nonzero(graph.ndata["train_mask"]).flatten()
    test = torch.nonzero(graph.ndata["test_mask"]).flatten()
    return dgl.add_self_loop(graph), features, graph.ndata["label"], train, test
