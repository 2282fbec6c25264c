"""Data: sources, splits and preprocessing, in the order training uses them.

Owns reading every kind of source (bundled sets, CSV, NPZ, IDX, synthetic), the
seeded train/validation/test split, the column encoding of tables and the
preprocessing steps fitted on the training split.

May import: the leaves and ``nnrun.model``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from nnrun.data.dataset import Dataset
from nnrun.data.sources import BUILTIN, SourceSpec
from nnrun.data.split import SPLITS, SplitConfig, split_indices
from nnrun.data.table import encode_columns, encoded_names, fit_columns
from nnrun.seeding import stream

__all__ = ["BUILTIN", "Dataset", "SPLITS", "SourceSpec", "SplitConfig", "Splits", "load_splits"]


@dataclass(frozen=True)
class Splits:
    parts: dict[str, Dataset]  # "train", "validation", "test" (empty ones left out); columns encoded
    columns: dict | None = None  # the fitted column encoding of a table source (see .table)


def load_splits(data_config, seed: int, columns: dict | None = None) -> Splits:
    """Load the source and cut it into splits, seeded so evaluate rebuilds the same.

    A table source's columns are encoded after the split, with the categories, fill
    values and text vocabulary learned on the training rows (or the saved ``columns``
    state)."""
    full = data_config.source.load(seed)
    rng = stream(seed, "split")
    indices = split_indices(full, data_config.split, rng)
    parts = {name: full.take(idx) for name, idx in indices.items() if len(idx)}
    if full.table is not None:
        text = getattr(data_config.source, "text", None)
        columns = columns or fit_columns(parts["train"].table, data_config.source.missing, text)
        parts = {name: _encoded(part, columns) for name, part in parts.items()}
    return Splits(parts, columns)  # the unsplit set is dropped here, halving peak memory


def _encoded(part: Dataset, columns: dict) -> Dataset:
    """Features from the raw columns; the names become the encoded ones (city=Paris)."""
    x = encode_columns(part.table, columns)
    return replace(part, x=x, feature_names=encoded_names(columns))
