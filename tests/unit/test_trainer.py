"""The trainer with tasks unlike node classification: a minimised objective, validation every few
epochs, sparse embeddings, clipping, schedules, and checkpoints shared with other runs."""
import copy

import pytest
import torch
from torch import nn

import sagemaker_dgl
from sagemaker_dgl import artifacts, checkpoints
from sagemaker_dgl.config import CommonHyperparameters, HyperparameterGroup, Hyperparameters
from sagemaker_dgl.job import seed_everything
from sagemaker_dgl.models import MODELS, ModelSpec
from sagemaker_dgl.optim import Optimization
from sagemaker_dgl.tasks import TASKS, Objective, Step, Task
from sagemaker_dgl.trainer import Trainer


class EmbeddingRegression(nn.Module):
    """A sparse item embedding scaled onto features, then a dense linear map."""

    def __init__(self, num_items: int, dim: int):
        super().__init__()
        self.item = nn.Embedding(num_items, dim, sparse=True)
        self.linear = nn.Linear(dim, 1)

    def forward(self, ids, x):
        return self.linear(x * self.item(ids)).squeeze(1)


class Regression(Task):
    """Least squares with a minimised ``val_loss``; ``script`` replaces the measured validation
    losses with given ones, one per evaluation, and the model's weights at each evaluation are kept."""

    size_names = ("num_items", "dim")
    objective = Objective("val_loss", "min")
    logged_metrics = ("train_loss", "val_loss", "test_loss")
    data_type = object

    def __init__(self, script=None):
        super().__init__(None, None, {}, torch.device("cpu"))
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(96, 4, generator=generator)
        self.ids = torch.arange(96) % 8
        self.y = (self.x * torch.randn(8, 4, generator=generator)[self.ids]).sum(1)
        self.script = script
        self.snapshots = []

    def model_sizes(self):
        return {"num_items": 8, "dim": 4}

    def data_facts(self):
        return {}

    def train_batches(self, epoch):
        order = torch.randperm(64)
        return [order[:32], order[32:]]

    def training_step(self, model, batch):
        loss = nn.functional.mse_loss(model(self.ids[batch], self.x[batch]), self.y[batch])
        return Step(loss, {"train_loss": loss.item()}, len(batch))

    def evaluate(self, model, split):
        held_out = slice(64, 96)
        loss = nn.functional.mse_loss(model(self.ids[held_out], self.x[held_out]), self.y[held_out]).item()
        if self.script is not None and split == "val":
            loss = self.script[len(self.snapshots)]
            self.snapshots.append(copy.deepcopy(model.state_dict()))
        return {f"{split}_loss": loss}


def hyperparameters(**common):
    return Hyperparameters(CommonHyperparameters(**{"lr": 0.05, **common}), HyperparameterGroup(),
                           HyperparameterGroup())


def fit(task, checkpoint_dir=None, fingerprint="f" * 64, **common):
    seed_everything(0)
    model = EmbeddingRegression(**task.model_sizes())
    trainer = Trainer(task, model, hyperparameters(**common), checkpoint_dir, fingerprint)
    return trainer, trainer.fit()


def test_minimised_objective_selects_the_lowest_and_stops_early():
    task = Regression(script=[5.0, 4.0, 3.0, 2.5, 3.0, 2.6, 2.7, 4.0, 1.0, 1.0])
    trainer, result = fit(task, epochs=10, early_stopping_patience=3)
    assert result.best_epoch == 4 and result.best_metrics["val_loss"] == 2.5
    assert len(result.history) == 7, "stopped 3 epochs after the best one"
    for key, value in trainer.model.state_dict().items():
        torch.testing.assert_close(value, task.snapshots[3][key])


def test_eval_every_selects_among_validated_epochs():
    task = Regression(script=[3.0, 1.0, 2.0, 5.0])
    _, result = fit(task, epochs=10, eval_every=3)
    assert [row["epoch"] for row in result.history if "val_loss" in row] == [3, 6, 9, 10]
    assert result.best_epoch == 6
    assert all("train_loss" in row for row in result.history)


