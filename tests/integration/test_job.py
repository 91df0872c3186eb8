"""Whole jobs through `.venv/bin/train` on a temporary /opt/ml-shaped tree, as in the container."""
import json
import shutil
import signal
import subprocess

import pytest
import torch

import sagemaker_dgl
from sagemaker_dgl.data.csv_graph import load_csv_graph
from sagemaker_dgl.errors import SageMakerDGLError
from tests.conftest import TRAIN, job_env, run_job
from tests.graphs import write_csv_graph

pytestmark = pytest.mark.integration


def assert_failed(job, *fragments):
    assert job.returncode != 0, job.log
    assert job.model_files == [], "a failed job must leave /opt/ml/model empty"
    for fragment in fragments:
        assert fragment in job.failure, job.failure
    assert "Traceback" not in job.failure
    assert len(job.failure) < 1024


def test_default_job_trains_karate_offline(tmp_path):
    job = run_job(tmp_path)
    assert job.returncode == 0, job.log
    assert job.model_files == ["graph.bin", "model.pt", "model_config.json"]
    outputs = sorted(p.name for p in (tmp_path / "output" / "data").iterdir())
    assert outputs == ["learning_curves.png", "metrics.json", "node_embeddings.npy", "node_embeddings.png"]
    final = job.metrics["final"]
    assert final["test_accuracy"] >= 0.8 and final["best_epoch"] >= 1
    assert len(job.metrics["history"]) == 200
    assert (tmp_path / "output" / "success").exists()
    for metric in ("train_loss", "val_accuracy", "epoch_time"):
        assert f" {metric}=" in job.log
    assert "final best_epoch=" in job.log and "test_accuracy=" in job.log


def test_users_csv_graph_trains_end_to_end(tmp_path):
    channel = write_csv_graph(tmp_path / "graph", num_nodes=300, masks=False)
    job = run_job(tmp_path / "job", {"model": "graphsage", "epochs": 60}, {"train": channel})
    assert job.returncode == 0, job.log
    assert job.metrics["final"]["test_accuracy"] >= 0.8
    config = json.loads((tmp_path / "job" / "model" / "model_config.json").read_text())
    assert config["data"]["dataset"] == "generated" and config["data"]["num_classes"] == 3
    assert config["data"]["num_train_nodes"] == 180


@pytest.mark.parametrize("model", ["gat", "graphsage"])
def test_saved_model_loads_and_predicts_the_same(tmp_path, model):
    channel = write_csv_graph(tmp_path / "graph", num_nodes=200)
    job = run_job(tmp_path / "job", {"model": model, "epochs": 30}, {"train": channel})
    assert job.returncode == 0, job.log
    predictor = sagemaker_dgl.load_model(tmp_path / "job" / "model")
    graph = load_csv_graph(channel).graph
    test = torch.nonzero(graph.ndata["test_mask"]).flatten()
    predictions = predictor.predict(nodes=test)  # nodes of the training graph saved with the model
    accuracy = (predictions == graph.ndata["label"][test]).float().mean().item()
    assert accuracy == pytest.approx(job.metrics["final"]["test_accuracy"], abs=1e-6)
    reloaded = sagemaker_dgl.load_model(tmp_path / "job" / "model")
    torch.testing.assert_close(reloaded.predict_proba(graph=graph), predictor.predict_proba())


def test_predictor_classifies_a_graph_it_was_not_trained_on(tmp_path):
    """Trained on one generated graph, the saved model classifies the nodes of another (same
    kind of features, other nodes and edges), with the job's preprocessing applied for the user."""
    channel = write_csv_graph(tmp_path / "graph", num_nodes=300, seed=0)
    job = run_job(tmp_path / "job", {"model": "gcn", "epochs": 60, "save_graph": "false"}, {"train": channel})
    assert job.returncode == 0, job.log
    assert job.model_files == ["model.pt", "model_config.json"]
    other = load_csv_graph(write_csv_graph(tmp_path / "other", num_nodes=150, seed=42)).graph
    predictor = sagemaker_dgl.load_model(tmp_path / "job" / "model")
    probabilities = predictor.predict_proba(graph=other, features=other.ndata["feat"])
    assert probabilities.shape == (150, 3)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(150))
    accuracy = (probabilities.argmax(1) == other.ndata["label"]).float().mean().item()
    assert accuracy >= 0.7 and accuracy >= job.metrics["final"]["test_accuracy"] - 0.1, accuracy  # chance: 0.33
    with pytest.raises(SageMakerDGLError, match="did not save the training graph"):
        predictor.predict(nodes=[0])


