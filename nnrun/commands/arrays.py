"""Training from arrays in memory: ``nnrun.train(config, data=(x, y), validation=(x, y))``.

The arrays are saved into the new run directory as ``data.npz`` (atomically, no pickle), and
the config's ``data.source`` becomes ``{type: npz, path: <run>/data.npz}``. The run is then
an ordinary run directory: its ``config.yaml`` retrains it, and ``nnrun evaluate`` rebuilds
its splits, from files alone. ``data.split`` applies to ``data`` as to any source;
``validation`` takes the place of ``data.split.validation``. The task follows the config's
loss. A config that names its own ``data.source`` is refused: which of the two to train on
is the user's choice, not a silent one. A table (a pandas DataFrame) with text or category
columns, or with column settings in the config, is saved as CSV instead (:mod:`.frames`).

The arrays are checked here, as given, before the run directory is made: a message
names ``data`` or ``validation``, never the run's internal ``data.npz`` or the
``data.source`` setting that points at it.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import numpy as np

from nnrun.config import Config
from nnrun.config.loader import apply_overrides, read_yaml
from nnrun.config.overrides import Setting
from nnrun.data.base import check_regression_target, label_classes
from nnrun.data.cells import markers
from nnrun.data.files import MultiLabel, SoftLabels, class_labels
from nnrun.commands.frame_numbers import number_format
from nnrun.commands.frame_targets import given_names, given_targets, refuse_leak, target_column, target_columns
from nnrun.commands.frame_file import table_bytes, table_source_overrides
from nnrun.commands.in_memory import samples_array
from nnrun.commands.frames import (DATA_CSV, VALIDATION_CSV, Columns, filled_settings, marker_warnings,
                                   split_settings, table_column_names, text_columns)
from nnrun.commands.frame_texts import texts_as_table
from nnrun.engine.experiment import as_loaded
from nnrun.engine.hooks import SilentHooks, TrainingHooks
from nnrun.engine.train import TrainResult, train
from nnrun.errors import UserError, listed_samples
from nnrun.store import files
from nnrun.store.rundir import RunDir

DATA_FILE = "data.npz"


def train_on_arrays(config, data, validation=None, *, overrides=(), run_dir=None, runs_root="runs",
                    hooks: TrainingHooks | None = None, command: str | None = None) -> TrainResult:
    """Train ``config`` on ``data = (x, y)`` (and ``validation = (x, y)``); see the module."""
    overrides = list(overrides)
    settings = split_settings(_raw_source(config, overrides))
    # The task of data in memory follows the loss; data.source.task may say it too, and is
    # no column setting: a source of nothing else is no table's settings.
    task_given = settings.pop("task", None) if settings is not None else None
    if task_given is not None and not settings:
        settings = None
    for pair, name in ((data, "data"), (validation, "validation")):
        if pair is not None and (not isinstance(pair, (tuple, list)) or len(pair) != 2):
            fraction = f"a share of data to hold out is overrides={{'data.split.validation': {pair!r}}}, as Keras's " \
                "validation_split" if isinstance(pair, float) and name == "validation" else None
            raise UserError(f"{name}: expected a pair (x, y) of samples and targets, got {type(pair).__name__}",
                            hint=fraction)
        if pair is not None:
            _check_index(*pair, name)
    data, validation = texts_as_table(data, settings), texts_as_table(validation, settings)
    names = table_column_names(data[0])
    if names is not None and validation is not None:
        given = table_column_names(validation[0])
        if given is not None and given != names:
            raise UserError(f"validation: its columns ({', '.join(given[:10])}) are not data's "
                            f"({', '.join(names[:10])}), in that order", hint="select them alike: df[columns]")
    # A table of numbers (or booleans) alone trains as arrays; any other as a table.
    if names is not None and (settings is not None or any(np.asarray(data[0][c]).dtype.kind not in "biuf"
                                                          for c in data[0].columns)):
        return _train_on_table(config, data, validation, settings, task_given, overrides=overrides,
                               run_dir=run_dir, runs_root=runs_root, hooks=hooks, command=command)
    if settings is not None:
        raise UserError(f"data.source: the column settings ({', '.join(settings) or 'none'}) apply to a table with "
                        "named columns (a pandas DataFrame); arrays take none", hint="leave data.source out of the "
                        "config, or pass the samples as a DataFrame")
    probe = as_loaded(config, overrides + source_overrides(Path(DATA_FILE), "classification", validation is not None))
    task = _task(probe, task_given)
    arrays = {**_pair(data, "data", "x", "y", task)}
    width = arrays["y"].shape[1] if arrays["y"].ndim == 2 else 1
    if names is not None:  # a DataFrame's: predict then takes columns by name, in any order
        arrays["feature_names"] = np.array(names, dtype=str)
        refuse_leak(given_names(data[1], width, names), names)
    # Several targets, named (not by pandas' positions): predictions are named by them, evaluate takes y by name.
    if targets := given_names(data[1], width, names or ()) if task == "regression" and width > 1 else None:
        arrays["target_names"] = np.array(targets, dtype=str)
    if validation is not None:
        if targets and given_names(validation[1], width, names or ()) not in ([], targets):
            raise UserError(f"validation: its y columns are not data's ({', '.join(targets)}), in that order",
                            hint="select them alike: y[columns]")
        arrays.update(_pair(validation, "validation", "x_validation", "y_validation", task))
    _check_shapes(arrays)
    _check_targets(arrays["y"], arrays.get("y_validation"), task=task)
    run = RunDir.create(probe.config.name, explicit=run_dir, root=runs_root)
    path = (run.path / DATA_FILE).resolve()
    try:
        files.atomic_write(path, _npz_bytes(arrays))
        settings = overrides + source_overrides(path, task, validation is not None)
        return train(config, overrides=settings, hooks=hooks, command=command, run=run)
    except BaseException:
        run.remove_if_unstarted()
        raise


def _train_on_table(config, data, validation, settings: dict | None, task_given: str | None, *,
                    overrides: list[str], run_dir, runs_root, hooks, command) -> TrainResult:
    """A table with text or category columns, missing values or column settings: saved
    as CSV files and trained as a csv source (see :mod:`.frames`)."""
    target = target_column(data[1], table_column_names(data[0]))
    placeholder = table_source_overrides(Path(DATA_CSV), target, "classification", settings, {}, None)
    probe = as_loaded(config, overrides + placeholder)
    task = _task(probe, task_given)
    as_text, missing = text_columns(settings or {}), markers((settings or {}).get("missing_values") or ())
    pairs = {"data": data, **({"validation": validation} if validation is not None else {})}
    if validation is not None and table_column_names(validation[0]) is None:
        raise UserError("validation: x is an array, but data's is a table with named columns; give validation "
                        "as a table with the same columns", hint="select them alike: df[columns]")
    written = number_format(settings or {})  # thousands and signs; a decimal comma refused
    tables = {name: (Columns(x, name, as_text, missing, written), given_targets(y, name, task))
              for name, (x, y) in pairs.items()}
    for name, (columns, y) in tables.items():
        if len(y) != columns.rows:
            raise UserError(f"{name}: x has {columns.rows} rows but y has {len(y)}; give one target per row",
                            hint=_lined_up(*pairs[name]))
        if not columns.rows:
            raise UserError(f"{name}: x holds no rows")
    y = tables["data"][1]  # several columns: several regression targets, each a column of the saved table
    targets = target_columns(data[1], table_column_names(data[0]), y.shape[1] if y.ndim == 2 else 1)
    if validation is not None and (tables["validation"][1].shape[1:] != y.shape[1:] or len(targets) > 1 and
                                   table_column_names(validation[1]) not in (None, table_column_names(data[1]))):
        raise UserError(f"validation: its y columns are not data's "
                        f"({', '.join(map(str, table_column_names(data[1]) or targets))}), in that order",
                        hint="select them alike: y[columns]")
    filled = filled_settings(tables["data"][0], settings or {}, "data")
    if validation is not None:  # its own text columns and missing values, told as validation's
        filled_settings(tables["validation"][0], settings or {}, "validation")
    _check_targets(*(y for _, y in tables.values()), task=task)
    if (settings or {}).get("missing", "error") != "error":
        for warning in marker_warnings(tables["data"][0], settings):
            (hooks or SilentHooks()).warn(warning)
    run = RunDir.create(probe.config.name, explicit=run_dir, root=runs_root)
    paths = {name: (run.path / (DATA_CSV if name == "data" else VALIDATION_CSV)).resolve() for name in tables}
    try:
        for name, (columns, y) in tables.items():
            files.atomic_write(paths[name], table_bytes(columns, targets, y))
        source = table_source_overrides(paths["data"], targets[0] if len(targets) == 1 else targets, task, settings,
                                        filled, paths.get("validation"))
        split = [Setting("data.split.validation=0", "validation=(x, y)")] if validation is not None else []
        return train(config, overrides=overrides + source + split, hooks=hooks, command=command, run=run)
    except BaseException:
        run.remove_if_unstarted()
        raise


def source_overrides(path: Path, task: str, has_validation: bool) -> list[str]:
    """``--set`` items pointing the config's data source at the saved arrays."""
    source = {"type": "npz", "path": str(path), "task": task}
    settings = [Setting(f"data.source={json.dumps(source)}", "data=(x, y)")]
    return settings + ([Setting("data.split.validation=0", "validation=(x, y)")] if has_validation else [])


