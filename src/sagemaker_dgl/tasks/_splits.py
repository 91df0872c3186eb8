"""The one seeded random split, shared by every task that needs one, and its hyperparameters."""
from typing import Dict

import torch
from pydantic import model_validator

from ..config.groups import HyperparameterGroup, hyperparameter


class RandomSplitHyperparameters(HyperparameterGroup):
    """Fractions of a random split, for data that comes without one (the rest is the test split)."""

    train_fraction: float = hyperparameter(
        0.6, "Random split when the data has none: fraction of the labelled examples to train on.", gt=0.0, lt=1.0
    )
    val_fraction: float = hyperparameter(
        0.2, "Random split when the data has none: fraction for validation (the rest is the test split).",
        ge=0.0, lt=1.0,
    )

    @model_validator(mode="after")
    def _leaves_a_test_split(self):
        if self.train_fraction + self.val_fraction >= 1.0:
            raise ValueError(
                f"train_fraction + val_fraction = {self.train_fraction + self.val_fraction:g} leaves no test "
                "examples; keep the sum below 1"
            )
        return self

    @property
    def test_fraction(self) -> float:
        return 1.0 - self.train_fraction - self.val_fraction


def random_split(ids: torch.Tensor, fractions: Dict[str, float], seed: int, rest: str) -> Dict[str, torch.Tensor]:
    """Split ``ids`` in a seeded random order: each part of ``fractions``, in order, takes
    ``round(fraction * len(ids))`` ids (at least one when its fraction is above 0), and part
    ``rest`` the remainder. Example: ``random_split(ids, {'train': 0.6, 'val': 0.2}, 0, rest='test')``."""
    order = ids[torch.randperm(len(ids), generator=torch.Generator().manual_seed(seed))]
    parts, start = {}, 0
    for name, fraction in fractions.items():
        count = max(1, round(fraction * len(ids))) if fraction > 0 else 0
        parts[name] = order[start : start + count]
        start += count
    parts[rest] = order[start:]
    return parts
