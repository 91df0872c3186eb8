"""Every registered model gets shape, backward, NaN and sampled-block checks for free."""
import dgl
import pytest
import torch

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.errors import IncompatibleTaskError
from sagemaker_dgl.models import MODELS, create_model

NODE_MODELS = MODELS.for_task("node_classification")


def build(name, in_feats=12, num_classes=3, **overrides):
    hp = Hyperparameters.from_sagemaker({"model": name, **overrides})
    return create_model(name, hp.common.task, in_feats=in_feats, num_classes=num_classes, **hp.model.model_dump())


@pytest.fixture
def graph():
    torch.manual_seed(0)
    return dgl.add_self_loop(dgl.rand_graph(40, 160))


@pytest.mark.parametrize("name", NODE_MODELS)
def test_forward_backward_finite(name, graph):
    model = build(name)
    features = torch.rand(40, 12)
    logits = model(graph, features)
    assert logits.shape == (40, 3) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters() if p.requires_grad)
    assert model.embed(graph, features).shape[0] == 40


@pytest.mark.parametrize("name", NODE_MODELS)
def test_sampled_blocks_match_output_nodes(name, graph):
    model = build(name)
    sampler = dgl.dataloading.NeighborSampler([4, 4])
    seeds = torch.arange(5)
    input_nodes, output_nodes, blocks = sampler.sample(graph, seeds)
    logits = model(blocks, torch.rand(len(input_nodes), 12))
    assert logits.shape == (len(output_nodes), 3)


@pytest.mark.parametrize("name", [n for n in NODE_MODELS
                                  if MODELS.spec(n, "node_classification").model_class.accepts_sparse_features])
def test_sparse_features_give_the_dense_result(name, graph):
    model = build(name).eval()
    features = torch.rand(40, 12) * (torch.rand(40, 12) < 0.1)
    dense = model(graph, features)
    sparse = model(graph, features.to_sparse().coalesce())
    torch.testing.assert_close(dense, sparse)


def test_gcn_layer0_equals_graphconv_with_weight(graph):
    """The split projection (InputProjection + weightless GraphConv) is DGL's GraphConv."""
    model = build("gcn", num_layers="1").eval()
    conv = dgl.nn.GraphConv(12, 3, allow_zero_in_degree=True)
    conv.weight.data.copy_(model.input_projection.weight.data)
    conv.bias.data.copy_(model.layers[0].bias.data)
    features = torch.rand(40, 12)
    torch.testing.assert_close(model(graph, features), conv(graph, features))


@pytest.mark.parametrize("name", NODE_MODELS)
def test_split_inference_matches_inference_over_all_nodes(name):
    """Mini-batch evaluation equals the model on the whole graph, though it computes each layer
    in batches and only for the split's receptive field."""
    from sagemaker_dgl.data import GraphData
    from sagemaker_dgl.tasks import TASKS

    torch.manual_seed(0)
    graph = dgl.rand_graph(300, 900)
    graph.ndata["feat"] = torch.rand(300, 12)
    graph.ndata["label"] = torch.randint(0, 3, (300,))
    hp = Hyperparameters.from_sagemaker({"model": name, "fanouts": "3,3,3", "num_layers": "3", "batch_size": "16"})
    task = TASKS.get("node_classification")(hp, GraphData(graph, "random"), {}, torch.device("cpu"))
    model = create_model(name, "node_classification", **task.model_sizes(), **hp.model.model_dump()).eval()
    fields = task._receptive_field("val", 3)
    assert len(fields[0]) > len(fields[1]) > len(fields[2]) == len(task.index["val"])
    with torch.no_grad():
        whole_graph = model(task.graph, task.features)[task.index["val"]]
        everywhere = task._inference(model)[task.index["val"]]
        only_needed = task._inference(model, "val")
    torch.testing.assert_close(everywhere, whole_graph)
    torch.testing.assert_close(only_needed, whole_graph)


@pytest.mark.parametrize("name", NODE_MODELS)
def test_an_argument_the_model_does_not_take_is_an_error(name):
    hp = Hyperparameters.from_sagemaker({"model": name})
    with pytest.raises(IncompatibleTaskError, match=rf"model '{name}' for task 'node_classification' cannot be "
                                                    r"built.*num_rels"):
        create_model(name, "node_classification", in_feats=4, num_classes=2, num_rels=3, **hp.model.model_dump())
    with pytest.raises(IncompatibleTaskError, match="missing a required argument: 'num_classes'"):
        create_model(name, "node_classification", in_feats=4, **hp.model.model_dump())


@pytest.mark.parametrize("spec", MODELS.specs(), ids=lambda spec: f"{spec.name}-{spec.task}")
def test_hyperparameter_group_is_the_constructor(spec):
    """Every field of a model's group reaches its constructor, and the constructor takes nothing
    else but sizes the task gives: a hyperparameter cannot be silently dropped."""
    import inspect

    from sagemaker_dgl.tasks import TASKS

    parameters = set(inspect.signature(spec.model_class).parameters)
    assert set(spec.hyperparameters.model_fields) <= parameters
    assert parameters - set(spec.hyperparameters.model_fields) <= set(TASKS.get(spec.task).size_names)
