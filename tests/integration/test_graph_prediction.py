"""Graph prediction through `.venv/bin/train` on generated graph sets in each format: the task
is inferred from the data, the job learns the known answer (cycles against paths), and the saved
model classifies new graphs."""
import dgl
import pytest
import torch

import sagemaker_dgl
from tests.conftest import run_job
from tests.graphs import write_csv_graphs, write_dgl_graphs, write_tu

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("write, model, readout", [(write_tu, "gin", "sum"), (write_dgl_graphs, "gcn", "mean"),
                                                  (write_csv_graphs, "gin", "sum")],
                         ids=["tu-gin", "dgl_graphs-gcn", "csv_graphs-gin"])
def test_a_generated_graph_set_trains_end_to_end(tmp_path, write, model, readout):
    channel = write(tmp_path / "data", num_graphs=160)
    job = run_job(tmp_path / "job", {"model": model, "epochs": 40, "lr": 0.01, "batch_size": 16, "readout": readout},
                  {"train": channel})
    assert job.returncode == 0, job.log[-3000:]
    final = job.metrics["final"]
    assert final["test_accuracy"] >= 0.9, final
    assert job.metrics["objective"] == {"metric": "val_accuracy", "mode": "max"}
    predictor = sagemaker_dgl.load_model(job.base_dir / "model")
    cycle = dgl.graph((torch.tensor([0, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 0]), torch.tensor([1, 2, 3, 4, 5, 0, 0, 1, 2, 3, 4, 5])))
    path = dgl.graph((torch.tensor([0, 1, 2, 3, 4, 1, 2, 3, 4, 5]), torch.tensor([1, 2, 3, 4, 5, 0, 1, 2, 3, 4])))
    width = predictor.config["data"]["in_feats"]
    for graph in (cycle, path):
        graph.ndata["feat"] = torch.ones(graph.num_nodes(), width)
    classes = predictor.predict([cycle, path])
    assert classes == (["1", "-1"] if write is write_tu else ["1", "0"]), classes
