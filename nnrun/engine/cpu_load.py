"""How busy the machine's CPUs are, and how long this process's threads waited for
one, from Linux's counters: what ``training.threads: auto`` decides by (see
:mod:`nnrun.engine.threads`).

    busy = busy_cores()                    # other processes' cores, over 50 ms
    before = reading(cpus); ...; waiting, busy = contention(before, reading(cpus))   # over training

Everything here returns None where the counters are missing (not Linux), and the
callers then keep what they have.

May import: the standard library.
"""

from __future__ import annotations

import os
import time


def busy_cores(window: float = 0.05) -> float | None:
    """How many of this process's usable CPUs other processes kept busy over ``window``
    seconds; None where there are no counters (not Linux)."""
    cpus = usable_cpus()
    before = reading(cpus)
    time.sleep(window)
    found = contention(before, reading(cpus))
    return None if found is None else found[1]


def usable_cpus() -> set[str]:
    """The names /proc/stat gives the CPUs this process may run on ("cpu0", ...)."""
    return {f"cpu{i}" for i in (os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else ())}


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


def _thread_times() -> dict[str, tuple[int, int]]:
    """Each of this process's threads' nanoseconds so far on a CPU and waiting for one
    (runnable, not running), by thread id, from Linux's /proc/self/task/*/schedstat."""
    times = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as stat:
                running, waiting, _ = stat.read().split()
        except (OSError, ValueError):  # the thread ended since the listing
            continue
        times[tid] = int(running), int(waiting)
    return times


def reading(cpus: set[str]) -> tuple | None:
    """The counters of ``cpus`` ("cpu0", ...), this process's threads' times and the
    clock, to measure between two readings (see :func:`contention`); None where there
    are none (not Linux)."""
    try:
        return len(cpus), _cpu_ticks(cpus), _thread_times(), time.perf_counter()
    except (OSError, ValueError):
        return None


def contention(before: tuple | None, after: tuple | None) -> tuple[float, float] | None:
    """Between two :func:`reading` s, in cores: how long this process's threads waited
    for a CPU, and how busy other processes kept the CPUs (all CPUs' busy time, from
    /proc/stat in hundredths of a second, less this process's running time, to the
    nanosecond, so that even a twentieth of a second reads true)."""
    if before is None or after is None:
        return None
    cpus, (total_before, idle_before), threads_before, clock_before = before
    _, (total_after, idle_after), threads_after, clock_after = after
    total, idle, window = total_after - total_before, idle_after - idle_before, clock_after - clock_before
    if total <= 0 or window <= 0:
        return None
    kept = threads_before.keys() & threads_after.keys()  # a thread that ended took its times along
    running = sum(threads_after[t][0] - threads_before[t][0] for t in kept) / 1e9 / window
    waiting = sum(threads_after[t][1] - threads_before[t][1] for t in kept) / 1e9 / window
    return waiting, max(0.0, (total - idle) / total * cpus - running)
