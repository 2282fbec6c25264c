"""Training a config into a run directory: config -> experiment -> fit -> final scores.

    result = train("configs/iris.yaml")      # writes runs/iris-<time>/

:func:`train` builds the experiment and creates the run directory; :func:`run_experiment` trains
a built experiment into a locked run record (a new run, or a resumed one) and records
how it ended, whatever happens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.engine.experiment import Experiment, as_loaded, build
from nnrun.engine.guards import SignalWatch, fitted_remedy
from nnrun.engine.hooks import SilentHooks, TrainingHooks
from nnrun.engine.loop import fit
from nnrun.engine.record import RunRecord
from nnrun.engine.sharding import WholeBatch
from nnrun.engine.threads import ThreadWatch, blas_threads, run_threads, set_blas_threads, watch_threads
from nnrun.errors import NonFiniteError, RunInterrupted, RunWriteFailed, TrainingFailed, resume_command
from nnrun.store.failures import free_space_hint
from nnrun.model.rows import row_threads, set_row_threads
from nnrun.store import checkpoints
from nnrun.store.history import History, read_metrics
from nnrun.store.rundir import RunDir


@dataclass(repr=False)
class TrainResult:
    run_dir: Path
    history: History  # one row per epoch, as in metrics.csv; history["val_loss"] is a column
    final: dict[str, dict[str, float]]  # split -> metrics of the final weights
    best_epoch: int | None
    stopped_early: bool
    seconds: float
    parameters: int = 0
    stopped_by: str | None = None  # with stopped_early: "early_stopping", or "hook" (a pause a resume goes on from)

    @property
    def epochs(self) -> int:
        """The epochs trained, resumed ones included: the history's rows."""
        return len(self.history)

    def __repr__(self) -> str:  # the history is metrics.csv's rows: a count here, not a wall of numbers
        return (f"TrainResult(run_dir={str(self.run_dir)!r}, epochs={self.epochs}, best_epoch={self.best_epoch}, "
                f"stopped_early={self.stopped_early}{f', stopped_by={self.stopped_by!r}' if self.stopped_by else ''}, "
                f"final={self.final!r}, seconds={self.seconds:.2f}, "
                f"parameters={self.parameters})")


def recorded_result(run_dir) -> TrainResult:
    """A completed run's result as its files recorded it (``nnrun.resume`` and ``train
    --resume --json`` of a run with nothing left to train): no time, as none was spent."""
    run = RunDir(Path(run_dir))
    meta = run.read_meta_or_none() or {}
    return TrainResult(run.path, History(read_metrics(run.metrics)), meta.get("final") or {}, meta.get("best_epoch"),
                       bool(meta.get("stopped_early")), 0.0, int(meta.get("parameters") or 0), meta.get("stopped_by"))


def train(config, *, overrides=(), run_dir=None, runs_root="runs", hooks: TrainingHooks | None = None,
          command: str | None = None, run: RunDir | None = None) -> TrainResult:
    """Train from a config (path, dict or Config) and write a run directory (``run``:
    one created already, holding the data it trains on).

    Returns plain results; raises :class:`~nnrun.errors.UserError` on bad input and
    :class:`~nnrun.errors.TrainingFailed` when training diverges.
    """
    started = time.perf_counter()
    loaded = as_loaded(config, overrides)
    experiment = build(loaded)
    record = RunRecord.create(experiment, run_dir=run_dir, runs_root=runs_root, command=command, run=run)
    return run_experiment(experiment, record, hooks or SilentHooks(), started)


