"""Data read from the user's files: CSV tables, NumPy ``.npz`` archives, IDX (MNIST).

Relative paths are read from the config file's folder (``resolve``), and the run's
saved config.yaml holds the absolute path, so it finds the same file from anywhere
(data the run saved itself, from arrays in memory, by its path within the run).
A source may also name explicit validation and test files (or arrays); their rows go
to that split whatever the split fractions say.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from nnrun.data.base import (
    ANYWHERE,
    TEST,
    VALIDATION,
    SoftLabels,
    SourceBase,
    check_regression_target,
    concatenate,
    label_classes,
)
from nnrun.data.labels import class_warnings
from nnrun.data.dataset import Dataset
from nnrun.data.formats import npz_keys, read_idx, read_npz
from nnrun.errors import UserError, did_you_mean, listed_samples

TaskName = Literal["classification", "regression"]


class NpzSource(SourceBase):
    """A NumPy ``.npz`` archive of arrays: samples (N, ...) and targets (N,).

    Loaded with ``allow_pickle=False``. The optional validation and test arrays are
    used when the archive holds them."""

    type: Literal["npz"] = "npz"
    path_fields: ClassVar[tuple[str, ...]] = ("path",)
    path: str = Field(description="The .npz file; a relative path is read from the config file's folder.")
    x: str = Field("x", description="Name of the samples array, shape (N, ...).")
    y: str = Field("y", description="Name of the targets array, shape (N,) or (N, k) for regression.")
    x_validation: str = Field("x_validation", description="Validation samples, used if the archive has them.")
    y_validation: str = Field("y_validation", description="Validation targets, used if the archive has them.")
    x_test: str = Field("x_test", description="Test samples, used if the archive has them.")
    y_test: str = Field("y_test", description="Test targets, used if the archive has them.")
    feature_names: str = Field("feature_names", description="Names of the features (a text array, one per column "
                               "of 2-D samples), used if the archive has it: predict then takes columns by name.")
    target_names: str = Field("target_names", description="Names of several regression targets (a text array, one "
                              "per column of 2-D targets), used if the archive has it: predictions are named by them.")
    task: TaskName | None = Field(
        None, description="classification (integer or string labels, or one-hot rows) or regression. Default: "
        "from the loss (mse, mae and huber mean regression).")

    def given_splits(self) -> frozenset[str]:
        keys = set(npz_keys(Path(self.path)))  # none when there is no archive to look in: its loading says so
        return frozenset(name for name, (x, y) in (("validation", (self.x_validation, self.y_validation)),
                                                   ("test", (self.x_test, self.y_test))) if {x, y} <= keys)

    def load(self, seed: int) -> Dataset:
        self.check_files()
        pairs = [(self.x, self.y, ANYWHERE), (self.x_validation, self.y_validation, VALIDATION),
                 (self.x_test, self.y_test, TEST)]
        arrays = read_npz(Path(self.path), [name for x, y, _ in pairs for name in (x, y)] +
                          [self.feature_names, self.target_names])
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
                self._like_the_first(parts, (x_name, y_name))
        x, raw_y, assigned = concatenate(parts)
        data = _labelled(x, raw_y, self.task or "classification", self.path, assigned, self._names(arrays, x))
        return replace(data, target_names=self._target_names(arrays, data))

    def _names(self, arrays: dict[str, np.ndarray], x: np.ndarray) -> list[str] | None:
        """The archive's feature names, one per column of 2-D samples, all different."""
        names = arrays.get(self.feature_names)
        if names is None:
            return None
        if x.ndim != 2:  # a sequence's or an image's values have no names of their own
            raise UserError(f"{self.path}: '{self.feature_names}' names the columns of samples of one axis (samples, "
                            f"features), and '{self.x}' holds samples of shape {x.shape[1:]}",
                            hint=f"leave '{self.feature_names}' out of the archive")
        return self._name_list(names, self.feature_names, x.shape[1], f"feature ({x.shape[1]} of them)")

    def _name_list(self, names: np.ndarray, key: str, count: int | None, what: str) -> list[str]:
        """The names in the array ``key``: text, ``count`` of them (None: no count is
        right), all different."""
        if names.ndim != 1 or names.dtype.kind not in "US" or len(names) != count:
            raise UserError(f"{self.path}: '{key}' must be a text array of one name per {what}, got {names.dtype} of "
                            f"shape {names.shape}")
        listed = [str(n) for n in names.astype(str)]
        repeated = sorted({n for n in listed if listed.count(n) > 1})
        if repeated:
            raise UserError(f"{self.path}: '{key}' names {', '.join(map(repr, repeated))} more than once")
        return listed

    def _target_names(self, arrays: dict[str, np.ndarray], data: Dataset) -> tuple[str, ...] | None:
        """The archive's names of several regression targets, one per column, all different."""
        names = arrays.get(self.target_names)
        if names is None:
            return None
        width = data.y.shape[1] if data.task == "regression" and data.y.ndim == 2 else None
        return tuple(self._name_list(names, self.target_names, width, f"column of several regression targets "
                                                                           f"('{self.y}' of shape {data.y.shape}, task "
                                                                           f"{data.task})"))

    def _like_the_first(self, parts: list, names: tuple[str, str]) -> None:
        """A held-out pair's samples and targets are shaped as the training arrays' are."""
        (x, y, _), (x_new, y_new, _) = parts[0], parts[-1]
        for name, first, new, ours in ((names[0], self.x, x_new, x), (names[1], self.y, y_new, y)):
            if new.shape[1:] != ours.shape[1:]:
                raise UserError(f"{self.path}: '{name}' holds samples of shape {new.shape[1:]}, but '{first}' holds "
                                f"{ours.shape[1:]}; every split's arrays must be shaped alike",
                                hint=f"save '{name}' with the shape of '{first}' (the same steps and features)")

    def _samples(self, x: np.ndarray, name: str) -> np.ndarray:
        if x.ndim < 2 or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise UserError(f"{self.path}: '{name}' must be a real numeric array (N, features...), "
                            f"got {x.dtype} of shape {x.shape}")
        if len(x) == 0:
            raise UserError(f"{self.path}: '{name}' holds no samples (shape {x.shape})")
        if 0 in x.shape[1:]:
            raise UserError(f"{self.path}: '{name}' has shape {x.shape}: its samples hold no values (an axis of "
                            "length 0); every step and feature axis needs at least one")
        with np.errstate(over="ignore"):  # beyond float32: infinite, and refused as such
            x = x.astype(np.float32)
        finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise UserError(f"{self.path}: '{name}' holds NaN, infinity or a number beyond float32's range, 3.4e38, "
                            f"in {len(bad)} sample{'s' * (len(bad) != 1)} ({listed_samples(bad)}, counted from 0)",
                            hint="fill or drop those samples")
        return x


