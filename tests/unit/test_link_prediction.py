"""Link prediction: the triples format, filtered ranking against hand-computed ranks, the models'
fast scoring paths, the training modes and the predictor."""
import tarfile

import numpy as np
import pytest
import torch

import sagemaker_dgl
from sagemaker_dgl import artifacts
from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import TripleData
from sagemaker_dgl.data.triples import load_triples
from sagemaker_dgl.errors import DataFormatError, SageMakerDGLError
from sagemaker_dgl.models import MODELS, create_model
from sagemaker_dgl.tasks import TASKS
from sagemaker_dgl.tasks.link_prediction import encodes_graph, whole_graph_scorer
from sagemaker_dgl.tasks._ranking import KnownAnswers, filtered_ranks, ranking_metrics
from sagemaker_dgl.trainer import Trainer
from tests.graphs import write_triples

KGE_MODELS = [name for name in MODELS.for_task("link_prediction")
              if not encodes_graph(MODELS.spec(name, "link_prediction").model_class)]


def hp(**raw):
    return Hyperparameters.from_sagemaker({"task": "link_prediction", **{k: str(v) for k, v in raw.items()}})


def tiny(splits) -> TripleData:
    """Triples over entities a, b, c, d and relation r from ``{'train': [(h, r, t)], ...}`` index lists."""
    return TripleData(splits={s: torch.tensor(rows, dtype=torch.int64).reshape(-1, 3) for s, rows in splits.items()},
                      entities=list("abcd"), relations=["r"], name="tiny")


# --- Ranking, by hand ---
def test_filtered_ranks_by_hand():
    # Query (a, r, ?) with answer d; b and c are other known answers and are filtered out.
    scores = torch.tensor([[0.5, 2.0, 1.0, 1.0]])
    rows, answers = torch.tensor([0, 0, 0]), torch.tensor([1, 2, 3])
    assert filtered_ranks(scores.clone(), torch.tensor([3]), rows, answers).tolist() == [1.0]
    # Unfiltered: b scores higher, c ties (mean of optimistic 2 and pessimistic 3).
    empty = torch.tensor([], dtype=torch.int64)
    assert filtered_ranks(scores.clone(), torch.tensor([3]), empty, empty).tolist() == [2.5]
    # Every entity alike: the rank of a random guess, never 1.
    assert filtered_ranks(torch.ones(1, 4), torch.tensor([0]), empty, empty).tolist() == [2.5]
    # A NaN score ranks last.
    assert filtered_ranks(torch.tensor([[float("nan"), 1.0, 0.0, 0.0]]), torch.tensor([0]), empty, empty).tolist() == [4.0]


def test_ranking_metrics_by_hand():
    metrics = ranking_metrics(torch.tensor([1.0, 2.5, 4.0, 20.0]), "test")
    assert metrics["test_mrr"] == pytest.approx((1 + 1 / 2.5 + 1 / 4 + 1 / 20) / 4)
    assert metrics["test_mr"] == pytest.approx(27.5 / 4)
    assert (metrics["test_hits@1"], metrics["test_hits@3"], metrics["test_hits@10"]) == (0.25, 0.5, 0.75)


def test_known_answers_hold_both_directions():
    known = KnownAnswers(torch.tensor([[0, 0, 1], [0, 0, 2], [3, 0, 1]]), num_relations=1)
    rows, answers = known.of(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 0]))  # (a,r,?), (?,r,b), (c,r,?)
    assert sorted(zip(rows.tolist(), answers.tolist())) == [(0, 1), (0, 2), (1, 0), (1, 3)]


class FixedScores(torch.nn.Module):
    """A 'model' whose tail and head scores are fixed tables: entity x entity, per direction."""

    def __init__(self, tails, heads):
        super().__init__()
        self.tails, self.heads = torch.tensor(tails), torch.tensor(heads)

    def score_tails(self, heads, relations):
        return self.tails[heads].clone()

    def score_heads(self, relations, tails):
        return self.heads[tails].clone()


