"""The ``csv`` data source: a CSV file with a header row, one column the target (or
several: a regression of several targets).

Reading goes through :mod:`.csvfile` (float32 columns, every bad cell collected), the
choice of columns through :mod:`.columns`, the table through :mod:`.table`, its
encoding through :mod:`.encoding`. All bad cells of all the source's files are reported
in one error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from nnrun.data.base import ANYWHERE, TEST, VALIDATION, SourceBase, check_regression_target, coded_label_classes
from nnrun.data.cells import markers
from nnrun.data.columns import check_present, feature_columns
from nnrun.data.labels import class_warnings, quoted_names
from nnrun.data.coded import coded_matches
from nnrun.data.csvfile import read_columns
from nnrun.data.csvheader import read_header
from nnrun.data.reading import current_progress
from nnrun.data.csv_settings import (ONE_HOT_COLUMNS, TEXT_ENCODINGS, column_names, csv_delimiter, missing_marker,
                                     number_sign, target_columns)
from nnrun.data.dataset import Dataset
from nnrun.data.dates import date_columns
from nnrun.data.problems import DataError, DataProblems, dropped_warning, skipped_warning
from nnrun.data.table import Table, collect_missing, stacked, table_from
from nnrun.data.text import TextSpec
from nnrun.errors import ConfigError, Problem

TaskName = Literal["classification", "regression"]


class CsvSource(SourceBase):
    """A CSV file with a header row: one column is the target (or a list of them, each a
    regression target), the others features."""

    type: Literal["csv"] = "csv"
    path_fields: ClassVar[tuple[str, ...]] = ("path", "validation_path", "test_path")
    path: str = Field(description="The CSV file; a relative path is read from the config file's folder.")
    target: Annotated[str | list[str], BeforeValidator(target_columns, json_schema_input_type=str | list[str])
                      ] = Field(description="The column to predict; a list of columns is a regression of several "
                                "targets, one output each (predictions then come as prediction_<column>).")
    features: list[str] | None = Field(
        None, description="Feature columns, in order. Default: every column but the target, id and ignore columns.")
    categorical: list[str] = Field(
        default_factory=list, description="Feature columns holding categories; one-hot encoded."
    )
    dates: Annotated[dict[str, str], BeforeValidator(date_columns, json_schema_input_type=list[str] | dict[str, str])
                     ] = Field(default_factory=dict, description="Feature columns holding dates (and times), each "
                               "encoded as its year, place in the year, weekday and time of day: a list of names "
                               "(the format learned from the training cells), or name: format (ymd, dmy, mdy, or a "
                               "strptime format such as '%d %b %Y').")
    id: Annotated[list[str], BeforeValidator(column_names, json_schema_input_type=str | list[str])] = Field(
        default_factory=list, description="ID column(s): not features; `nnrun predict` copies them into its output.")
    ignore: list[str] = Field(default_factory=list, description="Columns to leave out of the features.")
    missing_values: list[Annotated[str, BeforeValidator(missing_marker, json_schema_input_type=str | float)]] = Field(
        default_factory=list, description="Cell texts that mean a missing value besides the empty cell, NA, N/A, "
        "#N/A, nan, null and ?: for example ['-', 'none', 'k.A.', '-999']; compared without surrounding spaces, in "
        "any case.")
    missing: Literal["error", "mean", "most_frequent"] = Field(
        "error",
        description="Empty cells (also NA, N/A, nan, null, ?): error, or impute the training split's mean "
        "(most frequent value for categorical columns) or most frequent value.",
    )
    delimiter: Annotated[str, BeforeValidator(csv_delimiter, json_schema_input_type=str)] = Field(
        ",", description='What separates the cells of a row: "," (default), ";", "|", or tab ("\\t").')
    encoding: Literal[TEXT_ENCODINGS] = Field(  # type: ignore[valid-type]
        "utf-8", description="The file's text encoding: utf-8 (a byte order mark is skipped); cp1252, what Excel on "
        "Windows saves as 'CSV' in Western Europe; latin-1; iso-8859-15; cp1250 (Central Europe).")
    decimal: Literal[".", ","] = Field(
        ".", description='The decimal mark in numbers: "." (default) or "," for "3,25" (then a "." in a number '
        "is a bad cell, unless it is the thousands separator).")
    thousands: str | None = Field(
        None, min_length=1, max_length=1, description='Thousands separator in numbers, e.g. "," for "53,697".')
    strip_signs: list[Annotated[str, BeforeValidator(number_sign)]] = Field(
        default_factory=list, description="Signs written around numbers, dropped before they are read: currency "
        "symbols and codes, percent ('$', '€', '%', 'USD'), at either end of a cell, in any case; '12.5%' is 12.5.")
    fold_case: bool = Field(
        False, description="Categorical columns: cells that differ only in case or spaces ('Yes', 'YES ', 'yes') are "
        "one category, named as most of them write it; new files, requests and the ONNX model card match it so.")
    missing_category: Literal["most_frequent", "own"] = Field(
        "most_frequent", description="An empty cell of a categorical column: filled as missing says (the most frequent "
        "category), or own: a category of its own, '(missing)', learned like the others (whatever missing says; "
        "numbers follow missing).")
    bad_rows: Literal["error", "skip"] = Field(
        "error", description="A row with more or fewer cells than the header: error (listed by line), or skip (left "
        "out of training, and the count and lines are said).")
    missing_target: Literal["error", "drop"] = Field(
        "error", description="A row whose target is empty: error, or drop (the row is left out, and the count and "
        "lines are said).")
    unknown: Literal["error", "ignore"] = Field(
        "error", description="A category `nnrun predict` meets that training never saw: error, or ignore "
        "(encoded as all zeros).")
    task: TaskName | None = Field(
        None, description="classification (class labels) or regression. Default: from the loss (mse, mae and "
        "huber mean regression).")
    validation_path: str | None = Field(None, description="A separate CSV file used as the validation split.")
    test_path: str | None = Field(None, description="A separate CSV file used as the test split.")
    text: TextSpec | None = Field(
        None, description="A column of free text, the model's one input: {column, tokens: word|char, max_tokens, "
        "length, lowercase, strip_punctuation, unicode}; its vocabulary is learned on the training split "
        "(nnrun layers text: each option and its default).")

    @model_validator(mode="after")
    def _separators_differ(self) -> "CsvSource":
        # thousands: "." with the default decimal mark leaves numbers without a fraction
        # (as "1.234.567"); a decimal comma that also groups thousands reads nothing.
        if self.decimal == "," and self.thousands == ",":
            raise ValueError('thousands and decimal are both ","; a decimal comma goes with thousands: "." or " "')
        return self

    def given_splits(self) -> frozenset[str]:
        return frozenset(name for name in ("validation", "test") if getattr(self, f"{name}_path") is not None)

    @property
    def regression(self) -> bool:
        return self.task == "regression"

    @property
    def targets(self) -> list[str]:
        """The target columns: the one named, or the list's."""
        return [self.target] if isinstance(self.target, str) else list(self.target)

    def _check_several_targets(self) -> None:
        """Several target columns are several values to predict: a regression."""
        if len(self.targets) > 1 and not self.regression:
            raise ConfigError("", [Problem("data.source.target", f"names {len(self.targets)} columns, which is a "
                                           "regression of several targets, but the task is a classification (from "
                                           "the loss or data.source.task); a classification reads its class labels "
                                           "from one column. For several values, use a regression loss (mse, mae, "
                                           f"huber). {ONE_HOT_COLUMNS}")])

    def _text_column(self, header: list[str], origin: str) -> list[str]:
        """With ``text``, that column is the one feature: token indices fill the input."""
        column = self.text.column
        check_present([column], header, f"a column of {origin}", "data.source.text.column")
        # The text column is the model's input: not the target, an ID or a left-out column.
        role = (f"{'the' if len(self.targets) == 1 else 'a'} target column (data.source.target)"
                if column in self.targets else
                "an ID column (data.source.id)" if column in self.id else
                "a left-out column (data.source.ignore)" if column in self.ignore else None)
        if role:
            raise ConfigError("", [Problem("data.source.text.column", f"'{column}' is {role}; the text column is "
                                                                      "the model's input: name the column that "
                                                                      "holds the text")])
        clash = [("data.source.features", self.features not in (None, [column]), "lists other columns"),
                 ("data.source.categorical", bool(self.categorical), "is set"),
                 ("data.source.dates", bool(self.dates), "is set")]
        for key, wrong, what in clash:
            if wrong:
                raise ConfigError("", [Problem(key, f"{what}, but the text column '{column}' is the model's only "
                                                    "input; leave features, categorical and dates out")])
        return [column]

    def string_columns(self) -> list[str]:
        """The columns kept as text: the categorical ones, the dates and the text column."""
        return [*self.categorical, *self.dates, self.text.column] if self.text else [*self.categorical, *self.dates]

    def feature_columns(self, header: list[str], origin: str) -> list[str]:
        self._check_several_targets()
        if self.text is not None:
            check_present(self.targets, header, f"a column of {origin}", "data.source.target")
            return self._text_column(header, origin)
        return feature_columns(header, self, origin)

    def load(self, seed: int) -> Dataset:
        self.check_files()  # every file not there at once, each at its key
        files = [("path", ANYWHERE), ("validation_path", VALIDATION), ("test_path", TEST)]
        tables, targets, codes, failed, drops, emptied, empty_texts, skips = [], [], [], [], [], [], [], []
        headers = {key: read_header(Path(getattr(self, key)), delimiter=self.delimiter, decimal=self.decimal,
                                    text_encoding=self.encoding)
                   for key, _ in files if getattr(self, key) is not None}
        names = self.feature_columns(headers["path"], self.path)
        unused = self._unused_columns(headers["path"]) if self.text else []
        self._check_other_files(headers, names)
        for key, code in files:
            path = getattr(self, key)
            if path is None:
                continue
            header = headers[key]
            problems = DataProblems(path, target=self.targets, columns=header, skip_rows=self.bad_rows == "skip")
            table, target, dropped = self._read(Path(path), header, names, problems)
            failed += [problems] if problems else []
            skips += [skipped_warning(path, problems.skipped, len(header))] if problems.skipped else []
            drops += [(path, dropped)] if len(dropped) else []
            if len(dropped) and not len(table.lines):  # its split would vanish without a word
                emptied.append(Problem(f"data.source.{key}", f"every row of {path} has an empty "
                                       f"{quoted_names(self.targets).replace(', ', ' or ')}, and missing_target: drop "
                                       "left none; fill in its targets"
                                       + ("" if key == "path" else f", or leave {key} out")))
            empty_texts += self._empty_texts(path, table) if self.text else []
            tables.append(table)
            targets.append(target)
            codes.append(np.full(len(table.lines), code, np.int8))
        if failed:
            raise DataError("\n".join(p.render() for p in failed))
        if emptied:
            raise ConfigError("", emptied)
        table = stacked(tables)
        x = np.empty((len(table.lines), 0), np.float32)  # encoded after the split
        warnings = skips + [dropped_warning(path, self.targets, lines) for path, lines in drops]
        warnings += empty_texts + ([self._unused_warning(unused)] if unused else [])
        if self.regression:
            several = tuple(self.targets) if len(self.targets) > 1 else None  # names the outputs
            return Dataset(x, check_regression_target(np.concatenate(targets), self.path), "regression", names,
                           table=table, assigned=np.concatenate(codes), warnings=tuple(warnings),
                           target_names=several)
        y, classes = coded_label_classes(targets, origin=f"{self.path}, column '{self.target}'")
        warnings += class_warnings(classes, np.bincount(y, minlength=len(classes)), f"{self.path}, '{self.target}'")
        return Dataset(x, y, "classification", names, classes, table=table, assigned=np.concatenate(codes),
                       warnings=tuple(warnings))

    def _check_other_files(self, headers: dict[str, list[str]], names: list[str]) -> None:
        """The validation and test files have the training file's target and features
        (in any order); every file that lacks some is one problem at its own key."""
        problems = []
        for key, header in headers.items():
            lacking = [name for name in [*self.targets, *names] if name not in header]
            if key != "path" and lacking:
                many = len(lacking) != 1
                problems.append(Problem(f"data.source.{key}", f"{getattr(self, key)} lacks {len(lacking)} "
                                        f"column{'s' if many else ''} of {self.path} that the model reads "
                                        f"({quoted_names(lacking)}); every file of the source needs the target "
                                        "and the feature columns, under the same names"))
        if problems:
            raise ConfigError("", problems)

    def _unused_columns(self, header: list[str]) -> list[str]:
        """With ``text``, the columns of the file that nothing reads: neither the text, the
        target, an ID nor a column the config leaves out on purpose."""
        named = {self.text.column, *self.targets, *self.id, *self.ignore}
        return [name for name in header if name not in named]

    def _empty_texts(self, path: str, table: Table) -> list[str]:
        """A text model quietly reads a missing text as an empty one (all padding): said
        for each file that has them, with the first few of their lines."""
        # The reader turns empty cells and missing markers alike into "" (cells.MISSING).
        empty = np.flatnonzero(coded_matches(table.codes(self.text.column), ""))
        if not len(empty):
            return []
        lines = ", ".join(str(line) for line in table.lines[empty[:5]]) + (", ..." if len(empty) > 5 else "")
        return [f"{path}, '{self.text.column}': {len(empty)} of {len(table.lines)} texts are empty or a missing marker "
                f"({', '.join(sorted(m for m in markers(self.missing_values) if m))}), on line{'s' if len(empty) > 1 else ''} {lines}; "
                "they are read as empty texts, all padding. Fill them in or drop those rows if that is not meant"]

    def _unused_warning(self, unused: list[str]) -> str:
        """A text model reads its text column alone: the file's other columns are not read."""
        many = len(unused) != 1
        return (f"{self.path}: {len(unused)} column{'s are' if many else ' is'} not used ({quoted_names(unused)}): "
                f"the text column '{self.text.column}' is the model's only input. List {'them' if many else 'it'} in "
                f"data.source.ignore to say so, or train without data.source.text to use {'them' if many else 'it'}")

    def _read(self, path: Path, header: list[str], names: list[str], problems: DataProblems):
        """One file's feature table and raw targets (numbers for a regression, (N,) or
        (N, targets), else codes into the distinct labels: ``(codes, labels)``), and the
        lines of the rows dropped for an empty target (``missing_target: drop``; a row
        lacking any of several targets); its bad cells go to ``problems``."""
        strings = self.string_columns()
        numbers = [n for n in names if n not in strings]
        texts = list(strings)
        (numbers if self.regression else texts).extend(self.targets)
        columns = read_columns(path, header, numbers, texts, problems, self.thousands, current_progress(path),
                               delimiter=self.delimiter, decimal=self.decimal, text_encoding=self.encoding,
                               missing=markers(self.missing_values), signs=tuple(self.strip_signs))
        if self.regression:
            values = [columns.number(name) for name in self.targets]
            target = values[0].copy() if len(values) == 1 else np.column_stack(values)
            absent = np.isnan(target) if target.ndim == 1 else np.isnan(target).any(axis=1)
        else:
            target = columns.coded[self.target]
            absent = coded_matches(target, "")
        table = table_from(str(path), columns, names, strings)
        dropped = columns.lines[absent]
        if self.missing_target == "drop" and len(dropped):
            kept = np.flatnonzero(~absent)
            table = table.take(kept)
            target = target[kept] if self.regression else (target[0][kept], target[1])
        elif len(dropped):
            for name in self.targets:  # each empty cell at its column
                problems.add_cells("missing target", name, columns.lines[np.isnan(columns.number(name))]
                                   if self.regression else dropped,
                                   hint="every row needs a target; fill it in or delete the row, or set "
                                        "data.source.missing_target: drop to leave such rows out")
            dropped = dropped[:0]
        if self.missing == "error" and self.text is None:  # an empty text is a text
            collect_missing(table, problems, own=self.categorical if self.missing_category == "own" else (),
                            categories=self.categorical)
        return table, target, dropped

