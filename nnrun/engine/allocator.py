"""Freed memory kept for the next training step instead of handed back to the system.

    keep_freed_memory(step_bytes)    # once, before the first epoch

Why: every layer output and gradient of a step is a fresh numpy array of the same size
as the step before. glibc's malloc serves blocks over its mmap threshold (128 KiB at
first, raised as blocks are freed, to 32 MiB at most) with fresh mappings, and hands
the top of its heap back to the system once more than the trim threshold (twice the
mmap threshold) lies free there. Either way the next step's arrays land on new pages,
and the first write to each page is a page fault. A convolution network at batch 128
(a 14 MB step) spent about a third of its step time on them at two threads, where
both threads fault at once: median 33 against 22-25 ms per step with the two
thresholds raised (``benchmarks/profile_step.py --case cnn``).

So a run whose steps allocate over ``MIN_STEP_BYTES`` raises both thresholds once:
blocks up to ``MMAP_THRESHOLD`` come from the heap, and up to ``TRIM_THRESHOLD`` of
free heap is kept. The process's peak memory is what the largest step needs either
way; what changes is that the memory is not returned between steps. Only glibc has
these settings (``mallopt``); elsewhere this does nothing. glibc's own
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` in the environment win.

May import: the standard library.
"""

from __future__ import annotations

import os
import sys

MIN_STEP_BYTES = 1 << 20  # a step's layer outputs; below this they fit under the default thresholds
MMAP_THRESHOLD = 32 << 20  # glibc's largest (HEAP_MAX / 2 on 64-bit)
TRIM_THRESHOLD = 512 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
_ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_done: list[bool] = []


def keep_freed_memory(step_bytes: int) -> bool:
    """Raise glibc's thresholds (once per process) when a step allocates
    ``step_bytes`` or more; returns whether they are raised now."""
    if _done:
        return _done[0]
    if step_bytes < MIN_STEP_BYTES:
        return False
    _done.append(_raise_thresholds())
    return _done[0]


def _raise_thresholds() -> bool:
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _ENVIRONMENT):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    # mallopt returns 1 on success; the mmap threshold first, as setting it fixes the
    # dynamic one the trim threshold would otherwise follow.
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
