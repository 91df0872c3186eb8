"""The building blocks of hyperparameter groups: a base class and a field helper.

Every hyperparameter belongs to one group: the common group (:mod:`.common`), the chosen task's
(declared in the task's file) or the chosen model's (declared in the model's file). Keys stay
flat, as SageMaker passes them; :class:`~sagemaker_dgl.config.Hyperparameters` sorts them into
the groups. Descriptions name registry entries with ``{tasks}``, ``{models}``, ``{formats}``,
``{datasets}`` and ``{default_task}``; the tables fill them in from the registries.
"""
from typing import Any, FrozenSet, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator


def hyperparameter(default: Any, description: str, *, resumable: bool = False, **constraints: Any) -> Any:
    """A group field: its default, a one-line description and pydantic constraints (``gt=0``...).

    ``resumable=True`` declares that the value may change between a stopped job and its
    resumption (``epochs``, ``device``, ...): it is left out of the checkpoint fingerprint.
    """
    return Field(default, description=description, json_schema_extra={"resumable": resumable}, **constraints)


class HyperparameterGroup(BaseModel):
    """One group of validated hyperparameters; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=(), allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, values: Any) -> Any:
        """``epochs=true`` is a mistake, not 1 epoch (pydantic alone would take it as 1)."""
        if isinstance(values, dict):
            for key, value in values.items():
                field = cls.model_fields.get(key)
                if isinstance(value, bool) and field is not None and _numeric(field.annotation):
                    raise ValueError(f"hyperparameter {key!r}={value!r} is a boolean where a number is expected")
        return values

    def inactive(self) -> FrozenSet[str]:
        """Fields that have no effect with the other values (e.g. ``batch_size`` without ``fanouts``):
        they stay out of the checkpoint fingerprint."""
        return frozenset()

    @classmethod
    def resumable(cls) -> FrozenSet[str]:
        """Fields declared ``resumable`` (see :func:`hyperparameter`)."""
        return frozenset(
            name for name, field in cls.model_fields.items() if (field.json_schema_extra or {}).get("resumable")
        )


def _numeric(annotation: Any) -> bool:
    """``int``, ``float`` or an optional one."""
    if get_origin(annotation) is Union:
        return any(_numeric(arg) for arg in get_args(annotation) if arg is not type(None))
    return annotation in (int, float)
