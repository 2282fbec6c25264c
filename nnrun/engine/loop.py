"""The training loop: epochs of mini-batches over a built experiment.

    history, best_epoch, stopped = fit(experiment, record, hooks)

The loop keeps Python work per batch small: the batch is gathered into a reused
buffer, the loss returns its gradient in the same pass, the optimizer updates one
flat buffer, and what the user sees is left to the hooks (see :mod:`nnrun.engine.hooks`),
which redraw at a bounded rate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.data import Dataset
from nnrun.engine.allocator import keep_freed_memory
from nnrun.engine.experiment import Experiment
from nnrun.engine.guards import SignalWatch, check_loss, non_finite_gradient
from nnrun.engine.hooks import TrainingHooks
from nnrun.engine.record import RunRecord
from nnrun.engine.sharding import WholeBatch
from nnrun.engine.stopping import EarlyStopper
from nnrun.model import kernels
from nnrun.model.metrics import METRICS
from nnrun.model.monitor import Monitor, default_key
from nnrun.model.schedules import Constant as ConstantSchedule
from nnrun.seeding import stream
from nnrun.store.checkpoints import Progress, loop_components


@dataclass(frozen=True)
class FitResult:
    """What the epochs produced, before the final scoring."""

    history: list[dict]  # one row per epoch, as in metrics.csv
    best_epoch: int | None  # early stopping's best epoch, else the best monitored one (see best_epoch)
    stopped_early: bool  # before the last epoch, by early stopping or by a hook's should_stop
    stopped_by: str | None = None  # which of the two: "early_stopping" or "hook"


def fit(experiment: Experiment, record: RunRecord, hooks: TrainingHooks, resume_from: list[Path] | None = None,
        signals: SignalWatch | None = None, sharding=None, watch=None) -> FitResult:
    """Epochs until the last or until early stopping. Checkpoints every few seconds
    and after the last epoch make any point resumable. ``sharding`` splits batches over processes and sums what
    they computed (see :mod:`nnrun.engine.sharding`); every process decides alike. ``watch``
    (a :class:`~nnrun.engine.threads.ThreadWatch`) is told of every step."""
    loop = Loop(experiment, record, hooks, signals or SignalWatch(), sharding or WholeBatch(), watch)
    loop.keeper.begin(resume_from)
    if watch is not None:  # after the checkpoint is restored: a resumed run's count is in it
        watch.begin(loop.progress)
    # Told only now: a shorter count than the checkpoint's epoch is refused by begin().
    note = record.epochs_change_note(loop.progress.epoch) if record.writes and resume_from is not None else None
    for message in [note] * bool(note) + (record.resume_notes if record.writes and resume_from is not None else []):
        hooks.warn(message)
    stopper, epochs = loop.stopper, experiment.config.training.epochs
    stopped = by_stopper = bool(stopper and stopper.stopped)  # a resumed run that early stopping had ended
    epoch, finished = loop.progress.epoch, None  # finished: the last epoch whose state is whole
    try:
        hooks.start(experiment, record.path)  # after a resumed run has found its checkpoint
        if resume_from is not None:
            hooks.resumed(loop.progress.epoch, loop.keeper.saved, loop.progress.history)
            for why, where in loop.keeper.set_aside:  # said aloud, not only in meta.json: epochs were lost
                renamed = f"it was renamed {where.name}" if where else "it could not be renamed aside"
                hooks.warn(f"{why}; {renamed}, and the run resumes from {loop.keeper.saved.name}")
        for epoch in range(loop.progress.epoch + 1, epochs + 1):
            if stopped:
                break
            row = loop.epoch(epoch)
            stopped = by_stopper = bool(stopper and stopper.update(epoch, row))
            loop.keeper.epoch_end(epoch, loop.batches.count)
            finished = epoch
            hooks.epoch_end(row)  # once the epoch is whole: a hook that stops the run here keeps it
            received = loop.sharding.agree_stop(loop.signals.received)
            if received:
                raise loop.keeper.interrupted(received, f"after epoch {epoch}")
            stopped = loop.sharding.any(stopped or bool(hooks.should_stop()))
        loop.keeper.finish()
    except KeyboardInterrupt:
        if loop.signals.received == "SIGINT":  # a second Ctrl-C (see SignalWatch): nothing more is saved
            raise loop.keeper.stopped_at_once() from None
        # Raised by a hook or the program itself, with no Ctrl-C before it: as one Ctrl-C,
        # the last finished epoch is saved (its snapshot is in memory) and the run can resume.
        where = f"after epoch {epoch}" if finished == epoch else \
            f"in epoch {epoch}" if epoch > loop.progress.epoch else f"before epoch {epoch + 1} began"
        raise loop.keeper.interrupted("KeyboardInterrupt", where) from None
    if stopper:
        stopper.restore()
    # Patience that runs out on the last epoch cut nothing short: the run reached its end.
    stopped_early = stopped and loop.progress.epoch < epochs
    by = ("early_stopping" if by_stopper else "hook") if stopped_early else None
    return FitResult(loop.progress.history, best_epoch(loop.progress.history, stopper), stopped_early, by)


def best_epoch(history: list[dict], stopper: EarlyStopper | None) -> int | None:
    """The best epoch as the closing results and ``nnrun runs`` report it: the one early
    stopping chose when it ran, else the epoch of the best validation loss (the loss
    without a validation split)."""
    if stopper:  # None when the monitored quantity was never a number: no epoch was its best
        return stopper.best_epoch
    best = Monitor(default_key(history[0])).best_row(history) if history else None
    return best["epoch"] if best else None


class Loop:
    """Everything one training run carries from batch to batch, and what it checkpoints:
    weights (in the graph), optimizer slots, schedule state, random streams, progress."""

    def __init__(self, experiment: Experiment, record: RunRecord, hooks: TrainingHooks, signals: SignalWatch,
                 sharding=None, watch=None):
        config, graph = experiment.config, experiment.graph
        self.watch = watch
        self.sharding = sharding or WholeBatch()
        self.experiment, self.config, self.graph = experiment, config, graph
        self.hooks, self.signals, self.record = hooks, signals, record
        training = config.training
        self.slots = config.optimizer.slots(graph.trainable.size, graph.dtype)
        # The optional compiled kernels, loaded before the first epoch when they pay, and
        # the step's freed arrays kept for the next one (see nnrun.engine.allocator).
        values = graph.values_per_sample
        kernels.prepare(graph.trainable.size, values * len(experiment.splits["train"]))
        keep_freed_memory(values * training.batch_size * graph.dtype.itemsize)
        self.schedule = training.schedule or ConstantSchedule()
        self.schedule_state = self.schedule.start(config.optimizer.learning_rate)
        self.stopper = EarlyStopper(training.early_stopping, graph) if training.early_stopping else None
        self.shuffle_rng, self.dropout_rng = stream(config.seed, "shuffle"), stream(config.seed, "dropout")
        self.batches = Batches(experiment.splits["train"], training.batch_size,
                               graph.output_shape if config.metrics else None, self.sharding,
                               graph.scale_targets(experiment.splits["train"].y))
        self.progress = Progress()
        self.keeper = self.sharding.checkpointer(record, experiment, loop_components(
            graph, self.slots, self.progress, self.stopper, self.schedule_state,
            shuffle=self.shuffle_rng, dropout=self.dropout_rng))

    def epoch(self, epoch: int) -> dict:
        """Train one epoch, score it, record it; returns its metrics.csv row."""
        started = time.perf_counter()
        config, training = self.config, self.config.training
        lr = self.schedule.rate(self.schedule_state, epoch, training.epochs)
        size = len(self.batches.data)
        order = self.shuffle_rng.permutation(size) if training.shuffle else np.arange(size)
        self.hooks.epoch_start(epoch, training.epochs, self.batches.count)
        row = {"epoch": epoch, "loss": self._batches(epoch, order, lr) / size}
        row.update(self.batches.epoch_metrics(config, self.graph, order))
        if "validation" in self.experiment.splits:
            scores = self.experiment.score("validation")
            row.update({f"val_{k}": v for k, v in scores.items()})
        row["lr"] = lr
        row["seconds"] = time.perf_counter() - started
        self.progress.history.append(row)
        self.record.append_metrics(row)
        self.schedule.observe(self.schedule_state, row)
        return row

    def _batches(self, epoch: int, order: np.ndarray, lr: float) -> float:
        """The gradient steps of one epoch; returns the sum of the batch losses times
        their sizes. This is the hot path: nothing here is per parameter."""
        graph, loss, optimizer, shards = self.graph, self.config.loss, self.config.optimizer, self.sharding
        from_logits = graph.outputs_logits
        loss_sum = 0.0
        for index, (x, y, out_slot, part, n) in enumerate(self.batches.iterate(order)):
            out, tape = graph.forward(x, True, self.dropout_rng, part=part)
            value, d_out = loss(out, y, from_logits)
            graph.backward(tape, shards.scale(d_out, len(x), n))
            # Summed over the processes of a data-parallel run, with any request to stop.
            value, received = shards.sum_step(graph.grad_buffer, value, len(x), n, self.signals.received)
            if received:
                raise self.keeper.interrupted(received, f"in epoch {epoch}, batch {index + 1}")
            value += graph.add_penalties()
            check_loss(value, epoch, index + 1)
            self.progress.step += 1
            if not optimizer.step(graph.trainable, graph.grad_buffer, self.slots, lr, self.progress.step):
                raise non_finite_gradient(value, epoch, index + 1)
            loss_sum += value * n
            if out_slot is not None:
                out_slot[...] = out
            self.hooks.batch(index + 1, value)
            if self.watch is not None:
                self.watch.tick(epoch, self.progress.step)
        return loss_sum


class Batches:
    """Mini-batches gathered into reused buffers, plus the epoch's outputs in the
    shuffled order so training metrics are computed once per epoch on every sample."""

    def __init__(self, data: Dataset, batch_size: int, output_shape: tuple | None, sharding=None,
                 targets: np.ndarray | None = None):
        # targets: what the loss compares (data.y, standardized with data.target_scale);
        # the metrics read data.y.
        self.data, self.sharding = data, sharding or WholeBatch()
        self.targets = data.y if targets is None else targets
        self.size = min(batch_size, len(data))
        self.count = math.ceil(len(data) / self.size)
        rows = self.sharding.max_rows(self.size)  # of each batch, computed by this process
        self.x_buffer = np.empty((rows, *data.x.shape[1:]), data.x.dtype)
        self.y_buffer = np.empty((rows, *data.y.shape[1:]), data.y.dtype)
        # Zeros: a process of a data-parallel run fills only its own rows.
        self.outputs = np.zeros((len(data), *output_shape), data.x.dtype) if output_shape else None

    def iterate(self, order: np.ndarray):
        """Per batch: this process's rows (x, y, their output rows), its BatchPart (None
        when the batch is whole here) and the batch's size."""
        for start in range(0, len(order), self.size):
            n = min(self.size, len(order) - start)
            lo, hi, part = self.sharding.rows(n)
            indices = order[start + lo : start + hi]
            x = np.take(self.data.x, indices, axis=0, out=self.x_buffer[: hi - lo], mode="clip")
            y = np.take(self.targets, indices, axis=0, out=self.y_buffer[: hi - lo], mode="clip")
            out_slot = self.outputs[start + lo : start + hi] if self.outputs is not None else None
            yield x, y, out_slot, part, n

    def epoch_metrics(self, config, graph, order: np.ndarray) -> dict[str, float]:
        if self.outputs is None:
            return {}
        probs = graph.activate(self.sharding.gather_outputs(self.outputs))
        target = self.data.y[order]
        return {name: METRICS[name].fn(target, probs) for name in config.metrics}
