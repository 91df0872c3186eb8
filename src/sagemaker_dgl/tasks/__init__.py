"""Tasks: each owns its model head, loss, metrics, batching and evaluation.

The trainer sees a task only through :class:`~sagemaker_dgl.tasks._base.Task`, so adding a task
(link prediction, rating prediction, graph classification, generation) is one new file plus its
import line here.
"""
from ._base import TASKS, Task, register_task
from . import node_classification  # noqa: F401  (registers the task)

__all__ = ["TASKS", "Task", "register_task"]
