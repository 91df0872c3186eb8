"""The bad-input catalogue: each class of bad or unusual input, through `.venv/bin/train`.

Every case ends with exit != 0, a failure file under 1024 characters with no traceback that names
the cause, an empty /opt/ml/model, and the user's files (the channels) unchanged.
"""
import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import pytest

from sagemaker_dgl.cli import LayoutError, lay_out_job
from tests.conftest import TRAIN, finish, job_env, run_job
from tests.graphs import write_csv_graph, write_movielens_100k, write_triples, write_tu

pytestmark = pytest.mark.integration


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_clean_failure(job, *fragments, code=None):
    assert job.returncode != 0 if code is None else job.returncode == code, job.log[-3000:]
    assert job.model_files == [], "a failed job must leave /opt/ml/model empty"
    assert job.failure, job.log[-3000:]
    assert "Traceback" not in job.failure and len(job.failure) < 1024, job.failure
    for fragment in fragments:
        assert fragment in job.failure, job.failure


def csv_with_masks(directory: Path, edit) -> Path:
    """A generated CSV graph whose nodes.csv rows (with masks) are rewritten by ``edit(fields) -> fields``."""
    write_csv_graph(directory, num_nodes=60)
    lines = (directory / "nodes.csv").read_text().splitlines()
    rows = [lines[0]]
    for line in lines[1:]:
        head, feat, tail = line.split('"')
        rows.append(head + '"' + feat + '"' + ",".join(edit(tail.lstrip(",").split(","))).join([",", ""]))
    (directory / "nodes.csv").write_text("\n".join(rows) + "\n")
    return directory


def edit_row(directory: Path, row: int, label=None, feat=None) -> Path:
    """Replace the label or the features of data row ``row`` (1-based) of nodes.csv."""
    lines = (directory / "nodes.csv").read_text().splitlines()
    head, old_feat, tail = lines[row].split('"')
    node, old_label = head.rstrip(",").split(",")
    lines[row] = f'{node},{label if label is not None else old_label},"{feat if feat is not None else old_feat}"{tail}'
    (directory / "nodes.csv").write_text("\n".join(lines) + "\n")
    return directory


def ids_channel(directory: Path, ids) -> Path:
    directory.mkdir(parents=True)
    (directory / "ids.txt").write_text("\n".join(map(str, ids)) + "\n")
    return directory


def planetoid_copy(tmp: Path, part: str = None, value=None) -> Path:
    """The real Cora files, with ``ind.cora.<part>`` replaced by a pickle of ``value``."""
    import pickle

    from tests.conftest import dataset_dir

    channel = tmp / "cora"
    shutil.copytree(dataset_dir("cora"), channel)
    if part is not None:
        (channel / f"ind.cora.{part}").write_bytes(pickle.dumps(value))
    return channel


def one_folder_down(tmp: Path) -> Path:
    planetoid_copy(tmp / "upload")
    return tmp / "upload"


