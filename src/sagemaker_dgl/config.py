"""Hyperparameters: one typed, validated model; one field per SageMaker hyperparameter.

SageMaker passes every value as a string, sometimes JSON-encoded (``"0.01"``, ``"\\"cora\\""``,
``"true"``); :meth:`Hyperparameters.from_sagemaker` accepts both forms. Fields left at ``None``
take the chosen model's defaults (``@register_model(..., defaults=...)``), which follow the
papers and DGL's reference examples. The README table is generated from this class
(``sagemaker-dgl hyperparameters``), and a test keeps the two equal.
"""
import difflib
import json
from typing import Any, Dict, List, Literal, Mapping, Optional, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .models import MODELS
from .tasks import TASKS

#: Names used by DGL's examples and other trainers -> ours, for "did you mean" hints.
COMMON_NAMES = {"learning_rate": "lr", "n_epochs": "epochs", "num_epochs": "epochs", "n_hidden": "hidden_size",
                "hidden": "hidden_size", "n_layers": "num_layers", "heads": "num_heads", "wd": "weight_decay",
                "patience": "early_stopping_patience", "in_drop": "dropout", "attn_drop": "attn_dropout"}

#: Hyperparameter prefix reserved for the SageMaker toolkit (sagemaker_program, ...).
TOOLKIT_PREFIX = "sagemaker_"


class Hyperparameters(BaseModel):
    """The job's hyperparameters, resolved and validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    # --- What to train ---
    task: str = Field("node_classification", description="Task; one of the registered tasks.")
    model: str = Field("gcn", description="Model; one of the registered models (gcn, gat, graphsage).")
    dataset: Optional[str] = Field(
        None,
        description="Named dataset: cora, citeseer, pubmed (downloaded when no 'train' channel is given) or "
        "karate. With a 'train' channel of Planetoid files, picks which ind.<name>.* files to read.",
    )
    data_format: Literal["auto", "planetoid", "csv"] = Field(
        "auto", description="Format of the 'train' channel; auto detects it from the files."
    )

    # --- Model ---
    hidden_size: Optional[int] = Field(None, gt=0, description="Hidden units per layer (per head for GAT).")
    num_layers: int = Field(2, ge=1, le=8, description="Message-passing layers, the output layer included.")
    dropout: Optional[float] = Field(None, ge=0.0, lt=1.0, description="Dropout on each layer's input.")
    num_heads: int = Field(8, gt=0, description="GAT: attention heads in hidden layers.")
    num_out_heads: int = Field(1, gt=0, description="GAT: attention heads in the output layer (averaged).")
    attn_dropout: float = Field(0.6, ge=0.0, lt=1.0, description="GAT: dropout on attention coefficients.")
    negative_slope: float = Field(0.2, ge=0.0, description="GAT: LeakyReLU slope in the attention.")
    residual: bool = Field(False, description="GAT: residual connections after the first layer.")
    aggregator: Literal["mean", "gcn", "pool", "lstm"] = Field("mean", description="GraphSAGE: neighbour aggregator.")

    # --- Optimisation ---
    epochs: Optional[int] = Field(None, gt=0, description="Training epochs.")
    lr: Optional[float] = Field(None, gt=0.0, description="Adam learning rate.")
    weight_decay: Optional[float] = Field(None, ge=0.0, description="Adam weight decay (L2).")
    early_stopping_patience: int = Field(
        0, ge=0, description="Stop after this many epochs without a better validation metric; 0 disables."
    )

    # --- Mini-batch training ---
    fanouts: Optional[List[int]] = Field(
        None,
        description="Neighbours sampled per layer, e.g. '10,25'; one per layer. Set it to train on "
        "neighbour-sampled mini-batches instead of the full graph.",
    )
    batch_size: int = Field(1024, gt=0, description="Seed nodes per mini-batch (with fanouts).")
    num_workers: int = Field(0, ge=0, description="Sampling worker processes (with fanouts).")

    # --- Data ---
    normalize_features: bool = Field(True, description="Row-normalise input features (as GCN and DGL do).")
    train_fraction: float = Field(
        0.6, gt=0.0, lt=1.0, description="Random split when the data has no masks: fraction of labelled nodes to train on."
    )
    val_fraction: float = Field(
        0.2, ge=0.0, lt=1.0, description="Random split when the data has no masks: fraction for validation."
    )
    num_classes: Optional[int] = Field(
        None, gt=1, description="Number of classes; inferred from the labels when unset. Labels must be below it."
    )

    # --- Run ---
    seed: int = Field(0, ge=0, description="Random seed; a CPU run with the same seed is reproducible.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to train; auto uses CUDA when present.")
    checkpoint_interval: int = Field(10, gt=0, description="Save a checkpoint every this many epochs.")
    save_checkpoints: Optional[bool] = Field(
        None, description="Write checkpoints; unset means: when /opt/ml/checkpoints exists."
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        return MODELS.check(value)

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        return TASKS.check(value)

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: Optional[str]) -> Optional[str]:
        from .data import NAMED_DATASETS

        if value is not None and value.lower() not in NAMED_DATASETS:
            raise ValueError(f"unknown dataset {value!r}; choose one of: {', '.join(sorted(NAMED_DATASETS))}")
        return None if value is None else value.lower()

    @field_validator("fanouts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.strip("[]").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @model_validator(mode="before")
    @classmethod
    def _model_defaults(cls, values: Any) -> Any:
        """Fill the fields the user left unset with the chosen model's defaults."""
        if isinstance(values, dict) and values.get("model", "gcn") in MODELS:
            defaults = MODELS.meta(values.get("model", "gcn")).get("defaults", {})
            values = {**defaults, **{key: value for key, value in values.items() if value is not None}}
        return values

    @model_validator(mode="after")
    def _consistent(self) -> "Hyperparameters":
        if self.fanouts is not None and len(self.fanouts) != self.num_layers:
            raise ValueError(
                f"fanouts={','.join(map(str, self.fanouts))} gives {len(self.fanouts)} layers but "
                f"num_layers={self.num_layers}; give one fanout per layer"
            )
        if self.fanouts is not None and any(f <= 0 and f != -1 for f in self.fanouts):
            raise ValueError("each fanout must be a positive integer, or -1 for all neighbours")
        if self.train_fraction + self.val_fraction >= 1.0:
            raise ValueError(
                f"train_fraction + val_fraction = {self.train_fraction + self.val_fraction:g} leaves no test nodes; "
                "keep the sum below 1"
            )
        return self

    @classmethod
    def from_sagemaker(cls, raw: Mapping[str, Any]) -> "Hyperparameters":
        """Validate hyperparameters as SageMaker passes them (strings, maybe JSON-encoded).

        Keys starting with ``sagemaker_`` belong to the toolkit and are skipped.
        Raises :class:`ConfigError` naming the key, the value received and what is allowed.
        """
        values = {key: _decode(value) for key, value in raw.items() if not key.startswith(TOOLKIT_PREFIX)}
        unknown = sorted(set(values) - set(cls.model_fields))
        if unknown:
            messages = []
            for key in unknown:
                close = [COMMON_NAMES[key]] if key in COMMON_NAMES else difflib.get_close_matches(
                    key, list(cls.model_fields), n=1
                )
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                messages.append(f"{key!r}{hint}")
            raise ConfigError(
                f"unknown hyperparameter {', '.join(messages)}. Valid hyperparameters: {', '.join(cls.model_fields)}."
            )
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise ConfigError(_describe(error, values)) from None

    def resolved(self) -> Dict[str, Any]:
        """All hyperparameters with defaults applied, JSON-serialisable."""
        return self.model_dump(mode="json")


