"""The rdf data format: tiny generated RDF graphs, label predicates, bad input, the download."""
import gzip
import logging
import hashlib
import zipfile
from pathlib import Path

import pytest
import torch

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import FORMATS, HeteroGraphData, load_data
from sagemaker_dgl.data.rdf import load_rdf
from sagemaker_dgl.errors import DataFormatError
from sagemaker_dgl.tasks import TASKS

EX = "http://example.org/"
LABEL = EX + "label"
TRIPLES = f"""<{EX}a> <{EX}knows> <{EX}b> .
<{EX}b> <{EX}knows> <{EX}c> .
<{EX}c> <{EX}name> "C\\tsee" .
<{EX}a> <{EX}worksAt> _:org .
<{EX}d> <{EX}worksAt> _:org .
<{EX}a> <{LABEL}> <{EX}red> .
"""
TSV_HEADER = "entity\tid\tlabel_colour\n"
TRAIN = TSV_HEADER + f"{EX}a\t1\tred\n{EX}b\t2\tblue\n{EX}d\t3\tred\n"
TEST = TSV_HEADER + f"{EX}c\t4\tblue\n"


def channel(tmp_path: Path, graph: str = TRIPLES, name: str = "graph.nt", train: str = TRAIN,
            test: str = TEST) -> Path:
    directory = tmp_path / "channel"
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(graph, bytes):  # written as is
        (directory / name).write_bytes(graph)
    else:
        (directory / name).write_bytes(gzip.compress(graph.encode()) if name.endswith(".gz") else graph.encode())
    for file_name, text in (("trainingSet.tsv", train), ("testSet.tsv", test)):
        if text is not None:
            (directory / file_name).write_text(text)
    return directory


def test_ntriples_entities_relations_labels(tmp_path):
    data = load_rdf(channel(tmp_path))
    assert isinstance(data, HeteroGraphData) and FORMATS.get("rdf").detect(tmp_path / "channel")
    # a, b, c, d, red, the literal, the blank node: every subject and object, literals included
    assert len(data.entities) == 7 and len(data.triples) == 6
    assert data.relations == [EX + "knows", LABEL, EX + "name", EX + "worksAt"]
    assert '"C\\tsee"^^<http://www.w3.org/2001/XMLSchema#string>' in data.entities or '"C\\tsee"' in data.entities
    assert data.classes == ["blue", "red"]
    ids, classes = data.labels["train"]
    assert [data.entities[i] for i in ids] == [EX + "a", EX + "b", EX + "d"] and classes.tolist() == [1, 0, 1]
    assert data.info["label_predicates"] == []  # not a known one: the user names it


def test_every_relation_gets_its_inverse(tmp_path):
    data = load_rdf(channel(tmp_path))
    graph = data.graph()
    assert data.num_relations == 8 and graph.num_edges() == 12
    a, b = data.entities.index(EX + "a"), data.entities.index(EX + "b")
    knows = data.relations.index(EX + "knows")
    assert graph.edata["etype"][graph.edge_ids(a, b)] == knows
    assert graph.edata["etype"][graph.edge_ids(b, a)] == knows + 4


@pytest.mark.parametrize("name, syntax", [("graph.nt.gz", None), ("graph.n3", "n3"), ("graph.ttl", "turtle")])
def test_n3_turtle_and_gzip_read_the_same_graph(tmp_path, name, syntax):
    reference = load_rdf(channel(tmp_path / "nt"))
    text = TRIPLES if syntax is None else f"@prefix ex: <{EX}> .\n" + TRIPLES.replace(f"<{EX}worksAt>", "ex:worksAt")
    data = load_rdf(channel(tmp_path, text, name))
    def named(d):
        return sorted((d.entities[s], d.relations[r], d.entities[o]) for s, r, o in d.triples.tolist())

    assert data.entities == reference.entities and named(data) == named(reference)


