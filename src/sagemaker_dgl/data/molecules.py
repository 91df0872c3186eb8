"""Molecules from a CSV with a SMILES column (the MoleculeNet layout: Tox21, and any such file).

The channel holds one ``.csv`` file: a SMILES column (``smiles_column``; unset: the column named
like ``smiles``, ``SMILES`` or ``mol``) and one column per target (``task_columns``,
comma-separated; unset: every numeric column). RDKit parses each SMILES and DGL-LifeSci
featurises it (``mol_to_bigraph`` with ``CanonicalAtomFeaturizer``, 74 atom features, and
``CanonicalBondFeaturizer``, 12 bond features, both ways of every bond). A SMILES that RDKit
cannot parse is skipped, counted in the log and in ``info['unparsed_smiles']``; all of them
unparseable is an error.

Targets (``target_type``): ``binary`` for 0/1 properties with missing values (empty cells), as
Tox21's 12 assays; ``regression`` for numbers; ``auto``: binary, and a value other than 0, 1 or
empty fails with its line and column (set ``target_type=regression`` for numeric targets).

Featurised graphs are cached in ``$SAGEMAKER_DGL_CACHE/molecules`` under the file's SHA-256,
the SMILES column and the RDKit and DGL-LifeSci versions, so a second job on the same file (or a
cache folder kept between jobs) reads them instead of featurising again.

| dataset | molecules | tasks | parsed by RDKit 2026.09 |
|---------|-----------|-------|-------------------------|
| tox21   | 7,831     | 12    | 7,823                   |
"""
import logging
import re
import time
from pathlib import Path
from typing import List, Optional

import numpy as np
import pandas as pd
import torch

from ..errors import DataFormatError
from ._base import GraphSetData, first_line, register_format
from .download import sha256
from .loading import CACHE_DIR

logger = logging.getLogger(__name__)

#: Column names taken for the SMILES column when ``smiles_column`` is unset (case-insensitive).
SMILES_NAMES = ("smiles", "canonical_smiles", "mol", "molecule")
PROGRESS_EVERY = 2000
#: Part of the cache key: raised when the featurised graphs change (2: edge features on molecules without bonds).
CACHE_VERSION = 2


