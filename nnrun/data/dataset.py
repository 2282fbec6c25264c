"""The in-memory data set every source produces."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nnrun.data.table import Table


@dataclass(frozen=True)
class Dataset:
    """Samples ``x`` (N, *input_shape) float32 and targets ``y``: integer class labels
    (N,) for classification, float32 values (N,) or (N, k) for regression.

    A CSV source also carries its raw ``table``: its columns are encoded into ``x``
    only after the split, because categories and fill values are learned on the
    training rows. ``assigned`` (N,) int8 marks rows that came from an explicit
    validation (1) or test (2) file; -1 for rows the split may place anywhere.
    """

    x: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    feature_names: list[str]
    class_names: list[str] | None = None
    table: "Table | None" = None
    assigned: np.ndarray | None = None
    warnings: tuple[str, ...] = ()  # what the user should know about the data (single-row classes, ...)

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names or [])

    @property
    def target_width(self) -> int:
        """Output width a model needs: classes, or the number of regression targets."""
        if self.task == "classification":
            return self.num_classes
        return 1 if self.y.ndim == 1 else self.y.shape[1]

    def take(self, indices: np.ndarray) -> "Dataset":
        if len(indices) == len(self) and np.array_equal(indices, np.arange(len(self))):
            return self  # the whole set in order (no held-out splits): no copy
        return replace(
            self,
            x=np.take(self.x, indices, axis=0),  # whole rows: faster than indexing with an array
            y=self.y[indices],
            table=self.table.take(indices) if self.table is not None else None,
            assigned=self.assigned[indices] if self.assigned is not None else None,
        )

    def with_x(self, x: np.ndarray) -> "Dataset":
        return replace(self, x=x)

    def fingerprint(self) -> str:
        """SHA-256 of the raw samples (the table's cells for CSV data) and targets,
        shapes and dtypes included, and of the feature and class names, so relabelled
        or reordered data gets a different fingerprint."""
        digest = hashlib.sha256()
        names = {"task": self.task, "features": self.feature_names, "classes": self.class_names}
        digest.update(json.dumps(names).encode())
        arrays = self.table.digest_parts() if self.table is not None else [self.x]
        for array in (*arrays, self.y):
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).data)  # hashed in place, no bytes copy
        return digest.hexdigest()