def _lined_up(x, y) -> str | None:
    """For pandas x and y of other lengths (rows dropped from one, df.dropna()): how to
    take the other's rows alike."""
    if hasattr(getattr(x, "index", None), "equals") and hasattr(getattr(y, "index", None), "equals"):
        return "select y's rows by x's index: y.loc[x.index] (or drop rows from both at once, before splitting x and y)"
    return None


def _check_index(x, y, name: str) -> None:
    """pandas x and y pair their rows by position, as NumPy arrays do: refused where their
    indexes differ (y shuffled, sorted or filtered apart from x), which would otherwise
    train on labels that belong to other rows, with no word of it."""
    x_index, y_index = getattr(x, "index", None), getattr(y, "index", None)  # a list's index is its method
    if not hasattr(x_index, "equals") or not hasattr(y_index, "equals") or len(x_index) != len(y_index) or \
            x_index.equals(y_index):  # (lengths that differ are told as such)
        return
    what = "the same labels in another order" if set(x_index) == set(y_index) else "other labels"
    raise UserError(f"{name}: x and y have different indexes ({what}); nnrun pairs their rows by position, so "
                    "the targets would belong to other samples",
                    hint="line y up with x: y = y.loc[x.index] (or y.reindex(x.index)), or reset both with "
                    ".reset_index(drop=True) if their positions already match")


