"""The model registry and its one constructor."""
import inspect
from typing import Any, Dict, Mapping

from torch import nn

from ..registry import Registry

MODELS = Registry("model", hyperparameter="model")
register_model = MODELS.register


def model_args(name: str, in_feats: int, out_feats: int, hyperparameters: Mapping[str, Any]) -> Dict[str, Any]:
    """The constructor arguments of model ``name``, taken from ``hyperparameters`` by name.

    Example: ``model_args('gcn', 1433, 7, hp) == {'in_feats': 1433, 'out_feats': 7,
    'hidden_size': 16, 'num_layers': 2, 'dropout': 0.5}``.
    """
    params = inspect.signature(MODELS.get(name).__init__).parameters
    args = {"in_feats": in_feats, "out_feats": out_feats}
    args.update({key: hyperparameters[key] for key in params if key in hyperparameters and key not in args})
    return args


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build registered model ``name`` from keyword arguments (see :func:`model_args`)."""
    return MODELS.get(name)(**kwargs)