def test_a_task_without_objective_keeps_the_last_epoch(monkeypatch):
    monkeypatch.setattr(Regression, "objective", Objective(None))
    _, result = fit(Regression(), epochs=5, eval_every=2)
    assert result.best_epoch == 5


def test_a_job_without_validation_split_skips_validation_and_keeps_the_last_epoch(monkeypatch, caplog):
    monkeypatch.setattr(Regression, "validates", False)
    monkeypatch.setattr(Regression, "evaluate", lambda *args: pytest.fail("validation ran"))
    _, result = fit(Regression(), epochs=5, eval_every=2)
    assert result.best_epoch == 5 and not any("val_loss" in row for row in result.history)
    assert "no epoch had a finite" not in caplog.text


def test_sparse_embeddings_are_trained_checkpointed_resumed_and_saved(tmp_path, monkeypatch):
    trainer, uninterrupted = fit(Regression(), epochs=8)
    assert [type(o).__name__ for o in trainer.optimization.optimizers] == ["Adam", "SparseAdam"]
    seed_everything(0)
    assert not torch.equal(trainer.model.item.weight, EmbeddingRegression(8, 4).item.weight), "embedding trained"
    assert uninterrupted.history[-1]["val_loss"] < uninterrupted.history[0]["val_loss"]

    fit(Regression(), tmp_path / "checkpoints", epochs=4, checkpoint_interval=2)
    saved = checkpoints.load_latest(tmp_path / "checkpoints", "f" * 64)
    assert saved["epoch"] == 4 and "item.weight" in saved["model"] and "item.weight" in saved["best_state"]
    assert "exp_avg" in str(saved["optimization"]["optimizers"][1]["state"][0].keys()), "SparseAdam state saved"
    resumed_trainer, resumed = fit(Regression(), tmp_path / "checkpoints", epochs=8, checkpoint_interval=2)
    assert [row["val_loss"] for row in resumed.history] == [row["val_loss"] for row in uninterrupted.history]
    torch.testing.assert_close(resumed_trainer.model.state_dict(), trainer.model.state_dict(), rtol=0, atol=0)

    monkeypatch.setitem(TASKS._entries, "regression", Regression)
    monkeypatch.setitem(MODELS._entries, "embedding_regression", {"regression": ModelSpec(
        "embedding_regression", "regression", EmbeddingRegression, HyperparameterGroup)})
    config = {"task": "regression", "model": "embedding_regression", "model_args": {"num_items": 8, "dim": 4}}
    artifacts.save(tmp_path / "model", trainer.model, config, lambda directory: {})
    loaded = sagemaker_dgl.load_model(tmp_path / "model")
    torch.testing.assert_close(loaded.model.item.weight, trainer.model.item.weight)