def test_script_mode_runs_the_users_dgl_script(tmp_path, cora_dir):
    source_dir = tmp_path / "source"
    shutil.copytree("tests/resources/user_script", source_dir)
    hyperparameters = {"sagemaker_program": "train_gcn.py", "sagemaker_submit_directory": str(source_dir),
                       "epochs": 30}
    job = run_job(tmp_path / "job", hyperparameters, {"train": cora_dir})
    assert job.returncode == 0, job.log
    assert job.model_files == ["gcn.pt", "info.json"]
    assert json.loads((tmp_path / "job" / "model" / "info.json").read_text()) == {"epochs": 30}
    assert "test_accuracy=" in job.log


def test_script_mode_failure_is_reported(tmp_path):
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    (source_dir / "broken.py").write_text("raise RuntimeError('user script failed on purpose')\n")
    job = run_job(tmp_path / "job", {"sagemaker_program": "broken.py", "sagemaker_submit_directory": str(source_dir)})
    assert job.returncode != 0
    assert "user script failed on purpose" in job.failure


def test_malformed_hyperparameters_json(tmp_path):
    job_dir = tmp_path / "job"
    run_job(job_dir)  # lay out a valid tree, then break the file
    shutil.rmtree(job_dir / "model")
    (job_dir / "model").mkdir()
    (job_dir / "output" / "success").unlink()
    (job_dir / "input" / "config" / "hyperparameters.json").write_text('{"model": "gcn", ')
    completed = subprocess.run([TRAIN], env=job_env(job_dir), capture_output=True, text=True)
    assert completed.returncode != 0
    failure = (job_dir / "output" / "failure").read_text()
    assert "hyperparameters.json is not valid JSON" in failure
    assert list((job_dir / "model").iterdir()) == []


@pytest.mark.parametrize(
    "hyperparameters, fragments",
    [
        ({"learning_rate": "0.1"}, ["unknown hyperparameter 'learning_rate'", "did you mean 'lr'"]),
        ({"epochs": "ten"}, ["'epochs'='ten' is invalid", "expected int"]),
        ({"dropout": "1.5"}, ["'dropout'=1.5 is invalid", "< 1.0"]),
        ({"model": "gnc"}, ["unknown model 'gnc'", "gat, gcmc, gcn, gin, graphsage"]),
        ({"dataset": "imagenet"}, ["unknown dataset 'imagenet'", "cora"]),
        ({"num_heads": "4"}, ["hyperparameter 'num_heads' applies to model gat (chosen: task node_classification, "
                              "model gcn)"]),
        ({"lr": "Infinity"}, ["'lr'=inf is invalid"]),
    ],
)
def test_bad_hyperparameters_fail_with_the_reason(tmp_path, hyperparameters, fragments):
    assert_failed(run_job(tmp_path, hyperparameters), *fragments)


def test_missing_channel_folder(tmp_path):
    """A channel folder that is gone when the job starts (the laid-out link no longer resolves)."""
    from sagemaker_dgl.cli import lay_out_job

    (tmp_path / "not-uploaded").mkdir()
    lay_out_job(tmp_path / "job", {}, {"train": tmp_path / "not-uploaded"})
    (tmp_path / "not-uploaded").rmdir()
    completed = subprocess.run([TRAIN], env=job_env(tmp_path / "job"), capture_output=True, text=True)
    assert completed.returncode != 0
    failure = (tmp_path / "job" / "output" / "failure").read_text()
    assert "channel 'train'" in failure and "does not exist" in failure and "Traceback" not in failure


def test_format_needs_a_channel(tmp_path):
    assert_failed(run_job(tmp_path, {"data_format": "planetoid"}), "reads channel 'train'")


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_data_file(tmp_path, cora_dir, damage):
    channel = tmp_path / "cora"
    shutil.copytree(cora_dir, channel)
    data = (channel / "ind.cora.graph").read_bytes()
    (channel / "ind.cora.graph").write_bytes(data[:1000] if damage == "truncated" else b"\x00garbage" * 100)
    assert_failed(run_job(tmp_path / "job", {}, {"train": channel}), "ind.cora.graph is corrupt or truncated")


def test_labels_out_of_range(tmp_path):
    channel = write_csv_graph(tmp_path / "graph", num_nodes=60, num_classes=3)
    assert_failed(run_job(tmp_path / "job", {"num_classes": 2}, {"train": channel}),
                  "out of range for num_classes=2")


