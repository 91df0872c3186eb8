"""DGMG on molecules: the SMILES-lines format, molecules as typed graphs and back, the preparation
on real ZINC molecules, typed decision sequences, and the task's metrics and outputs on known samples."""
import networkx as nx
import pytest
import torch
from rdkit import Chem

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import FORMATS, MoleculeSetData, read_channel
from sagemaker_dgl.data.molecule_sets import (atom_type, canonical_molecule, graph_molecule, molecule_graph,
                                              prepare_molecules)
from sagemaker_dgl.errors import DataFormatError
from sagemaker_dgl.models import create_model
from sagemaker_dgl.models.dgmg import decisions
from sagemaker_dgl.tasks.graph_generation import GraphGeneration, MoleculeGraphs
from tests.conftest import dataset_dir
from tests.unit.test_graph_generation import FixedSamples

ZINC_SAMPLE = 2000  # the first molecules of ZINC's training file (all 20,000 take about a minute here)


def test_smiles_lines_are_detected_and_read(tmp_path):
    (tmp_path / "train_small.txt").write_text("CCO\r\nnot-a-smiles\n\nc1ccccc1 benzene\n")
    (tmp_path / "test.txt").write_text("CC(=O)O\n")
    assert [spec.name for spec in FORMATS.values() if spec.detect(tmp_path)] == ["smiles_lines"]
    data = read_channel(tmp_path, "auto", None)
    assert isinstance(data, MoleculeSetData)
    assert data.smiles == {"train": ["CCO", "c1ccccc1"]}  # the other splits are read when a task asks
    assert data.info["unparsed_smiles"] == {"train": 1}
    assert data.split_smiles("test") == ["CC(=O)O"] and data.info["unparsed_smiles"] == {"train": 1, "test": 0}
    with pytest.raises(DataFormatError, match="no valid.txt"):
        data.split_smiles("valid")


def test_triples_and_csv_files_are_not_smiles_lines(tmp_path):
    (tmp_path / "train.txt").write_text("/m/01\t/people/person/nationality\t/m/02\n")
    assert not FORMATS.get("smiles_lines").detect(tmp_path)


def test_a_file_without_a_molecule_is_an_error_naming_it(tmp_path):
    (tmp_path / "train.txt").write_text("hello\nworld\n")
    with pytest.raises(DataFormatError, match=r"train\.txt: no line holds a SMILES string RDKit can parse"):
        FORMATS.get("smiles_lines").read(tmp_path, None)


def graph_of(smiles, atom_types):
    return molecule_graph(canonical_molecule(smiles)[0], atom_types)


def test_atom_types_carry_the_charge():
    mol = Chem.MolFromSmiles("C[N+](=O)[O-]")
    assert [atom_type(atom) for atom in mol.GetAtoms()] == ["C", "N+", "O", "O-"]


def test_a_molecule_round_trips_through_its_typed_graph():
    types = ["C", "N", "O", "N+", "O-"]
    graph = graph_of("c1ccccc1C[N+](=O)[O-]", {name: i for i, name in enumerate(types)})
    assert graph.number_of_nodes() == 10
    assert sorted(data["type"] for _, _, data in graph.edges(data=True)) == [0] * 6 + [1] * 4  # kekulised ring, nitro
    assert Chem.MolToSmiles(graph_molecule(graph, types)) == Chem.CanonSmiles("O=[N+]([O-])Cc1ccccc1")
    assert graph_of("CCS", {"C": 0}) is None  # an atom type outside the action space


def test_an_impossible_graph_is_not_a_molecule():
    five_bonds = nx.MultiGraph()
    five_bonds.add_nodes_from(range(6), type=0)
    five_bonds.add_edges_from([(0, k) for k in range(1, 6)], type=0)
    assert graph_molecule(five_bonds, ["C"]) is None
    repeated = nx.MultiGraph([(0, 1), (0, 1)])
    nx.set_node_attributes(repeated, 0, "type")
    nx.set_edge_attributes(repeated, 0, "type")
    assert graph_molecule(repeated, ["C"]) is None


