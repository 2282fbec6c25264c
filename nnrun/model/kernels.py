"""Compiled update kernels from the optional ``fast`` extra (numba), for large models.

    kernels.prepare(parameters)             # at the start of training: load them if they pay
    kernel = adam_kernel(weights.size)      # None: use the NumPy code
    kernel(weights, grads, m, v, *constants)
    finite_kernel(grads.size)(grads)        # the gradient check before each update

Why: NumPy runs an Adam update as a dozen separate passes over every parameter
(multiply, add, square, sqrt, divide, ...), each reading and writing the whole buffer.
On a 784-256-256-10 MLP at batch 32 that was half of each training step. A compiled
loop does it in one pass, about four times faster. The check that every gradient is
finite, done before each update, is one compiled pass too.

The kernels do the same float32 operations in the same order as the NumPy code (no
fast-math reordering, no fused multiply-add), so the weights come out bit for bit the
same with or without the extra: installing it changes the speed, never the result.

Why only for large models: importing numba and loading the kernels costs about one
second per process (compiling them, the first time after installing, two more; the
result is cached on disk), which a model of a few thousand parameters never wins
back. So numba is imported only when training starts on a model with at least
``MIN_PARAMETERS`` parameters (:func:`prepare`), never by ``nnrun --help``, ``validate``
or a small model's run. ``NNRUN_KERNELS=numpy`` in the environment turns the kernels
off (to compare, or to rule them out).
"""

from __future__ import annotations

import os
from typing import Callable

MIN_PARAMETERS = 100_000
_SWITCH = "NNRUN_KERNELS"
_loaded: dict[str, Callable] = {}
_unavailable: list[bool] = []  # set once numba failed to import: never try again


def enabled() -> bool:
    """Whether the environment allows the compiled kernels (``NNRUN_KERNELS`` unset or
    not ``numpy``)."""
    return os.environ.get(_SWITCH, "").strip().lower() != "numpy"


def prepare(parameters: int) -> bool:
    """Load the kernels (once per process) when a model of ``parameters`` trainable
    parameters is about to train and they pay for themselves; returns whether they are
    in use. Without numba installed this is False and costs nothing more."""
    if parameters < MIN_PARAMETERS or _unavailable or not enabled():
        return False
    if not _loaded:
        try:
            _loaded.update(_compile())
        except ImportError:
            _unavailable.append(True)
            return False
    return True


def adam_kernel(size: int) -> Callable | None:
    """The fused Adam update for a buffer of ``size`` parameters, or None when the NumPy
    code should run: the model is small, the kernels are switched off, or they were
    never loaded (numba is not installed, or nothing called :func:`prepare`)."""
    if size < MIN_PARAMETERS or not _loaded or not enabled():
        return None
    return _loaded["adam"]


def finite_kernel(size: int) -> Callable | None:
    """``all_finite(buffer) -> bool`` in one compiled pass, or None (as :func:`adam_kernel`)."""
    if size < MIN_PARAMETERS or not _loaded or not enabled():
        return None
    return _loaded["all_finite"]


def _compile() -> dict[str, Callable]:
    import numba
    import numpy as np

    # Explicit signatures compile (or load from the disk cache) here, in prepare(),
    # rather than inside the first training step.
    vector, scalar = numba.float32[::1], numba.float32

    @numba.njit(numba.boolean(vector), cache=True, nogil=True, error_model="numpy")
    def all_finite(values):
        # x - x is 0 for every finite x and NaN for NaN and the infinities; an OR over
        # the whole buffer, without an early exit, lets the loop run in vector registers.
        bad = False
        for i in range(values.size):
            bad |= (values[i] - values[i]) != 0
        return not bad

    @numba.njit(numba.void(vector, vector, vector, vector, *[scalar] * 6), cache=True, nogil=True,
                error_model="numpy")
    def adam(weights, grads, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon, step_size):
        # Each line rounds to float32 where the NumPy code does (see Adam.update).
        for i in range(weights.size):
            g = grads[i]
            m_i = m[i] * beta_1 + g * one_minus_beta_1
            v_i = v[i] * beta_2 + (g * g) * one_minus_beta_2
            m[i] = m_i
            v[i] = v_i
            weights[i] -= (m_i / (np.sqrt(v_i) + epsilon)) * step_size

    return {"adam": adam, "all_finite": all_finite}
