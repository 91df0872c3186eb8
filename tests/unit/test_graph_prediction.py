"""Graph sets (TU format, DGL's binary file), the graph-level models and the graph prediction task."""
from pathlib import Path

import dgl
import numpy as np
import pytest
import torch

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import FORMATS, GraphSetData, read_channel
from sagemaker_dgl.errors import ConfigError, DataFormatError
from sagemaker_dgl.models import create_model
from sagemaker_dgl.tasks import TASKS
from sagemaker_dgl.tasks.graph_prediction import roc_auc_per_task
from sagemaker_dgl.trainer import Trainer
from tests.graphs import cycles_and_paths, write_dgl_graphs, write_tu


def detected(directory: Path):
    return [spec.name for spec in FORMATS.values() if spec.detect(directory)]


def test_tu_files_become_one_graph_per_id_with_their_classes(tmp_path):
    directory = write_tu(tmp_path / "tu", num_graphs=6, node_labels=True)
    assert detected(directory) == ["tu"]
    data = read_channel(directory, "auto", None)
    assert isinstance(data, GraphSetData) and data.name == "CYCLES" and len(data.graphs) == 6
    expected = cycles_and_paths(6)
    for graph, (size, pairs, cycle), label in zip(data.graphs, expected, data.labels[:, 0].tolist()):
        assert graph.num_nodes() == size and graph.num_edges() == 2 * len(pairs)
        assert set(zip(*[t.tolist() for t in graph.edges()])) >= set(pairs)
        assert data.classes[int(label)] == ("1" if cycle else "-1")
    assert data.target_kind == "multiclass" and data.classes == ["-1", "1"]
    assert data.graphs[0].ndata["feat"].tolist()[:3] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]  # one-hot node labels


def test_tu_graphs_whose_nodes_interleave_are_rebuilt(tmp_path):
    directory = tmp_path / "tu"
    directory.mkdir()
    (directory / "X_A.txt").write_text("1, 3\n3, 1\n2, 4\n4, 2\n4, 5\n5, 4\n")
    (directory / "X_graph_indicator.txt").write_text("1\n2\n1\n2\n2\n")
    (directory / "X_graph_labels.txt").write_text("0\n1\n")
    data = read_channel(directory, "auto", None)
    assert [g.num_nodes() for g in data.graphs] == [2, 3] and [g.num_edges() for g in data.graphs] == [2, 4]
    assert data.graphs[1].ndata["feat"].tolist() == [[1.0]] * 3  # featureless: constant 1


@pytest.mark.parametrize("file, text, fragment", [
    ("X_A.txt", "1, 2\n2, 3\n", "X_A.txt line 2: edge 2, 3 joins node 2 of graph 1 and node 3 of graph 2"),
    ("X_A.txt", "1, 2\n9, 1\n", "X_A.txt line 2: node 9 is outside 1..4"),
    ("X_A.txt", "1, 2\n2, x\n", "X_A.txt line 2: '2,x' is not 2 comma-separated number(s)"),
    ("X_graph_labels.txt", "0\n", "X_graph_labels.txt has 1 lines, but the graph indicator numbers graphs up to 2"),
    ("X_node_labels.txt", "0\n1\n", "X_node_labels.txt has 2 lines, but X_graph_indicator.txt lists nodes 4"),
])
def test_tu_files_that_disagree_fail_with_the_file_and_line(tmp_path, file, text, fragment):
    directory = tmp_path / "tu"
    directory.mkdir()
    (directory / "X_A.txt").write_text("1, 2\n2, 1\n3, 4\n")
    (directory / "X_graph_indicator.txt").write_text("1\n1\n2\n2\n")
    (directory / "X_graph_labels.txt").write_text("0\n1\n")
    (directory / file).write_text(text)
    with pytest.raises(DataFormatError) as error:
        read_channel(directory, "auto", None)
    assert fragment in str(error.value)


def test_dgl_binary_graphs_with_classes_tasks_or_values(tmp_path):
    directory = write_dgl_graphs(tmp_path / "bin", num_graphs=10)
    assert detected(directory) == ["dgl_graphs"]
    data = read_channel(directory, "auto", None)
    assert data.target_kind == "multiclass" and data.classes == ["0", "1"] and len(data.graphs) == 10
    tasks = write_dgl_graphs(tmp_path / "tasks", num_graphs=10, labels=torch.randint(0, 2, (10, 3)))
    assert read_channel(tasks, "auto", None).target_kind == "binary"
    values = write_dgl_graphs(tmp_path / "values", num_graphs=10, labels=torch.rand(10, 2))
    data = read_channel(values, "auto", None)
    assert data.target_kind == "regression" and data.labels.shape == (10, 2)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "graphs.bin").write_bytes(b"not a graph file")
    with pytest.raises(DataFormatError, match="graphs.bin is not a file of dgl.save_graphs"):
        read_channel(tmp_path / "junk", "auto", None)


