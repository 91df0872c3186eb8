"""R-GCN: both input layers and decompositions train; sampled blocks with every neighbour kept
give the whole graph's outputs."""
import dgl
import pytest
import torch

from sagemaker_dgl.models import create_model
from sagemaker_dgl.models.rgcn import RGCNEncoder, relation_norm
from sagemaker_dgl.sampling import ReproducibleNeighborSampler

NUM_NODES, NUM_RELATIONS = 40, 6


def typed_graph(seed: int = 0) -> dgl.DGLGraph:
    torch.manual_seed(seed)
    graph = dgl.rand_graph(NUM_NODES, 200)
    graph.edata["etype"] = torch.randint(0, NUM_RELATIONS, (200,))
    return graph


CONFIGS = [dict(input_layer=i, decomposition=r, num_bases=b) for i in ("relational", "embedding")
           for r, b in (("basis", -1), ("basis", 3), ("bdd", 4))]


def model(**overrides):
    arguments = dict(num_nodes=NUM_NODES, num_relations=NUM_RELATIONS, num_classes=3, hidden_size=8, num_layers=2,
                     num_bases=-1, decomposition="basis", input_layer="relational", dropout=0.0, self_loop=True)
    return create_model("rgcn", "entity_classification", **{**arguments, **overrides})


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['input_layer']}-{c['decomposition']}{c['num_bases']}")
def test_forward_backward_finite(config):
    graph = typed_graph()
    net = model(**config, dropout=0.2)
    logits = net(graph, torch.arange(NUM_NODES))
    assert logits.shape == (NUM_NODES, 3) and torch.isfinite(logits).all()
    torch.nn.functional.cross_entropy(logits, torch.randint(0, 3, (NUM_NODES,))).backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert net.embed(graph, torch.arange(NUM_NODES)).shape == (NUM_NODES, 8)


@pytest.mark.parametrize("config", CONFIGS[:2] + CONFIGS[3:5], ids=lambda c: f"{c['input_layer']}-{c['num_bases']}")
def test_blocks_with_every_neighbour_equal_the_whole_graph(config):
    graph = typed_graph(1)
    net = model(**config).eval()
    seeds = torch.tensor([0, 5, 17, 33])
    sampler = ReproducibleNeighborSampler([-1, -1])
    input_nodes, output_nodes, blocks = sampler.sample(graph, seeds)
    for block in blocks:
        block.edata["etype"] = graph.edata["etype"][block.edata[dgl.EID]]
    with torch.no_grad():
        whole = net(graph, torch.arange(NUM_NODES))[output_nodes]
        sampled = net(blocks, input_nodes)
    torch.testing.assert_close(sampled, whole)


def test_norm_is_one_over_the_edges_of_a_type_into_a_node():
    graph = dgl.graph(([0, 1, 2, 0], [3, 3, 3, 1]))
    graph.edata["etype"] = torch.tensor([0, 0, 1, 0])
    assert relation_norm(graph, 2).flatten().tolist() == [0.5, 0.5, 1.0, 1.0]


def test_encoder_for_link_prediction_gives_hidden_representations():
    encoder = RGCNEncoder(NUM_NODES, NUM_RELATIONS, hidden_size=8, num_layers=2, num_bases=2, decomposition="bdd",
                          dropout=0.1, self_loop=True)
    assert encoder(typed_graph(), torch.arange(NUM_NODES)).shape == (NUM_NODES, 8)
