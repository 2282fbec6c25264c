"""Targets handed over in memory, ``nnrun.train(config, data=(x, y))``: a list, an
array, a pandas Series or a table of columns, made into the array the run's saved
file will hold, and checked here by row (numbered from 0, as ``iloc`` does), before
the run directory is made.

What ``y`` means follows the task, which follows the loss: for a classification, a
table of columns named by class is one-hot rows (``pd.get_dummies(labels)``); for a
regression, several columns are several targets, and every value must be a number.
A loaded model's ``evaluate`` takes them alike (:func:`by_class`, :func:`by_target`).
"""

from __future__ import annotations

import numpy as np

from nnrun.data.cells import MISSING
from nnrun.data.table import is_missing
from nnrun.errors import UserError


def target_column(y, names: list[str]) -> str:
    """The name of the targets' column: a named Series's name (a one-column DataFrame's
    column's), else ``target``; never one of the features' (see :func:`target_columns`)."""
    return target_columns(y, names, 1)[0]


def target_columns(y, names: list[str], width: int) -> list[str]:
    """The targets' columns in the saved table: one target's, a named Series's name (a
    one-column DataFrame's column's), else ``target``; several regression targets', a
    DataFrame's column names, else 0, 1, ... (in the outputs' order: prediction_0, ...
    as for arrays). A name y gives that x's columns have too is refused: the model would
    read the very values it is to predict; one of nnrun's own is made another."""
    given = given_names(y, width, names)
    refuse_leak(given, names)
    labels = given or (["target"] if width == 1 else [str(i) for i in range(width)])
    made = []
    for label in labels:
        while label in names or label in made:
            label = f"{label}_"
        made.append(label)
    return made


def given_names(y, width: int, features=()) -> list[str]:
    """The names y gives its targets: a named Series's, a one-column DataFrame's column's,
    or a DataFrame's columns (``width`` of them); none for arrays and lists. Labels that
    are no text (``pd.DataFrame(y)``'s 0, 1) name the targets as text ('0', '1'), unless
    x's ``features`` carry the same ones: then both are pandas' positions, not names."""
    name, columns = getattr(y, "name", None), list(getattr(y, "columns", ()))
    if not all(isinstance(column, str) and column for column in columns):
        columns = [str(column) for column in columns]
        if set(columns) & {str(feature) for feature in features}:
            return []
    if name is None and len(columns) == 1:  # y[["price"]]: price
        return columns
    if isinstance(name, str) and name:
        return [name]
    return columns if len(set(columns)) == width > 1 else []


def refuse_leak(given: list[str], names: list[str] | None) -> None:
    """A target's column that x holds too: the model would learn to copy it."""
    if leaked := [label for label in given if label in (names or ())]:
        raise UserError(f"data: y's column {leaked[0]!r} is a column of x too, so the model would read the values "
                        "it is to predict among its inputs", hint=f"leave it out of x: x.drop(columns={leaked!r})")


def given_targets(y, name: str, task: str = "classification") -> np.ndarray:
    """Targets as an array: a Series or a one-column table as its values; for a
    classification, one-hot columns named by class as those names and columns named 0
    to K-1 as one-hot rows; for a regression, numbers (N,) or (N, K). A missing target
    is refused, by row: None, NaN, or a text a file reads as missing ('', 'NA', ...)."""
    names = one_hot_names(y) if task == "classification" else None
    values = np.asarray(y)
    if values.ndim == 0:  # None, or one value for all
        raise UserError(f"{name}: y is {y!r}; give one target per sample (a list, an array or a Series)")
    if names is not None:
        from nnrun.data.files import class_labels  # checks that the rows are one-hot

        values = np.asarray(names)[class_labels(values.astype(np.float64), name)]
    elif values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.dtype.kind in "OUf" and values.size:
        rows = values.reshape(len(values), -1)
        gaps = np.flatnonzero([any(map(_missing, row)) for row in rows] if values.dtype.kind in "OU"
                              else np.isnan(rows).any(axis=1))
        if len(gaps):
            listed = ", ".join(map(str, gaps[:5])) + (", ..." if len(gaps) > 5 else "")
            markers = sorted({repr(v) for v in rows[gaps[:20]].flat if isinstance(v, str)})
            marked = f"; {' and '.join(markers[:3])} {'is a' if len(markers) == 1 else 'are'} missing " \
                     f"value{'' if len(markers) == 1 else 's'} in a file, and so here" if markers else ""
            # A table of several columns: a row lacks a target where any of its cells does.
            keep = "y.notna().all(axis=1)" if rows.shape[1] > 1 else "y.notna()"
            raise UserError(f"{name}: y has {len(gaps)} missing target{'s' if len(gaps) > 1 else ''} "
                            f"(row{'s' if len(gaps) > 1 else ''} {listed}){marked}; every sample needs one",
                            hint=f"drop those rows from x and y (for a DataFrame: keep = {keep}; x[keep], y[keep]; "
                            "data.source.missing_target: drop does so for a file's rows), or fill them in")
    if task == "regression":
        return _numbers(values, name)
    return values.astype(str) if values.dtype == object else values


