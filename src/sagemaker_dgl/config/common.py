"""The common hyperparameters: what to train, the optimiser and its schedule, selection, the run.

A model's registration may override these defaults (``@register_model(..., defaults={'lr': 0.005})``);
the README's tables show each model's values.
"""
from typing import Literal, Optional

from .groups import HyperparameterGroup, hyperparameter


class CommonHyperparameters(HyperparameterGroup):
    """Hyperparameters every job has."""

    # --- What to train ---
    task: Optional[str] = hyperparameter(
        None, "Task: {tasks}. Unset: the model's task when it serves one, else the one the 'train' channel's format "
        "or the dataset implies, else {default_task}."
    )
    model: str = hyperparameter("gcn", "Model: {models} (the model tables below list each one's tasks).")
    dataset: Optional[str] = hyperparameter(
        None,
        "Named dataset: {datasets}. Without a 'train' channel it is downloaded (unset: the task's default); "
        "with one, it picks which dataset's files to read when the channel holds several.",
    )
    data_format: str = hyperparameter(
        "auto", "Format of the 'train' channel: auto (detected from the files) or one of {formats}."
    )

    # --- Optimisation ---
    epochs: int = hyperparameter(200, "Training epochs.", resumable=True, gt=0)
    optimizer: Literal["adam", "adamw", "adagrad", "sgd"] = hyperparameter(
        "adam", "Optimiser of the dense parameters; sparse embeddings get its sparse counterpart."
    )
    lr: float = hyperparameter(0.01, "Learning rate.", gt=0.0)
    weight_decay: float = hyperparameter(0.0, "Weight decay (L2) of the dense parameters.", ge=0.0)
    momentum: float = hyperparameter(0.0, "sgd: momentum.", ge=0.0, lt=1.0)
    max_grad_norm: float = hyperparameter(
        0.0, "Clip the gradient norm of the dense parameters to this value; 0 disables.", ge=0.0
    )
    lr_scheduler: Literal["none", "step", "plateau"] = hyperparameter(
        "none",
        "Learning-rate schedule: step (times lr_decay every lr_step_size epochs) or plateau (times lr_decay "
        "after lr_patience evaluations without a better objective).",
    )
    lr_decay: float = hyperparameter(0.1, "Factor of each learning-rate decay.", gt=0.0, lt=1.0)
    lr_step_size: int = hyperparameter(30, "step: epochs between decays.", gt=0)
    lr_patience: int = hyperparameter(10, "plateau: evaluations without improvement before a decay.", ge=0)
    min_lr: float = hyperparameter(0.0, "Lower bound of the scheduled learning rate.", ge=0.0)
    ema_decay: float = hyperparameter(
        0.0, "Validate, select and save an exponential moving average of the weights, updated after every step "
        "with this decay (Polyak averaging, as GCMC's reference code does); 0 disables.", ge=0.0, lt=1.0,
    )

    # --- Evaluation and model selection ---
    eval_every: int = hyperparameter(
        1, "Validate every this many epochs (and after the last); the best validated epoch is kept.", gt=0
    )
    early_stopping_patience: int = hyperparameter(
        0, "Stop after this many epochs without a better objective; 0 disables.", resumable=True, ge=0
    )

    # --- Run ---
    seed: int = hyperparameter(0, "Random seed; a CPU run with the same seed is reproducible.", ge=0)
    device: Literal["auto", "cpu", "cuda"] = hyperparameter(
        "auto", "Where to train; auto uses CUDA when present.", resumable=True
    )
    checkpoint_interval: int = hyperparameter(10, "Save a checkpoint every this many epochs.", resumable=True, gt=0)
    save_checkpoints: Optional[bool] = hyperparameter(
        None, "Write checkpoints; unset means: when /opt/ml/checkpoints exists.", resumable=True
    )

    def inactive(self):
        inactive = set()
        if self.optimizer != "sgd":
            inactive.add("momentum")
        if self.lr_scheduler != "step":
            inactive.add("lr_step_size")
        if self.lr_scheduler != "plateau":
            inactive.add("lr_patience")
        if self.lr_scheduler == "none":
            inactive.update(("lr_decay", "min_lr"))
        return frozenset(inactive)
