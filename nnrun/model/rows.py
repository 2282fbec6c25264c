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

Whether splitting larger work pays depends on more than its size, so each kind of
work (the function handed over, with the row and value counts) is timed split and
whole on its first calls of a run, alternately, ``TRIALS`` times each, and done the
faster way from then on. OpenBLAS's threads spin on the other cores for a third of a
millisecond after each matrix multiply (see ``nnrun/__init__.py``), and a range handed
to a core where one spins gets only part of it: on a small CNN at two threads the
bias and relu of 2.8 million values after the convolution's multiply took 0.73 ms
split against 0.44 ms whole, while the max pool after it, and a second convolution's
21 million window copies, ran nearly twice as fast split. The result is the same to
the last bit either way, so the choice changes only the speed.

May import: numpy and the standard library.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

MIN_ELEMENTS = 1 << 18  # about a quarter of a millisecond of element-wise work
TRIALS = 3  # timed calls of each kind of work, split and whole, before it is done the faster way

# Per calling thread: two runs trained at once on two threads of one process each keep
# their own setting and pool.
_local = threading.local()


@contextmanager
def row_threads(threads: int):
    """Split element-wise work over ``threads`` inside the block (1: no splitting)."""
    previous = [getattr(_local, name, None) for name in ("setting", "pools", "pool_workers")]
    _local.setting = (1, None, {})  # the last: each kind of work's timings, then its choice
    _local.pools = pools = []  # every pool made inside the block; the newest, the largest, is in use
    set_row_threads(threads)
    try:
        yield
    finally:
        _local.setting, _local.pools, _local.pool_workers = previous
        for pool in pools:
            pool.shutdown(wait=True)


def set_row_threads(threads: int) -> None:
    """Split over ``threads`` from now on, inside :func:`row_threads` (a run whose
    thread count follows the machine, see :mod:`nnrun.engine.threads`)."""
    before, pool, table = _setting()
    if threads > 1 and (pool is None or _local.pool_workers < threads - 1):
        # Imported only here: a one-thread run (most small models) never needs it.
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="nnrun-rows")
        _local.pools.append(pool)
        _local.pool_workers = threads - 1
    # Timings taken at another thread count no longer tell which way is faster.
    _local.setting = (threads, pool, table if threads == before else {})


def _setting() -> tuple[int, ThreadPoolExecutor | None, dict]:
    return getattr(_local, "setting", None) or (1, None, {})


def splits(rows: int, elements: int) -> bool:
    """Whether :func:`over_rows` may split this work over threads: there are threads and
    it is large enough (it still runs whole what its timings found faster whole)."""
    threads, pool, _ = _setting()
    return pool is not None and min(threads, rows) >= 2 and elements >= MIN_ELEMENTS


def over_rows(rows: int, work: Callable[[int, int], object], elements: int) -> None:
    """Call ``work(start, stop)`` on ranges that cover ``0..rows`` once each: one range
    on this thread when the work is small, no threads were given, or this kind of work
    ran faster whole (see the module's docstring), else one range per thread, all at
    once. Every range is waited for, even when one of them fails."""
    if not splits(rows, elements):
        work(0, rows)
        return
    code = getattr(work, "__code__", None)  # the same for every call from one place
    if code is None:  # no way to tell one call's work from another's: split, untimed
        _run(rows, work)
        return
    table, kind = _setting()[2], (code, rows, elements)
    timings = table.get(kind)  # seconds whole and split while timing, then the choice
    if isinstance(timings, bool):
        _run(rows, work) if timings else work(0, rows)
        return
    if timings is None:
        timings = table[kind] = ([], [])
    whole, split = timings
    start = time.perf_counter()
    if len(split) <= len(whole):  # split first, then alternately
        _run(rows, work)
        split.append(time.perf_counter() - start)
    else:
        work(0, rows)
        whole.append(time.perf_counter() - start)
    if len(whole) == TRIALS:
        table[kind] = _median(split) < _median(whole)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]  # the statistics module would cost start-up time


def _run(rows: int, work: Callable[[int, int], object]) -> None:
    """``work`` on one range per thread, at once; every range waited for."""
    threads, pool, _ = _setting()
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
