"""Tasks: each owns its batching, loss, metrics, evaluation, objective and predictor.

The trainer sees a task only through :class:`~sagemaker_dgl.tasks._base.Task`, so adding a task
(link prediction, rating prediction, graph property prediction, generation) is one new file plus
its import line here.
"""
from ._base import TASKS, Objective, Predictor, Step, Task, register_task
from ._splits import RandomSplitHyperparameters, random_split
from . import entity_classification, graph_generation, graph_prediction, link_prediction, node_classification, rating_prediction  # noqa: F401  (registers the tasks)

__all__ = ["TASKS", "Objective", "Predictor", "RandomSplitHyperparameters", "Step", "Task", "random_split",
           "register_task"]
