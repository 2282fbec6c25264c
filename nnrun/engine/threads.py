"""How many BLAS threads a run uses, chosen once when it starts and held for all of it.

    threads = run_threads(config.training.threads, processes=1)   # in meta.json
    with blas_threads(threads):
        ... the training loop ...

Why once: OpenBLAS multiplies matrices with different blocking at one thread and at
two, so the weights differ in their last bits; a run that switched thread counts on
the way could not be resumed bit for bit. A resumed run reuses the count its run
recorded (``training.threads: auto``), or the number the config gives.

Why ``auto`` looks at the machine: OpenBLAS's threads wait for each other between
multiplies by spinning. On a quiet machine two threads make the multiplies almost
twice as fast; with another process busy on one of two cores, the second thread only
gets that core in time slices and every multiply waits for it, so an epoch took 2.6
times as long as with one thread. ``auto`` therefore gives each process the cores that
are idle when the run starts, measured over a twentieth of a second from the kernel's
per-CPU counters (a load average reacts over minutes, so it missed a neighbour that
had just started), split between the processes of a data-parallel run.

Why small models get one thread: a model whose multiplies are small (parameters times
batch size under ``SMALL_WORK``, such as the iris example) gains nothing from a second
thread, only its spinning; it also keeps such runs bit for bit the same on every
machine, loaded or not, and spares them the measurement.

A neighbour that starts after the run does is not seen; set ``training.threads: 1`` on
a machine that is always shared, or a fixed number for results that must be the same
to the last bit on any machine and load.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
SMALL_WORK = 1 << 20  # parameters x batch size: about a million multiply-adds per batch


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
    """Cores left by a load (busy cores, or a load average): cores - load, rounded, at
    least one."""
    return max(1, min(cores, round(cores - load)))


def busy_cores(window: float = 0.05) -> float | None:
    """How many of this process's usable CPUs other processes kept busy over ``window``
    seconds, from /proc/stat's per-CPU counters; None where there are none (not Linux)."""
    cpus = {f"cpu{i}" for i in (os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else ())}
    try:
        before, own_before = _cpu_ticks(cpus), _own_seconds()
        time.sleep(window)
        after, own_after = _cpu_ticks(cpus), _own_seconds()
    except (OSError, ValueError):
        return None
    total, idle = after[0] - before[0], after[1] - before[1]
    if total <= 0:
        return None
    busy = (total - idle) / total * len(cpus)  # in cores
    return max(0.0, busy - (own_after - own_before) / window)


def _cpu_ticks(cpus: set[str]) -> tuple[int, int]:
    """All ticks and idle ticks (idle + iowait) of ``cpus`` so far."""
    total = idle = 0
    with open("/proc/stat") as stat:
        for line in stat:
            name, *fields = line.split()
            if name in cpus:
                ticks = [int(f) for f in fields[:8]]  # guest time is already counted in user
                total, idle = total + sum(ticks), idle + ticks[3] + ticks[4]
    if not total:
        raise ValueError("no per-CPU counters")
    return total, idle


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


def auto_threads(processes: int = 1, work: int | None = None) -> int:
    """Threads per process for ``training.threads: auto``: the environment's setting when
    there is one, else one for a small model (``work``: parameters times batch size
    under ``SMALL_WORK``), else the cores idle right now, shared by ``processes``."""
    limit = environment_limit()
    if limit is not None:
        return limit
    cores = usable_cores()
    if cores == 1 or (work is not None and work < SMALL_WORK):
        return 1
    busy = busy_cores()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except OSError:  # not every platform has a load average
            busy = 0.0
    return max(1, free_cores(cores, busy) // max(processes, 1))


def run_threads(setting: int | str, processes: int = 1, recorded: int | None = None, work: int | None = None) -> int:
    """The thread count of a run: the configured number, else the one the run recorded
    when it started (a resumed run), else :func:`auto_threads`."""
    if isinstance(setting, int):
        return setting
    if isinstance(recorded, int) and recorded >= 1:
        return recorded
    return auto_threads(processes, work)


@contextmanager
def blas_threads(threads: int):
    """Limit every BLAS library numpy loaded to ``threads`` inside the block."""
    from threadpoolctl import threadpool_limits  # a few ms; only a training run needs it

    with threadpool_limits(limits=threads, user_api="blas"):
        yield
