"""Seeded train / validation / test splits, stratified by class when asked."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import UserError
from .dataset import Dataset


class SplitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    validation: float = Field(0.1, ge=0, lt=1, description="Fraction held out for validation (0: none).")
    test: float = Field(0.2, ge=0, lt=1, description="Fraction held out for the test (0: none).")
    stratify: bool = Field(True, description="Keep class proportions in every split (classification).")

    @model_validator(mode="after")
    def _leaves_training_data(self) -> "SplitConfig":
        if self.validation + self.test >= 1:
            raise ValueError(
                f"validation + test must be below 1 to leave training data, "
                f"got {self.validation} + {self.test}"
            )
        return self


SPLITS = ("train", "validation", "test")


def split_indices(data: Dataset, config: SplitConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Indices of each split, sorted. With stratification every class is cut in the
    same proportions, so a class of 10 with test 0.2 puts exactly 2 in the test split."""
    if config.stratify and data.task == "classification":
        groups = [np.flatnonzero(data.y == c) for c in range(data.num_classes)]
    else:
        groups = [np.arange(len(data))]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for group in groups:
        group = rng.permutation(group)
        n_test = int(round(len(group) * config.test))
        n_val = int(round(len(group) * config.validation))
        parts["test"].append(group[:n_test])
        parts["validation"].append(group[n_test : n_test + n_val])
        parts["train"].append(group[n_test + n_val :])
    indices = {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}
    _check_not_empty(indices, config)
    return indices


def _check_not_empty(indices: dict[str, np.ndarray], config: SplitConfig) -> None:
    wanted = {"train": 1.0, "validation": config.validation, "test": config.test}
    for name, fraction in wanted.items():
        if fraction > 0 and len(indices[name]) == 0:
            total = sum(len(i) for i in indices.values())
            raise UserError(
                f"data.split: the {name} split would be empty ({fraction} of {total} samples)",
                hint=f"raise data.split.{name if name != 'train' else 'test'} or use more data",
            )
