"""Graph generation: learn a distribution over graphs and sample new ones (DGMG, JTNN).

DGMG's training graphs come from one of two sources:

- a synthetic family (no channel; ``graph_family``, see :mod:`~sagemaker_dgl.data.graph_families`):
  ``graphs_per_epoch`` graphs drawn anew every epoch from a generator seeded by the job's seed
  and the epoch;
- molecules (channel 'train' with one SMILES per line, see
  :mod:`~sagemaker_dgl.data.molecule_sets`): the training molecules as graphs (atom types with
  their charge, kekulised bonds), ``graphs_per_epoch`` of them per epoch in the order of a
  shuffle seeded by the job's seed and the pass over the set.

Either way a resumed job trains on the graphs an uninterrupted one would. The loss is the
negative log-likelihood of the decisions that build each graph, averaged over the
``batch_size`` graphs of an optimiser step (DGL's example: 10).

JTNN trains on molecules only: the training molecules are featurised once into junction trees
(:mod:`~sagemaker_dgl.data.junction_trees`: shards on disk, cached between jobs) over a cluster
vocabulary, the channel's ``vocab.txt`` (one cluster SMILES per line, JTNN's file) or, without
one, the clusters of the training molecules. A training molecule with a cluster outside the
vocabulary is left out and counted; more than ``max_uncovered`` of them is an error. An epoch is
one pass over the training molecules, shard by shard in an order seeded by the job's seed and
the epoch, ``batch_size`` molecules per step (DGL-LifeSci: 40). JTNN also reports
``reconstruction``: the share of the first ``reconstruction_samples`` molecules of ``valid.txt``
(validation) and ``test.txt`` (test) that decode back to themselves (canonical SMILES with
stereo; a molecule the vocabulary does not cover counts as not reconstructed), DGL-LifeSci's
evaluation (one draw of :math:`z` per molecule, greedy decoding). With a ``valid.txt`` the
objective is ``val_reconstruction``: every prior sample of JTNN is a valid molecule by
construction, so validity cannot select.

Evaluation samples graphs, ``val_samples`` to validate and ``test_samples`` for the test metrics
and ``samples.txt``, each under its own seed (``torch.random.fork_rng``): sampling leaves
training's random state alone (a resumed job stays exact) and every validation draws with the
same seed. Metrics:

- ``validity``: the share of samples that are valid: in the family, or one connected molecule
  RDKit sanitises (a sample still going after ``max_steps`` decisions is invalid);
- ``uniqueness``: distinct valid samples per valid sample (graphs up to isomorphism, by
  Weisfeiler-Lehman hash; molecules by canonical SMILES);
- ``novelty``: the share of distinct valid samples found in no training graph (a synthetic
  family: the first epoch's graphs; cycles: every size from 10 to 20 is among those, so novelty
  is 0, the family has no new graph to find);
- ``mean_nodes``: the mean size of the samples that stopped.

Validity swings between epochs (measured: 95%, 46%, 95% at successive checkpoints), so DGMG's
objective is ``val_validity`` (maximised) and the job keeps the best-validated epoch.
"""
import logging
import time
import warnings
from pathlib import Path
from typing import List, Optional, Sequence

import networkx as nx
import numpy as np
import torch

from ..config.groups import HyperparameterGroup, hyperparameter
from ..data import GenerationData, MoleculeSetData
from ..data.graph_families import GRAPH_FAMILIES
from ..data.molecule_sets import BOND_TYPES, graph_molecule, prepare_molecules
from ..errors import ConfigError, DataFormatError
from ..models import MODELS
from ..plots import plot_graphs, plot_molecules
from ._base import Objective, Predictor, Step, Task, register_task

logger = logging.getLogger(__name__)

SAMPLES_FILE, SAMPLES_PLOT = "samples.txt", "samples.png"
METRICS = ("validity", "uniqueness", "novelty", "mean_nodes")
JTNN_TRAINING_METRICS = ("train_kl", "train_word_acc", "train_topo_acc", "train_assm_acc", "train_stereo_acc")
VOCABULARY_FILE = "vocab.txt"