def _task(probe, given: str | None) -> str:
    """The task of data in memory: the loss's; a data.source.task that says otherwise is refused."""
    task = probe.config.loss.task
    if given is not None and given != task:
        raise UserError(f"data.source.task: {given}, but the loss {probe.config.loss.type} trains a {task}",
                        hint="the task of data in memory follows the loss: leave data.source.task out, or choose "
                        f"a {given} loss")
    return task


def _pair(value, name: str, x_name: str, y_name: str, task: str) -> dict[str, np.ndarray]:
    """``(x, y)`` as NumPy arrays of one length; x numeric."""
    x = samples_array(value[0], name)
    y = given_targets(value[1], name, task)
    if x.ndim < 2 or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        one = x.ndim == 1 and np.issubdtype(x.dtype, np.number)  # one feature, without the features' axis
        texts = x.ndim == 1 and x.dtype.kind in "UO"
        series = "x.to_frame()" if hasattr(value[0], "to_frame") else "x.reshape(-1, 1)"
        raise UserError(f"{name}: x must be a real numeric array of shape (samples, features...), got {x.dtype} "
                        f"of shape {x.shape}", hint=f"for one feature per sample, {series} (of a DataFrame: "
                        "df[['column']])" if one else "texts train with a text block in the config, data: {source: "
                        "{text: {column: text}}}, which names their column" if texts else "a table with text or "
                        "category columns trains as a pandas DataFrame, its columns named, or from a CSV file: data: "
                        "{source: {type: csv, ...}}")
    if len(x) != len(y):
        raise UserError(f"{name}: x has {len(x)} samples but y has {len(y)}; give one target per sample",
                        hint=_lined_up(*value))
    if not len(x):
        raise UserError(f"{name}: x holds no samples (shape {x.shape})")
    with np.errstate(over="ignore"):  # a value beyond float32 is infinite in training, and refused as one
        finite = np.isfinite(x.astype(np.float32))
    if not finite.all():
        bad, names = np.flatnonzero(~finite.reshape(len(x), -1).all(axis=1)), table_column_names(value[0])
        where = f", in {len(bad)} sample{'s' * (len(bad) != 1)} ({listed_samples(bad)}, counted from 0)"
        if names is not None:  # a DataFrame's columns, by name
            counts = (~finite).sum(axis=0)
            where += " in column " + ", ".join(f"'{n}' ({c} row{'s' if c != 1 else ''})"
                                               for n, c in zip(names, counts.tolist()) if c)
        raise UserError(f"{name}: x holds NaN, infinity or a number beyond float32's range, 3.4e38{where}",
                        hint="fill or drop those samples" + (
            "; for a DataFrame, data: {source: {missing: mean}} in the config fills them" if names else ""))
    return {x_name: x, y_name: y}


