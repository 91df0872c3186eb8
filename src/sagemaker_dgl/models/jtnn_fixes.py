"""What DGL-LifeSci's junction-tree VAE (``dgllife.model.JTNNVAE`` and ``dgllife.utils.jtvae``,
version 0.3.2) needs on current RDKit and torch 2.x: each fix is one function or subclass here,
applied by :func:`apply_fixes` for the library versions known to need it, and tested.

1. **Tree decomposition on fused aromatic rings.** Since RDKit 2021.03 ``MolFragmentToSmiles``
   with ``kekuleSmiles=True`` kekulises the fragment on its own (rdkit/rdkit#3943), which fails
   for one ring of a fused aromatic system (``KekulizeException`` in ``get_clique_mol``: 23 of
   ZINC's first 500 training molecules). The library's molecules are kekulised already
   (``get_mol``); :func:`clique_mol` writes the fragment from a copy without aromatic flags,
   which is the Kekulé SMILES older RDKit wrote.
2. **A vocabulary written by an older RDKit.** Cluster SMILES are canonical Kekulé SMILES, and
   their canonical form changed: 413 of ZINC's first 2,000 training molecules have a cluster
   missing from the shipped ``vocab.txt`` as written, 4 once :class:`ClusterVocabulary` writes
   each entry again with this RDKit (two of its 780 entries become one).
3. **No offline vocabulary loader.** ``JTVAEVocab()`` downloads, and ``JTVAEVocab(file)`` reads
   the file as molecules to decompose; :class:`ClusterVocabulary` takes the clusters themselves
   (a file such as JTNN's ``vocab.txt``), or builds them from training molecules
   (:meth:`ClusterVocabulary.from_molecules`).
4. **The candidate encoder's backward pass.** ``JTMPN`` averages each candidate's atom states
   with its own ``narrow``; the backward pass of each writes a gradient the size of all the
   batch's candidate atoms (76% of a step's backward time on 40 ZINC molecules).
   :class:`SegmentMeanJTMPN` takes the same means in one ``index_add`` (same loss and gradients;
   a step of 40 ZINC molecules 5.3 s -> 3.8 s on 2 threads, 13.9 s -> 5.8 s on one thread under
   load: ``benchmarks/jtnn_step_time.py``).
5. **Stochastic decoding under torch 2.x.** ``prob_decode=True`` indexes a 0-dim tensor
   (``torch.bernoulli(...)[0]``), calls ``torch.softmax`` without ``dim`` and, for a node with
   one candidate, ``torch.multinomial`` on 0-dim probabilities; :func:`apply_fixes` gives the
   library's model module a ``torch`` (:class:`Torch1Calls`) that takes those three calls as
   meant and is torch otherwise.
6. **Embeddings left on the caller's graphs.** The tree encoder and decoder store node
   embeddings on the junction-tree graph they are given and reuse them when present, so a
   graph encoded before a weight update is encoded again with the old embeddings (and the
   old autograd graph); :class:`FixedJTNNVAE` hands the library a local view of each graph.
7. **Candidates without bonds.** ``JTMPN`` stacks the bond features of the candidates, an empty
   list when every candidate is one atom (decoding a tree of single-atom clusters:
   ``RuntimeError: stack expects a non-empty TensorList``); :class:`SegmentMeanJTMPN` gives
   their atoms the output layer over zero messages, as the original JTNN's padding does.
8. **Unbounded assembly search.** Decoding enumerates the ways to attach each cluster to its
   neighbours depth first, without bound when no complete attachment exists: one decoding of
   an untrained model ran for minutes. Within :func:`attachment_budget` each attachment tried
   (``local_attach``) counts, and past the budget :class:`AttachmentBudgetSpent` is raised.

Importing this module imports DGL-LifeSci (seconds): the toolkit imports it where JTNN is used.
"""
import contextlib
import types
from typing import Iterable, List, Optional, Sequence

