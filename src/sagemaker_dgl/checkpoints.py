"""Training checkpoints for resuming (SageMaker managed spot training syncs /opt/ml/checkpoints).

A checkpoint holds everything the loop needs to continue as if never stopped: model, optimiser
and schedule state, the best model so far, the history and the RNG states. Files are named
``checkpoint-<run>-<epoch>.pt``, ``<run>`` being the first 12 hex digits of the job's fingerprint
(its hyperparameters but the resumable ones, and its data): a job resumes from and prunes only its
own run's checkpoints, and leaves other runs' files in the folder alone. Files are written
atomically (temporary file + rename); the newest two of a run are kept.
"""
import logging
import os
import random
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from .artifacts import disk_full_error
from .errors import JobInterrupted

logger = logging.getLogger(__name__)
KEEP = 2
RUN_DIGITS = 12


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


def path_for(directory: Path, fingerprint: str, epoch: int) -> Path:
    """``<directory>/checkpoint-<run>-<epoch, 6 digits>.pt``."""
    return directory / f"checkpoint-{fingerprint[:RUN_DIGITS]}-{epoch:06d}.pt"


def save(directory: Path, fingerprint: str, epoch: int, state: Dict[str, Any]) -> Path:
    """Write ``state`` as this run's checkpoint of ``epoch``; delete all but the run's newest ``KEEP``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = path_for(directory, fingerprint, epoch)
    tmp = directory / f".{path.name}.tmp"
    try:
        torch.save({**state, "fingerprint": fingerprint}, tmp)
    except Exception as error:
        full = disk_full_error(directory, error)  # before the clean-up frees space
        tmp.unlink(missing_ok=True)
        if full:
            raise full from error
        raise
    os.replace(tmp, path)
    for old in _run_checkpoints(directory, fingerprint)[:-KEEP]:
        old.unlink()
    logger.info("saved checkpoint %s", path)
    return path


def load_latest(directory: Optional[Path], fingerprint: str) -> Optional[Dict[str, Any]]:
    """The newest readable checkpoint of this run (``fingerprint``) in ``directory``, else None."""
    if directory is None or not directory.is_dir():
        return None
    own = _run_checkpoints(directory, fingerprint)
    for path in reversed(own):
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except JobInterrupted:
            raise
        except Exception as error:  # a truncated file from a killed job: try the previous one
            logger.warning("skipping unreadable checkpoint %s (%s)", path, error)
            continue
        if state.get("fingerprint") != fingerprint:
            logger.warning("ignoring checkpoint %s: its full fingerprint differs from this run's", path)
            continue
        logger.info("resuming from checkpoint %s (epoch %d)", path, state["epoch"])
        return state
    others = [p.name for p in directory.glob("checkpoint-*.pt") if p not in own]
    if others:
        logger.info("not resuming: %d checkpoint(s) in %s belong to runs with other hyperparameters or data "
                    "(left in place)", len(others), directory)
    return None


def _run_checkpoints(directory: Path, fingerprint: str) -> List[Path]:
    """This run's checkpoint files, oldest epoch first."""
    pattern = re.compile(rf"checkpoint-{fingerprint[:RUN_DIGITS]}-(\d+)\.pt$")
    found = [(int(match.group(1)), path) for path in directory.iterdir() if (match := pattern.match(path.name))]
    return [path for _, path in sorted(found)]
