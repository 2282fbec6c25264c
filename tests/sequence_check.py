"""Gradient checks of one layer with an optional mask, in float64 (shared by the
sequence layer tests)."""

from __future__ import annotations

import numpy as np
from gradcheck import assert_close, numeric_grad


def random_mask(rng, batch: int, steps: int) -> np.ndarray:
    """Post-padding of random lengths, at least one real step per sequence, and one
    sequence that is not padded at all."""
    lengths = rng.integers(1, steps + 1, batch)
    lengths[0] = steps
    return np.arange(steps)[None, :] < lengths[:, None]


def check_layer(layer, shapes, mask=None, batch=3, seed=0, training=True):
    """Checks dx and every parameter gradient of ``layer`` against central differences
    of ``sum(y * w)`` for a random ``w``; ``shapes`` is one shape or a list (merges)."""
    rng = np.random.default_rng(seed)
    params = {k: v + rng.normal(0, 0.1, v.shape) for k, v in layer.init(shapes, rng, np.float64).items()}
    many = isinstance(shapes, list)
    xs = [rng.uniform(-1, 1, (batch, *s)) for s in (shapes if many else [shapes])]
    x = xs if many else xs[0]
    kwargs = {} if mask is None else {"mask": mask}

    def run():
        return layer.forward(params, x, training, np.random.default_rng(1), **kwargs)

    out, cache = run()
    weights = rng.normal(size=out.shape)

    def loss():
        return float(np.sum(run()[0] * weights))

    dx, grads = layer.backward(params, cache, weights)
    for xi, dxi in zip(xs, dx if many else [dx]):
        assert dxi.shape == xi.shape
        assert_close(dxi, numeric_grad(loss, xi), f"{layer.type} d/dx")
    assert set(grads) == set(params)
    for name, value in params.items():
        assert_close(grads[name], numeric_grad(loss, value), f"{layer.type} d/d{name}")
    return out
