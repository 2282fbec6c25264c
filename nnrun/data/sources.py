"""Data sources: each spec (a YAML ``data.source`` block) knows how to load itself.

Bundled and synthetic data live here; files (CSV, NPZ, IDX) in :mod:`.files` and
:mod:`.csvsource`. To add a source, write its spec class and name it in
``SOURCE_CLASSES``; a file source's module is imported only when a config uses it (see
:class:`~nnrun.specs.LazyFamily`), and ``SOURCES`` imports them all.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, PositiveInt, model_validator

from nnrun.data import sequences, synthetic
from nnrun.data.base import SourceBase
from nnrun.data.dataset import Dataset
from nnrun.specs import LazyFamily


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


BUILTIN_FOLDER = Path(__file__).parent / "builtin"


class BuiltinSource(SourceBase):
    """A data set shipped inside nnrun; nothing is downloaded."""

    type: Literal["builtin"] = "builtin"
    name: Literal[tuple(BUILTIN)] = Field(description="Which bundled data set.")  # type: ignore[valid-type]

    def load(self, seed: int) -> Dataset:
        info = BUILTIN[self.name]
        # A plain path, as nnrun is installed as files: importlib.resources would import
        # tempfile and zipfile on top (8 ms of a small run's start).
        raw = (BUILTIN_FOLDER / f"{self.name}.csv.gz").read_bytes()
        header, *rows = csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8")))
        table = np.array(rows)
        x = table[:, :-1].astype(np.float32)
        if info.shape:
            x = x.reshape((len(x), *info.shape))
        if info.task == "regression":
            return Dataset(x, table[:, -1].astype(np.float32), info.task, header[:-1], target_name=header[-1])
        class_names, y = np.unique(table[:, -1], return_inverse=True)
        return Dataset(x, y.astype(np.int64), info.task, header[:-1], [str(c) for c in class_names],
                       target_name=header[-1])


def describe_builtin() -> list[dict]:
    """One row per bundled data set, counted from the data itself."""
    rows = []
    for name, info in BUILTIN.items():
        data = BuiltinSource(name=name).load(0)
        features = "x".join(map(str, data.input_shape))
        rows.append({"name": name, "samples": len(data), "features": features, "target": data.target_name,
                     "task": info.task,
                     "classes": data.num_classes or None, "description": info.description})
    return rows


class SyntheticSource(SourceBase):
    """Generated data, seeded by ``seed`` or else by the config's seed.

    ``pattern`` picks the picture: ``clusters`` (Gaussian blobs, default 20 features,
    3 classes), ``moons`` (two half circles, 2 classes), ``spirals`` (one arm per
    class), ``waves`` (noisy periodic sequences, shape [64, 1] by default, the class
    being the wave's shape), or ``linear`` (a noisy linear regression target). Moons and spirals put
    the picture in the first two features (default 2) and default to noise 0.1."""

    type: Literal["synthetic"] = "synthetic"
    task: Literal["classification", "regression"] = Field("classification", description="What to generate.")
    pattern: Literal["clusters", "moons", "spirals", "waves", "linear"] = Field(
        "clusters", description="clusters, moons, spirals or waves (sequences (steps, 1) of 2 to 4 wave shapes; "
        "classification); linear (regression)."
    )
    samples: int = Field(1000, gt=0, le=10_000_000, description="Number of samples.")
    features: int = Field(20, gt=0, le=100_000, description="Number of features (2 for moons and spirals).")
    classes: int = Field(3, ge=2, le=10_000, description="Number of classes (classification; moons: 2).")
    noise: float = Field(1.0, ge=0, description="Standard deviation of the noise (0.1 for moons and spirals).")
    seed: int | None = Field(None, description="Seed of the generator; default: the config's seed.")
    shape: list[PositiveInt] | None = Field(
        None, description="Shape of each sample, e.g. [28, 28, 1] for images; its product is the feature count."
    )

    @model_validator(mode="before")
    @classmethod
    def _pattern_defaults(cls, values):
        """Fill the defaults that depend on the pattern, so the saved config shows them."""
        if not isinstance(values, dict):
            return values
        values = dict(values)
        if isinstance(values.get("shape"), list) and all(isinstance(v, int) for v in values["shape"]):
            values.setdefault("features", int(np.prod(values["shape"])))
        if values.get("task") == "regression":
            values.setdefault("pattern", "linear")
        if values.get("pattern") == "linear":
            values.setdefault("task", "regression")
        if values.get("pattern") == "waves":
            values.setdefault("shape", [64, 1])
            values.setdefault("noise", 0.3)
            if isinstance(values["shape"], list) and all(isinstance(v, int) for v in values["shape"]):
                values.setdefault("features", int(np.prod(values["shape"])))
        if values.get("pattern") in ("moons", "spirals"):
            values.setdefault("features", 2)
            values.setdefault("noise", 0.1)
            values.setdefault("classes", 2 if values["pattern"] == "moons" else 3)
        return values

    @model_validator(mode="after")
    def _consistent(self) -> "SyntheticSource":
        if (self.task == "regression") != (self.pattern == "linear"):
            raise ValueError(f"pattern '{self.pattern}' does not make a {self.task} task; "
                             "use linear for regression, clusters, moons or spirals for classification")
        if self.pattern in ("moons", "spirals") and self.features < 2:
            raise ValueError(f"{self.pattern} needs at least 2 features")
        if self.pattern == "waves" and (self.shape is None or len(self.shape) != 2 or self.shape[1] != 1
                                        or self.classes > len(sequences.WAVE_NAMES)):
            raise ValueError(f"waves makes sequences of shape [steps, 1] with 2 to {len(sequences.WAVE_NAMES)} "
                             f"classes, not shape {self.shape} with {self.classes} classes")
        if self.pattern == "moons" and self.classes != 2:
            raise ValueError(f"moons has 2 classes, not {self.classes}")
        if self.shape is not None and int(np.prod(self.shape)) != self.features:
            raise ValueError(f"shape {self.shape} holds {int(np.prod(self.shape))} values, not features {self.features}")
        return self

    def load(self, seed: int) -> Dataset:
        rng = np.random.default_rng(self.seed if self.seed is not None else seed)
        names = [f"x{i}" for i in range(self.features)]
        n, f, k, noise = self.samples, self.features, self.classes, self.noise
        if self.pattern == "linear":
            x, y = synthetic.linear(rng, n, f, noise)
            return Dataset(self._shaped(x), y, "regression", names)
        if self.pattern == "moons":
            x, y = synthetic.moons(rng, n, f, noise)
        elif self.pattern == "waves":
            x, y = sequences.waves(rng, n, self.shape[0], k, noise)
            return Dataset(x, y, "classification", names, list(sequences.WAVE_NAMES[:k]))
        elif self.pattern == "spirals":
            x, y = synthetic.spirals(rng, n, f, k, noise)
        else:
            x, y = synthetic.clusters(rng, n, f, k, noise)
        return Dataset(self._shaped(x), y, "classification", names, [str(c) for c in range(k)])

    def _shaped(self, x: np.ndarray) -> np.ndarray:
        return x if self.shape is None else x.reshape(len(x), *self.shape)


SOURCE_CLASSES: dict[str, str] = {
    "builtin": "nnrun.data.sources:BuiltinSource",
    "synthetic": "nnrun.data.sources:SyntheticSource",
    "csv": "nnrun.data.csvsource:CsvSource",
    "npz": "nnrun.data.files:NpzSource",
    "idx": "nnrun.data.files:IdxSource",
}

SOURCE_FAMILY = LazyFamily(SOURCE_CLASSES)

SourceSpec = Annotated[SourceBase, SOURCE_FAMILY]


def __getattr__(name: str):
    if name == "SOURCES":  # every source class, in registration order
        return SOURCE_FAMILY.members()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
