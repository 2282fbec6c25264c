"""Raw CSV columns as a :class:`Table`: the rows a file, or cells handed over, hold.

A CSV file is read (see :mod:`.csvfile`) into a :class:`Table` before the split:
number columns as float32 with NaN where a cell is missing, categorical columns as
strings ("" where missing). The encoding learned on the training split that turns a
table into the model's features is :mod:`.encoding`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from nnrun.data.cells import MISSING, number_markers, parse_numbers
from nnrun.data.coded import Coded, coded_cells, coded_matches, merged_codes
from nnrun.data.csvfile import CsvColumns
from nnrun.data.problems import DataProblems

MISSING_HINT = "fill them in, or set data.source.missing to mean or most_frequent to impute them"
# Of a category column: an empty cell may say something (no plan chosen), kept as itself.
MISSING_CATEGORY_HINT = MISSING_HINT + ", or data.source.missing_category: own to learn an empty category cell " \
    "as a category of its own"
MISSING_TYPES = ("NAType", "NaTType")  # pd.NA (nullable and string columns) and pd.NaT


def is_missing(value) -> bool:
    """Whether a value handed over in memory is missing, as an empty cell is: None, NaN,
    or pandas' own missing values, which would otherwise be read as the text "<NA>" or
    "NaT". They are told by their type's name so that pandas is never imported here: a
    dict of lists needs no pandas, and a DataFrame brought it already."""
    if value is None or type(value).__name__ in MISSING_TYPES:
        return True
    return isinstance(value, float) and math.isnan(value)


def one_line(text: str) -> str:
    """A text cell handed over in memory, its line breaks made spaces: a CSV file holds
    one row per line, and a text's words are split at either alike. A table trained on
    in memory is saved so, and every table predicted on is read so."""
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text


@dataclass(frozen=True)
class Table:
    """Feature columns of N rows: ``numeric`` (N, n_numeric) float32 with NaN for a
    missing cell, ``strings`` (N, n_categorical) str objects with "" for a missing
    cell, and the 1-based file ``lines`` of the rows, so late errors can still name them.
    ``coded`` holds string columns as the CSV reader coded them (see :meth:`codes`)."""

    names: list[str]
    categorical: list[str]
    numeric: np.ndarray
    strings: np.ndarray
    lines: np.ndarray
    origin: str
    coded: dict[str, Coded] = field(default_factory=dict)
    place: str = "line"  # what ``lines`` number: a file's lines, or a table's rows (see DataProblems)

    @property
    def numeric_names(self) -> list[str]:
        return [n for n in self.names if n not in self.categorical]

    def take(self, indices: np.ndarray) -> "Table":
        # np.take copies whole rows; indexing with an array took half as long again
        return replace(self, numeric=np.take(self.numeric, indices, axis=0), strings=self.strings[indices],
                       lines=self.lines[indices], coded={n: (c[indices], w) for n, (c, w) in self.coded.items()})

    def codes(self, name: str) -> Coded:
        """String column ``name`` as int codes into its distinct cells (``words[codes]``
        is the column), so counting, matching and one-hot encoding are array steps
        rather than a dictionary lookup per cell: as the CSV reader coded it, else
        found with one pass over the cells (a request's few rows, ...)."""
        if name in self.coded:
            return self.coded[name]
        return coded_cells(self.strings[:, self.categorical.index(name)].tolist())

    def counts(self, name: str) -> dict[str, int]:
        """The rows of each distinct non-empty cell of string column ``name``."""
        codes, words = self.codes(name)
        rows = np.bincount(codes, minlength=len(words)).tolist()
        return {word: n for word, n in zip(words, rows) if n and word != ""}

    def digest_parts(self) -> list[np.ndarray]:
        """The cells as arrays to hash: the numbers, and the text cells joined by a
        separator no cell holds (one string, so hashing costs one encode)."""
        text = "\x1f".join(self.strings.ravel().tolist()).encode("utf-8", "surrogatepass")
        return [self.numeric, np.frombuffer(text, np.uint8)]


def table_from(origin: str, columns: CsvColumns, names: list[str], categorical: list[str]) -> Table:
    """The feature columns ``names`` of a read file, as one Table; the number matrix
    is shared, not copied, when the file was read with the features first, in order."""
    numeric_names = [n for n in names if n not in categorical]
    if columns.number_names[: len(numeric_names)] == numeric_names:
        numeric = columns.numbers[:, : len(numeric_names)]
    else:
        numeric = columns.numbers[:, [columns.number_names.index(n) for n in numeric_names]]
    strings = np.empty((len(columns.lines), len(categorical)), dtype=object)
    for j, name in enumerate(categorical):
        strings[:, j] = columns.text(name)
    coded = {name: columns.coded[name] for name in categorical if name in columns.coded}
    return Table(list(names), list(categorical), numeric, strings, columns.lines, origin, coded)


def build_table(origin: str, header: list[str], rows: list[list[str]], names: list[str], categorical: list[str],
                lines, thousands: str | None = None, decimal: str = ".", place: str = "line",
                problems: DataProblems | None = None, missing: frozenset[str] = MISSING, signs: tuple[str, ...] = ()
                ) -> Table:
    """A Table from cells already split into rows (a request's instances, a DataFrame's
    cells, ...): text parsed as the CSV reader parses a file (with the run's
    ``thousands`` separator and ``decimal`` mark), Python numbers taken as they are
    (147.48 is no text to read with a decimal comma). Every bad cell is reported in one
    error, or added to ``problems`` for the caller to raise with those of the encoding."""
    own = problems is None
    problems = DataProblems(origin, scoring=True, columns=header, place=place) if own else problems
    position, lines = {name: i for i, name in enumerate(header)}, np.asarray(lines, np.int64)
    numeric_names = [n for n in names if n not in categorical]
    numeric = np.empty((len(rows), len(numeric_names)), np.float32)
    for j, name in enumerate(numeric_names):
        numeric[:, j] = _numbers([row[position[name]] for row in rows], name, lines, problems, thousands, decimal,
                                 missing, signs)
    strings = np.empty((len(rows), len(categorical)), dtype=object)
    for j, name in enumerate(categorical):
        strings[:, j] = _tidy([row[position[name]] for row in rows], missing)
    if own:
        problems.raise_if_any()
    return Table(list(names), list(categorical), numeric, strings, lines, origin, place=place)


def _numbers(cells: list, name: str, lines: np.ndarray, problems: DataProblems, thousands: str | None,
             decimal: str, missing: frozenset[str], signs: tuple[str, ...] = ()) -> np.ndarray:
    """One number column's cells as float32: numbers as they are, text parsed."""
    given = np.array([isinstance(c, (int, float)) for c in cells], bool)  # True and False are 1 and 0
    out = np.empty(len(cells), np.float32)
    if given.any():
        values = np.array([c for c, g in zip(cells, given) if g], np.float64)
        marked = number_markers(missing - MISSING)  # -999 given as a number: the marker, as its text is
        if marked:
            values[np.isin(values, list(marked))] = np.nan
        with np.errstate(over="ignore"):  # beyond float32: infinite, and reported as a file's cell is
            out[given] = values
        infinite = given & np.isinf(out)
        shown = [str(cells[i]) for i in np.flatnonzero(infinite)]
        problems.add_cells("not a finite number", name, lines[infinite], shown)
        out[infinite] = 0
    if not given.all():
        out[~given] = parse_numbers(_tidy([c for c, g in zip(cells, given) if not g], missing), name, lines[~given],
                                    problems, thousands, decimal, signs=signs)
    return out


def _tidy(cells: list, missing: frozenset[str] = MISSING) -> np.ndarray:
    stripped = [str(c).strip() for c in cells]
    return np.array(["" if c.lower() in missing else c for c in stripped], dtype=object)


def collect_missing(table: Table, problems: DataProblems, hint: str = MISSING_HINT, own=(), categories=()) -> None:
    """The ``missing: error`` policy: every empty cell, by column, but in the categorical
    columns ``own`` (``missing_category: own``), where an empty cell is a category; the
    hint of the ``categories`` (data.source.categorical) names that setting too."""
    for j in columns_with_gaps(table.numeric):
        empty = np.isnan(table.numeric[:, j])
        if empty.any():  # not only a sum of inf and -inf
            problems.add_cells("missing value", table.numeric_names[j], table.lines[empty], hint=hint)
    for name in [name for name in table.categorical if name not in own]:
        problems.add_cells("missing value", name, table.lines[coded_matches(table.codes(name), "")],
                           hint=MISSING_CATEGORY_HINT if hint == MISSING_HINT and name in categories else hint)


def columns_with_gaps(numeric: np.ndarray) -> np.ndarray:
    """The columns that may hold NaN: those whose sum is NaN (also a sum of inf and
    -inf, so callers check the cells). One pass along the rows, where a NaN test per
    column walks the whole matrix once per column."""
    return np.flatnonzero(np.isnan(numeric.sum(axis=0)))


def stacked(tables: list[Table]) -> Table:
    """The rows of several files' tables (the same columns) in one, in their order."""
    if len(tables) == 1:
        return tables[0]
    first = tables[0]
    coded = {name: merged_codes([t.coded[name] for t in tables]) for name in first.coded
             if all(name in t.coded for t in tables)}
    return Table(first.names, first.categorical, np.concatenate([t.numeric for t in tables]),
                 np.concatenate([t.strings for t in tables]), np.concatenate([t.lines for t in tables]), first.origin,
                 coded)
