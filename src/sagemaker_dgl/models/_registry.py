"""The model registry: which models exist, the tasks each serves, and the one constructor.

A registration names the model, the tasks it serves, its hyperparameter group and the defaults
it overrides (common ones such as ``lr`` included)::

    @register_model("gat", tasks=("node_classification",), hyperparameters=GATHyperparameters,
                    defaults={"lr": 0.005})
    class GAT(NodeModel): ...

The same name may be registered again for another task with another class (a GCN encoder for
node classification and for graph property prediction): entries are keyed by (name, task).
"""
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Tuple, Type

from torch import nn

from ..errors import IncompatibleTaskError
from ..registry import Registry


@dataclass(frozen=True)
class ModelSpec:
    """One registration: model ``name`` doing ``task``."""

    name: str
    task: str
    model_class: Type[nn.Module]
    hyperparameters: type
    defaults: Mapping[str, Any] = field(default_factory=dict)


class ModelRegistry(Registry[Dict[str, ModelSpec]]):
    """Model names -> {task: spec}."""

    def __init__(self):
        super().__init__("model", hyperparameter="model")

    def register(self, name: str, *, tasks: Tuple[str, ...], hyperparameters: type,
                 defaults: Mapping[str, Any] = None) -> Callable[[type], type]:
        def decorator(model_class):
            by_task = self._entries.setdefault(name, {})
            for task in tasks:
                if task in by_task:
                    raise RuntimeError(f"model {name!r} is registered twice for task {task!r}")
                by_task[task] = ModelSpec(name, task, model_class, hyperparameters, dict(defaults or {}))
            return model_class

        return decorator

    def tasks(self, name: str) -> List[str]:
        """The tasks model ``name`` serves, e.g. ``['node_classification']``."""
        return sorted(self.get(name))

    def for_task(self, task: str) -> List[str]:
        """The models that serve ``task``."""
        return [name for name in self.names() if task in self._entries[name]]

    def spec(self, name: str, task: str) -> ModelSpec:
        """The registration of ``name`` for ``task``; an error naming the task's models if there is none."""
        by_task = self.get(name)
        if task not in by_task:
            raise IncompatibleTaskError(
                f"model {self.check(name)!r} does not do task {task!r}; models for it: "
                f"{', '.join(self.for_task(task)) or 'none'}"
            )
        return by_task[task]

    def specs(self) -> List[ModelSpec]:
        """Every registration, by model name then task."""
        return [by_task[task] for by_task in self.values() for task in sorted(by_task)]


MODELS = ModelRegistry()
register_model = MODELS.register


def create_model(name: str, task: str, **arguments: Any) -> nn.Module:
    """Build model ``name`` for ``task`` from its constructor arguments: the sizes the task gives
    (``in_feats``, ``num_classes``, ...) and the model's hyperparameters, e.g.
    ``create_model('gcn', 'node_classification', in_feats=1433, num_classes=7, hidden_size=16,
    num_layers=2, dropout=0.5)``. An argument the model does not take, or a missing one, is an error."""
    model_class = MODELS.spec(name, task).model_class
    try:
        inspect.signature(model_class).bind(**arguments)
    except TypeError as error:
        takes = ", ".join(inspect.signature(model_class).parameters)
        raise IncompatibleTaskError(
            f"model {name!r} for task {task!r} cannot be built from {sorted(arguments)}: {error}; it takes {takes}"
        ) from None
    return model_class(**arguments)
