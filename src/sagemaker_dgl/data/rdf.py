"""RDF graphs with labelled entities (AIFB, MUTAG), as R-GCN classifies them.

Schlichtkrull et al., "Modeling Relational Data with Graph Convolutional Networks", ESWC 2018;
datasets and splits from Ristoski, de Vries & Paulheim, ISWC 2016. Expected files in the channel::

    <graph>.n3 | .nt | .ttl   the RDF graph: Notation3, N-Triples or Turtle, optionally gzipped
                              (.nt.gz); several graph files are merged
    trainingSet.tsv           tab-separated with a header line: the entity URI first; the label in the
                              column whose header starts with 'label' (else the second); others ignored
    testSet.tsv               the same, for the test entities

Every distinct subject and object is a node, literals included (as R-GCN counts them). The label
predicates (``affiliation``/``employs`` for AIFB, ``isMutagenic`` for MUTAG) state the labels and
must be removed before training; the task does that (its ``label_predicates`` hyperparameter),
and this reader lists in ``info['label_predicates']`` the known ones the graph contains.

| dataset | entities | triples | relations | classes | train/test |
|---------|----------|---------|-----------|---------|------------|
| aifb    | 8,285    | 29,043  | 45        | 4       | 140/36     |
| mutag   | 23,644   | 74,227  | 23        | 2       | 272/68     |

(after removing the label predicates; the R-GCN paper's figures).
"""
import gzip
import io
import logging
import time
import zipfile
from functools import partial
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import torch

from ..errors import DataFormatError, JobInterrupted
from ._base import Dataset, HeteroGraphData, register_dataset, register_format
from .download import download, extract_flat

logger = logging.getLogger(__name__)

#: Graph file suffixes -> rdflib format (a further ``.gz`` means gzip).
GRAPH_SUFFIXES = {".nt": "nt", ".n3": "n3", ".ttl": "turtle"}
TRAIN_FILE, TEST_FILE = "trainingSet.tsv", "testSet.tsv"
#: The predicates that state each named dataset's labels (removed before training, as in R-GCN).
LABEL_PREDICATES: Dict[str, Tuple[str, ...]] = {
    "aifb": ("http://swrc.ontoware.org/ontology#affiliation", "http://swrc.ontoware.org/ontology#employs"),
    "mutag": ("http://dl-learner.org/carcinogenesis#isMutagenic",),
}
#: DGL's distribution archives of the named datasets: URL and SHA-256.
ARCHIVES: Dict[str, Tuple[str, str]] = {
    "aifb": ("https://data.dgl.ai/dataset/rdf/aifb-hetero.zip",
             "763acf6b87744843db9426b1a9e6bef33e47cda0feddf0c0d5d8203b52de731f"),
    "mutag": ("https://data.dgl.ai/dataset/rdf/mutag-hetero.zip",
              "3a9e5632ad56a3abd2baf010672e9e32edda041b355a30ecfe392743016a47e1"),
}
#: A progress line every this many triples.
PROGRESS_EVERY = 50_000


def graph_files(directory: Path) -> List[Path]:
    """The RDF graph files directly in ``directory`` (``*.nt``, ``*.n3``, ``*.ttl``, each maybe ``.gz``)."""
    return sorted(p for p in Path(directory).iterdir() if p.is_file() and _rdf_format(p) is not None)


def _rdf_format(path: Path) -> Optional[str]:
    suffixes = path.suffixes[-2:] if path.suffix == ".gz" else path.suffixes[-1:]
    return GRAPH_SUFFIXES.get(suffixes[0]) if suffixes else None


def _detect(directory: Path) -> bool:
    return (Path(directory) / TRAIN_FILE).is_file() and bool(graph_files(directory))


def download_rdf(name: str, directory: Path) -> None:
    """Fetch DGL's ``<name>-hetero.zip`` into ``directory`` (SHA-256 checked) and extract its files there."""
    url, checksum = ARCHIVES[name]
    directory = Path(directory)
    extract_flat(download(url, directory / url.rsplit("/", 1)[1], checksum), directory)


for _name in ARCHIVES:
    register_dataset(Dataset(_name, HeteroGraphData, source=ARCHIVES[_name][0], format="rdf",
                             download=partial(download_rdf, _name)))


@register_format("rdf", detect=_detect, expects=f"an RDF graph (*.nt, *.n3, *.ttl, maybe .gz), {TRAIN_FILE}, {TEST_FILE}",
                 produces=HeteroGraphData)
