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
and 0) are numbers; text, pandas ``category`` and ``string`` columns are categorical
unless the settings list ``categorical`` themselves or name the column as an id, a
left-out or the text column. Dates are refused (the model takes numbers; the message
says which to derive). Problems are told before the run directory is made, by column
name and row (numbered from 0, as ``iloc`` does), never by the saved file's lines.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nnrun.config.overrides import Setting
from nnrun.data.table import is_missing, one_line
from nnrun.errors import UserError

DATA_CSV, VALIDATION_CSV = "data.csv", "validation.csv"
# The csv source's settings about columns; type, path and target are the table's own.
COLUMN_SETTINGS = ("features", "categorical", "id", "ignore", "missing", "unknown", "text")


class Columns:
    """A table's columns as the CSV file will hold them: numbers (float64, NaN where
    missing) or text (None where missing), and which of them hold text."""

    def __init__(self, frame, name: str):
        self.names = [str(c) for c in frame.columns]
        self.rows = len(frame)
        self.values: dict[str, np.ndarray | list] = {}
        self.text: list[str] = []
        dates = []
        for column, label in zip(frame.columns, self.names):
            series = frame[column]
            kind = str(getattr(series, "dtype", ""))
            if kind.startswith(("datetime", "timedelta", "period")):
                dates.append(label)
                continue
            numbers = None if kind == "category" else _numbers(np.asarray(series))
            if numbers is None:
                self.values[label] = [_text(v) for v in series]
                self.text.append(label)
            else:
                self.values[label] = numbers
        if dates:
            raise UserError(f"{name}: the column{'s' if len(dates) > 1 else ''} {', '.join(map(repr, dates))} "
                            f"hold{'' if len(dates) > 1 else 's'} dates or times, and the model takes numbers",
                            hint=f"derive numbers from them, e.g. df['month'] = df[{dates[0]!r}].dt.month or the "
                                 f"days since a date, and leave the dates out (df.drop(columns=[{dates[0]!r}]))")

    def missing_rows(self, label: str) -> np.ndarray:
        values = self.values[label]
        if isinstance(values, np.ndarray):
            return np.flatnonzero(np.isnan(values))
        return np.array([i for i, v in enumerate(values) if v is None], np.int64)


def _numbers(values: np.ndarray) -> np.ndarray | None:
    """A column as float64 (booleans as 1 and 0, missing values as NaN), or None when it
    holds anything else: text, or numbers mixed with text."""
    if values.dtype == bool or (np.issubdtype(values.dtype, np.number)
                                and not np.issubdtype(values.dtype, np.complexfloating)):
        return values.astype(np.float64)
    if values.dtype != object:
        return None
    out = np.empty(len(values), np.float64)
    for i, value in enumerate(values):
        if is_missing(value):
            out[i] = np.nan
        elif isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
            out[i] = float(value)
        else:
            return None
    return out


def _text(value) -> str | None:
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
    text_spec = settings.get("text")
    text_column = text_spec.get("column") if isinstance(text_spec, dict) else None
    ids, left_out = _names(settings.get("id")), _names(settings.get("ignore"))
    listed = settings.get("features")
    features = [n for n in columns.names if (listed is None or n in listed) and n not in ids + left_out
                and n != text_column]
    if "categorical" not in settings and text_column is None:
        settings["categorical"] = filled["categorical"] = [n for n in features if n in columns.text]
    categorical = settings.get("categorical") or []
    unnamed = [n for n in features if n in columns.text and n not in categorical]
    if unnamed:
        examples = ", ".join(f"'{n}' (e.g. {next(v for v in columns.values[n] if v is not None)!r})"
                             for n in unnamed[:5])
        raise UserError(f"{name}: the column{'s' if len(unnamed) > 1 else ''} {examples} "
                        f"hold{'' if len(unnamed) > 1 else 's'} text, but data.source.categorical does not list "
                        f"{'them' if len(unnamed) > 1 else 'it'}",
                        hint=f"add {'them' if len(unnamed) > 1 else 'it'} to data.source.categorical, or to "
                        "data.source.ignore to leave it out")
    if settings.get("missing", "error") == "error":
        _refuse_missing(columns, features + ([text_column] if text_column else []), name)
    return filled


