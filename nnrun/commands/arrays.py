"""Training from arrays in memory: ``nnrun.train(config, data=(x, y), validation=(x, y))``.

The arrays are saved into the new run directory as ``data.npz`` (atomically, no
pickle), and the config's ``data.source`` becomes ``{type: npz, path: <run>/data.npz}``.
The run is then an ordinary run directory: its ``config.yaml`` retrains it, and
``nnrun evaluate`` rebuilds its splits, from files alone. ``data.split`` applies to
``data`` as to any source; ``validation`` takes the place of ``data.split.validation``.
The task (classification or regression) follows the config's loss. A config that
names its own ``data.source`` is refused: which of the two to train on is the user's
choice, not a silent one.

The arrays are checked here, as given, before the run directory is made: a message
names ``data`` or ``validation``, never the run's internal ``data.npz`` or the
``data.source`` setting that points at it.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
from pathlib import Path

import numpy as np

from nnrun.config import Config
from nnrun.config.loader import apply_overrides, read_yaml
from nnrun.data.base import check_regression_target, label_classes
from nnrun.data.files import class_labels
from nnrun.engine.experiment import as_loaded
from nnrun.engine.hooks import TrainingHooks
from nnrun.engine.train import TrainResult, train
from nnrun.errors import UserError
from nnrun.store import files
from nnrun.store.rundir import RunDir

DATA_FILE = "data.npz"


def train_on_arrays(config, data, validation=None, *, overrides=(), run_dir=None, runs_root="runs",
                    hooks: TrainingHooks | None = None, command: str | None = None) -> TrainResult:
    """Train ``config`` on ``data = (x, y)`` (and ``validation = (x, y)``); see the module."""
    arrays = {**_pair(data, "data", "x", "y")}
    names = _column_names(data[0])
    if names is not None:  # a DataFrame's: predict then takes columns by name, in any order
        arrays["feature_names"] = np.array(names, dtype=str)
    if validation is not None:
        arrays.update(_pair(validation, "validation", "x_validation", "y_validation"))
        given = _column_names(validation[0])
        if given is not None and names is not None and given != names:
            raise UserError(f"validation: its columns ({', '.join(given[:10])}) are not data's "
                            f"({', '.join(names[:10])}), in that order", hint="select them alike: df[columns]")
    overrides = list(overrides)
    if _names_a_source(config, overrides):
        raise UserError("data: given beside the config's own data.source; give either data=(x, y) or "
                        "data.source, not both", hint="leave data.source out of the config to train on the "
                        "arrays, or leave out data= to train on the source")
    probe = as_loaded(config, overrides + source_overrides(Path(DATA_FILE), "classification", validation is not None))
    _check_targets(arrays, probe.config.loss.task)
    run = RunDir.create(probe.config.name, explicit=run_dir, root=runs_root)
    path = (run.path / DATA_FILE).resolve()
    try:
        files.atomic_write(path, _npz_bytes(arrays))
        settings = overrides + source_overrides(path, probe.config.loss.task, validation is not None)
        return train(config, overrides=settings, hooks=hooks, command=command, run=run)
    except BaseException:
        _remove_if_unused(run)
        raise


def source_overrides(path: Path, task: str, has_validation: bool) -> list[str]:
    """``--set`` items pointing the config's data source at the saved arrays."""
    source = {"type": "npz", "path": str(path), "task": task}
    settings = [f"data.source={json.dumps(source)}"]
    return settings + (["data.split.validation=0"] if has_validation else [])


