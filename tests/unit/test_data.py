import shutil

import pytest
import torch

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import load_data
from sagemaker_dgl.data.csv_graph import load_csv_graph
from sagemaker_dgl.data.karate import load_karate
from sagemaker_dgl.data.planetoid import load_planetoid
from sagemaker_dgl.errors import ChannelError, DataFormatError
from tests.graphs import write_csv_graph


def hp(**raw):
    return Hyperparameters.from_sagemaker(raw)


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
    assert load_data(hp(), {"train": str(cora_dir)}).name == "cora"
    assert load_data(hp(), {"train": str(write_csv_graph(tmp_path / "g"))}).info["format"] == "csv"


def test_unknown_files_list_the_expected_formats(tmp_path):
    (tmp_path / "data.parquet").write_text("x")
    with pytest.raises(DataFormatError, match=r"csv: meta.yaml.*planetoid: ind.<name>"):
        load_data(hp(), {"train": str(tmp_path)})


def test_empty_or_missing_channel(tmp_path):
    with pytest.raises(ChannelError, match="channel 'train'.*is empty"):
        load_data(hp(), {"train": str(tmp_path)})
    with pytest.raises(ChannelError, match="does not exist"):
        load_data(hp(), {"train": str(tmp_path / "nope")})


def test_format_without_channel_says_how_to_pass_it():
    with pytest.raises(ChannelError, match="reads channel 'train'"):
        load_data(hp(data_format="csv"), {})


def test_default_is_karate_offline():
    data = load_data(hp(), {})
    assert data.name == "karate" and data.graph.num_nodes() == 34 and data.graph.num_edges() == 156
    assert int(data.graph.ndata["train_mask"].sum()) == 2


def test_split_channels_override_masks(tmp_path):
    directory = write_csv_graph(tmp_path / "g", num_nodes=60, masks=False)
    (tmp_path / "val").mkdir()
    (tmp_path / "val" / "ids.csv").write_text("node_id\n1\n2\n3\n")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "ids.txt").write_text("4\n5\n6\n")
    graph = load_data(hp(), {"train": str(directory), "validation": str(tmp_path / "val"),
                             "test": str(tmp_path / "test")}).graph
    assert torch.nonzero(graph.ndata["val_mask"]).flatten().tolist() == [1, 2, 3]
    assert torch.nonzero(graph.ndata["test_mask"]).flatten().tolist() == [4, 5, 6]
    assert int(graph.ndata["train_mask"].sum()) == 54


def test_karate_labels_the_two_factions():
    graph = load_karate().graph
    assert graph.ndata["label"][0] == 0 and graph.ndata["label"][33] == 1


def test_offline_download_says_how_to_use_a_channel(monkeypatch, tmp_path):
    import sagemaker_dgl.data.loading as loading

    monkeypatch.setattr(loading, "CACHE_DIR", tmp_path)

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(loading, "download", offline)
    with pytest.raises(ChannelError, match=r"could not be downloaded.*channel 'train'.*ind.pubmed"):
        load_data(hp(dataset="pubmed"), {})
