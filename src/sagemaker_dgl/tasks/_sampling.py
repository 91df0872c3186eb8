"""The hyperparameters of neighbour-sampled mini-batch training, shared by the tasks that offer it."""
from typing import List, Optional

from pydantic import field_validator

from ..config.groups import HyperparameterGroup, hyperparameter
from ..errors import ConfigError


class NeighborSamplingHyperparameters(HyperparameterGroup):
    """``fanouts`` switches from full-graph training to neighbour-sampled mini-batches."""

    fanouts: Optional[List[int]] = hyperparameter(
        None,
        "Neighbours sampled per layer, e.g. '10,25' (-1: all); one per layer. Set it to train on "
        "neighbour-sampled mini-batches instead of the full graph.",
    )
    batch_size: int = hyperparameter(1024, "Seed nodes per mini-batch (with fanouts).", gt=0)
    num_workers: int = hyperparameter(0, "Sampling worker processes (with fanouts).", resumable=True, ge=0)

    @field_validator("fanouts", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.strip("[]").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("fanouts")
    @classmethod
    def _positive(cls, value):
        if value is not None and any(f <= 0 and f != -1 for f in value):
            raise ValueError("each fanout must be a positive integer, or -1 for all neighbours")
        return value

    def inactive(self):
        return frozenset() if self.fanouts is not None else frozenset({"batch_size", "num_workers"})

    def check_layers(self, num_layers: int) -> None:
        """One fanout per layer of the model."""
        if self.fanouts is not None and len(self.fanouts) != num_layers:
            raise ConfigError(
                f"fanouts={','.join(map(str, self.fanouts))} gives {len(self.fanouts)} layers but "
                f"num_layers={num_layers}; give one fanout per layer"
            )