def run_experiment(experiment: Experiment, record: RunRecord, hooks: TrainingHooks, started: float,
                   resume_from: list[Path] | None = None, sharding=None) -> TrainResult:
    """Train a built experiment into its (locked) run record; ``resume_from`` lists
    checkpoints to continue from, newest first (see :mod:`nnrun.engine.resume`);
    ``sharding`` splits the batches over processes (see :mod:`nnrun.engine.sharding`)."""
    sharding = sharding or WholeBatch()
    # SIGINT and SIGTERM only raise a flag, which the loop reads between batches; one
    # that arrives after the last epoch is told once the results are printed.
    with SignalWatch() as signals:
        fitted = None
        try:
            # Overflow shows up as a non-finite loss, which stops training with a clear
            # message; numpy's own warnings would only repeat it less clearly.
            threads = training_threads(experiment, record, sharding)
            # The run's threads multiply matrices (BLAS) and split element-wise work by rows.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), blas_threads(threads), \
                    row_threads(threads):
                watch = thread_watch(experiment, threads, sharding)
                try:
                    fitted = fit(experiment, record, hooks, resume_from, signals, sharding, watch)
                finally:
                    if watch is not None:
                        watch.record(record.meta)
                final = {name: experiment.score(name) for name in experiment.splits} if sharding.writes else {}
            with signals.deferred():
                record.complete(experiment.graph, final, fitted.best_epoch, fitted.stopped_early, fitted.stopped_by)
        except BaseException as exc:
            if isinstance(exc, NonFiniteError):
                fitted_remedy(exc, experiment.config, experiment.splits["train"].task == "regression")
            stopped = _as_told(exc, record, trained=fitted is not None)
            with signals.deferred():  # a further Ctrl-C must not cut meta.json short, nor replace the message
                record.fail(stopped)
            if isinstance(stopped, (TrainingFailed, RunInterrupted)):  # the run is kept: where, for a script to find it
                stopped.run_dir = record.path
            if stopped is exc:
                raise
            raise stopped from exc
        finally:
            record.release()
        result = TrainResult(record.path, History(fitted.history), final, fitted.best_epoch, fitted.stopped_early,
                             time.perf_counter() - started, experiment.graph.parameter_count, fitted.stopped_by)
        hooks.finish(result)
    if signals.received:
        hooks.warn(f"{signals.received} arrived after the last epoch; the run had finished training, so it completed "
                   "and its files are whole")
    return result


def _as_told(exc: BaseException, record: RunRecord, trained: bool) -> BaseException:
    """What a run that stopped records and tells: a failure to write one of its own
    files (a full disk) as a failed run that says which file, and a second Ctrl-C while
    its final weights were scored as an interruption that says how to finish it; any
    other exception as it is."""
    def newest() -> Path | None:
        return next(iter(checkpoints.candidates(record.path)), None)

    if isinstance(exc, OSError) and _inside(exc.filename, record.path):
        return RunWriteFailed(f"could not write {exc.filename}: {exc.strerror or exc}",
                              hint=free_space_hint(record.path, newest()))
    if isinstance(exc, KeyboardInterrupt) and trained:
        saved = newest()
        kept = f"the checkpoint {saved.name} holds its trained weights" if saved else \
            "no checkpoint holds its weights (training.checkpoint is off)"
        return RunInterrupted(
            f"stopped by a second Ctrl-C after the last epoch, as the final weights were scored; {kept}",
            hint=f"resume with: {resume_command(record.path)} (it scores and saves them without "
                 "training again)" if saved else "train it again",
            details={"signal": "SIGINT", "where": "after the last epoch"})
    return exc


def _inside(filename, folder: Path) -> bool:
    """Whether ``filename`` (an OSError's) is one of the files in ``folder``."""
    try:
        return bool(filename) and Path(filename).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, TypeError, ValueError):
        return False


def thread_watch(experiment: Experiment, threads: int, sharding) -> ThreadWatch | None:
    """What keeps an ``auto`` run's threads to the idle cores as it trains, if anything."""
    training, graph = experiment.config.training, experiment.graph

    def apply(count: int) -> None:
        set_blas_threads(count)
        set_row_threads(count)

    return watch_threads(training.threads, threads, sharding.size, graph.trainable.size * training.batch_size, apply)


def training_threads(experiment: Experiment, record, sharding) -> int:
    """The BLAS threads of this run (see :mod:`nnrun.engine.threads`), kept on the record
    so that a resume entry in meta.json names them."""
    setting = experiment.config.training.threads
    threads = record.threads(setting) if hasattr(record, "threads") else run_threads(setting, sharding.size)
    record.training_threads = threads
    return threads