def load_rdf(directory: Path, name: Optional[str] = None) -> HeteroGraphData:
    """Read the RDF graph and the labelled entities of ``directory``."""
    from rdflib import BNode

    directory = Path(directory)
    files = graph_files(directory)
    if not files:
        below = sorted({str(p.parent.relative_to(directory)) for p in directory.rglob("*")
                        if p.is_file() and _rdf_format(p) and p.parent != directory})
        where = f"; there are some one folder down, in {', '.join(below)}: point the channel there" if below else ""
        raise DataFormatError(f"no RDF graph file (*.nt, *.n3, *.ttl, optionally .gz) in {directory}{where}")
    for label_file in (TRAIN_FILE, TEST_FILE):
        if not (directory / label_file).is_file():
            raise DataFormatError(
                f"{label_file} is missing in {directory}: the rdf format needs {TRAIN_FILE} and {TEST_FILE} "
                "(tab-separated, a header line, then entity URI and label on each line)"
            )
    triples: Dict[tuple, None] = {}  # an RDF graph is a set of triples; a dict keeps the file order
    for path in files:
        started = time.perf_counter()
        logger.info("parsing %s (%d bytes)", path.name, path.stat().st_size)
        before = len(triples)
        triples.update(dict.fromkeys(_parse(path)))
        logger.info("parsed %s: %d triples in %.1f s", path.name, len(triples) - before, time.perf_counter() - started)
    if not triples:
        raise DataFormatError(f"{', '.join(p.name for p in files)}: the RDF graph holds no triples")
    names: Dict[object, str] = {}
    blank_nodes = 0
    for subject, _, obj in triples:
        for term in (subject, obj):
            if term not in names:  # blank nodes by first appearance: rdflib's ids change every parse
                names[term] = f"_:b{blank_nodes}" if isinstance(term, BNode) else entity_name(term)
                blank_nodes += isinstance(term, BNode)
    entities = sorted(set(names.values()))  # sorted: ids do not depend on the parse order
    entity_id = {entity: index for index, entity in enumerate(entities)}
    relations = sorted({str(predicate) for _, predicate, _ in triples})
    relation_id = {relation: index for index, relation in enumerate(relations)}
    ids = torch.tensor([(entity_id[names[s]], relation_id[str(p)], entity_id[names[o]]) for s, p, o in triples],
                       dtype=torch.int64)
    rows = {split: _read_labels(directory / file_name, entity_id) for split, file_name in
            (("train", TRAIN_FILE), ("test", TEST_FILE))}
    _check_disjoint(rows, entities)
    classes = sorted({label for split_rows in rows.values() for _, label in split_rows})
    class_id = {label: index for index, label in enumerate(classes)}
    labels = {split: (torch.tensor([entity for entity, _ in split_rows], dtype=torch.int64),
                      torch.tensor([class_id[label] for _, label in split_rows], dtype=torch.int64))
              for split, split_rows in rows.items()}
    known = LABEL_PREDICATES.get(name) or tuple(p for known in LABEL_PREDICATES.values() for p in known)
    found = [predicate for predicate in known if predicate in relation_id]
    logger.info("RDF graph: %d entities, %d triples, %d relations; %d train and %d test entities, %d classes%s",
                len(entities), len(ids), len(relations), len(rows["train"]), len(rows["test"]), len(classes),
                f"; label predicates found: {', '.join(found)}" if found else "")
    info = {"format": "rdf", "graph_files": [p.name for p in files], "label_predicates": found}
    return HeteroGraphData(ids, entities, relations, labels, classes, name or files[0].name.split(".")[0], info)


