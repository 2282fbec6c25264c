"""How many BLAS threads a run uses, chosen once when it starts and held for all of it.

    threads = run_threads(config.training.threads, processes=1)   # in meta.json
    with blas_threads(threads):
        ... the training loop ...

Why once: OpenBLAS multiplies matrices with different blocking at one thread and at
two, so the weights differ in their last bits; a run that switched thread counts on
the way could not be resumed bit for bit. A resumed run reuses the count its run
recorded (``training.threads: auto``), or the number the config gives.

Why ``auto`` looks at the machine's load: OpenBLAS's threads wait for each other
between multiplies by spinning. On a quiet machine two threads make the multiplies
almost twice as fast; with another process busy on one of two cores, the second
thread only gets that core in time slices and every multiply waits for it, so an epoch
took 2.6 times as long as with one thread. ``auto`` gives each process the cores that
the one-minute load average leaves free (at least one), split between the processes of
a data-parallel run. A neighbour that starts after the run does is not seen; set
``training.threads: 1`` on a machine that is always shared.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def usable_cores() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def environment_limit() -> int | None:
    """A thread count the user set for the BLAS in the environment, if any."""
    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) >= 1:
            return int(value)
    return None


def free_cores(cores: int, load: float) -> int:
    """Cores left by a load average: cores - load, rounded, at least one."""
    return max(1, min(cores, round(cores - load)))


def auto_threads(processes: int = 1) -> int:
    """Threads per process for ``training.threads: auto``: the environment's setting when
    there is one, else the cores the load leaves free, shared by ``processes``."""
    limit = environment_limit()
    if limit is not None:
        return limit
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except OSError:  # not every platform has a load average
        load = 0.0
    return max(1, free_cores(cores, load) // max(processes, 1))


def run_threads(setting: int | str, processes: int = 1, recorded: int | None = None) -> int:
    """The thread count of a run: the configured number, else the one the run recorded
    when it started (a resumed run), else :func:`auto_threads`."""
    if isinstance(setting, int):
        return setting
    if isinstance(recorded, int) and recorded >= 1:
        return recorded
    return auto_threads(processes)


@contextmanager
def blas_threads(threads: int):
    """Limit every BLAS library numpy loaded to ``threads`` inside the block."""
    from threadpoolctl import threadpool_limits  # a few ms; only a training run needs it

    with threadpool_limits(limits=threads, user_api="blas"):
        yield
