"""Training: config -> experiment -> epochs of mini-batches -> run directory.

    result = train("configs/iris.yaml")

The loop keeps Python work per batch small: the batch is gathered into a reused
buffer, the loss returns its gradient in the same pass, the optimizer updates one
flat buffer, and progress is redrawn at a bounded rate by the reporter.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.store.checkpoints import Progress, loop_components
from nnrun.data import Dataset
from nnrun.errors import UserError
from nnrun.commands.evaluate import evaluate_split
from nnrun.engine.experiment import Experiment, as_loaded, build
from nnrun.engine.guards import SignalWatch, check_finite
from nnrun.model.metrics import higher_is_better
from nnrun.engine.checkpointing import Checkpointer
from nnrun.console.progress import Reporter, make_reporter
from nnrun.engine.record import RunRecord
from nnrun.model.schedules import Constant as ConstantSchedule
from nnrun.seeding import stream


@dataclass
class TrainResult:
    run_dir: Path
    history: list[dict]  # one row per epoch, as in metrics.csv
    final: dict[str, dict[str, float]]  # split -> metrics of the final weights
    best_epoch: int | None
    stopped_early: bool
    seconds: float
    parameters: int = 0


def train(config, *, overrides=(), run_dir=None, runs_root="runs", quiet=True, reporter: Reporter | None = None,
          command: str | None = None) -> TrainResult:
    """Train from a config (path, dict or Config) and write a run directory.

    Returns plain results; raises :class:`~nnrun.errors.UserError` on bad input and
    :class:`~nnrun.errors.TrainingFailed` when training diverges.
    """
    started = time.perf_counter()
    loaded = as_loaded(config, overrides)
    experiment = build(loaded)
    record = RunRecord.create(experiment, run_dir=run_dir, runs_root=runs_root, command=command)
    return run(experiment, record, reporter or make_reporter(quiet=quiet), started)


def run(experiment: Experiment, record: RunRecord, reporter: Reporter, started: float,
        resume_from: list[Path] | None = None) -> TrainResult:
    """Train a built experiment into its (locked) run record; ``resume_from`` lists
    checkpoints to continue from, newest first (see :mod:`nnrun.engine.resume`)."""
    try:
        # Overflow shows up as a non-finite loss, which stops training with a clear
        # message; numpy's own warnings would only repeat it less clearly.
        # SIGINT and SIGTERM only raise a flag, which the loop reads between batches.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"), SignalWatch() as signals:
            history, best_epoch, stopped = fit(experiment, record, reporter, resume_from, signals)
        final = {name: evaluate_split(experiment.graph, experiment.config, part)
                 for name, part in experiment.splits.items()}
        record.complete(experiment.graph, final, best_epoch, stopped)
    except BaseException as exc:
        record.fail(exc)
        raise
    finally:
        record.release()
    result = TrainResult(record.path, history, final, best_epoch, stopped, time.perf_counter() - started,
                         experiment.graph.parameter_count)
    reporter.finish(result)
    return result


def fit(experiment: Experiment, record: RunRecord, reporter: Reporter, resume_from: list[Path] | None = None,
        signals: SignalWatch | None = None) -> tuple[list[dict], int | None, bool]:
    """Epochs until the last or until early stopping; returns (history, best epoch,
    stopped early). Checkpoints after every epoch make any point resumable."""
    loop = Loop(experiment, record, reporter, signals or SignalWatch())
    loop.keeper.begin(resume_from)
    reporter.start(experiment, record.path)  # after a resumed run has found its checkpoint
    if resume_from is not None:
        reporter.resumed(loop.progress.epoch, loop.keeper.saved)
    stopper, epochs = loop.stopper, experiment.config.training.epochs
    for epoch in range(loop.progress.epoch + 1, epochs + 1):
        if stopper and stopper.stopped:  # resumed after the epoch that stopped it
            break
        row = loop.epoch(epoch)
        stop = bool(stopper and stopper.update(epoch, row))
        loop.keeper.epoch_end(epoch, loop.batches.count)
        if loop.signals.received:
            raise loop.keeper.interrupted(loop.signals.received, f"after epoch {epoch}")
        if stop:
            break
    if stopper:
        stopper.restore()
    return loop.progress.history, (stopper.best_epoch if stopper else None), bool(stopper and stopper.stopped)


class Loop:
    """Everything one training run carries from batch to batch, and what it checkpoints:
    weights (in the graph), optimizer slots, schedule state, random streams, progress."""

    def __init__(self, experiment: Experiment, record: RunRecord, reporter: Reporter, signals: SignalWatch):
        config, graph = experiment.config, experiment.graph
        self.experiment, self.config, self.graph = experiment, config, graph
        self.reporter, self.signals, self.record = reporter, signals, record
        training = config.training
        self.slots = config.optimizer.slots(graph.trainable.size, graph.dtype)
        self.schedule = training.schedule or ConstantSchedule()
        self.schedule_state = self.schedule.start(config.optimizer.learning_rate)
        self.stopper = EarlyStopper(training.early_stopping, graph) if training.early_stopping else None
        self.shuffle_rng, self.dropout_rng = stream(config.seed, "shuffle"), stream(config.seed, "dropout")
        self.batches = Batches(experiment.splits["train"], training.batch_size,
                               graph.output_shape if config.metrics else None)
        self.progress = Progress()
        self.keeper = Checkpointer(record, experiment, loop_components(
            graph, self.slots, self.progress, self.stopper, self.schedule_state,
            shuffle=self.shuffle_rng, dropout=self.dropout_rng))

    def epoch(self, epoch: int) -> dict:
        """Train one epoch, score it, record it; returns its metrics.csv row."""
        started = time.perf_counter()
        config, training = self.config, self.config.training
        lr = self.schedule.rate(self.schedule_state, epoch, training.epochs)
        size = len(self.batches.data)
        order = self.shuffle_rng.permutation(size) if training.shuffle else np.arange(size)
        self.reporter.epoch_start(epoch, training.epochs, self.batches.count)
        row = {"epoch": epoch, "loss": self._batches(epoch, order, lr) / size}
        row.update(self.batches.epoch_metrics(config, self.graph, order))
        if "validation" in self.experiment.splits:
            scores = evaluate_split(self.graph, config, self.experiment.splits["validation"])
            row.update({f"val_{k}": v for k, v in scores.items()})
        row["lr"] = lr
        row["seconds"] = time.perf_counter() - started
        self.progress.history.append(row)
        self.record.append_metrics(row)
        self.reporter.epoch_end(row)
        self.schedule.observe(self.schedule_state, row)
        return row

    def _batches(self, epoch: int, order: np.ndarray, lr: float) -> float:
        """The gradient steps of one epoch; returns the sum of the batch losses times
        their sizes. This is the hot path: nothing here is per parameter."""
        graph, loss, optimizer = self.graph, self.config.loss, self.config.optimizer
        from_logits = graph.output_activation is not None
        loss_sum = 0.0
        for index, (x, y, out_slot) in enumerate(self.batches.iterate(order)):
            if self.signals.received:
                raise self.keeper.interrupted(self.signals.received, f"in epoch {epoch}, batch {index + 1}")
            out, tape = graph.forward(x, True, self.dropout_rng)
            value, d_out = loss(out, y, from_logits)
            graph.backward(tape, d_out)
            value += graph.add_penalties()
            check_finite(value, graph.grad_buffer, epoch, index + 1)
            self.progress.step += 1
            optimizer.step(graph.trainable, graph.grad_buffer, self.slots, lr, self.progress.step)
            loss_sum += value * len(x)
            if out_slot is not None:
                out_slot[...] = out
            self.reporter.batch(index + 1, value)
        return loss_sum


class Batches:
    """Mini-batches gathered into reused buffers, plus the epoch's outputs in the
    shuffled order so training metrics are computed once per epoch on every sample."""

    def __init__(self, data: Dataset, batch_size: int, output_shape: tuple | None):
        self.data = data
        self.size = min(batch_size, len(data))
        self.count = math.ceil(len(data) / self.size)
        self.x_buffer = np.empty((self.size, *data.x.shape[1:]), data.x.dtype)
        self.y_buffer = np.empty((self.size, *data.y.shape[1:]), data.y.dtype)
        self.outputs = np.empty((len(data), *output_shape), data.x.dtype) if output_shape else None

    def iterate(self, order: np.ndarray):
        for start in range(0, len(order), self.size):
            indices = order[start : start + self.size]
            n = len(indices)
            x = np.take(self.data.x, indices, axis=0, out=self.x_buffer[:n], mode="clip")
            y = np.take(self.data.y, indices, axis=0, out=self.y_buffer[:n], mode="clip")
            yield x, y, (self.outputs[start : start + n] if self.outputs is not None else None)

    def epoch_metrics(self, config, graph, order: np.ndarray) -> dict[str, float]:
        from nnrun.model.metrics import METRICS

        if self.outputs is None:
            return {}
        probs = graph.activate(self.outputs)
        target = self.data.y[order]
        return {name: METRICS[name].fn(target, probs) for name in config.metrics}


class EarlyStopper:
    """Stops when the monitored quantity has not improved by ``min_delta`` for
    ``patience`` epochs; keeps a copy of the best weights to restore."""

    def __init__(self, settings, graph):
        self.settings, self.graph = settings, graph
        self.sign = -1.0 if higher_is_better(settings.monitor) else 1.0
        self.best = math.inf
        self.best_epoch: int | None = None
        self.best_weights = None
        self.wait = 0
        self.stopped = False

    def update(self, epoch: int, row: dict) -> bool:
        value = self.sign * row[self.settings.monitor]
        if value < self.best - self.settings.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.settings.restore_best:
                self.best_weights = self.graph.weight_buffer.copy()
            return False
        self.wait += 1
        self.stopped = self.wait >= max(self.settings.patience, 1)
        return self.stopped

    def restore(self) -> None:
        if self.settings.restore_best and self.best_weights is not None:
            np.copyto(self.graph.weight_buffer, self.best_weights)

    def checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict]:
        """For checkpoints (see :mod:`nnrun.store.checkpoints`): best weights and counters."""
        arrays = {"best_weights": self.best_weights} if self.best_weights is not None else {}
        return arrays, {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait, "stopped": self.stopped}

    def restore_state(self, arrays: dict[str, np.ndarray], info: dict, origin) -> None:
        from nnrun.store.tensorfile import check_like

        if arrays:
            check_like(origin, arrays, {"best_weights": self.graph.weight_buffer}, what="early-stopping array")
        try:
            self.best, self.wait, self.stopped = float(info["best"]), int(info["wait"]), bool(info["stopped"])
            self.best_epoch = None if info["best_epoch"] is None else int(info["best_epoch"])
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{origin}: the early-stopping state is malformed") from None
        self.best_weights = np.array(arrays["best_weights"]) if arrays else None
