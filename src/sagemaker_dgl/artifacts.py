"""The model artifact: weights, everything needed to rebuild the model, and what inference needs.

``/opt/ml/model`` (packed by SageMaker into ``model.tar.gz``) holds:

- ``model.pt``: the ``state_dict`` of the selected model;
- ``model_config.json``: ``format_version``, ``task``, ``model`` (registry name), ``model_args``
  (constructor arguments), the resolved ``hyperparameters``, ``data`` facts (sizes,
  preprocessing), final ``metrics``, ``assets`` (the task's files below) and ``versions``;
- the task's assets, in open formats (node classification: ``graph.bin``, the training graph
  and features in DGL's format).

Files are written to a staging folder inside the model folder and renamed into place at the end,
so a failed job leaves ``/opt/ml/model`` empty. :func:`load_model` returns the task's predictor.
"""
import errno
import json
import math
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import torch

from .errors import OutputError, SageMakerDGLError

FORMAT_VERSION = 2
WEIGHTS = "model.pt"
CONFIG = "model_config.json"


def versions() -> Dict[str, str]:
    """Versions of this package, DGL, PyTorch and Python, e.g. ``{'dgl': '1.1.3', ...}``."""
    import dgl

    from . import __version__

    return {"sagemaker_dgl": __version__, "dgl": dgl.__version__, "torch": torch.__version__,
            "python": platform.python_version()}


def dumps(value: Any) -> str:
    """JSON text of ``value`` that every parser reads: NaN and infinities become null."""
    def finite(item):
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {key: finite(v) for key, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [finite(v) for v in item]
        return item

    return json.dumps(finite(value), indent=2, sort_keys=True, allow_nan=False)


#: Below this many free bytes, a failed write is taken for a full disk.
DISK_FULL_BYTES = 1 << 20


def disk_full_error(directory: Path, error: Exception) -> Optional[OutputError]:
    """What to do when writing into ``directory`` failed on a full disk (ENOSPC, or any error with
    less than :data:`DISK_FULL_BYTES` free: torch and DGL report a failed write without the errno);
    None when the disk is not full."""
    free = shutil.disk_usage(directory).free if directory.exists() else 0
    if getattr(error, "errno", None) != errno.ENOSPC and free >= DISK_FULL_BYTES:
        return None
    return OutputError(f"No space left on device: writing to {directory} failed with {free} bytes free "
                       f"({type(error).__name__}: {str(error)[:200]}). Give the job more disk (the Estimator's "
                       "volume_size) or save less (for node classification: save_graph=false)")


def write_ids(path: Path, ids: Sequence[str]) -> None:
    """``index<TAB>id`` lines (DGL-KE's ``entities.tsv`` layout): row ``i`` of saved embeddings is
    ``ids[i]``. Ids hold no line breaks (the data formats make them one line each)."""
    Path(path).write_text("".join(f"{index}\t{name}\n" for index, name in enumerate(ids)), encoding="utf-8")


def read_ids(path: Path) -> List[str]:
    """The ids of a file written by :func:`write_ids`, by index."""
    return [line.split("\t", 1)[1] for line in Path(path).read_text(encoding="utf-8").splitlines() if line]


def save(model_dir: Path, model: torch.nn.Module, config: Dict[str, Any],
         write_assets: Callable[[Path], Dict[str, str]]) -> None:
    """Write ``model.pt``, the task's assets (``write_assets(folder)`` -> name -> file) and
    ``model_config.json`` into ``model_dir``, all or nothing."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    moved = []
    try:
        torch.save(model.state_dict(), staging / WEIGHTS)
        assets = write_assets(staging)
        record = {"format_version": FORMAT_VERSION, **config, "assets": assets, "versions": versions()}
        (staging / CONFIG).write_text(dumps(record))
        for path in sorted(staging.iterdir()):
            os.replace(path, model_dir / path.name)
            moved.append(model_dir / path.name)
    except BaseException as error:
        full = disk_full_error(model_dir, error) if isinstance(error, Exception) else None  # before the clean-up
        shutil.rmtree(staging, ignore_errors=True)
        for path in moved:
            path.unlink(missing_ok=True)
        if full:
            raise full from error
        raise
    shutil.rmtree(staging, ignore_errors=True)


def load_model(model_dir: Union[str, Path], device: Union[str, torch.device] = "cpu"):
    """The predictor of a trained model folder (an extracted ``model.tar.gz``).

    It holds the model in eval mode (``.model``), its ``model_config.json`` (``.config``), and
    predicts for the model's task with the job's preprocessing; for node classification::

        predictor = sagemaker_dgl.load_model("model")
        predictor.predict(nodes=[0, 1, 2])                    # nodes of the training graph
        predictor.predict_proba(graph=graph, features=feat)   # a new graph
    """
    from .models import create_model
    from .tasks import TASKS

    model_dir = Path(model_dir)
    try:
        config = json.loads((model_dir / CONFIG).read_text())
    except (OSError, ValueError) as error:
        raise SageMakerDGLError(f"{model_dir} is not a sagemaker_dgl model folder ({error})") from None
    if config.get("format_version") != FORMAT_VERSION:
        raise SageMakerDGLError(
            f"{model_dir}/{CONFIG} has format_version {config.get('format_version')}; "
            f"this sagemaker_dgl reads version {FORMAT_VERSION}"
        )
    device = torch.device(device)
    model = create_model(config["model"], config["task"], **config["model_args"])
    model.load_state_dict(torch.load(model_dir / WEIGHTS, map_location=device, weights_only=True))
    model = model.to(device).eval()
    return TASKS.get(config["task"]).predictor(model, config, model_dir, device)
