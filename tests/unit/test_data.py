import shutil

import pytest
import torch

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import DATASETS, FORMATS, GraphData, load_data, register_format
from sagemaker_dgl.data.csv_graph import load_csv_graph
from sagemaker_dgl.data.karate import load_karate
from sagemaker_dgl.data.planetoid import load_planetoid
from sagemaker_dgl.errors import ChannelError, DataFormatError
from sagemaker_dgl.tasks import TASKS
from tests.graphs import write_csv_graph

NodeClassification = TASKS.get("node_classification")


def hp(**raw):
    return Hyperparameters.from_sagemaker(raw)


def load(hyperparameters, channels):
    return load_data(NodeClassification, hyperparameters, channels)


def task(hyperparameters, channels):
    """The node classification task on the channels' data."""
    return NodeClassification(hyperparameters, load(hyperparameters, channels), channels, torch.device("cpu"))


def test_cora_matches_its_provenance(cora_dir):
    graph = load_planetoid(cora_dir).graph
    assert graph.num_nodes() == 2708 and graph.num_edges() == 10556
    assert graph.ndata["feat"].shape == (2708, 1433)
    assert int(graph.ndata["label"].max()) == 6
    counts = [int(graph.ndata[f"{s}_mask"].sum()) for s in ("train", "val", "test")]
    assert counts == [140, 500, 1000]


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_planetoid_file_is_named(cora_dir, tmp_path, damage):
    channel = tmp_path / "cora"
    shutil.copytree(cora_dir, channel)
    target = channel / "ind.cora.allx"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a pickle" + data[100:])
    with pytest.raises(DataFormatError, match="ind.cora.allx is corrupt or truncated"):
        load_planetoid(channel)


def test_missing_planetoid_part_is_named(cora_dir, tmp_path):
    channel = tmp_path / "cora"
    shutil.copytree(cora_dir, channel)
    (channel / "ind.cora.ty").unlink()
    with pytest.raises(DataFormatError, match="missing ind.cora.ty"):
        load_planetoid(channel)


def test_csv_graph_reads_features_labels_masks(tmp_path):
    graph = load_csv_graph(write_csv_graph(tmp_path / "g", num_nodes=50)).graph
    assert graph.num_nodes() == 50 and graph.ndata["feat"].shape == (50, 8)
    assert graph.ndata["train_mask"].dtype == torch.bool and int(graph.ndata["train_mask"].sum()) == 25
    assert not list(tmp_path.glob("g/*.bin")), "the channel must stay read-only (no DGL cache written)"


def test_csv_with_a_broken_file_names_it(tmp_path):
    directory = write_csv_graph(tmp_path / "g")
    (directory / "edges.csv").write_text("src_id,dst_id\n1,notanumber\n")
    with pytest.raises(DataFormatError, match="cannot read the CSV dataset"):
        load_csv_graph(directory)


def test_format_is_detected_from_the_files(tmp_path, cora_dir):
    assert load(hp(), {"train": str(cora_dir)}).name == "cora"
    assert load(hp(), {"train": str(write_csv_graph(tmp_path / "g"))}).info["format"] == "csv"


def test_unknown_files_list_the_expected_formats(tmp_path):
    (tmp_path / "data.parquet").write_text("x")
    with pytest.raises(DataFormatError, match=r"csv: meta.yaml.*planetoid: ind.<name>"):
        load(hp(), {"train": str(tmp_path)})


def test_empty_or_missing_channel(tmp_path):
    with pytest.raises(ChannelError, match="channel 'train'.*is empty"):
        load(hp(), {"train": str(tmp_path)})
    with pytest.raises(ChannelError, match="does not exist"):
        load(hp(), {"train": str(tmp_path / "nope")})


def test_format_without_channel_says_how_to_pass_it():
    with pytest.raises(ChannelError, match="reads channel 'train'"):
        load(hp(data_format="csv"), {})


def test_default_is_karate_offline():
    data = load(hp(), {})
    assert data.name == "karate" and data.graph.num_nodes() == 34 and data.graph.num_edges() == 156
    assert int(data.graph.ndata["train_mask"].sum()) == 2


