"""Training checkpoints for resuming (SageMaker managed spot training syncs /opt/ml/checkpoints).

A checkpoint holds everything the loop needs to continue as if never stopped: model and
optimizer state, the best model so far, the history, early-stopping counters and the RNG
states. Files are written atomically (temporary file + rename); the newest two are kept.
"""
import logging
import os
import random
import re
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import torch

logger = logging.getLogger(__name__)
_PATTERN = re.compile(r"checkpoint-(\d+)\.pt$")
KEEP = 2


def rng_state() -> Dict[str, Any]:
    """Random number generator states of Python, NumPy and torch (CPU and CUDA)."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore states saved by :func:`rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(directory: Path, epoch: int, state: Dict[str, Any]) -> Path:
    """Write ``state`` as ``checkpoint-<epoch>.pt`` and delete all but the newest ``KEEP``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"checkpoint-{epoch:06d}.pt"
    tmp = directory / f".{path.name}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)
    for old in sorted(_checkpoints(directory))[:-KEEP]:
        old.unlink()
    logger.info("saved checkpoint %s", path)
    return path


def load_latest(directory: Optional[Path], fingerprint: str) -> Optional[Dict[str, Any]]:
    """The newest checkpoint in ``directory`` written by a job with the same ``fingerprint``."""
    if directory is None or not directory.is_dir():
        return None
    for path in sorted(_checkpoints(directory), reverse=True):
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as error:  # a truncated file from a killed job: try the previous one
            logger.warning("skipping unreadable checkpoint %s (%s)", path, error)
            continue
        if state.get("fingerprint") != fingerprint:
            logger.warning("ignoring checkpoint %s: it was written with other hyperparameters or data", path)
            return None
        logger.info("resuming from checkpoint %s (epoch %d)", path, state["epoch"])
        return state
    return None


def _checkpoints(directory: Path):
    return [path for path in directory.iterdir() if _PATTERN.search(path.name)]