class FamilyGraphs:
    """Graphs of a synthetic family: one node and one edge type; a sample's identity is its
    Weisfeiler-Lehman hash when it belongs to the family."""

    node_types = edge_types = ("node",)

    def __init__(self, family_name: str):
        self.family = GRAPH_FAMILIES.get(family_name)

    def identity(self, graph: Optional[nx.MultiGraph]) -> Optional[str]:
        return graph_hash(graph) if graph is not None and self.family.is_valid(graph) else None

    def output(self, graph: Optional[nx.MultiGraph]):
        """What the predictor returns for a sample: the graph."""
        return graph

    def size(self, graph: nx.MultiGraph) -> int:
        return graph.number_of_nodes()

    def sample_line(self, graph: nx.MultiGraph, identity: Optional[str]) -> str:
        edges = " ".join(f"{u}-{v}" for u, v in sorted((min(e), max(e)) for e in graph.edges()))
        return f"{int(identity is not None)}\t{graph.number_of_nodes()}\t{edges}"

    def plot(self, graphs: List[nx.MultiGraph], identities: List[Optional[str]], path: Path) -> None:
        """The first eight graphs, valid or not."""
        plot_graphs(graphs[:8], [f"{g.number_of_nodes()} nodes, {'invalid' if identity is None else 'valid'}"
                                 for g, identity in zip(graphs, identities)], path)


class MoleculeGraphs:
    """Molecules: node types are atom types (``C``, ``N+``), edge types single, double and triple
    bonds; a sample's identity is its canonical SMILES when it is one molecule RDKit sanitises
    (stricter than DGL-LifeSci's evaluation, which also counts disconnected fragments)."""

    edge_types = BOND_TYPES

    def __init__(self, atom_types: Sequence[str]):
        self.node_types = list(atom_types)

    def identity(self, graph: Optional[nx.MultiGraph]) -> Optional[str]:
        return one_molecule_smiles(None if graph is None else graph_molecule(graph, self.node_types))

    def output(self, graph: Optional[nx.MultiGraph]) -> Optional[str]:
        """What the predictor returns for a sample: its SMILES, None when it is not a molecule."""
        return self.identity(graph)

    def size(self, graph: nx.MultiGraph) -> int:
        return graph.number_of_nodes()

    def sample_line(self, graph: nx.MultiGraph, identity: Optional[str]) -> str:
        return f"{int(identity is not None)}\t{graph.number_of_nodes()}\t{identity or ''}"

    def plot(self, graphs: List[nx.MultiGraph], identities: List[Optional[str]], path: Path) -> None:
        """The first eight valid molecules."""
        plot_molecules([smiles for smiles in identities if smiles][:8], path)


class DecodedMolecules:
    """Molecules a model decodes as SMILES (JTNN); a sample's identity is its canonical SMILES
    when it is one molecule RDKit sanitises."""

    def identity(self, smiles: Optional[str]) -> Optional[str]:
        from rdkit import Chem

        return one_molecule_smiles(None if smiles is None else Chem.MolFromSmiles(smiles))

    def output(self, smiles: Optional[str]) -> Optional[str]:
        return self.identity(smiles)

    def size(self, smiles: str) -> int:
        """Heavy atoms."""
        from rdkit import Chem

        mol = Chem.MolFromSmiles(smiles)
        return 0 if mol is None else mol.GetNumAtoms()

    def sample_line(self, smiles: str, identity: Optional[str]) -> str:
        return f"{int(identity is not None)}\t{self.size(smiles)}\t{identity or ''}"

    def plot(self, samples: List[str], identities: List[Optional[str]], path: Path) -> None:
        """The first eight valid molecules."""
        plot_molecules([smiles for smiles in identities if smiles][:8], path)


def one_molecule_smiles(mol) -> Optional[str]:
    """The canonical SMILES of ``mol`` when it is one connected molecule (RDKit sanitised it), else None."""
    from rdkit import Chem

    return None if mol is None or len(Chem.GetMolFrags(mol)) != 1 else Chem.MolToSmiles(mol)


def graph_kind(data_facts) -> object:
    """The kind of graphs a model generates, from its ``model_config.json`` data facts."""
    if data_facts.get("vocabulary_size"):
        return DecodedMolecules()
    if data_facts.get("atom_types"):
        return MoleculeGraphs(data_facts["atom_types"])
    return FamilyGraphs(data_facts["graph_family"])


class GraphGenerationHyperparameters(HyperparameterGroup):
    """Training graphs, steps and the sampled evaluation."""

    graph_family: str = hyperparameter("cycles", "Synthetic family the training graphs are drawn from when the job "
                                       "has no 'train' channel: cycles.")
    graphs_per_epoch: int = hyperparameter(500, "DGMG: training graphs per epoch, drawn anew from the family, or the "
                                           "next ones of the shuffled training molecules (a JTNN epoch is one pass "
                                           "over them).", gt=0)
    batch_size: int = hyperparameter(10, "Graphs per optimiser step (their losses averaged).", gt=0)
    val_samples: int = hyperparameter(300, "Graphs sampled at each validation; their validity is the objective.",
                                      gt=0)
    test_samples: int = hyperparameter(1000, "Graphs sampled for the test metrics and samples.txt.", gt=0)
    max_steps: int = hyperparameter(400, "Decisions (JTNN: cluster attachments) after which a sample is stopped "
                                    "(and invalid).", gt=0)
    reconstruction_samples: int = hyperparameter(500, "JTNN: molecules of valid.txt and of test.txt reconstructed "
                                                 "for val_ and test_reconstruction (the first ones).", gt=0)
    max_uncovered: float = hyperparameter(0.01, "JTNN: largest share of training molecules with a cluster outside "
                                          "the vocabulary (they are left out) before the job fails.", ge=0.0, le=1.0)
    featurise_workers: int = hyperparameter(0, "JTNN: processes featurising molecules (0: one per core).",
                                            resumable=True, ge=0)


