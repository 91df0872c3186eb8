"""The README's hyperparameter tables, generated from the groups (``sagemaker-dgl hyperparameters``).

One table for the common group, one per task and one per model (with the tasks it serves and the
defaults it overrides in the common and task groups). Registry names in descriptions come from the registries.
"""
import json
from typing import Any, Dict, List, Mapping

from .common import CommonHyperparameters
from .parsing import DEFAULT_TASK, type_name


def hyperparameter_tables() -> str:
    """Markdown: a section per group, each with a table of name, type, default and description."""
    from ..models import MODELS
    from ..tasks import TASKS

    names = _registry_names()
    sections = ["#### Common (every job)", _table(CommonHyperparameters, {}, names)]
    for task in TASKS.names():
        group = TASKS.get(task).hyperparameters
        sections += [f"#### Task `{task}`", _table(group, {}, names) if group.model_fields else "No own hyperparameters."]
    for model in MODELS.names():
        alike: Dict[Any, List[Any]] = {}  # registrations for several tasks with the same group and defaults
        for spec in (MODELS.spec(model, task) for task in MODELS.tasks(model)):
            alike.setdefault((spec.hyperparameters, json.dumps(spec.defaults, sort_keys=True)), []).append(spec)
        for specs in alike.values():
            spec = specs[0]
            tasks = ", ".join(s.task for s in specs)
            sections += [f"#### Model `{model}` (tasks: {tasks})", _table(spec.hyperparameters, spec.defaults, names)]
            for kind, fields in (("common", CommonHyperparameters.model_fields),
                                 *((f"task {s.task}", TASKS.get(s.task).hyperparameters.model_fields) for s in specs)):
                overridden = {k: v for k, v in spec.defaults.items() if k in fields}
                if overridden:
                    shown = ", ".join(f"`{k}`={json.dumps(v)}" for k, v in sorted(overridden.items()))
                    sections.append(f"Its defaults for {kind} hyperparameters: {shown}.")
    return "\n\n".join(sections)


def _table(group: type, defaults: Mapping[str, Any], names: Dict[str, str]) -> str:
    rows = ["| name | type | default | description |", "|---|---|---|---|"]
    for name, field in group.model_fields.items():
        default = defaults.get(name, field.default)
        resumable = " May change when resuming." if (field.json_schema_extra or {}).get("resumable") else ""
        rows.append(f"| `{name}` | {type_name(field.annotation)} | {json.dumps(default)} | "
                    f"{field.description.format(**names)}{resumable} |")
    return "\n".join(rows)


def _registry_names() -> Dict[str, str]:
    from ..data import DATASETS, FORMATS
    from ..models import MODELS
    from ..tasks import TASKS

    names = {kind: ", ".join(registry.names()) for kind, registry in
             (("tasks", TASKS), ("models", MODELS), ("formats", FORMATS), ("datasets", DATASETS))}
    return {**names, "default_task": DEFAULT_TASK}
