"""Hyperparameters in groups: common (:mod:`.common`), the task's and the model's (declared in their
files, with :class:`HyperparameterGroup` and :func:`hyperparameter`), parsed by
:meth:`Hyperparameters.from_sagemaker` and documented by :func:`hyperparameter_tables`."""
from .common import CommonHyperparameters
from .groups import HyperparameterGroup, hyperparameter
from .parsing import Hyperparameters
from .tables import hyperparameter_tables

__all__ = ["CommonHyperparameters", "HyperparameterGroup", "Hyperparameters", "hyperparameter",
           "hyperparameter_tables"]
