"""Raw CSV columns, and the column encoding learned on the training split.

A CSV file is read (see :mod:`.csvfile`) into a :class:`Table` before the split:
number columns as float32 with NaN where a cell is missing, categorical columns as
strings ("" where missing). After the split, :func:`fit_columns` learns the categories
and the fill values from the training rows only, and :func:`encode_columns` turns any
table (training, validation, test, or a file given to ``nnrun predict``) into the
model's float32 features. The fitted state is plain JSON, saved in ``preprocess.json``.
A text column (kept with the string columns) becomes ``length`` token indices,
``review[0]`` ...

Encoded features keep the column order of the table; a categorical column ``city``
with categories ``[Lyon, Paris]`` becomes the two 0/1 features ``city=Lyon`` and
``city=Paris``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from nnrun.data.base import tidy_label
from nnrun.data.cells import MISSING, parse_numbers
from nnrun.data.coded import Coded, coded_cells, coded_matches
from nnrun.data.csvfile import CsvColumns
from nnrun.data.problems import DataProblems
from nnrun.data.text import TextSpec, fit_vocabulary, vectorize

MISSING_HINT = "fill it in, or set data.source.missing to mean or most_frequent to impute it"


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
                problems: DataProblems | None = None) -> Table:
    """A Table from cells already split into rows (a request's instances, ...), parsed
    as the CSV reader parses a file (with the run's ``thousands`` separator and
    ``decimal`` mark); every bad cell is reported in one error, or added to
    ``problems`` for the caller to raise with those of the encoding."""
    own = problems is None
    problems = DataProblems(origin, scoring=True, columns=header, place=place) if own else problems
    position, lines = {name: i for i, name in enumerate(header)}, np.asarray(lines, np.int64)
    numeric_names = [n for n in names if n not in categorical]
    numeric = np.empty((len(rows), len(numeric_names)), np.float32)
    for j, name in enumerate(numeric_names):
        numeric[:, j] = parse_numbers(_tidy([row[position[name]] for row in rows]), name, lines, problems, thousands,
                                      decimal)
    strings = np.empty((len(rows), len(categorical)), dtype=object)
    for j, name in enumerate(categorical):
        strings[:, j] = _tidy([row[position[name]] for row in rows])
    if own:
        problems.raise_if_any()
    return Table(list(names), list(categorical), numeric, strings, lines, origin, place=place)


def _tidy(cells: list) -> np.ndarray:
    stripped = [str(c).strip() for c in cells]
    return np.array(["" if c.lower() in MISSING else c for c in stripped], dtype=object)


def collect_missing(table: Table, problems: DataProblems, hint: str = MISSING_HINT) -> None:
    """The ``missing: error`` policy: every empty cell, by column."""
    for j in _columns_with_gaps(table.numeric):
        empty = np.isnan(table.numeric[:, j])
        if empty.any():  # not only a sum of inf and -inf
            problems.add_cells("missing value", table.numeric_names[j], table.lines[empty], hint=hint)
    for name in table.categorical:
        problems.add_cells("missing value", name, table.lines[coded_matches(table.codes(name), "")], hint=hint)


def _columns_with_gaps(numeric: np.ndarray) -> np.ndarray:
    """The columns that may hold NaN: those whose sum is NaN (also a sum of inf and
    -inf, so callers check the cells). One pass along the rows, where a NaN test per
    column walks the whole matrix once per column."""
    return np.flatnonzero(np.isnan(numeric.sum(axis=0)))


def _most_frequent(values: np.ndarray):
    uniques, counts = np.unique(values, return_counts=True)
    return uniques[np.argmax(counts)] if len(uniques) else None


def _most_frequent_text(counts: dict[str, int]):
    """The most frequent of counted strings, the first in sorted order among ties
    (what ``_most_frequent`` gives), or None."""
    return min(counts, key=lambda value: (-counts[value], value)) if counts else None


def fit_columns(table: Table, missing: str, text: TextSpec | None = None, **options) -> dict:
    """Learn categories and fill values from the training rows (JSON-able state); a
    ``text`` column learns its vocabulary (see :mod:`nnrun.data.text`). ``options``
    (thousands, unknown, ids, ...) are saved with it for ``nnrun predict``."""
    columns = []
    if text is not None:
        texts = table.strings[:, table.categorical.index(text.column)]
        columns.append({"name": text.column, "kind": "text", "text": fit_vocabulary(texts, text)})
    for j, name in enumerate(table.numeric_names):
        fill = None
        if missing != "error":  # fill values only where they are used: each is a pass over a column
            present = table.numeric[:, j][~np.isnan(table.numeric[:, j])]
            fill = float(present.mean(dtype=np.float64)) if missing == "mean" and len(present) else None
            if missing == "most_frequent" and len(present):
                fill = float(_most_frequent(present))
        columns.append({"name": name, "kind": "numeric", "fill": fill})
    for name in table.categorical:
        if text is not None and name == text.column:
            continue
        counts = table.counts(name)
        fill = _most_frequent_text(counts) if missing != "error" else None
        columns.append({"name": name, "kind": "categorical", "categories": sorted(counts), "fill": fill})
    order = {name: i for i, name in enumerate(table.names)}
    return {"missing": missing, **options, "columns": sorted(columns, key=lambda c: order[c["name"]])}


def encoded_names(state: dict) -> list[str]:
    names = []
    for column in state["columns"]:
        if column["kind"] == "numeric":
            names.append(column["name"])
        elif column["kind"] == "text":
            names += [f"{column['name']}[{i}]" for i in range(column["text"]["length"])]
        else:
            names += [f"{column['name']}={c}" for c in column["categories"]]
    return names


def encode_columns(table: Table, state: dict, unseen: str = "ignore", problems: DataProblems | None = None
                   ) -> np.ndarray:
    """Float32 features (N, F) from a table with the saved state.

    A category the training rows never had is all zeros (``unseen="ignore"``) or a
    bad cell (``unseen="error"``, the default of ``nnrun predict``). Empty cells the
    state has no fill value for are bad cells too. Bad cells go to ``problems``, or
    are raised at once when no collector is given."""
    own = problems is None
    problems = problems if problems is not None else DataProblems(table.origin, columns=table.names,
                                                                  place=table.place)
    out = np.zeros((len(table.lines), len(encoded_names(state))), np.float32)
    numeric_names, position, numeric_at = table.numeric_names, 0, []
    for column in state["columns"]:
        if column["kind"] == "numeric":
            numeric_at.append((position, numeric_names.index(column["name"]), column))
            position += 1
        elif column["kind"] == "text":  # token indices (N, length); an empty cell is all padding
            length = column["text"]["length"]
            out[:, position : position + length] = vectorize(
                table.strings[:, table.categorical.index(column["name"])], column["text"])
            position += length
        else:
            coded = _filled_codes(table.codes(column["name"]), column, table, problems)
            width = len(column["categories"])
            _one_hot(coded, column, table, unseen, problems, out[:, position : position + width])
            position += width
    for target, source, width in _runs([(t, s) for t, s, _ in numeric_at]):  # side-by-side columns in one copy
        out[:, target : target + width] = table.numeric[:, source : source + width]
    if numeric_at:  # then only the columns with empty cells again
        gaps = set(_columns_with_gaps(table.numeric).tolist())
        for target, source, column in numeric_at:
            if source not in gaps:
                continue
            empty = np.isnan(table.numeric[:, source])
            if empty.any():
                out[:, target] = _filled(table.numeric[:, source], empty, column, table, problems)
    if own:
        problems.raise_if_any()
    return out


def _runs(pairs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(target, source) column pairs as runs (target, source, width) that advance
    together, so each run is one slice copy with no temporary array."""
    runs = []
    for target, source in pairs:
        if runs and runs[-1][0] + runs[-1][2] == target and runs[-1][1] + runs[-1][2] == source:
            runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((target, source, 1))
    return runs


def _needs_fill(missing: np.ndarray, column: dict, table: Table, problems: DataProblems) -> bool:
    """Whether a column's empty cells (``missing``) are to be given its fill value:
    not when it has none (they are bad cells, reported) or there are none."""
    if not missing.any():
        return False
    if column["fill"] is None:
        problems.add_cells("missing value", column["name"], table.lines[missing],
                           hint="fill it in, or train with data.source.missing set to mean or most_frequent")
        return False
    return True


def _filled(values: np.ndarray, missing: np.ndarray, column: dict, table: Table, problems: DataProblems):
    if not _needs_fill(missing, column, table, problems):
        return values
    values = values.copy()
    values[missing] = column["fill"]
    return values


def _filled_codes(coded: Coded, column: dict, table: Table, problems: DataProblems) -> Coded:
    """A categorical column's empty cells given the column's fill value, or reported."""
    empty = coded_matches(coded, "")
    if not _needs_fill(empty, column, table, problems):
        return coded
    codes, words = coded
    words = words if column["fill"] in words else [*words, column["fill"]]
    return np.where(empty, words.index(column["fill"]), codes), words


def _one_hot(coded: Coded, column: dict, table: Table, unseen: str, problems: DataProblems,
             out: np.ndarray) -> None:
    """Write the one-hot code of a coded column into ``out`` (N, categories)."""
    codes, words = coded
    categories = column["categories"]
    index = {c: i for i, c in enumerate(categories)}
    known = [_category(word, index) for word in words]
    category = np.array(known, np.intp)[codes]
    absent = category < 0
    if not absent.any():  # every cell a known category: the common case, no row list to build
        out[np.arange(len(category)), category] = 1.0
        return
    unknown = np.array([k < 0 and word != "" for k, word in zip(known, words)], bool)[codes]
    if unseen == "error" and unknown.any():
        known = ", ".join(categories[:10]) + (", ..." if len(categories) > 10 else "")
        problems.add_cells("unknown category", column["name"], table.lines[unknown],
                           np.array(words, dtype=object)[codes[unknown]],
                           hint=f"'{column['name']}' was trained on {known}; fix the cells, or train with "
                                "data.source.unknown: ignore to encode unseen categories as all zeros")
    rows = np.flatnonzero(~absent)
    out[rows, category[rows]] = 1.0


def _category(word: str, index: dict[str, int]) -> int:
    """The position of ``word`` among a column's categories, or -1. A number category
    also matches the same number written as a float ('94105.0' for '94105'), as a column
    with a missing value leaves pandas to write it."""
    position = index.get(word)
    return position if position is not None else index.get(tidy_label(word), -1)


def unseen_categories(table: Table, state: dict) -> dict[str, dict[str, int]]:
    """Per categorical column, the values the state does not know, with their row counts."""
    found = {}
    for column in state["columns"]:
        if column.get("kind") != "categorical":
            continue
        index, counts = {c: i for i, c in enumerate(column["categories"])}, table.counts(column["name"])
        extra = {name: counts[name] for name in sorted(counts) if _category(name, index) < 0}
        if extra:
            found[column["name"]] = extra
    return found
