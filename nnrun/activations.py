"""Element-wise activations, each a forward and its derivative side by side.

``forward(z) -> y``. ``backward(z, y, dy) -> dz`` gets both the input ``z`` and the
output ``y``; the activations here need only ``y`` (as scikit-learn derives them from
the forward output), so layers cache ``y`` and pass ``z=None`` unless
``needs_input`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class ActivationFn:
    name: str
    forward: Callable[[Array], Array]
    backward: Callable[[Array | None, Array, Array], Array]
    needs_input: bool = False


def _relu(z: Array) -> Array:
    return np.maximum(z, 0)


def _relu_grad(z: Array | None, y: Array, dy: Array) -> Array:
    return dy * (y > 0)


def _sigmoid(z: Array) -> Array:
    # Split by sign so exp never overflows: 1/(1+e^-z) for z>=0, e^z/(1+e^z) otherwise.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def _sigmoid_grad(z: Array | None, y: Array, dy: Array) -> Array:
    return dy * y * (1 - y)


def _tanh_grad(z: Array | None, y: Array, dy: Array) -> Array:
    return dy * (1 - y * y)


def softmax(z: Array) -> Array:
    """softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z) over the last axis."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _softmax_grad(z: Array | None, y: Array, dy: Array) -> Array:
    # Jacobian-vector product of softmax: y * (dy - <dy, y>).
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def _linear(z: Array) -> Array:
    return z


def _linear_grad(z: Array | None, y: Array, dy: Array) -> Array:
    return dy


ACTIVATIONS: dict[str, ActivationFn] = {
    fn.name: fn
    for fn in (
        ActivationFn("linear", _linear, _linear_grad),
        ActivationFn("relu", _relu, _relu_grad),
        ActivationFn("sigmoid", _sigmoid, _sigmoid_grad),
        ActivationFn("tanh", np.tanh, _tanh_grad),
        ActivationFn("softmax", softmax, _softmax_grad),
    )
}
