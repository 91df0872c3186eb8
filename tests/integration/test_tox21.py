"""Tox21 (12 toxicity assays) through `.venv/bin/train` with each model's defaults, its benchmark
configuration (benchmarks/graph_prediction_tox21.py; medians over seeds 0-2 in RESULTS.md): one
seed each of the GCN on the random and the scaffold split must reach the issue's bars, and the
saved model scores the job's test molecules as it did. GIN's figures (the issue sets it no bar)
are in RESULTS.md only: its seed 0 lands within 0.01 of 0.80, on either side by machine."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import sagemaker_dgl
from tests.conftest import dataset_dir, run_job

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Mean test ROC-AUC bars (DGL-LifeSci's model zoo reports about 0.83 random and 0.77 scaffold for GCN).
BARS = {"random": 0.80, "scaffold": 0.74}


@pytest.mark.parametrize("split", ["random", "scaffold"])
def test_tox21_reaches_the_bar_with_the_defaults(tmp_path, split):
    job = run_job(tmp_path / "job", {"model": "gcn", "split": split, "seed": 0}, {"train": dataset_dir("tox21")},
                  timeout=1200)
    assert job.returncode == 0, job.log[-3000:]
    final = job.metrics["final"]
    assert final["test_roc_auc"] >= BARS[split], final
    assert "7823 graphs from tox21.csv (8 skipped)" in job.log
    assert job.metrics["objective"] == {"metric": "val_roc_auc", "mode": "max"}
    if split != "random":
        return
    test = pd.read_csv(job.base_dir / "output" / "data" / "test_predictions.csv")
    predictor = sagemaker_dgl.load_model(job.base_dir / "model")
    assert len(test) == predictor.config["data"]["num_test_graphs"] == 783
    scores = predictor.predict_smiles(test["smiles"].tolist())
    for task in ("NR-AR", "SR-p53"):
        known = test[task].notna().to_numpy()
        assert np.allclose(np.array(scores[task])[known], test[f"{task}_probability"][known], atol=1e-4)
        assert abs(roc_auc_score(test[task][known], np.array(scores[task])[known]) - final[f"test_roc_auc_{task}"]) < 1e-3