class GraphGenerationPredictor(Predictor):
    """Samples new graphs from the trained model::

        predictor = sagemaker_dgl.load_model("model")
        samples = predictor.sample(10, seed=0)
        predictor.is_valid(samples[0])

    A sample is a networkx ``MultiGraph`` for a synthetic family (None: it did not stop within
    ``max_steps`` decisions), and a SMILES string for molecules (None: not a molecule RDKit
    sanitises, or it did not stop). JTNN also encodes molecules into its latent space and
    decodes codes back::

        codes = predictor.encode(["CCOc1ccccc1"])      # (1, latent_size) means of q(z | molecule)
        predictor.decode(codes)                        # ['CCOc1ccccc1'] when it reconstructs
    """

    def sample(self, count: int, seed: Optional[int] = None) -> list:
        """``count`` samples, reproducibly when ``seed`` is given; the global random state is left alone."""
        kind = graph_kind(self.config["data"])
        return [kind.output(graph) for graph in draw_samples(self.model, count, self.config["data"]["max_steps"], seed)]

    def is_valid(self, sample) -> bool:
        kind = graph_kind(self.config["data"])
        return sample is not None and (isinstance(sample, str) or kind.identity(sample) is not None)

    def encode(self, smiles: Sequence[str]) -> np.ndarray:
        """JTNN: the latent means of molecules; a molecule the vocabulary does not cover is an error naming it."""
        from ..data.junction_trees import featurise_molecules

        self._latent_model()
        trees = featurise_molecules(list(smiles), self.model.vae.vocab.vocab, training=False, label="encode", workers=1)
        missing = sorted(set(smiles) - set(trees.all_smiles))
        if missing:
            raise DataFormatError(f"JTNN cannot encode {', '.join(missing)}: a cluster of its tree decomposition is "
                                  "not in the model's vocabulary (or the decomposition fails)")
        items = [item for index in range(len(trees.shards)) for item in trees.load(index)]
        with torch.no_grad():
            return self.model.latent_means(items).cpu().numpy()

    def decode(self, codes) -> List[Optional[str]]:
        """JTNN: the molecules decoded from latent codes (``(N, latent_size)``); None where assembly gives up."""
        self._latent_model()
        with torch.no_grad():
            return [self.model.decode(torch.as_tensor(code, dtype=torch.float32), self.config["data"]["max_steps"])
                    for code in np.atleast_2d(codes)]

    def _latent_model(self) -> None:
        if not hasattr(self.model, "latent_means"):
            raise ConfigError(f"model {self.config['model']!r} has no latent space: encode and decode are JTNN's")


