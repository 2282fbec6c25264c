"""The in-memory data set every source produces."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Samples ``x`` (N, *input_shape) float32 and targets ``y``: integer class labels
    (N,) for classification, float32 values (N,) or (N, k) for regression."""

    x: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    feature_names: list[str]
    class_names: list[str] | None = None

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
        return replace(self, x=self.x[indices], y=self.y[indices])

    def with_x(self, x: np.ndarray) -> "Dataset":
        return replace(self, x=x)

    def fingerprint(self) -> str:
        """SHA-256 of the samples and targets, shapes and dtypes included."""
        digest = hashlib.sha256()
        for array in (self.x, self.y):
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()
