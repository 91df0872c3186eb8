"""The optimisation step every task shares: optimisers, gradient clipping, learning-rate schedules.

Dense parameters get the ``optimizer`` hyperparameter's optimiser with ``weight_decay``. Sparse
embeddings (``nn.Embedding(sparse=True)``, whose gradients touch only the rows a batch used) get
the sparse counterpart, without weight decay: ``SparseAdam`` for adam and adamw, ``Adagrad`` and
``SGD`` for themselves. Clipping (``max_grad_norm``) applies to the dense parameters. Schedules
(``lr_scheduler``) scale every optimiser's learning rate: ``step`` every ``lr_step_size``
epochs, ``plateau`` after ``lr_patience`` evaluations without a better objective (as DGL's GCMC
and R-GCN examples do); neither goes below ``min_lr``.
"""
from typing import Any, Dict, List, Optional

import torch
from torch import nn

from .errors import ConfigError

DENSE = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adagrad": torch.optim.Adagrad,
         "sgd": torch.optim.SGD}
SPARSE = {"adam": torch.optim.SparseAdam, "adamw": torch.optim.SparseAdam, "adagrad": torch.optim.Adagrad,
          "sgd": torch.optim.SGD}


def sparse_parameters(model: nn.Module) -> List[nn.Parameter]:
    """The weights of the model's sparse embeddings (``nn.Embedding``/``nn.EmbeddingBag`` with ``sparse=True``)."""
    return [module.weight for module in model.modules()
            if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and module.sparse]


class Optimization:
    """Optimisers, clipping and schedule of one model, driven by the trainer.

    Args:
        model: the model to train.
        common: the common hyperparameters (optimizer, lr, weight_decay, momentum, max_grad_norm,
            lr_scheduler, lr_decay, lr_step_size, lr_patience, min_lr).
        objective: the task's :class:`~sagemaker_dgl.tasks.Objective` (direction of ``plateau``).
    """

    def __init__(self, model: nn.Module, common, objective):
        sparse = sparse_parameters(model)
        sparse_ids = {id(p) for p in sparse}
        self.dense = [p for p in model.parameters() if p.requires_grad and id(p) not in sparse_ids]
        self.max_grad_norm = common.max_grad_norm
        extra = {"momentum": common.momentum} if common.optimizer == "sgd" else {}
        self.optimizers = []
        if self.dense:
            self.optimizers.append(DENSE[common.optimizer](self.dense, lr=common.lr, weight_decay=common.weight_decay,
                                                           **extra))
        if sparse:
            self.optimizers.append(SPARSE[common.optimizer](sparse, lr=common.lr, **extra))
        self.schedulers = [self._scheduler(optimizer, common, objective) for optimizer in self.optimizers]
        self.schedulers = [s for s in self.schedulers if s is not None]

    @staticmethod
    def _scheduler(optimizer, common, objective):
        if common.lr_scheduler == "step":
            floor = common.min_lr / common.lr
            return torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda epoch: max(common.lr_decay ** (epoch // common.lr_step_size), floor)
            )
        if common.lr_scheduler == "plateau":
            if objective.metric is None:
                raise ConfigError("lr_scheduler=plateau needs a validation objective, and this task keeps the "
                                  "last epoch; use lr_scheduler=step or none")
            return torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode=objective.mode, factor=common.lr_decay, patience=common.lr_patience,
                threshold=0.0, min_lr=common.min_lr,
            )
        return None

    def step(self, loss: torch.Tensor) -> None:
        """Backward pass, clipping and one update of every optimiser."""
        for optimizer in self.optimizers:
            optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.dense, self.max_grad_norm)
        for optimizer in self.optimizers:
            optimizer.step()

    def end_epoch(self, objective_value: Optional[float]) -> None:
        """Advance the schedule: ``step`` every epoch, ``plateau`` when the epoch was evaluated."""
        for scheduler in self.schedulers:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                if objective_value is not None:
                    scheduler.step(objective_value)
            else:
                scheduler.step()

    @property
    def scheduled(self) -> bool:
        return bool(self.schedulers)

    @property
    def lr(self) -> float:
        """The current learning rate of the first optimiser."""
        return self.optimizers[0].param_groups[0]["lr"]

    def state_dict(self) -> Dict[str, Any]:
        return {"optimizers": [o.state_dict() for o in self.optimizers],
                "schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        for optimizer, saved in zip(self.optimizers, state["optimizers"]):
            optimizer.load_state_dict(saved)
        for scheduler, saved in zip(self.schedulers, state["schedulers"]):
            scheduler.load_state_dict(saved)
