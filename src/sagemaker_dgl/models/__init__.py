"""Graph neural network models, one file each, registered by name and task.

``create_model(name, task, **arguments)`` is the one constructor; ``MODELS.names()`` lists what
can be built and ``MODELS.for_task(task)`` what serves a task. Importing this package registers
every model below.
"""
from ._base import NodeEncoderHyperparameters, NodeModel, attach_full_degrees
from ._registry import MODELS, ModelSpec, create_model, register_model
from . import complex, dgmg, distmult, gcmc, gcn, gat, gin, graphsage, jtnn, rgcn, rotate, transe  # noqa: F401  (registers the models)

__all__ = ["MODELS", "ModelSpec", "NodeEncoderHyperparameters", "NodeModel", "attach_full_degrees", "create_model",
           "register_model"]