def test_roc_auc_per_task_skips_a_task_with_one_class():
    labels = np.array([[1, 0], [0, 0], [1, np.nan], [0, 0]], dtype=float)
    scores = np.array([[0.9, 0.1], [0.2, 0.3], [0.8, 0.5], [0.4, 0.2]])
    auc = roc_auc_per_task(scores, labels)
    assert auc[0] == 1.0 and np.isnan(auc[1])


# With features of ones a cycle and a path differ only at the path's two ends: the mean over the
# nodes shows them; a sum over GCN's unnormalised sums mostly counts the nodes. Attention averages
# the neighbours, so with features of ones every node looks alike to GAT: it gets node labels.
@pytest.mark.parametrize("model, readout, node_labels", [("gin", "sum", False), ("gcn", "mean", False),
                                                         ("gat", "weighted_sum_and_max", True)])
def test_graph_models_tell_cycles_from_paths(tmp_path, model, readout, node_labels):
    directory = write_tu(tmp_path / "tu", num_graphs=120, node_labels=node_labels)
    hp = Hyperparameters.from_sagemaker({"model": model, "task": "graph_prediction", "epochs": 40, "lr": 0.01,
                                         "batch_size": 16, "readout": readout})
    data = read_channel(directory, "auto", None)
    task = TASKS.get("graph_prediction")(hp, data, {}, torch.device("cpu"))
    torch.manual_seed(0)
    net = create_model(model, "graph_prediction", **task.model_sizes(), **hp.model.model_dump())
    result = Trainer(task, net, hp, None, "test").fit()
    net.eval()
    with torch.no_grad():
        test = task.evaluate(net, "test")
    assert test["test_accuracy"] >= 0.9, (test, result.best_metrics)


def test_readouts_pool_each_graph_of_a_batch():
    torch.manual_seed(0)
    graphs = [dgl.graph(([0, 1], [1, 0]), num_nodes=2), dgl.graph(([0], [1]), num_nodes=3)]
    batch = dgl.batch(graphs)
    for readout in ("sum", "mean", "max", "attention"):
        net = create_model("gin", "graph_prediction", in_feats=4, num_targets=3, hidden_size=8, num_layers=2,
                           dropout=0.0, readout=readout, predictor_hidden_size=5).eval()
        features = torch.randn(5, 4)
        together = net(batch, features)
        alone = torch.cat([net(graphs[0], features[:2]), net(graphs[1], features[2:])])
        assert together.shape == (2, 3) and torch.allclose(together, alone, atol=1e-5)


def test_dgl_csv_graph_sets_are_told_apart_from_a_single_csv_graph(tmp_path):
    from tests.graphs import write_csv_graph, write_csv_graphs

    graphs = write_csv_graphs(tmp_path / "set", num_graphs=6)
    single = write_csv_graph(tmp_path / "one")
    assert detected(graphs) == ["csv_graphs"] and detected(single) == ["csv"]
    data = read_channel(graphs, "auto", None)
    assert data.target_kind == "multiclass" and data.classes == ["0", "1"]
    assert [g.num_nodes() for g in data.graphs] == [size for size, _, _ in cycles_and_paths(6)]
    (graphs / "graphs.csv").write_text("graph_id,kind\n" + "".join(f"{i},x\n" for i in range(6)))
    with pytest.raises(DataFormatError, match="graphs.csv has no 'label' column"):
        read_channel(graphs, "auto", None)


def test_training_batches_never_hold_one_graph_and_a_train_split_of_one_fails(tmp_path):
    """The predictor's batch norm fails on a batch of one graph (DGL-LifeSci's loop skips it too)."""
    data = read_channel(write_tu(tmp_path / "tu", num_graphs=40), "auto", None)
    hp = Hyperparameters.from_sagemaker({"model": "gin", "task": "graph_prediction", "batch_size": 31})
    task = TASKS.get("graph_prediction")(hp, data, {}, torch.device("cpu"))
    assert len(task.ids["train"]) == 32
    assert [len(batch) for batch in task.train_batches(0)] == [31]
    hp = Hyperparameters.from_sagemaker({"model": "gin", "task": "graph_prediction", "train_fraction": 0.03,
                                         "val_fraction": 0.5})
    with pytest.raises(ConfigError, match="the train split of 40 graphs holds one graph"):
        TASKS.get("graph_prediction")(hp, data, {}, torch.device("cpu"))
