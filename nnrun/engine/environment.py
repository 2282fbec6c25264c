"""What bit-identical results depend on beyond the config and the data: the versions of
nnrun, Python and NumPy, the BLAS library and its threads, the platform. A run records
them in meta.json (``environment``); a resume compares them (see :mod:`.resume`).

May import: numpy and the leaves.
"""

from __future__ import annotations

import os
import platform
import sys

import numpy as np

from nnrun.version import __version__


def environment(threads: int | None = None) -> dict:
    """Versions, BLAS and thread settings: what bit-identical results depend on.
    ``threads``: the BLAS threads the run uses (see :mod:`nnrun.engine.threads`)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = {"name": blas.get("name"), "version": blas.get("version")}
    except Exception:  # the layout of numpy's build info is not a stable API
        blas = {}
    settings = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    return {
        "blas_threads": threads if threads is not None else blas_threads(settings),
        "nnrun": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform_text(),
        "blas": blas,
        "cpu_count": os.cpu_count(),
        "thread_settings": settings,
    }


def platform_text() -> str:
    """``platform.platform()``'s text, as runs have always recorded it, without its
    ``uname -p`` subprocess on Linux (6.5 ms of every run's start): there it names the
    system, release and machine and the C library, and leaves out the processor where
    ``uname -p`` says unknown or repeats the machine, as it does on common Linux systems."""
    if sys.platform != "linux":
        return platform.platform()
    system = platform.uname()  # its processor is looked up only when read
    libc, version = platform.libc_ver()
    text = "-".join(part.strip() for part in (system.system, system.release, system.machine, "with", libc + version)
                    if part)
    # platform.platform()'s clean-up, for a file name: no spaces, slashes, colons,
    # quotes or brackets, no "unknown", no doubled dashes.
    for character in ' /\\:;"()':
        text = text.replace(character, "_" if character == " " else "-")
    text = text.replace("unknown", "")
    while "--" in text:
        text = text.replace("--", "-")
    return text.rstrip("-")


def blas_threads(settings: dict[str, str]) -> int:
    """Threads the BLAS library uses: its variable, else OMP_NUM_THREADS, else every
    CPU this process may run on (OpenBLAS and MKL read these at start-up)."""
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if settings.get(name, "").strip().isdigit():
            return int(settings[name])
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
