"""The one training loop, for every task: epochs, model selection, early stopping, checkpoints.

Task-specific work (batching, loss, metrics) happens in the task; see ``tasks/_base.py``.
"""
import copy
import logging
import math
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

from . import checkpoints
from .errors import JobInterrupted, TrainingDivergedError
from .metrics import format_metrics

logger = logging.getLogger(__name__)


@dataclass
class FitResult:
    """The selected model's epoch and metrics, and one metrics row per epoch."""

    best_epoch: int
    best_metrics: Dict[str, float]
    history: List[Dict[str, float]]


class Trainer:
    """Trains ``model`` on ``task`` with Adam for ``hp.epochs`` epochs.

    Keeps the weights of the epoch with the best validation objective and restores them at the
    end. With a ``checkpoint_dir`` it writes a checkpoint every ``hp.checkpoint_interval``
    epochs, resumes from the newest compatible one, and on SIGTERM saves one at the end of the
    running epoch, then stops with :class:`JobInterrupted`.
    """

    def __init__(self, task, model: torch.nn.Module, hp, checkpoint_dir: Optional[Path], fingerprint: str):
        self.task = task
        self.model = model
        self.hp = hp
        self.checkpoint_dir = checkpoint_dir
        self.fingerprint = fingerprint
        self.optimizer = torch.optim.Adam(model.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)

    def fit(self) -> FitResult:
        state = self._initial_state()
        with _sigterm_flag() as interrupted:
            for epoch in range(state["epoch"] + 1, self.hp.epochs + 1):
                started = time.perf_counter()
                row: Dict[str, Any] = {"epoch": epoch, **self.task.train_epoch(self.model, self.optimizer)}
                _check_finite(row, epoch, self.hp)
                row.update(self.task.evaluate(self.model, "val"))
                row["epoch_time"] = time.perf_counter() - started
                state["history"].append(row)
                logger.info(format_metrics(row))
                state["epoch"] = epoch
                if self._is_better(row, state["best_metrics"]):
                    state.update(best_metrics=row, best_state=copy.deepcopy(self.model.state_dict()), bad_epochs=0)
                else:
                    state["bad_epochs"] += 1
                if self.checkpoint_dir and (epoch % self.hp.checkpoint_interval == 0 or interrupted.is_set()):
                    self._save(state)
                if interrupted.is_set():
                    where = f"checkpoint saved in {self.checkpoint_dir}" if self.checkpoint_dir else "no checkpoint"
                    raise JobInterrupted(
                        f"stopped by SIGTERM after epoch {epoch} ({where}); start the job again to resume"
                    )
                if self.hp.early_stopping_patience and state["bad_epochs"] >= self.hp.early_stopping_patience:
                    logger.info("early stopping at epoch %d: no better %s for %d epochs", epoch, self.task.objective,
                                state["bad_epochs"])
                    break
        self.model.load_state_dict(state["best_state"])
        best = state["best_metrics"]
        return FitResult(best_epoch=best["epoch"], best_metrics=best, history=state["history"])

    def _is_better(self, row: Dict[str, float], best: Optional[Dict[str, float]]) -> bool:
        """Higher objective wins; on a tie, lower validation loss."""
        if best is None:
            return True
        key = self.task.objective
        return row[key] > best[key] or (row[key] == best[key] and row.get("val_loss", 0) < best.get("val_loss", 0))

    def _initial_state(self) -> Dict[str, Any]:
        saved = checkpoints.load_latest(self.checkpoint_dir, self.fingerprint)
        if saved is None:
            return {"epoch": 0, "history": [], "best_metrics": None, "best_state": None, "bad_epochs": 0}
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        checkpoints.set_rng_state(saved["rng"])
        return {key: saved[key] for key in ("epoch", "history", "best_metrics", "best_state", "bad_epochs")}

    def _save(self, state: Dict[str, Any]) -> None:
        checkpoints.save(
            self.checkpoint_dir,
            state["epoch"],
            {
                **state,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "rng": checkpoints.rng_state(),
                "fingerprint": self.fingerprint,
            },
        )


def _check_finite(row: Dict[str, Any], epoch: int, hp) -> None:
    loss = row.get("train_loss")
    if loss is not None and not math.isfinite(loss):
        raise TrainingDivergedError(
            f"training diverged: train_loss={loss} at epoch {epoch} (lr={hp.lr}, weight_decay={hp.weight_decay}). "
            "Lower lr, check the features for extreme values, or keep normalize_features=true"
        )


@contextmanager
def _sigterm_flag():
    """An event set by SIGTERM while the block runs (the previous handler is restored after)."""
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def handler(signum, frame):
        logger.warning("SIGTERM received: stopping after this epoch")
        event.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield event
    finally:
        signal.signal(signal.SIGTERM, previous)
