"""Sets of molecules to generate from: one SMILES per line (the ZINC layout of JTNN and DGMG).

The channel holds ``train.txt`` (or one ``train*.txt``, e.g. ``train_20k.txt``) and optionally
``valid.txt`` and ``test.txt``: one SMILES per line, anything after the first whitespace ignored
(a name), blank lines skipped, CRLF tolerated. A line RDKit cannot parse is skipped and counted
(``info['unparsed_smiles']``); a file with no molecule RDKit parses is an error naming it.

For DGMG a molecule is a graph built atom by atom (:func:`molecule_graph`, :func:`graph_molecule`):
atom types are element and formal charge (``C``, ``N+``, ``O-``; hydrogens are implicit), bond
types single, double and triple (aromatic rings kekulised), atoms in the order of the canonical
SMILES, stereochemistry dropped. :func:`prepare_molecules` keeps the molecules whose graph gives
back their canonical SMILES: all 20,000 of ZINC's first training molecules on RDKit 2026.09
(DGL-LifeSci's preparation keeps 3.3% there: it compares SMILES with stereo information and has
no charged atom types).

JTNN's ZINC split has 220,011 / 24,445 / 5,000 molecules (train / valid / test);
``../shared/data/zinc_jtnn`` holds the first 20,000 training molecules as ``train_20k.txt``.
"""
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import networkx as nx

from ..errors import DataFormatError
from ._base import MoleculeSetData, register_format

logger = logging.getLogger(__name__)

SPLIT_FILES = {"valid": "valid.txt", "test": "test.txt"}
BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE")
PROGRESS_EVERY = 5000


def _train_file(directory: Path) -> Optional[Path]:
    if (directory / "train.txt").is_file():
        return directory / "train.txt"
    candidates = sorted(directory.glob("train*.txt"))
    return candidates[0] if len(candidates) == 1 else None


def _detect(directory: Path) -> bool:
    train = _train_file(Path(directory))
    if train is None:
        return False
    with open(train, encoding="utf-8", errors="replace") as handle:
        first = next((line.strip() for line in handle if line.strip()), "")
    if not first or "\t" in first or "," in first:  # triples and CSV files have tabs or commas
        return False
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem.MolFromSmiles(first.split()[0]) is not None


def read_smiles_file(path: Path) -> Tuple[List[str], int]:
    """The SMILES RDKit parses in ``path`` (canonical, stereo kept) and how many lines it could not parse."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path}: not UTF-8 text ({error})") from None
    parsed, unparsed = [], 0
    for text in (line.split()[0] for line in lines if line.strip()):
        mol = Chem.MolFromSmiles(text)
        if mol is None:
            unparsed += 1
        else:
            parsed.append(Chem.MolToSmiles(mol))
    if not parsed:
        raise DataFormatError(f"{path}: no line holds a SMILES string RDKit can parse ({unparsed} lines tried); "
                              "expected one molecule per line, e.g. CCO")
    return parsed, unparsed


@register_format("smiles_lines", detect=_detect, produces=MoleculeSetData,
                 expects="train.txt (or one train*.txt), optional valid.txt and test.txt: one SMILES per line")
def read_molecule_set(directory: Path, dataset: Optional[str]) -> MoleculeSetData:
    """The training molecules; valid.txt and test.txt are read when a task asks for them."""
    directory = Path(directory)
    train = _train_file(directory)
    if train is None:
        raise DataFormatError(f"{directory}: expected train.txt (or exactly one train*.txt) with one SMILES per line")
    files = {"train": train, **{split: directory / name for split, name in SPLIT_FILES.items()
                                if (directory / name).is_file()}}
    data = MoleculeSetData({}, dataset or directory.name, files=files,
                           info={"files": {split: path.name for split, path in files.items()}})
    data.split_smiles("train")
    return data


def read_split(files: Dict[str, Path], split: str) -> Tuple[List[str], int]:
    """The SMILES of one split's file, logged, and how many lines RDKit could not parse."""
    if split not in files:
        raise DataFormatError(f"the channel has no {SPLIT_FILES.get(split, split + '.txt')}: expected one SMILES per line")
    smiles, unparsed = read_smiles_file(files[split])
    logger.info("%s: %d molecules%s", files[split].name, len(smiles),
                f", {unparsed} lines RDKit cannot parse skipped" if unparsed else "")
    return smiles, unparsed


