"""Data read from the user's files: CSV tables, NumPy ``.npz`` archives, IDX (MNIST).

Relative paths are read from the config file's folder (``resolve``), and the run's
saved config.yaml holds the absolute path, so it finds the same file from anywhere.
A source may also name explicit validation and test files (or arrays); their rows go
to that split whatever the split fractions say.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.data.base import (
    ANYWHERE,
    TEST,
    VALIDATION,
    SourceBase,
    absolute,
    check_regression_target,
    concatenate,
    label_classes,
)
from nnrun.data.dataset import Dataset
from nnrun.data.formats import npz_keys, read_idx, read_npz
from nnrun.data.text import TextSpec
from nnrun.data.table import (
    Table,
    build_table,
    check_no_missing,
    is_missing,
    parse_number,
    read_csv,
)
from nnrun.errors import ConfigError, Problem, UserError, did_you_mean

RELATIVE_HINT = "a relative path in a config is read from the config file's folder"
TaskName = Literal["classification", "regression"]


def check_columns(wanted: list[str], header: list[str], where: str, key: str) -> None:
    """Every name in ``wanted`` is a column of ``header``, or a located config error
    with a did-you-mean (``key`` is the config key that names the columns)."""
    for name in wanted:
        if name not in header:
            raise ConfigError("", [Problem(key, f"'{name}' is not {where}{did_you_mean(name, header, 'the columns are')}")])


class CsvSource(SourceBase):
    """A CSV file with a header row: one column is the target, the others features."""

    type: Literal["csv"] = "csv"
    path: str = Field(description="The CSV file; a relative path is read from the config file's folder.")
    target: str = Field(description="The column to predict.")
    features: list[str] | None = Field(None, description="Feature columns, in order. Default: every other column.")
    categorical: list[str] = Field(
        default_factory=list, description="Feature columns holding categories; one-hot encoded."
    )
    missing: Literal["error", "mean", "most_frequent"] = Field(
        "error",
        description="Empty cells (also NA, N/A, nan, null, ?): error, or impute the training split's mean "
        "(most frequent value for categorical columns) or most frequent value.",
    )
    task: TaskName = Field("classification", description="classification (class labels) or regression.")
    validation_path: str | None = Field(None, description="A separate CSV file used as the validation split.")
    test_path: str | None = Field(None, description="A separate CSV file used as the test split.")
    text: TextSpec | None = Field(
        None, description="A column of free text, the model's one input: {column, tokens: word|char, max_tokens, "
        "length, lowercase}; its vocabulary is learned on the training split.")

    def resolve(self, folder: Path) -> "CsvSource":
        return self.model_copy(update={key: absolute(getattr(self, key), folder)
                                       for key in ("path", "validation_path", "test_path")})

    def _text_column(self, header: list[str], origin: str) -> list[str]:
        """With ``text``, that column is the one feature: token indices fill the input."""
        column = self.text.column
        check_columns([column], header, f"a column of {origin}", "data.source.text.column")
        clash = [("data.source.features", self.features not in (None, [column]), "lists other columns"),
                 ("data.source.categorical", bool(self.categorical), "is set"),
                 ("data.source.text.column", column == self.target, "is the target column")]
        for key, wrong, what in clash:
            if wrong:
                raise ConfigError("", [Problem(key, f"{what}, but the text column '{column}' is the model's only "
                                                    "input; leave features and categorical out")])
        return [column]

    def string_columns(self) -> list[str]:
        """The columns kept as text: the categorical ones and the text column."""
        return [*self.categorical, self.text.column] if self.text else list(self.categorical)

    def feature_columns(self, header: list[str], origin: str) -> list[str]:
        check_columns([self.target], header, f"a column of {origin}", "data.source.target")
        if self.text is not None:
            return self._text_column(header, origin)
        names = self.features if self.features is not None else [c for c in header if c != self.target]
        check_columns(names, header, f"a column of {origin}", "data.source.features")
        check_columns(self.categorical, names, "one of the feature columns", "data.source.categorical")
        if self.target in names:
            raise ConfigError("", [Problem("data.source.features", f"lists the target column '{self.target}'")])
        if not names:
            raise UserError(f"{origin}: no feature columns besides the target '{self.target}'")
        return names

    def load(self, seed: int) -> Dataset:
        files = [(self.path, ANYWHERE), (self.validation_path, VALIDATION), (self.test_path, TEST)]
        tables, targets, codes = [], [], []
        names = None
        for path, code in files:
            if path is None:
                continue
            header, rows, lines = read_csv(Path(path), hint=RELATIVE_HINT)
            names = names or self.feature_columns(header, path)
            check_columns([self.target, *names], header, f"a column of {path}", "data.source")
            table = build_table(path, header, rows, names, self.string_columns(), lines)
            if self.missing == "error" and self.text is None:  # an empty text is a text
                check_no_missing(table)
            tables.append(table)
            targets.append(self._target(header, rows, lines, path))
            codes.append(np.full(len(rows), code, np.int8))
        table = _stack(tables)
        raw_y = np.concatenate(targets)
        if self.task == "regression":
            y, classes = check_regression_target(raw_y, self.path), None
        else:
            y, classes = label_classes(raw_y)
        x = np.empty((len(y), 0), np.float32)  # encoded after the split
        return Dataset(x, y, self.task, names, classes, table=table, assigned=np.concatenate(codes))

    def _target(self, header: list[str], rows: list[list[str]], lines: np.ndarray, path: str) -> np.ndarray:
        col = header.index(self.target)
        for line, row in zip(lines, rows):
            if is_missing(row[col]):
                raise UserError(f"{path}, line {line}, column '{self.target}': the target is missing",
                                hint="every row needs a target; drop the row or fill it in")
        if self.task == "regression":
            return np.array([parse_number(row[col], path, line, self.target) for line, row in zip(lines, rows)])
        return np.array([row[col].strip() for row in rows])


def _stack(tables: list[Table]) -> Table:
    first = tables[0]
    return Table(first.names, first.categorical, np.concatenate([t.numeric for t in tables]),
                 np.concatenate([t.strings for t in tables]), np.concatenate([t.lines for t in tables]), first.origin)


class NpzSource(SourceBase):
    """A NumPy ``.npz`` archive of arrays: samples (N, ...) and targets (N,).

    Loaded with ``allow_pickle=False``. The optional validation and test arrays are
    used when the archive holds them."""

    type: Literal["npz"] = "npz"
    path: str = Field(description="The .npz file; a relative path is read from the config file's folder.")
    x: str = Field("x", description="Name of the samples array, shape (N, ...).")
    y: str = Field("y", description="Name of the targets array, shape (N,) or (N, k) for regression.")
    x_validation: str = Field("x_validation", description="Validation samples, used if the archive has them.")
    y_validation: str = Field("y_validation", description="Validation targets, used if the archive has them.")
    x_test: str = Field("x_test", description="Test samples, used if the archive has them.")
    y_test: str = Field("y_test", description="Test targets, used if the archive has them.")
    task: TaskName = Field("classification", description="classification (integer or string labels) or regression.")

    def resolve(self, folder: Path) -> "NpzSource":
        return self.model_copy(update={"path": absolute(self.path, folder)})

    def load(self, seed: int) -> Dataset:
        pairs = [(self.x, self.y, ANYWHERE), (self.x_validation, self.y_validation, VALIDATION),
                 (self.x_test, self.y_test, TEST)]
        arrays = read_npz(Path(self.path), [name for x, y, _ in pairs for name in (x, y)])
        for name in (self.x, self.y):
            if name not in arrays:
                keys = npz_keys(Path(self.path))
                raise UserError(f"{self.path}: no array named '{name}'{did_you_mean(name, keys, 'the arrays are')}",
                                hint="name the arrays with data.source.x and data.source.y")
        parts = []
        for x_name, y_name, code in pairs:
            if x_name in arrays and y_name in arrays:
                parts.append((self._samples(arrays[x_name], x_name), arrays[y_name], code))
                if len(arrays[x_name]) != len(arrays[y_name]):
                    raise UserError(f"{self.path}: '{x_name}' has {len(arrays[x_name])} samples but "
                                    f"'{y_name}' has {len(arrays[y_name])}")
        x, raw_y, assigned = concatenate(parts)
        return _labelled(x, raw_y, self.task, self.path, assigned)

    def _samples(self, x: np.ndarray, name: str) -> np.ndarray:
        if x.ndim < 2 or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise UserError(f"{self.path}: '{name}' must be a real numeric array (N, features...), "
                            f"got {x.dtype} of shape {x.shape}")
        x = x.astype(np.float32)
        if not np.isfinite(x).all():
            raise UserError(f"{self.path}: '{name}' holds NaN or infinite values")
        return x


class IdxSource(SourceBase):
    """MNIST-style IDX files (raw or gzip): images (N, H, W) and labels (N,).

    Images load as (N, H, W, 1) float32 with their raw values (0..255 for MNIST);
    add ``{type: scale, factor: 0.00392156862745098}`` (1/255) to preprocess them."""

    type: Literal["idx"] = "idx"
    images: str = Field(description="IDX file of images, e.g. train-images-idx3-ubyte.gz.")
    labels: str = Field(description="IDX file of labels, e.g. train-labels-idx1-ubyte.gz.")
    test_images: str | None = Field(None, description="IDX images used as the test split, e.g. t10k-images.")
    test_labels: str | None = Field(None, description="IDX labels used as the test split, e.g. t10k-labels.")

    def resolve(self, folder: Path) -> "IdxSource":
        keys = ("images", "labels", "test_images", "test_labels")
        return self.model_copy(update={key: absolute(getattr(self, key), folder) for key in keys})

    def load(self, seed: int) -> Dataset:
        if (self.test_images is None) != (self.test_labels is None):
            raise UserError("data.source: give both test_images and test_labels, or neither")
        parts = [self._pair(self.images, self.labels, ANYWHERE)]
        if self.test_images is not None:
            parts.append(self._pair(self.test_images, self.test_labels, TEST))
        x, raw_y, assigned = concatenate(parts)
        return _labelled(x, raw_y, "classification", self.labels, assigned)

    def _pair(self, images: str, labels: str, code: int) -> tuple[np.ndarray, np.ndarray, int]:
        x, y = read_idx(Path(images)), read_idx(Path(labels))
        if x.ndim not in (2, 3) or y.ndim != 1:
            raise UserError(f"{images}, {labels}: expected images (N, H, W) or (N, F) and labels (N,), "
                            f"got {x.shape} and {y.shape}")
        if len(x) != len(y):
            raise UserError(f"{images}: {len(x)} images but {labels} has {len(y)} labels")
        x = x.astype(np.float32)
        return (x[..., None] if x.ndim == 3 else x), y, code


def _labelled(x: np.ndarray, raw_y: np.ndarray, task: str, origin: str, assigned: np.ndarray) -> Dataset:
    names = [f"x{i}" for i in range(int(np.prod(x.shape[1:])))]
    if task == "regression":
        return Dataset(x, check_regression_target(raw_y, origin), task, names, assigned=assigned)
    if raw_y.ndim != 1:
        raise UserError(f"{origin}: class labels must be one per sample (N,), got shape {raw_y.shape}")
    y, classes = label_classes(raw_y)
    return Dataset(x, y, task, names, classes, assigned=assigned)
