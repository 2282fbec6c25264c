"""What every data source shares: the spec base class and class-label helpers."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel

from nnrun.data.cells import tidy_label
from nnrun.data.coded import Coded, merged_codes
from nnrun.data.dataset import Dataset
from nnrun.errors import NO_SUCH_FILE, ConfigError, Problem, UserError, listed_samples, near_file
from nnrun.specs import SPEC

# Dataset.assigned codes: where a row must go, whatever the split fractions say.
ANYWHERE, VALIDATION, TEST = -1, 1, 2
RELATIVE_HINT = ("a relative path in a config is read from the config file's folder (in a dict or a --set, from "
                 "the working directory); a run's config.yaml holds the absolute path it trained on")


class SourceBase(BaseModel):
    """A ``data.source`` block. ``load(seed)`` reads or generates the whole data set;
    ``resolve(folder)`` returns the spec with relative file paths made absolute."""

    model_config = SPEC
    path_fields: ClassVar[tuple[str, ...]] = ()  # the options that name files

    def load(self, seed: int) -> Dataset:
        raise NotImplementedError

    def resolve(self, folder: Path) -> "SourceBase":
        if not self.path_fields:
            return self
        return self.model_copy(update={key: absolute(getattr(self, key), folder) for key in self.path_fields})

    def named_files(self) -> str:
        """The files the spec reads, for a message ('a.csv and b.csv'); 'the data' for none."""
        named = [str(getattr(self, key)) for key in self.path_fields if getattr(self, key) is not None]
        return " and ".join(named) if named else "the data"

    def check_files(self) -> None:
        """Every file the spec names that is not there, each at its config key, at once."""
        absent = [(key, Path(getattr(self, key))) for key in self.path_fields
                  if getattr(self, key) is not None and not Path(getattr(self, key)).exists()]
        if absent:
            raise ConfigError("", [Problem(f"data.source.{key}", f"{path}{NO_SUCH_FILE}"
                                           f"{near_file(path) or f'; {RELATIVE_HINT}'}") for key, path in absent])

    def within(self, folder: Path) -> "SourceBase":
        """The spec with the paths of files inside ``folder`` written relative to it. A run
        directory's config.yaml names the data saved in the run (arrays given in memory)
        this way, and finds it wherever the run directory is moved or copied."""
        inside = Path(folder).resolve()  # both resolved: a run folder reached through a link is still inside
        update = {}
        for key in self.path_fields:
            value = getattr(self, key)
            if value is not None and Path(value).is_absolute() and Path(value).resolve().is_relative_to(inside):
                update[key] = Path(value).resolve().relative_to(inside).as_posix()
        return self.model_copy(update=update) if update else self

    def moved(self, written_at: Path, now_at: Path) -> list[tuple[str, str, str]]:
        """(key, was, is) for each absolute file path that is gone, found again where it
        stands to a run folder that moved (with its project: a CI job's checkout
        elsewhere), written at ``written_at`` and now at ``now_at``."""
        found = []
        for key in self.path_fields:
            value = getattr(self, key)
            beside = found_beside(value, written_at, now_at) if value is not None else None
            if beside is not None:
                found.append((key, value, beside))
        return found

    def given_splits(self) -> frozenset[str]:
        """"validation", "test": the splits this (resolved) source gives as files or
        arrays of their own, which no fraction of the data is cut for."""
        return frozenset()


def found_beside(path: str, written_at: Path, now_at: Path) -> str | None:
    """An absolute file ``path`` that is gone, found at the same place relative to a folder
    that moved from ``written_at`` to ``now_at`` (``/old/proj/clf.csv`` of a folder
    ``/old/proj/runs/x`` now in ``/new/proj/runs/x``: ``/new/proj/clf.csv``); None where
    the path is relative, still there, or nothing is there either."""
    if not Path(path).is_absolute() or Path(path).exists():
        return None
    beside = os.path.normpath(Path(now_at) / os.path.relpath(path, written_at))
    return beside if Path(beside).is_file() else None


def absolute(path: str | None, folder: Path) -> str | None:
    """``path`` read from ``folder`` (the config file's folder) unless already absolute."""
    if path is None:
        return None
    expanded = Path(path).expanduser()
    return str(expanded if expanded.is_absolute() else (folder / expanded).resolve())


def label_classes(labels: np.ndarray, origin: str = "the data",
                  rows: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Integer codes and class names for labels given as strings or numbers.

    Names are sorted, numerically when every label is a number (so "10" comes after
    "9"); codes number them from 0 in that order. Numbers with fractions are not class
    labels: that is one error naming ``task: regression``. ``rows``: how many rows each
    of ``labels`` stands for (when they are a file's distinct labels), for that error."""
    values = np.asarray(labels)
    distinct = set(values.reshape(-1).tolist()) if values.dtype == object else None
    if distinct is not None and all(isinstance(v, str) for v in distinct):
        # Text labels as a CSV file gives them: a dictionary lookup per row, not a sort
        # of every label as a numpy string (same order: both compare code points).
        uniques = np.array(sorted(distinct))
        index = {label: i for i, label in enumerate(uniques.tolist())}
        codes = np.fromiter(map(index.__getitem__, values.reshape(-1).tolist()), np.int64, values.size)
    else:
        uniques, codes = np.unique(values.astype(str), return_inverse=True)
    try:
        numbers = np.array([float(u) for u in uniques])
    except ValueError:
        numbers = None
    if numbers is not None:
        check_class_numbers(numbers, origin, np.bincount(codes.reshape(-1), rows, len(uniques)).astype(np.int64))
        order = np.argsort(numbers, kind="stable")
        uniques, codes = uniques[order], np.argsort(order)[codes]
    names = [tidy_label(str(u)) for u in uniques]
    if len(set(names)) < len(names):  # "1" and "1.0", or "01" and "1": one number, one class
        merged = list(dict.fromkeys(names))  # still in sorted order
        position = {name: i for i, name in enumerate(merged)}
        codes, names = np.array([position[name] for name in names], np.int64)[codes], merged
    return codes.astype(np.int64).reshape(-1), names


def coded_label_classes(parts: list[Coded], origin: str = "the data") -> tuple[np.ndarray, list[str]]:
    """:func:`label_classes` for text labels read as codes into distinct labels, one
    ``(codes, labels)`` per file: the classes come from the distinct labels in use and
    each row's code is mapped in one array step, not looked up row by row."""
    codes, labels = merged_codes(parts)
    counts = np.bincount(codes, minlength=len(labels))
    used = np.flatnonzero(counts)
    _check_label_count([labels[i] for i in used], len(codes), origin)
    used_codes, classes = label_classes(np.array([labels[i] for i in used], dtype=object), origin, counts[used])
    remap = np.zeros(len(labels), np.int64)
    remap[used] = used_codes
    return remap[codes], classes


# Labels that read as numbers once spaces, separators, currency and percent signs are
# dropped: '181,200', '$ 1,204.50', '12.5 %'.
NUMBER_LIKE = re.compile(r"^[-+]?[$€£¥]?\s*[-+]?\d[\d,.' ]*\s*[%$€£¥]?$")


def _check_label_count(labels: list[str], rows: int, origin: str) -> None:
    """Class labels where nearly every row has its own (more than half as many labels as
    rows) cannot be learned: the column is a number to regress, or an ID or free text.
    Said before the split, whose stratified fractions would otherwise fail first."""
    if rows < 20 or len(labels) <= rows / 2:
        return
    example = next((label for label in labels if label), "")
    numbers = sum(bool(NUMBER_LIKE.match(label.strip())) for label in labels)
    if numbers > len(labels) / 2:
        hint = ("its values are numbers: to predict them, use a regression loss such as mse (the task follows the "
                "loss), with data.source.thousands if they hold separators")
    else:
        hint = "it looks like an ID or free text: name the column that holds the class labels in data.source.target"
    raise UserError(f"{origin}: {len(labels)} distinct class labels in {rows} rows (like '{example}'): too many "
                    "classes to learn, most with a single row", hint=hint)


class SoftLabels(UserError):
    """Targets that are probabilities over the classes, soft or smoothed labels: told as
    what they are, whatever the task."""


def check_class_numbers(values: np.ndarray, origin: str, rows: np.ndarray | None = None) -> None:
    """Whole numbers are class labels; numbers with fractions are a regression target,
    or, when only a few rows hold them among whole numbers, likely typos. ``rows``: the
    number of rows holding each of the distinct ``values``."""
    rows = np.ones(len(values), np.int64) if rows is None else rows
    fractional = np.isfinite(values) & (values != np.round(values))
    if not fractional.any():
        return
    shown = ", ".join(f"{v:g} ({n} row{'s' if n != 1 else ''})" for v, n in zip(values[fractional][:3], rows[fractional]))
    regression = "for a regression set data.source.task: regression (a regression loss such as mse implies it)"
    few, total = int(rows[fractional].sum()), int(rows.sum())
    if ((values >= 0) & (values <= 1)).all() and not (few < total and few <= max(1, total // 100)):
        raise SoftLabels(f"{origin}: the targets are fractions between 0 and 1 ({len(values)} distinct, e.g. {shown}): "
                         "the probabilities of a second class (soft or smoothed labels), not class labels",
                         hint="give each sample its class (y > 0.5), and loss.label_smoothing (0.1, say) to smooth "
                         "them in training; to predict the fractions themselves, a regression loss such as mse")
    if few < total and few <= max(1, total // 100):  # a handful among whole numbers: typos, not a regression
        regression = f"only {few} of {total} rows hold{'s' if few == 1 else ''} a fraction: a typo? Fix those " \
                     f"labels; {regression}"
    raise UserError(f"{origin}: the targets are numbers with fractions ({len(values)} distinct "
                    f"value{'s' if len(values) != 1 else ''}, e.g. "
                    f"{shown}), not class labels", hint=regression)


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
    bad = np.flatnonzero(~np.isfinite(values).all(axis=tuple(range(1, values.ndim)))) if values.ndim else []
    if len(bad):
        raise UserError(f"{origin}: the regression target holds missing or non-finite values, in "
                        f"{listed_samples(bad)} (counted from 0)", hint="drop those samples, or fill them in")
    return values
