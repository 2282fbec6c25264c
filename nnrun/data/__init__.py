"""Data: sources, splits and preprocessing, in the order training uses them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .sources import BUILTIN, SourceSpec
from .split import SPLITS, SplitConfig, split_indices

__all__ = ["BUILTIN", "Dataset", "SPLITS", "SourceSpec", "SplitConfig", "Splits", "load_splits"]


@dataclass(frozen=True)
class Splits:
    full: Dataset
    parts: dict[str, Dataset]  # "train", "validation", "test" (empty ones left out)


def load_splits(data_config, seed: int) -> Splits:
    """Load the source and cut it into splits, seeded so evaluate rebuilds the same."""
    full = data_config.source.load(seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    indices = split_indices(full, data_config.split, rng)
    parts = {name: full.take(idx) for name, idx in indices.items() if len(idx)}
    return Splits(full, parts)