@register_task("graph_generation")
class GraphGeneration(Task):
    """Learn to generate graphs like the training graphs."""

    hyperparameters = GraphGenerationHyperparameters
    size_names = ("num_node_types", "num_edge_types", "vocabulary")
    objective = Objective("val_validity", "max")
    logged_metrics = (("train_loss",) + JTNN_TRAINING_METRICS
                      + tuple(f"{split}_{metric}" for split in ("val", "test") for metric in METRICS + ("reconstruction",)))
    data_type = GenerationData
    default_dataset = "synthetic_graphs"
    predictor = GraphGenerationPredictor

    def __init__(self, hp, data: GenerationData, channels, device):
        super().__init__(hp, data, channels, device)
        self.molecules = self.trees = None
        self.reconstruction_trees = {}
        if MODELS.spec(hp.common.model, "graph_generation").model_class.trains_on == "junction_trees":
            self._featurise_junction_trees()
            self.kind = DecodedMolecules()
            self.training_identities = set(data.smiles["train"])
        elif isinstance(data, MoleculeSetData):
            self.molecules = _prepare(data.smiles["train"])
            self.kind = MoleculeGraphs(self.molecules.atom_types)
            self.training_identities = set(self.molecules.smiles)
        else:
            self.kind = FamilyGraphs(hp.task.graph_family)
            self.training_identities = {graph_hash(graph) for graph in self._epoch_graphs(1)}
        self.test_samples: List[tuple] = []

    @classmethod
    def check_hyperparameters(cls, hp) -> None:
        GRAPH_FAMILIES.check(hp.task.graph_family)

    def _featurise_junction_trees(self) -> None:
        """Vocabulary, training trees and the molecules to reconstruct (JTNN)."""
        from ..data.junction_trees import featurise_molecules
        from ..models.jtnn_fixes import ClusterVocabulary

        if not isinstance(self.data, MoleculeSetData):
            raise ConfigError(f"model {self.hp.common.model} generates molecules: give a 'train' channel with SMILES "
                              "files (format smiles_lines), not a synthetic graph_family")
        task, smiles = self.hp.task, self.data.smiles["train"]
        vocabulary_file = Path(self.channels["train"]) / VOCABULARY_FILE if "train" in self.channels else None
        if vocabulary_file is not None and vocabulary_file.is_file():
            self.vocabulary = ClusterVocabulary.from_file(vocabulary_file).vocab
            logger.info("cluster vocabulary: %d clusters from %s", len(self.vocabulary), vocabulary_file)
        else:
            vocabulary_file = None
            logger.info("no %s in the train channel: building the cluster vocabulary from %d training molecules",
                        VOCABULARY_FILE, len(smiles))
            self.vocabulary = ClusterVocabulary.from_molecules(smiles).vocab
            logger.info("cluster vocabulary: %d clusters", len(self.vocabulary))
        self.trees = featurise_molecules(smiles, self.vocabulary, True, "train", task.featurise_workers)
        left_out = self.trees.uncovered + self.trees.failed
        logger.info("train: %d molecules as junction trees; %d with a cluster outside the vocabulary, %d the "
                    "decomposition rejects (left out)", len(self.trees), self.trees.uncovered, self.trees.failed)
        if not len(self.trees) or self.trees.uncovered > task.max_uncovered * len(smiles):
            source = vocabulary_file or "the vocabulary built from them"
            raise DataFormatError(
                f"{self.trees.uncovered} of {len(smiles)} training molecules ({self.trees.uncovered / len(smiles):.1%}) "
                f"have a cluster outside {source}, more than max_uncovered={task.max_uncovered:g}"
                + (f" ({left_out} left out in all)" if self.trees.failed else "")
                + (f"; remove {VOCABULARY_FILE} from the channel to build the vocabulary from the training molecules, "
                   "or raise max_uncovered" if vocabulary_file else ""))
        for split, name in (("val", "valid"), ("test", "test")):
            if name in self.data.files:
                chosen = self.data.split_smiles(name)[:task.reconstruction_samples]
                self.reconstruction_trees[split] = (featurise_molecules(chosen, self.vocabulary, False, name,
                                                                        task.featurise_workers), len(chosen))
        if "val" in self.reconstruction_trees:
            self.objective = Objective("val_reconstruction", "max", tie_breaker=("val_validity", "max"))
        else:
            logger.info("no valid.txt in the train channel: JTNN selects by val_validity")

    def _epoch_graphs(self, epoch: int) -> List[nx.MultiGraph]:
        count, seed = self.hp.task.graphs_per_epoch, self.hp.common.seed
        if self.molecules is None:
            rng = np.random.default_rng([seed, epoch])
            return [self.kind.family.draw(rng) for _ in range(count)]
        graphs, total = self.molecules.graphs, len(self.molecules.graphs)
        positions = range((epoch - 1) * count, epoch * count)  # in the sequence of shuffled passes over the set
        orders = {n: np.random.default_rng([seed, n]).permutation(total)
                  for n in range(positions[0] // total, positions[-1] // total + 1)}
        return [graphs[orders[p // total][p % total]] for p in positions]

    def model_sizes(self):
        if self.trees is not None:
            return {"vocabulary": list(self.vocabulary)}
        return {"num_node_types": len(self.kind.node_types), "num_edge_types": len(self.kind.edge_types)}

    def data_facts(self):
        facts = {"dataset": self.data.name, "max_steps": self.hp.task.max_steps}
        if self.trees is not None:
            return {**facts, "vocabulary_size": len(self.vocabulary), "train_molecules": len(self.trees),
                    "uncovered_molecules": self.trees.uncovered, "rejected_molecules": self.trees.failed,
                    "reconstructed": {split: count for split, (_, count) in self.reconstruction_trees.items()},
                    "unparsed_smiles": self.data.info.get("unparsed_smiles", {})}
        if self.molecules is None:
            return {**facts, "graph_family": self.kind.family.name, "family": self.kind.family.description}
        return {**facts, "atom_types": self.kind.node_types, "bond_types": list(self.kind.edge_types),
                "train_molecules": len(self.molecules.graphs), "dropped_molecules": self.molecules.dropped,
                "unparsed_smiles": self.data.info.get("unparsed_smiles", {})}

    # --- Training ---
    def train_batches(self, epoch):
        size = self.hp.task.batch_size
        if self.trees is None:
            graphs = self._epoch_graphs(epoch)
            for start in range(0, len(graphs), size):
                yield graphs[start:start + size]
            return
        rng = np.random.default_rng([self.hp.common.seed, epoch])
        for shard in rng.permutation(len(self.trees.shards)):
            items = self.trees.load(shard)
            items = [items[i] for i in rng.permutation(len(items))]
            for start in range(0, len(items), size):
                yield items[start:start + size]

    def training_step(self, model, batch):
        loss, metrics = model.training_loss(batch)
        return Step(loss, metrics, len(batch))

    # --- Evaluation ---
    def evaluate(self, model, split):
        task = self.hp.task
        count = task.val_samples if split == "val" else task.test_samples
        seed = self.hp.common.seed * 1_000_003 + (split == "test")
        drawn = draw_samples(model, count, task.max_steps, seed)
        identities = [None if sample is None else self.kind.identity(sample) for sample in drawn]
        if split == "test":
            self.test_samples = list(zip(drawn, identities))
        valid = [identity for identity in identities if identity is not None]
        distinct = set(valid)
        stopped = [self.kind.size(sample) for sample in drawn if sample is not None]
        metrics = {f"{split}_validity": len(valid) / count,
                   f"{split}_uniqueness": len(distinct) / len(valid) if valid else 0.0,
                   f"{split}_novelty": len(distinct - self.training_identities) / len(distinct) if distinct else 0.0,
                   f"{split}_mean_nodes": float(np.mean(stopped)) if stopped else float("nan")}
        if split in self.reconstruction_trees:
            metrics[f"{split}_reconstruction"] = self._reconstruction(model, split, seed)
        return metrics

    def _reconstruction(self, model, split: str, seed: int) -> float:
        """Share of the split's chosen molecules that decode back to themselves."""
        trees, chosen = self.reconstruction_trees[split]
        matches = 0
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            for shard, smiles in enumerate(trees.smiles):
                for item, target in zip(trees.load(shard), smiles):
                    decoded = self.kind.identity(model.reconstruct(item, self.hp.task.max_steps))
                    matches += decoded == target
        return matches / chosen

    def save_assets(self, model, directory: Path):
        """JTNN: the cluster vocabulary, one SMILES per line (also in model_config.json)."""
        if self.trees is None:
            return {}
        (directory / VOCABULARY_FILE).write_text("\n".join(self.vocabulary) + "\n")
        return {"vocabulary": VOCABULARY_FILE}

    def write_outputs(self, model, directory: Path):
        """``samples.txt``: the test samples, one per line (valid 0/1, nodes, then the edges ``u-v``
        of a graph or the SMILES of a molecule; a sample that did not stop has neither);
        ``samples.png``: the first eight that stopped (molecules: the first eight valid)."""
        lines = ["valid\tnum_nodes\t" + ("edges" if isinstance(self.kind, FamilyGraphs) else "smiles")]
        lines += ["0\t\t" if sample is None else self.kind.sample_line(sample, identity)
                  for sample, identity in self.test_samples]
        (directory / SAMPLES_FILE).write_text("\n".join(lines) + "\n")
        stopped = [(sample, identity) for sample, identity in self.test_samples if sample is not None]
        self.kind.plot([sample for sample, _ in stopped], [identity for _, identity in stopped], directory / SAMPLES_PLOT)
        return {"samples": SAMPLES_FILE, "samples_plot": SAMPLES_PLOT}


def _prepare(smiles: Sequence[str]):
    """The training molecules as graphs, logged; fails when none is left."""
    started = time.perf_counter()
    logger.info("preparing %d training molecules as graphs", len(smiles))
    prepared = prepare_molecules(smiles)
    logger.info("%d molecules kept, %d dropped (their graph does not give back their canonical SMILES); atom types %s; "
                "%.1f s", len(prepared.graphs), prepared.dropped, " ".join(prepared.atom_types),
                time.perf_counter() - started)
    if not prepared.graphs:
        raise DataFormatError(f"none of the {len(smiles)} training molecules can be built atom by atom "
                              "(every one has a bond kekulisation leaves aromatic or an atom RDKit rejects)")
    return prepared


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
