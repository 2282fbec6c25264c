"""Ctrl-C and SIGTERM before a command's own handling is in place, and after its work.

The ``nnrun`` program (:func:`nnrun.cli.program`) makes both signals raise
KeyboardInterrupt from its first moment, so that a stop while modules load or data is
read ends the command with "interrupted" and exit code 130. C code may swallow that
exception: numpy's conversion of text to numbers checks for signals as it goes and
clears the error it finds, so a ``timeout`` that sent SIGTERM while a run read its data
was lost, and the run trained to its end. The handler therefore also notes the signal
here, and a run's or a sweep's own handling takes a noted signal as received the moment
it begins (:func:`take`).

Once the command's work is done, :func:`done` ignores both signals: a stop then has
nothing left to stop, and one during the interpreter's teardown, which puts the default
handlers back, ended a completed run with the signal's own exit status.

May import: the standard library.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

_noted: list[str] = []  # the signal received, until a run or sweep takes it


def install() -> None:
    """SIGTERM and SIGINT raise KeyboardInterrupt and are noted; a handler set by
    whoever started nnrun is kept. SIGINT ignored from the start, as a shell ignores it
    for a job it starts in the background, stops nnrun all the same (``kill -INT``), as
    it does a run or a sweep once their own handling is in place."""
    if threading.current_thread() is not threading.main_thread():
        return
    for number, defaults in ((signal.SIGTERM, (signal.SIG_DFL,)),
                             (signal.SIGINT, (signal.default_int_handler, signal.SIG_IGN))):
        if signal.getsignal(number) in defaults:
            signal.signal(number, _interrupt)


def _interrupt(number, frame):
    name = signal.Signals(number).name
    _noted[:] = [name]
    raise KeyboardInterrupt(name)


def take() -> str | None:
    """The signal noted and not yet taken ("SIGINT", "SIGTERM"), forgotten as it is
    returned; None when there was none."""
    return _noted.pop() if _noted else None


def done() -> None:
    """The command's work is done: from now on both signals are ignored, if they were ours."""
    if threading.current_thread() is not threading.main_thread():
        return
    for number in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(number) is _interrupt:
            signal.signal(number, signal.SIG_IGN)


def _exit_cleanly(signum, frame):
    raise SystemExit(0)


@contextmanager
def sigterm_ends_normally():
    """For a server (nnrun serve): uvicorn answers the requests in flight on SIGTERM, then
    raises the signal again to the handler it found. With this handler there, that second
    delivery (or a SIGTERM before uvicorn took over) exits with code 0 instead of dying
    of the signal."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
