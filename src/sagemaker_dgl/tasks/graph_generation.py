"""Graph generation: learn a distribution over graphs and sample new ones (DGMG).

Training graphs come from a synthetic family (``graph_family``; see
:mod:`~sagemaker_dgl.data.graph_families`), drawn anew every epoch from a generator seeded by the
job's seed and the epoch, so a resumed job trains on the graphs an uninterrupted one would. The
loss is the negative log-likelihood of the decisions that build each graph, averaged over the
``batch_size`` graphs of an optimiser step (DGL's example: 10).

Evaluation samples graphs, ``val_samples`` to validate and ``test_samples`` for the test metrics
and ``samples.txt``, each under its own seed (``torch.random.fork_rng``): sampling leaves
training's random state alone (a resumed job stays exact) and every validation draws with the
same seed. Metrics:

- ``validity``: the share of samples that belong to the family (a sample still going after
  ``max_steps`` decisions is invalid);
- ``uniqueness``: distinct valid samples (up to isomorphism, by Weisfeiler-Lehman hash) per valid sample;
- ``novelty``: the share of distinct valid samples isomorphic to none of the first training
  epoch's graphs (cycles: every size from 10 to 20 is among those, so novelty is 0; the family
  has no new graph to find);
- ``mean_nodes``: the mean size of the samples that stopped.

Validity swings between epochs (measured: 95%, 46%, 95% at successive checkpoints), so the
objective is ``val_validity`` (maximised) and the job keeps the best-validated epoch.
"""
import warnings
from pathlib import Path
from typing import List, Optional

import networkx as nx
import numpy as np
import torch

from ..config.groups import HyperparameterGroup, hyperparameter
from ..data import GraphFamilyData
from ..data.graph_families import GRAPH_FAMILIES
from ..models.dgmg import decisions
from ..plots import plot_graphs
from ._base import Objective, Predictor, Step, Task, register_task

SAMPLES_FILE, SAMPLES_PLOT = "samples.txt", "samples.png"
METRICS = ("validity", "uniqueness", "novelty", "mean_nodes")


class GraphGenerationHyperparameters(HyperparameterGroup):
    """Training graphs, steps and the sampled evaluation."""

    graph_family: str = hyperparameter("cycles", "Synthetic family the training graphs are drawn from: cycles.")
    graphs_per_epoch: int = hyperparameter(500, "Training graphs per epoch, drawn anew each epoch.", gt=0)
    batch_size: int = hyperparameter(10, "Graphs per optimiser step (their losses averaged).", gt=0)
    val_samples: int = hyperparameter(300, "Graphs sampled at each validation; their validity is the objective.",
                                      gt=0)
    test_samples: int = hyperparameter(1000, "Graphs sampled for the test metrics and samples.txt.", gt=0)
    max_steps: int = hyperparameter(400, "Decisions after which a sample is stopped (and invalid).", gt=0)


class GraphGenerationPredictor(Predictor):
    """Samples new graphs from the trained model::

        predictor = sagemaker_dgl.load_model("model")
        graphs = predictor.sample(10, seed=0)   # networkx MultiGraphs; None: did not stop in max_steps
        predictor.is_valid(graphs[0])           # whether it belongs to the training family
    """

    def sample(self, count: int, seed: Optional[int] = None) -> List[Optional[nx.MultiGraph]]:
        """``count`` graphs, reproducibly when ``seed`` is given; the global random state is left alone."""
        return draw_samples(self.model, count, self.config["data"]["max_steps"], seed)

    def is_valid(self, graph: Optional[nx.MultiGraph]) -> bool:
        return graph is not None and GRAPH_FAMILIES.get(self.config["data"]["graph_family"]).is_valid(graph)


