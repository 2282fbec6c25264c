"""Reading a run's ``preprocess.json`` back, as untrusted input.

``evaluate`` and ``predict`` reapply exactly what training fitted; a file that was
edited or damaged must fail with a message naming it, not with a KeyError deep inside
the preprocessing. The shape of the file is checked by a Pydantic model, and the
fitted statistics by applying them once to a sample of zeros.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nnrun.data.dates import check_format
from nnrun.data.features import feature_positions
from nnrun.data.preprocess import apply_pipeline
from nnrun.errors import UserError
from nnrun.store import files
from nnrun.store.rundir import RunDir


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SavedText(_Strict):
    """A text column's vectorizer (see ``nnrun.data.text``)."""

    tokens: Literal["word", "char"]
    max_tokens: int
    length: int = Field(gt=0)
    lowercase: bool
    strip_punctuation: bool
    unicode: Literal["nfc", "none"] = "none"  # absent from runs saved before the option, which read texts as they were
    vocabulary: list[str] = Field(min_length=2)


class SavedColumn(_Strict):
    name: str
    kind: Literal["numeric", "categorical", "text", "date"]
    fill: float | str | None = None
    range: list[float] | None = None  # a number column's [smallest, largest] in training (a date's, in years)
    categories: list[str] | None = None
    fold_case: bool = False  # a category's cells that differ only in case or spaces are one (data.source.fold_case)
    text: SavedText | None = None
    format: str | None = None  # a date column's: ymd, dmy, mdy or a strptime format (nnrun.data.dates)
    time: bool | None = None  # and whether its training cells had times of day


class SavedColumns(_Strict):
    missing: str
    columns: list[SavedColumn]
    thousands: str | None = None  # how training read numbers ("53,697")
    decimal: Literal[".", ","] = "."  # and their decimal mark ("3,25")
    delimiter: str = ","  # what separated the cells of its files
    text_encoding: str = "utf-8"  # and how their text was encoded
    unknown: Literal["error", "ignore"] = "error"  # a category training never saw, at predict time
    ids: list[str] = []  # ID columns: allowed in new files, copied into predictions
    ignored: list[str] = []  # columns training left out: allowed in new files
    missing_values: list[str] = []  # cell texts read as missing besides the built-in markers
    strip_signs: list[str] = []  # signs written around numbers ('$', '%'), dropped before reading them


class SavedTargetScale(_Strict):
    mean: list[float]  # per output, of the training targets (data.target_scale: standardize), or of their log1p
    std: list[float]
    log1p: bool = False


class SavedPreprocessing(_Strict):
    steps: list[str]
    states: list[dict]
    feature_names: list[str]
    class_names: list[str] | None
    input_shape: list[int]
    task: Literal["classification", "regression"]
    columns: SavedColumns | None = None
    target: str | None = None
    target_names: list[str] | None = None  # several regression targets' (y a DataFrame of several columns)
    target_scale: SavedTargetScale | None = None
    # Each feature's [smallest, largest] in training where no column encoding keeps it
    # (a bundled data set, arrays); None in older runs and for CSV runs.
    feature_ranges: list[list[float] | None] | None = None

    @property
    def target_columns(self) -> list[str]:
        """The columns the run's targets were read from (none for unnamed arrays): a new
        file may carry them beside the features, unnoted."""
        return list(self.target_names) if self.target_names else [self.target] if self.target else []

    def value_columns(self, width: int) -> list[str]:
        """A regression's prediction columns: ``prediction``, or one per output, named by
        its target (``prediction_<name>``) where the data named them, else by number."""
        if width == 1:
            return ["prediction"]
        return [f"prediction_{name}" for name in self.target_names] if self.target_names else \
            [f"prediction_{i}" for i in range(width)]

    def encoding(self) -> dict | None:
        """The column encoding as the data layer reads it (``nnrun.data.encoding``)."""
        return self.columns.model_dump() if self.columns else None

    def feature_positions(self) -> dict[str, list[int]]:
        """The input's feature positions by name, and by column name (a select layer's names)."""
        return feature_positions(list(self.feature_names), self.encoding())

    def column_names(self) -> list[str]:
        """The input columns a file must have: the CSV's columns, else the features."""
        return [c.name for c in self.columns.columns] if self.columns else list(self.feature_names)


