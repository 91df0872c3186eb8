"""Every registered model goes through save and load_model and predicts the same."""
import json

import dgl
import pytest
import torch

import sagemaker_dgl
from sagemaker_dgl import artifacts
from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import GraphData, GraphFamilyData, GraphSetData, HeteroGraphData, MoleculeSetData, RatingData, TripleData
from sagemaker_dgl.errors import SageMakerDGLError
from sagemaker_dgl.models import MODELS, create_model
from sagemaker_dgl.tasks import TASKS
from sagemaker_dgl.tasks.link_prediction import score_queries, whole_graph_scorer


def node_classification_example():
    torch.manual_seed(0)
    graph = dgl.rand_graph(60, 240)
    graph.ndata["feat"] = torch.rand(60, 10)
    graph.ndata["label"] = torch.randint(0, 3, (60,))
    return GraphData(graph, "random")


def node_classification_predictions(task, model, predictor):
    """What the task's own forward pass gives, and what the loaded predictor gives."""
    with torch.no_grad():
        expected = torch.softmax(model(task.graph, task.features), 1)
    return expected, predictor.predict_proba()


def entity_classification_example():
    torch.manual_seed(0)
    triples = torch.stack([torch.randint(0, 30, (120,)), torch.randint(0, 3, (120,)), torch.randint(0, 30, (120,))], 1)
    classes = torch.randint(0, 2, (30,))
    labels = {"train": (torch.arange(20), classes[:20]), "test": (torch.arange(20, 30), classes[20:])}
    return HeteroGraphData(triples, [f"http://example.org/e{i}" for i in range(30)],
                           [f"http://example.org/r{i}" for i in range(3)], labels, ["no", "yes"], "random")


def entity_classification_predictions(task, model, predictor):
    with torch.no_grad():
        expected = torch.softmax(model(task.graph, task.node_ids), 1)
    return expected, predictor.predict_proba()


def link_prediction_example():
    torch.manual_seed(0)
    splits = {split: torch.stack([torch.randint(0, 20, (n,)), torch.randint(0, 3, (n,)), torch.randint(0, 20, (n,))], 1)
              for split, n in (("train", 80), ("valid", 10), ("test", 10))}
    return TripleData(splits, [f"/m/{i}" for i in range(20)], ["likes", "knows", "/people/person/nationality"], "random")


def link_prediction_predictions(task, model, predictor):
    """Tail scores of (entity 3, relation 2, ?) from the model, and from the predictor's top 20."""
    scorer = whole_graph_scorer(model, task.triples["train"], 20, torch.device("cpu"))
    with torch.no_grad():
        expected = score_queries(scorer, torch.tensor([3]), torch.tensor([2]), 3, task.reciprocal)[0]
    answers = predictor.predict_tails("/m/3", "/people/person/nationality", k=20, filter_known=False)
    loaded = torch.zeros(20)
    loaded[[int(row["entity"][3:]) for row in answers]] = torch.tensor([row["score"] for row in answers])
    return expected, loaded


def rating_prediction_example():
    torch.manual_seed(0)
    pairs = torch.unique(torch.stack([torch.randint(0, 12, (60,)), torch.randint(0, 9, (60,))], 1), dim=0)
    ratings = torch.randint(1, 6, (len(pairs),)).float()
    return RatingData(pairs, ratings, [f"u{i}" for i in range(12)], [f"i{i}" for i in range(9)],
                      [1.0, 2.0, 3.0, 4.0, 5.0], "random", item_names={"i0": "Film"})


def rating_prediction_predictions(task, model, predictor):
    """Every (user, item)'s expected rating from the model on the test-time graph, and from the predictor."""
    from sagemaker_dgl.models.gcmc import pair_graph

    users, items = torch.arange(12).repeat_interleave(9), torch.arange(9).repeat(12)
    with torch.no_grad():
        expected = model.expected_rating(model(task.graphs["test"], pair_graph(users, items, 12, 9)))
    loaded = predictor.predict([(f"u{u}", f"i{i}") for u, i in zip(users.tolist(), items.tolist())])
    return expected, torch.tensor(loaded)


def graph_prediction_example():
    torch.manual_seed(0)
    graphs = [dgl.rand_graph(n, 2 * n) for n in torch.randint(3, 9, (30,)).tolist()]
    for graph in graphs:
        graph.ndata["feat"] = torch.rand(graph.num_nodes(), 5)
    labels = torch.randint(0, 3, (30, 1)).float()
    return GraphSetData(graphs, labels, "multiclass", ["class"], "random", classes=["a", "b", "c"])


def graph_prediction_predictions(task, model, predictor):
    """Class probabilities of the test graphs from the model and from the predictor (given the raw graphs)."""
    ids = task.ids["test"]
    graph, features, _ = task._batch(ids)
    with torch.no_grad():
        expected = torch.softmax(model(graph, features), 1)
    return expected, predictor.predict_proba([task.data.graphs[i] for i in ids.tolist()])


