"""How a sweep is stopped: SIGINT and SIGTERM both as Ctrl-C.

    with stopped_by_signals():
        ...   # either signal raises KeyboardInterrupt here, which the sweep records
    stopped_by(interrupt)   # "Ctrl-C" or "SIGTERM", for the interrupted trials' message

Both signals stop the sweep the way they stop ``nnrun train``: also when SIGINT was
ignored from the start, as a shell ignores it for a job it starts in the background.
Under Ray this is entered after ``ray.init``, which sets a SIGTERM handler of its own
that leaves the process at once (exit code 15, the running trials never recorded).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from nnrun import interrupts


@contextmanager
def stopped_by_signals():
    _received.clear()  # an earlier sweep's signals are not this one's
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = {number: signal.signal(number, _interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        noted = interrupts.take()  # one that came as the sweep began, swallowed (see nnrun.interrupts)
        if noted:
            _received.append(noted)
            raise KeyboardInterrupt(noted)
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def stopped_by(interrupt: KeyboardInterrupt) -> str:
    """What stopped the sweep: "SIGTERM", or "Ctrl-C" (SIGINT, from a terminal or not).
    The first signal received is asked first: code between the handler and the sweep's
    own ``except`` (Ray's event loop) may raise a KeyboardInterrupt of its own, without
    the signal's name, in place of the handler's."""
    name = _received[0] if _received else interrupt.args[0] if interrupt.args else None
    return "SIGTERM" if name == "SIGTERM" else "Ctrl-C"


_received: list[str] = []  # the signals received inside stopped_by_signals, in order


def received() -> bool:
    """Whether SIGINT or SIGTERM has reached the sweep inside :func:`stopped_by_signals`."""
    return bool(_received)


def raise_if_received() -> None:
    """The interrupt again, where a signal arrived but its KeyboardInterrupt was lost: a
    signal handler raises in whatever code runs, and in a finalizer (Ray's
    ``ActorHandle.__del__``) Python prints the exception and drops it."""
    if _received:
        raise KeyboardInterrupt(_received[0])


def _interrupt(number: int, frame) -> None:
    name = signal.Signals(number).name
    _received.append(name)
    raise KeyboardInterrupt(name)