def saved_class_names(run: RunDir) -> list[str] | None:
    """A classifier run's class names in its outputs' order; None for a regression, or
    where preprocess.json is deleted or damaged (for notes that can do without them)."""
    try:
        saved = files.read_json(run.preprocess)
    except (UserError, OSError):  # a folder in its place, say
        return None
    names = saved.get("class_names") if isinstance(saved, dict) else None
    return [str(name) for name in names] if isinstance(names, list) else None


def read_preprocessing(run_path: Path, config) -> SavedPreprocessing:
    """The saved preprocessing of a run, checked against its config."""
    path = RunDir(run_path).preprocess
    raw = files.read_json(path)
    try:
        saved = SavedPreprocessing.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UserError(f"{path}: damaged ({where}: {first['msg']})") from None
    steps = config.data.preprocess
    if saved.steps != [step.type for step in steps]:
        raise UserError(f"{path}: its steps {saved.steps} do not match the run's config.yaml")
    _check_consistent(path, saved)
    scale = saved.target_scale
    if (config.data.target_scale != "none") != (scale is not None) or \
            (scale is not None and scale.log1p != (config.data.target_scale == "log1p")):
        raise UserError(f"{path}: damaged: its target_scale does not match data.target_scale in the run's config.yaml")
    sample = np.zeros((2, *saved.input_shape), np.float32)
    try:
        shape = apply_pipeline(steps, saved.states, sample).shape
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: damaged: its fitted statistics do not fit the data ({type(exc).__name__}: {exc})") from None
    if shape != sample.shape:
        raise UserError(f"{path}: damaged: its fitted statistics turn samples of {sample.shape[1:]} into {shape[1:]}")
    return saved


def _check_consistent(path: Path, saved: SavedPreprocessing) -> None:
    """Fields that must agree with each other, checked before anything is allocated."""
    size = int(np.prod(saved.input_shape)) if saved.input_shape else 0
    if size != len(saved.feature_names) or min(saved.input_shape, default=0) < 1:
        raise UserError(f"{path}: damaged: input_shape {saved.input_shape} does not hold the "
                        f"{len(saved.feature_names)} features")
    if saved.task == "classification" and len(saved.class_names or []) < 2:
        raise UserError(f"{path}: damaged: a classifier needs its class_names (two or more)")
    for column in (c for c in (saved.columns.columns if saved.columns else []) if c.kind == "date"):
        try:
            check_format(column.format or "")
        except ValueError:
            raise UserError(f"{path}: damaged: the date column '{column.name}' has no format it can be read by "
                            f"({column.format!r})") from None
        if column.time is None or column.format == "auto":
            raise UserError(f"{path}: damaged: the date column '{column.name}' lacks its fitted format and time")


def check_outputs(run_path: Path, saved: SavedPreprocessing, outputs: int) -> None:
    """The saved task and class names must fit the model's output layer."""
    classes = saved.class_names or []
    fits = (outputs == len(classes) or (outputs == 1 and len(classes) == 2)) if saved.task == "classification" \
        else True
    if not fits:
        raise UserError(f"{RunDir(run_path).preprocess}: damaged: {len(classes)} class names for a model "
                        f"with {outputs} outputs")
    scale = saved.target_scale
    if scale is not None and not (len(scale.mean) == len(scale.std) == outputs and np.isfinite(scale.mean).all()
                                  and np.isfinite(scale.std).all() and min(scale.std) > 0):
        raise UserError(f"{RunDir(run_path).preprocess}: damaged: its target_scale needs a finite mean and a "
                        f"positive std for each of the model's {outputs} outputs")