CASES = {
    # hyperparameters
    "nested value": ({"model": '{"name": "gcn"}'}, None, ["unknown model {'name': 'gcn'}"]),
    "unknown key": ({"learning_rate": "0.1"}, None, ["unknown hyperparameter 'learning_rate'", "did you mean 'lr'"]),
    "key of another model": ({"num_heads": "4"}, None, ["'num_heads' applies to model gat"]),
    "boolean epochs": ({"epochs": "true"}, None, ["'epochs'=True is a boolean"]),
    "infinite lr": ({"lr": "Infinity"}, None, ["'lr'=inf is invalid", "finite"]),
    "misspelled toolkit key": ({"sagemaker_progam": "train.py"}, None, ["did you mean 'sagemaker_program'"]),
    # channels
    "unknown channel": ({}, lambda tmp: {"training": write_csv_graph(tmp / "g")},
                        ["channel 'training' is not one that task node_classification reads", "'train'"]),
    # splits that would give NaN metrics or leak test data
    "no validation nodes": ({"val_fraction": "0"}, lambda tmp: {"train": write_csv_graph(tmp / "g", masks=False)},
                            ["no val nodes", "val_fraction > 0"]),
    "val_mask all false": ({}, lambda tmp: {"train": csv_with_masks(tmp / "g", lambda f: [f[0], "False", f[2]])},
                           ["no val nodes"]),
    "overlapping masks": ({}, lambda tmp: {"train": csv_with_masks(tmp / "g", lambda f: ["True", "True", f[2]])},
                          ["masks of dataset 'generated' overlap", "in both 'train' and 'val'"]),
    "empty mask cell": ({}, lambda tmp: {"train": csv_with_masks(tmp / "g", lambda f: [f[0], "", f[2]])},
                        ["nodes.csv data row 1, column 'val_mask': an empty cell is not true/false"]),
    # CSV cells, named by file, row and column
    "text in a feature": ({}, lambda tmp: {"train": edit_row(write_csv_graph(tmp / "g"), 3, feat="abc, 1, 2, 3, 4, 5, 6, 7")},
                          ["nodes.csv data row 3, column 'feat': 'abc' is not a number"]),
    "ragged feature row": ({}, lambda tmp: {"train": edit_row(write_csv_graph(tmp / "g"), 2, feat="1, 2, 3")},
                           ["nodes.csv data row 2, column 'feat': 3 values where the other rows have 8"]),
    "text label": ({}, lambda tmp: {"train": edit_row(write_csv_graph(tmp / "g"), 4, label="cat")},
                   ["nodes.csv data row 4, column 'label': 'cat' is not an integer class"]),
    "fractional label": ({}, lambda tmp: {"train": edit_row(write_csv_graph(tmp / "g"), 4, label="1.5")},
                         ["nodes.csv data row 4, column 'label': '1.5' is not an integer class"]),
    # Planetoid files that load but make no sense
    "negative neighbour id": ({}, lambda tmp: {"train": planetoid_copy(tmp, "graph", {0: [-3, 1], 1: [0]})},
                              ["ind.cora.graph: edge 0 -> -3 names a node outside 0..2707"]),
    "neighbour beyond the nodes": ({}, lambda tmp: {"train": planetoid_copy(tmp, "graph", {0: [5000]})},
                                   ["edge 0 -> 5000 names a node outside 0..2707"]),
    "pickle of the wrong type": ({}, lambda tmp: {"train": planetoid_copy(tmp, "allx", [[1, 2], [3, 4]])},
                                 ["ind.cora.allx must hold a scipy sparse matrix, not list"]),
    "planetoid files one folder down": ({"data_format": "planetoid"}, lambda tmp: {"train": one_folder_down(tmp)},
                                        ["they are one folder down, in cora: point the channel there"]),
    "planetoid format on a CSV channel": ({"data_format": "planetoid"},
                                          lambda tmp: {"train": write_csv_graph(tmp / "g")},
                                          ["no ind.<name>.graph file in"]),
    # script mode
    "missing submit directory": ({"sagemaker_program": "train.py", "sagemaker_submit_directory": "/nonexistent/code"},
                                 None, ["sagemaker_submit_directory /nonexistent/code does not exist"]),
    "missing script": ({"sagemaker_program": "trian.py"}, lambda tmp: {"code": write_script(tmp / "code")},
                       ["script 'trian.py' (sagemaker_program) is not in", "train.py"]),
    "validation and test channels share ids": (
        {}, lambda tmp: {"train": write_csv_graph(tmp / "g", masks=False),
                         "validation": ids_channel(tmp / "val", range(0, 10)),
                         "test": ids_channel(tmp / "test", range(5, 15))},
        ["the validation and test channels overlap: 5 node(s)"]),
}


def write_script(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "train.py").write_text("print('hello')\n")
    return directory


def sparse_ids_graph(tmp: Path) -> Path:
    """A CSV graph whose node ids are 0, 10, 20, ... (DGL numbers its nodes 0, 1, 2, ...)."""
    directory = write_csv_graph(tmp / "g", num_nodes=60, masks=False)
    nodes = (directory / "nodes.csv").read_text().splitlines()
    (directory / "nodes.csv").write_text("\n".join([nodes[0]] + [f"{int(r.split(',')[0]) * 10},{r.split(',', 1)[1]}"
                                                                for r in nodes[1:]]) + "\n")
    edges = (directory / "edges.csv").read_text().splitlines()
    (directory / "edges.csv").write_text("\n".join([edges[0]] + [",".join(str(int(v) * 10) for v in e.split(","))
                                                                for e in edges[1:]]) + "\n")
    return directory


