import re

import pytest

from sagemaker_dgl.config import Hyperparameters, hyperparameter_tables
from sagemaker_dgl.errors import ConfigError, IncompatibleTaskError
from tests.conftest import ROOT


def parse(**raw):
    return Hyperparameters.from_sagemaker(raw)


def test_defaults_follow_each_model():
    gcn = parse()
    assert (gcn.common.model, gcn.model.hidden_size, gcn.model.dropout, gcn.common.lr, gcn.common.weight_decay,
            gcn.common.epochs) == ("gcn", 16, 0.5, 0.01, 5e-4, 200)
    gat = parse(model="gat")
    assert (gat.model.hidden_size, gat.model.num_heads, gat.model.dropout, gat.model.attn_dropout, gat.common.lr) == (
        8, 8, 0.6, 0.6, 0.005)
    assert parse(model="graphsage").model.aggregator == "mean"


def test_user_value_beats_model_default():
    assert parse(model="gat", lr="0.01").common.lr == 0.01


@pytest.mark.parametrize("raw, expected", [("0.01", 0.01), ('"0.01"', 0.01), ("1e-3", 0.001), ("1", 1.0)])
def test_numbers_plain_or_json_encoded(raw, expected):
    assert parse(lr=raw).common.lr == expected


@pytest.mark.parametrize("raw", ["cora", '"cora"', "CORA"])
def test_strings_plain_or_json_encoded(raw):
    assert parse(dataset=raw).common.dataset == "cora"


@pytest.mark.parametrize("raw, expected", [("true", True), ("True", True), ("TRUE", True), ("1", True),
                                           ("false", False), ("False", False), ("0", False)])
def test_booleans_in_any_case_and_digits(raw, expected):
    assert parse(model="gat", residual=raw).model.residual is expected


@pytest.mark.parametrize("raw", ["10,25", "[10, 25]", '"10,25"'])
def test_fanouts_forms(raw):
    assert parse(model="graphsage", fanouts=raw).task.fanouts == [10, 25]


def test_toolkit_keys_are_skipped():
    assert parse(sagemaker_program="train.py", sagemaker_region='"us-east-1"').common.model == "gcn"


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
    with pytest.raises(ConfigError, match=r"unknown model 'gcnn'; choose one of: complex, dgmg, distmult, gat, gcmc, gcn, .*'gcn'"):
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


def test_key_of_another_model_names_it():
    with pytest.raises(ConfigError, match=r"hyperparameter 'num_heads' applies to model gat \(chosen: task "
                                          r"node_classification, model gcn\)"):
        parse(num_heads="4")


def test_key_of_several_models_lists_them():
    with pytest.raises(ConfigError, match=r"'aggregator' applies to model graphsage"):
        parse(model="gat", aggregator="pool")


def test_model_that_does_not_serve_the_task(monkeypatch):
    from sagemaker_dgl.models import MODELS, ModelSpec
    from sagemaker_dgl.config import HyperparameterGroup

    monkeypatch.setitem(MODELS._entries, "transe", {"link_prediction": ModelSpec(
        "transe", "link_prediction", object, HyperparameterGroup)})
    with pytest.raises(IncompatibleTaskError, match=r"model 'transe' does not do task 'node_classification'; "
                                                    r"models for it: gat, gcn, graphsage"):
        parse(model="transe", task="node_classification")


def test_order_of_checks_unknown_key_first():
    with pytest.raises(ConfigError, match="unknown hyperparameter 'epoch'"):
        parse(epoch="3", num_heads="4", dropout="7")
    with pytest.raises(ConfigError, match="applies to model gat"):
        parse(num_heads="4", dropout="7")


def test_names_match_in_any_case():
    hp = parse(model="GCN", task="Node_Classification", dataset="Cora", data_format="CSV")
    assert (hp.common.model, hp.common.task, hp.common.dataset, hp.common.data_format) == (
        "gcn", "node_classification", "cora", "csv")


def test_data_format_choices_come_from_the_format_registry():
    with pytest.raises(ConfigError, match=r"unknown data format 'parquet'; choose one of: csv, .*, planetoid, .*, triples, tu"):
        parse(data_format="parquet")


def test_infinite_values_are_rejected():
    with pytest.raises(ConfigError, match=r"'lr'=.*inf.* is invalid"):
        parse(lr="Infinity")


def test_task_is_inferred_from_a_model_with_one_task():
    assert parse(model="gat").common.task == "node_classification"


def test_fingerprint_ignores_resumable_and_inactive_keys():
    base = parse().fingerprint()
    assert parse(epochs="500", device="cpu", early_stopping_patience="5", checkpoint_interval="3").fingerprint() == base
    assert parse(batch_size="16", num_workers="2", momentum="0.9", lr_patience="3").fingerprint() == base
    assert parse(lr="0.02").fingerprint() != base
    assert parse(fanouts="5,5", batch_size="16").fingerprint() != parse(fanouts="5,5").fingerprint()


def test_every_default_of_a_registration_is_a_known_field():
    from sagemaker_dgl.config import CommonHyperparameters
    from sagemaker_dgl.models import MODELS
    from sagemaker_dgl.tasks import TASKS

    for spec in MODELS.specs():
        fields = {*CommonHyperparameters.model_fields, *TASKS.get(spec.task).hyperparameters.model_fields,
                  *spec.hyperparameters.model_fields}
        assert set(spec.defaults) <= fields, spec


def test_readme_tables_match_the_groups():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- BEGIN hyperparameters -->\n(.*?)\n<!-- END hyperparameters -->", readme, re.S)
    assert block, "README.md lacks the generated hyperparameter tables"
    assert block.group(1).strip() == hyperparameter_tables().strip(), "run: sagemaker-dgl hyperparameters"


def test_registry_errors_reach_the_failure_file_as_client_errors():
    """The toolkit writes a ClientError's message alone (no 'Framework Error' traceback)."""
    from sagemaker_training.errors import ClientError

    from sagemaker_dgl.models import MODELS

    with pytest.raises(ClientError, match="unknown model 'nope'"):
        MODELS.get("nope")


def test_many_unknown_keys_still_fit_the_failure_reason():
    with pytest.raises(ConfigError) as error:
        parse(**{f"unknown_key_number_{i}": "1" for i in range(40)})
    assert len(str(error.value)) < 1024 and "unknown hyperparameter" in str(error.value)
