"""GCMC on the real MovieLens 100K through `.venv/bin/train`: the canonical u1 split with the
model's defaults (its benchmark configuration, benchmarks/gcmc_movielens.py) must reach the
paper's test RMSE, and the saved model recommends movies by title."""
import json

import numpy as np
import pytest

import sagemaker_dgl
from tests.conftest import dataset_dir, run_job

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The GCMC paper's ML-100K test RMSE (DGL's example: 0.9088).
PAPER_RMSE = 0.910


@pytest.fixture(scope="module")
def movielens_job(tmp_path_factory):
    job = run_job(tmp_path_factory.mktemp("ml-100k"), {"model": "gcmc"}, {"train": dataset_dir("ml-100k")},
                  timeout=1200)
    assert job.returncode == 0, job.log[-3000:]
    return job


def test_gcmc_reaches_the_papers_rmse_on_the_canonical_split(movielens_job):
    final = movielens_job.metrics["final"]
    assert final["test_rmse"] <= PAPER_RMSE, final
    assert final["test_mae"] < final["test_rmse"]
    assert movielens_job.metrics["objective"] == {"metric": "val_rmse", "mode": "min"}
    assert "reading channel 'train' as movielens_100k" in movielens_job.log
    facts = json.loads((movielens_job.base_dir / "model" / "model_config.json").read_text())["data"]
    assert (facts["split"], facts["num_test_ratings"], facts["num_train_ratings"] + facts["num_val_ratings"]) == \
        ("u1", 20000, 80000)


def test_the_saved_model_recommends_unseen_movies_by_title(movielens_job):
    predictor = sagemaker_dgl.load_model(movielens_job.base_dir / "model")
    recommended = predictor.recommend("196", k=5)
    assert len(recommended) == 5 and all(r["name"] for r in recommended)
    assert [r["rating"] for r in recommended] == sorted((r["rating"] for r in recommended), reverse=True)
    rated = {line.split("\t")[1] for line in (dataset_dir("ml-100k") / "u.data").read_text().splitlines()
             if line.split("\t")[0] == "196"}
    assert not rated & {r["item"] for r in recommended}
    (rating,) = predictor.predict([("196", "242")])
    assert 1.0 <= rating <= 5.0
    users = np.load(movielens_job.base_dir / "model" / "user_embeddings.npy")
    items = np.load(movielens_job.base_dir / "model" / "item_embeddings.npy")
    assert users.shape[0] == 943 and items.shape[0] == 1682 and users.shape[1] == items.shape[1]
