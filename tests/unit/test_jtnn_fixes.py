"""Each of DGL-LifeSci's JTNN fixes (sagemaker_dgl.models.jtnn_fixes) against the failure it mends."""
import pytest
from rdkit import Chem

from tests.conftest import dataset_dir

jtnn_fixes = pytest.importorskip("sagemaker_dgl.models.jtnn_fixes")
from dgllife.utils.jtvae import chemutils  # noqa: E402
from dgllife.utils.jtvae.mol_tree import MolTree  # noqa: E402

FUSED_AROMATIC = "C[C@H](NC(=O)[C@@H](O)c1ccccc1)c1nnc2ccccn12"  # a ZINC training molecule (triazolopyridine)
ZINC_SAMPLE = 500


@pytest.fixture(scope="module")
def fixed():
    jtnn_fixes.apply_fixes()
    return jtnn_fixes


def zinc(count):
    return (dataset_dir("zinc_jtnn") / "train_20k.txt").read_text().split()[:count]


def test_the_library_cannot_cut_one_ring_out_of_a_fused_aromatic_system(fixed):
    mol = chemutils.get_mol(FUSED_AROMATIC)
    pyridine_ring = [16, 17, 18, 19, 20, 21]  # the six-membered ring of the triazolopyridine
    with pytest.raises(Chem.KekulizeException):
        fixed._library["get_clique_mol"](mol, pyridine_ring)
    assert chemutils.get_smiles(fixed.clique_mol(mol, pyridine_ring)) == "C1=CCNC=C1"  # a cluster in JTNN's vocab.txt


def test_fused_aromatic_molecules_decompose_into_trees(fixed):
    tree = MolTree(FUSED_AROMATIC)
    tree.recover()
    tree.assemble()
    clusters = [node["smiles"] for node in tree.nodes_dict.values()]
    assert {"C1=CC=CC=C1", "C1=NN=CN1", "C1=CCNC=C1"} <= set(clusters) and len(clusters) == 14
    assert all(node["label"] in node["cands"] for node in tree.nodes_dict.values() if node["cands"])
    for smiles in zinc(ZINC_SAMPLE):
        MolTree(smiles)  # 23 of these 500 raise KekulizeException without the fix


def test_the_shipped_vocabulary_covers_the_data_once_written_by_this_rdkit(fixed):
    path = dataset_dir("zinc_jtnn") / "vocab.txt"
    trees = [MolTree(smiles) for smiles in zinc(ZINC_SAMPLE)]
    as_written = set(path.read_text().split())
    stale = sum(any(node["smiles"] not in as_written for node in tree.nodes_dict.values()) for tree in trees)
    vocabulary = fixed.ClusterVocabulary.from_file(path)
    assert stale >= 0.1 * ZINC_SAMPLE  # about 20%: the reason for the fix
    assert len(vocabulary.uncovered(trees)) <= 0.01 * ZINC_SAMPLE
    assert vocabulary.size() == 779 and vocabulary.get_smiles(vocabulary.get_index("C1=CC=CC=C1")) == "C1=CC=CC=C1"


def test_the_vocabulary_loads_offline_from_clusters_or_molecules(fixed, monkeypatch, tmp_path):
    import dgl.data.utils

    monkeypatch.setattr(dgl.data.utils, "download", lambda *args, **kwargs: pytest.fail("downloaded"))
    (tmp_path / "vocab.txt").write_text("C1=CC=CC=C1\nCC\n\nC1=CC=CC=C1\n")
    vocabulary = fixed.ClusterVocabulary.from_file(tmp_path / "vocab.txt")
    assert vocabulary.vocab == ["C1=CC=CC=C1", "CC"] and vocabulary.get_slots(1) == [("C", 0, 3), ("C", 0, 3)]
    molecules = zinc(20)
    built = fixed.ClusterVocabulary.from_molecules(molecules)
    assert built.uncovered([MolTree(smiles) for smiles in molecules]) == []
