"""The model artifact: weights plus everything needed to rebuild the model.

``/opt/ml/model`` (packed by SageMaker into ``model.tar.gz``) holds:

- ``model.pt``: the ``state_dict`` of the selected model;
- ``model_config.json``: ``format_version``, ``task``, ``model`` (registry name), ``model_args``
  (constructor arguments), the resolved ``hyperparameters``, ``data`` facts (feature size,
  classes, preprocessing), final ``metrics`` and the ``versions`` it was trained with.

Files are written to a staging folder first and moved in at the end, so a failed job leaves
``/opt/ml/model`` empty.
"""
import json
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Union

import torch

from .errors import SageMakerDGLError

FORMAT_VERSION = 1
WEIGHTS = "model.pt"
CONFIG = "model_config.json"


def versions() -> Dict[str, str]:
    """Versions of this package, DGL, PyTorch and Python, e.g. ``{'dgl': '1.1.3', ...}``."""
    import dgl

    from . import __version__

    return {"sagemaker_dgl": __version__, "dgl": dgl.__version__, "torch": torch.__version__,
            "python": platform.python_version()}


def save(model_dir: Path, model: torch.nn.Module, config: Dict[str, Any]) -> None:
    """Write ``model.pt`` and ``model_config.json`` into ``model_dir`` (all or nothing)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir.parent))
    try:
        torch.save(model.state_dict(), staging / WEIGHTS)
        record = {"format_version": FORMAT_VERSION, **config, "versions": versions()}
        (staging / CONFIG).write_text(json.dumps(record, indent=2, sort_keys=True))
        for path in staging.iterdir():
            shutil.move(str(path), model_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_model(model_dir: Union[str, Path], device: Union[str, torch.device] = "cpu") -> torch.nn.Module:
    """Rebuild a trained model from a model folder (an extracted ``model.tar.gz``).

    Returns the model in eval mode; its config is in ``model.model_config``. For node
    classification call ``model(graph, features)`` for logits, with the graph and features
    prepared as in training (self loops, normalisation; see ``model_config['data']``).

    Example::

        from sagemaker_dgl.tasks.node_classification import model_inputs

        model = sagemaker_dgl.load_model("model")
        facts = model.model_config["data"]
        inputs = model_inputs(graph, graph.ndata["feat"], facts["self_loops_added"], facts["features_normalized"])
        predictions = model(*inputs).argmax(1)
    """
    from .models import create_model

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
    model = create_model(config["model"], **config["model_args"])
    model.load_state_dict(torch.load(model_dir / WEIGHTS, map_location=device, weights_only=True))
    model.model_config = config
    return model.to(device).eval()
