"""Molecules from a SMILES CSV: featurisation with DGL-LifeSci, targets, the cache, the scaffold split."""
import dgl
import pytest
import torch

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import FORMATS, read_channel
from sagemaker_dgl.data.molecules import featurise
from sagemaker_dgl.errors import ConfigError, DataFormatError
from sagemaker_dgl.tasks import TASKS
from sagemaker_dgl.tasks.graph_prediction import scaffold_split

#: Three scaffolds (benzene, pyridine, cyclohexane rings with side chains) and acyclic molecules.
MOLECULES = ["c1ccccc1CC", "c1ccccc1CCO", "c1ccccc1N", "c1ccncc1C", "c1ccncc1CC", "C1CCCCC1O", "C1CCCCC1N",
             "CCO", "CCCN", "CC(=O)O"]


def write_molecules(directory, rows=None, header="smiles,active,toxic,mol_id"):
    directory.mkdir(parents=True, exist_ok=True)
    rows = rows or [f"{s},{i % 2},{'' if i == 3 else (i // 2) % 2},M{i}" for i, s in enumerate(MOLECULES)]
    (directory / "molecules.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    return directory


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr("sagemaker_dgl.data.molecules.CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def test_molecules_are_featurised_with_their_binary_targets_and_cached(tmp_path, cache, caplog):
    directory = write_molecules(tmp_path / "mol")
    assert [spec.name for spec in FORMATS.values() if spec.detect(directory)] == ["molecules_csv"]
    data = read_channel(directory, "auto", None)
    assert data.target_kind == "binary" and data.target_names == ["active", "toxic"]  # mol_id is text
    assert len(data.graphs) == 10 and data.smiles == MOLECULES
    assert data.graphs[0].ndata["feat"].shape == (8, 74) and data.graphs[0].edata["feat"].shape == (16, 12)
    assert torch.isnan(data.labels[3, 1]) and data.labels[1].tolist() == [1.0, 0.0]
    assert list(cache.glob("molecules/*.bin"))
    caplog.clear()
    with caplog.at_level("INFO"):
        again = read_channel(directory, "auto", None)
    assert "read from the cache" in caplog.text and torch.equal(again.graphs[5].ndata["feat"], data.graphs[5].ndata["feat"])


def test_unparseable_smiles_are_counted_not_fatal_unless_all_are(tmp_path, caplog):
    directory = write_molecules(tmp_path / "mol", ["c1ccccc1,1,0,A", "not-a-molecule,0,1,B", "CCO,1,1,C"])
    data = read_channel(directory, "auto", None)
    assert len(data.graphs) == 2 and data.info["unparsed_smiles"] == 1 and data.smiles == ["c1ccccc1", "CCO"]
    assert "1 of 3 SMILES strings could not be parsed by RDKit" in caplog.text and "line 3: 'not-a-molecule'" in caplog.text
    directory = write_molecules(tmp_path / "bad", ["xx,1,0,A", "yy,0,1,B"])
    with pytest.raises(DataFormatError, match="RDKit parsed none of the 2 SMILES strings in column 'smiles'"):
        read_channel(directory, "auto", None)


def test_bad_targets_and_missing_columns_name_what_is_wrong(tmp_path):
    directory = write_molecules(tmp_path / "two", ["CCO,1,0,A", "CCN,2,1,B"])
    with pytest.raises(DataFormatError, match="molecules.csv line 3, column 'active': '2' is not 0, 1 or empty"):
        read_channel(directory, "auto", None)
    values = read_channel(directory, "auto", None, options={"target_type": "regression"})
    assert values.target_kind == "regression" and values.labels[:, 0].tolist() == [1.0, 2.0]
    with pytest.raises(DataFormatError, match="task_columns names 'solubility', which molecules.csv does not have"):
        read_channel(directory, "auto", None, options={"task_columns": "solubility"})
    none = write_molecules(tmp_path / "none", ["CCO,1", "CCN,0"], header="structure,active")
    with pytest.raises(DataFormatError, match="data.csv|molecules.csv has the columns structure,active"):
        read_channel(none, "auto", None)
    with pytest.raises(DataFormatError, match="molecules.csv has no SMILES column .*its columns are: structure, active"):
        read_channel(none, "molecules_csv", None)
    assert len(read_channel(none, "molecules_csv", None, options={"smiles_column": "structure"}).graphs) == 2


def test_the_scaffold_split_keeps_each_scaffold_in_one_split(tmp_path):
    data = read_channel(write_molecules(tmp_path / "mol"), "auto", None)
    parts = scaffold_split(data, 0.5, 0.2)
    assert sorted(torch.cat(list(parts.values())).tolist()) == list(range(10))
    from rdkit.Chem.Scaffolds.MurckoScaffold import MurckoScaffoldSmiles

    split_of = {int(i): name for name, ids in parts.items() for i in ids}
    by_scaffold = {}
    for index, smiles in enumerate(MOLECULES):
        by_scaffold.setdefault(MurckoScaffoldSmiles(smiles), set()).add(split_of[index])
    assert all(len(splits) == 1 for splits in by_scaffold.values()), by_scaffold
    hp = Hyperparameters.from_sagemaker({"model": "gin", "split": "scaffold", "train_fraction": 0.5,
                                         "val_fraction": 0.2})
    task = TASKS.get("graph_prediction")(hp, data, {}, torch.device("cpu"))
    assert all(torch.equal(task.ids[s], p) for s, p in parts.items())


def test_the_scaffold_split_needs_molecules(tmp_path):
    from tests.graphs import write_tu

    data = read_channel(write_tu(tmp_path / "tu", num_graphs=10), "auto", None)
    hp = Hyperparameters.from_sagemaker({"model": "gin", "split": "scaffold"})
    with pytest.raises(ConfigError, match="split=scaffold needs molecules"):
        TASKS.get("graph_prediction")(hp, data, {}, torch.device("cpu"))


def test_a_molecule_without_bonds_batches_with_the_others():
    """Tox21 holds salts such as [Na+].[Cl-]: DGL-LifeSci gives them no edge features, and dgl.batch failed."""
    graphs, kept = featurise(["[Na+].[Cl-]", "CCO"])
    assert kept == [0, 1] and graphs[0].num_edges() == 0
    batch = dgl.batch(graphs)
    assert batch.edata["feat"].shape == (graphs[1].num_edges(), 12)