def test_split_channels_override_masks(tmp_path):
    directory = write_csv_graph(tmp_path / "g", num_nodes=60, masks=False)
    (tmp_path / "val").mkdir()
    (tmp_path / "val" / "ids.csv").write_text("node_id\n1\n2\n3\n")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "ids.txt").write_text("4\n5\n6\n")
    nodes = task(hp(), {"train": str(directory), "validation": str(tmp_path / "val"),
                        "test": str(tmp_path / "test")})
    assert nodes.index["val"].tolist() == [1, 2, 3]
    assert nodes.index["test"].tolist() == [4, 5, 6]
    assert len(nodes.index["train"]) == 54


def test_karate_labels_the_two_factions():
    graph = load_karate().graph
    assert graph.ndata["label"][0] == 0 and graph.ndata["label"][33] == 1


def test_offline_download_says_how_to_use_a_channel(monkeypatch, tmp_path):
    import urllib.request

    import sagemaker_dgl.data.loading as loading

    monkeypatch.setattr(loading, "CACHE_DIR", tmp_path)

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ChannelError, match=r"could not be downloaded.*sagemaker-dgl download pubmed.*ind.pubmed"
                                           r".*channel 'train'"):
        load(hp(dataset="pubmed"), {})


def test_one_split_channel_carves_the_other_split_from_the_training_nodes(tmp_path):
    directory = write_csv_graph(tmp_path / "g", num_nodes=100, masks=False)
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "ids.txt").write_text("\n".join(map(str, range(10))) + "\n")
    nodes = task(hp(seed=3), {"train": str(directory), "test": str(tmp_path / "test")})
    assert nodes.index["test"].tolist() == list(range(10))
    assert len(nodes.index["val"]) == round(0.2 * 90) and len(nodes.index["train"]) == 90 - 18
    assert not set(nodes.index["val"].tolist()) & set(range(10))


def test_random_split_is_seeded_and_disjoint():
    from sagemaker_dgl.tasks import random_split

    ids = torch.arange(100, 200)
    first = random_split(ids, {"train": 0.6, "val": 0.2}, seed=1, rest="test")
    assert [len(first[s]) for s in ("train", "val", "test")] == [60, 20, 20]
    assert sorted(torch.cat(list(first.values())).tolist()) == ids.tolist()
    assert all(torch.equal(first[s], random_split(ids, {"train": 0.6, "val": 0.2}, 1, "test")[s]) for s in first)
    assert not torch.equal(first["train"], random_split(ids, {"train": 0.6, "val": 0.2}, 2, "test")["train"])


def test_several_matching_formats_are_named(tmp_path, monkeypatch):
    monkeypatch.setattr(FORMATS, "_entries", dict(FORMATS._entries))
    register_format("also_csv", detect=lambda d: (d / "meta.yaml").is_file(), expects="meta.yaml",
                    produces=GraphData)(lambda directory, name: None)
    with pytest.raises(DataFormatError, match=r"match several formats \(also_csv, csv\); set hyperparameter "
                                              r"data_format"):
        load(hp(), {"train": str(write_csv_graph(tmp_path / "g"))})


def test_each_format_file_registers_its_datasets():
    assert DATASETS.get("cora").format == "planetoid" and DATASETS.get("karate").build is not None
    assert NodeClassification.default_dataset == "karate"


def test_download_command_fetches_a_checksummed_dataset(cora_dir, tmp_path, monkeypatch):
    """`sagemaker-dgl download cora DIR` over HTTP (a local server holding the real files)."""
    import functools
    import http.server
    import threading

    import sagemaker_dgl.data.planetoid as planetoid
    from sagemaker_dgl.cli import main

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(cora_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(planetoid, "SOURCE_URL", f"http://127.0.0.1:{server.server_port}/ind.{{name}}.{{part}}")
        main(["download", "cora", str(tmp_path / "cora")])
    finally:
        server.shutdown()
    assert sorted(p.name for p in (tmp_path / "cora").iterdir()) == sorted(
        f"ind.cora.{part}" for part in planetoid.PARTS)
    assert load(hp(), {"train": str(tmp_path / "cora")}).graph.num_nodes() == 2708
    (tmp_path / "cora" / "ind.cora.x").write_bytes(b"tampered")
    monkeypatch.setattr(planetoid, "SOURCE_URL", "http://127.0.0.1:9/ind.{name}.{part}")
    with pytest.raises(SystemExit, match="could not be downloaded"):
        main(["download", "cora", str(tmp_path / "cora")])
