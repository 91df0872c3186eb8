"""Accuracy on real Cora through the `train` command: median test accuracy over 5 seeds.

Thresholds are the issue's acceptance bars, a little under the papers (GCN 81.5, GAT 83.0).
"""
import statistics

import pytest

from tests.conftest import run_seeds

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SEEDS = range(5)


@pytest.mark.parametrize(
    "hyperparameters, threshold",
    [
        ({"model": "gcn"}, 0.80),
        ({"model": "gat"}, 0.815),
        ({"model": "graphsage", "fanouts": "10,10"}, 0.78),
    ],
    ids=["gcn", "gat", "graphsage-sampled"],
)
def test_cora_median_test_accuracy(tmp_path, cora_dir, hyperparameters, threshold):
    accuracies = []
    for job in run_seeds(tmp_path, hyperparameters, {"train": cora_dir}, SEEDS):
        assert job.returncode == 0, job.log
        final = job.metrics["final"]
        assert f"test_accuracy={final['test_accuracy']:.4f}" in job.log
        accuracies.append(final["test_accuracy"])
    median = statistics.median(accuracies)
    print(f"{hyperparameters}: test accuracies {accuracies}, median {median:.4f}")
    assert median >= threshold, accuracies
