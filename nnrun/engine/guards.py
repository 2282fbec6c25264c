"""What stops a run before its last epoch: a non-finite number, or a signal.

Both are found at a batch boundary, before the state of an epoch is kept:

- ``check_loss(loss, epoch, batch)`` runs after the backward pass, and the optimizer's
  step checks the gradients (see :mod:`nnrun.model.optimizers`): no NaN or infinity ever
  reaches the weights; a step that finds one raises :func:`non_finite_gradient`.
- ``SignalWatch`` turns SIGINT and SIGTERM into a flag the loop reads after each
  batch; the loop then saves a checkpoint of the last finished epoch and stops with
  :class:`RunInterrupted` (exit code 130). A second Ctrl-C stops at once, but never
  while the run's final weights and meta.json are written (``watch.deferred()``), so a
  run's files and its exit code agree.
"""

from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from nnrun import interrupts
from nnrun.errors import NonFiniteError


def check_loss(loss: float, epoch: int, batch: int) -> None:
    """Raise :class:`NonFiniteError` if the batch's loss is NaN or infinite."""
    if not math.isfinite(loss):
        first = epoch == 1 and batch == 1
        raise NonFiniteError(
            f"the loss {'of the first batch was' if first else 'became'} {loss} in epoch {epoch}, batch {batch}; "
            "training stopped",
            epoch, batch, "non-finite loss", before_update=first,
        )


def non_finite_gradient(loss: float, epoch: int, batch: int) -> NonFiniteError:
    """The error for a step whose gradient held a NaN or an infinity (the loss was finite)."""
    first = epoch == 1 and batch == 1  # from the initial weights: no learning rate has acted
    return NonFiniteError(
        f"a gradient {'of the first batch was' if first else 'became'} non-finite (NaN or inf) in epoch {epoch}, "
        f"batch {batch}, with a finite loss {loss:.6g}; training stopped",
        epoch, batch, "non-finite gradient", before_update=first,
    )


def fitted_remedy(error: NonFiniteError, config, regression: bool) -> None:
    """A diverged run's hint fitted to its settings: only the remedies it does not use
    already (its inputs standardized, its gradients clipped, ...), with its rate."""
    if error.before_update:  # the first batch's own remedy: no rate made it
        return
    steps = [f"lower optimizer.learning_rate (now {config.optimizer.learning_rate:g})"]
    indices = getattr(config.data.source, "text", None) is not None or \
        any(getattr(layer, "type", None) == "embedding" for layer in config.model.layers)  # no scale for those
    if not indices and not any(step.type in ("standardize", "minmax", "scale") for step in config.data.preprocess):
        steps.append("standardize the inputs (data.preprocess: [standardize])")
    if regression and config.data.target_scale == "none":
        steps.append("scale the targets (data.target_scale: standardize)")
    if getattr(config.optimizer, "global_clipnorm", None) is None and getattr(config.optimizer, "clipvalue", None) \
            is None:
        steps.append("clip the gradients (optimizer.global_clipnorm: 1.0)")
    error.hint = f"{', '.join(steps[:-1])}{' or ' if len(steps) > 1 else ''}{steps[-1]}; then train again"


class SignalWatch:
    """Within ``with SignalWatch() as watch:``, SIGINT and SIGTERM set ``watch.received``
    (the signal's name) instead of stopping the process mid-update; a second Ctrl-C
    raises KeyboardInterrupt, except while ``with watch.deferred():`` writes the run's
    record, which no signal may cut short."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received: str | None = None
        self._previous: dict = {}
        self._deferring = False

    def __enter__(self) -> "SignalWatch":
        if threading.current_thread() is threading.main_thread():  # handlers live only there
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
            # One that came as the run was made and that numpy swallowed (see nnrun.interrupts)
            # stops it as if it came now.
            self.received = interrupts.take()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        if exc_type is None:  # the run completed: under the nnrun program, a signal now stops nothing
            interrupts.done()

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Signals only noted while the final weights and meta.json are written: a
        stop there would leave a run whose files and exit code disagree."""
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False

    def _handle(self, number, frame) -> None:
        name = signal.Signals(number).name
        if self._deferring:
            self.received = self.received or name
            return
        if self.received == "SIGINT" and number == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: the user does not want to wait
        self.received = name
