"""Knowledge-graph triples: the FB15k, FB15k-237, WN18RR and YAGO3-10 layout.

A channel holds ``train.txt``, ``valid.txt`` and ``test.txt``, one ``head<TAB>relation<TAB>tail``
per line (CRLF line endings and blank lines are fine), and optionally ``entity_names.tsv``
(``entity<TAB>name`` per line) whose names the predictor shows.

Vocabularies: entities in the order they first appear in train, valid, test; relations in the
order they first appear in train. An entity that appears only in valid or test stays in the
evaluation (the model ranks an entity it never trained on, as LibKGE does for WN18RR) and is
counted in the log and ``info``; a relation never seen in training is an error.

| dataset   | entities | relations | train   | valid  | test   |
|-----------|----------|-----------|---------|--------|--------|
| fb15k-237 | 14,541   | 237       | 272,115 | 17,535 | 20,466 |
"""
import logging
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..errors import DataFormatError
from ._base import Dataset, TripleData, register_dataset, register_format
from .download import download, extract_flat, sha256

logger = logging.getLogger(__name__)

#: Split name -> file.
FILES = {"train": "train.txt", "valid": "valid.txt", "test": "test.txt"}
NAMES_FILE = "entity_names.tsv"

#: Named datasets: the release archive, its SHA-256, and the SHA-256 of each file in it.
ARCHIVES: Dict[str, Tuple[str, str, Dict[str, str]]] = {
    "fb15k-237": (
        "https://github.com/TimDettmers/ConvE/raw/f3c0eb286025410fa5b4c04696c918264163d0ca/FB15k-237.tar.gz",
        "311df7930f842a02979eaa7a802484a6afe62303c07f915f1e6edbc30cbe05e8",
        {"train.txt": "6e4c2782169af21e9743f3b1d200886f5d595bf6bc504ec1351720949c5cdfae",
         "valid.txt": "cf6309010852f6a8d47a45df830a426415d1ee6f7a3970a8376ff1fb81db4a5c",
         "test.txt": "5711cf41623ceb4eacc50eb6108a3ca6565c7492e3caaf82a3e355cc660d1574"},
    ),
}


def _detect(directory: Path) -> bool:
    """The three files, the first line of train.txt tab-separated (JTNN's SMILES files share the names)."""
    if not all((directory / name).is_file() for name in FILES.values()):
        return False
    with open(directory / FILES["train"], encoding="utf-8", errors="replace") as handle:
        return "\t" in next((line for line in handle if line.strip()), "\t")


def read_triples(path: Path) -> List[Tuple[int, str, str, str]]:
    """``(line number, head, relation, tail)`` for each non-blank line of a triples file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path.name} is not UTF-8 text ({error})") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):  # splitlines: \n, \r\n and \r
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(field.strip() for field in fields):
            raise DataFormatError(
                f"{path.name} line {number}: {len(fields)} tab-separated field(s) {line[:120]!r}; each line must be "
                "head<TAB>relation<TAB>tail"
            )
        rows.append((number, fields[0].strip(), fields[1].strip(), fields[2].strip()))
    if not rows:
        raise DataFormatError(f"{path.name} is empty; it must hold head<TAB>relation<TAB>tail lines")
    return rows


def _read_names(path: Path) -> Dict[str, str]:
    names = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise DataFormatError(f"{path.name} line {number}: expected entity<TAB>name, got {line[:120]!r}")
        names[fields[0].strip()] = fields[1].strip()
    return names


@register_format("triples", detect=_detect, expects="train.txt, valid.txt, test.txt (head<TAB>relation<TAB>tail)",
                 produces=TripleData)
def load_triples(directory: Path, name: Optional[str] = None) -> TripleData:
    """Read the three splits into id tensors with vocabularies built from them."""
    for file in FILES.values():
        if not (directory / file).is_file():
            raise DataFormatError(f"no {file} in {directory}; the triples format needs {', '.join(FILES.values())}")
    rows = {split: read_triples(directory / file) for split, file in FILES.items()}
    entities: Dict[str, int] = {}
    relations: Dict[str, int] = {}
    for _, head, relation, tail in rows["train"]:
        entities.setdefault(head, len(entities))
        relations.setdefault(relation, len(relations))
        entities.setdefault(tail, len(entities))
    trained_entities = len(entities)
    splits, unseen = {}, {}
    for split, file in FILES.items():
        ids = np.empty((len(rows[split]), 3), dtype=np.int64)
        for index, (number, head, relation, tail) in enumerate(rows[split]):
            if relation not in relations:
                raise DataFormatError(
                    f"{file} line {number}: relation {relation!r} never appears in train.txt; a model cannot score a "
                    "relation it has not trained on: move such triples to train.txt or drop them"
                )
            ids[index] = (entities.setdefault(head, len(entities)), relations[relation],
                          entities.setdefault(tail, len(entities)))
        splits[split] = torch.from_numpy(ids)
        unseen[split] = int(((ids[:, 0] >= trained_entities) | (ids[:, 2] >= trained_entities)).sum())
    for split in ("valid", "test"):
        if unseen[split]:
            logger.info("%d %s triple(s) name an entity that is not in train.txt; they stay in the evaluation "
                        "(the model ranks entities it never trained on)", unseen[split], split)
    names = _read_names(directory / NAMES_FILE) if (directory / NAMES_FILE).is_file() else {}
    logger.info("triples: %d entities, %d relations, train/valid/test %d/%d/%d", len(entities), len(relations),
                *(len(splits[s]) for s in FILES))
    return TripleData(splits=splits, entities=list(entities), relations=list(relations), name=name or directory.name,
                      info={f"{split}_triples_with_unseen_entities": unseen[split] for split in ("valid", "test")},
                      entity_names=names)


def download_archive(name: str, directory: Path) -> None:
    """Fetch the dataset's release archive (SHA-256 checked) and extract its three files (checked too)."""
    url, archive_sha256, files = ARCHIVES[name]
    directory = Path(directory)
    if all((directory / file).is_file() and sha256(directory / file) == digest for file, digest in files.items()):
        return
    with tempfile.TemporaryDirectory() as scratch:
        extract_flat(download(url, Path(scratch) / url.rsplit("/", 1)[1], archive_sha256), directory, files)
    for file, digest in files.items():
        if sha256(directory / file) != digest:
            raise ValueError(f"{file} from {url}: checksum mismatch")


for _name, (_url, *_) in ARCHIVES.items():
    register_dataset(Dataset(_name, TripleData, source=_url, format="triples",
                             download=lambda directory, _name=_name: download_archive(_name, directory)))
