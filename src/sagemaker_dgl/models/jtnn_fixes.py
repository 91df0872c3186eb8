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

Importing this module imports DGL-LifeSci (seconds): the toolkit imports it where JTNN is used.
"""
from typing import Iterable, List, Sequence

import dgllife
import rdkit
from dgllife.utils.jtvae import chemutils, mol_tree
from dgllife.utils.jtvae.vocab import JTVAEVocab, get_slots
from packaging.version import Version
from rdkit import Chem

FIXED_DGLLIFE = Version("0.3.2")  # the newest release checked; a later one is used as it is
KEKULE_FRAGMENT_RDKIT = Version("2021.3")  # MolFragmentToSmiles kekulises fragments from this release

_library = {}  # what apply_fixes replaced, by name


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