def graph_generation_predictions(task, model, predictor):
    """The edges of seeded samples from the model and from the predictor (one row per sample)."""
    from sagemaker_dgl.tasks.graph_generation import draw_samples

    def edges(samples):  # per sample: nodes, edges, and a checksum of the edge list (-1: did not stop)
        return torch.tensor([[s.number_of_nodes(), s.number_of_edges(), sum(31 * u + v for u, v in s.edges())]
                             if s is not None else [-1, -1, -1] for s in samples])

    return edges(draw_samples(model, 4, task.hp.task.max_steps, seed=5)), edges(predictor.sample(4, seed=5))


MOLECULES = ["CCOc1ccccc1", "CC(=O)Nc1ccncc1", "C1CCNCC1", "O=C(O)c1ccccc1O", "CCN(CC)CC", "Cc1ccc(Cl)cc1"]


def jtnn_example():
    return MoleculeSetData({"train": list(MOLECULES)}, "molecules")


def jtnn_predictions(task, model, predictor):
    """The latent means of the training molecules from the model and from the predictor."""
    from sagemaker_dgl.data.junction_trees import featurise_molecules

    trees = featurise_molecules(MOLECULES, task.vocabulary, False, "test", workers=1)
    with torch.no_grad():
        expected = model.latent_means(trees.load(0))
    return expected, torch.from_numpy(predictor.encode(MOLECULES))


#: A small dataset and a comparison per task (and per model where its data differs): a new task
#: adds its entry here.
EXAMPLES = {"node_classification": (node_classification_example, node_classification_predictions),
            "entity_classification": (entity_classification_example, entity_classification_predictions),
            "link_prediction": (link_prediction_example, link_prediction_predictions),
            "rating_prediction": (rating_prediction_example, rating_prediction_predictions),
            "graph_prediction": (graph_prediction_example, graph_prediction_predictions),
            "graph_generation": (GraphFamilyData, graph_generation_predictions),
            ("graph_generation", "jtnn"): (jtnn_example, jtnn_predictions)}


def test_every_task_has_an_example():
    assert {key for key in EXAMPLES if isinstance(key, str)} == set(TASKS.names())


@pytest.mark.parametrize("spec", MODELS.specs(), ids=lambda spec: f"{spec.name}-{spec.task}")
def test_save_then_load_predicts_the_same(spec, tmp_path):
    make_data, predictions = EXAMPLES.get((spec.task, spec.name), EXAMPLES[spec.task])
    hp = Hyperparameters.from_sagemaker({"model": spec.name, "task": spec.task})
    task = TASKS.get(spec.task)(hp, make_data(), {}, torch.device("cpu"))
    model_args = {**task.model_sizes(), **hp.model.model_dump()}
    model = create_model(spec.name, spec.task, **model_args).eval()
    config = {"task": spec.task, "model": spec.name, "model_args": model_args, "data": task.data_facts()}
    artifacts.save(tmp_path, model, config, lambda directory: task.save_assets(model, directory))
    assert json.loads((tmp_path / artifacts.CONFIG).read_text())["format_version"] == artifacts.FORMAT_VERSION
    assert not list(tmp_path.glob(".staging-*"))
    predictor = sagemaker_dgl.load_model(tmp_path)
    expected, loaded = predictions(task, model, predictor)
    torch.testing.assert_close(loaded, expected)


def test_failed_save_leaves_the_model_folder_empty(tmp_path):
    def broken_assets(directory):
        (directory / "half-written.bin").write_bytes(b"x")
        raise OSError("No space left on device")

    with pytest.raises(OSError):
        artifacts.save(tmp_path, torch.nn.Linear(2, 2), {}, broken_assets)
    assert list(tmp_path.iterdir()) == []


def test_not_a_model_folder(tmp_path):
    with pytest.raises(SageMakerDGLError, match="is not a sagemaker_dgl model folder"):
        sagemaker_dgl.load_model(tmp_path)


@pytest.mark.parametrize("save_graph, limit, saved", [(None, 1 << 30, True), (None, 1000, False), ("true", 1000, True),
                                                      ("false", 1 << 30, False)])
def test_the_training_graph_is_saved_when_small_or_asked_for(tmp_path, monkeypatch, save_graph, limit, saved):
    import sagemaker_dgl.tasks.node_classification as node_classification

    monkeypatch.setattr(node_classification, "SAVE_GRAPH_BYTES", limit)
    hp = Hyperparameters.from_sagemaker({} if save_graph is None else {"save_graph": save_graph})
    task = TASKS.get("node_classification")(hp, node_classification_example(), {}, torch.device("cpu"))
    assets = task.save_assets(None, tmp_path)
    assert (assets == {"graph": "graph.bin"}) == saved and (tmp_path / "graph.bin").exists() == saved
