"""JTNN's featurised molecules (sagemaker_dgl.data.junction_trees): shards written by worker
processes, read back from the cache, molecules a vocabulary does not cover left out and counted."""
import logging

import pytest

from tests.conftest import dataset_dir

junction_trees = pytest.importorskip("sagemaker_dgl.data.junction_trees")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(junction_trees, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(junction_trees, "SHARD_SIZE", 5)
    return tmp_path


def test_shards_are_featurised_in_parallel_and_read_back_from_the_cache(cache, caplog):
    from dgllife.data.jtvae import JTVAEDataset

    from sagemaker_dgl.models.jtnn_fixes import ClusterVocabulary

    molecules = (dataset_dir("zinc_jtnn") / "train_20k.txt").read_text().split()[:12]
    vocabulary = ClusterVocabulary.from_file(dataset_dir("zinc_jtnn") / "vocab.txt")
    with caplog.at_level(logging.INFO):
        trees = junction_trees.featurise_molecules(molecules, vocabulary.vocab, True, "train", workers=2)
    assert len(trees.shards) == 3 and trees.all_smiles == molecules and trees.uncovered == trees.failed == 0
    assert "train: featurising 12 molecules for JTNN in 3 shards, 2 workers" in caplog.text
    assert "train: featurised 12/12 molecules" in caplog.text

    (cache / "molecules.txt").write_text("\n".join(molecules) + "\n")
    fresh = JTVAEDataset(str(cache / "molecules.txt"), vocabulary, training=True)[7]
    cached = trees.load(1)[2]
    assert cached[0].smiles == fresh[0].smiles and len(cached[0].nodes_dict) == len(fresh[0].nodes_dict)
    assert cached[1].num_edges() == fresh[1].num_edges() and len(cached[2]) == len(fresh[2])

    caplog.clear()
    with caplog.at_level(logging.INFO):
        again = junction_trees.featurise_molecules(molecules, vocabulary.vocab, True, "train", workers=2)
    assert "3 of 3 shards of featurised molecules read from the cache" in caplog.text
    assert "featurising" not in caplog.text and again.all_smiles == molecules


def test_molecules_outside_the_vocabulary_are_left_out_and_counted(cache):
    from sagemaker_dgl.models.jtnn_fixes import ClusterVocabulary

    vocabulary = ClusterVocabulary.from_molecules(["CCOc1ccccc1"]).vocab
    trees = junction_trees.featurise_molecules(["CCOc1ccccc1", "c1ccncc1", "CCOc1ccccc1C"], vocabulary, False, "test",
                                               workers=1)
    assert trees.all_smiles == ["CCOc1ccccc1", "CCOc1ccccc1C"] and trees.uncovered == 1
