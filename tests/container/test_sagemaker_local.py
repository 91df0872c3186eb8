"""SageMaker Python SDK 2.x local mode with the image: the built-in trainer and script mode.

Local mode runs the image with docker compose on this machine, exactly as SageMaker would run it
(the SDK writes /opt/ml/input/config, mounts the channels and packs model.tar.gz/output.tar.gz).
It needs AWS_DEFAULT_REGION (any region) and a role ARN, but no credentials or network.
"""
import json
import logging
import os
from pathlib import Path

import pytest

import sagemaker_dgl
from tests.container.conftest import (RESOURCES, extract, files_in, planetoid_accuracy, remove_compose_containers,
                                     require_module)

pytestmark = pytest.mark.container
DUMMY_ROLE = "arn:aws:iam::111111111111:role/Dummy"


@pytest.fixture
def local_session(tmp_path, monkeypatch, docker_client):
    monkeypatch.setenv("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    require_module("sagemaker", "pip install sagemaker==2.257.7 (the project's test extra)")
    logging.getLogger("sagemaker.telemetry.telemetry_logging").setLevel(logging.CRITICAL)
    from sagemaker.local import LocalSession

    root = tmp_path / "container_root"
    root.mkdir()
    session = LocalSession()
    session.config = {"local": {"local_code": True, "container_root": str(root)}}
    yield session
    remove_compose_containers(docker_client, root)


def estimator(session, image, output: Path, **kwargs):
    from sagemaker.estimator import Estimator

    return Estimator(image_uri=image, role=DUMMY_ROLE, instance_count=1, instance_type="local",
                     sagemaker_session=session, output_path=output.as_uri(),
                     metric_definitions=sagemaker_dgl.METRIC_DEFINITIONS, **kwargs)


def test_builtin_gcn_on_cora_and_the_model_loads(local_session, cpu_image, cora_dir, tmp_path):
    job = estimator(local_session, cpu_image, tmp_path / "out", hyperparameters={"model": "gcn"})
    job.fit({"train": cora_dir.resolve().as_uri()}, wait=True, logs=False)

    model_tar = Path(job.model_data.removeprefix("file://"))
    assert model_tar.name == "model.tar.gz" and model_tar.exists(), job.model_data
    model_dir = extract(model_tar, tmp_path / "model")
    outputs = extract(model_tar.with_name("output.tar.gz"), tmp_path / "output")
    assert {"data/metrics.json", "data/learning_curves.png", "success"} <= set(files_in(outputs)), files_in(outputs)
    reported = json.loads((outputs / "data" / "metrics.json").read_text())["final"]["test_accuracy"]

    predictor = sagemaker_dgl.load_model(model_dir)
    assert predictor.config["model"] == "gcn" and predictor.config["data"]["dataset"] == "cora"
    accuracy = planetoid_accuracy(predictor, cora_dir)
    assert accuracy >= 0.80, accuracy
    assert accuracy == pytest.approx(reported, abs=0.005)


def test_script_mode_runs_a_users_dgl_script(local_session, cpu_image, cora_dir, tmp_path):
    job = estimator(local_session, cpu_image, tmp_path / "out", entry_point="train_sage.py",
                    source_dir=str(RESOURCES / "script_mode"), hyperparameters={"epochs": 40})
    job.fit({"train": cora_dir.resolve().as_uri()}, wait=True, logs=False)

    model_tar = Path(job.model_data.removeprefix("file://"))
    assert files_in(extract(model_tar, tmp_path / "model")) == ["sage.pt"]
    outputs = extract(model_tar.with_name("output.tar.gz"), tmp_path / "output")
    result = json.loads((outputs / "data" / "result.json").read_text())
    assert result["epochs"] == 40 and result["test_accuracy"] > 0.6, result