def entity_name(term) -> str:
    """The name of an RDF term, on one line: the URI, ``_:id`` for a blank node (the reader
    numbers them ``_:b<n>`` by first appearance instead), and N-Triples
    text for a literal (``"text"@en``, ``"1.5"^^<http://www.w3.org/2001/XMLSchema#double>``)."""
    from rdflib import BNode, Literal

    if isinstance(term, BNode):
        return f"_:{term}"
    if not isinstance(term, Literal):
        return str(term)
    text = (str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t"))
    if term.language:
        return f'"{text}"@{term.language}'
    return f'"{text}"^^<{term.datatype}>' if term.datatype else f'"{text}"'


def _open_text(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8")


def _parse(path: Path) -> Iterator[tuple]:
    """The triples of one graph file; a syntax error names the file and the line."""
    rdf_format = _rdf_format(path)
    try:
        if rdf_format == "nt":
            yield from _parse_ntriples(path)
            return
        import rdflib

        with _open_text(path) as handle:
            text = handle.read()
        graph = rdflib.Graph()
        graph.parse(data=text, format=rdf_format)
        yield from graph.triples((None, None, None))
    except JobInterrupted:
        raise
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path.name} is not UTF-8 text ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:  # gzip raises BadGzipFile (an OSError), EOFError
        raise DataFormatError(f"{path.name} cannot be read ({type(error).__name__}: {error}); upload it again") from None
    except DataFormatError:
        raise
    except Exception as error:  # rdflib's parsers raise BadSyntax (a SyntaxError) and others
        line = getattr(error, "lines", None)
        why = getattr(error, "_why", None) or str(error).splitlines()[0]
        where = f" line {line + 1}" if isinstance(line, int) else ""
        raise DataFormatError(
            f"{path.name}{where}: not valid {rdf_format.upper() if rdf_format != 'turtle' else 'Turtle'} "
            f"({why[:300]}); check the file, or name it .nt, .n3 or .ttl after its syntax"
        ) from None


class _Collect:
    """An rdflib sink that keeps the triples."""

    def __init__(self):
        self.triples: List[tuple] = []

    def triple(self, subject, predicate, obj):
        self.triples.append((subject, predicate, obj))


def _parse_ntriples(path: Path) -> Iterable[tuple]:
    """N-Triples line by line, with rdflib's parser: errors get their line number, and a progress
    line every :data:`PROGRESS_EVERY` triples."""
    from rdflib.exceptions import ParserError
    from rdflib.plugins.parsers.ntriples import W3CNTriplesParser

    sink = _Collect()
    parser = W3CNTriplesParser(sink)
    blank_nodes: dict = {}  # one blank-node context for the whole file
    next_report = PROGRESS_EVERY
    with _open_text(path) as handle:
        for number, line in enumerate(handle, 1):
            parser.line = line.strip()
            try:
                parser.parseline(bnode_context=blank_nodes)
            except ParserError as error:
                raise DataFormatError(
                    f"{path.name} line {number}: not valid N-Triples ({error}): {line.strip()[:120]!r}"
                ) from None
            if len(sink.triples) >= next_report:
                logger.info("parsing %s: %d triples (line %d)", path.name, len(sink.triples), number)
                next_report += PROGRESS_EVERY
    return sink.triples


def _read_labels(path: Path, entity_id: Dict[str, int]) -> List[Tuple[int, str]]:
    """``(entity id, label)`` of each line of a label file: the entity URI in the first column, the
    label in the first column whose header starts with ``label`` (``label_affiliation``), else the second."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path.name} is not UTF-8 text ({error})") from None
    header = lines[0].rstrip("\r").split("\t") if lines else []
    if len(header) < 2:
        raise DataFormatError(
            f"{path.name} line 1: expected a header of at least 2 tab-separated columns (entity URI, label, ...), "
            f"got {(lines[0] if lines else '')[:120]!r}"
        )
    column = next((index for index, name in enumerate(header) if name.strip().lower().startswith("label")), 1)
    rows: Dict[int, str] = {}
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) <= column or not fields[column].strip():
            raise DataFormatError(
                f"{path.name} line {number}: expected {max(column + 1, 2)} tab-separated columns like the header "
                f"({', '.join(header)[:120]}) with the label in column {column + 1}, got {line.strip()[:120]!r}"
            )
        entity, label = fields[0].strip(), fields[column].strip()
        if entity.startswith("<") and entity.endswith(">"):
            entity = entity[1:-1]
        if entity not in entity_id:
            raise DataFormatError(
                f"{path.name} line {number}: entity {entity[:200]!r} is not in the RDF graph (no triple names it)"
            )
        if rows.setdefault(entity_id[entity], label) != label:
            raise DataFormatError(f"{path.name} line {number}: entity {entity[:200]!r} is listed again with another "
                                  f"label ({rows[entity_id[entity]]!r}, then {label!r})")
    if not rows:
        raise DataFormatError(f"{path.name} lists no entities (a header line, then one 'URI<TAB>label' line each)")
    return list(rows.items())


def _check_disjoint(rows: Dict[str, List[Tuple[int, str]]], entities: List[str]) -> None:
    shared = {entity for entity, _ in rows["train"]} & {entity for entity, _ in rows["test"]}
    if shared:
        example = entities[min(shared)]
        raise DataFormatError(
            f"{TRAIN_FILE} and {TEST_FILE} share {len(shared)} entities (e.g. {example[:200]!r}); "
            "an entity may be in one of them only"
        )