def _raw_source(config, overrides: list[str]) -> dict | None:
    """The ``data.source`` mapping a YAML file or dict names (with its overrides), else
    None. A Config always has one (the field is required), so there the arrays take its
    place as they always did; a file or dict that cannot be read is left to the config's
    own checks, which say what is wrong with it."""
    if isinstance(config, Config):
        return None
    if isinstance(config, (str, Path)):
        config = read_yaml(Path(config))[0]
    if not isinstance(config, dict):
        return None
    raw = copy.deepcopy(config)
    apply_overrides(raw, overrides)
    section = raw.get("data")
    source = section.get("source") if isinstance(section, dict) else None
    return None if source is None else source if isinstance(source, dict) else {"type": source}


def _check_shapes(arrays: dict[str, np.ndarray]) -> None:
    """Validation arrays shaped like the training arrays."""
    if "x_validation" not in arrays:
        return
    for what, key in (("samples", "x"), ("targets", "y")):
        given, trained = arrays[f"{key}_validation"].shape[1:], arrays[key].shape[1:]
        if given != trained:
            raise UserError(f"validation: {what} of shape {given}, but the training {what} are {trained}")


def _check_targets(y: np.ndarray, y_validation: np.ndarray | None = None, *, task: str) -> None:
    """Targets the task can use, and validation classes the training targets hold: the
    checks a source makes when it reads them, made on the arrays as given."""
    classes = _classes(y, task, "data")
    if y_validation is None:
        return
    unknown = [c for c in _classes(y_validation, task, "validation") if c not in classes]
    if unknown:
        raise UserError(f"validation: class {', '.join(map(repr, unknown))} is not in the training targets "
                        f"({', '.join(classes[:20])}{', ...' if len(classes) > 20 else ''}); the model learns only "
                        "the classes it trains on", hint="fix those labels, or add samples of them to data=(x, y)")


def _classes(y: np.ndarray, task: str, name: str) -> list[str]:
    """The class names of ``y`` (none for a regression, whose values must be numbers)."""
    try:
        if task == "regression":
            check_regression_target(y, name)
            return []
        labels = class_labels(y, name)
        if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows: the width says how many classes
            return [str(i) for i in range(y.shape[1])]
        return label_classes(labels, origin=name)[1]
    except (MultiLabel, SoftLabels):  # what they are, whatever the loss
        raise
    except UserError as error:  # the source's hints name data.source.task; for arrays the loss decides
        other = "a classification loss such as categorical_crossentropy" if task == "regression" else \
            "a regression loss such as mse"
        raise UserError(error.message, hint=f"the task of arrays follows the loss: {other} trains on them "
                        f"as {'class labels' if task == 'regression' else 'numbers'}") from None


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
