"""Normalization layers: batch normalization and layer normalization (Keras defaults).

Both normalise ``x_hat = (x - mean) / sqrt(var + epsilon)`` and return
``y = gamma * x_hat + beta`` with ``gamma``, ``beta`` of shape (features,), the last
axis. With ``m`` values per statistic, the input gradient is

    dx = (m * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)) / (m * sqrt(var + eps)),
    dx_hat = dy * gamma,

summed over the axes the statistics were taken on.

Batch normalization over a batch split into parts (data-parallel training) takes the
same statistics over the whole batch: the sums above, and the mean and variance, are
summed over every part (synchronized batch norm), so the result does not depend on
the split beyond rounding.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.layers.base import Layer, Params, Shape


def _affine_params(features: int, dtype, center: bool, scale: bool) -> Params:
    params = {}
    if scale:
        params["gamma"] = np.ones(features, dtype)
    if center:
        params["beta"] = np.zeros(features, dtype)
    return params


def _sums(x, axes, keepdims: bool = False) -> np.ndarray:
    """Sums over ``axes``, accumulated in float64 and given back in ``x``'s dtype, as
    PyTorch accumulates batch norm's on the CPU: over the batch and image axes NumPy adds
    float32 values one row after another, and the variance of 512,000 values a channel
    (a batch of 2,000 images of 16x16) was off by a thousandth."""
    return x.sum(axis=axes, dtype=np.float64, keepdims=keepdims).astype(x.dtype, copy=False)


def _normalized_grad(dx_hat, x_hat, inv_std, axes, part=None):
    """dx from dx_hat for statistics taken over ``axes`` (see the module docstring);
    with ``part``, the rows are part of a larger batch, whose sums count."""
    if part is None:
        m = math.prod(dx_hat.shape[a] for a in axes)  # a Python int, so float32 stays float32
        total, projected = _sums(dx_hat, axes, keepdims=True), _sums(dx_hat * x_hat, axes, keepdims=True)
    else:  # the batch axis comes first in axes; (C,) sums broadcast over the last axis
        m = part.total * math.prod(dx_hat.shape[a] for a in axes[1:])
        total, projected = part.sum(np.stack([_sums(dx_hat, axes), _sums(dx_hat * x_hat, axes)]))
    return (m * dx_hat - total - x_hat * projected) * (inv_std / m)


def _batch_moments(x, axes, part):
    """Mean and biased variance over ``axes``, over every part of the batch when ``x`` is
    one part: first the mean, then the squared deviations from it (the stable two-pass
    form), each summed in float64 (see :func:`_sums`)."""
    count = math.prod(x.shape[a] for a in axes) if part is None else \
        part.total * math.prod(x.shape[a] for a in axes[1:])
    whole = (lambda sums: sums) if part is None else part.sum
    mean = whole(_sums(x, axes)) / x.dtype.type(count)
    var = whole(_sums(np.square(x - mean), axes)) / x.dtype.type(count)
    return mean, var


def _affine_grads(params: Params, dy, x_hat, axes) -> tuple[np.ndarray, dict]:
    grads = {}
    if "gamma" in params:
        grads["gamma"] = (dy * x_hat).sum(axis=axes)
    if "beta" in params:
        grads["beta"] = dy.sum(axis=axes)
    return (dy * params["gamma"] if "gamma" in params else dy), grads


class BatchNormalization(Layer):
    """Normalises each feature (last axis) over the batch and every other axis.

    Training: batch statistics, and the moving statistics are updated in place,
    ``moving = momentum * moving + (1 - momentum) * batch`` (the biased batch variance,
    as Keras does). Inference: the moving statistics. ``moving_mean`` and
    ``moving_variance`` are saved with the weights and never touched by the optimizer.
    """

    type: Literal["batch_normalization"] = "batch_normalization"
    momentum: float = Field(0.99, ge=0, lt=1, description="Decay of the moving statistics.")
    epsilon: float = Field(1e-3, gt=0, description="Added to the variance for stability.")
    center: bool = Field(True, description="Learn an offset beta.")
    scale: bool = Field(True, description="Learn a scale gamma.")
    state_params = ("moving_mean", "moving_variance")
    spans_batch = True

    check_cases = [({}, (4,)), ({"momentum": 0.9}, (2, 3)), ({"center": False, "scale": False}, (3,))]

    def init(self, input_shape: Shape, rng, dtype) -> Params:
        features = input_shape[-1]
        params = _affine_params(features, dtype, self.center, self.scale)
        params["moving_mean"] = np.zeros(features, dtype)
        params["moving_variance"] = np.ones(features, dtype)
        return params

    def forward(self, params, x, training, rng, part=None):
        axes = tuple(range(x.ndim - 1))
        if training:
            mean, var = _batch_moments(x, axes, part)
            for name, batch in (("moving_mean", mean), ("moving_variance", var)):
                moving = params[name]
                moving *= self.momentum
                moving += (1 - self.momentum) * batch
        else:
            mean, var = params["moving_mean"], params["moving_variance"]
        inv_std = 1 / np.sqrt(var + self.epsilon)
        x_hat = (x - mean) * inv_std
        y = x_hat * params["gamma"] if self.scale else x_hat
        if self.center:
            y = y + params["beta"]
        return y, (x_hat, inv_std, training, part)

    def backward(self, params, cache, dy, need_dx=True):
        x_hat, inv_std, training, part = cache
        axes = tuple(range(dy.ndim - 1))
        dx_hat, grads = _affine_grads(params, dy, x_hat, axes)
        if not need_dx:
            return None, grads
        # At inference the statistics are constants, so only the scaling remains.
        dx = _normalized_grad(dx_hat, x_hat, inv_std, axes, part) if training else dx_hat * inv_std
        return dx, grads


class LayerNormalization(Layer):
    """Normalises each sample over its last axis; the same in training and inference."""

    type: Literal["layer_normalization"] = "layer_normalization"
    epsilon: float = Field(1e-3, gt=0, description="Added to the variance for stability.")
    center: bool = Field(True, description="Learn an offset beta.")
    scale: bool = Field(True, description="Learn a scale gamma.")

    check_cases = [({}, (5,)), ({"epsilon": 1e-5}, (2, 4)), ({"center": False}, (3,))]
    keeps_mask = True

    def init(self, input_shape: Shape, rng, dtype) -> Params:
        return _affine_params(input_shape[-1], dtype, self.center, self.scale)

    def forward(self, params, x, training, rng):
        mean = x.mean(axis=-1, keepdims=True)
        inv_std = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + self.epsilon)
        x_hat = (x - mean) * inv_std
        y = x_hat * params["gamma"] if self.scale else x_hat
        if self.center:
            y = y + params["beta"]
        return y, (x_hat, inv_std)

    def backward(self, params, cache, dy, need_dx=True):
        x_hat, inv_std = cache
        batch_axes = tuple(range(dy.ndim - 1))
        dx_hat, grads = _affine_grads(params, dy, x_hat, batch_axes)
        dx = _normalized_grad(dx_hat, x_hat, inv_std, (dy.ndim - 1,)) if need_dx else None
        return dx, grads


