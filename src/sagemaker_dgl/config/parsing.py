"""Parse SageMaker's flat hyperparameters into the job's three groups: common, task and model.

SageMaker passes every value as a string, sometimes JSON-encoded (``"0.01"``, ``"\\"cora\\""``,
``"true"``); both forms are accepted. Checks run in this order, each failing with a
:class:`~sagemaker_dgl.errors.ConfigError` that says what to do:

1. a key no group knows: did-you-mean over every known name;
2. an unknown task, model, dataset or data format name: the registered choices;
3. a key of another model or task: ``hyperparameter 'num_heads' applies to model gat (chosen: gcn)``;
4. a model that does not serve the task: ``model 'transe' does not do task 'node_classification'; ...``;
5. a wrong type or range: key, value and what is allowed; then the task's cross-group checks.
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Literal, Mapping, Optional, Union, get_args, get_origin

from pydantic import ValidationError

from ..errors import ConfigError
from ..registry import closest
from .common import CommonHyperparameters
from .groups import HyperparameterGroup

#: Names used by DGL's examples and other trainers -> ours, for "did you mean" hints.
COMMON_NAMES = {"learning_rate": "lr", "n_epochs": "epochs", "num_epochs": "epochs", "n_hidden": "hidden_size",
                "hidden": "hidden_size", "n_layers": "num_layers", "heads": "num_heads", "wd": "weight_decay",
                "patience": "early_stopping_patience", "in_drop": "dropout", "attn_drop": "attn_dropout",
                "clip": "max_grad_norm", "grad_clip": "max_grad_norm"}

#: Hyperparameter prefix reserved for the SageMaker toolkit (sagemaker_program, ...).
TOOLKIT_PREFIX = "sagemaker_"
#: The task of a job that sets none, when its model serves several (among them this one).
DEFAULT_TASK = "node_classification"
#: A FailureReason shows 1024 characters: lists in messages are cut to fit.
MAX_MESSAGE = 900


@dataclass(frozen=True)
class Hyperparameters:
    """The job's hyperparameters, validated, in their groups: ``hp.common.lr``, ``hp.task.fanouts``,
    ``hp.model.hidden_size``. ``hp.common.task`` and ``hp.common.model`` are the chosen names."""

    common: CommonHyperparameters
    task: HyperparameterGroup
    model: HyperparameterGroup

    @classmethod
    def from_sagemaker(cls, raw: Mapping[str, Any], channels: Optional[Mapping[str, str]] = None) -> "Hyperparameters":
        """Validate hyperparameters as SageMaker passes them; keys starting ``sagemaker_`` are skipped.
        ``channels`` (name -> folder) lets a model that serves several tasks take its task from the
        data when ``task`` is not given."""
        from ..data import DATASETS, FORMATS
        from ..models import MODELS
        from ..tasks import TASKS

        _check_toolkit_keys(raw)
        values = {key: _decode(value) for key, value in raw.items() if not key.startswith(TOOLKIT_PREFIX)}
        values = {key: value for key, value in values.items() if value is not None}  # null: the default
        owners = _owners()
        _check_known(values, owners)
        model = MODELS.check(values.get("model", CommonHyperparameters.model_fields["model"].default))
        if values.get("dataset") is not None:
            values["dataset"] = DATASETS.check(values["dataset"])
        if values.get("data_format", "auto") != "auto":
            values["data_format"] = FORMATS.check(values["data_format"])
        task = TASKS.check(values["task"]) if values.get("task") is not None else _infer_task(model, values, channels)
        values.update(task=task, model=model)
        _check_owned(values, owners, task, model)
        spec = MODELS.spec(model, task)
        task_class = TASKS.get(task)
        groups, problems = [], []
        for group in (CommonHyperparameters, task_class.hyperparameters, spec.hyperparameters):
            given = {**spec.defaults, **values}
            try:
                groups.append(group.model_validate({k: v for k, v in given.items() if k in group.model_fields}))
            except ValidationError as error:
                problems.extend(_describe(error, given, group))
        if problems:
            raise ConfigError(" ".join(problems))
        hp = cls(*groups)
        task_class.check_hyperparameters(hp)
        return hp

    def resolved(self) -> Dict[str, Any]:
        """Every hyperparameter of the job with defaults applied, flat and JSON-serialisable."""
        return {**self.common.model_dump(mode="json"), **self.task.model_dump(mode="json"),
                **self.model.model_dump(mode="json")}

    def fingerprint(self) -> Dict[str, Any]:
        """The values that must not change for a job to resume: all but the resumable and inactive ones."""
        values = {}
        for group in (self.common, self.task, self.model):
            skipped = group.resumable() | group.inactive()
            values.update({k: v for k, v in group.model_dump(mode="json").items() if k not in skipped})
        return values


def _infer_task(model: str, values: Mapping[str, Any], channels: Optional[Mapping[str, str]]) -> str:
    """The task of a job without ``task``: the model's only one; else the one that trains on what
    the data is (channel 'train' in its given or detected format, or the named ``dataset``); else
    :data:`DEFAULT_TASK` when the model serves it."""
    from ..data import DATASETS, FORMATS
    from ..models import MODELS
    from ..tasks import TASKS

    served = MODELS.tasks(model)
    if len(served) == 1:
        return served[0]
    produced = None
    if channels and "train" in channels and Path(channels["train"]).is_dir():  # a missing folder fails when read
        data_format = values.get("data_format", "auto")
        if data_format == "auto":
            detected = [spec.name for spec in FORMATS.values() if spec.detect(Path(channels["train"]))]
            data_format = detected[0] if len(detected) == 1 else None
        produced = FORMATS.get(data_format).produces if data_format else None
    elif values.get("dataset") is not None:
        produced = DATASETS.get(values["dataset"]).produces
    fitting = [task for task in served if produced is not None and TASKS.get(task).data_type is produced]
    if len(fitting) == 1:
        return fitting[0]
    if DEFAULT_TASK in served:
        return DEFAULT_TASK
    raise ConfigError(f"model {model!r} does several tasks ({', '.join(served)}) and the data does not tell which: "
                      "set hyperparameter 'task' to one of them")


def _owners() -> Dict[str, List[str]]:
    """Every known key -> who declares it: ``['common']``, ``['task node_classification']``,
    ``['model gat', ...]``."""
    from ..models import MODELS
    from ..tasks import TASKS

    owners: Dict[str, List[str]] = {key: ["common"] for key in CommonHyperparameters.model_fields}
    for name in TASKS.names():
        for key in TASKS.get(name).hyperparameters.model_fields:
            owners.setdefault(key, []).append(f"task {name}")
    for spec in MODELS.specs():
        for key in spec.hyperparameters.model_fields:
            if f"model {spec.name}" not in owners.setdefault(key, []):
                owners[key].append(f"model {spec.name}")
    return owners


def _toolkit_keys() -> List[str]:
    """The ``sagemaker_*`` hyperparameters the toolkit reads (from its ``params`` module)."""
    from sagemaker_training import params

    return sorted({value for value in vars(params).values() if isinstance(value, str)
                   and value.startswith(TOOLKIT_PREFIX) and value.islower()})


def _check_toolkit_keys(raw: Mapping[str, Any]) -> None:
    """A ``sagemaker_*`` key close to one the toolkit reads is a typo that it would ignore."""
    known = _toolkit_keys()
    for key in raw:
        if key.startswith(TOOLKIT_PREFIX) and key not in known:
            close = closest(key, known, cutoff=0.85)
            if close:
                raise ConfigError(f"hyperparameter {key!r} is not one the SageMaker toolkit reads (did you mean "
                                  f"{close!r}?); it would be ignored")


def _check_known(values: Mapping[str, Any], owners: Mapping[str, List[str]]) -> None:
    unknown = sorted(set(values) - set(owners))
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = COMMON_NAMES.get(key) or closest(key, owners)
        hints.append(f"{key!r}" + (f" (did you mean {close!r}?)" if close else ""))
    message = f"unknown hyperparameter {', '.join(hints)}."
    valid = f" Valid hyperparameters: {', '.join(sorted(owners))}."
    raise ConfigError(_fit(message + valid if len(message + valid) <= MAX_MESSAGE else message))


def _check_owned(values: Mapping[str, Any], owners: Mapping[str, List[str]], task: str, model: str) -> None:
    """Fail on keys that belong to another task or model than the chosen ones."""
    chosen = {"common", f"task {task}", f"model {model}"}
    problems = []
    for key in values:
        if not chosen.intersection(owners[key]):
            kinds = sorted({owner.split()[0] for owner in owners[key]})
            names = {kind: sorted(o.split()[1] for o in owners[key] if o.startswith(kind)) for kind in kinds}
            applies = " or ".join(
                f"{kind}{'s' if len(names[kind]) > 1 else ''} {', '.join(names[kind])}" for kind in kinds
            )
            problems.append(f"hyperparameter {key!r} applies to {applies} (chosen: task {task}, model {model})")
    if problems:
        raise ConfigError(_fit("; ".join(problems) + "; remove it or choose that model or task."))


def _fit(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 4] + " ..."


def _decode(value: Any) -> Any:
    """``'0.01'`` -> 0.01, ``'"cora"'`` -> 'cora', ``'cora'`` stays; non-strings pass through."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _describe(error: ValidationError, values: Mapping[str, Any], group: type) -> List[str]:
    """One sentence per invalid hyperparameter: key, value received, what is allowed."""
    lines = []
    for item in error.errors():
        key = str(item["loc"][0]) if item["loc"] else None
        message = item["msg"].removeprefix("Value error, ")
        if key is None or key not in group.model_fields:
            lines.append(f"{message}." if message.startswith("hyperparameter ") else f"invalid hyperparameters: {message}.")
            continue
        field = group.model_fields[key]
        allowed = f"expected {type_name(field.annotation)}{_bounds(field)}"
        lines.append(f"hyperparameter {key!r}={values.get(key)!r} is invalid: {message} ({allowed}).")
    return lines


def type_name(annotation: Any) -> str:
    """``Optional[int]`` -> 'int', ``Literal['a', 'b']`` -> 'one of a, b', ``List[int]`` -> 'list of int'."""
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(map(str, args))
    if origin is Union:
        return type_name(next(arg for arg in args if arg is not type(None)))
    if origin is list:
        return f"list of {type_name(args[0])}"
    return annotation.__name__


def _bounds(field: Any) -> str:
    names = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    parts = [f"{names[k]} {getattr(m, k)}" for m in field.metadata for k in names if getattr(m, k, None) is not None]
    return (" " + " and ".join(parts)) if parts else ""