CASES["split channel id that is not a node_id"] = (
    {}, lambda tmp: {"train": sparse_ids_graph(tmp), "validation": ids_channel(tmp / "val", [10, 20, 15])},
    ["ids.txt line 3 in channel 'validation': node id 15 is not in the graph (the node_id values of nodes.csv)"])
def unknown_edge_graph(tmp: Path) -> Path:
    directory = write_csv_graph(tmp / "g")
    with open(directory / "edges.csv", "a") as handle:
        handle.write("0,999\n")
    return directory


CASES["edge to an unknown node"] = ({}, lambda tmp: {"train": unknown_edge_graph(tmp)},
                                    ["an edge in edges.csv names node 999, which nodes.csv does not list"])


def edited_triples(tmp: Path, file: str, line: str = None, empty: bool = False) -> Path:
    """The generated knowledge graph with ``line`` inserted as line 3 of ``file`` (or ``file`` emptied)."""
    directory = write_triples(tmp / "kg")
    lines = (directory / file).read_text().splitlines(keepends=True)
    (directory / file).write_text("" if empty else "".join(lines[:2] + [line] + lines[2:]))
    return directory


# link prediction (knowledge-graph triples)
LINK = {"task": "link_prediction", "model": "distmult", "epochs": "2"}
CASES.update({
    "triple with two fields": (LINK, lambda tmp: {"train": edited_triples(tmp, "train.txt", "e1\tnext\n")},
                               ["train.txt line 3: 2 tab-separated field(s)", "head<TAB>relation<TAB>tail"]),
    "relation unseen in training": (LINK, lambda tmp: {"train": edited_triples(tmp, "test.txt", "e1\tfoo\te2\n")},
                                    ["test.txt line 3: relation 'foo' never appears in train.txt"]),
    "empty triples file": (LINK, lambda tmp: {"train": edited_triples(tmp, "valid.txt", empty=True)},
                           ["valid.txt is empty"]),
    "node model for link prediction": ({"task": "link_prediction", "model": "gcn"}, None,
                                       ["model 'gcn' does not do task 'link_prediction'; models for it: complex"]),
    "embedding model for node classification": ({"task": "node_classification", "model": "transe"}, None,
                                                ["model 'transe' does not do task 'node_classification'"]),
    "triples for node classification": ({"task": "node_classification"}, lambda tmp: {"train": write_triples(tmp / "kg")},
                                        ["task 'node_classification' trains on GraphData, but the data is TripleData"]),
    "rgcn link prediction scoring all entities": (
        {"model": "rgcn", "training": "1vsall"}, lambda tmp: {"train": write_triples(tmp / "kg")},
        ["model 'rgcn' trains on a sampled graph per batch", "needs training=negative_sampling"]),
    "model of several tasks without data to tell": (
        {"model": "rgcn"}, None, ["model 'rgcn' does several tasks (entity_classification, link_prediction)",
                                  "set hyperparameter 'task'"]),
})


EX, HEADER = "http://example.org/", "entity\tid\tlabel\n"


def rdf_channel(tmp: Path, graph: str = None, train: str = None, test: str = None, name: str = "graph.nt") -> Path:
    """A three-entity RDF graph with label files; any part replaced by the given text."""
    directory = tmp / "rdf"
    directory.mkdir(parents=True)
    (directory / name).write_text(graph if graph is not None else f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}b> <{EX}p> <{EX}c> .\n")
    (directory / "trainingSet.tsv").write_text(train if train is not None else HEADER + f"{EX}a\t1\tx\n{EX}b\t2\ty\n")
    (directory / "testSet.tsv").write_text(test if test is not None else HEADER + f"{EX}c\t3\tx\n")
    return directory


