"""Training from a table in memory that is more than numbers:
``nnrun.train(config, data=(df, y))`` where ``df`` (a pandas DataFrame, or alike) holds
columns of categories or text, missing values, or where the config gives the column
settings of a ``csv`` source:

    data:
      source: {missing: mean, id: customer_id}    # no type, path or target: the table is the data

The table and its targets are saved into the new run directory as ``data.csv`` (and
``validation.csv`` for ``validation=(df, y)``), atomically, and ``data.source`` becomes
a ``csv`` source on them with those settings. From there it is a CSV run like any
other: ``config.yaml`` retrains it, ``nnrun evaluate`` rebuilds its splits, and
``predict`` takes a DataFrame or a CSV file by column names. A table of numbers alone,
with no settings, is saved as arrays instead (:mod:`.arrays`), its values exact.

Columns are told apart as Ludwig and ``nnrun init --data`` do: numbers (booleans as 1
and 0, and texts that write plain numbers) are numbers; text, pandas ``category`` and
``string`` columns are categorical unless the settings list ``categorical`` themselves
or name the column as an id, a left-out or the text column. A number column with a
few texts among its numbers is refused, as a file's bad cells are; a text a file reads
as missing ('NA', '') is missing here too, so that the saved file and a table handed
to ``predict`` read alike. Datetime columns, and texts that write dates, are date
columns (``data.source.dates``) unless the settings list ``dates`` themselves;
durations and periods are refused (the message says which number to derive). A text
model's missing texts are empty texts, as in a file.
Problems are told before the run directory is made, by column name and row (numbered
from 0, as ``iloc`` does), never by the saved file's lines.
"""

from __future__ import annotations

import json

import numpy as np

from nnrun.data.cell_kinds import dates
from nnrun.data.cells import MISSING
from nnrun.data.table import is_missing, one_line
from nnrun.errors import UserError

from nnrun.commands.frame_numbers import SEPARATOR_NAMES, column_numbers, separator_written, written_numbers

DATA_CSV, VALIDATION_CSV = "data.csv", "validation.csv"
# The csv source's settings about columns; type, path and target are the table's own.
COLUMN_SETTINGS = ("features", "categorical", "dates", "id", "ignore", "missing", "missing_category", "missing_values",
                   "unknown", "text", "fold_case", "thousands", "strip_signs")


class Columns:
    """A table's columns as the CSV file will hold them: numbers (float64, NaN where
    missing) or text (None where missing), and which of them hold text.

    A cell is read as a file's would be, so that training on the saved file and
    predicting from a table in memory see the same values: a text that a file reads as
    missing ('', 'NA', 'null', ...; :data:`~nnrun.data.cells.MISSING`) is missing here,
    and counted in ``markers`` to be told; a column of numbers written as text ("1200")
    is a number column unless ``as_text`` names it (a listed category, an id). A column
    of numbers with a few texts among them ("unknown" in a price) is told in ``stray``:
    a file would refuse those cells, and taken as categories they would turn every
    number into a category of its own; so are numbers written with a thousands separator
    that ``written`` (the source's thousands and signs) does not name, in ``grouped``."""

    def __init__(self, frame, name: str, as_text: set[str] = frozenset(), missing: frozenset[str] = MISSING,
                 written: dict | None = None):
        self.names = [str(c) for c in frame.columns]
        self.rows = len(frame)
        self.values: dict[str, np.ndarray | list] = {}
        self.text: list[str] = []
        self.markers: dict[str, dict[str, int]] = {}  # column: {missing marker text: cells}
        self.stray: dict[str, list[tuple[int, str]]] = {}  # column: (row, text) of its cells that are no numbers
        self.dates: list[str] = []  # datetimes, and texts that write dates: date columns (data.source.dates)
        self.grouped: dict[str, tuple[str, str]] = {}  # column: (cell, separator) of numbers no setting reads
        spans, written = [], written or {}
        self.thousands = written.get("thousands")  # the separator the source reads its numbers with
        for column, label in zip(frame.columns, self.names):
            series = frame[column]
            kind = str(getattr(series, "dtype", ""))
            if kind.startswith(("timedelta", "period")):
                spans.append(label)
                continue
            if kind.startswith("datetime"):  # as text, which the saved file holds: '2024-01-05 09:30:00'
                self.values[label] = [cell_text(v) for v in series]
                self.dates.append(label)
                continue
            numbers = None if kind == "category" else column_numbers(np.asarray(series))
            if numbers is not None:
                self.values[label] = numbers
                continue
            cells = [cell_text(v) for v in series]
            for row, cell in enumerate(cells):
                if cell is not None and cell.strip().lower() in missing:
                    marked = self.markers.setdefault(label, {})
                    marked[cell], cells[row] = marked.get(cell, 0) + 1, None
            present = [cell for cell in cells[:1000] if cell is not None]
            if kind != "category" and label not in as_text and present and dates(present):  # '2024-01-05' as text
                self.values[label] = cells
                self.dates.append(label)
                continue
            numbers, stray = (None, []) if kind == "category" or label in as_text else written_numbers(cells, written)
            if numbers is not None:
                self.values[label] = numbers
                continue
            if kind != "category" and label not in as_text and not written.get("thousands") and \
                    (found := separator_written([cell for cell in cells if cell is not None])):
                self.grouped[label] = found  # refused if it is a feature (see _refuse_stray)
            if stray:
                self.stray[label] = stray
            self.values[label] = cells
            self.text.append(label)
        if spans:
            many, first = len(spans) > 1, spans[0]
            raise UserError(f"{name}: the column{'s' if many else ''} {', '.join(map(repr, spans))} "
                            f"hold{'' if many else 's'} durations or periods, and the model takes numbers",
                            hint=f"derive numbers from them, e.g. df[{first!r}].dt.total_seconds() for a duration, "
                                 f"and leave them out (df.drop(columns=[{first!r}]))")

    def missing_rows(self, label: str) -> np.ndarray:
        values = self.values[label]
        if isinstance(values, np.ndarray):
            return np.flatnonzero(np.isnan(values))
        return np.array([i for i, v in enumerate(values) if v is None], np.int64)

    def marker_note(self, label: str) -> str:
        """" ('NA' and '' are missing values in a file, and so here)" for a column whose
        texts held missing markers; else nothing."""
        texts = list(self.markers.get(label, {}))
        are = "is a missing value" if len(texts) == 1 else "are missing values"
        return f" ({' and '.join(map(repr, texts[:3]))} {are} in a file, and so here)" if texts else ""