def test_task_evaluation_ranks_heads_and_tails_in_the_filtered_setting():
    data = tiny({"train": [(0, 0, 1)], "valid": [(0, 0, 2)], "test": [(0, 0, 3), (2, 0, 3)]})
    task = TASKS.get("link_prediction")(hp(model="distmult", training="negative_sampling"), data, {},
                                        torch.device("cpu"))
    assert not task.reciprocal
    tails = [[0.0, 3.0, 2.0, 1.0],  # (a, r, ?) -> d: b and c are other known tails, filtered: rank 1
             [0.0] * 4,
             [0.0, 1.0, 1.0, 1.0],  # (c, r, ?) -> d: ties with b and c: 1 + 2/2 = 2
             [0.0] * 4]
    heads = [[0.0] * 4] * 3 + [[1.0, 2.0, 2.0, 0.0]]  # (?, r, d) -> a: c filtered, b above: 2
    metrics = task.evaluate(FixedScores(tails, heads), "test")  # (?, r, d) -> c: a filtered, ties b: 1.5
    expected = torch.tensor([1.0, 2.0, 2.0, 1.5])
    assert metrics["test_mrr"] == pytest.approx((1 / expected).mean().item())
    assert metrics["test_mr"] == pytest.approx(expected.mean().item())


# --- Models ---
@pytest.mark.parametrize("name", KGE_MODELS)
def test_fast_scoring_equals_the_interaction(name):
    sizes = dict(num_entities=7, num_relations=3)
    model = create_model(name, "link_prediction", **sizes, **hp(model=name).model.model_dump())
    heads, relations, tails = torch.tensor([0, 3]), torch.tensor([1, 2]), torch.tensor([4, 6])
    every = torch.arange(7)
    with torch.no_grad():
        torch.testing.assert_close(model.score_tails(heads, relations), model(heads[:, None], relations[:, None], every))
        torch.testing.assert_close(model.score_heads(relations, tails), model(every, relations[:, None], tails[:, None]))


@pytest.mark.parametrize("name", KGE_MODELS)
def test_regularization_is_finite_and_differentiable(name):
    model = create_model(name, "link_prediction", num_entities=5, num_relations=2,
                         **hp(model=name).model.model_dump())
    penalty = model.regularization(torch.tensor([[0, 1], [2, 3]]), torch.tensor([0, 1]), p=3)
    penalty.backward()
    assert torch.isfinite(penalty) and model.entity.weight.grad is not None


def test_rotate_distance_has_a_finite_gradient_at_zero():
    from sagemaker_dgl.models._kge import Modulus

    re = torch.tensor([0.0, 3.0, -1e-30], requires_grad=True)
    im = torch.tensor([0.0, 4.0, 0.0], requires_grad=True)
    Modulus.apply(re, im).sum().backward()
    assert torch.isfinite(re.grad).all() and torch.isfinite(im.grad).all()
    torch.testing.assert_close(re.grad, torch.tensor([0.0, 0.6, -1.0]))
    torch.testing.assert_close(im.grad, torch.tensor([0.0, 0.8, 0.0]))
    model = create_model("rotate", "link_prediction", num_entities=3, num_relations=1, **hp(model="rotate").model.model_dump())
    with torch.no_grad():
        model.relation.weight.zero_()  # the identity rotation: (e, r, e) is at distance 0
    model(torch.tensor([1]), torch.tensor([0]), torch.tensor([1])).sum().backward()
    assert torch.isfinite(model.entity.weight.grad).all() and torch.isfinite(model.relation.weight.grad).all()


# --- Training modes, through the trainer ---
MODES = [
    {"model": "distmult", "training": "1vsall"},
    {"model": "complex", "training": "1vsall", "reciprocal_relations": "false", "loss": "bce"},
    {"model": "complex", "training": "kvsall", "label_smoothing": 0.1, "regularizer": "n3",
     "regularization_weight": 0.001},
    {"model": "transe", "training": "negative_sampling", "loss": "margin", "margin": 1.0, "p_norm": 2},
    {"model": "rotate", "training": "negative_sampling", "margin": 6.0},
    {"model": "distmult", "training": "negative_sampling", "loss": "bce", "sparse_embeddings": "true",
     "regularizer": "l2", "regularization_weight": 0.001},
]


