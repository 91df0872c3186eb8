import re

from sagemaker_dgl import METRIC_DEFINITIONS
from sagemaker_dgl.metrics import format_metrics

LINE = "2026-11-21 19:12:22,351 sagemaker_dgl.job INFO     " + format_metrics(
    {"best_epoch": 148, "train_loss": 0.5392, "val_accuracy": 0.802, "test_loss": 8.771e-05, "test_accuracy": 0.815}
)


def parse(line):
    found = {}
    for definition in METRIC_DEFINITIONS:
        match = re.search(definition["Regex"], line)
        if match:
            found[definition["Name"]] = float(match.group(1))
    return found


def test_definitions_parse_the_log_line():
    assert parse(LINE) == {"train_loss": 0.5392, "val_accuracy": 0.802, "test_loss": 0.0001, "test_accuracy": 0.815}


def test_a_prefixed_name_is_not_taken_for_another_metric():
    assert parse("best_val_accuracy=0.9 pretrain_loss=3") == {}


def test_nan_is_reported_not_skipped():
    assert parse("epoch=3 train_loss=nan")["train_loss"] != parse("epoch=3 train_loss=nan")["train_loss"]


def test_epoch_time_uses_the_same_format():
    assert parse(format_metrics({"epoch": 1, "epoch_time": 0.0123}))["epoch_time"] == 0.0123