def test_label_predicates_are_removed_given_or_detected(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    directory = channel(tmp_path)
    hp = Hyperparameters.from_sagemaker({"task": "entity_classification", "model": "rgcn", "label_predicates": LABEL,
                                      "val_fraction": 0.4})
    data = load_data(TASKS.get("entity_classification"), hp, {"train": str(directory)})
    task = TASKS.get("entity_classification")(hp, data, {"train": str(directory)}, torch.device("cpu"))
    assert LABEL not in task.data.relations and EX + "red" not in task.data.entities
    assert len(task.data.triples) == 5 and task.data_facts()["label_predicates_removed"] == {LABEL: 1}
    assert f"removed 1 triples of label predicate {LABEL}" in caplog.text
    # a known label predicate is found without being named
    known = "http://swrc.ontoware.org/ontology#affiliation"
    detected = load_rdf(channel(tmp_path / "known", TRIPLES.replace(LABEL, known)))
    assert detected.info["label_predicates"] == [known]
    hp = Hyperparameters.from_sagemaker({"task": "entity_classification", "model": "rgcn", "val_fraction": 0.4})
    task = TASKS.get("entity_classification")(hp, detected, {}, torch.device("cpu"))
    assert known not in task.data.relations


def test_named_datasets_have_their_label_predicates(tmp_path):
    data = load_rdf(channel(tmp_path, TRIPLES.replace(LABEL, "http://dl-learner.org/carcinogenesis#isMutagenic")),
                    "mutag")
    assert data.info["label_predicates"] == ["http://dl-learner.org/carcinogenesis#isMutagenic"]


@pytest.mark.parametrize("graph, name, train, test, fragments", [
    (TRIPLES + "<a:b> <a:c> oops .\n", "graph.nt", TRAIN, TEST, ["graph.nt line 7", "not valid N-Triples"]),
    (f"@prefix ex: <{EX}> .\nex:a ex:b ex:c .\nex:a ex:b \"open .\n", "graph.n3", TRAIN, TEST,
     ["graph.n3 line 3", "not valid N3"]),
    ("", "graph.nt", TRAIN, TEST, ["graph.nt", "holds no triples"]),
    (b"not gzip", "graph.nt.gz", TRAIN, TEST, ["graph.nt.gz cannot be read"]),
    (TRIPLES, "graph.nt", TRAIN + f"{EX}nobody\t9\tred\n", TEST,
     ["trainingSet.tsv line 5", f"'{EX}nobody' is not in the RDF graph"]),
    (TRIPLES, "graph.nt", "entity\n" + f"{EX}a\n", TEST, ["trainingSet.tsv line 1", "at least 2"]),
    (TRIPLES, "graph.nt", TRAIN + f"{EX}b\n", TEST, ["trainingSet.tsv line 5", "tab-separated columns"]),
    (TRIPLES, "graph.nt", TRAIN, None, ["testSet.tsv is missing"]),
    (TRIPLES, "graph.nt", TRAIN, TSV_HEADER, ["testSet.tsv lists no entities"]),
    (TRIPLES, "graph.nt", TRAIN, TEST + f"{EX}a\t1\tred\n", ["share 1 entities", f"'{EX}a'"]),
], ids=["bad-ntriples", "bad-n3", "empty", "not-gzip", "unknown-entity", "one-column-header", "short-row",
        "no-test-file", "empty-test-file", "train-test-overlap"])
def test_bad_input_names_the_file_and_line(tmp_path, graph, name, train, test, fragments):
    with pytest.raises(DataFormatError) as caught:
        load_rdf(channel(tmp_path, graph, name, train, test))
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_no_label_files(tmp_path):
    directory = channel(tmp_path, train=None, test=None)
    assert not FORMATS.get("rdf").detect(directory)
    with pytest.raises(DataFormatError, match="trainingSet.tsv is missing"):
        load_rdf(directory)


def test_an_entity_only_in_label_triples_is_an_error(tmp_path):
    graph = TRIPLES + f"<{EX}e> <{LABEL}> <{EX}red> .\n"
    data = load_rdf(channel(tmp_path, graph, train=TRAIN + f"{EX}e\t5\tred\n"))
    hp = Hyperparameters.from_sagemaker({"task": "entity_classification", "model": "rgcn", "label_predicates": LABEL})
    with pytest.raises(DataFormatError, match="only in triples of the removed label predicates"):
        TASKS.get("entity_classification")(hp, data, {}, torch.device("cpu"))


def test_download_over_http_checks_the_checksum(tmp_path, monkeypatch):
    """The aifb download (a local server holding a zip of a tiny graph in a folder, as DGL's are)."""
    import functools
    import http.server
    import threading

    import sagemaker_dgl.data.rdf as rdf
    from sagemaker_dgl.data import DATASETS, load_dataset
    from sagemaker_dgl.errors import ChannelError

    source = channel(tmp_path)
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "aifb-hetero.zip", "w") as archive:
        for path in source.iterdir():
            archive.write(path, f"aifb-hetero/{path.name}")
    checksum = hashlib.sha256((served / "aifb-hetero.zip").read_bytes()).hexdigest()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr("sagemaker_dgl.data.loading.CACHE_DIR", tmp_path / "cache")
    try:
        monkeypatch.setitem(rdf.ARCHIVES, "aifb", (f"http://127.0.0.1:{server.server_port}/aifb-hetero.zip", checksum))
        data = load_dataset(DATASETS.get("aifb"))
        assert data.name == "aifb" and len(data.triples) == 6
        assert (tmp_path / "cache" / "aifb" / "graph.nt").is_file()
        (tmp_path / "cache" / "aifb" / "aifb-hetero.zip").unlink()
        monkeypatch.setitem(rdf.ARCHIVES, "aifb", (rdf.ARCHIVES["aifb"][0], "0" * 64))
        with pytest.raises(ChannelError, match="could not be downloaded.*checksum mismatch"):
            load_dataset(DATASETS.get("aifb"))
    finally:
        server.shutdown()
