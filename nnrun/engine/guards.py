"""What stops a run before its last epoch: a non-finite number, or a signal.

Both are found at a batch boundary, before the state of an epoch is kept:

- ``check_loss(loss, epoch, batch)`` runs after the backward pass, and the optimizer's
  step checks the gradients (see :mod:`nnrun.model.optimizers`): no NaN or infinity ever
  reaches the weights; a step that finds one raises :func:`non_finite_gradient`.
- ``SignalWatch`` turns SIGINT and SIGTERM into a flag the loop reads after each
  batch; the loop then saves a checkpoint of the last finished epoch and stops with
  :class:`RunInterrupted` (exit code 130). A second Ctrl-C stops at once. After the
  last epoch (``watch.finishing()``) a signal is only noted: the run's final scores,
  weights and meta.json are written whatever arrives, so its files and its exit agree.
"""

from __future__ import annotations

import math
import signal
import threading

from nnrun.errors import FIRST_LOSS_REMEDY, NonFiniteError


def check_loss(loss: float, epoch: int, batch: int) -> None:
    """Raise :class:`NonFiniteError` if the batch's loss is NaN or infinite."""
    if not math.isfinite(loss):
        first = epoch == 1 and batch == 1
        raise NonFiniteError(
            f"the loss {'of the first batch was' if first else 'became'} {loss} in epoch {epoch}, batch {batch}; "
            "training stopped",
            epoch, batch, "non-finite loss", *([FIRST_LOSS_REMEDY] if first else []),
        )


def non_finite_gradient(loss: float, epoch: int, batch: int) -> NonFiniteError:
    """The error for a step whose gradient held a NaN or an infinity (the loss was finite)."""
    return NonFiniteError(
        f"a gradient became non-finite (NaN or inf) in epoch {epoch}, batch {batch}, "
        f"with a finite loss {loss:.6g}; training stopped",
        epoch, batch, "non-finite gradient",
    )


class SignalWatch:
    """Within ``with SignalWatch() as watch:``, SIGINT and SIGTERM set ``watch.received``
    (the signal's name) instead of stopping the process mid-update."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received: str | None = None
        self.late: str | None = None  # a signal that arrived once the last epoch was done
        self._previous: dict = {}
        self._finishing = False

    def __enter__(self) -> "SignalWatch":
        if threading.current_thread() is threading.main_thread():  # handlers live only there
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def finishing(self) -> None:
        """From now on a signal is only noted (``late``): the epochs are done, and
        what is left (final scores, weights, meta.json) takes moments and must not be cut.
        A signal the loop had no epoch left to act on counts as late too."""
        self._finishing = True
        self.late = self.received

    def _handle(self, number, frame) -> None:
        if self._finishing:
            self.late = self.late or signal.Signals(number).name
            return
        if self.received == "SIGINT" and number == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: the user does not want to wait
        self.received = signal.Signals(number).name