import dgllife
import rdkit
import torch
import torch.nn.functional as F
from dgllife.model import JTNNVAE
from dgllife.model.model_zoo import jtvae as library_jtvae
from dgllife.model.model_zoo.jtvae import JTMPN
from dgllife.utils.jtvae import chemutils, mol_tree
from dgllife.utils.jtvae.vocab import JTVAEVocab, get_slots
from packaging.version import Version
from rdkit import Chem

FIXED_DGLLIFE = Version("0.3.2")  # the newest release checked; a later one is used as it is
KEKULE_FRAGMENT_RDKIT = Version("2021.3")  # MolFragmentToSmiles kekulises fragments from this release

_library = {}  # what apply_fixes replaced, by name
_attachments_left: List[Optional[int]] = [None]  # None: no budget


class AttachmentBudgetSpent(Exception):
    """More attachments tried than :func:`attachment_budget` allows."""


@contextlib.contextmanager
def attachment_budget(count: int):
    """Within the block, at most ``count`` cluster attachments are tried (:func:`counted_local_attach`)."""
    previous, _attachments_left[0] = _attachments_left[0], count
    try:
        yield
    finally:
        _attachments_left[0] = previous


def counted_local_attach(*args, **kwargs):
    """The library's ``local_attach``, counted against the current :func:`attachment_budget`."""
    if _attachments_left[0] is not None:
        if _attachments_left[0] <= 0:
            raise AttachmentBudgetSpent
        _attachments_left[0] -= 1
    return _library["local_attach"](*args, **kwargs)


def clique_mol(mol, atoms: Sequence[int]):
    """``get_clique_mol`` of ``mol`` (kekulised, as ``get_mol`` returns it) without kekulising the
    fragment again: its bonds are written as they are."""
    flat = Chem.RWMol(mol)
    for atom in flat.GetAtoms():
        atom.SetIsAromatic(False)
    for bond in flat.GetBonds():
        bond.SetIsAromatic(False)
    return _library["get_clique_mol"](flat, atoms)


def apply_fixes() -> None:
    """Install the fixes the installed DGL-LifeSci and RDKit need (idempotent)."""
    if Version(dgllife.__version__) > FIXED_DGLLIFE or _library:
        return
    if Version(rdkit.__version__) >= KEKULE_FRAGMENT_RDKIT:
        _library["get_clique_mol"] = chemutils.get_clique_mol
        chemutils.get_clique_mol = mol_tree.get_clique_mol = clique_mol
    _library["torch"] = library_jtvae.torch
    library_jtvae.torch = Torch1Calls("torch")
    _library["local_attach"] = chemutils.local_attach
    chemutils.local_attach = counted_local_attach


