"""What stops a run before its last epoch: a non-finite number, or a signal.

Both are found at a batch boundary, so the state in memory is never half updated:

- ``check_finite(loss, grads, epoch, batch)`` runs after the backward pass and before
  the optimizer step, so non-finite numbers never reach the weights.
- ``SignalWatch`` turns SIGINT and SIGTERM into a flag the loop reads after each
  batch; the loop then saves a checkpoint of the last finished epoch and stops with
  :class:`RunInterrupted` (exit code 130). A second Ctrl-C stops at once.
"""

from __future__ import annotations

import math
import signal
import threading

import numpy as np

from nnrun.errors import NonFiniteError
from nnrun.model.kernels import compiled


def check_finite(loss: float, grads: np.ndarray, epoch: int, batch: int) -> None:
    """Raise :class:`NonFiniteError` if the loss or any gradient is NaN or infinite.

    One sum over the flat gradient buffer in its own dtype: a NaN or an infinity makes
    the sum non-finite, and a sum that is finite proves every element finite. Only a
    non-finite sum is looked at again element by element, because a sum of finite
    float32 values can overflow; this costs a fraction of a float64 sum (which converts
    every element) on every step. With the compiled kernels loaded (see
    :mod:`nnrun.model.kernels`) one compiled pass decides instead.
    """
    if not math.isfinite(loss):
        raise NonFiniteError(
            f"the loss became {loss} in epoch {epoch}, batch {batch}; training stopped",
            epoch, batch, "non-finite loss",
        )
    kernel = compiled("all_finite", grads) if grads.ndim == 1 else None
    if kernel is not None:
        finite = kernel(grads)
    else:
        with np.errstate(over="ignore"):
            total = float(grads.sum())
        finite = math.isfinite(total) or bool(np.isfinite(grads).all())
    if not finite:
        raise NonFiniteError(
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
        self._previous: dict = {}

    def __enter__(self) -> "SignalWatch":
        if threading.current_thread() is threading.main_thread():  # handlers live only there
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number, frame) -> None:
        if self.received == "SIGINT" and number == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: the user does not want to wait
        self.received = signal.Signals(number).name