# entity classification (RDF)
RGCN = {"task": "entity_classification", "model": "rgcn", "epochs": "2"}
CASES.update({
    "rdf that does not parse": (RGCN, lambda tmp: {"train": rdf_channel(tmp, graph="<a:b> <a:c> oops .\n")},
                                ["graph.nt line 1", "not valid N-Triples"]),
    "empty rdf graph": (RGCN, lambda tmp: {"train": rdf_channel(tmp, graph="")}, ["holds no triples"]),
    "label of an entity not in the graph": (
        RGCN, lambda tmp: {"train": rdf_channel(tmp, train=HEADER + f"{EX}a\t1\tx\n{EX}nobody\t2\ty\n")},
        ["trainingSet.tsv line 3", "is not in the RDF graph"]),
    "label file with one column": (RGCN, lambda tmp: {"train": rdf_channel(tmp, train="entity\n" + f"{EX}a\n")},
                                   ["trainingSet.tsv line 1", "at least 2"]),
    "train and test labels share an entity": (
        RGCN, lambda tmp: {"train": rdf_channel(tmp, test=HEADER + f"{EX}a\t3\tx\n")}, ["share 1 entities"]),
    "bdd blocks that do not divide the hidden size": (
        {**RGCN, "decomposition": "bdd", "num_bases": "5"}, lambda tmp: {"train": rdf_channel(tmp)},
        ["num_bases=5", "hidden_size=16 divisible"]),
})


def edited_ratings(tmp: Path, file: str, number: int, line: str) -> Path:
    """The generated MovieLens 100K layout with line ``number`` of ``file`` replaced by ``line``."""
    directory = write_movielens_100k(tmp / "ml")
    lines = (directory / file).read_text().splitlines(keepends=True)
    lines[number - 1] = line
    (directory / file).write_text("".join(lines))
    return directory


# rating prediction (MovieLens layouts, CSV)
GCMC = {"model": "gcmc", "epochs": "2"}
CASES.update({
    "rating that is not a number": (GCMC, lambda tmp: {"train": edited_ratings(tmp, "u.data", 4, "3\t7\tfive\t0\n")},
                                    ["u.data line 4: rating 'five' is not a number"]),
    "rating outside the scale": (GCMC, lambda tmp: {"train": edited_ratings(tmp, "u.data", 4, "3\t7\t6\t0\n")},
                                 ["u.data line 4: rating 6 is outside the scale of MovieLens 100K (1, 2, 3, 4, 5)"]),
    "split file naming a rating the data lacks": (
        GCMC, lambda tmp: {"train": edited_ratings(tmp, "u1.test", 2, "500\t7\t3\t0\n")},
        ["u1.test line 2: user 500 and item 7 are not a rating in u.data"]),
    "a split the data does not have": ({**GCMC, "split": "u4"}, lambda tmp: {"train": write_movielens_100k(tmp / "ml")},
                                       ["split='u4': dataset 'train' has no such split (its splits: u1)"]),
    "ratings for link prediction": ({"task": "link_prediction", "model": "distmult"}, lambda tmp: {"train": write_movielens_100k(tmp / "ml")},
                                    ["task 'link_prediction' trains on TripleData, but the data is RatingData"]),
    "gcmc for node classification": ({"task": "node_classification", "model": "gcmc"}, None,
                                     ["model 'gcmc' does not do task 'node_classification'"]),
})


def table_channel(tmp: Path, text: str, name: str = "molecules.csv") -> Path:
    """A channel holding one CSV file with ``text``."""
    directory = tmp / "table"
    directory.mkdir(parents=True)
    (directory / name).write_text(text)
    return directory


def tu_with_an_edge_to_the_last_node(tmp: Path) -> Path:
    """The generated TU set (10 graphs) with an edge from node 1 (graph 1) to the last node (graph 10)
    as the second line of its edge list."""
    directory = write_tu(tmp / "tu", num_graphs=10)
    last = len((directory / "CYCLES_graph_indicator.txt").read_text().splitlines())
    lines = (directory / "CYCLES_A.txt").read_text().splitlines(keepends=True)
    (directory / "CYCLES_A.txt").write_text("".join(lines[:1] + [f"1, {last}\n"] + lines[1:]))
    return directory


