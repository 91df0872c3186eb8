"""The interface between a task and the task-agnostic trainer, job and artifacts.

A task turns its data into batches and a loss, evaluates a split, says which metric selects the
best epoch (its :class:`Objective`), and knows what its model needs: the sizes it is built with,
the files inference needs (saved with the model) and the :class:`Predictor` that
:func:`~sagemaker_dgl.load_model` returns. The trainer owns everything else: the optimiser step,
clipping, schedules, evaluation cadence, selection, early stopping and checkpoints.
"""
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Dict, Iterable, Literal, Mapping, Optional, Tuple, Type

import torch
from torch import nn

from ..config.groups import HyperparameterGroup
from ..registry import Registry


@dataclass(frozen=True)
class Objective:
    """The validation metric that selects the best epoch, and its direction.

    ``metric=None`` keeps the last evaluated epoch (a generative task without a score). On a tie,
    ``tie_breaker`` (a metric and its direction) decides; without one the earlier epoch stays.
    """

    metric: Optional[str]
    mode: Literal["max", "min"] = "max"
    tie_breaker: Optional[Tuple[str, Literal["max", "min"]]] = None

    def is_better(self, row: Mapping[str, float], best: Optional[Mapping[str, float]]) -> bool:
        """Whether evaluated ``row`` beats ``best`` (None: nothing selected yet). NaN never wins."""
        if self.metric is None:
            return True
        value = row[self.metric]
        if math.isnan(value):
            return False
        if best is None:
            return True
        if value != best[self.metric]:
            return value > best[self.metric] if self.mode == "max" else value < best[self.metric]
        if self.tie_breaker is None:
            return False
        key, mode = self.tie_breaker
        return row[key] > best[key] if mode == "max" else row[key] < best[key]

    def describe(self) -> Dict[str, Any]:
        """``{'metric': 'val_accuracy', 'mode': 'max'}`` for metrics.json."""
        return {"metric": self.metric if self.metric else "last_epoch", "mode": self.mode}


@dataclass
class Step:
    """What a training step returns: the loss to minimise, batch metrics (means, e.g.
    ``{'train_loss': 0.7}``) and the number of examples they are means over (weights the epoch's)."""

    loss: torch.Tensor
    metrics: Dict[str, float]
    count: int


class Predictor:
    """What :func:`~sagemaker_dgl.load_model` returns: the trained model in eval mode, its
    ``config`` (``model_config.json``) and the model folder, with the task's preprocessing."""

    def __init__(self, model: nn.Module, config: Dict[str, Any], model_dir: Path, device: torch.device):
        self.model = model
        self.config = config
        self.model_dir = Path(model_dir)
        self.device = device


class Task(ABC):
    """One learning problem on one dataset.

    Args:
        hp: the job's :class:`~sagemaker_dgl.config.Hyperparameters`.
        data: the container the data format produced (``data_type``).
        channels: channel name -> folder; a task reads its own optional channels (``channels``).
        device: where to train.
    """

    #: The task's hyperparameter group (declared in the task's file).
    hyperparameters: ClassVar[Type[HyperparameterGroup]] = HyperparameterGroup
    #: The sizes the task builds its models with (the keys of :meth:`model_sizes`).
    size_names: ClassVar[Tuple[str, ...]]
    #: The metric that selects the best epoch: a validation metric, never a test one.
    objective: ClassVar[Objective]
    #: False when this job has no validation split (set by the task): the trainer then skips
    #: validation and keeps the last epoch.
    validates: bool = True
    #: Every metric the task logs (``epoch_train_time``, ``epoch_time`` and ``lr`` are the
    #: trainer's); SageMaker metric definitions are built from these.
    logged_metrics: ClassVar[Tuple[str, ...]]
    #: The channels the task reads ('train' is read by the data format).
    channels: ClassVar[Tuple[str, ...]] = ("train",)
    #: The container the task trains on, and the dataset of a job without channel and ``dataset``.
    data_type: ClassVar[type]
    default_dataset: ClassVar[Optional[str]] = None
    #: What ``load_model`` returns for this task.
    predictor: ClassVar[Type[Predictor]] = Predictor
    #: Advice when the loss becomes NaN or infinite.
    divergence_hint: ClassVar[str] = "lower lr, set max_grad_norm, or check the data for extreme values"

    def __init__(self, hp, data, channels: Mapping[str, str], device: torch.device):
        self.hp = hp
        self.data = data
        self.channels = channels
        self.device = device

    @classmethod
    def check_hyperparameters(cls, hp) -> None:
        """Cross-group checks (raise :class:`~sagemaker_dgl.errors.ConfigError`); none by default."""

    @abstractmethod
    def model_sizes(self) -> Dict[str, Any]:
        """The sizes the model is built with, e.g. ``{'in_feats': 1433, 'num_classes': 7}``."""

    @abstractmethod
    def data_facts(self) -> Dict[str, Any]:
        """What a user needs to know to use the saved model (sizes, preprocessing, split sizes)."""

    @abstractmethod
    def train_batches(self, epoch: int) -> Iterable[Any]:
        """The batches of one training epoch."""

    @abstractmethod
    def training_step(self, model: nn.Module, batch: Any) -> Step:
        """Forward pass and loss of one batch (the trainer does backward and the optimiser step)."""

    @abstractmethod
    def evaluate(self, model: nn.Module, split: str) -> Dict[str, float]:
        """Metrics on ``split`` ('val' or 'test'), named ``<split>_<metric>``; runs under ``no_grad``."""

    def save_assets(self, model: nn.Module, directory: Path) -> Dict[str, str]:
        """Write what inference needs besides the weights into the model folder; returns name -> file."""
        return {}

    def write_outputs(self, model: nn.Module, directory: Path) -> Dict[str, str]:
        """Write outputs for people (embeddings, plots) to ``/opt/ml/output/data``; returns name -> file."""
        return {}


TASKS: Registry[Type[Task]] = Registry("task", hyperparameter="task")
register_task = TASKS.register