def test_the_moving_average_is_validated_selected_resumed_and_saved(tmp_path):
    """ema_decay: every evaluation sees the average w <- d w + (1 - d) w_step of the trained weights
    (the first step copies them; d = min(decay, (1 + n) / (10 + n)) after n updates), the best one is
    kept, and a resumed run ends the same."""
    decay = 0.9
    task = Regression(script=[3.0, 1.0, 2.0, 4.0, 5.0, 6.0])
    seed_everything(0)
    model = EmbeddingRegression(**task.model_sizes())
    trainer = Trainer(task, model, hyperparameters(epochs=6, ema_decay=decay), None, "f" * 64)
    averages, steps = [], []
    original = trainer.optimization.step

    def step_and_track(loss):
        original(loss)
        current = {k: v.detach().clone() for k, v in model.state_dict().items()}
        d = min(decay, (1.0 + len(averages)) / (10.0 + len(averages)))  # n = len(averages) averaged so far
        averages.append(current if not averages else {k: d * averages[-1][k] + (1 - d) * current[k]
                                                      for k in current})
        steps.append(current)

    trainer.optimization.step = step_and_track
    result = trainer.fit()
    assert result.best_epoch == 2 and len(steps) == 12  # two batches per epoch
    for key, value in task.snapshots[1].items():  # what epoch 2's validation saw
        torch.testing.assert_close(value, averages[3][key])
        assert not torch.allclose(value, steps[3][key])
    torch.testing.assert_close(trainer.model.state_dict(), task.snapshots[1])

    _, uninterrupted = fit(Regression(), epochs=6, ema_decay=decay)
    fit(Regression(), tmp_path / "checkpoints", epochs=3, checkpoint_interval=3, ema_decay=decay)
    assert checkpoints.load_latest(tmp_path / "checkpoints", "f" * 64)["average"]["n_averaged"] == 6
    resumed_trainer, resumed = fit(Regression(), tmp_path / "checkpoints", epochs=6, ema_decay=decay)
    assert [row["val_loss"] for row in resumed.history] == [row["val_loss"] for row in uninterrupted.history]


def test_gradient_clipping_bounds_the_update():
    def update(max_grad_norm):
        torch.manual_seed(0)
        model = nn.Linear(4, 1)
        before = model.weight.detach().clone()
        optimization = Optimization(model, CommonHyperparameters(optimizer="sgd", lr=1.0,
                                                                 max_grad_norm=max_grad_norm), Regression.objective)
        optimization.step((model(torch.full((8, 4), 100.0)) ** 2).mean())
        return torch.cat([(model.weight - before).flatten()]).norm().item(), model

    unclipped, _ = update(0.0)
    clipped, model = update(0.5)
    assert unclipped > 10 and clipped <= 0.5 + 1e-6
    total = torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()
    assert total == pytest.approx(0.5, rel=1e-4)


def test_step_schedule_with_a_floor():
    _, result = fit(Regression(), epochs=6, lr=0.1, lr_scheduler="step", lr_step_size=2, lr_decay=0.5, min_lr=0.03)
    assert [round(row["lr"], 6) for row in result.history] == [0.1, 0.1, 0.05, 0.05, 0.03, 0.03]


def test_plateau_schedule_follows_the_objective_direction():
    task = Regression(script=[1.0, 2.0, 3.0, 4.0, 0.5, 6.0])
    _, result = fit(task, epochs=6, lr=0.1, lr_scheduler="plateau", lr_patience=1, lr_decay=0.5)
    # val_loss is minimised: epochs 2 and 3 are worse than epoch 1, so the rate halves after epoch 3.
    assert [round(row["lr"], 6) for row in result.history] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05]