# graph prediction (TU, DGL's binary file)
CASES.update({
    "TU edge between two graphs": ({"model": "gin", "epochs": "2"},
                                   lambda tmp: {"train": tu_with_an_edge_to_the_last_node(tmp)},
                                   ["CYCLES_A.txt line 2: edge 1, ", "joins node 1 of graph 1 and node",
                                    "of graph 10; CYCLES_graph_indicator.txt and the edge list disagree"]),
    "graph set whose train split is one graph": (
        {"model": "gin", "train_fraction": "0.03", "val_fraction": "0.5"},
        lambda tmp: {"train": write_tu(tmp / "tu", num_graphs=40)},
        ["the train split of 40 graphs holds one graph", "raise train_fraction"]),
    "graph family that does not exist": ({"model": "dgmg", "graph_family": "cycle"}, None,
                                         ["unknown graph family 'cycle'", "choose one of: cycles", "'graph_family'"]),
    "gin for node classification": ({"task": "node_classification", "model": "gin"}, None,
                                    ["model 'gin' does not do task 'node_classification'"]),
    "molecule CSV without a SMILES column": (
        {"model": "gin", "data_format": "molecules_csv"},
        lambda tmp: {"train": table_channel(tmp, "structure,active\nCCO,1\nCCN,0\n")},
        ["molecules.csv has no SMILES column", "its columns are: structure, active", "smiles_column"]),
    "molecule target that is not a number": (
        {"model": "gin", "task_columns": "active"},
        lambda tmp: {"train": table_channel(tmp, "smiles,active\nCCO,1\nCCN,yes\n")},
        ["molecules.csv line 3, column 'active': 'yes' is not a number"]),
    "molecule target 2 where 0/1 is expected": (
        {"model": "gin"}, lambda tmp: {"train": table_channel(tmp, "smiles,active\nCCO,1\nCCN,2\n")},
        ["molecules.csv line 3, column 'active': '2' is not 0, 1 or empty", "target_type=regression"]),
    "no SMILES RDKit can parse": ({"model": "gin"}, lambda tmp: {"train": table_channel(tmp, "smiles,active\nxx,1\nyy,0\n")},
                                  ["RDKit parsed none of the 2 SMILES strings"]),
})

# graph generation (molecules)
CASES.update({
    "SMILES file with no valid molecule": (
        {"model": "dgmg", "data_format": "smiles_lines"},
        lambda tmp: {"train": table_channel(tmp, "hello\nworld  two\n\n", name="train.txt")},
        ["train.txt: no line holds a SMILES string RDKit can parse (2 lines tried)", "one molecule per line"]),
    "vocabulary that does not cover the training molecules": (
        {"model": "jtnn"},
        lambda tmp: {"train": smiles_channel(tmp, ZINC_MOLECULES, vocabulary="C1=CC=CC=C1\nCC\n")},
        ["4 of 4 training molecules (100.0%) have a cluster outside", "vocab.txt, more than max_uncovered=0.01",
         "remove vocab.txt from the channel to build the vocabulary from the training molecules, or raise max_uncovered"]),
    "JTNN without molecules": ({"model": "jtnn"}, None,
                               ["model jtnn generates molecules: give a 'train' channel with SMILES files"]),
})

ZINC_MOLECULES = ["CC(C)(C)c1ccc2occ(CC(=O)Nc3ccccc3F)c2c1", "C[C@@H]1CC(Nc2cncc(-c3nncn3C)c2)C[C@@H](C)C1",
                  "N#Cc1ccc(-c2ccc(O[C@@H](C(=O)N3CCCC3)c3ccccc3)cc2)cc1", "CCOC(=O)[C@@H]1CCCN(C(=O)c2nc(-c3ccc(C)cc3)n3c2CCCCC3)C1"]


def smiles_channel(tmp: Path, molecules, vocabulary: Optional[str] = None) -> Path:
    """A smiles_lines channel: train.txt with ``molecules``, and ``vocabulary`` as vocab.txt."""
    directory = tmp / "molecules"
    directory.mkdir(parents=True)
    (directory / "train.txt").write_text("\n".join(molecules) + "\n")
    if vocabulary is not None:
        (directory / "vocab.txt").write_text(vocabulary)
    return directory


