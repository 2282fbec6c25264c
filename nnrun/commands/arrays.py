"""Training from arrays in memory: ``nnrun.train(config, data=(x, y), validation=(x, y))``.

The arrays are saved into the new run directory as ``data.npz`` (atomically, no
pickle), and the config's ``data.source`` becomes ``{type: npz, path: <run>/data.npz}``.
The run is then an ordinary run directory: its ``config.yaml`` retrains it, and
``nnrun evaluate`` rebuilds its splits, from files alone. ``data.split`` applies to
``data`` as to any source; ``validation`` takes the place of ``data.split.validation``.
The task (classification or regression) follows the config's loss.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np

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
    if validation is not None:
        arrays.update(_pair(validation, "validation", "x_validation", "y_validation"))
    overrides = list(overrides)
    probe = as_loaded(config, overrides + source_overrides(Path(DATA_FILE), "classification", validation is not None))
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
    x, y = np.asarray(value[0]), np.asarray(value[1])
    if x.ndim < 2 or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise UserError(f"{name}: x must be a real numeric array of shape (samples, features...), got {x.dtype} "
                        f"of shape {x.shape}", hint="a table with text or category columns trains from a CSV "
                        "file: data: {source: {type: csv, path: ..., target: ...}}")
    if y.dtype == object:
        y = y.astype(str)  # labels from a list or a pandas Series; object arrays are never saved
    if len(x) != len(y):
        raise UserError(f"{name}: x has {len(x)} samples but y has {len(y)}; give one target per sample")
    return {x_name: x, y_name: y}


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _remove_if_unused(run: RunDir) -> None:
    """A run that failed before training began leaves no folder behind (only its data)."""
    if {p.name for p in run.path.iterdir()} <= {DATA_FILE}:
        shutil.rmtree(run.path, ignore_errors=True)
