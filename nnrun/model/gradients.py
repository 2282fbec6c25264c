"""What happens to the gradient buffer between the backward pass and the update: the
check that every gradient is finite, and clipping.

    if clipvalue is not None and not all_finite(grads): ...    # before clipping (see below)
    clip_by_value(grads, clipvalue)
    clip_by_global_norm(grads, global_clipnorm)

Clipping by value turns an infinity into the clip value, so the finite check must come
before it; clipping by norm keeps a NaN or an infinity non-finite (an infinite norm
scales the gradient by zero, and infinity times zero is NaN).

May import: numpy and :mod:`nnrun.model.kernels`.
"""

from __future__ import annotations

import math

import numpy as np

from nnrun.model.kernels import compiled


def all_finite(grads: np.ndarray) -> bool:
    """Whether no gradient is NaN or infinite.

    One sum over the flat buffer in its own dtype: a NaN or an infinity makes the sum
    non-finite, and a finite sum proves every element finite. Only a non-finite sum is
    looked at again element by element, because a sum of finite float32 values can
    overflow; this costs a fraction of a float64 sum (which converts every element). With
    the compiled kernels loaded one compiled pass decides instead."""
    kernel = compiled("all_finite", grads) if grads.ndim == 1 else None
    if kernel is not None:
        return kernel(grads)
    with np.errstate(over="ignore"):
        total = float(grads.sum())
    return math.isfinite(total) or bool(np.isfinite(grads).all())


def clip_by_value(grads: np.ndarray, limit: float) -> None:
    """Clamp each gradient to [-limit, limit], in place."""
    np.clip(grads, -limit, limit, out=grads)


def clip_by_global_norm(grads: np.ndarray, limit: float) -> None:
    """Scale the whole gradient by ``limit / max(||g||, limit)``, in place, the norm taken
    over every parameter together (Keras's ``global_clipnorm``)."""
    norm = math.sqrt(float(np.vdot(grads, grads)))
    if math.isinf(norm) and all_finite(grads):
        # Finite gradients whose float32 sum of squares overflows (a norm over 1.8e19):
        # the norm again in float64, or they would all be scaled to zero.
        wide = grads.astype(np.float64)
        norm = math.sqrt(float(np.vdot(wide, wide)))
    if norm > limit:
        grads *= limit / norm