def test_checkpoints_of_another_run_are_left_alone(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    others = {name: f"another run's {name}".encode() for name in (
        "checkpoint-000190.pt", "checkpoint-000200.pt", f"checkpoint-{'a' * 12}-000300.pt")}
    for name, content in others.items():
        (folder / name).write_bytes(content)
    fit(Regression(), folder, epochs=6, checkpoint_interval=2)
    own = sorted(p.name for p in folder.glob(f"checkpoint-{'f' * 12}-*.pt"))
    assert own == [f"checkpoint-{'f' * 12}-000004.pt", f"checkpoint-{'f' * 12}-000006.pt"]
    assert {name: (folder / name).read_bytes() for name in others} == others
    _, resumed = fit(Regression(), folder, epochs=8, checkpoint_interval=2)
    assert len(resumed.history) == 8 and checkpoints.load_latest(folder, "f" * 64)["epoch"] == 8


def test_divergence_gives_the_tasks_own_advice(monkeypatch):
    from sagemaker_dgl.errors import TrainingDivergedError

    monkeypatch.setattr(Regression, "divergence_hint", "scale the targets")
    monkeypatch.setattr(Regression, "training_step",
                        lambda self, model, batch: Step(torch.tensor(float("nan"), requires_grad=True), {}, 1))
    with pytest.raises(TrainingDivergedError, match=r"train_loss=nan at epoch 1 .*\. Scale the targets$"):
        fit(Regression(), epochs=2)


def test_a_stop_without_checkpoints_does_not_promise_a_resume(monkeypatch):
    import os
    import signal

    from sagemaker_dgl import signals
    from sagemaker_dgl.errors import JobInterrupted

    monkeypatch.setattr(signals, "received", None)  # restored after the test: the stop sets it
    original = Regression.training_step

    def step_then_stop(self, model, batch):
        os.kill(os.getpid(), signal.SIGTERM)  # the loop's flag: the epoch ends, then the job stops
        return original(self, model, batch)

    monkeypatch.setattr(Regression, "training_step", step_then_stop)
    with pytest.raises(JobInterrupted, match=r"stopped by SIGTERM after epoch 1 \(checkpoints are off, so a new job "
                                             r"starts over; set checkpoint_s3_uri"):
        fit(Regression(), epochs=3)


def test_an_unexpected_error_puts_its_own_message_first(monkeypatch):
    from sagemaker_dgl import training
    from sagemaker_dgl.errors import UnexpectedError

    def broken(env):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(training, "train", broken)
    monkeypatch.setattr(training.environment, "Environment", lambda: None)
    with pytest.raises(UnexpectedError) as error:
        training.main()
    assert str(error.value).startswith("RuntimeError: CUDA error: an illegal memory access was encountered")
    assert "the log has the traceback" in str(error.value) and len(str(error.value)) < 1024


def test_an_error_while_a_stop_is_pending_reports_the_stop(monkeypatch):
    """SIGTERM during an import can surface as 'RuntimeError: Error calling __set_name__ ...'."""
    import signal

    from sagemaker_dgl import signals, training
    from sagemaker_dgl.errors import JobInterrupted

    def interrupted(env):
        signals.received = signal.SIGTERM
        raise RuntimeError("Error calling __set_name__ on 'deprecate_privatize_attribute' instance")

    monkeypatch.setattr(signals, "received", None)
    monkeypatch.setattr(training, "train", interrupted)
    monkeypatch.setattr(training.environment, "Environment", lambda: None)
    with pytest.raises(JobInterrupted, match="stopped by SIGTERM outside the training loop"):
        training.main()


def test_a_stop_while_psutil_is_half_imported_is_still_the_stop(monkeypatch):
    """CI: SIGINT while the toolkit imported psutil raised 'partially initialized module' from the handler."""
    import signal
    import sys
    import types

    from sagemaker_dgl import signals
    from sagemaker_dgl.errors import JobInterrupted

    monkeypatch.setitem(sys.modules, "psutil", types.ModuleType("psutil"))  # no Process yet
    monkeypatch.setattr(signals, "received", None)
    with pytest.raises(JobInterrupted, match=r"stopped by SIGINT \(Ctrl-C\) outside the training loop"):
        with signals.stop_signals():
            signal.raise_signal(signal.SIGINT)


def test_a_stop_during_an_import_is_recorded_and_raised_at_the_next_check(monkeypatch, tmp_path):
    """CI: SIGTERM while torch's C++ extension imported a Python module aborted the process (pybind11)."""
    import signal
    import sys

    from sagemaker_dgl import signals
    from sagemaker_dgl.errors import JobInterrupted

    (tmp_path / "stopped_while_imported.py").write_text("import signal\nsignal.raise_signal(signal.SIGTERM)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(signals, "received", None)
    with signals.stop_signals():
        import stopped_while_imported  # noqa: F401 - the import runs to its end

        assert stopped_while_imported.DONE and signals.received == signal.SIGTERM
        with pytest.raises(JobInterrupted, match="stopped by SIGTERM outside the training loop"):
            signals.check()
    sys.modules.pop("stopped_while_imported")