def _names(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _refuse_missing(columns: Columns, features: list[str], name: str) -> None:
    gaps = [(n, columns.missing_rows(n)) for n in features if n in columns.values]
    gaps = [(n, rows) for n, rows in gaps if len(rows)]
    if gaps:
        told = "; ".join(f"column '{n}' in row{'s' if len(rows) > 1 else ''} "
                         f"{', '.join(map(str, rows[:5]))}{', ...' if len(rows) > 5 else ''}" for n, rows in gaps)
        raise UserError(f"{name}: missing values: {told}",
                        hint="set data.source.missing: mean (or most_frequent) in the config to fill them from the "
                        "training split, or fill or drop them (df.fillna, df.dropna)")


def target_column(y, names: list[str]) -> str:
    """The name of the targets' column: a named Series's name, else ``target``; never
    one of the features'."""
    given = getattr(y, "name", None)
    label = str(given) if isinstance(given, str) and given else "target"
    while label in names:
        label = f"{label}_"
    return label


def table_bytes(columns: Columns, target: str, y: np.ndarray) -> bytes:
    """The table and its targets as CSV text: numbers written so that they read back as
    the same float64, text quoted, missing cells empty."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    arrays = {}
    for label in columns.names:
        values = columns.values[label]
        if isinstance(values, np.ndarray):
            arrays[label] = pa.array(values, mask=np.isnan(values))
        else:
            arrays[label] = pa.array(values, type=pa.string())
    arrays[target] = pa.array(_targets(y))
    sink = pa.BufferOutputStream()
    pcsv.write_csv(pa.table(arrays), sink)
    return sink.getvalue().to_pybytes()


def _targets(y: np.ndarray):
    """One target per row: class labels as text, values as float64."""
    y = y.reshape(-1)
    if np.issubdtype(y.dtype, np.number) and not np.issubdtype(y.dtype, np.bool_):
        return y.astype(np.float64) if np.issubdtype(y.dtype, np.floating) else y.astype(np.int64)
    return [_text(v) for v in y.tolist()]


def given_targets(y, name: str) -> np.ndarray:
    """Targets handed over in memory as an array: a Series or a one-column table as its
    values; one-hot columns named by class (``pd.get_dummies(labels)``) as those names,
    columns named 0 to K-1 as one-hot rows. A missing target is refused, by row."""
    names = one_hot_names(y)
    values = np.asarray(y)
    if values.ndim == 0:  # None, or one value for all
        raise UserError(f"{name}: y is {y!r}; give one target per sample (a list, an array or a Series)")
    if names is not None:
        from nnrun.data.files import class_labels  # checks that the rows are one-hot

        values = np.asarray(names)[class_labels(values.astype(np.float64), name)]
    elif values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.dtype == object or np.issubdtype(values.dtype, np.floating):
        gaps = np.flatnonzero([is_missing(v) for v in values.reshape(len(values), -1)[:, 0]]
                              if values.dtype == object else np.isnan(values.reshape(len(values), -1)).any(axis=1))
        if len(gaps):
            rows = ", ".join(map(str, gaps[:5])) + (", ..." if len(gaps) > 5 else "")
            raise UserError(f"{name}: y has {len(gaps)} missing target{'s' if len(gaps) > 1 else ''} "
                            f"(row{'s' if len(gaps) > 1 else ''} {rows}); every sample needs one",
                            hint="drop those rows from x and y (for a DataFrame: keep = y.notna(); "
                            "x[keep], y[keep]), or fill them in")
    return values.astype(str) if values.dtype == object else values


def one_hot_names(y) -> list[str] | None:
    """The class names of one-hot targets given as a table with named columns; None for
    anything else, and for columns named 0 to K-1 (the classes' positions)."""
    columns = getattr(y, "columns", None)
    if columns is None or isinstance(y, np.ndarray) or len(columns) < 2:
        return None
    names = [str(c) for c in columns]
    return None if names == [str(i) for i in range(len(names))] else names


def table_source_overrides(path: Path, target: str, task: str, settings: dict | None, filled: dict,
                     validation: Path | None) -> list[str]:
    """``--set`` items pointing ``data.source`` at the saved table. Where the config
    gives column settings, the items set the other keys beside them, so that a mistake
    in a setting is told where the config has it; else they make the whole source."""
    source = {"type": "csv", "path": str(path), "target": target, "task": task, **filled}
    if validation is not None:
        source["validation_path"] = str(validation)
    if settings is None:
        return [Setting(f"data.source={json.dumps(source)}", "data=(x, y)")]
    return [Setting(f"data.source.{key}={json.dumps(value)}", "data=(x, y)") for key, value in source.items()]