@pytest.mark.parametrize("raw", MODES, ids=lambda raw: "-".join(str(v) for v in raw.values()))
def test_each_training_mode_learns_the_toy_graph(tmp_path, raw):
    torch.manual_seed(0)
    params = hp(epochs=60, eval_every=60, batch_size=64, embedding_dim=32, lr=0.2, optimizer="adagrad", **raw)
    data = load_triples(write_triples(tmp_path / "kg"))
    task = TASKS.get("link_prediction")(params, data, {}, torch.device("cpu"))
    model = create_model(raw["model"], "link_prediction", **task.model_sizes(), **params.model.model_dump())
    untrained = Trainer(task, model, params, None, "x").evaluate("test")["test_mrr"]
    result = Trainer(task, model, params, None, "x").fit()
    trained = Trainer(task, model, params, None, "x").evaluate("test")["test_mrr"]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert trained > max(2 * untrained, 0.3), (untrained, trained)


@pytest.mark.parametrize("raw, message", [
    ({"training": "negative_sampling", "loss": "softmax"}, "loss=softmax needs training=1vsall or kvsall"),
    ({"training": "1vsall", "loss": "margin"}, "loss=margin needs training=negative_sampling"),
    ({"training": "kvsall", "reciprocal_relations": "false"}, "kvsall needs reciprocal_relations=true"),
    ({"training": "1vsall", "sparse_embeddings": "true"}, "sparse_embeddings=true needs training=negative_sampling"),
    ({"model": "transe", "p_norm": 3}, "'p_norm'=3"),
    ({"model": "gcn"}, "model 'gcn' does not do task 'link_prediction'; models for it: complex, distmult, rgcn, rotate, transe"),
    ({"model": "transe", "task": "node_classification"}, "model 'transe' does not do task 'node_classification'"),
])
def test_inconsistent_hyperparameters_say_what_to_change(raw, message):
    with pytest.raises(SageMakerDGLError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Hyperparameters.from_sagemaker({"task": "link_prediction", "model": "complex",
                                        **{k: str(v) for k, v in raw.items()}})


@pytest.mark.parametrize("raw", [{"training": "1vsall"}, {"reciprocal_relations": "true"}])
def test_rgcn_needs_negative_sampling_on_its_own_graph(raw):
    with pytest.raises(SageMakerDGLError, match="needs training=negative_sampling and reciprocal_relations=false"):
        hp(model="rgcn", **raw)


def test_a_model_chooses_its_task():
    assert Hyperparameters.from_sagemaker({"model": "transe"}).common.task == "link_prediction"


def test_the_data_chooses_the_task_of_a_model_with_several(tmp_path):
    def task(raw, channels=None):
        return Hyperparameters.from_sagemaker({"model": "rgcn", **raw}, channels=channels).common.task

    rdf = tmp_path / "rdf"
    rdf.mkdir()
    (rdf / "graph.nt").write_text("<http://x/a> <http://x/p> <http://x/b> .\n")
    for name in ("trainingSet.tsv", "testSet.tsv"):
        (rdf / name).write_text("person\tlabel_x\n")
    assert task({}, {"train": str(write_triples(tmp_path / "kg"))}) == "link_prediction"
    assert task({}, {"train": str(rdf)}) == "entity_classification"
    assert task({"dataset": "fb15k-237"}) == "link_prediction"
    assert task({"dataset": "mutag"}) == "entity_classification"
    assert task({"task": "link_prediction"}, {"train": str(rdf)}) == "link_prediction"  # given: always wins
    with pytest.raises(SageMakerDGLError, match="model 'rgcn' does several tasks .* set hyperparameter 'task'"):
        task({})


def test_ignored_keys_do_not_change_the_fingerprint():
    base = hp(model="complex", training="1vsall")
    assert base.fingerprint() == hp(model="complex", training="1vsall", num_negatives=7, margin=3).fingerprint()
    assert base.fingerprint() != hp(model="complex", training="kvsall").fingerprint()


# --- The triples format ---
def test_crlf_blank_lines_and_unseen_entities(tmp_path):
    write_triples(tmp_path, line_end="\r\n")
    with open(tmp_path / "test.txt", "a", newline="") as handle:
        handle.write("e0\tnext\tnewcomer\r\n\r\n")
    data = load_triples(tmp_path)
    assert data.entities[-1] == "newcomer" and data.info["test_triples_with_unseen_entities"] == 1
    assert all(not name.endswith("\r") for name in data.entities + data.relations)


@pytest.mark.parametrize("file, line, message", [
    ("train.txt", "e0\tnext\n", "train.txt line 3: 2 tab-separated field(s)"),
    ("train.txt", "e0\tnext\te1\textra\n", "train.txt line 3: 4 tab-separated field(s)"),
    ("valid.txt", "e0\tunheard_of\te1\n", "valid.txt line 3: relation 'unheard_of' never appears in train.txt"),
])
def test_bad_triple_lines_are_named(tmp_path, file, line, message):
    write_triples(tmp_path)
    lines = (tmp_path / file).read_text().splitlines(keepends=True)
    (tmp_path / file).write_text("".join(lines[:2] + [line] + lines[2:]))
    with pytest.raises(DataFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_triples(tmp_path)


def test_empty_triples_file(tmp_path):
    write_triples(tmp_path)
    (tmp_path / "test.txt").write_text("\n")
    with pytest.raises(DataFormatError, match="test.txt is empty"):
        load_triples(tmp_path)


def test_named_download_checks_the_archive_and_each_file(tmp_path, monkeypatch):
    from sagemaker_dgl.data import triples
    from sagemaker_dgl.data.download import sha256

    source = write_triples(tmp_path / "source")
    archive = tmp_path / "FB15k-237.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in triples.FILES.values():
            tar.add(source / name, arcname=name)
    checksums = {name: sha256(source / name) for name in triples.FILES.values()}
    monkeypatch.setitem(triples.ARCHIVES, "fb15k-237", (archive.as_uri(), sha256(archive), checksums))
    triples.download_archive("fb15k-237", tmp_path / "out")
    assert load_triples(tmp_path / "out").splits["train"].shape == (240, 3)
    monkeypatch.setitem(triples.ARCHIVES, "fb15k-237", (archive.as_uri(), "0" * 64, checksums))
    with pytest.raises(ValueError, match="checksum mismatch"):
        triples.download_archive("fb15k-237", tmp_path / "elsewhere")


# --- The predictor ---
def test_predictor_answers_queries_and_filters_known_triples(tmp_path):
    params = hp(model="complex", epochs=40, batch_size=64, embedding_dim=16, eval_every=40)
    data = load_triples(write_triples(tmp_path / "kg"))
    data.entity_names = {"e3": "entity three"}
    task = TASKS.get("link_prediction")(params, data, {}, torch.device("cpu"))
    model = create_model("complex", "link_prediction", **task.model_sizes(), **params.model.model_dump())
    Trainer(task, model, params, None, "x").fit()
    model.eval()
    config = {"task": "link_prediction", "model": "complex", "model_args": {**task.model_sizes(),
              **params.model.model_dump()}, "data": task.data_facts()}
    artifacts.save(tmp_path / "model", model, config, lambda directory: task.save_assets(model, directory))
    predictor = sagemaker_dgl.load_model(tmp_path / "model")
    known_next = {t for h, r, t in (line.split("\t") for line in (tmp_path / "kg" / "train.txt").read_text().split("\n")
                                   if line) if h == "e2" and r == "next"}
    unfiltered = [row["entity"] for row in predictor.predict_tails("e2", "next", k=60, filter_known=False)]
    filtered = [row["entity"] for row in predictor.predict_tails("e2", "next", k=60)]
    assert len(unfiltered) == 60 and set(unfiltered) - set(filtered) == known_next
    heads = predictor.predict_heads("group", "e3", k=3)
    assert heads[0]["score"] >= heads[1]["score"] >= heads[2]["score"]
    assert predictor.predict_tails("e1", "group", k=60, filter_known=False)[0]["name"] in ("", "entity three")
    with pytest.raises(SageMakerDGLError, match="unknown relation 'nxt' \\(did you mean 'next'\\?\\)"):
        predictor.predict_tails("e2", "nxt")
    # The saved embeddings and id maps load with NumPy alone.
    entities = np.load(tmp_path / "model" / "entity_embeddings.npy")
    ids = [line.split("\t")[1] for line in (tmp_path / "model" / "entities.tsv").read_text().splitlines()]
    assert entities.shape == (65, 32) and ids == data.entities
    np.testing.assert_allclose(entities, model.entity.weight.detach().numpy())


# --- R-GCN link prediction ---
def rgcn_task(tmp_path, **raw):
    params = hp(model="rgcn", num_bases=4, **{"hidden_size": 16, **raw})
    task = TASKS.get("link_prediction")(params, load_triples(write_triples(tmp_path / "kg")), {}, torch.device("cpu"))
    return task, create_model("rgcn", "link_prediction", **task.model_sizes(), **params.model.model_dump())


def test_rgcn_graph_has_inverse_edges_and_drops_edges_only_in_training(tmp_path):
    task, model = rgcn_task(tmp_path, edge_dropout=0.25)
    triples = task.triples["train"]
    graph = model.eval().graph(triples, task.num_entities)
    src, dst = graph.edges()
    n = len(triples)
    assert torch.equal(src[:n], triples[:, 0]) and torch.equal(dst[:n], triples[:, 2])
    assert torch.equal(src[n:], triples[:, 2]) and torch.equal(graph.edata["etype"][n:], triples[:, 1] + task.num_relations)
    assert graph.num_edges() == 2 * n
    assert model.train().graph(triples, task.num_entities).num_edges() == 2 * round(0.75 * n)


def test_rgcn_scoring_all_entities_equals_scoring_triples(tmp_path):
    task, model = rgcn_task(tmp_path)
    scorer = whole_graph_scorer(model.eval(), task.triples["train"], task.num_entities, torch.device("cpu"))
    every = torch.arange(task.num_entities)
    heads, relations, tails = torch.tensor([0, 3]), torch.tensor([1, 2]), torch.tensor([4, 6])
    torch.testing.assert_close(scorer.score_tails(heads, relations), scorer(heads[:, None], relations[:, None], every))
    torch.testing.assert_close(scorer.score_heads(relations, tails), scorer(every, relations[:, None], tails[:, None]))
    with torch.no_grad():  # the scorer is the encoder on the whole training graph
        torch.testing.assert_close(scorer.entities, model.encoder(model.graph(task.triples["train"], task.num_entities),
                                                                  every))


def test_rgcn_learns_the_toy_graph_and_its_predictor_scores_like_the_saved_embeddings(tmp_path):
    torch.manual_seed(0)
    task, model = rgcn_task(tmp_path, hidden_size=32, epochs=60, eval_every=60, batch_size=256,
                            regularization_weight=1e-4)
    untrained = Trainer(task, model, task.hp, None, "x").evaluate("test")["test_mrr"]
    result = Trainer(task, model, task.hp, None, "x").fit()
    trained = Trainer(task, model, task.hp, None, "x").evaluate("test")["test_mrr"]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert trained > max(2 * untrained, 0.3), (untrained, trained)
    model.eval()
    config = {"task": "link_prediction", "model": "rgcn", "data": task.data_facts(),
              "model_args": {**task.model_sizes(), **task.hp.model.model_dump()}}
    artifacts.save(tmp_path / "model", model, config, lambda directory: task.save_assets(model, directory))
    top = sagemaker_dgl.load_model(tmp_path / "model").predict_tails("e2", "next", k=3, filter_known=False)
    entities = np.load(tmp_path / "model" / "entity_embeddings.npy")
    relations = np.load(tmp_path / "model" / "relation_embeddings.npy")
    index = {name: i for i, name in enumerate(task.data.entities)}
    scores = (entities[index["e2"]] * relations[task.data.relations.index("next")]) @ entities.T
    assert [row["entity"] for row in top] == [task.data.entities[i] for i in np.argsort(-scores)[:3]]
    np.testing.assert_allclose([row["score"] for row in top], np.sort(scores)[::-1][:3], rtol=1e-4)