class IdxSource(SourceBase):
    """MNIST-style IDX files (raw or gzip): images (N, H, W) and labels (N,).

    Images load as (N, H, W, 1) float32 with their raw values (0..255 for MNIST);
    add ``{type: scale, factor: 0.00392156862745098}`` (1/255) to preprocess them."""

    type: Literal["idx"] = "idx"
    path_fields: ClassVar[tuple[str, ...]] = ("images", "labels", "test_images", "test_labels")
    images: str = Field(description="IDX file of images, e.g. train-images-idx3-ubyte.gz.")
    labels: str = Field(description="IDX file of labels, e.g. train-labels-idx1-ubyte.gz.")
    test_images: str | None = Field(None, description="IDX images used as the test split, e.g. t10k-images.")
    test_labels: str | None = Field(None, description="IDX labels used as the test split, e.g. t10k-labels.")

    def given_splits(self) -> frozenset[str]:
        return frozenset({"test"}) if self.test_images is not None and self.test_labels is not None else frozenset()

    def load(self, seed: int) -> Dataset:
        if (self.test_images is None) != (self.test_labels is None):
            raise UserError("data.source: give both test_images and test_labels, or neither")
        self.check_files()
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


def _labelled(x: np.ndarray, raw_y: np.ndarray, task: str, origin: str, assigned: np.ndarray,
              names: list[str] | None = None) -> Dataset:
    names = names or [f"x{i}" for i in range(int(np.prod(x.shape[1:])))]
    if task == "regression":
        return Dataset(x, check_regression_target(raw_y, origin), task, names, assigned=assigned)
    labels = class_labels(raw_y, origin)
    if raw_y.ndim == 2 and raw_y.shape[1] > 1:  # one-hot: the width says how many classes
        y, classes = labels.astype(np.int64), [str(i) for i in range(raw_y.shape[1])]
    else:
        y, classes = label_classes(labels, origin=origin)
    warnings = class_warnings(classes, np.bincount(y, minlength=len(classes)), origin)
    return Dataset(x, y, task, names, classes, assigned=assigned, warnings=tuple(warnings))