def _missing(value) -> bool:
    return is_missing(value) or (isinstance(value, str) and value.strip().lower() in MISSING)


def _numbers(values: np.ndarray, name: str) -> np.ndarray:
    """A regression's targets as float64, numbers written as text ("350000") read as a
    file's are; anything else refused by row, with what it holds."""
    if np.issubdtype(values.dtype, np.number) and not np.issubdtype(values.dtype, np.complexfloating):
        return values.astype(np.float64)
    flat, bad = values.reshape(len(values), -1) if values.size else values.reshape(-1, 1), []
    out = np.empty(flat.shape, np.float64)
    for (row, column), value in np.ndenumerate(flat):
        try:
            if isinstance(value, (str, np.str_)):
                value = value.strip()
            out[row, column] = float(value)
        except (TypeError, ValueError):
            bad.append((row, value))
            continue
        if not np.isfinite(out[row, column]):
            bad.append((row, value))
    if bad:
        shown = ", ".join(f"row {row} {value!r}" for row, value in bad[:3]) + (
            f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        many = len(bad) > 1
        raise UserError(f"{name}: y holds {len(bad)} value{'s' if many else ''} that {'are' if many else 'is'} no "
                        f"finite number{'s' if many else ''}: {shown}; a regression's targets are numbers",
                        hint="write each as a plain number (350000, not '$350,000'), or drop those rows; if they "
                        "are class labels, a classification loss such as categorical_crossentropy trains on them")
    return out.reshape(values.shape)


def one_hot_names(y) -> list[str] | None:
    """The class names of one-hot targets given as a table with named columns; None for
    anything else, and for columns named 0 to K-1 (the classes' positions)."""
    columns = getattr(y, "columns", None)
    if columns is None or isinstance(y, np.ndarray) or len(columns) < 2:
        return None
    names = [str(c) for c in columns]
    return None if names == [str(i) for i in range(len(names))] else names


def by_class(y, classes: list[str] | None) -> np.ndarray:
    """Targets as an array; one-hot columns named by class (``pd.get_dummies(labels)``,
    in any order, some classes left out) put in the order of the model's classes."""
    names = one_hot_names(y)
    if names is None or classes is None:
        return np.asarray(y)
    unknown = [n for n in names if n not in classes]
    if unknown:
        raise UserError(f"y: the column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown[:5]))} "
                        f"{'are' if len(unknown) > 1 else 'is'} not among the model's classes ({', '.join(classes)})",
                        hint="name one-hot columns by class, as pd.get_dummies(labels) does, or pass the labels")
    ordered = np.zeros((len(y), len(classes)))
    ordered[:, [classes.index(n) for n in names]] = np.asarray(y, np.float64)
    empty = np.flatnonzero(ordered.sum(axis=1) == 0)
    if len(empty):
        raise UserError(f"y: {len(empty)} row{'s are' if len(empty) > 1 else ' is'} 0 in every column "
                        f"(row{'s' if len(empty) > 1 else ''} {', '.join(map(str, empty[:5]))}"
                        f"{', ...' if len(empty) > 5 else ''}), so {'their' if len(empty) > 1 else 'its'} class "
                        "is not among the columns", hint="give one column per class of these rows")
    return ordered


def by_target(y, names: list[str] | None):
    """Several regression targets given as a table of named columns, put in the order the
    run trained on them (a table of other names is refused: matched by place, a price
    scored as a room count reads as a bad model, not as a mistake)."""
    given = [str(c) for c in getattr(y, "columns", ())]
    if not names or not given or given == names:
        return y
    if sorted(given) != sorted(names):
        raise UserError(f"y: its columns ({', '.join(map(repr, given[:10]))}) are not the targets the model was "
                        f"trained on ({', '.join(map(repr, names))})", hint="select them by name: y[[" +
                        ", ".join(map(repr, names)) + "]], or pass an array of the targets in that order")
    return y.iloc[:, [given.index(name) for name in names]]  # by place: the columns may be numbers, not texts