def test_negative_label_in_a_split(tmp_path):
    labels = [0, 1, -5] * 20
    channel = write_csv_graph(tmp_path / "graph", num_nodes=60, labels=labels)
    assert_failed(run_job(tmp_path / "job", {}, {"train": channel}), "has label -5", "labels must be integers >= 0")


def test_nan_loss_stops_the_job(tmp_path):
    channel = write_csv_graph(tmp_path / "graph", num_nodes=60)
    nodes = (channel / "nodes.csv").read_text().splitlines()
    huge = ", ".join(["3e38"] * 8)
    rows = [nodes[0]] + [f'{r.split(",")[0]},{r.split(",")[1]},"{huge}",' + r.rsplit('"', 1)[1].lstrip(",")
                          for r in nodes[1:]]
    (channel / "nodes.csv").write_text("\n".join(rows) + "\n")
    job = run_job(tmp_path / "job", {"normalize_features": "false", "model": "graphsage"}, {"train": channel})
    assert_failed(job, "training diverged", "train_loss=nan", "Lower lr")


@pytest.mark.parametrize("sampling", [{}, {"model": "graphsage", "fanouts": "5,5", "batch_size": "64"}],
                         ids=["full-graph", "sampled"])
def test_sigterm_then_restart_matches_an_uninterrupted_run(tmp_path, cora_dir, sampling):
    hyperparameters = {"epochs": 60, "seed": 3, "checkpoint_interval": 25, **sampling}
    reference = run_job(tmp_path / "reference", hyperparameters, {"train": cora_dir})
    assert reference.returncode == 0, reference.log

    from sagemaker_dgl.cli import lay_out_job

    job_dir = tmp_path / "spot"
    lay_out_job(job_dir, hyperparameters, {"train": cora_dir})
    (job_dir / "checkpoints").mkdir()
    process = subprocess.Popen([TRAIN], env=job_env(job_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    log = []
    for line in process.stdout:
        log.append(line)
        if " epoch=30 " in line:
            process.send_signal(signal.SIGTERM)
    assert process.wait() != 0
    failure = (job_dir / "output" / "failure").read_text()
    assert "stopped by SIGTERM" in failure, "".join(log)
    assert list((job_dir / "model").iterdir()) == []
    stopped_at = int(failure.split("after epoch ")[1].split()[0])
    assert 30 <= stopped_at < 60
    assert len(list((job_dir / "checkpoints").glob(f"checkpoint-*-{stopped_at:06d}.pt"))) == 1

    restarted = run_job(job_dir, hyperparameters, {"train": cora_dir}, checkpoints=True)
    assert restarted.returncode == 0, restarted.log
    assert "resuming from checkpoint" in restarted.log and " epoch=1 " not in restarted.log
    assert restarted.metrics["final"] == reference.metrics["final"]
    assert [row["val_accuracy"] for row in restarted.metrics["history"]] == [
        row["val_accuracy"] for row in reference.metrics["history"]]


def test_same_seed_same_run_and_early_stopping(tmp_path):
    hyperparameters = {"seed": 7, "early_stopping_patience": 10}
    first = run_job(tmp_path / "first", hyperparameters)
    second = run_job(tmp_path / "second", hyperparameters)
    assert first.returncode == 0 and second.returncode == 0, first.log
    assert first.metrics["final"] == second.metrics["final"]
    epochs = len(first.metrics["history"])
    assert epochs < 200 and "early stopping at epoch" in first.log
    assert epochs - first.metrics["final"]["best_epoch"] == 10


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert_failed(run_job(tmp_path, {"device": "cuda"}), "no CUDA GPU is visible")


def test_eval_every_validates_every_fifth_epoch_and_selects_among_them(tmp_path):
    job = run_job(tmp_path, {"eval_every": 5, "epochs": 48})
    assert job.returncode == 0, job.log
    history = job.metrics["history"]
    validated = [row["epoch"] for row in history if "val_accuracy" in row]
    assert validated == list(range(5, 46, 5)) + [48]
    assert all("train_loss" in row for row in history) and len(history) == 48
    assert job.metrics["final"]["best_epoch"] in validated
    assert job.metrics["objective"] == {"metric": "val_accuracy", "mode": "max"}
    assert " epoch=3 train_loss=" in job.log and "val_accuracy" not in job.log.split(" epoch=3 ")[1].splitlines()[0]
    assert (tmp_path / "output" / "data" / "learning_curves.png").stat().st_size > 0


def test_a_channel_the_task_does_not_read_fails(tmp_path, cora_dir):
    assert_failed(run_job(tmp_path / "job", {}, {"training": cora_dir}),
                  "channel 'training' is not one that task node_classification reads (did you mean 'train'?)")