def not_one_hot(y: np.ndarray) -> np.ndarray:
    """The rows of (N, K) numbers that are no one-hot row (one 1, the rest 0): soft or
    doubled rows, which read as hard labels by their argmax, are refused, in training and
    in scoring alike."""
    return np.flatnonzero(~((y == 0) | (y == 1)).all(axis=1) | (y.sum(axis=1) != 1))


class MultiLabel(UserError):
    """Targets with several classes per sample: told as what they are, whatever the task."""


def class_labels(y: np.ndarray, origin: str) -> np.ndarray:
    """Labels (N,) from labels (N,), (N, 1), or one-hot rows (N, K) (their argmax)."""
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.ndim == 2 and y.dtype == bool:  # pd.get_dummies(labels).to_numpy(): True and False are 1 and 0
        y = y.astype(np.int8)
    if y.ndim == 2 and np.issubdtype(y.dtype, np.number) and len(y):
        bad = not_one_hot(y)
        several = bad[((y[bad] == 0) | (y[bad] == 1)).all(axis=1) & (y[bad].sum(axis=1) > 1)]
        if len(several):
            raise MultiLabel(f"{origin}: targets of shape {y.shape} have several 1s in {len(several)} row"
                             f"{'s' * (len(several) != 1)} ({listed_samples(several)}, counted from 0): several "
                             "labels per sample (multi-label) is not supported; a classifier learns one class per "
                             "sample", hint="train one model per label column, each a two-class classifier with "
                             "binary_crossentropy, or give each sample its one class")
        if len(bad):
            soft = probability_rows(y[bad])
            error = SoftLabels if soft else UserError
            raise error(f"{origin}: targets of shape {y.shape} are not one-hot rows (one 1 per row, the rest 0)"
                        + (f"; {len(bad)} row{'s are' if len(bad) != 1 else ' is'} probabilities over the classes "
                           "(soft or smoothed labels)" if soft else ""),
                        hint="give each sample its class (y.argmax(axis=1) of such rows), and loss.label_smoothing "
                        "(0.1, say) to smooth them in training" if soft else "for several values to predict, use a "
                        "regression loss (mse, mae or huber), with data.source.task: regression where the source "
                        "sets the task; a class per step of a sequence is not supported: give one class per sample")
        return y.argmax(axis=1)
    if y.ndim != 1:
        raise UserError(f"{origin}: class labels must be one per sample (N,), (N, 1) or one-hot (N, K), "
                        f"got shape {y.shape}")
    # A NaN or an empty text is no class: it would become one of its own ("nan", ""). So is
    # the text astype(str) makes of NaN and of pandas' NA ('None' may be a class: "no symptom").
    missing = np.isnan(y) if y.dtype.kind == "f" else np.isin(np.char.strip(y.astype(str)), ("", "nan", "<NA>")) \
        if y.dtype.kind in "US" else np.zeros(len(y), bool)
    if missing.any():
        bad = np.flatnonzero(missing)
        raise UserError(f"{origin}: {len(bad)} class label{'s are' if len(bad) != 1 else ' is'} missing (NaN, "
                        f"empty, or 'nan' or '<NA>' as astype(str) writes one), in {listed_samples(bad)} (counted "
                        "from 0); a missing target is always an error", hint="drop those samples, or give each its "
                        "class")
    return y


def probability_rows(rows: np.ndarray) -> bool:
    """Whether every row is a probability over the classes (each value 0 to 1, each row
    summing to 1): soft or smoothed labels, or proportions."""
    rows = np.asarray(rows, np.float64)
    return bool(((rows >= 0) & (rows <= 1)).all() and np.allclose(rows.sum(axis=1), 1, atol=1e-3))
