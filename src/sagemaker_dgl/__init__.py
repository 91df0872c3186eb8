"""SageMaker training toolkit for graph neural networks with DGL.

- ``sagemaker_dgl.training:main`` is what the image's ``train`` command runs;
- :func:`load_model` returns a predictor for a trained model folder;
- :data:`METRIC_DEFINITIONS` is the ``metric_definitions`` list for a SageMaker Estimator.

Both are imported on first use, so that the ``train`` command starts (and handles SIGTERM)
before torch and DGL are imported.
"""
import os

os.environ.setdefault("DGLBACKEND", "pytorch")

__version__ = "0.1.0"
__all__ = ["METRIC_DEFINITIONS", "load_model", "__version__"]


def __getattr__(name):
    if name == "load_model":
        from .artifacts import load_model

        return load_model
    if name == "METRIC_DEFINITIONS":
        from .metrics import metric_definitions

        return metric_definitions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
