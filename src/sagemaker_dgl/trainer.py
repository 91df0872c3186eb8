"""The one training loop, for every task: epochs, the optimisation step, evaluation, model
selection, early stopping, checkpoints.

The task produces batches and a loss (``tasks/_base.py``); the trainer does the rest, in one place:
backward, clipping and optimiser steps and the learning-rate schedule (:mod:`.optim`), validation
every ``eval_every`` epochs, selection of the best validated epoch in the direction of the task's
objective, early stopping, checkpoints, and SIGTERM, a flag the loop checks after each epoch.
With ``ema_decay`` the weights that are validated, selected and saved are an exponential moving
average of the trained ones (``torch.optim.swa_utils.AveragedModel``), updated after every step
with TensorFlow's warm-up: step ``n`` decays by ``min(ema_decay, (1 + n) / (10 + n))``, so early
weights fade fast (GCMC's reference code averages with ``tf.train.ExponentialMovingAverage``).
"""
import copy
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch
from torch.optim.swa_utils import AveragedModel

from . import checkpoints, signals
from .errors import ConfigError, JobInterrupted, TrainingDivergedError
from .metrics import format_metrics
from .optim import Optimization
from .sampling import seed_dgl

logger = logging.getLogger(__name__)


@dataclass
class FitResult:
    """The selected model's epoch and metrics, and one metrics row per epoch."""

    best_epoch: int
    best_metrics: Dict[str, float]
    history: List[Dict[str, float]]


def moving_average(decay: float):
    """``AveragedModel``'s update: ``average + (1 - d) (current - average)`` with the warmed-up decay
    ``d = min(decay, (1 + n) / (10 + n))`` after ``n`` earlier updates."""

    def update(average: torch.Tensor, current: torch.Tensor, num_averaged: torch.Tensor) -> torch.Tensor:
        d = min(decay, (1.0 + float(num_averaged)) / (10.0 + float(num_averaged)))
        return average + (1.0 - d) * (current - average)

    return update