def test_ratings_of_users_and_items_absent_from_training_stay_in_the_test(tmp_path):
    """Not an error: GCMC predicts them from what it has (documented), and the job counts them."""
    channel = write_movielens_100k(tmp_path / "ml")
    with open(channel / "u.data", "a") as handle:
        handle.write("777\t1\t4\t0\n1\t888\t2\t0\n")
    with open(channel / "u1.test", "a") as handle:
        handle.write("777\t1\t4\t0\n1\t888\t2\t0\n")
    job = run_job(tmp_path / "job", GCMC, {"train": channel})
    assert job.returncode == 0, job.log[-3000:]
    assert "2 test rating(s) have a user or item without a training or validation rating" in job.log
    assert json.loads((tmp_path / "job" / "model" / "model_config.json").read_text())["data"][
        "test_ratings_with_unseen_user_or_item"] == 2


def test_molecules_a_vocabulary_does_not_cover_are_left_out_below_the_share(tmp_path):
    """Not an error up to max_uncovered: JTNN trains on the covered molecules and says how many it left out."""
    vocabulary = ("C1=CC=CC=C1\nCC\nC1=COC=C1\nC1=CC=NC=C1\nCN\nCO\nC=O\nCF\nC1CCNCC1\nC1=NN=CN1\nC1CCCC1\n"
                  "C1CCC1\nC1=CN=CN1\nC1CCNC1\nCC(C)C\nC1=CSC=N1\nC#N\nC1=CC=CC=C1\nC1=CCCCC1\n")
    job = run_job(tmp_path / "job", {"model": "jtnn", "max_uncovered": 1.0, "hidden_size": 16, "latent_size": 8,
                                     "epochs": 1, "val_samples": 2, "test_samples": 2},
                  {"train": smiles_channel(tmp_path, ZINC_MOLECULES + ["CCOc1ccccc1", "Cc1ccncc1"], vocabulary)})
    assert job.returncode == 0, job.log[-3000:]
    facts = json.loads((tmp_path / "job" / "model" / "model_config.json").read_text())["data"]
    assert facts["train_molecules"] >= 1 and facts["uncovered_molecules"] >= 1, facts
    assert (f"train: {facts['train_molecules']} molecules as junction trees; {facts['uncovered_molecules']} with a "
            "cluster outside the vocabulary") in job.log


def test_triples_with_entities_only_in_the_test_split_train(tmp_path):
    """Not an error: the entity stays in the evaluation (LibKGE's honest figure) and is counted."""
    channel = edited_triples(tmp_path / "data", "test.txt", "e1\tnext\tstranger\n")
    job = run_job(tmp_path / "job", LINK, {"train": channel})
    assert job.returncode == 0, job.log[-3000:]
    assert "1 test triple(s) name an entity that is not in train.txt" in job.log
    assert json.loads((tmp_path / "job" / "model" / "model_config.json").read_text())["data"][
        "test_triples_with_unseen_entities"] == 1


@pytest.mark.parametrize("edit", ["no edges", "extra columns"])
def test_unusual_but_valid_csv_graphs_train(tmp_path, edit):
    directory = write_csv_graph(tmp_path / "g", num_nodes=60)
    if edit == "no edges":
        (directory / "edges.csv").write_text("src_id,dst_id\n")
    else:
        lines = (directory / "nodes.csv").read_text().splitlines()
        (directory / "nodes.csv").write_text("\n".join([lines[0] + ",note"] + [line + ",free text, here"[:10]
                                                                              for line in lines[1:]]) + "\n")
        edges = (directory / "edges.csv").read_text().splitlines()
        (directory / "edges.csv").write_text("\n".join([edges[0] + ",weight"] + [e + ",0.5" for e in edges[1:]]) + "\n")
    job = run_job(tmp_path / "job", {"model": "graphsage", "epochs": 20}, {"train": directory})
    assert job.returncode == 0, job.log[-3000:]
    history = job.metrics["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"], "it learns"
    if edit == "extra columns":
        assert "ignoring columns ['note']" in job.log and "ignoring columns ['weight']" in job.log


