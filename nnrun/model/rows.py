"""A batch's element-wise work split by rows over the run's threads.

numpy keeps element-wise work (im2col copies, bias and activation, pooling, the
activation's gradient) on one core while BLAS spreads only the matrix multiplies; on
two cores a convolution network then runs at half speed outside its multiplies.
Layers hand such work to :func:`over_rows`, which splits a batch's rows into one range
per thread and runs them at once (numpy releases the GIL inside its loops). Each range
writes its own rows of an output made beforehand, so the result is the same to the
last bit as computing the whole batch in one go, whatever the thread count.

    with row_threads(2):      # set by the training loop, from the run's thread count
        over_rows(n, work, elements=y.size)   # work(start, stop) for row ranges of 0..n

Small work (under ``MIN_ELEMENTS`` values) stays on the calling thread: handing it to
another costs more than it saves.

May import: numpy and the standard library.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

MIN_ELEMENTS = 1 << 18  # about a quarter of a millisecond of element-wise work

# Per calling thread: two runs trained at once on two threads of one process each keep
# their own setting and pool.
_local = threading.local()


@contextmanager
def row_threads(threads: int):
    """Split element-wise work over ``threads`` inside the block (1: no splitting)."""
    previous = getattr(_local, "setting", None)
    pool = None
    if threads > 1:  # imported only here: a one-thread run (most small models) never needs it
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="nnrun-rows")
    _local.setting = (threads, pool)
    try:
        yield
    finally:
        _local.setting = previous
        if pool is not None:
            pool.shutdown(wait=True)


def _setting() -> tuple[int, ThreadPoolExecutor | None]:
    return getattr(_local, "setting", None) or (1, None)


def splits(rows: int, elements: int) -> bool:
    """Whether :func:`over_rows` would split this work over threads."""
    threads, pool = _setting()
    return pool is not None and min(threads, rows) >= 2 and elements >= MIN_ELEMENTS


def over_rows(rows: int, work: Callable[[int, int], object], elements: int) -> None:
    """Call ``work(start, stop)`` on ranges that cover ``0..rows`` once each: one range
    on this thread when the work is small or no threads were given, else one range per
    thread, all at once. Every range is waited for, even when one of them fails."""
    if not splits(rows, elements):
        work(0, rows)
        return
    threads, pool = _setting()
    threads = min(threads, rows)
    bounds = [rows * i // threads for i in range(threads + 1)]
    futures = [pool.submit(work, bounds[i], bounds[i + 1]) for i in range(1, threads)]
    try:
        work(bounds[0], bounds[1])
    finally:
        errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error
