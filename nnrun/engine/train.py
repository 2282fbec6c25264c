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
from nnrun.engine.guards import SignalWatch
from nnrun.engine.hooks import SilentHooks, TrainingHooks
from nnrun.engine.loop import fit
from nnrun.engine.record import RunRecord
from nnrun.engine.sharding import WholeBatch
from nnrun.engine.threads import ThreadWatch, blas_threads, run_threads, set_blas_threads, watch_threads
from nnrun.errors import RunWriteFailed, free_space_hint
from nnrun.model.rows import row_threads, set_row_threads
from nnrun.store import checkpoints
from nnrun.store.rundir import RunDir


@dataclass(repr=False)
class TrainResult:
    run_dir: Path
    history: list[dict]  # one row per epoch, as in metrics.csv
    final: dict[str, dict[str, float]]  # split -> metrics of the final weights
    best_epoch: int | None
    stopped_early: bool
    seconds: float
    parameters: int = 0

    def __repr__(self) -> str:  # the history is metrics.csv's rows: a count here, not a wall of numbers
        return (f"TrainResult(run_dir={str(self.run_dir)!r}, epochs={len(self.history)}, best_epoch={self.best_epoch}, "
                f"stopped_early={self.stopped_early}, final={self.final!r}, seconds={self.seconds:.2f}, "
                f"parameters={self.parameters})")


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
    # SIGINT and SIGTERM only raise a flag, which the loop reads between batches; after
    # the last epoch they are only noted, through the results printed (see SignalWatch).
    with SignalWatch() as signals:
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
                signals.finishing()
                final = {name: experiment.score(name) for name in experiment.splits} if sharding.writes else {}
            record.complete(experiment.graph, final, fitted.best_epoch, fitted.stopped_early)
        except OSError as exc:  # a run's file could not be written as it trained: the run failed
            signals.finishing()  # from here to the message, as below
            failed = RunWriteFailed(f"could not write {exc.filename or 'a file of the run'}: {exc.strerror or exc}",
                                    hint=free_space_hint(record.path, next(iter(checkpoints.candidates(record.path)),
                                                                           None)))
            record.fail(failed)
            raise failed from None
        except BaseException as exc:
            # The run has stopped: a further Ctrl-C must not cut meta.json short, nor
            # replace the message saying where a resume starts with a bare "interrupted".
            signals.finishing()
            record.fail(exc)
            raise
        finally:
            record.release()
        result = TrainResult(record.path, fitted.history, final, fitted.best_epoch, fitted.stopped_early,
                             time.perf_counter() - started, experiment.graph.parameter_count)
        hooks.finish(result)
        if signals.late:
            hooks.warn(f"{signals.late} arrived after the last epoch; the run had finished training, so it "
                       "completed and its files are whole")
    return result




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
