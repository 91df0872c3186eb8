import re

import pytest

from sagemaker_dgl.config import Hyperparameters, hyperparameter_table
from sagemaker_dgl.errors import ConfigError
from tests.conftest import ROOT


def parse(**raw):
    return Hyperparameters.from_sagemaker(raw)


def test_defaults_follow_each_model():
    gcn = parse()
    assert (gcn.model, gcn.hidden_size, gcn.dropout, gcn.lr, gcn.weight_decay, gcn.epochs) == (
        "gcn", 16, 0.5, 0.01, 5e-4, 200)
    gat = parse(model="gat")
    assert (gat.hidden_size, gat.num_heads, gat.dropout, gat.attn_dropout, gat.lr) == (8, 8, 0.6, 0.6, 0.005)
    assert parse(model="graphsage").aggregator == "mean"


def test_user_value_beats_model_default():
    assert parse(model="gat", lr="0.01").lr == 0.01


@pytest.mark.parametrize("raw, expected", [("0.01", 0.01), ('"0.01"', 0.01), ("1e-3", 0.001), ("1", 1.0)])
def test_numbers_plain_or_json_encoded(raw, expected):
    assert parse(lr=raw).lr == expected


@pytest.mark.parametrize("raw", ["cora", '"cora"', "CORA"])
def test_strings_plain_or_json_encoded(raw):
    assert parse(dataset=raw).dataset == "cora"


@pytest.mark.parametrize("raw, expected", [("true", True), ("True", True), ("TRUE", True), ("1", True),
                                           ("false", False), ("False", False), ("0", False)])
def test_booleans_in_any_case_and_digits(raw, expected):
    assert parse(residual=raw).residual is expected


@pytest.mark.parametrize("raw", ["10,25", "[10, 25]", '"10,25"'])
def test_fanouts_forms(raw):
    assert parse(model="graphsage", fanouts=raw).fanouts == [10, 25]


def test_toolkit_keys_are_skipped():
    assert parse(sagemaker_program="train.py", sagemaker_region='"us-east-1"').model == "gcn"


def test_unknown_key_suggests_our_name_for_a_common_one():
    with pytest.raises(ConfigError, match=r"unknown hyperparameter 'learning_rate' \(did you mean 'lr'\?\)"):
        parse(learning_rate="0.1")


def test_unknown_key_close_match():
    with pytest.raises(ConfigError, match=r"'epoch' \(did you mean 'epochs'\?\)"):
        parse(epoch="10")


def test_wrong_type_names_key_value_and_type():
    with pytest.raises(ConfigError) as error:
        parse(epochs="ten")
    assert "'epochs'='ten'" in str(error.value) and "expected int" in str(error.value)


def test_out_of_range_names_the_bound():
    with pytest.raises(ConfigError, match=r"'dropout'=1.5 is invalid.*< 1.0"):
        parse(dropout="1.5")


def test_unknown_model_lists_choices():
    with pytest.raises(ConfigError, match=r"unknown model 'gcnn'; choose one of: gat, gcn, graphsage.*'gcn'"):
        parse(model="gcnn")


def test_bad_choice_lists_allowed_values():
    with pytest.raises(ConfigError, match=r"'device'='tpu'.*one of auto, cpu, cuda"):
        parse(device="tpu")


def test_fanouts_must_match_layers():
    with pytest.raises(ConfigError, match="one fanout per layer"):
        parse(fanouts="10,10,10")


def test_message_fits_failure_reason():
    with pytest.raises(ConfigError) as error:
        parse(epochs="x", lr="y", dropout="2")
    assert len(str(error.value)) < 1024


def test_readme_table_matches_the_model():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- BEGIN hyperparameters -->\n(.*?)\n<!-- END hyperparameters -->", readme, re.S)
    assert block, "README.md lacks the generated hyperparameter table"
    assert block.group(1).strip() == hyperparameter_table().strip(), "run: sagemaker-dgl hyperparameters"