# --- Molecules as DGMG's graphs --------------------------------------------------------------
def atom_type(atom) -> str:
    """Element and formal charge: ``C``, ``N+``, ``O-``, ``Fe+2``."""
    charge = atom.GetFormalCharge()
    sign = "+" if charge > 0 else "-"
    return atom.GetSymbol() + ("" if charge == 0 else sign if abs(charge) == 1 else f"{sign}{abs(charge)}")


def _atom(type_name: str):
    from rdkit import Chem

    symbol = type_name.rstrip("+-0123456789")
    charge_text = type_name[len(symbol):]
    atom = Chem.Atom(symbol)
    if charge_text:
        atom.SetFormalCharge((1 if charge_text[0] == "+" else -1) * int(charge_text[1:] or 1))
    return atom


def canonical_molecule(smiles: str) -> Tuple[Optional[object], Optional[str]]:
    """The canonical SMILES without stereochemistry and its molecule (atoms in that SMILES'
    order); (None, None) when RDKit cannot parse ``smiles``."""
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None, None
    Chem.RemoveStereochemistry(mol)
    text = Chem.MolToSmiles(mol)
    return Chem.MolFromSmiles(text), text


def molecule_graph(mol, atom_types: Dict[str, int]) -> Optional[nx.MultiGraph]:
    """The graph of a molecule from :func:`canonical_molecule`: nodes in canonical order with
    ``type`` (an index into the atom types), edges with ``type`` (0 single, 1 double, 2 triple,
    after kekulisation); None when it has an atom type outside ``atom_types`` or a bond that
    kekulisation leaves aromatic. ``mol`` is kekulised in place."""
    from rdkit import Chem

    Chem.Kekulize(mol, clearAromaticFlags=True)
    graph = nx.MultiGraph()
    for atom in mol.GetAtoms():
        if atom_type(atom) not in atom_types:
            return None
        graph.add_node(atom.GetIdx(), type=atom_types[atom_type(atom)])
    for bond in mol.GetBonds():
        name = str(bond.GetBondType())
        if name not in BOND_TYPES:
            return None
        graph.add_edge(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), type=BOND_TYPES.index(name))
    return graph


def graph_molecule(graph: nx.MultiGraph, atom_types: Sequence[str]):
    """The RDKit molecule a generated graph describes, sanitised; None when RDKit rejects it
    (a valence it does not allow, a repeated bond)."""
    from rdkit import Chem

    mol = Chem.RWMol()
    for node in range(graph.number_of_nodes()):
        mol.AddAtom(_atom(atom_types[graph.nodes[node]["type"]]))
    for u, v, data in graph.edges(data=True):
        if u == v or mol.GetBondBetweenAtoms(u, v) is not None:
            return None
        mol.AddBond(u, v, getattr(Chem.BondType, BOND_TYPES[data["type"]]))
    try:
        Chem.SanitizeMol(mol)
    except (ValueError, RuntimeError):  # Chem.AtomValenceException, KekulizeException
        return None
    return mol.GetMol()


@dataclass
class PreparedMolecules:
    """Molecules as graphs: ``graphs[i]`` builds ``smiles[i]`` (canonical, no stereo)."""

    graphs: List[nx.MultiGraph]
    smiles: List[str]
    atom_types: List[str]
    dropped: int


def prepare_molecules(smiles: Sequence[str], atom_types: Optional[Sequence[str]] = None) -> PreparedMolecules:
    """The molecules whose graph gives back their canonical SMILES, with the atom types seen
    (or the given ones: a molecule with another type is dropped)."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    molecules = [canonical_molecule(text) for text in smiles]
    if atom_types is None:
        atom_types = sorted({atom_type(atom) for mol, _ in molecules for atom in mol.GetAtoms()})
    index = {name: i for i, name in enumerate(atom_types)}
    graphs, kept = [], []
    for done, (mol, target) in enumerate(molecules, 1):
        if done % PROGRESS_EVERY == 0:
            logger.info("prepared %d of %d molecules", done, len(smiles))
        graph = molecule_graph(mol, index)
        mol = None if graph is None else graph_molecule(graph, atom_types)
        if mol is not None:
            Chem.RemoveStereochemistry(mol)
            if Chem.MolToSmiles(mol) == target:
                graphs.append(graph)
                kept.append(target)
    return PreparedMolecules(graphs, kept, list(atom_types), len(smiles) - len(kept))
