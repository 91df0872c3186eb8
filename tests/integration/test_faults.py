"""Fault injection: stops at random points of each phase, SIGKILL and restart, a full disk and
read-only folders. Each leaves a resumable checkpoint and a reason, or a reason, and never a
half-written model folder."""
import os
import random
import signal
import subprocess
import time
from contextlib import contextmanager

import pytest

from sagemaker_dgl.cli import lay_out_job
from tests.conftest import TRAIN, finish, in_ci, job_env, run_job

pytestmark = pytest.mark.integration
HYPERPARAMETERS = {"epochs": 120, "seed": 5, "checkpoint_interval": 10}


def start(job_dir, hyperparameters, channels, checkpoints=True):
    lay_out_job(job_dir, hyperparameters, channels)
    if checkpoints:
        (job_dir / "checkpoints").mkdir(exist_ok=True)
    return subprocess.Popen([TRAIN], env=job_env(job_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def signal_at(process, marker: str, signum: int, delay: float) -> str:
    """Send ``signum`` ``delay`` seconds after the log line holding ``marker``; returns the whole log."""
    log = []
    for line in process.stdout:
        log.append(line)
        if marker in line:
            time.sleep(delay)
            process.send_signal(signum)
            break
    log.append(finish(process))
    return "".join(log)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cora_dir_module):
    job = run_job(tmp_path_factory.mktemp("reference"), HYPERPARAMETERS, {"train": cora_dir_module})
    assert job.returncode == 0, job.log
    return job.metrics


@pytest.fixture(scope="module")
def cora_dir_module():
    from tests.conftest import dataset_dir

    return dataset_dir("cora")


# Phases of a job, by the log line that opens them; the stop comes a random moment after it.
PHASES = {"start-up": "Imported framework", "data loading": "hyperparameters:", "training": " epoch=40 ",
          "saving": "final best_epoch="}


@pytest.mark.parametrize("phase", PHASES)
def test_sigterm_in_each_phase_leaves_a_reason_and_the_job_restarts(tmp_path, cora_dir_module, reference, phase):
    delay = random.Random(phase).uniform(0.0, 0.05)
    process = start(tmp_path, HYPERPARAMETERS, {"train": cora_dir_module})
    log = signal_at(process, PHASES[phase], signal.SIGTERM, delay)
    assert process.returncode == 143, log[-3000:]
    failure = (tmp_path / "output" / "failure").read_text()
    assert "stopped by SIGTERM" in failure and "Traceback" not in failure, failure
    assert list((tmp_path / "model").iterdir()) == [], "nothing half-written in the model folder"
    checkpoints = sorted((tmp_path / "checkpoints").glob("checkpoint-*.pt"))
    if phase == "training":
        assert checkpoints and "checkpoint saved" in failure, failure

    restarted = run_job(tmp_path, HYPERPARAMETERS, {"train": cora_dir_module}, checkpoints=True)
    assert restarted.returncode == 0, restarted.log[-3000:]
    assert ("resuming from checkpoint" in restarted.log) == bool(checkpoints)
    assert restarted.metrics["final"] == reference["final"]


def test_sigkill_then_restart_resumes_from_the_last_checkpoint(tmp_path, cora_dir_module, reference):
    process = start(tmp_path, HYPERPARAMETERS, {"train": cora_dir_module})
    log = signal_at(process, " epoch=35 ", signal.SIGKILL, 0.0)
    assert process.returncode == -signal.SIGKILL, log[-2000:]
    restarted = run_job(tmp_path, HYPERPARAMETERS, {"train": cora_dir_module}, checkpoints=True)
    assert restarted.returncode == 0, restarted.log[-3000:]
    assert "resuming from checkpoint" in restarted.log and "(epoch 30)" in restarted.log
    assert restarted.metrics["final"] == reference["final"]


@pytest.mark.parametrize("training", ["negative_sampling", "kvsall", "rgcn"])
def test_a_stopped_link_prediction_job_resumes_exactly(tmp_path, training):
    """Random negatives, shuffles and R-GCN's edge dropout come from the checkpointed random
    state: the resumed run ends with the metrics of an uninterrupted one."""
    from tests.graphs import write_triples

    channel = write_triples(tmp_path / "kg")
    common = {"task": "link_prediction", "batch_size": 64, "epochs": 40, "eval_every": 5, "checkpoint_interval": 10,
              "seed": 3}
    if training == "rgcn":
        hyperparameters = {**common, "model": "rgcn", "hidden_size": 16, "num_bases": 4, "num_negatives": 4}
    else:
        hyperparameters = {**common, "model": "complex", "training": training, "embedding_dim": 16}
    if training == "negative_sampling":
        hyperparameters.update(num_negatives=16, adversarial_temperature=1.0, margin=3.0)
    uninterrupted = run_job(tmp_path / "reference", hyperparameters, {"train": channel})
    assert uninterrupted.returncode == 0, uninterrupted.log[-3000:]
    process = start(tmp_path / "job", hyperparameters, {"train": channel})
    log = signal_at(process, " epoch=12 ", signal.SIGTERM, 0.0)
    assert process.returncode == 143, log[-3000:]
    assert list((tmp_path / "job" / "model").iterdir()) == []
    restarted = run_job(tmp_path / "job", hyperparameters, {"train": channel}, checkpoints=True)
    assert restarted.returncode == 0 and "resuming from checkpoint" in restarted.log, restarted.log[-3000:]
    assert restarted.metrics["final"] == uninterrupted.metrics["final"]


@contextmanager
def tmpfs(path, options: str):
    """A small tmpfs mounted on ``path`` (needs root, which CI has)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        message = f"cannot mount a tmpfs ({mounted.stderr.strip()}); run as root"
        pytest.fail(message) if in_ci() else pytest.skip(message)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def run_on(job_dir):
    return subprocess.run([TRAIN], env=job_env(job_dir), capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(os.geteuid() != 0 and not in_ci(), reason="mounting a tmpfs needs root")
def test_a_full_model_disk_gives_a_reason_and_leaves_the_folder_empty(tmp_path, cora_dir_module):
    lay_out_job(tmp_path, {"epochs": 5}, {"train": cora_dir_module})
    with tmpfs(tmp_path / "model", "size=1m") as model_dir:  # Cora's graph.bin is 15 MB
        completed = run_on(tmp_path)
        assert completed.returncode == 1, completed.stdout[-3000:]
        failure = (tmp_path / "output" / "failure").read_text()
        assert "No space left on device" in failure and "volume_size" in failure, failure
        assert "Traceback" not in failure and len(failure) < 1024
        assert list(model_dir.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0 and not in_ci(), reason="mounting a tmpfs needs root")
def test_a_full_checkpoint_disk_gives_a_reason(tmp_path):
    lay_out_job(tmp_path, {"epochs": 30, "checkpoint_interval": 5, "save_checkpoints": "true"}, {})
    with tmpfs(tmp_path / "checkpoints", "size=16k"):
        completed = run_on(tmp_path)
        assert completed.returncode == 1, completed.stdout[-3000:]
        failure = (tmp_path / "output" / "failure").read_text()
        assert "No space left on device" in failure and "Traceback" not in failure, failure
        assert list((tmp_path / "model").iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0 and not in_ci(), reason="mounting a tmpfs needs root")
@pytest.mark.parametrize("folder", ["model", "output/data"])
def test_a_read_only_folder_fails_before_training(tmp_path, folder):
    lay_out_job(tmp_path, {}, {})
    with tmpfs(tmp_path / folder, "ro,size=1m"):
        completed = run_on(tmp_path)
        assert completed.returncode == 1
        failure = (tmp_path / "output" / "failure").read_text()
        assert f"{tmp_path / folder} is not a writable folder (Read-only file system)" in failure, failure
        assert " epoch=1 " not in completed.stdout + completed.stderr


@pytest.mark.skipif(os.geteuid() != 0 and not in_ci(), reason="mounting a tmpfs needs root")
def test_a_read_only_output_folder_exits_non_zero_with_the_reason_on_stderr(tmp_path):
    lay_out_job(tmp_path, {}, {})
    with tmpfs(tmp_path / "output", "ro,size=1m"):
        completed = run_on(tmp_path)
        assert completed.returncode == 1
        assert f"{tmp_path / 'output'} is not a writable folder (Read-only file system)" in completed.stderr