def test_split_channels_use_the_node_ids_of_the_data(tmp_path):
    channels = {"train": sparse_ids_graph(tmp_path), "validation": ids_channel(tmp_path / "val", [0, 10, 20]),
                "test": ids_channel(tmp_path / "test", [30, 590])}
    job = run_job(tmp_path / "job", {"epochs": 5}, channels)
    assert job.returncode == 0, job.log[-3000:]
    config = json.loads((tmp_path / "job" / "model" / "model_config.json").read_text())
    assert (config["data"]["num_val_nodes"], config["data"]["num_test_nodes"]) == (3, 2)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """Every case's job, two at a time: most of a failing job's time is its imports, on one core."""
    def run(folder: Path, hyperparameters, channels):
        before = snapshot(folder / "data")
        job = run_job(folder / "job", hyperparameters, channels)
        return job, before, snapshot(folder / "data")

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for name, (hyperparameters, make_channels, _) in CASES.items():
            folder = tmp_path_factory.mktemp("case")
            channels = make_channels(folder / "data") if make_channels else {}
            if "code" in channels:  # the script-mode case passes its source folder as the submit directory
                hyperparameters = {**hyperparameters, "sagemaker_submit_directory": str(channels.pop("code"))}
            futures[name] = pool.submit(run, folder, hyperparameters, channels)
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_fails_cleanly(catalogue, name):
    job, before, after = catalogue[name]
    assert_clean_failure(job, *CASES[name][2])
    assert after == before, "the job changed the user's files"