def _decode(value: Any) -> Any:
    """``'0.01'`` -> 0.01, ``'"cora"'`` -> 'cora', ``'cora'`` stays; non-strings pass through."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _describe(error: ValidationError, values: Mapping[str, Any]) -> str:
    """One line per invalid hyperparameter: key, value received, what is allowed."""
    lines = []
    for item in error.errors():
        key = str(item["loc"][0]) if item["loc"] else None
        message = item["msg"].removeprefix("Value error, ")
        if key is None:
            lines.append(f"invalid hyperparameters: {message}")
            continue
        field = Hyperparameters.model_fields[key]
        allowed = f"expected {_type_name(field.annotation)}{_bounds(field)}"
        lines.append(f"hyperparameter {key!r}={values.get(key)!r} is invalid: {message} ({allowed}).")
    return " ".join(lines)


def _type_name(annotation: Any) -> str:
    """``Optional[int]`` -> 'int', ``Literal['a', 'b']`` -> 'one of a, b', ``List[int]`` -> 'list of int'."""
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(args)
    if origin is Union:
        return _type_name(next(arg for arg in args if arg is not type(None)))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    return annotation.__name__


def _bounds(field: Any) -> str:
    names = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    parts = [f"{names[k]} {getattr(m, k)}" for m in field.metadata for k in names if getattr(m, k, None) is not None]
    return (" " + " and ".join(parts)) if parts else ""


def hyperparameter_table() -> str:
    """Markdown table of every hyperparameter (name, type, default, description)."""
    per_model = {
        name: MODELS.meta(name).get("defaults", {}) for name in MODELS.names()
    }
    rows = ["| name | type | default | description |", "|---|---|---|---|"]
    for name, field in Hyperparameters.model_fields.items():
        default = field.default
        model_defaults = [f"{model}: {d[name]}" for model, d in per_model.items() if name in d]
        shown = "; ".join(model_defaults) if default is None and model_defaults else json.dumps(default)
        rows.append(f"| `{name}` | {_type_name(field.annotation)} | {shown} | {field.description} |")
    return "\n".join(rows)
