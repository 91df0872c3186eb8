"""Graph neural network models, one file each, registered by name.

``create_model(name, in_feats, out_feats, cfg)`` is the one constructor; ``MODELS.names()``
lists what can be built. Importing this package registers every model below.
"""
from ._base import attach_full_degrees
from ._registry import MODELS, create_model, model_args, register_model
from . import gcn, gat, graphsage  # noqa: F401  (registers the models)

__all__ = ["MODELS", "attach_full_degrees", "create_model", "model_args", "register_model"]