def _csv_files(directory: Path) -> List[Path]:
    return sorted(p for p in Path(directory).iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def _header(path: Path) -> List[str]:
    return [name.strip().strip('"') for name in first_line(path).split(",")]


def _smiles_column(columns: List[str]) -> Optional[str]:
    return next((c for c in columns if c.strip().lower() in SMILES_NAMES), None)


def _detect(directory: Path) -> bool:
    files = _csv_files(directory)
    return len(files) == 1 and _smiles_column(_header(files[0])) is not None


@register_format("molecules_csv", detect=_detect, expects="one .csv with a SMILES column and a column per target",
                 produces=GraphSetData, options=("smiles_column", "task_columns", "target_type"))
def load_molecules(directory: Path, name: Optional[str] = None, smiles_column: Optional[str] = None,
                   task_columns: Optional[str] = None, target_type: str = "auto") -> GraphSetData:
    """Featurise the molecules of the channel's CSV and read their targets."""
    files = _csv_files(directory)
    if len(files) != 1:
        raise DataFormatError(f"the molecules_csv format reads one .csv file; {directory} has {len(files)}")
    path = files[0]
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise DataFormatError(f"cannot read {path.name}: {str(error).splitlines()[0]}") from None
    if table.empty:
        raise DataFormatError(f"{path.name} has no rows")
    column = smiles_column or _smiles_column(list(table.columns))
    if column is None or column not in table.columns:
        wanted = f"column {smiles_column!r} (smiles_column)" if smiles_column else \
            f"SMILES column (one named {', '.join(SMILES_NAMES)}, in any case)"
        raise DataFormatError(f"{path.name} has no {wanted}; its columns are: {', '.join(table.columns)}. Set "
                              "hyperparameter smiles_column to the one that holds the SMILES strings")
    targets = _target_columns(table, column, task_columns, path.name)
    labels, kind = _targets(table, targets, target_type, path.name)
    smiles = table[column].str.strip().tolist()
    graphs, kept = _featurise_cached(path, column, smiles)
    parsed = set(kept)
    unparsed = [i for i in range(len(smiles)) if i not in parsed]
    if not kept:
        raise DataFormatError(f"RDKit parsed none of the {len(smiles)} SMILES strings in column {column!r} of "
                              f"{path.name} (the first: {smiles[0][:80]!r}); is it the SMILES column?")
    if unparsed:
        shown = "; ".join(f"line {i + 2}: {smiles[i][:60]!r}" for i in unparsed[:3])
        logger.warning("%d of %d SMILES strings could not be parsed by RDKit and are skipped (%s%s)", len(unparsed),
                       len(smiles), shown, "; ..." if len(unparsed) > 3 else "")
    kept_index = torch.tensor(kept, dtype=torch.int64)
    logger.info("molecules: %d graphs from %s (%d skipped), %d %s target(s): %s", len(kept), path.name,
                len(unparsed), len(targets), kind, ", ".join(targets))
    return GraphSetData(graphs, labels[kept_index], kind, targets, name or path.stem,
                        smiles=[smiles[i] for i in kept],
                        info={"format": "molecules_csv", "smiles_column": column, "featurizer": "canonical",
                              "unparsed_smiles": len(unparsed), "molecules_in_file": len(smiles)})


def _target_columns(table: pd.DataFrame, smiles: str, task_columns: Optional[str], file: str) -> List[str]:
    if task_columns:
        names = [name.strip() for name in task_columns.split(",") if name.strip()]
        missing = [name for name in names if name not in table.columns]
        if missing:
            raise DataFormatError(f"task_columns names {', '.join(map(repr, missing))}, which {file} does not have; "
                                  f"its columns are: {', '.join(table.columns)}")
        return names
    numeric = [c for c in table.columns if c != smiles
               and pd.to_numeric(table[c].str.strip().replace("", np.nan), errors="coerce").notna().sum()
               == (table[c].str.strip() != "").sum() > 0]
    if not numeric:
        raise DataFormatError(f"{file} has no numeric column besides {smiles!r} to predict; its columns are: "
                              f"{', '.join(table.columns)}")
    return numeric


def _targets(table: pd.DataFrame, columns: List[str], target_type: str, file: str):
    """``(rows, targets)`` float32 with NaN for empty cells, and the kind."""
    cells = table[columns].apply(lambda c: c.str.strip())
    values = cells.apply(lambda c: pd.to_numeric(c.replace("", np.nan), errors="coerce"))
    bad = values.isna() & (cells != "")
    if bad.to_numpy().any():
        row, col = (int(i[0]) for i in np.nonzero(bad.to_numpy()))
        raise DataFormatError(f"{file} line {row + 2}, column {columns[col]!r}: {cells.iat[row, col]!r} is not a number")
    array = values.to_numpy(dtype=np.float32, copy=True)
    if target_type == "regression":
        return torch.from_numpy(array), "regression"
    off = ~np.isnan(array) & (array != 0) & (array != 1)
    if off.any():
        row, col = (int(i[0]) for i in np.nonzero(off))
        raise DataFormatError(f"{file} line {row + 2}, column {columns[col]!r}: {cells.iat[row, col]!r} is not 0, 1 or "
                              "empty; binary targets are 0 or 1 (empty: unknown). For numeric targets set "
                              "target_type=regression")
    return torch.from_numpy(array), "binary"


def _featurise_cached(path: Path, column: str, smiles: List[str]):
    """Graphs of the parseable SMILES and their row indices, from the cache or featurised now."""
    import dgl
    import dgllife
    import rdkit

    key = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{sha256(path)[:16]}-{column}-v{CACHE_VERSION}-rdkit{rdkit.__version__}-dgllife{dgllife.__version__}")
    cache = CACHE_DIR / "molecules" / f"{key}.bin"
    if cache.is_file():
        graphs, saved = dgl.load_graphs(str(cache))
        logger.info("featurised molecules read from the cache %s", cache)
        return graphs, saved["rows"].tolist()
    graphs, kept = featurise(smiles)
    if not graphs:
        return graphs, kept
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        dgl.save_graphs(str(tmp), graphs, {"rows": torch.tensor(kept, dtype=torch.int64)})
        tmp.replace(cache)
    except OSError as error:  # a read-only or full cache folder: featurise again next time
        logger.warning("could not cache the featurised molecules in %s (%s)", cache.parent, error)
    return graphs, kept


def featurise(smiles: List[str]):
    """DGL graphs of the SMILES strings RDKit parses (atom and bond features in ``'feat'``) and
    their indices, with a progress line every :data:`PROGRESS_EVERY` molecules."""
    from dgllife.utils import CanonicalAtomFeaturizer, CanonicalBondFeaturizer, mol_to_bigraph
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # unparseable SMILES are counted and logged once, not one line each
    atoms, bonds = CanonicalAtomFeaturizer(atom_data_field="feat"), CanonicalBondFeaturizer(bond_data_field="feat")
    graphs, kept, started = [], [], time.monotonic()
    try:
        for index, text in enumerate(smiles):
            mol = Chem.MolFromSmiles(text) if text else None
            if mol is not None:
                graph = mol_to_bigraph(mol, node_featurizer=atoms, edge_featurizer=bonds)
                if graph.num_edges() == 0:  # a molecule without bonds gets no edge features: dgl.batch needs them
                    graph.edata["feat"] = torch.zeros(0, bonds.feat_size())
                graphs.append(graph)
                kept.append(index)
            if (index + 1) % PROGRESS_EVERY == 0:
                logger.info("featurised %d of %d molecules (%.0f s)", index + 1, len(smiles), time.monotonic() - started)
    finally:
        RDLogger.EnableLog("rdApp.*")
    return graphs, kept
