"""Metric log lines and the matching SageMaker ``metric_definitions``.

Every epoch logs one line of ``name=value`` pairs, e.g.::

    epoch=12 train_loss=0.4123 train_accuracy=0.9286 val_loss=0.7781 val_accuracy=0.7810 epoch_time=0.0123

and the job ends with a ``final`` line holding the best epoch's validation metrics and the test
metrics of the model it saved. ``METRIC_DEFINITIONS`` parses these lines; pass it to
``Estimator(metric_definitions=...)``. Tune on ``val_accuracy`` (maximize), never on a test metric.
"""
from typing import Dict, List

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|nan|inf)"

#: Metric names logged by the built-in node classification task.
METRIC_NAMES = (
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "test_loss",
    "test_accuracy",
    "epoch_time",
)

#: ``Estimator(metric_definitions=METRIC_DEFINITIONS)``: one regex per logged metric.
METRIC_DEFINITIONS: List[Dict[str, str]] = [
    {"Name": name, "Regex": rf"\b{name}={_NUMBER}"} for name in METRIC_NAMES
]


def format_metrics(metrics: Dict[str, float]) -> str:
    """``{'epoch': 3, 'val_accuracy': 0.78}`` -> ``'epoch=3 val_accuracy=0.7800'``."""
    return " ".join(f"{key}={value}" if isinstance(value, int) else f"{key}={value:.4f}" for key, value in metrics.items())
