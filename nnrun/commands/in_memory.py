"""Samples given in memory, to train on (:func:`samples_array`) or to a loaded model. For
the latter they are made into what its files would hold: a NumPy array, a dict of
columns or a pandas DataFrame (matched by the column names), a list of rows as dicts (a
JSON request's ``instances``), a pandas Series as one row or one column. Cells are read
as a CSV file's would be (:func:`table_cell`), so the saved column encoding applies as it
does to ``nnrun predict``'s file (:func:`table_samples`).
"""

from __future__ import annotations

import numpy as np

from nnrun.commands.frame_texts import one_text_column
from nnrun.commands.frames import table_column_names
from nnrun.data.cells import markers
from nnrun.data.columns import accept_columns, extra_note
from nnrun.data.encoding import encode_columns
from nnrun.data.inputs import encoded_notes, filled_notes
from nnrun.data.problems import DataProblems
from nnrun.data.table import build_table, is_missing, one_line
from nnrun.errors import UserError
from nnrun.store.preprocessing import SavedPreprocessing


def as_columns(x, columns: list[str]):
    """Rows given one by one, as a JSON request holds them (a list of dicts), or a pandas
    Series, as a dict of columns; anything else as it is. A Series is one row
    (``df.iloc[i]``) when its index names some of the model's ``columns``, and one column
    (``df["review"]``) when its own name is one of them and its index is not."""
    if isinstance(x, list) and x and all(isinstance(row, dict) for row in x):
        names = list(dict.fromkeys(name for row in x for name in row))
        return {name: [row.get(name) for row in x] for name in names}  # a key a row leaves out is a gap
    if hasattr(x, "index") and hasattr(x, "to_dict") and getattr(x, "ndim", None) == 1:
        if str(x.name) in columns and not {str(label) for label in x.index} & set(columns):
            return {str(x.name): list(x)}  # df["review"]: that column of every sample
        return {str(name): [value] for name, value in x.to_dict().items()}  # df.iloc[i]: one sample
    return x


def texts_as_column(x, saved) -> object:
    """For a text model (one text column, its only input): texts as a list, an array, a
    pandas Series or one text alone, as that column. Anything else as it is."""
    columns = saved.columns.columns if saved.columns else []
    if len(columns) != 1 or columns[0].kind != "text":
        return x
    name = columns[0].name
    if x is None or isinstance(x, (bytes, int, float, np.number)):
        decode = "; decode it first: x.decode('utf-8')" if isinstance(x, bytes) else ""
        raise UserError(f"x: got {x!r:.60}, but this model reads texts (its column '{name}'){decode}",
                        hint=f"pass a text, a list of texts, a pandas Series of them, or the column: {{'{name}': "
                             "[...]}")
    return {name: [x]} if isinstance(x, str) else one_text_column(x, name)


def samples_array(x, name: str) -> np.ndarray:
    """Samples given to train on as one array: a table of numbers column by column
    (booleans as 1 and 0), anything else as NumPy reads it; samples of different lengths
    (a list of sequences, say) are told as such rather than as NumPy's 'inhomogeneous shape'."""
    if table_column_names(x) is not None:
        columns = [np.asarray(x[column]).astype(np.float64) for column in x.columns]
        return np.column_stack(columns) if columns else np.empty((len(x), 0))
    try:
        return np.asarray(x)
    except ValueError:
        lengths = sorted({len(v) for v in x[:10_000] if hasattr(v, "__len__")}) if isinstance(x, (list, tuple)) else []
        shown = f" ({', '.join(map(str, lengths[:5]))}{', ...' if len(lengths) > 5 else ''} values)" if lengths else ""
        raise UserError(f"{name}: the samples of x have different lengths{shown}; an array needs one shape for all",
                        hint="pad them to one length, e.g. into np.zeros((samples, longest, ...)) sample by sample; "
                        "steps of 0 are then skipped by a {type: masking} layer first (token ids padded with 0: by an "
                        "embedding with mask_zero: true)") from None


