"""Link prediction on the real FB15k-237 through `.venv/bin/train`: the short version of the
benchmark (benchmarks/kge_fb15k237.py) must beat the relation-frequency baseline by a clear
margin, and the saved model answers a nationality query.

The baseline scores a candidate tail of ``(h, r, ?)`` by how often it is the tail of ``r`` in
training (heads alike), ranked in the same filtered setting: test MRR 0.233 on FB15k-237.
"""
import json

import numpy as np
import pytest
import torch

import sagemaker_dgl
from sagemaker_dgl.data.triples import load_triples
from sagemaker_dgl.tasks._ranking import KnownAnswers, filtered_ranks, queries, ranking_metrics
from tests.conftest import dataset_dir, run_job

pytestmark = pytest.mark.integration

#: One epoch of ComplEx with 1-vs-all scoring: about 1.5 minutes on 2 cores.
SHORT_RUN = {"task": "link_prediction", "model": "complex", "embedding_dim": 32, "epochs": 1, "val_triples": 2000}
NATIONALITY = "/people/person/nationality"


def frequency_baseline_mrr(directory) -> float:
    data = load_triples(directory)
    num_entities, num_relations = len(data.entities), len(data.relations)
    _, relation, answer = queries(data.splits["train"], num_relations)
    counts = torch.zeros(2 * num_relations, num_entities)
    counts.index_put_((relation, answer), torch.ones(len(answer)), accumulate=True)
    known = KnownAnswers(torch.cat(list(data.splits.values())), num_relations)
    entity, relation, answer = queries(data.splits["test"], num_relations)
    rows, known_answers = known.of(entity, relation)
    ranks = filtered_ranks(counts[relation], answer, rows, known_answers)
    return ranking_metrics(ranks, "test")["test_mrr"]


@pytest.fixture(scope="module")
def fb15k_job(tmp_path_factory):
    job = run_job(tmp_path_factory.mktemp("fb15k"), SHORT_RUN, {"train": dataset_dir("fb15k-237")}, timeout=900)
    assert job.returncode == 0, job.log[-3000:]
    return job


def test_short_training_beats_the_relation_frequency_baseline(fb15k_job):
    baseline = frequency_baseline_mrr(dataset_dir("fb15k-237"))
    assert baseline == pytest.approx(0.233, abs=0.002)
    final = fb15k_job.metrics["final"]
    assert final["test_mrr"] >= baseline + 0.015, (final, baseline)
    assert final["test_hits@10"] > final["test_hits@3"] > final["test_hits@1"] > 0
    assert fb15k_job.metrics["objective"] == {"metric": "val_mrr", "mode": "max"}
    assert "9 valid triple(s) name an entity that is not in train.txt" in fb15k_job.log


def test_the_saved_model_answers_a_nationality_query(fb15k_job):
    predictor = sagemaker_dgl.load_model(fb15k_job.base_dir / "model")
    # A test triple: /m/01wxdn3 has nationality /m/07ssc (the United Kingdom); the model never saw it.
    answers = predictor.predict_tails("/m/01wxdn3", NATIONALITY, k=10)
    assert len(answers) == 10 and [a["score"] for a in answers] == sorted((a["score"] for a in answers), reverse=True)
    assert "/m/07ssc" in [a["entity"] for a in answers]
    # /m/02mjmr's nationality (/m/09c7w0, the United States) is a training triple: filtered out unless asked.
    assert "/m/09c7w0" not in [a["entity"] for a in predictor.predict_tails("/m/02mjmr", NATIONALITY, k=10)]
    assert "/m/09c7w0" in [a["entity"] for a in predictor.predict_tails("/m/02mjmr", NATIONALITY, k=10,
                                                                        filter_known=False)]


def test_the_embeddings_load_with_numpy_alone(fb15k_job):
    model_dir = fb15k_job.base_dir / "model"
    entities = np.load(model_dir / "entity_embeddings.npy")
    relations = np.load(model_dir / "relation_embeddings.npy")
    entity_ids = dict(line.split("\t") for line in (model_dir / "entities.tsv").read_text().splitlines())
    assert entities.shape == (14541, 64) and len(entity_ids) == 14541 and entity_ids["0"] == "/m/027rn"
    assert relations.shape == (2 * 237, 64)  # each relation and its reciprocal


#: R-GCN, 5 epochs of 10 edge batches at a smaller width: about a minute on 2 cores. No task is
#: given: rgcn serves two tasks and the triples channel says which.
RGCN_SHORT_RUN = {"model": "rgcn", "hidden_size": 100, "num_bases": 20, "epochs": 5, "eval_every": 5,
                  "val_triples": 500}


def test_rgcn_learns_link_prediction_on_its_sampled_graphs(tmp_path):
    job = run_job(tmp_path, RGCN_SHORT_RUN, {"train": dataset_dir("fb15k-237")}, timeout=900)
    assert job.returncode == 0, job.log[-3000:]
    config = json.loads((job.base_dir / "model" / "model_config.json").read_text())
    assert config["task"] == "link_prediction" and config["hyperparameters"]["edge_dropout"] == 0.5
    final = job.metrics["final"]
    assert final["test_mrr"] > 0.03, final  # chance is about 1/7,000 (the full run: benchmarks/kge_fb15k237.py)
    entities = np.load(job.base_dir / "model" / "entity_embeddings.npy")
    assert entities.shape == (14541, 100) and np.load(job.base_dir / "model" / "relation_embeddings.npy").shape == (237, 100)
    answers = sagemaker_dgl.load_model(job.base_dir / "model").predict_tails("/m/01wxdn3", NATIONALITY, k=10)
    assert len(answers) == 10
