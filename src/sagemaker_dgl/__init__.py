"""SageMaker training toolkit for graph neural networks with DGL.

- ``sagemaker_dgl.training:main`` is what the image's ``train`` command runs;
- :func:`load_model` returns a predictor for a trained model folder;
- :data:`METRIC_DEFINITIONS` is the ``metric_definitions`` list for a SageMaker Estimator.
"""
import os

os.environ.setdefault("DGLBACKEND", "pytorch")

__version__ = "0.1.0"

from .artifacts import load_model  # noqa: E402
from .metrics import metric_definitions  # noqa: E402

#: ``Estimator(metric_definitions=METRIC_DEFINITIONS)``: a regex per metric the tasks log.
METRIC_DEFINITIONS = metric_definitions()

__all__ = ["METRIC_DEFINITIONS", "load_model", "__version__"]
