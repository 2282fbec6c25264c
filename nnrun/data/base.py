"""What every data source shares: the spec base class and class-label helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel

from nnrun.data.dataset import Dataset
from nnrun.errors import UserError
from nnrun.specs import SPEC

# Dataset.assigned codes: where a row must go, whatever the split fractions say.
ANYWHERE, VALIDATION, TEST = -1, 1, 2


class SourceBase(BaseModel):
    """A ``data.source`` block. ``load(seed)`` reads or generates the whole data set;
    ``resolve(folder)`` returns the spec with relative file paths made absolute."""

    model_config = SPEC

    def load(self, seed: int) -> Dataset:
        raise NotImplementedError

    def resolve(self, folder: Path) -> "SourceBase":
        return self


def absolute(path: str | None, folder: Path) -> str | None:
    """``path`` read from ``folder`` (the config file's folder) unless already absolute."""
    if path is None:
        return None
    expanded = Path(path).expanduser()
    return str(expanded if expanded.is_absolute() else (folder / expanded).resolve())


def label_classes(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes and class names for labels given as strings or numbers.

    Names are sorted, numerically when every label is a number (so "10" comes after
    "9"); codes number them from 0 in that order."""
    text = np.asarray(labels).astype(str)
    uniques = np.unique(text)
    try:
        uniques = sorted(uniques, key=float)
    except ValueError:
        uniques = list(uniques)
    index = {name: i for i, name in enumerate(uniques)}
    return np.array([index[v] for v in text], dtype=np.int64), [tidy_label(u) for u in uniques]


def tidy_label(name: str) -> str:
    """'1.0' -> '1': integer-valued float labels read as integers."""
    try:
        value = float(name)
    except ValueError:
        return str(name)
    return str(int(value)) if value.is_integer() else str(name)


def concatenate(parts: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack (x, y, assigned-code) parts into one data set with its ``assigned`` array."""
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    assigned = np.concatenate([np.full(len(p[0]), p[2], np.int8) for p in parts])
    return x, y, assigned


def check_regression_target(y: np.ndarray, origin: str) -> np.ndarray:
    try:
        values = np.asarray(y, dtype=np.float32)
    except ValueError:
        raise UserError(f"{origin}: the regression target holds values that are not numbers",
                        hint="set data.source.task to classification for class labels") from None
    if not np.isfinite(values).all():
        raise UserError(f"{origin}: the regression target holds missing or non-finite values")
    return values