@register_task("graph_generation")
class GraphGeneration(Task):
    """Learn to generate graphs like the training graphs."""

    hyperparameters = GraphGenerationHyperparameters
    size_names = ("num_node_types", "num_edge_types")
    objective = Objective("val_validity", "max")
    logged_metrics = ("train_loss",) + tuple(f"{split}_{metric}" for split in ("val", "test") for metric in METRICS)
    data_type = GraphFamilyData
    default_dataset = "synthetic_graphs"
    predictor = GraphGenerationPredictor

    def __init__(self, hp, data: GraphFamilyData, channels, device):
        super().__init__(hp, data, channels, device)
        self.family = GRAPH_FAMILIES.get(hp.task.graph_family)
        first_epoch = [self.family.draw(rng) for rng in [self._rng(1)] for _ in range(hp.task.graphs_per_epoch)]
        self.training_hashes = {graph_hash(graph) for graph in first_epoch}
        self.test_drawn: List[Optional[nx.MultiGraph]] = []

    @classmethod
    def check_hyperparameters(cls, hp) -> None:
        GRAPH_FAMILIES.check(hp.task.graph_family)

    def _rng(self, epoch: int) -> np.random.Generator:
        return np.random.default_rng([self.hp.common.seed, epoch])

    def model_sizes(self):
        return {"num_node_types": 1, "num_edge_types": 1}

    def data_facts(self):
        return {"dataset": self.data.name, "graph_family": self.family.name, "family": self.family.description,
                "max_steps": self.hp.task.max_steps}

    # --- Training ---
    def train_batches(self, epoch):
        rng, task = self._rng(epoch), self.hp.task
        for start in range(0, task.graphs_per_epoch, task.batch_size):
            yield [self.family.draw(rng) for _ in range(min(task.batch_size, task.graphs_per_epoch - start))]

    def training_step(self, model, batch):
        loss = -torch.stack([model(decisions(graph)) for graph in batch]).mean()
        return Step(loss, {"train_loss": loss.item()}, len(batch))

    # --- Evaluation ---
    def evaluate(self, model, split):
        task = self.hp.task
        count = task.val_samples if split == "val" else task.test_samples
        drawn = draw_samples(model, count, task.max_steps, seed=self.hp.common.seed * 1_000_003 + (split == "test"))
        if split == "test":
            self.test_drawn = drawn
        valid = [graph for graph in drawn if graph is not None and self.family.is_valid(graph)]
        hashes = {graph_hash(graph) for graph in valid}
        stopped = [graph.number_of_nodes() for graph in drawn if graph is not None]
        return {f"{split}_validity": len(valid) / count,
                f"{split}_uniqueness": len(hashes) / len(valid) if valid else 0.0,
                f"{split}_novelty": len(hashes - self.training_hashes) / len(hashes) if hashes else 0.0,
                f"{split}_mean_nodes": float(np.mean(stopped)) if stopped else float("nan")}

    def write_outputs(self, model, directory: Path):
        """``samples.txt``: the test samples, one per line (valid 0/1, nodes, edges ``u-v``; a
        sample that did not stop has no graph); ``samples.png``: the first eight drawn."""
        lines = ["valid\tnum_nodes\tedges"]
        for graph in self.test_drawn:
            if graph is None:
                lines.append("0\t\t")
                continue
            edges = " ".join(f"{u}-{v}" for u, v in sorted((min(e), max(e)) for e in graph.edges()))
            lines.append(f"{int(self.family.is_valid(graph))}\t{graph.number_of_nodes()}\t{edges}")
        (directory / SAMPLES_FILE).write_text("\n".join(lines) + "\n")
        shown = [graph for graph in self.test_drawn if graph is not None][:8]
        plot_graphs(shown, [f"{g.number_of_nodes()} nodes, {'valid' if self.family.is_valid(g) else 'invalid'}"
                            for g in shown], directory / SAMPLES_PLOT)
        return {"samples": SAMPLES_FILE, "samples_plot": SAMPLES_PLOT}


def draw_samples(model, count: int, max_steps: int, seed: Optional[int]) -> List[Optional[nx.MultiGraph]]:
    """``count`` samples of ``model`` in eval mode, under ``seed`` (None: fresh) without touching
    the caller's random state."""
    with torch.random.fork_rng(), torch.no_grad():
        if seed is not None:
            torch.manual_seed(seed)
        else:
            torch.seed()
        return [model.sample(max_steps) for _ in range(count)]


def graph_hash(graph: nx.MultiGraph) -> str:
    """Weisfeiler-Lehman hash: equal for isomorphic graphs (and rarely for others)."""
    with warnings.catch_warnings():  # networkx 3.5 changed the hashes of unlabelled graphs, and says so each call
        warnings.filterwarnings("ignore", message="The hashes produced for graphs without", category=UserWarning)
        return nx.weisfeiler_lehman_graph_hash(nx.Graph(graph))