def _pair(value, name: str, x_name: str, y_name: str) -> dict[str, np.ndarray]:
    """``(x, y)`` as NumPy arrays of one length; x numeric."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise UserError(f"{name}: expected a pair (x, y) of samples and targets, got {type(value).__name__}")
    x, y = _frame_values(value[0], name) if _column_names(value[0]) is not None else np.asarray(value[0]), \
        np.asarray(value[1])
    if x.ndim < 2 or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise UserError(f"{name}: x must be a real numeric array of shape (samples, features...), got {x.dtype} "
                        f"of shape {x.shape}", hint="a table with text or category columns trains from a CSV "
                        "file: data: {source: {type: csv, path: ..., target: ...}}")
    if y.dtype == object:
        y = y.astype(str)  # labels from a list or a pandas Series; object arrays are never saved
    if len(x) != len(y):
        raise UserError(f"{name}: x has {len(x)} samples but y has {len(y)}; give one target per sample")
    with np.errstate(over="ignore"):  # a value beyond float32 is infinite in training, and refused as one
        finite = np.isfinite(x.astype(np.float32))
    if not finite.all():
        where = ""
        names = _column_names(value[0])
        if names is not None:  # a DataFrame's columns, by name
            bad = ~finite.all(axis=0)
            where = " in column " + ", ".join(f"'{n}' ({int((~finite[:, j]).sum())} rows)"
                                              for j, n in enumerate(names) if bad[j])
        raise UserError(f"{name}: x holds NaN or infinite values{where}", hint="fill or drop those samples")
    return {x_name: x, y_name: y}


def _frame_values(frame, name: str) -> np.ndarray:
    """A DataFrame's columns as one float64 array (booleans as 0 and 1); columns of text
    are named in the error."""
    columns, text = [], []
    for column in frame.columns:
        values = np.asarray(frame[column])
        if values.dtype == bool:
            values = values.astype(np.float64)
        if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
            text.append(f"'{column}' ({values.dtype})")
        columns.append(values)
    if text:
        raise UserError(f"{name}: x's column{'s' if len(text) > 1 else ''} {', '.join(text)} "
                        f"hold{'' if len(text) > 1 else 's'} values that are not numbers", hint="a table with text or "
                        "category columns trains from a CSV file: data: {source: {type: csv, path: ..., target: ...}}")
    return np.column_stack(columns) if columns else np.empty((len(frame), 0))


def _column_names(x) -> list[str] | None:
    """The column names of a DataFrame (or alike) of samples, as text; None for an array."""
    columns = getattr(x, "columns", None)
    if columns is None or isinstance(x, np.ndarray):
        return None
    names = [str(c) for c in columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(f"data: the columns {', '.join(map(repr, repeated))} appear more than once; name each once")
    return names


def _names_a_source(config, overrides: list[str]) -> bool:
    """Whether the config (with its overrides) names a ``data.source`` of its own. A
    Config always has one (the field is required), so there the arrays take its place
    as they always did; a file or dict that cannot be read is left to the config's own
    checks, which say what is wrong with it."""
    if isinstance(config, Config):
        return False
    if isinstance(config, (str, Path)):
        config = read_yaml(Path(config))[0]
    if not isinstance(config, dict):
        return False
    raw = copy.deepcopy(config)
    apply_overrides(raw, overrides)
    section = raw.get("data")
    return isinstance(section, dict) and section.get("source") is not None


def _check_targets(arrays: dict[str, np.ndarray], task: str) -> None:
    """Validation arrays shaped like the training arrays, and targets the task can use:
    the checks the npz source makes when it reads them, made on the arrays as given."""
    classes = _classes(arrays["y"], task, "data")
    if "x_validation" not in arrays:
        return
    for what, key in (("samples", "x"), ("targets", "y")):
        given, trained = arrays[f"{key}_validation"].shape[1:], arrays[key].shape[1:]
        if given != trained:
            raise UserError(f"validation: {what} of shape {given}, but the training {what} are {trained}")
    unknown = [c for c in _classes(arrays["y_validation"], task, "validation") if c not in classes]
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
    except UserError as error:  # the source's hints name data.source.task; for arrays the loss decides
        other = "a classification loss such as categorical_crossentropy" if task == "regression" else \
            "a regression loss such as mse"
        raise UserError(error.message, hint=f"the task of arrays follows the loss: {other} trains on them "
                        f"as {'class labels' if task == 'regression' else 'numbers'}") from None


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _remove_if_unused(run: RunDir) -> None:
    """A run that failed before training began leaves no folder behind (only its data)."""
    if {p.name for p in run.path.iterdir()} <= {DATA_FILE}:
        shutil.rmtree(run.path, ignore_errors=True)
