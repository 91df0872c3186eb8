"""The interface between a task and the task-agnostic trainer."""
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Dict

import torch
from torch import nn

from ..registry import Registry

TASKS = Registry("task", hyperparameter="task")
register_task = TASKS.register


class Task(ABC):
    """One learning problem on one dataset.

    Args:
        hyperparameters: the job's :class:`~sagemaker_dgl.config.Hyperparameters`.
        data: what the data format produced (see :mod:`sagemaker_dgl.data`).
        device: where to train.
    """

    #: Metric that selects the best epoch (higher is better); a validation metric, never test.
    objective: str = "val_accuracy"

    def __init__(self, hyperparameters, data, device: torch.device):
        self.hp = hyperparameters
        self.data = data
        self.device = device

    @abstractmethod
    def model_args(self) -> Dict[str, Any]:
        """Registry constructor arguments of the model for this data (saved with the model)."""

    @abstractmethod
    def train_epoch(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> Dict[str, float]:
        """One pass over the training data; returns metrics such as ``train_loss``."""

    @abstractmethod
    def evaluate(self, model: nn.Module, split: str) -> Dict[str, float]:
        """Metrics on ``split`` ('train', 'val' or 'test'), named ``<split>_<metric>``."""

    @abstractmethod
    def data_facts(self) -> Dict[str, Any]:
        """What a user needs to know to use the saved model (sizes, class count, ...)."""

    def export(self, model: nn.Module, output_dir: Path) -> Dict[str, str]:
        """Write extra outputs (embeddings, plots) to ``output_dir``; returns name -> file."""
        return {}
