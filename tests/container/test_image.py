"""The CPU image run as SageMaker runs it: `docker run -v <job folder>:/opt/ml IMAGE train`."""
import json
import re
import time

import pytest

from tests.container.conftest import files_in, lay_out_opt_ml, run_container

pytestmark = pytest.mark.container


def test_image_configuration(docker_client, cpu_image):
    config = docker_client.images.get(cpu_image).attrs["Config"]
    assert config["Cmd"] == ["train"]
    assert not config.get("Entrypoint")
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["SAGEMAKER_TRAINING_MODULE"] == "sagemaker_dgl.training:main"
    assert env["LD_PRELOAD"] == "/usr/local/lib/libsagemaker_hostname.so"
    assert not [name for name in env if name.startswith("AWS_")], "no credentials in the image"
    labels = config["Labels"]
    assert labels["sagemaker-dgl.torch"].startswith("torch==") and labels["sagemaker-dgl.dgl"].startswith("dgl==")


def test_train_is_this_packages_command_and_versions_are_pinned(docker_client, cpu_image):
    labels = docker_client.images.get(cpu_image).attrs["Config"]["Labels"]
    script = (
        "import importlib.metadata as m, os, shutil, torch, dgl;"
        "print(shutil.which('train')); print(open(shutil.which('train')).read());"
        "print('torch', torch.__version__, 'cuda', torch.version.cuda); print('dgl', m.version('dgl'));"
        "print('opt_ml', os.path.exists('/opt/ml'))"
    )
    run = run_container(docker_client, cpu_image, ["python", "-c", script])
    assert run.exit_code == 0, run.logs
    assert "/opt/venv/bin/train" in run.logs
    assert "from sagemaker_dgl.cli import train" in run.logs
    assert "opt_ml False" in run.logs, "nothing under /opt/ml may be baked into the image"
    torch_version = labels["sagemaker-dgl.torch"].split("==")[1]
    dgl_version = labels["sagemaker-dgl.dgl"].split("==")[1]
    assert f"torch {torch_version} " in run.logs and f"dgl {dgl_version}" in run.logs, run.logs
    if cpu_image.endswith(":cpu"):
        assert "torch 2.13.0+cpu cuda None" in run.logs and "dgl 1.1.3" in run.logs


def test_trains_gcn_on_cora(docker_client, cpu_image, cora_dir, tmp_path):
    job = lay_out_opt_ml(tmp_path / "opt_ml", {"model": "gcn"}, {"train": cora_dir})
    run = run_container(docker_client, cpu_image, "train", volumes={str(job): "/opt/ml"})
    assert run.exit_code == 0, run.logs[-5000:]
    assert files_in(job / "model") == ["graph.bin", "model.pt", "model_config.json"]
    outputs = files_in(job / "output" / "data")
    assert {"metrics.json", "learning_curves.png"} <= set(outputs), outputs
    assert (job / "output" / "data" / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (job / "output" / "success").exists()
    metrics = json.loads((job / "output" / "data" / "metrics.json").read_text())
    assert metrics["final"]["test_accuracy"] >= 0.80, metrics["final"]
    assert re.search(r"val_accuracy=0\.\d{4}", run.logs), "per-epoch metric lines for metric_definitions"


def test_bad_hyperparameter_fails_with_reason(docker_client, cpu_image, cora_dir, tmp_path):
    job = lay_out_opt_ml(tmp_path / "opt_ml", {"model": "gcn", "lr": "-0.01"}, {"train": cora_dir})
    run = run_container(docker_client, cpu_image, "train", volumes={str(job): "/opt/ml"})
    assert run.exit_code != 0, run.logs
    failure = (job / "output" / "failure").read_text()
    assert "'lr'" in failure and "-0.01" in failure, failure
    assert files_in(job / "model") == []


def test_malformed_config_fails_with_reason(docker_client, cpu_image, tmp_path):
    job = lay_out_opt_ml(tmp_path / "opt_ml")
    (job / "input" / "config" / "hyperparameters.json").write_text("{not json")
    run = run_container(docker_client, cpu_image, "train", volumes={str(job): "/opt/ml"})
    assert run.exit_code != 0, run.logs
    assert "hyperparameters.json is not valid JSON" in (job / "output" / "failure").read_text()


def test_hostname_comes_from_resourceconfig(docker_client, cpu_image, tmp_path):
    """NCCL and Gloo identify hosts by gethostname(); in a job it must be the SageMaker host name."""
    job = lay_out_opt_ml(tmp_path / "opt_ml", current_host="algo-3")
    command = ["python", "-c", "import socket; print('host=' + socket.gethostname())"]
    run = run_container(docker_client, cpu_image, command, volumes={str(job): "/opt/ml"}, hostname="ip-10-0-0-1")
    assert run.exit_code == 0 and "host=algo-3" in run.logs, run.logs
    run = run_container(docker_client, cpu_image, command, hostname="ip-10-0-0-1")
    assert run.exit_code == 0 and "host=ip-10-0-0-1" in run.logs, "outside a job: the kernel's name"


def test_sigterm_reaches_the_job(docker_client, cpu_image, tmp_path):
    """`docker stop` (SageMaker's stop, spot interruption) signals `train` itself: exec-form CMD."""
    job = lay_out_opt_ml(tmp_path / "opt_ml", {"dataset": "karate", "epochs": 1000000})
    (job / "checkpoints").mkdir()
    container = docker_client.containers.run(cpu_image, detach=True, volumes={str(job): {"bind": "/opt/ml", "mode": "rw"}})
    try:
        deadline = time.monotonic() + 300
        while b"epoch=" not in container.logs() and time.monotonic() < deadline:
            time.sleep(1)
        container.stop(timeout=120)
        status = container.wait(timeout=180)["StatusCode"]
        logs = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    assert status != 0, logs[-3000:]
    assert "stopped by SIGTERM" in (job / "output" / "failure").read_text(), logs[-3000:]
    assert files_in(job / "checkpoints"), "a checkpoint saved on SIGTERM"
