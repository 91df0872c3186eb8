"""Molecules through `.venv/bin/train`: a generated SMILES CSV (whether a molecule has a ring)
trains end to end with the task inferred, and the saved model scores new SMILES strings."""
import pytest

import sagemaker_dgl
from tests.conftest import run_job

pytestmark = pytest.mark.integration

RINGS = ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCOC1", "c1ccc2ccccc2c1", "C1CCNCC1", "c1ccoc1", "C1CC1"]
CHAINS = ["CCO", "CCCC", "CCN", "CC(=O)O", "CCCCO", "CC(C)C", "OCCO", "CCOC"]


def test_a_smiles_csv_trains_and_the_model_scores_new_smiles(tmp_path):
    channel = tmp_path / "mol"
    channel.mkdir()
    rows = [f"{s}{tail},1" for s in RINGS for tail in ("", "C", "CC", "O")] + \
           [f"{s}{tail},0" for s in CHAINS for tail in ("", "C", "CC", "O")] + ["not-a-molecule,1"]
    (channel / "rings.csv").write_text("smiles,ring\n" + "\n".join(rows) + "\n")
    job = run_job(tmp_path / "job", {"model": "gcn", "epochs": 60, "lr": 0.01, "batch_size": 16,
                                     "train_fraction": 0.7, "val_fraction": 0.15},
                  {"train": channel})
    assert job.returncode == 0, job.log[-3000:]
    assert "1 of 65 SMILES strings could not be parsed by RDKit" in job.log
    final = job.metrics["final"]
    assert final["test_roc_auc"] >= 0.9 and final["test_roc_auc_ring"] == final["test_roc_auc"], final
    assert job.metrics["objective"] == {"metric": "val_roc_auc", "mode": "max"}
    predictor = sagemaker_dgl.load_model(job.base_dir / "model")
    scores = predictor.predict_smiles(["c1ccccc1CCC", "CCCCCC", "oops"])["ring"]
    assert scores[0] > 0.5 > scores[1] and scores[2] is None, scores
