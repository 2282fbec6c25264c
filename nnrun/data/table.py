"""Raw CSV columns, and the column encoding learned on the training split.

A CSV file is read into a :class:`Table` before the split: numeric columns as float64
with NaN where a cell is missing, categorical columns as strings ("" where missing).
After the split, :func:`fit_columns` learns the categories and the fill values from
the training rows only, and :func:`encode_columns` turns any table (training,
validation, test, or a file given to ``nnrun predict``) into the model's float32
features. The fitted state is plain JSON, saved in ``preprocess.json``. A text column
(kept with the string columns) becomes ``length`` token indices, ``review[0]`` ...

Encoded features keep the column order of the table; a categorical column ``city``
with categories ``[Lyon, Paris]`` becomes the two 0/1 features ``city=Lyon`` and
``city=Paris``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nnrun.data.text import TextSpec, fit_vocabulary, vectorize
from nnrun.errors import UserError

MISSING = frozenset({"", "na", "n/a", "nan", "null", "?"})  # compared in lower case


@dataclass(frozen=True)
class Table:
    """Feature columns of N rows: ``numeric`` (N, n_numeric) float64 with NaN for a
    missing cell, ``strings`` (N, n_categorical) with "" for a missing cell, and the
    1-based file ``lines`` of the rows, so late errors can still name them."""

    names: list[str]
    categorical: list[str]
    numeric: np.ndarray
    strings: np.ndarray
    lines: np.ndarray
    origin: str

    def take(self, indices: np.ndarray) -> "Table":
        return replace(self, numeric=self.numeric[indices], strings=self.strings[indices], lines=self.lines[indices])

    def digest_parts(self) -> list[np.ndarray]:
        return [self.numeric, np.char.encode(self.strings.astype(str), "utf-8")]


def read_csv(path: Path, hint: str | None = None) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Header, rows and the file line of each row (blank lines skipped); ragged rows
    and unreadable files are user errors (``hint`` is added when the file is absent)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            rows, lines = [], []
            for row in reader:
                if row:
                    rows.append(row)
                    lines.append(reader.line_num)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file", hint=hint) from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a CSV file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    except csv.Error as exc:
        raise UserError(f"{path}: not a valid CSV file ({exc})") from None
    if not header:
        raise UserError(f"{path}: the file is empty; a CSV file needs a header row and data rows")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise UserError(f"{path}: the header names {', '.join(repr(n) for n in repeated)} more than once")
    for number, row in zip(lines, rows):
        if len(row) != len(header):
            raise UserError(f"{path}, line {number}: {len(row)} cells, but the header has {len(header)} columns")
    if not rows:
        raise UserError(f"{path}: no data rows under the header")
    return header, rows, np.array(lines, dtype=np.int64)


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def parse_number(cell: str, origin: str, line: int, column: str) -> float:
    """A numeric cell, NaN when missing; anything else names its place in the file."""
    if is_missing(cell):
        return float("nan")
    try:
        value = float(cell)
    except ValueError:
        raise UserError(
            f"{origin}, line {line}, column '{column}': '{cell}' is not a number",
            hint=f"fix the cell, or list '{column}' under categorical if it holds categories",
        ) from None
    if not np.isfinite(value):
        raise UserError(f"{origin}, line {line}, column '{column}': '{cell}' is not a finite number")
    return value


def build_table(origin: str, header: list[str], rows: list[list[str]], names: list[str], categorical: list[str],
                lines: np.ndarray) -> Table:
    """Pick the feature columns ``names`` out of parsed rows, numbers parsed."""
    position = {name: i for i, name in enumerate(header)}
    numeric_names = [n for n in names if n not in categorical]
    numeric = np.empty((len(rows), len(numeric_names)), np.float64)
    for j, name in enumerate(numeric_names):
        col = position[name]
        numeric[:, j] = [parse_number(row[col], origin, int(line), name) for row, line in zip(rows, lines)]
    cells = [["" if is_missing(row[position[n]]) else row[position[n]].strip() for n in categorical] for row in rows]
    strings = np.array(cells, dtype=object).reshape(len(rows), len(categorical))
    return Table(list(names), list(categorical), numeric, strings, lines, origin)


def check_no_missing(table: Table) -> None:
    """The ``missing: error`` policy: the first empty cell, by line, is reported."""
    numeric_names = [n for n in table.names if n not in table.categorical]
    hits = [(table.lines[r], numeric_names[c]) for r, c in zip(*np.nonzero(np.isnan(table.numeric)))]
    hits += [(table.lines[r], table.categorical[c]) for r, c in zip(*np.nonzero(table.strings == ""))]
    if hits:
        line, column = min(hits)
        raise UserError(
            f"{table.origin}, line {line}, column '{column}': missing value ({len(hits)} missing in all)",
            hint="fill it in, or set data.source.missing to mean or most_frequent to impute it",
        )


def _most_frequent(values: np.ndarray):
    uniques, counts = np.unique(values, return_counts=True)
    return uniques[np.argmax(counts)] if len(uniques) else None


def fit_columns(table: Table, missing: str, text: TextSpec | None = None) -> dict:
    """Learn categories and fill values from the training rows (JSON-able state); a
    ``text`` column learns its vocabulary (see :mod:`nnrun.data.text`)."""
    numeric_names = [n for n in table.names if n not in table.categorical]
    columns = []
    if text is not None:
        texts = table.strings[:, table.categorical.index(text.column)]
        columns.append({"name": text.column, "kind": "text", "text": fit_vocabulary(texts, text)})
    for j, name in enumerate(numeric_names):
        present = table.numeric[:, j][~np.isnan(table.numeric[:, j])]
        fill = float(present.mean()) if missing == "mean" and len(present) else None
        if missing == "most_frequent" and len(present):
            fill = float(_most_frequent(present))
        columns.append({"name": name, "kind": "numeric", "fill": fill})
    for j, name in enumerate(table.categorical):
        if text is not None and name == text.column:
            continue
        present = table.strings[:, j][table.strings[:, j] != ""].astype(str)
        fill = str(_most_frequent(present)) if missing != "error" and len(present) else None
        columns.append({"name": name, "kind": "categorical", "categories": sorted(set(present)), "fill": fill})
    order = {name: i for i, name in enumerate(table.names)}
    return {"missing": missing, "columns": sorted(columns, key=lambda c: order[c["name"]])}


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


def encode_columns(table: Table, state: dict, unseen: str = "zeros") -> np.ndarray:
    """Float32 features (N, F) from a table with the saved state.

    A category the training rows never had is all zeros (``unseen="zeros"``, for held
    out splits) or an error naming the line (``unseen="error"``, for ``nnrun predict``).
    """
    blocks = []
    numeric_names = [n for n in table.names if n not in table.categorical]
    for column in state["columns"]:
        name = column["name"]
        if column["kind"] == "numeric":
            values = table.numeric[:, numeric_names.index(name)]
            blocks.append(_filled(values, np.isnan(values), column, table)[:, None])
        elif column["kind"] == "text":  # token indices (N, length); an empty cell is all padding
            blocks.append(vectorize(table.strings[:, table.categorical.index(name)], column["text"]))
        else:
            values = table.strings[:, table.categorical.index(name)]
            values = _filled(values, values == "", column, table)
            blocks.append(_one_hot(values, column, table, unseen))
    if not blocks:
        return np.empty((len(table.lines), 0), np.float32)
    return np.concatenate(blocks, axis=1).astype(np.float32)


def _filled(values: np.ndarray, missing: np.ndarray, column: dict, table: Table) -> np.ndarray:
    if not missing.any():
        return values
    if column["fill"] is None:
        line = int(table.lines[np.argmax(missing)])
        raise UserError(
            f"{table.origin}, line {line}, column '{column['name']}': missing value",
            hint="fill it in, or train with data.source.missing set to mean or most_frequent",
        )
    values = values.copy()
    values[missing] = column["fill"]
    return values


def _one_hot(values: np.ndarray, column: dict, table: Table, unseen: str) -> np.ndarray:
    categories = column["categories"]
    index = {c: i for i, c in enumerate(categories)}
    codes = np.array([index.get(str(v), -1) for v in values], dtype=np.int64)
    if unseen == "error" and (codes < 0).any():
        row = int(np.argmax(codes < 0))
        raise UserError(
            f"{table.origin}, line {int(table.lines[row])}, column '{column['name']}': category "
            f"'{values[row]}' was not seen in training (known: {', '.join(categories)})"
        )
    encoded = np.zeros((len(values), len(categories)), np.float32)
    known = codes >= 0
    encoded[np.flatnonzero(known), codes[known]] = 1.0
    return encoded
