"""Fixtures for the image tests: a Docker API, the CPU image (built once per session), job folders.

The tests speak to the Docker API (the ``docker`` SDK) or the ``docker`` CLI only. Without a
reachable engine they are skipped, except in CI (``CI=true``), where they fail.

Environment:
  SAGEMAKER_DGL_IMAGE                  test this image instead of building one (CodeBuild does)
  SAGEMAKER_DGL_BASE_IMAGE             base for the CPU build (default localhost/debian-python:bookworm,
                                       made by ../shared/container-engine/make-base-image.sh)
  SAGEMAKER_DGL_CPU_TORCH_INDEX_URL    CPU_TORCH_INDEX_URL for `make image-cpu` (default empty: the
                                       engine's pip.conf finds the CPU torch wheel in /opt/wheels)
"""
import os
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from sagemaker_dgl.cli import lay_out_job
from tests.conftest import in_ci

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = Path(__file__).resolve().parent / "resources"
CPU_IMAGE = "sagemaker-dgl:cpu"
BASE_IMAGE = os.environ.get("SAGEMAKER_DGL_BASE_IMAGE", "localhost/debian-python:bookworm")
CPU_TORCH_INDEX_URL = os.environ.get("SAGEMAKER_DGL_CPU_TORCH_INDEX_URL", "")


def unavailable(message: str) -> None:
    """Skip a test whose tool is missing; in CI, fail it instead."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: container tests must run)", pytrace=False)
    pytest.skip(message)


def require_module(name: str, hint: str):
    try:
        return __import__(name)
    except ImportError:
        unavailable(f"python package {name!r} is not installed ({hint})")


@pytest.fixture(scope="session")
def docker_client():
    docker = require_module("docker", "the project's test extra")
    try:
        client = docker.from_env(timeout=900)
        client.ping()
    except Exception as error:  # noqa: BLE001 - any failure means: no engine here
        unavailable(f"no container engine reachable through the Docker API "
                    f"(DOCKER_HOST={os.environ.get('DOCKER_HOST', 'unset')}): {error}")
    return client


@pytest.fixture(scope="session")
def cpu_image(docker_client) -> str:
    """The CPU image: $SAGEMAKER_DGL_IMAGE as given, or `make image-cpu` from the local base (once)."""
    given = os.environ.get("SAGEMAKER_DGL_IMAGE")
    if given:
        docker_client.images.get(given)
        return given
    if BASE_IMAGE.startswith("localhost/"):
        try:
            docker_client.images.get(BASE_IMAGE)
        except Exception:  # noqa: BLE001
            unavailable(f"base image {BASE_IMAGE} is missing: run ../shared/container-engine/make-base-image.sh "
                        f"or set SAGEMAKER_DGL_BASE_IMAGE")
    command = ["make", "image-cpu", f"BASE_IMAGE={BASE_IMAGE}", f"CPU_TORCH_INDEX_URL={CPU_TORCH_INDEX_URL}",
               "IMAGE_NAME=sagemaker-dgl"]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=2400)
    log = result.stdout + result.stderr
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "image-cpu-build.log").write_text(log)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{log[-6000:]}"
    print(f"built {CPU_IMAGE} in {time.monotonic() - started:.0f} s")
    return CPU_IMAGE


@dataclass
class Run:
    """A finished container."""

    exit_code: int
    logs: str


def run_container(client, image: str, command=None, *, volumes: Optional[Dict[str, str]] = None,
                  environment: Optional[Dict[str, str]] = None, hostname: Optional[str] = None,
                  timeout: float = 900) -> Run:
    """Run a container to the end and remove it (not auto-removed: some engines then lose the exit code)."""
    container = client.containers.run(
        image, command, detach=True, hostname=hostname, environment=environment or {},
        volumes={host: {"bind": bind, "mode": "rw"} for host, bind in (volumes or {}).items()},
    )
    try:
        # Polled rather than container.wait(): podman 4.3's API service spins on a core while a
        # client waits, which slows a job on a 2-core machine tenfold (benchmarks/RESULTS.md).
        deadline = time.monotonic() + timeout
        while container.status in ("created", "running"):
            assert time.monotonic() < deadline, f"container still running after {timeout} s"
            time.sleep(0.2)
            container.reload()
        return Run(container.attrs["State"]["ExitCode"], container.logs().decode(errors="replace"))
    finally:
        container.remove(force=True)


def lay_out_opt_ml(base: Path, hyperparameters: Optional[Dict[str, object]] = None,
                   channels: Optional[Dict[str, Path]] = None, current_host: str = "algo-1") -> Path:
    """An /opt/ml-shaped folder to mount in a container, with copies of the channel folders."""
    lay_out_job(base, hyperparameters or {}, channels or {}, host=current_host, copy_channels=True)
    return base


def remove_compose_containers(client, config_root: Path) -> None:
    """Remove the exited containers of local-mode jobs under ``config_root``: SageMaker local mode
    runs docker compose (v1), which leaves them behind."""
    for container in client.containers.list(all=True, filters={"status": "exited"}):
        if container.labels.get("com.docker.compose.project.config_files", "").startswith(str(config_root)):
            container.remove(force=True)


def files_in(folder: Path) -> List[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def extract(archive: Path, destination: Path) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(destination, filter="data")
    return destination


def planetoid_accuracy(predictor, channel: Path) -> float:
    """Test accuracy of a loaded model's predictor on Planetoid files (a graph it is given, not
    the one saved with it); the predictor preprocesses as the job did."""
    from sagemaker_dgl.data.planetoid import load_planetoid

    graph = load_planetoid(channel).graph
    test = graph.ndata["test_mask"].bool()
    predictions = predictor.predict(graph=graph)
    return (predictions[test] == graph.ndata["label"][test]).float().mean().item()
