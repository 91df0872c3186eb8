"""The built-in training job: hyperparameters -> data -> task -> model -> trainer -> artifacts."""
import hashlib
import json
import logging
import os
import random
from pathlib import Path
from typing import Any, Dict, Optional

import dgl
import numpy as np
import torch

from . import artifacts
from .config import Hyperparameters
from .data import load_data
from .errors import ConfigError
from .metrics import format_metrics
from .models import create_model, model_args
from .plots import plot_learning_curves
from .tasks import TASKS
from .trainer import Trainer

logger = logging.getLogger(__name__)

#: Hyperparameters that may change between a stopped job and its resumption.
RESUMABLE_CHANGES = ("epochs", "early_stopping_patience", "save_checkpoints", "checkpoint_interval", "device",
                     "num_workers")


def run_builtin(env) -> Dict[str, Any]:
    """Train the model chosen by the job's hyperparameters; returns the final metrics."""
    hp = Hyperparameters.from_sagemaker(env.hyperparameters)
    if len(env.hosts) > 1:
        raise ConfigError(
            f"the built-in trainer runs on one instance, but this job has {len(env.hosts)} hosts "
            f"({', '.join(env.hosts)}); use instance_count=1, or script mode for distributed training"
        )
    logger.info("hyperparameters: %s", json.dumps(hp.resolved(), sort_keys=True))
    seed_everything(hp.seed)
    device = select_device(hp.device)
    data = load_data(hp, env.channel_input_dirs)
    task = TASKS.get(hp.task)(hp, data, device)
    facts = task.data_facts()
    logger.info("data: %s", json.dumps(facts))
    args = model_args(hp.model, hyperparameters=hp.resolved(), **task.model_args())
    model = create_model(hp.model, **args).to(device)
    logger.info("model %s on %s: %d parameters", hp.model, device, sum(p.numel() for p in model.parameters()))

    trainer = Trainer(task, model, hp, _checkpoint_dir(env, hp), fingerprint=_fingerprint(hp, facts))
    result = trainer.fit()
    final = {"best_epoch": result.best_epoch}
    final.update({key: value for key, value in result.best_metrics.items() if key.startswith(("train_", "val_"))})
    final.update(task.evaluate(model, "test"))
    logger.info("final %s", format_metrics(final))

    output_dir = Path(env.output_data_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    extra = task.export(model, output_dir)
    plot_learning_curves(result.history, output_dir / "learning_curves.png")
    metrics = {"objective": task.objective, "final": final, "history": result.history}
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    config = {"task": hp.task, "model": hp.model, "model_args": args, "hyperparameters": hp.resolved(),
              "data": facts, "metrics": final, "outputs": extra}
    artifacts.save(Path(env.model_dir), model, config)
    logger.info("model saved to %s; metrics, plots and embeddings in %s", env.model_dir, output_dir)
    return final


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, torch and DGL so that a CPU run is reproducible."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    dgl.seed(seed)


def select_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("hyperparameter 'device'='cuda' but no CUDA GPU is visible; use device=auto or cpu")
    return torch.device("cuda" if name != "cpu" and torch.cuda.is_available() else "cpu")


def _checkpoint_dir(env, hp) -> Optional[Path]:
    """``<base>/checkpoints`` when it exists (SageMaker creates it) or ``save_checkpoints`` asks."""
    directory = Path(os.path.dirname(env.model_dir)) / "checkpoints"
    enabled = hp.save_checkpoints if hp.save_checkpoints is not None else directory.is_dir()
    return directory if enabled else None


def _fingerprint(hp, facts: Dict[str, Any]) -> str:
    """Identifies checkpoints a job may resume from: same hyperparameters (but RESUMABLE_CHANGES), same data."""
    settings = {k: v for k, v in hp.resolved().items() if k not in RESUMABLE_CHANGES}
    return hashlib.sha256(json.dumps([settings, facts], sort_keys=True).encode()).hexdigest()
