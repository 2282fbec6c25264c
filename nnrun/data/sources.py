"""Data sources: each spec (a YAML ``data.source`` block) knows how to load itself."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .dataset import Dataset


@dataclass(frozen=True)
class BuiltinInfo:
    task: str
    description: str
    shape: tuple[int, ...] | None = None  # sample shape when not a flat vector


BUILTIN: dict[str, BuiltinInfo] = {
    "iris": BuiltinInfo("classification", "Fisher's iris flowers: 4 measurements, 3 species"),
    "wine": BuiltinInfo("classification", "Wine cultivars: 13 chemical measurements, 3 classes"),
    "breast_cancer": BuiltinInfo(
        "classification", "Breast cancer diagnosis: 30 cell-nucleus features, benign/malignant"
    ),
    "digits": BuiltinInfo("classification", "Handwritten digits: 8x8 grey images, 10 classes", (8, 8, 1)),
    "diabetes": BuiltinInfo("regression", "Diabetes progression after one year: 10 features"),
}


class SourceBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def load(self, seed: int) -> Dataset:
        raise NotImplementedError


class BuiltinSource(SourceBase):
    """A data set shipped inside nnrun; nothing is downloaded."""

    type: Literal["builtin"] = "builtin"
    name: Literal[tuple(BUILTIN)] = Field(description="Which bundled data set.")  # type: ignore[valid-type]

    def load(self, seed: int) -> Dataset:
        info = BUILTIN[self.name]
        raw = resources.files(__package__).joinpath("builtin", f"{self.name}.csv.gz").read_bytes()
        header, *rows = csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8")))
        table = np.array(rows)
        x = table[:, :-1].astype(np.float32)
        if info.shape:
            x = x.reshape((len(x), *info.shape))
        if info.task == "regression":
            return Dataset(x, table[:, -1].astype(np.float32), info.task, header[:-1])
        class_names, y = np.unique(table[:, -1], return_inverse=True)
        return Dataset(x, y.astype(np.int64), info.task, header[:-1], [str(c) for c in class_names])


class SyntheticSource(SourceBase):
    """Generated data: Gaussian clusters (classification) or a noisy linear target
    (regression). Seeded by ``seed``, or by the config's seed when absent."""

    type: Literal["synthetic"] = "synthetic"
    task: Literal["classification", "regression"] = Field("classification", description="What to generate.")
    samples: int = Field(1000, gt=0, le=10_000_000, description="Number of samples.")
    features: int = Field(20, gt=0, le=100_000, description="Number of features.")
    classes: int = Field(3, ge=2, le=10_000, description="Number of classes (classification).")
    noise: float = Field(1.0, ge=0, description="Standard deviation of the noise.")
    seed: int | None = Field(None, description="Seed of the generator; default: the config's seed.")

    def load(self, seed: int) -> Dataset:
        rng = np.random.default_rng(self.seed if self.seed is not None else seed)
        names = [f"x{i}" for i in range(self.features)]
        x = rng.standard_normal((self.samples, self.features), dtype=np.float32)
        x *= np.float32(self.noise)
        if self.task == "regression":
            w = rng.standard_normal(self.features).astype(np.float32) / np.float32(np.sqrt(self.features))
            y = x @ w + np.float32(self.noise) * rng.standard_normal(self.samples, dtype=np.float32)
            return Dataset(x, y.astype(np.float32), "regression", names)
        # Class centres two standard deviations apart on average, whatever the width.
        centres = rng.standard_normal((self.classes, self.features), dtype=np.float32)
        centres *= np.float32(2.0 / np.sqrt(2.0))
        y = rng.integers(0, self.classes, self.samples)
        x += centres[y]
        classes = [str(c) for c in range(self.classes)]
        return Dataset(x, y.astype(np.int64), "classification", names, classes)


SOURCES: tuple[type[SourceBase], ...] = (BuiltinSource, SyntheticSource)

SourceSpec = Annotated[Union[SOURCES], Field(discriminator="type")]  # type: ignore[valid-type]
