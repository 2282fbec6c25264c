"""Compiled kernels from the optional ``fast`` extra (numba), for large models and
large activations.

    kernels.prepare(parameters, values)     # at the start of training: load them if they pay
    kernel = compiled("adam", weights, grads, m, v)   # None: use the NumPy code
    kernel(weights, grads, m, v, *constants)
    compiled("all_finite", grads)(grads)               # the gradient check before each update
    compiled("max_pool_forward", images)               # the element-wise kernels alike

Why: NumPy runs an Adam update as a dozen separate passes over every parameter
(multiply, add, square, sqrt, divide, ...), each reading and writing the whole buffer.
On a 784-256-256-10 MLP at batch 32 that was half of each training step. A compiled
loop does it in one pass, about four times faster. The check that every gradient is
finite, done before each update, is one compiled pass too. The same holds for a
convolution network's element-wise work, which is most of its step: a bias added and
relu applied in two passes, relu's gradient in two (a mask, then a product), a 2 x 2
max pool in four forward and eleven backward. Each has a one-pass kernel here
(:func:`compiled`), which the layers split by rows over the run's threads like their
NumPy code (the kernels release the GIL).

The kernels do the same float32 operations in the same order as the NumPy code (no
fast-math reordering, no fused multiply-add), so the weights come out bit for bit the
same with or without the extra: installing it changes the speed, never the result.

Why only for large models: importing numba and loading the kernels costs about one
second per process (compiling them, the first time after installing, a few more; the
result is cached on disk), which a model of a few thousand parameters never wins
back. So numba is imported only when training starts on a model with at least
``MIN_PARAMETERS`` parameters or whose layers compute at least ``MIN_VALUES`` values
per epoch (:func:`prepare`), never by ``nnrun --help``, ``validate`` or a small
model's run. ``NNRUN_KERNELS=numpy`` in the environment turns the kernels
off (to compare, or to rule them out).
"""

from __future__ import annotations

import os
from typing import Callable

MIN_PARAMETERS = 100_000
# Layer outputs per epoch (values per sample x training samples): at 10^8, a few
# tenths of a second saved per epoch by the element-wise kernels.
MIN_VALUES = 100_000_000
_SWITCH = "NNRUN_KERNELS"
_loaded: dict[str, Callable] = {}
_unavailable: list[bool] = []  # set once numba failed to import: never try again
_FLOAT32 = "float32"  # compared with array dtypes, so this module needs no numpy


def enabled() -> bool:
    """Whether the environment allows the compiled kernels (``NNRUN_KERNELS`` unset or
    not ``numpy``)."""
    return os.environ.get(_SWITCH, "").strip().lower() != "numpy"


def prepare(parameters: int, values: int = 0) -> bool:
    """Load the kernels (once per process) when a model of ``parameters`` trainable
    parameters whose layers output ``values`` values per epoch is about to train and
    they pay for themselves; returns whether they are in use. Without numba installed
    this is False and costs nothing more."""
    if (parameters < MIN_PARAMETERS and values < MIN_VALUES) or _unavailable or not enabled():
        return False
    if not _loaded:
        try:
            _loaded.update(_compile())
        except ImportError:
            _unavailable.append(True)
            return False
    return True


def compiled(name: str | None, *arrays) -> Callable | None:
    """The loaded kernel ``name`` (see :func:`_compile`) when it takes ``arrays`` (the
    kernels are compiled for C-ordered float32 only), or None when the NumPy code
    should run: the kernels are switched off, or were never loaded (numba is not
    installed, or :func:`prepare` found they would not pay)."""
    if name is None or not _loaded or not enabled():
        return None
    if not all(a.dtype == _FLOAT32 and a.flags.c_contiguous for a in arrays):
        return None
    return _loaded[name]


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

    zero, one = np.float32(0), np.float32(1)

    @numba.njit(numba.void(numba.float32[:, ::1], vector), cache=True, nogil=True, error_model="numpy")
    def bias_relu(z, bias):
        # z += bias, then np.maximum(z, 0): NaN stays NaN, and -0.0 becomes 0.0 as
        # np.maximum gives its second argument on ties.
        for i in range(z.shape[0]):
            row = z[i]
            for j in range(row.size):
                t = row[j] + bias[j]
                row[j] = t if (t > zero or t != t) else zero

    @numba.njit(numba.void(vector, vector, vector), cache=True, nogil=True, error_model="numpy")
    def relu_gradient(y, dy, out):
        # dy * (y > 0): a product with 1 or 0, as NumPy multiplies by the boolean mask
        # (so an infinite dy times 0 is NaN there too).
        for i in range(out.size):
            out[i] = dy[i] * (one if y[i] > zero else zero)

    images = numba.float32[:, :, :, ::1]
    index = numba.int64

    @numba.njit(numba.void(images, images, index, index, index, index), cache=True, nogil=True,
                error_model="numpy")
    def max_pool_forward(xp, y, pool_h, pool_w, stride_h, stride_w):
        # Tap by tap, as MaxPool2D.forward: y = np.maximum(y, tap), which keeps NaN and
        # gives the tap on ties. The channel loop is innermost and contiguous.
        n, out_h, out_w, channels = y.shape
        for i in range(n):
            for r in range(out_h):
                for q in range(out_w):
                    out = y[i, r, q]
                    first = xp[i, r * stride_h, q * stride_w]
                    for c in range(channels):
                        out[c] = first[c]
                    for u in range(pool_h):
                        for v in range(pool_w):
                            if u == 0 and v == 0:
                                continue
                            tap = xp[i, r * stride_h + u, q * stride_w + v]
                            for c in range(channels):
                                m, t = out[c], tap[c]
                                out[c] = m if (m > t or m != m) else t

    @numba.njit(numba.void(images, images, images, images, index, index), cache=True, nogil=True,
                error_model="numpy")
    def max_pool_backward_tiled(xp, y, dy, dxp, pool_h, pool_w):
        # Windows that tile the image: each input pixel gets dy times 1 if its tap won
        # the window, else times 0, as MaxPool2D.backward. The first tap equal to the
        # maximum wins; the last tap takes a window no other tap won (NaN windows).
        n, out_h, out_w, channels = y.shape
        taps = pool_h * pool_w
        unclaimed = np.empty(channels, np.bool_)
        for i in range(n):
            for r in range(out_h):
                for q in range(out_w):
                    top, g = y[i, r, q], dy[i, r, q]
                    for c in range(channels):
                        unclaimed[c] = True
                    for u in range(pool_h):
                        for v in range(pool_w):
                            k = u * pool_w + v
                            tap = xp[i, r * pool_h + u, q * pool_w + v]
                            d = dxp[i, r * pool_h + u, q * pool_w + v]
                            for c in range(channels):
                                if k == 0:
                                    won = tap[c] == top[c]
                                elif k == taps - 1:
                                    won = unclaimed[c]
                                else:
                                    won = unclaimed[c] and tap[c] == top[c]
                                d[c] = g[c] * (one if won else zero)
                                unclaimed[c] = unclaimed[c] and not won

    return {"adam": adam, "all_finite": all_finite, "bias_relu": bias_relu, "relu_gradient": relu_gradient,
            "max_pool_forward": max_pool_forward, "max_pool_backward_tiled": max_pool_backward_tiled}
