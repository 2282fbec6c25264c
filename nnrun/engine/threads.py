"""How many BLAS threads a run uses: the number ``training.threads`` gives, or with
``auto`` the cores idle when it starts, looked at again while it trains.

    threads = run_threads(config.training.threads, processes=1)   # in meta.json
    with blas_threads(threads):
        watch = watch_threads(setting, threads, processes, work, apply=...)
        ... the training loop, calling watch.tick() after each step ...

Why a number is held for the whole run: OpenBLAS multiplies matrices with different
blocking at one thread and at two, so the weights differ in their last bits; a fixed
count gives the same weights on any machine and load, and a resumed run repeats them
bit for bit. A resumed ``auto`` run starts with the count its run recorded.

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

Why ``auto`` looks again: a neighbour that starts after the run (a second training) made
the two-thread run 2.3 times slower than one thread for the rest of it. So every
``WATCH_SECONDS`` of training, between two steps, :class:`ThreadWatch` measures how busy
other processes kept the cores since it last looked (the same counters, over a fifth
of a second instead of a twentieth of one, and free to read: no waiting) and moves to
the cores left; back to two once the neighbour is gone. A neighbour that joins is
also seen sooner: every ``QUICK_SECONDS`` the same reading also tells how long the
run's own threads waited for a CPU (the kernel's per-thread scheduler counters), and
when they waited while others kept the cores busy it moves down at once (see
:mod:`nnrun.engine.cpu_load`). On a quiet machine nothing
changes, so its runs keep their bits; under a changing load an ``auto`` run's last bits
follow the load, and meta.json lists the changes (``thread_changes``). A data-parallel run's
processes keep their count: each one is the others' neighbour.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from nnrun.engine import cpu_load

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
    busy = cpu_load.busy_cores()
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


# How often auto looks at the machine again while training. Every half second left a
# run that a neighbour joined at two threads for 0.5-1 s, most of a short run's epoch;
# over a fifth of a second the counters still read a quiet machine as quiet (other
# processes' share at most 0.11 core in 39 looks, against DOWN's half core; 0.28 over a
# tenth of a second).
WATCH_SECONDS = 0.2
# How often auto looks for a neighbour that has just joined, and how long the run's
# threads must have waited for a CPU to call it one, in cores. Beside a process spinning
# on one of two cores, the run's two threads waited 0.3-1.2 cores' worth in 0.05-s
# windows; on a quiet machine a convolution network's threads waited up to 0.29, as
# the row threads and OpenBLAS's spinning one took turns, so a move also needs the
# counters to show others busy (DOWN below).
QUICK_SECONDS = 0.05
WAITING = 0.25
# How far the idle cores must be from the count before it moves, in cores. Down at half
# a core: a process spinning beside the run's two threads gets only about two thirds of
# a core, the rest being theirs. Up at three quarters: beside one thread, a neighbour
# shows whole, and one that has gone shows as none.
DOWN, UP = 0.5, 0.75
RECORDED_CHANGES = 100  # at most this many in meta.json


class ThreadWatch:
    """``auto``'s count kept to the cores idle while training (see the module's
    docstring). ``apply(threads)`` sets a new count; ``changes`` lists each one as
    {"epoch", "step", "threads"}.

    The count is the run's state: ``begin`` takes a resumed run's from its checkpoint
    (the training loop's ``progress.threads``), so the steps after it multiply as those
    of the run that was never stopped did. The first look starts with the first step,
    not before: building the compiled kernels in a child process, say, is no neighbour.
    A count moves down when the idle cores are ``DOWN`` below it and up when they are
    ``UP`` above it, so a load hovering near a half core does not flip it at every look."""

    def __init__(self, threads: int, apply, cores: int):
        self.threads, self.apply, self.cores = threads, apply, cores
        self.changes: list[dict] = []
        self.progress, self.first_step, self.due = None, 0, None  # due: set by the first step
        self.cpus = cpu_load.usable_cpus()

    def begin(self, progress) -> None:
        """Training starts (or resumes) at ``progress`` (epoch, step, threads)."""
        self.progress, self.first_step = progress, progress.step
        if progress.threads is not None and progress.threads != self.threads:
            self.threads = progress.threads
            self.apply(self.threads)
        progress.threads = self.threads

    def _look_from(self, reading) -> None:
        now = time.perf_counter()
        self.since, self.due = reading, now + WATCH_SECONDS
        self.quick, self.quick_due = reading, now + QUICK_SECONDS

    def tick(self, epoch: int, step: int) -> None:
        """After a step: every ``WATCH_SECONDS``, move to the cores left idle; every
        ``QUICK_SECONDS`` in between (at more than one thread), down at once if the
        run's threads waited for cores that others kept busy."""
        if self.due is None:
            self._look_from(cpu_load.reading(self.cpus))
            return
        now = time.perf_counter()
        regular, quick = now >= self.due, now >= self.quick_due and self.threads > 1
        if not (regular or quick):
            return
        reading = cpu_load.reading(self.cpus)
        if quick:
            contention = cpu_load.contention(self.quick, reading)
            self.quick, self.quick_due = reading, now + QUICK_SECONDS
            if contention is not None:
                waiting, busy = contention
                if waiting >= WAITING and self.cores - busy <= self.threads - DOWN:
                    self._move(free_cores(self.cores, busy), epoch, step)
                    self._look_from(reading)  # the next looks measure the new count
                    return
        if regular:
            contention = cpu_load.contention(self.since, reading)
            if contention is not None:
                busy = contention[1]
                if not self.threads - DOWN < self.cores - busy < self.threads + UP:
                    self._move(free_cores(self.cores, busy), epoch, step)
            self._look_from(reading)

    def _move(self, wanted: int, epoch: int, step: int) -> None:
        if wanted != self.threads:
            self.threads = wanted
            self.apply(wanted)
            if self.progress is not None:
                self.progress.threads = wanted
            self.changes.append({"epoch": epoch, "step": step, "threads": wanted})

    def record(self, meta: dict) -> None:
        """Into ``meta``: the changes of the steps kept (a resumed run's earlier ones up
        to its checkpoint), then this session's, ``RECORDED_CHANGES`` at most."""
        kept = [c for c in meta.get("thread_changes", []) if c.get("step", 0) <= self.first_step] + self.changes
        if kept:
            meta["thread_changes"] = kept[:RECORDED_CHANGES]


def watch_threads(setting: int | str, threads: int, processes: int, work: int, apply) -> ThreadWatch | None:
    """A :class:`ThreadWatch` for an ``auto`` run of one process whose count the
    machine decides: not a small model (one thread everywhere), not one the
    environment limits, not a data-parallel run, not on one core."""
    cores = usable_cores()
    if setting != "auto" or processes > 1 or environment_limit() is not None or cores == 1 or work < SMALL_WORK:
        return None
    return ThreadWatch(threads, apply, cores)


def set_blas_threads(threads: int) -> None:
    """Limit the BLAS libraries to ``threads`` from now on (inside :func:`blas_threads`,
    whose end restores what they had before it)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


@contextmanager
def blas_threads(threads: int):
    """Limit every BLAS library numpy loaded to ``threads`` inside the block."""
    from threadpoolctl import threadpool_limits  # a few ms; only a training run needs it

    with threadpool_limits(limits=threads, user_api="blas"):
        yield
