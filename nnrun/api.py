"""The Python API: what ``import nnrun`` offers a script or a notebook.

    import nnrun
    result = nnrun.train("configs/iris.yaml", overrides={"training.epochs": 30})
    result.run_dir, result.best_epoch, result.final["test"]["accuracy"]

    model = nnrun.load(result.run_dir)
    predictions, probabilities = model.predict(x)
    model.evaluate(x, y).metrics

    result = nnrun.train(config, data=(x, y), validation=(x_val, y_val))   # arrays in memory

These are the CLI's functions without the command line: the same config language, the
same run directory, the same errors (as exceptions: :class:`~nnrun.errors.UserError`
for bad input, :class:`~nnrun.errors.TrainingFailed` when training diverges).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from nnrun.api_calls import from_python, run_path
from nnrun.api_sweep import SweepResult, sweep
from nnrun.commands.arrays import train_on_arrays
from nnrun.commands.evaluate import evaluate as _evaluate
from nnrun.commands.loaded import TrainedModel
from nnrun.commands.model_results import Evaluation, Prediction
from nnrun.config import Config
from nnrun.engine.hooks import QuietHooks, TrainingHooks, as_hooks
from nnrun.engine.train import TrainResult, recorded_result
from nnrun.engine.train import train as _train

__all__ = ["Config", "Evaluation", "Prediction", "SweepResult", "TrainResult", "TrainedModel", "evaluate", "load",
           "resume", "sweep", "train"]


@from_python
def train(config, *, data=None, validation=None, overrides=(), run_dir=None, runs_root="runs",
          quiet: bool = True, hooks: TrainingHooks | None = None, command: str | None = None) -> TrainResult:
    """Train from a config (a YAML path, a dict or a Config) and write a run directory.

    ``data=(x, y)`` trains on arrays in memory instead of the config's data source, and
    ``validation=(x, y)`` validates on them (see :mod:`nnrun.commands.arrays`).
    ``overrides`` is a dict of dotted keys (``{"training.epochs": 3}``) or a list of
    ``"key=value"`` texts, as ``--set`` takes. ``quiet=False`` shows progress as
    ``nnrun train`` does; ``hooks`` (see :mod:`nnrun.engine.hooks`) sees every epoch
    instead, and may stop training (``should_stop``); it needs only the hooks it uses.

    The result names its fields: ``run_dir``, ``history`` (metrics.csv's rows),
    ``final`` (metrics per split of the final weights), ``best_epoch`` (early stopping's
    choice, else the epoch of the best validation loss, as ``nnrun train`` reports it),
    ``stopped_early``, ``seconds``, ``parameters``.
    """
    _one_process("nnrun.train")
    _check_options(quiet=quiet, run_dir=run_dir, runs_root=runs_root)
    settings = as_settings(overrides)
    with _progress(quiet, hooks) as hooks, _interrupts():
        if data is not None:
            return train_on_arrays(config, data, validation, overrides=settings, run_dir=run_dir,
                                   runs_root=runs_root, hooks=hooks, command=command)
        if validation is not None:
            from nnrun.errors import UserError

            raise UserError("validation: given without data; pass data=(x, y) too, or set data.split.validation")
        return _train(config, overrides=settings, run_dir=run_dir, runs_root=runs_root, hooks=hooks,
                      command=command)


@from_python
def resume(run_dir: str | Path, *, overrides=(), quiet: bool = True, hooks: TrainingHooks | None = None,
           command: str | None = None) -> TrainResult:
    """Continue an interrupted or killed run in place from its newest valid checkpoint,
    as ``nnrun train --resume RUN_DIR`` does, to the same weights an unbroken run ends
    with. ``overrides`` may raise ``training.epochs`` to train a completed run further;
    any other change to the config is refused. ``quiet`` and ``hooks`` as for ``train``.
    A run that completed already is returned as it was recorded, with a note on standard
    error (as the command's exit 0 says it), so a notebook's cell may run again."""
    from nnrun.engine.resume import resume_training
    from nnrun.errors import AlreadyDone

    _one_process("nnrun.resume")
    _check_options(quiet=quiet)
    settings = as_settings(overrides)
    path = run_path(run_dir, "run_dir")
    with _progress(quiet, hooks) as hooks, _interrupts():
        try:
            return resume_training(path, overrides=settings, hooks=hooks, command=command)
        except AlreadyDone as done:
            print(f"note: {done.render()}", file=sys.stderr)
            return recorded_result(path)


def _check_options(quiet, run_dir=None, runs_root="runs") -> None:
    """The keyword options of the right types, or a clear error (not a TypeError deep
    inside, nor "no" taken as true)."""
    from nnrun.errors import UserError

    boolean = isinstance(quiet, (bool, int)) or getattr(getattr(quiet, "dtype", None), "kind", "") == "b"  # np.bool_
    if not boolean or quiet not in (True, False):
        raise UserError(f"quiet: expected True or False, got {quiet!r}")
    for name, value in (("run_dir", run_dir), ("runs_root", runs_root)):
        if (value is not None or name == "runs_root") and not isinstance(value, (str, os.PathLike)):
            raise UserError(f"{name}: expected the path of a folder, got {type(value).__name__}",
                            hint=f"{name}=\"runs/my-run\"" if name == "run_dir" else f"{name}=\"runs\"")


def _one_process(name: str) -> None:
    from nnrun.engine.distributed import refuse_launcher

    refuse_launcher(name, "train a run of its own (from Python, nnrun trains in one process)",
                    hint="for one run over several processes: mpiexec -n N nnrun train CONFIG")


@contextmanager
def _interrupts():
    """Ctrl-C or SIGTERM, which stopped the run after a checkpoint, reaches the caller as
    a KeyboardInterrupt (:class:`nnrun.errors.Interrupted`), as in any Python code."""
    from nnrun.errors import Interrupted, RunInterrupted

    try:
        yield
    except RunInterrupted as exc:
        raise Interrupted(exc) from None


@contextmanager
def _progress(quiet: bool, hooks):
    """The hooks training reports to: the caller's, progress as ``nnrun train`` shows it
    (``quiet=False``), both, or neither (the data's warnings still reach stderr; an empty
    list is no hooks, as an empty list of Keras callbacks is none)."""
    if isinstance(hooks, (list, tuple)) and not hooks:
        hooks = None
    if hooks is not None:
        given = as_hooks(hooks)
        if not quiet:  # the caller's stopping rule, say, and the progress beside it
            from nnrun.console.progress import make_display
            from nnrun.engine.hooks import AlongsideHooks

            given = AlongsideHooks(make_display(quiet=False), given)
        try:
            yield given
        finally:
            given.close()  # always last, whether training finished or failed, as the hooks promise
        return
    if quiet:
        yield QuietHooks()
        return
    from nnrun.console.progress import make_display

    display = make_display(quiet=False)
    try:
        yield display
    finally:
        display.close()


@from_python
def load(run_dir: str | Path) -> TrainedModel:
    """A trained run, ready to ``predict`` and ``evaluate`` (see :class:`TrainedModel`).
    An interrupted or killed run loads the weights of its newest valid checkpoint and
    says so in ``weights_note``."""
    return TrainedModel.load(run_path(run_dir, "run_dir"))


@from_python
def evaluate(run_dir: str | Path, split: str = "test", data: str | Path | None = None, force: bool = False, *,
             delimiter: str | None = None, decimal: str | None = None, encoding: str | None = None,
             thousands: str | None = None, unknown: str | None = None, threshold: float | None = None) -> dict:
    """Score a run directory's weights on a split, or on a labelled file ``data``; the
    report is also written to ``eval-<split or file stem>.json`` (``report["written"]``;
    at a ``threshold``, of two classes the probability above which the second is
    predicted, ``eval-<...>-threshold-<t>.json``).
    ``delimiter``, ``decimal``, ``encoding`` and ``thousands`` read a CSV ``data``
    written otherwise than the run's training files, and ``unknown`` ("ignore" or
    "error") treats its categories training never saw, as ``nnrun evaluate --data`` takes
    them. Arrays in memory are scored by ``nnrun.load(run_dir).evaluate(x, y)``, which
    has no file to name a report after."""
    run_dir = run_path(run_dir, "run_dir")
    if not isinstance(split, str):
        from nnrun.errors import UserError

        raise UserError(f"split: expected the name of a split (train, validation or test), got {split!r}")
    if data is not None and not isinstance(data, (str, os.PathLike)):
        from nnrun.errors import UserError

        raise UserError(f"data: expected the path of a labelled CSV or NPZ file, got {type(data).__name__}",
                        hint="score arrays in memory with nnrun.load(run_dir).evaluate(x, y)")
    from nnrun.commands.file_format import file_format

    written = file_format(delimiter, decimal, encoding, thousands)
    if data is not None and split != "test":
        from nnrun.errors import UserError

        raise UserError(f"split: '{split}' and data were both given; a file given as data is scored on its own "
                        "rows: give one of the two")
    if (written or unknown is not None) and data is None:
        from nnrun.errors import UserError

        raise UserError("delimiter, decimal, encoding, thousands and unknown say how a file given as data is read; a "
                        "split is read as training read it")
    return _evaluate(run_dir, split, data, force, written, unknown, named="unknown", threshold=threshold,
                     threshold_named="threshold")


def as_settings(overrides) -> list[str]:
    """``{"training.epochs": 3}`` -> ``["training.epochs=3"]``; values are written as
    JSON, which YAML reads back as the same value. A list is taken as it is. Messages
    name each as the ``overrides`` it came from, not as a ``--set`` option."""
    from nnrun.config.overrides import Setting

    if overrides is None:
        return []
    if not isinstance(overrides, (dict, str, list, tuple)):
        from nnrun.errors import UserError

        raise UserError(f"overrides: expected a dict of dotted keys or a list of 'key.path=value' texts, got "
                        f"{type(overrides).__name__}", hint="e.g. overrides={'training.epochs': 5}")
    if isinstance(overrides, dict):
        return [Setting(f"{key}={_as_json(key, value)}", f"overrides[{key!r}]") for key, value in overrides.items()]
    items = [overrides] if isinstance(overrides, str) else list(overrides)
    for item in items:
        if not isinstance(item, str):
            from nnrun.errors import UserError

            raise UserError(f"overrides: {item!r} is not a 'key.path=value' text",
                            hint="pass a dict of dotted keys, e.g. overrides={'training.epochs': 5}, or a list "
                                 "of texts, e.g. ['training.epochs=5']")
    return [Setting(item, f"overrides {item!r}") if type(item) is str else item for item in items]


def _as_json(key, value) -> str:
    """A setting's value as JSON, which YAML reads back as the same value; NumPy scalars
    and paths inside lists and dicts too."""
    try:
        return json.dumps(_plain(value), default=_plain_or_refused)
    except (TypeError, ValueError):
        from nnrun.errors import UserError

        raise UserError(f"overrides[{key!r}]: {type(value).__name__} is not a setting",
                        hint="a setting is a number, text, true/false, None, or a list or dict of them") from None


def _plain_or_refused(value):
    plain = _plain(value)
    if plain is value:
        raise TypeError(type(value).__name__)
    return plain


def _plain(value):
    """NumPy scalars and paths as the JSON values they stand for; arrays are data."""
    if getattr(value, "ndim", 0):
        from nnrun.errors import UserError

        raise UserError("overrides: an array is data, not a setting; pass arrays as data=(x, y)")
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value
