"""Central-difference gradient checks in float64."""

from __future__ import annotations

import numpy as np

EPS = 1e-6
RTOL = 1e-5
ATOL = 1e-7


def numeric_grad(f, x: np.ndarray) -> np.ndarray:
    """d f / d x by central differences, one element at a time (x is modified and restored)."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + EPS
        up = f()
        flat[i] = saved - EPS
        down = f()
        flat[i] = saved
        gflat[i] = (up - down) / (2 * EPS)
    return grad


def assert_close(analytic, numeric, what: str) -> None:
    analytic = np.asarray(analytic, dtype=np.float64)
    error = np.abs(analytic - numeric)
    limit = ATOL + RTOL * np.abs(numeric)
    worst = np.unravel_index(np.argmax(error - limit), error.shape) if error.size else ()
    assert np.all(error <= limit), (
        f"{what}: analytic {analytic[worst]:.10g} vs numeric {numeric[worst]:.10g} at {worst}, "
        f"max error {error.max():.3g}"
    )