def numbers_as_columns(x, saved) -> object:
    """A 2-D numeric array for a run trained on a table of numeric columns only: its
    columns in the table's order, as the dict of columns the table reading takes.
    Anything else as it is (a dict or DataFrame is matched by name)."""
    if isinstance(x, dict) or hasattr(x, "columns") or not isinstance(x, (np.ndarray, list, tuple)):
        return x
    names = saved.column_names()
    numeric = all(c.kind == "numeric" for c in saved.columns.columns)
    try:
        array = np.asarray(x)
    except ValueError:  # rows of different lengths
        array = None
    shape = f"an array of shape {array.shape}" if array is not None else "rows of different lengths"
    if numeric and array is not None and array.ndim == 2 and array.shape[1] == len(names) and \
            np.issubdtype(array.dtype, np.number) and not np.issubdtype(array.dtype, np.complexfloating):
        return {name: array[:, i] for i, name in enumerate(names)}
    also = f", or a 2-D array of its {len(names)} numeric columns in that order" if numeric else ""
    raise UserError(f"x: got {shape}, but this model was trained on the columns of a table ({', '.join(names)}); "
                    f"pass a dict of columns or a pandas DataFrame{also}")


def numeric_array(x, names: list[str], target: str | None = None, notes: list[str] | None = None) -> np.ndarray:
    """Samples from an array, or from a DataFrame or dict of columns by the names the
    model's features had when it trained on a DataFrame (``data=(df, y)``); ``notes``
    gains the line about columns it leaves out (the target's aside), as predict's."""
    if isinstance(x, dict) or hasattr(x, "columns"):
        columns = {str(c): x[c] for c in (x if isinstance(x, dict) else x.columns)}
        if names == [f"x{i}" for i in range(len(names))] and not set(names) <= set(columns):
            raise UserError("x: this model was trained on an array without column names; pass a NumPy array "
                            "(samples, features...)", hint="a model trained on a pandas DataFrame takes one")
        absent = [n for n in names if n not in columns]
        if absent:
            raise UserError(f"x: {len(absent)} of the model's {len(names)} columns "
                            f"{'is' if len(absent) == 1 else 'are'} missing: {', '.join(map(repr, absent[:10]))}"
                            f"{_renames(absent, [c for c in columns if c not in names])}")
        x = np.column_stack([np.asarray(columns[name]) for name in names])
        note = extra_note([c for c in columns if c not in names and c != target])
        if note and notes is not None:
            notes.append(note)
    try:
        array = np.asarray(x)
    except ValueError:  # rows of different lengths
        raise UserError(f"x: the samples have different lengths; every sample needs the model's {len(names)} "
                        "values") from None
    if array.dtype == object and all(isinstance(v, (int, float, np.number, np.bool_)) for v in array.flat):
        array = array.astype(np.float64)  # numbers and booleans together, as df.to_numpy() gives them
    if array.dtype == bool:
        array = array.astype(np.float32)  # True and False are 1 and 0, as in a table's columns
    if array.ndim < 2 or not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        flat = array.ndim == 1 and np.issubdtype(array.dtype, np.number)  # no samples' or no features' axis
        hint = None if not flat else "one sample is a batch of one: x[None], or [x]" if len(names) > 1 else \
            f"one value per sample: {'x.to_frame()' if hasattr(x, 'to_frame') else 'x.reshape(-1, 1)'}"
        raise UserError(f"x: expected a real numeric array of shape (samples, features...), got {array.dtype} "
                        f"of shape {array.shape}", hint=hint)
    with np.errstate(over="ignore"):  # a value beyond float32 becomes infinite, and is refused as one (see shaped)
        return array.astype(np.float32)


def table_cells(x, names: list[str]) -> tuple[list[str], list[list]]:
    """Header and rows of cells from a dict of columns or a DataFrame: text as a CSV file
    would hold it, numbers as numbers (a run that read "147,48" in its files takes 147.48
    as the number it is); missing values (None, NaN, pd.NA, pd.NaT) become empty cells."""
    if hasattr(x, "columns") and not isinstance(x, dict):  # a pandas DataFrame, or alike
        x = {str(column): list(x[column]) for column in x.columns}
    if not isinstance(x, dict):
        raise UserError(f"x: this model was trained on the columns of a table ({', '.join(names)}); pass a dict "
                        "of columns or a pandas DataFrame")
    columns = {str(name): _as_list(values) for name, values in x.items()}
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise UserError(f"x: the columns have different lengths ({', '.join(map(str, sorted(lengths)))})")
    header = list(columns)
    return header, [[table_cell(v) for v in row] for row in zip(*columns.values())]


