"""Metric log lines and the matching SageMaker ``metric_definitions``.

Every epoch logs one line of ``name=value`` pairs, e.g.::

    epoch=12 train_loss=0.4123 train_accuracy=0.9286 epoch_train_time=0.0101 val_loss=0.7781 val_accuracy=0.7810 epoch_time=0.0123

(validation metrics only on the epochs validated, ``lr`` when a schedule runs), and the job
ends with a ``final`` line holding the best epoch's metrics and the test metrics of the model it
saved. :func:`metric_definitions` parses these lines for every registered task's metrics; pass
``METRIC_DEFINITIONS`` to ``Estimator(metric_definitions=...)``. Tune on the task's validation
objective, never on a test metric.
"""
from typing import Dict, List

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|nan|inf)"
#: Metrics the trainer logs for every task: seconds of the epoch's training part and of the whole
#: epoch (validation included), and the learning rate when a schedule runs.
TRAINER_METRICS = ("epoch_train_time", "epoch_time", "lr")


def metric_definitions() -> List[Dict[str, str]]:
    """One ``{'Name': ..., 'Regex': ...}`` per metric a registered task or the trainer logs."""
    from .tasks import TASKS

    names = dict.fromkeys(name for task in TASKS.values() for name in task.logged_metrics)
    names.update(dict.fromkeys(TRAINER_METRICS))
    return [{"Name": name, "Regex": rf"\b{name}={_NUMBER}"} for name in names]


def format_metrics(metrics: Dict[str, float]) -> str:
    """``{'epoch': 3, 'val_accuracy': 0.78}`` -> ``'epoch=3 val_accuracy=0.7800'``."""
    return " ".join(f"{key}={value}" if isinstance(value, int) else f"{key}={value:.4f}" for key, value in metrics.items())
