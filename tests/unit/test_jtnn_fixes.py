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


@pytest.fixture(scope="module")
def vocabulary(fixed):
    return fixed.ClusterVocabulary.from_file(dataset_dir("zinc_jtnn") / "vocab.txt")


@pytest.fixture(scope="module")
def featurised(fixed, vocabulary, tmp_path_factory):
    """Eight ZINC molecules as DGL-LifeSci's training items and as its evaluation items."""
    from dgllife.data.jtvae import JTVAEDataset

    path = tmp_path_factory.mktemp("jtnn") / "molecules.txt"
    path.write_text("\n".join(zinc(8)) + "\n")
    return ([JTVAEDataset(str(path), vocabulary, training=True)[i] for i in range(8)],
            lambda i: JTVAEDataset(str(path), vocabulary, training=False)[i])


def models(fixed, vocabulary, hidden=64, latent=16):
    """The library's JTNNVAE and the fixed one with the same weights."""
    import torch
    from dgllife.model import JTNNVAE

    torch.manual_seed(0)
    library = JTNNVAE(vocabulary, hidden, latent, 2)
    library.reset_parameters()
    ours = fixed.FixedJTNNVAE(vocabulary, hidden, latent, 2)
    ours.load_state_dict(library.state_dict())
    return library, ours


def backward_nodes(tensor, name):
    seen, stack, count = set(), [tensor.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        count += name in type(node).__name__
        stack.extend(next_node for next_node, _ in node.next_functions)
    return count


def test_the_candidate_encoder_takes_the_means_in_one_step_with_the_same_loss_and_gradients(fixed, vocabulary,
                                                                                              featurised):
    import torch
    from dgllife.data.jtvae import JTVAECollator

    losses, gradients, narrows = [], [], []
    for model in models(fixed, vocabulary):
        torch.manual_seed(1)
        loss = model(*JTVAECollator(training=True)(featurised[0]))[0]
        loss.backward()
        losses.append(loss.item())
        gradients.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
        narrows.append(backward_nodes(loss, "Narrow") + backward_nodes(loss, "Slice"))
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)
    assert torch.allclose(gradients[1], gradients[0], atol=1e-5)
    assert narrows[0] - narrows[1] > 100 and narrows[1] < narrows[0] / 5  # the library: a narrow per candidate


def test_a_candidate_batch_without_bonds_is_encoded(fixed):
    import torch
    from dgllife.model.model_zoo.jtvae import JTMPN

    single_atoms = [(Chem.MolFromSmiles(smiles), [], None) for smiles in ("C", "N", "O")]
    torch.manual_seed(0)
    library = JTMPN(32, 2)
    with pytest.raises(RuntimeError, match="non-empty TensorList"):
        library(single_atoms, {})
    ours = fixed.SegmentMeanJTMPN(32, 2)
    ours.load_state_dict(library.state_dict())
    with_bond = [(Chem.MolFromSmiles("CO"), [], None)]
    assert torch.allclose(ours(with_bond, {}), library(with_bond, {}))
    assert ours(single_atoms, {}).shape == (3, 32)


def test_stochastic_decoding_runs_under_torch_2(fixed, vocabulary, monkeypatch):
    import torch
    from dgllife.model.model_zoo import jtvae as library_jtvae

    library, ours = models(fixed, vocabulary)
    ours.eval()
    with torch.no_grad():
        torch.manual_seed(0)
        with monkeypatch.context() as undone:
            undone.setattr(library_jtvae, "torch", fixed._library["torch"])
            with pytest.raises((IndexError, TypeError, RuntimeError)), fixed.attachment_budget(200):
                for _ in range(5):
                    ours.sample_prior(prob_decode=True)
        for seed in range(5):
            torch.manual_seed(seed)
            try:
                with fixed.attachment_budget(200):
                    smiles = ours.sample_prior(prob_decode=True)
            except fixed.AttachmentBudgetSpent:
                continue
            assert smiles is None or Chem.MolFromSmiles(smiles) is not None


def test_reconstruction_leaves_the_caller_s_tree_graph_alone(fixed, vocabulary, featurised):
    import torch
    from dgllife.data.jtvae import JTVAECollator

    library, ours = models(fixed, vocabulary)
    for model, expected in ((library, True), (ours, False)):
        _, tree_graph, mol_graph = JTVAECollator(training=False)([featurised[1](0)])
        with torch.no_grad(), fixed.attachment_budget(200):
            try:
                model.reconstruct(tree_graph, mol_graph)
            except fixed.AttachmentBudgetSpent:
                pass
        # the library's embeddings stay on the graph and are used again after the weights change
        assert ("x" in tree_graph.ndata) is expected


def test_the_assembly_search_is_bounded(fixed, vocabulary):
    """Within a budget of 50 attachments every prior sample of an untrained model ends quickly
    (without one, one decoding ran for minutes); some give up, some decode."""
    import time

    import torch

    _, ours = models(fixed, vocabulary, hidden=128, latent=32)
    ours.eval()
    calls = []
    original = fixed._library["local_attach"]
    fixed._library["local_attach"] = lambda *args: calls.append(1) or original(*args)
    try:
        with torch.no_grad():
            torch.manual_seed(0)
            outcomes = []
            for _ in range(6):
                calls.clear()
                started = time.perf_counter()
                try:
                    with fixed.attachment_budget(50):
                        outcomes.append(ours.sample_prior())
                except fixed.AttachmentBudgetSpent:
                    outcomes.append("gave up")
                assert len(calls) <= 50 and time.perf_counter() - started < 30
    finally:
        fixed._library["local_attach"] = original
    assert "gave up" in outcomes and any(outcome not in ("gave up", None) for outcome in outcomes)
