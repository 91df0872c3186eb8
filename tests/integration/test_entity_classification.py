"""Entity classification through `.venv/bin/train` on the real AIFB and MUTAG graphs (R-GCN).

Median test accuracy over seeds 0-4 against the acceptance bars (paper 95.83 / 73.23), the
outputs, the predictor, and a neighbour-sampled run.
"""
import statistics

import numpy as np
import pytest

import sagemaker_dgl
from tests.conftest import dataset_dir, run_job, run_seeds

pytestmark = pytest.mark.integration
SEEDS = range(5)
@pytest.mark.parametrize("name, hyperparameters, threshold", [("aifb", {}, 0.94), ("mutag", {}, 0.72)])
def test_median_test_accuracy(tmp_path, name, hyperparameters, threshold):
    accuracies = []
    for job in run_seeds(tmp_path, {"model": "rgcn", **hyperparameters}, {"train": dataset_dir(name)}, SEEDS):
        assert job.returncode == 0, job.log[-3000:]
        accuracies.append(job.metrics["final"]["test_accuracy"])
    median = statistics.median(accuracies)
    print(f"{name} {hyperparameters}: test accuracies {accuracies}, median {median:.4f}")
    assert median >= threshold, accuracies


def test_outputs_and_predictor_round_trip(tmp_path):
    job = run_job(tmp_path, {"model": "rgcn", "epochs": 5}, {"train": dataset_dir("aifb")})
    assert job.returncode == 0, job.log[-3000:]
    assert "removed 178 triples of label predicate http://swrc.ontoware.org/ontology#affiliation" in job.log
    assert "test_accuracy" in job.metrics["final"]
    output = tmp_path / "output" / "data"
    embeddings = np.load(output / "entity_embeddings.npy")
    names = [line.split("\t") for line in (output / "entities.tsv").read_text().splitlines()]
    assert embeddings.shape == (8285, 16) and len(names) == 8285 and names[0][0] == "0"
    predictor = sagemaker_dgl.load_model(tmp_path / "model")
    person = (dataset_dir("aifb") / "testSet.tsv").read_text().splitlines()[1].split("\t")[0]
    classes = predictor.predict(entities=[person, 0])
    assert len(classes) == 2 and set(classes) <= set(predictor.classes)
    probabilities = predictor.predict_proba(entities=[person])
    assert probabilities.shape == (1, 4) and abs(float(probabilities.sum()) - 1) < 1e-5


def test_minibatch_run(tmp_path):
    job = run_job(tmp_path, {"model": "rgcn", "fanouts": "10,10", "batch_size": 32, "epochs": 5},
                  {"train": dataset_dir("aifb")})
    assert job.returncode == 0, job.log[-3000:]
    assert job.metrics["final"]["test_accuracy"] > 0.5
