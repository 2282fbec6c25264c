"""How the training loop splits each batch over processes and sums what they computed.

The loop asks one sharding object, at fixed points of a step:

    lo, hi, part = sharding.rows(n)                       # my rows of a batch of n
    graph.forward(x[lo:hi], True, rng, part=part)
    d_out = sharding.scale(d_out, hi - lo, n)             # towards the whole batch's mean
    loss, stop = sharding.sum_step(grads, loss, hi - lo, n, signal)
    outputs = sharding.gather_outputs(outputs)            # at the end of an epoch
    stop = sharding.agree_stop(signal)                    # at the end of an epoch
    stop = sharding.any(stopped)                          # so is a hook's should_stop

:class:`WholeBatch` (one process) answers each with what it was given. :class:`Shards`
splits a batch of n rows into N contiguous parts of n // N or n // N + 1 rows (the
first n % N processes take one more), and sums the gradient buffer once per step.

Why the result does not depend on N: a loss is a mean over the batch, so the whole
batch's gradient is the sum over parts of ``(n_p / n) * (part's mean gradient)``;
batch norm takes its statistics over every part (see :class:`RankPart`) and dropout
draws the whole batch's mask. Only the rounding of the sums differs between N.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnrun.engine.checkpointing import Checkpointer
from nnrun.errors import quoted
from nnrun.store.checkpoints import capture, restore
from nnrun.store.rundir import RunDir, checkpoint_name

SIGNAL_NAMES = ("SIGINT", "SIGTERM")


class WholeBatch:
    """One process computes every batch whole; there is nothing to split or sum."""

    size, writes = 1, True

    def max_rows(self, batch_size: int) -> int:
        return batch_size

    def rows(self, n: int):
        return 0, n, None

    def scale(self, d_out, rows: int, n: int):
        return d_out

    def sum_step(self, grads, loss: float, rows: int, n: int, signal: str | None):
        return loss, signal

    def gather_outputs(self, outputs):
        return outputs

    def agree_stop(self, signal: str | None) -> str | None:
        return signal

    def any(self, flag: bool) -> bool:
        return flag

    def checkpointer(self, record, experiment, components):
        return Checkpointer(record, experiment, components)


class RankPart:
    """A :class:`~nnrun.layers.base.BatchPart`: rows ``start:`` of a batch of ``total``."""

    def __init__(self, world, start: int, total: int):
        self.world, self.start, self.total = world, start, total

    def sum(self, local: np.ndarray) -> np.ndarray:
        return self.world.sum_small(local)


class Shards:
    """This process's share of every batch, for a run over ``world.size`` processes."""

    def __init__(self, world):
        self.world, self.size, self.writes = world, world.size, world.writes
        self._outputs = None

    def max_rows(self, batch_size: int) -> int:
        return -(-batch_size // self.size)

    def rows(self, n: int):
        base, extra = divmod(n, self.size)
        lo = self.world.rank * base + min(self.world.rank, extra)
        hi = lo + base + (self.world.rank < extra)
        return lo, hi, RankPart(self.world, lo, n)

    def scale(self, d_out, rows: int, n: int):
        d_out *= d_out.dtype.type(rows / n)
        return d_out

    def sum_step(self, grads, loss: float, rows: int, n: int, signal: str | None):
        """Sum the gradients (in place) and the loss over processes; learn whether any
        process was asked to stop. Returns (the whole batch's loss, signal or None)."""
        self.world.sum_in_rank_order(grads)
        asked = [float(signal == name) for name in SIGNAL_NAMES]
        total = self.world.sum_small(np.array([loss * rows / n, *asked]))
        return float(total[0]), self._stop(signal, total[1:])

    def agree_stop(self, signal: str | None) -> str | None:
        asked = self.world.sum_small(np.array([float(signal == name) for name in SIGNAL_NAMES]))
        return self._stop(signal, asked)

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is set on any process (a hook's should_stop, say)."""
        return bool(self.world.sum_small(np.array([float(flag)]))[0])

    @staticmethod
    def _stop(signal, asked) -> str | None:
        if signal is not None:
            return signal
        return next((name for name, count in zip(SIGNAL_NAMES, asked) if count), None)

    def gather_outputs(self, outputs):
        """Each process filled its rows of the epoch's outputs and left the rest at zero."""
        if self._outputs is None:
            self._outputs = np.empty_like(outputs)
        self.world.sum_disjoint(outputs, self._outputs)
        return self._outputs

    def checkpointer(self, record, experiment, components):
        kind = SharingCheckpointer if self.writes else FollowingCheckpointer
        return kind(self.world, record, experiment, components)


class SharingCheckpointer(Checkpointer):
    """The writer's checkpoints, and its starting state sent to every other process."""

    def __init__(self, world, record, experiment, components):
        super().__init__(record, experiment, components)
        self.world = world

    def begin(self, resume_from):
        self.world.agree(lambda: super(SharingCheckpointer, self).begin(resume_from))
        self.world.broadcast_json(self.latest.state)
        self.world.broadcast_arrays(self.latest.arrays)

    def interrupted(self, signal_name: str, where: str):
        stop = super().interrupted(signal_name, where)
        stop.hint = f"resume with: mpiexec -n {self.world.size} nnrun train --resume {quoted(self.record.path)}"
        return stop


class FollowingCheckpointer(Checkpointer):
    """Another process: starts from the writer's state and writes nothing."""

    def __init__(self, world, record, experiment, components):
        super().__init__(record, experiment, components)
        self.world = world

    def begin(self, resume_from):
        self.world.agree(lambda: None)
        state = self.world.broadcast_json(None)
        arrays = self.world.broadcast_arrays(None)
        restore(self.components, arrays, state, Path(f"the state of process 0 ({self.record.path})"))
        self.latest = capture(self.components, self.components["progress"].epoch)

    def save(self) -> Path:
        self.saved = self.folder / checkpoint_name(self.latest.epoch)  # the writer's file
        return self.saved


class FollowerRecord:
    """What a process that is not the writer keeps of the run: nothing on disk."""

    writes = False

    def __init__(self, path):
        self.run = RunDir(Path(path))
        self.path, self.meta, self.epochs, self.active = self.run.path, {}, 0, True

    def append_metrics(self, row: dict) -> None:
        self.epochs += 1

    def complete(self, *args) -> None:
        pass

    def fail(self, exc) -> None:
        pass

    def release(self) -> None:
        pass