@pytest.mark.parametrize("edit, fragment", [
    (lambda config: (config / "hyperparameters.json").unlink(), "hyperparameters.json is missing"),
    (lambda config: (config / "inputdataconfig.json").write_text(
        json.dumps({"train": {"TrainingInputMode": "Pipe"}})), "input mode Pipe, which this image does not read"),
    (lambda config: (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-9", "hosts": ["algo-1"]})), None),
], ids=["no hyperparameters.json", "pipe mode", "host not listed"])
def test_bad_job_config_fails_cleanly(tmp_path, edit, fragment):
    channels = {"train": write_csv_graph(tmp_path / "data")}
    hyperparameters = {}
    if fragment is None:  # the host check guards a user script
        hyperparameters = {"sagemaker_program": "train.py", "sagemaker_submit_directory": str(
            write_script(tmp_path / "code"))}
        fragment = "current_host 'algo-9' is not among the hosts ['algo-1']"
    lay_out_job(tmp_path / "job", hyperparameters, channels)
    edit(tmp_path / "job" / "input" / "config")
    completed = subprocess.run([TRAIN], env=job_env(tmp_path / "job"), capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1, completed.stdout[-2000:] + completed.stderr[-2000:]
    failure = (tmp_path / "job" / "output" / "failure").read_text()
    assert fragment in failure and "Traceback" not in failure and len(failure) < 1024, failure


@pytest.mark.parametrize("damage, fragment", [
    ("-5\n", "node id -5 is negative"),
    ("0\n0\n", "node id 0 is listed 2 times"),
])
def test_planetoid_test_index_with_bad_ids(tmp_path, cora_dir, damage, fragment):
    channel = tmp_path / "cora"
    shutil.copytree(cora_dir, channel)
    index = channel / "ind.cora.test.index"
    index.write_text(damage + index.read_text())
    assert_clean_failure(run_job(tmp_path / "job", {}, {"train": channel}), fragment)


def test_resuming_with_fewer_epochs_than_the_checkpoint(tmp_path):
    first = run_job(tmp_path, {"epochs": 20, "checkpoint_interval": 10}, checkpoints=True)
    assert first.returncode == 0, first.log
    assert_clean_failure(run_job(tmp_path, {"epochs": 5, "checkpoint_interval": 10}, checkpoints=True),
                         "at epoch 20, beyond epochs=5")


@pytest.mark.parametrize("folder", ["model", "output/data", "checkpoints"])
def test_unwritable_folder_fails_before_training(tmp_path, folder):
    lay_out_job(tmp_path, {}, {})
    path = tmp_path / folder
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a file where a folder belongs")
    completed = subprocess.run([TRAIN], env=job_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1
    failure = (tmp_path / "output" / "failure").read_text()
    assert f"{path} is not a writable folder" in failure and "Traceback" not in failure
    assert " epoch=1 " not in completed.stdout + completed.stderr


def test_unwritable_output_folder_exits_non_zero_with_the_reason_on_stderr(tmp_path):
    lay_out_job(tmp_path, {}, {})
    shutil.rmtree(tmp_path / "output")
    (tmp_path / "output").write_text("a file where a folder belongs")
    completed = subprocess.run([TRAIN], env=job_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1
    assert f"{tmp_path / 'output'} is not a writable folder" in completed.stderr


def start(tmp_path, hyperparameters, channels=None):
    lay_out_job(tmp_path, hyperparameters, channels or {})
    return subprocess.Popen([TRAIN], env=job_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def wait_for(process, marker: str, timeout: float = 120) -> str:
    """Read the job's output until ``marker`` appears; returns what was read."""
    seen, deadline = [], time.monotonic() + timeout
    for line in process.stdout:
        seen.append(line)
        if marker in line or time.monotonic() > deadline:
            break
    return "".join(seen)


@pytest.mark.parametrize("delay", [0.1, 0.3, 0.6, 1.2])  # a signal in different imports (psutil, torch, DGL)
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_during_start_up_leaves_a_reason(tmp_path, signum, code, delay):
    process = start(tmp_path, {"epochs": 200})
    time.sleep(delay)
    process.send_signal(signum)
    log = finish(process)
    assert process.returncode == code, log
    failure = (tmp_path / "output" / "failure").read_text()
    assert f"stopped by {signal.Signals(signum).name}" in failure and "Traceback" not in failure
    assert list((tmp_path / "model").iterdir()) == []


def test_ctrl_c_during_training_exits_130(tmp_path):
    process = start(tmp_path, {"epochs": 100000})
    log = wait_for(process, " epoch=5 ")
    process.send_signal(signal.SIGINT)
    log += finish(process)
    assert process.returncode == 130, log
    assert "stopped by SIGINT (Ctrl-C)" in (tmp_path / "output" / "failure").read_text()


def test_sigterm_in_script_mode_stops_the_script_and_leaves_a_reason(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "slow.py").write_text("import time\nprint('script started', flush=True)\ntime.sleep(300)\n")
    process = start(tmp_path / "job", {"sagemaker_program": "slow.py", "sagemaker_submit_directory": str(source)})
    log = wait_for(process, "script started")
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    log += finish(process)
    assert process.returncode == 143, log
    assert time.monotonic() - started < 60
    assert "stopped by SIGTERM" in (tmp_path / "job" / "output" / "failure").read_text()


def test_local_refuses_a_folder_it_did_not_lay_out(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mine.pt").write_text("the user's own model")
    with pytest.raises(LayoutError, match="is not empty and was not laid out by sagemaker-dgl local"):
        lay_out_job(tmp_path, {}, {})
    assert (tmp_path / "model" / "mine.pt").read_text() == "the user's own model"
    completed = subprocess.run([str(Path(sys.executable).parent / "sagemaker-dgl"), "local", "--base-dir",
                                str(tmp_path)], capture_output=True, text=True)
    assert completed.returncode == 2 and "--force" in completed.stderr
    assert (tmp_path / "model" / "mine.pt").exists()


def test_local_never_deletes_a_channel_inside_the_job_folder(tmp_path):
    lay_out_job(tmp_path, {}, {})
    data = write_csv_graph(tmp_path / "input" / "mydata")
    before = snapshot(data)
    with pytest.raises(LayoutError, match="lies inside the job folder"):
        lay_out_job(tmp_path, {}, {"train": data})
    assert snapshot(data) == before


def test_local_names_the_users_missing_channel_path(tmp_path):
    completed = subprocess.run([str(Path(sys.executable).parent / "sagemaker-dgl"), "local", "--base-dir",
                                str(tmp_path / "job"), "--channel", "train=/nonexistent/cora"],
                               capture_output=True, text=True)
    assert completed.returncode == 2 and "channel 'train': /nonexistent/cora is not a folder" in completed.stderr


def test_every_json_output_parses_strictly(tmp_path):
    job = run_job(tmp_path, {"epochs": 5})
    assert job.returncode == 0, job.log
    for path in [tmp_path / "output" / "data" / "metrics.json", tmp_path / "model" / "model_config.json"]:
        json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(f"{path} holds {name}"))