def cell_text(value) -> str | None:
    """A cell of a text column as the CSV file holds it (see ``one_line``)."""
    return None if is_missing(value) else one_line(str(value))


def split_settings(source: dict | None) -> dict | None:
    """The column settings a config gives for a table in memory (``data.source`` without
    type, path or target), or None when it gives none. A whole source is refused: which
    data to train on is the user's choice."""
    if source is None:
        return None
    whole = [key for key in ("type", "path", "target") if key in source]
    if whole:
        raise UserError("data: given beside the config's own data.source; give either data=(x, y) or "
                        "data.source, not both", hint="leave data.source out of the config to train on the arrays "
                        "(for a table, keep only its column settings: " + ", ".join(COLUMN_SETTINGS) + "), or "
                        "leave out data= to train on the source")
    return dict(source)


def filled_settings(columns: Columns, settings: dict, name: str) -> dict:
    """The settings the table needs and the config left out (``categorical``, the text
    columns), after checking that every text column has a role and that missing values
    have a policy."""
    settings, filled = dict(settings), {}
    text_column, ids, left_out = _roles(settings)
    listed = settings.get("features")
    features = [n for n in columns.names if (listed is None or n in listed) and n not in ids + left_out
                and n != text_column]
    if "dates" not in settings and text_column is None and any(n in columns.dates for n in features):
        settings["dates"] = filled["dates"] = [n for n in features if n in columns.dates]
    dated = _names(settings.get("dates"))
    if "categorical" not in settings and text_column is None:
        settings["categorical"] = filled["categorical"] = [n for n in features if n in columns.text and n not in dated]
    categorical = settings.get("categorical") or []
    unnamed = [n for n in features if n in columns.text and n not in categorical and n not in dated]
    if unnamed:
        examples = ", ".join(f"'{n}' (e.g. {next(v for v in columns.values[n] if v is not None)!r})"
                             for n in unnamed[:5])
        raise UserError(f"{name}: the column{'s' if len(unnamed) > 1 else ''} {examples} "
                        f"hold{'' if len(unnamed) > 1 else 's'} text, but data.source.categorical does not list "
                        f"{'them' if len(unnamed) > 1 else 'it'}",
                        hint=f"add {'them' if len(unnamed) > 1 else 'it'} to data.source.categorical, or to "
                        "data.source.ignore to leave it out")
    _refuse_stray(columns, features, name)
    if settings.get("missing", "error") == "error":  # a missing text is an empty one, as in a file
        own = categorical if settings.get("missing_category") == "own" else []  # a gap is a category there
        _refuse_missing(columns, [n for n in features if n not in own], name)
    return filled


