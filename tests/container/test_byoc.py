"""Bring-your-own-container tools: container/local_test/train_local.sh and the container/extend template."""
import json
import os
import subprocess

import pytest

from tests.container.conftest import ROOT, files_in

pytestmark = pytest.mark.container
TRAIN_LOCAL = ROOT / "container" / "local_test" / "train_local.sh"


def train_local(*args, timeout=900):
    return subprocess.run([str(TRAIN_LOCAL), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "DOCKER": os.environ.get("DOCKER", "docker")})


def test_train_local_runs_a_job_with_a_channel(cpu_image, cora_dir, tmp_path):
    job = tmp_path / "opt_ml"
    run = train_local("-d", job, "-c", f"train={cora_dir}", "-p", "model=graphsage", "-p", "epochs=30", cpu_image)
    assert run.returncode == 0, run.stderr[-5000:]
    assert files_in(job / "model") == ["graph.bin", "model.pt", "model_config.json"]
    config = json.loads((job / "model" / "model_config.json").read_text())
    assert config["model"] == "graphsage" and config["data"]["dataset"] == "cora"
    assert json.loads((job / "input" / "config" / "hyperparameters.json").read_text()) == {
        "model": "graphsage", "epochs": "30"}
    assert "job succeeded" in run.stderr


def test_train_local_reports_the_jobs_failure(cpu_image, tmp_path):
    run = train_local("-d", tmp_path / "opt_ml", "-p", "modle=gat", cpu_image)
    assert run.returncode != 0
    assert "did you mean 'model'" in run.stderr, run.stderr[-3000:]
    assert "did you mean 'model'" in (tmp_path / "opt_ml" / "output" / "failure").read_text()


def test_extend_template_builds_and_runs_its_script(docker_client, cpu_image, cora_dir, tmp_path):
    tag = "sagemaker-dgl-extend:test"
    build = subprocess.run(
        ["docker", "build", "-t", tag, "--build-arg", f"BASE_IMAGE={cpu_image}", str(ROOT / "container" / "extend")],
        capture_output=True, text=True, timeout=900,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    try:
        job = tmp_path / "opt_ml"
        run = train_local("-d", job, "-c", f"train={cora_dir}", "-p", "epochs=15", "-p", "hidden=4", tag)
        assert run.returncode == 0, run.stderr[-5000:]
        assert "final best_epoch=" in run.stdout + run.stderr
        assert files_in(job / "model") == ["gat.pt"]
        metrics = json.loads((job / "output" / "data" / "metrics.json").read_text())
        assert metrics["dataset"] == "cora" and metrics["hyperparameters"]["epochs"] == 15
        assert 0.5 < metrics["test_accuracy"] <= 1.0
    finally:
        docker_client.images.remove(tag, force=True)
