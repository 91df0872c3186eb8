"""Graph generation: the cycle family, DGMG's decision sequences, sampling that leaves training's
random state alone, the metrics on known samples, and learning on a tiny budget."""
import networkx as nx
import numpy as np
import pytest
import torch

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import GraphFamilyData
from sagemaker_dgl.data.graph_families import draw_cycle, is_cycle
from sagemaker_dgl.models import create_model
from sagemaker_dgl.models.dgmg import decisions
from sagemaker_dgl.tasks.graph_generation import GraphGeneration, draw_samples



def cycle(n):
    return nx.MultiGraph(nx.cycle_graph(n))


def test_cycle_family_validity():
    rng = np.random.default_rng(0)
    sizes = {draw_cycle(rng).number_of_nodes() for _ in range(300)}
    assert sizes == set(range(10, 21))
    assert is_cycle(cycle(10)) and is_cycle(cycle(20))
    assert not is_cycle(cycle(9)) and not is_cycle(cycle(21))
    assert not is_cycle(nx.MultiGraph(nx.path_graph(12)))
    assert not is_cycle(nx.MultiGraph(nx.disjoint_union(nx.cycle_graph(6), nx.cycle_graph(6))))
    repeated = nx.MultiGraph(nx.path_graph(12))
    repeated.add_edge(0, 11)
    repeated.add_edge(5, 6)  # degree 3 at 5 and 6
    assert not is_cycle(repeated)
    doubled = nx.MultiGraph([(0, 1), (0, 1)] + [(i, i + 1) for i in range(1, 11)] + [(11, 0)])
    assert not is_cycle(doubled)


def test_decisions_build_a_cycle_as_dgl_example():
    # DGL's cycles.py: add node; each later node links to the previous one; the last also to the first
    assert decisions(cycle(3)) == [(0, 0), (1, 1), (0, 0), (1, 0), (2, 0), (1, 1),
                                   (0, 0), (1, 0), (2, 1), (1, 0), (2, 0), (1, 1), (0, 1)]


def test_teacher_forcing_rebuilds_the_graph_and_sampling_returns_multigraphs():
    torch.manual_seed(0)
    model = create_model("dgmg", "graph_generation", num_node_types=1, num_edge_types=1, hidden_size=8,
                         num_prop_rounds=1, dropout=0.0)
    log_prob = model(decisions(cycle(12)))
    assert log_prob.shape == () and log_prob.item() < 0
    built = model.dgmg.env.dgl_graph
    assert built.num_nodes() == 12 and built.num_edges() == 24
    model.eval()
    samples = draw_samples(model, 5, max_steps=60, seed=3)
    assert all(s is None or isinstance(s, nx.MultiGraph) for s in samples)
    again = draw_samples(model, 5, max_steps=60, seed=3)
    assert [None if s is None else sorted(s.edges()) for s in samples] == \
        [None if s is None else sorted(s.edges()) for s in again]


def test_edge_list_propagation_equals_dgllifes_graph_prop():
    """The same log-likelihood and gradients as DGL-LifeSci's own GraphProp.forward (its UDF reduce)."""
    results = []
    for patched in (True, False):
        torch.manual_seed(0)
        model = create_model("dgmg", "graph_generation", num_node_types=1, num_edge_types=1, hidden_size=8,
                             num_prop_rounds=2, dropout=0.0)
        if not patched:
            del model.dgmg.graph_prop.forward  # back to the library's method
        log_prob = model(decisions(cycle(11)))
        log_prob.backward()
        results.append((log_prob.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    (ours, our_grads), (theirs, their_grads) = results
    torch.testing.assert_close(ours, theirs)
    assert len(our_grads) == len(their_grads) > 0
    for mine, reference in zip(our_grads, their_grads):
        torch.testing.assert_close(mine, reference)


def test_sampling_leaves_the_random_state_alone():
    model = create_model("dgmg", "graph_generation", num_node_types=1, num_edge_types=1, hidden_size=8,
                         num_prop_rounds=1, dropout=0.0).eval()
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    draw_samples(model, 3, max_steps=40, seed=11)
    assert torch.equal(torch.rand(3), expected)


class FixedSamples(torch.nn.Module):
    """Returns the given samples in turn (None: a sample that did not stop)."""

    def __init__(self, samples):
        super().__init__()
        self.samples = list(samples)

    def sample(self, max_steps):
        return self.samples.pop(0)


def task(**values):
    hp = Hyperparameters.from_sagemaker({"model": "dgmg", "graphs_per_epoch": "50", **values})
    return GraphGeneration(hp, GraphFamilyData(), {}, torch.device("cpu"))


def test_metrics_of_known_samples():
    generation = task(val_samples="5")
    samples = [cycle(10), cycle(10), cycle(15), nx.MultiGraph(nx.path_graph(12)), None]
    metrics = generation.evaluate(FixedSamples(samples), "val")
    assert metrics["val_validity"] == pytest.approx(3 / 5)
    assert metrics["val_uniqueness"] == pytest.approx(2 / 3)  # two distinct cycles among three valid
    assert metrics["val_novelty"] == 0.0  # every cycle size is among the training graphs
    assert metrics["val_mean_nodes"] == pytest.approx((10 + 10 + 15 + 12) / 4)  # of the samples that stopped


def test_training_graphs_depend_on_the_seed_and_epoch_only():
    first, again = task(), task()
    edges = lambda batches: [sorted(g.edges()) for batch in batches for g in batch]  # noqa: E731
    assert edges(first.train_batches(3)) == edges(again.train_batches(3))
    assert edges(first.train_batches(3)) != edges(first.train_batches(4))
    assert sum(len(batch) for batch in first.train_batches(1)) == 50


def test_dgmg_learns_cycle_sizes_quickly():
    """A few hundred graphs teach the model to stop near the training sizes."""
    torch.manual_seed(0)
    generation = task(batch_size="10", val_samples="40")
    model = create_model("dgmg", "graph_generation", num_node_types=1, num_edge_types=1, hidden_size=16,
                         num_prop_rounds=2, dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for epoch in range(1, 7):
        for batch in generation.train_batches(epoch):
            step = generation.training_step(model, batch)
            optimizer.zero_grad()
            step.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()
            losses.append(step.loss.item())
    model.eval()
    metrics = generation.evaluate(model, "val")
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert 8 <= metrics["val_mean_nodes"] <= 25, metrics