def _as_list(values) -> list:
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        return [values]
    return list(values)


def table_cell(value) -> str | int | float:
    """One cell of a table given in memory: a number as it is, a missing value as the
    empty cell a CSV file holds, anything else as its text."""
    if hasattr(value, "item") and np.ndim(value) == 0:
        value = value.item()  # a NumPy scalar
    if is_missing(value):
        return ""  # what a CSV file holds for a missing value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # 12345, as the file held it before pandas read a column with a gap as floats: the
        # same number, and the same word in a text column (12345.0 lost its '.' to 123450).
        return int(value)
    return value if isinstance(value, (int, float)) else one_line(str(value))  # a bool: 1 or 0 in a number column


def _renames(absent: list[str], extra: list[str]) -> str:
    """"; the input's 'sepal length (cm)' may be 'sepal_length': rename it" for each
    input column that looks like a missing one misspelled; else the input's columns."""
    from nnrun.errors import closest

    pairs, left = [], list(extra)
    for name in absent:  # each input column is taken for one missing column at most
        close = closest(name, left)
        if close is not None:
            pairs.append((close, name))
            left.remove(close)
    if pairs:
        named = ", ".join(f"'{given}' may be '{meant}'" for given, meant in pairs[:5])
        return f"; the input's {named}: rename {'it' if len(pairs) == 1 else 'them'}"
    return f"; the input has: {', '.join(map(repr, extra[:10]))}" if extra else ""


def table_samples(header: list[str], rows: list[list[str]], saved: SavedPreprocessing, source,
                  notes: list[str] | None = None, unknown: str | None = None) -> np.ndarray:
    """Float32 samples from table cells as a CSV file holds them (text; empty for a
    missing value), by column name, through the run's saved column encoding. Messages
    number the rows from 0, as a DataFrame's ``iloc`` and the targets' messages do;
    ``source`` names where they came from. Categories ``unknown: ignore`` encoded as all
    zeros, and texts cut or unknown to the vocabulary, are told in ``notes``, as ``nnrun
    predict`` tells them. ``unknown`` ("error" or "ignore") in place of the run's rule
    for categories it never saw, as ``nnrun predict --unknown``."""
    lines = list(range(len(rows)))
    columns = saved.encoding()
    if unknown is not None and columns:
        columns = {**columns, "unknown": unknown}
    names = saved.column_names()
    # Text columns are read as strings too, then vectorized with the saved vocabulary.
    categorical = [c.name for c in saved.columns.columns if c.kind != "numeric"] if saved.columns else []
    state = columns or {}
    allowed = [*saved.target_columns, *state.get("ids", []), *state.get("ignored", [])]
    # The same rule as predict: extra columns are left out.
    extra = accept_columns(header, names, str(source), allowed, file=False)
    if notes is not None and extra:  # and said, as predict says it: a misspelt column is no silent loss
        notes.append(extra_note(extra))
    problems = DataProblems(str(source), scoring=True, columns=header, place="row")
    table = build_table(str(source), header, rows, names, categorical, lines, state.get("thousands"),
                        state.get("decimal", "."), place="row", problems=problems,
                        missing=markers(state.get("missing_values", ())), signs=tuple(state.get("strip_signs", ())))
    if columns:  # every bad cell at once: numbers that are not, and categories training never saw
        filled = filled_notes(table, columns)  # counted before the encoding fills the cells
        encoded = encode_columns(table, columns, unseen=state.get("unknown", "error"), problems=problems)
        problems.raise_if_any()
        if notes is not None:
            notes += encoded_notes(table, columns, encoded, filled, state.get("unknown", "error"), options=False)
        return encoded
    problems.raise_if_any()
    missing = np.isnan(table.numeric)
    if missing.any():
        row, col = np.argwhere(missing)[0]
        raise UserError(f"{source}, row {lines[row]}, column '{names[col]}': missing value",
                        hint="the model was trained without missing values; fill the cell in")
    return table.numeric.astype(np.float32)