class Torch1Calls(types.ModuleType):
    """``torch`` for DGL-LifeSci's JTNN module: ``softmax`` without ``dim`` takes the last one,
    ``bernoulli`` returns and ``multinomial`` takes at least one dimension, as its stochastic
    decoding expects; any other name is torch's own."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def softmax(input, dim=None, **kwargs):  # noqa: A002 (torch's argument name)
        return torch.softmax(input, -1 if dim is None else dim, **kwargs)

    @staticmethod
    def bernoulli(input, *args, **kwargs):  # noqa: A002
        return torch.atleast_1d(torch.bernoulli(input, *args, **kwargs))

    @staticmethod
    def multinomial(input, *args, **kwargs):  # noqa: A002 (one candidate: probabilities squeezed to 0-dim)
        return torch.multinomial(torch.atleast_1d(input), *args, **kwargs)


class SegmentMeanJTMPN(JTMPN):
    """``JTMPN`` whose readout, the mean atom state of each candidate, is one ``index_add``.

    The library's forward runs unchanged up to its output layer ``W_o`` (called once, on all
    candidates' atoms); a hook hands the library's per-candidate readout a detached copy of
    that output, and the means are taken here from the attached one."""

    def forward(self, cand_batch, tree_mess, device="cpu"):
        if any(mol.GetNumBonds() for mol, _, _ in cand_batch):
            atom_states = self._output_layer(cand_batch, tree_mess, device)
        else:  # fix 8: the library stacks an empty list of bond features; no bond, no message
            atoms = torch.stack([torch.Tensor(self.atom_featurizer(atom))
                                 for mol, _, _ in cand_batch for atom in mol.GetAtoms()]).to(device)
            atom_states = self.W_o(torch.cat([atoms, atoms.new_zeros(len(atoms), self.hidden_size)], 1))
        atom_states = F.relu(atom_states)
        sizes = torch.tensor([mol.GetNumAtoms() for mol, _, _ in cand_batch], device=atom_states.device)
        candidate = torch.repeat_interleave(torch.arange(len(sizes), device=atom_states.device), sizes)
        sums = atom_states.new_zeros(len(sizes), atom_states.shape[1]).index_add_(0, candidate, atom_states)
        return sums / sizes.unsqueeze(1)

    def _output_layer(self, cand_batch, tree_mess, device):
        """The library's forward up to ``W_o``'s output (all candidates' atoms)."""
        output = {}

        def keep(module, inputs, atom_states):
            output["atom_states"] = atom_states
            return atom_states.detach()

        hook = self.W_o.register_forward_hook(keep)
        try:
            super().forward(cand_batch, tree_mess, device)
        finally:
            hook.remove()
        return output["atom_states"]


class FixedJTNNVAE(JTNNVAE):
    """``JTNNVAE`` with :class:`SegmentMeanJTMPN` as its candidate encoder, given local views of
    the junction-tree graphs (fixes 4 and 6; :func:`apply_fixes` is applied on construction)."""

    def __init__(self, vocab, hidden_size: int, latent_size: int, depth: int, stereo: bool = True):
        apply_fixes()
        super().__init__(vocab, hidden_size, latent_size, depth, stereo)
        self.jtmpn = SegmentMeanJTMPN(hidden_size, depth)

    def forward(self, batch_trees, batch_tree_graphs, *args, **kwargs):
        return super().forward(batch_trees, batch_tree_graphs.local_var(), *args, **kwargs)

    def reconstruct(self, tree_graph, mol_graph, prob_decode=False):
        return super().reconstruct(tree_graph.local_var(), mol_graph, prob_decode)


def cluster_smiles(smiles: str) -> str:
    """A cluster's SMILES as this RDKit writes it in a tree decomposition (``get_clique_mol``,
    then ``get_smiles``)."""
    mol = chemutils.sanitize(chemutils.copy_edit_mol(Chem.MolFromSmiles(smiles, sanitize=False)).GetMol())
    return chemutils.get_smiles(mol)


class ClusterVocabulary(JTVAEVocab):
    """``JTVAEVocab`` from cluster SMILES, each written again by this RDKit, in their first order,
    without downloading anything."""

    def __init__(self, clusters: Iterable[str]):  # the library's __init__ downloads or decomposes
        self.vocab = list(dict.fromkeys(cluster_smiles(text) for text in clusters))
        self.vmap = {text: i for i, text in enumerate(self.vocab)}
        self.slots = [get_slots(text) for text in self.vocab]

    @classmethod
    def from_file(cls, path) -> "ClusterVocabulary":
        """One cluster SMILES per line (JTNN's ``vocab.txt``), blank lines skipped."""
        with open(path, encoding="utf-8") as handle:
            return cls([line.split()[0] for line in handle if line.strip()])

    @classmethod
    def from_molecules(cls, smiles: Iterable[str]) -> "ClusterVocabulary":
        """The clusters of the molecules' tree decompositions, in order of appearance."""
        apply_fixes()
        return cls([node["smiles"] for text in smiles for node in mol_tree.MolTree(text).nodes_dict.values()])

    def uncovered(self, trees: Iterable) -> List[int]:
        """Positions of the trees (``MolTree``) with a cluster outside the vocabulary."""
        return [i for i, tree in enumerate(trees)
                if any(node["smiles"] not in self.vmap for node in tree.nodes_dict.values())]