class Trainer:
    """Trains ``model`` on ``task`` for ``hp.common.epochs`` epochs.

    Keeps the weights of the best validated epoch (by the task's objective) and restores them at
    the end. With a ``checkpoint_dir`` it writes a checkpoint every ``checkpoint_interval``
    epochs, resumes from the newest one of the same run (``fingerprint``), and on SIGTERM saves
    one at the end of the running epoch, then stops with :class:`JobInterrupted`.
    """

    def __init__(self, task, model: torch.nn.Module, hp, checkpoint_dir: Optional[Path], fingerprint: str):
        self.task = task
        self.model = model
        self.common = hp.common
        self.checkpoint_dir = checkpoint_dir
        self.fingerprint = fingerprint
        self.optimization = Optimization(model, hp.common, task.objective)
        self.average = (AveragedModel(model, avg_fn=moving_average(hp.common.ema_decay), use_buffers=True)
                        if hp.common.ema_decay else None)

    @property
    def evaluated(self) -> torch.nn.Module:
        """The weights validated, selected and saved: the model, or its moving average (``ema_decay``)."""
        return self.average.module if self.average is not None else self.model

    def fit(self) -> FitResult:
        common, objective = self.common, self.task.objective
        state = self._initial_state()
        with signals.stop_flag() as interrupted:
            for epoch in range(state["epoch"] + 1, common.epochs + 1):
                started = time.perf_counter()
                row: Dict[str, Any] = {"epoch": epoch, **self._train_epoch(epoch)}
                row["epoch_train_time"] = time.perf_counter() - started
                evaluated = self.task.validates and (epoch % common.eval_every == 0 or epoch == common.epochs)
                if evaluated:
                    row.update(self.evaluate("val"))
                if self.optimization.scheduled:
                    row["lr"] = self.optimization.lr
                row["epoch_time"] = time.perf_counter() - started
                state["history"].append(row)
                logger.info(format_metrics(row))
                state["epoch"] = epoch
                if evaluated and objective.is_better(row, state["best_metrics"]):
                    state.update(best_metrics=row, best_state=copy.deepcopy(self.evaluated.state_dict()))
                self.optimization.end_epoch(row[objective.metric] if evaluated and objective.metric else None)
                if self.checkpoint_dir and (epoch % common.checkpoint_interval == 0 or interrupted.is_set()):
                    self._save(state)
                if interrupted.is_set():
                    then = (f"checkpoint saved in {self.checkpoint_dir}; start the job again to resume"
                            if self.checkpoint_dir else
                            "checkpoints are off, so a new job starts over; set checkpoint_s3_uri or save_checkpoints=true "
                            "to resume after a stop")
                    raise JobInterrupted(f"stopped by {signals.name(signals.received)} after epoch {epoch} ({then})")
                best = state["best_metrics"]
                if common.early_stopping_patience and evaluated and best is not None \
                        and epoch - best["epoch"] >= common.early_stopping_patience:
                    logger.info("early stopping at epoch %d: no better %s for %d epochs", epoch, objective.metric,
                                epoch - best["epoch"])
                    break
        if state["best_metrics"] is None:
            if self.task.validates:
                logger.warning("no epoch had a finite %s; keeping the last epoch's model", objective.metric)
            state.update(best_metrics=state["history"][-1], best_state=self.evaluated.state_dict())
        self.model.load_state_dict(state["best_state"])
        if self.average is not None:
            self.average.module.load_state_dict(state["best_state"])
        best = state["best_metrics"]
        return FitResult(best_epoch=best["epoch"], best_metrics=best, history=state["history"])

    def evaluate(self, split: str) -> Dict[str, float]:
        """The task's metrics on ``split`` for :attr:`evaluated`, in eval mode and without gradients."""
        self.evaluated.eval()
        with torch.no_grad():
            return self.task.evaluate(self.evaluated, split)

    def _train_epoch(self, epoch: int) -> Dict[str, float]:
        """One pass over the task's batches; the epoch's metrics are the batch means weighted by size."""
        seed_dgl(self.common.seed * 1_000_003 + epoch)  # sampling: the same batches after a resume
        self.model.train()
        totals: Dict[str, float] = {}
        count = 0
        for batch in self.task.train_batches(epoch):
            step = self.task.training_step(self.model, batch)
            if not math.isfinite(step.loss.item()):
                raise TrainingDivergedError(
                    f"training diverged: train_loss={step.loss.item()} at epoch {epoch} (lr={self.optimization.lr}, "
                    f"weight_decay={self.common.weight_decay}). {self.task.divergence_hint[0].upper()}"
                    f"{self.task.divergence_hint[1:]}"
                )
            self.optimization.step(step.loss)
            if self.average is not None:
                self.average.update_parameters(self.model)
            for key, value in step.metrics.items():
                totals[key] = totals.get(key, 0.0) + value * step.count
            count += step.count
        return {key: value / count for key, value in totals.items()}

    def _initial_state(self) -> Dict[str, Any]:
        saved = checkpoints.load_latest(self.checkpoint_dir, self.fingerprint)
        if saved is None:
            return {"epoch": 0, "history": [], "best_metrics": None, "best_state": None}
        if saved["epoch"] > self.common.epochs:
            raise ConfigError(
                f"the checkpoint in {self.checkpoint_dir} is at epoch {saved['epoch']}, beyond epochs="
                f"{self.common.epochs}; set epochs >= {saved['epoch']} to resume it, or start with an empty "
                "checkpoint folder"
            )
        self.model.load_state_dict(saved["model"])
        if self.average is not None:
            self.average.load_state_dict(saved["average"])
        self.optimization.load_state_dict(saved["optimization"])
        checkpoints.set_rng_state(saved["rng"])
        return {key: saved[key] for key in ("epoch", "history", "best_metrics", "best_state")}

    def _save(self, state: Dict[str, Any]) -> None:
        checkpoints.save(self.checkpoint_dir, self.fingerprint, state["epoch"], {
            **state,
            "model": self.model.state_dict(),
            "optimization": self.optimization.state_dict(),
            "average": self.average.state_dict() if self.average is not None else None,
            "rng": checkpoints.rng_state(),
        })