def marker_warnings(columns: Columns, settings: dict) -> list[str]:
    """The feature columns whose texts such as 'NA' are read as missing values and filled
    by ``data.source.missing`` (with ``error`` they were refused): 'NA' may have been a
    category (North America) that a file could not tell from a gap."""
    left_out = {name for names in _roles(settings)[1:] for name in names}  # ids and ignored
    warnings = []
    for label, texts in columns.markers.items():
        named = {text: count for text, count in texts.items() if text.strip()}
        if label in left_out or not named:
            continue
        cells = ", ".join(f"'{text}' in {count} row{'s' if count > 1 else ''}" for text, count in named.items())
        text = next(iter(named))
        warnings.append(f"column '{label}': {cells} read as missing, as in a file, and filled by "
                        f"data.source.missing; if '{text}' is a value, rename it "
                        f"(df[{label!r}].replace({{{text!r}: ...}}))")
    return warnings


def text_columns(settings: dict) -> set[str]:
    """The columns taken as text whatever they hold: listed categories, ids, left-outs, a text model's."""
    text_column, ids, left_out = _roles(settings)
    return {*_names(settings.get("categorical")), *_names(settings.get("dates")), *ids, *left_out,
            *([text_column] if text_column else [])}


def text_column(settings: dict) -> str | None:
    """The column a text model reads, by the settings' ``text`` block; None without one."""
    return _roles(settings)[0]


def _roles(settings: dict) -> tuple[str | None, list[str], list[str]]:
    """The column roles the settings name: a text model's column, the ids, the left-out."""
    column = settings["text"].get("column") if isinstance(settings.get("text"), dict) else None
    return column if isinstance(column, str) else None, _names(settings.get("id")), _names(settings.get("ignore"))


def _names(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _refuse_stray(columns: Columns, features: list[str], name: str) -> None:
    """Texts among a feature column's numbers: refused by row, as a file's bad cells are;
    and numbers written with a thousands separator no setting names, which as text
    would be a category each."""
    grouped = [(n, *columns.grouped[n]) for n in features if n in columns.grouped]
    if grouped:
        label, cell, mark = grouped[0]
        shown = SEPARATOR_NAMES.get(mark, repr(mark))
        raise UserError(f"{name}: the column {label!r} holds numbers written with {shown} between thousands "
                        f"({cell!r}), which taken as text would be a category each",
                        hint=f"set data.source.thousands: {json.dumps(mark)} to read them as numbers, as a file's "
                             "are; or "
                             f"convert them: pd.to_numeric(df[{label!r}].str.replace({mark!r}, ''))")
    mixed = [(n, columns.stray[n]) for n in features if n in columns.stray]
    if not mixed:
        return
    told = "; ".join(f"column '{n}', {_rows_of(cells)}" for n, cells in mixed[:5])
    first = mixed[0][0]
    mark = columns.thousands  # the separator goes first, or coerce would make every grouped number missing
    clean = f".str.replace({mark!r}, '')" if mark else ""
    raise UserError(f"{name}: text among numbers: {told}; a number column holds numbers only",
                    hint=f"fix or drop those rows, or make them missing values with df[{first!r}] = "
                    f"pd.to_numeric(df[{first!r}]{clean}, errors='coerce') and set data.source.missing: mean; to take each "
                    f"value as a category instead, list {first!r} in data.source.categorical")


def _rows_of(cells: list[tuple[int, str]]) -> str:
    """'row 5 'unknown', row 9 'n/a'' for the first few cells, and how many more."""
    shown = ", ".join(f"row {row} {text!r}" for row, text in cells[:3])
    return shown + (f" and {len(cells) - 3} more" if len(cells) > 3 else "")


def _refuse_missing(columns: Columns, features: list[str], name: str) -> None:
    gaps = [(n, columns.missing_rows(n)) for n in features if n in columns.values]
    gaps = [(n, rows) for n, rows in gaps if len(rows)]
    if gaps:
        told = "; ".join(f"column '{n}' in row{'s' if len(rows) > 1 else ''} "
                         f"{', '.join(map(str, rows[:5]))}{', ...' if len(rows) > 5 else ''}{columns.marker_note(n)}"
                         for n, rows in gaps)
        marked = next((n for n, _ in gaps if n in columns.markers), None)
        rename = f", or rename a text that is a value (df[{marked!r}].replace(...))" if marked else ""
        raise UserError(f"{name}: missing values: {told}",
                        hint="set data.source.missing: mean (or most_frequent) in the config to fill them from the "
                        f"training split, or fill or drop them (df.fillna, df.dropna){rename}")


def table_column_names(x) -> list[str] | None:
    """The column names of a DataFrame (or alike) of samples, as text; None for an array."""
    columns = getattr(x, "columns", None)
    if columns is None or isinstance(x, np.ndarray):
        return None
    names = [str(c) for c in columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(f"data: the columns {', '.join(map(repr, repeated))} appear more than once; name each once")
    return names