def test_the_preparation_keeps_nine_in_ten_zinc_molecules():
    """The issue's bar: >= 90% kept (DGL-LifeSci's stereo-sensitive check keeps 3.3% on current RDKit)."""
    lines = (dataset_dir("zinc_jtnn") / "train_20k.txt").read_text().split()[:ZINC_SAMPLE]
    prepared = prepare_molecules(lines)
    assert len(prepared.graphs) >= 0.9 * ZINC_SAMPLE, prepared.dropped
    assert {"C", "N", "O", "N+", "O-"} <= set(prepared.atom_types)
    for graph, smiles in zip(prepared.graphs[:50], prepared.smiles):
        mol = graph_molecule(graph, prepared.atom_types)
        Chem.RemoveStereochemistry(mol)
        assert Chem.MolToSmiles(mol) == smiles


def test_typed_decisions_and_teacher_forcing_rebuild_the_molecule():
    types = ["C", "N", "O"]
    graph = graph_of("C=CN", {name: i for i, name in enumerate(types)})  # canonical order: C=C-N
    assert decisions(graph, 3, 3) == [(0, 0), (1, 3), (0, 0), (1, 1), (2, 0), (1, 3), (0, 1), (1, 0), (2, 1),
                                      (1, 3), (0, 3)]
    model = create_model("dgmg", "graph_generation", num_node_types=3, num_edge_types=3, hidden_size=8,
                         num_prop_rounds=1, dropout=0.0)
    assert model(decisions(graph, 3, 3)).item() < 0
    rebuilt = model.dgmg.env.graph
    assert Chem.MolToSmiles(graph_molecule(rebuilt, types)) == "C=CN"
    model.eval()
    sample = model.sample(max_steps=80)
    assert sample is None or all("type" in data for _, data in sample.nodes(data=True))


def test_metrics_and_outputs_of_known_molecule_samples(tmp_path):
    smiles = ["CCO", "CCN", "OCCO", "CC(=O)O", "c1ccccc1"]
    hp = Hyperparameters.from_sagemaker({"model": "dgmg", "graphs_per_epoch": "7", "val_samples": "6",
                                         "test_samples": "6"})
    generation = GraphGeneration(hp, MoleculeSetData({"train": smiles}, "toy"), {}, torch.device("cpu"))
    assert generation.model_sizes() == {"num_node_types": 3, "num_edge_types": 3}  # C N O; single double triple
    assert sum(len(batch) for batch in generation.train_batches(1)) == 7  # past the end of the first pass
    index = {name: i for i, name in enumerate(generation.kind.node_types)}
    as_graph = lambda text: graph_of(text, index)  # noqa: E731
    ions = nx.disjoint_union(as_graph("CC"), as_graph("O"))
    samples = [as_graph("CCO"), as_graph("CCO"), as_graph("CCCN"), ions, None, as_graph("C=O")]
    metrics = generation.evaluate(FixedSamples(samples), "test")
    assert metrics["test_validity"] == pytest.approx(4 / 6)  # disconnected fragments and an unstopped sample are not
    assert metrics["test_uniqueness"] == pytest.approx(3 / 4)
    assert metrics["test_novelty"] == pytest.approx(2 / 3)  # CCO is a training molecule
    assert generation.write_outputs(None, tmp_path) == {"samples": "samples.txt", "samples_plot": "samples.png"}
    lines = (tmp_path / "samples.txt").read_text().splitlines()
    assert lines[0] == "valid\tnum_nodes\tsmiles" and lines[1] == "1\t3\tCCO" and lines[5] == "0\t\t"
    assert (tmp_path / "samples.png").stat().st_size > 5_000
    assert isinstance(MoleculeGraphs(["C"]).output(as_graph("CC")), str)
