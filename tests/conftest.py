"""Shared fixtures: real datasets (../shared/data or $SAGEMAKER_DGL_DATA) and running jobs."""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from sagemaker_dgl.cli import lay_out_job

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("SAGEMAKER_DGL_DATA", ROOT.parent / "shared" / "data"))
TRAIN = str(Path(sys.executable).parent / "train")


def in_ci() -> bool:
    """CI=true (set by .ci/run): what would be skipped elsewhere fails instead."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def dataset_dir(name: str) -> Path:
    """Folder of a real dataset; a missing one fails in CI and skips elsewhere."""
    path = DATA_ROOT / name
    if not path.is_dir():
        message = f"dataset {name!r} not found in {DATA_ROOT} (set SAGEMAKER_DGL_DATA)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def cora_dir() -> Path:
    return dataset_dir("cora")


@dataclass
class JobResult:
    """What a finished job left behind."""

    returncode: int
    base_dir: Path
    log: str

    @property
    def model_files(self):
        return sorted(p.name for p in (self.base_dir / "model").iterdir())

    @property
    def failure(self) -> str:
        path = self.base_dir / "output" / "failure"
        return path.read_text() if path.exists() else ""

    @property
    def metrics(self) -> dict:
        return json.loads((self.base_dir / "output" / "data" / "metrics.json").read_text())


def run_job(
    base_dir: Path,
    hyperparameters: Optional[Dict[str, object]] = None,
    channels: Optional[Dict[str, Path]] = None,
    checkpoints: bool = False,
    timeout: float = 600,
    threads: Optional[int] = None,
) -> JobResult:
    """Lay out ``base_dir`` like /opt/ml and run ``.venv/bin/train`` on it, as the container does
    (on ``threads`` OpenMP threads when given)."""
    lay_out_job(base_dir, hyperparameters or {}, channels or {})
    if checkpoints:
        (base_dir / "checkpoints").mkdir(exist_ok=True)
    env = job_env(base_dir) if threads is None else {**job_env(base_dir), "OMP_NUM_THREADS": str(threads)}
    completed = subprocess.run([TRAIN], env=env, capture_output=True, text=True, timeout=timeout)
    return JobResult(completed.returncode, base_dir, completed.stdout + completed.stderr)


def run_seeds(base_dir: Path, hyperparameters: Dict[str, object], channels: Dict[str, Path], seeds) -> List[JobResult]:
    """The job once per seed, two at a time on one OpenMP thread each (a job spends seconds
    importing on one core; two jobs of two threads each would spin against each other)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run_job, base_dir / f"seed{seed}", {**hyperparameters, "seed": seed}, channels,
                               threads=1) for seed in seeds]
        return [future.result() for future in futures]


def finish(process: subprocess.Popen, timeout: float = 300) -> str:
    """The rest of a started job's output once it exits; a job still running after ``timeout`` is
    killed (a test must not leave one behind) and fails the test."""
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"the job did not exit within {timeout} s (killed)")


def job_env(base_dir: Path) -> Dict[str, str]:
    """Environment of a job in ``base_dir``: the toolkit reads SAGEMAKER_BASE_DIR."""
    return {
        **os.environ,
        "SAGEMAKER_BASE_DIR": str(base_dir),
        "SAGEMAKER_TRAINING_MODULE": "sagemaker_dgl.training:main",
        "PYTHONUNBUFFERED": "1",
    }
