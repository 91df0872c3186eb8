"""The built-in training job: hyperparameters -> data -> task -> model -> fit -> test -> save.

Nothing here depends on the task: the task's file says what data it reads, what its model needs
and what it saves. The places that change for several processes are named: :func:`select_device`
chooses the device, :mod:`.artifacts` and :mod:`.checkpoints` write files, the trainer checks
the SIGTERM flag.
"""
import hashlib
import json
import logging
import os
import random
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import torch

from . import artifacts, signals
from .config import Hyperparameters
from .data import load_data
from .errors import ChannelError, ConfigError
from .metrics import format_metrics
from .models import create_model
from .plots import plot_learning_curves
from .registry import closest
from .sampling import seed_dgl
from .tasks import TASKS
from .trainer import Trainer

logger = logging.getLogger(__name__)


def run_builtin(env) -> Dict[str, Any]:
    """Train the model chosen by the job's hyperparameters; returns the final metrics.

    ``env`` is the toolkit's ``Environment`` (or anything with its ``hyperparameters``,
    ``additional_framework_parameters``, ``hosts``, ``channel_input_dirs``, ``model_dir`` and
    ``output_data_dir``).
    """
    # The toolkit moves the sagemaker_* keys it does not read (typos among them) out of hyperparameters.
    hp = Hyperparameters.from_sagemaker({**env.additional_framework_parameters, **env.hyperparameters},
                                        channels=env.channel_input_dirs)
    if len(env.hosts) > 1:
        raise ConfigError(
            f"the built-in trainer runs on one instance, but this job has {len(env.hosts)} hosts "
            f"({', '.join(env.hosts)}); use instance_count=1, or script mode for distributed training"
        )
    task_class = TASKS.get(hp.common.task)
    _check_channels(env.channel_input_dirs, hp.common.task, task_class.channels)
    logger.info("hyperparameters: %s", json.dumps(hp.resolved(), sort_keys=True))
    seed_everything(hp.common.seed)
    device = select_device(hp.common.device)
    data = load_data(task_class, hp, env.channel_input_dirs)
    signals.check()
    task = task_class(hp, data, env.channel_input_dirs, device)
    facts = task.data_facts()
    logger.info("data: %s", json.dumps(facts))
    model_args = {**task.model_sizes(), **hp.model.model_dump()}
    model = create_model(hp.common.model, hp.common.task, **model_args).to(device)
    logger.info("model %s on %s: %d parameters", hp.common.model, device, sum(p.numel() for p in model.parameters()))

    trainer = Trainer(task, model, hp, _checkpoint_dir(env, hp), fingerprint=_fingerprint(hp, facts))
    result = trainer.fit()
    final = {"best_epoch": result.best_epoch}
    final.update({key: value for key, value in result.best_metrics.items() if key.startswith(("train_", "val_"))})
    final.update(trainer.evaluate("test"))
    signals.check()
    logger.info("final %s", format_metrics(final))

    output_dir = Path(env.output_data_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    with torch.no_grad():
        outputs = task.write_outputs(model, output_dir)
    plot_learning_curves(result.history, output_dir / "learning_curves.png")
    metrics = {"objective": task.objective.describe(), "final": final, "history": result.history}
    (output_dir / "metrics.json").write_text(artifacts.dumps(metrics))
    config = {"task": hp.common.task, "model": hp.common.model, "model_args": model_args,
              "hyperparameters": hp.resolved(), "data": facts, "metrics": final, "outputs": outputs}
    signals.check()
    artifacts.save(Path(env.model_dir), model, config, lambda directory: task.save_assets(model, directory))
    logger.info("model saved to %s; metrics, plots and embeddings in %s", env.model_dir, output_dir)
    return final


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, torch and DGL so that a CPU run is reproducible."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    seed_dgl(seed)


def select_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("hyperparameter 'device'='cuda' but no CUDA GPU is visible; use device=auto or cpu")
    return torch.device("cuda" if name != "cpu" and torch.cuda.is_available() else "cpu")


def _check_channels(channels, task: str, known) -> None:
    """A channel the task does not read would be ignored silently: fail instead."""
    for name in channels:
        if name not in known:
            close = closest(name, known)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise ChannelError(
                f"channel {name!r} is not one that task {task} reads{hint}; its channels: {', '.join(known)}"
            )


def _checkpoint_dir(env, hp) -> Optional[Path]:
    """``<base>/checkpoints`` when it exists (SageMaker creates it) or ``save_checkpoints`` asks."""
    directory = Path(os.path.dirname(env.model_dir)) / "checkpoints"
    enabled = hp.common.save_checkpoints if hp.common.save_checkpoints is not None else directory.is_dir()
    return directory if enabled else None


def _fingerprint(hp: Hyperparameters, facts: Dict[str, Any]) -> str:
    """Identifies the checkpoints a job may resume from: the same hyperparameters (but the
    resumable and inactive ones) and the same data."""
    return hashlib.sha256(json.dumps([hp.fingerprint(), facts], sort_keys=True).encode()).hexdigest()
