"""The compiled kernels' code: plain Python loops that numba compiles (see
:mod:`nnrun.model.kernels`), each with the one signature it is compiled for.

They are plain functions, not decorated ones, because they are compiled two ways from
this one text: ahead of time into a small extension module that a training process
imports without numba (:mod:`nnrun.model.kernel_build`), or, where that cannot be
built, by numba in the training process itself. Both use numba's defaults for
floating point (no fast-math reordering, no fused multiply-add) and NumPy's error
model (a division by zero gives inf or NaN, as in NumPy), so each loop does the same
float32 operations in the same order as the NumPy code it replaces.

An ahead-of-time kernel does not check its arguments' types and layouts as numba's
dispatcher does: :func:`nnrun.model.kernels.compiled` hands out a kernel only for
C-ordered float32 arrays.

May import: numpy.
"""

from __future__ import annotations

import numpy as np

zero, one = np.float32(0), np.float32(1)

_VECTOR = "float32[::1]"
_IMAGES = "float32[:, :, :, ::1]"

# name: numba signature. Explicit signatures compile everything at once, before the
# first training step, rather than inside it.
SIGNATURES = {
    "all_finite": f"boolean({_VECTOR})",
    "adam": f"int64({', '.join([_VECTOR] * 4 + ['float32'] * 6)})",
    "bias_relu": f"void(float32[:, ::1], {_VECTOR})",
    "relu_gradient": f"void({_VECTOR}, {_VECTOR}, {_VECTOR})",
    "max_pool_forward": f"void({_IMAGES}, {_IMAGES}, int64, int64, int64, int64)",
    "max_pool_backward_tiled": f"void({_IMAGES}, {_IMAGES}, {_IMAGES}, {_IMAGES}, int64, int64, boolean)",
}


def all_finite(values):
    # x - x is 0 for every finite x and NaN for NaN and the infinities; an OR over
    # the whole buffer, without an early exit, lets the loop run in vector registers.
    bad = False
    for i in range(values.size):
        bad |= (values[i] - values[i]) != 0
    return not bad


# Parameters an Adam step checks and then updates at a time: 16 KiB of gradients, still
# in the core's first-level cache when the update reads them again.
ADAM_BLOCK = 4096


def adam(weights, grads, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon, step_size):
    # Block by block, the block's gradients are checked as all_finite does, then its
    # parameters updated: one pass over the gradients where a check before the update
    # made two. A block holding a NaN or an infinity is left as it was, and so is every
    # block after it; the count of parameters updated is returned (all of them when every
    # gradient is finite). Loops over slices, not index ranges, so that numba vectorizes
    # them. Each line of the update rounds to float32 where the NumPy code does (see
    # Adam.update).
    for start in range(0, weights.size, ADAM_BLOCK):
        stop = min(start + ADAM_BLOCK, weights.size)
        g = grads[start:stop]
        bad = False
        for i in range(g.size):
            bad |= (g[i] - g[i]) != 0
        if bad:
            return start
        w_block, m_block, v_block = weights[start:stop], m[start:stop], v[start:stop]
        for i in range(g.size):
            g_i = g[i]
            m_i = m_block[i] * beta_1 + g_i * one_minus_beta_1
            v_i = v_block[i] * beta_2 + (g_i * g_i) * one_minus_beta_2
            m_block[i] = m_i
            v_block[i] = v_i
            w_block[i] -= (m_i / (np.sqrt(v_i) + epsilon)) * step_size
    return weights.size


def bias_relu(z, bias):
    # z += bias, then np.maximum(z, 0): NaN stays NaN, and -0.0 becomes 0.0 as
    # np.maximum gives its second argument on ties.
    for i in range(z.shape[0]):
        row = z[i]
        for j in range(row.size):
            t = row[j] + bias[j]
            row[j] = t if (t > zero or t != t) else zero


def relu_gradient(y, dy, out):
    # dy * (y > 0): a product with 1 or 0, as NumPy multiplies by the boolean mask
    # (so an infinite dy times 0 is NaN there too).
    for i in range(out.size):
        out[i] = dy[i] * (one if y[i] > zero else zero)


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


def max_pool_backward_tiled(xp, y, dy, dxp, pool_h, pool_w, relu_input):
    # Windows that tile the image: each input pixel gets dy times 1 if its tap won
    # the window, else times 0, as MaxPool2D.backward. The first tap equal to the
    # maximum wins; the last tap takes a window no other tap won (NaN windows). With
    # relu_input, dy is first multiplied by 1 where the maximum is positive, else by 0:
    # relu's gradient, as MaxPool2D.backward takes it for the layer it reads.
    n, out_h, out_w, channels = y.shape
    taps = pool_h * pool_w
    unclaimed = np.empty(channels, np.bool_)
    g = np.empty(channels, np.float32)
    for i in range(n):
        for r in range(out_h):
            for q in range(out_w):
                top, incoming = y[i, r, q], dy[i, r, q]
                for c in range(channels):
                    g[c] = incoming[c] * (one if top[c] > zero else zero) if relu_input else incoming[c]
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
