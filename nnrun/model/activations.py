"""Element-wise activations, each a forward and its derivative side by side.

``forward(z) -> y``. ``backward(z, y, dy) -> dz`` gets both the input ``z`` and the
output ``y``; most derivatives follow from ``y`` alone (as scikit-learn derives them
from the forward output), so layers cache ``y`` and pass ``z=None`` unless
``needs_input`` says otherwise (gelu, silu, softplus, leaky_relu need ``z``).

Constants follow Keras: leaky_relu slope 0.2, elu alpha 1, selu's alpha and scale
from Klambauer et al., gelu in its erf form (not the tanh approximation), with erf
computed to within 1e-7.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from nnrun.model import kernels
from nnrun.model.rows import over_rows, splits

Array = np.ndarray

LEAKY_SLOPE = 0.2
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
INV_SQRT2 = 1 / math.sqrt(2)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class ActivationFn:
    name: str
    forward: Callable[[Array], Array]
    backward: Callable[[Array | None, Array, Array], Array]
    needs_input: bool = False
    # Overwrites its argument with the output: for layers that own a fresh ``z`` and do
    # not keep it, saving a data-sized allocation per call (page faults included).
    in_place: Callable[[Array], Array] | None = None
    # ``backward`` written into a given array (z, y, dy, out): spares a data-sized
    # result and its copy where a layer fills a gradient row range by row range.
    backward_into: Callable[[Array | None, Array, Array, Array], object] | None = None
    # Names of one-pass compiled kernels (:mod:`nnrun.model.kernels`, the ``fast``
    # extra) for ``z + bias`` in place and for the gradient, used when loaded.
    kernel_with_bias: str | None = None
    kernel_gradient: str | None = None

    def apply(self, z: Array, bias: Array | None = None) -> tuple[Array, Array | None]:
        """``(y, z or None)`` of ``z + bias`` for a ``z`` the caller owns: in place when
        possible, split by rows over the run's threads (:mod:`nnrun.model.rows`), and
        ``z`` returned only when ``backward`` needs it."""
        if self.in_place is None or self.needs_input:
            if bias is not None:
                z += bias
            return self.forward(z), (z if self.needs_input else None)

        fused = kernels.compiled(self.kernel_with_bias, z, bias) if bias is not None else None

        def finish(a, b):
            if fused is not None:
                fused(z[a:b].reshape(-1, bias.size), bias)
                return
            if bias is not None:
                z[a:b] += bias
            self.in_place(z[a:b])

        over_rows(len(z), finish, z.size)
        return z, None

    def gradient(self, z: Array | None, y: Array, dy: Array) -> Array:
        """``backward`` split by rows over the run's threads, each range writing its own
        rows of the gradient (directly, with ``backward_into`` or a compiled kernel)."""
        fused = kernels.compiled(self.kernel_gradient, y, dy)
        if fused is None and not splits(len(dy), dy.size):
            return self.backward(z, y, dy)
        dz = np.empty(dy.shape, dy.dtype)

        def rows(a, b):
            part = None if z is None else z[a:b]
            if fused is not None:
                fused(y[a:b].reshape(-1), dy[a:b].reshape(-1), dz[a:b].reshape(-1))
            elif self.backward_into is not None:
                self.backward_into(part, y[a:b], dy[a:b], dz[a:b])
            else:
                dz[a:b] = self.backward(part, y[a:b], dy[a:b])

        over_rows(len(dz), rows, dz.size)
        return dz


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


def _leaky_relu(z: Array) -> Array:
    return np.where(z > 0, z, LEAKY_SLOPE * z).astype(z.dtype, copy=False)


def _leaky_relu_grad(z: Array, y: Array, dy: Array) -> Array:
    return dy * np.where(z > 0, 1.0, LEAKY_SLOPE).astype(dy.dtype, copy=False)


def _elu(z: Array) -> Array:
    # expm1 of min(z, 0) keeps exp from overflowing on the branch that is not taken.
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0))).astype(z.dtype, copy=False)


def _elu_grad(z: Array | None, y: Array, dy: Array) -> Array:
    # d/dz (e^z - 1) = e^z = y + 1 for z <= 0.
    return dy * np.where(y > 0, 1, y + 1).astype(dy.dtype, copy=False)


def _selu(z: Array) -> Array:
    return (SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))).astype(z.dtype, copy=False)


def _selu_grad(z: Array | None, y: Array, dy: Array) -> Array:
    # For z <= 0, y = scale alpha (e^z - 1), so dy/dz = scale alpha e^z = y + scale alpha.
    return dy * np.where(y > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA).astype(dy.dtype, copy=False)


# numpy has no erf. This is the Chebyshev fit of erfc from Numerical Recipes
# (erfcc): absolute error below 1e-7 everywhere, under float32's resolution near 1,
# and about twenty times faster than calling math.erf per element.
_ERFC_FIT = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
             0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _erf_vector(z: Array) -> Array:
    a = np.abs(z)
    t = 1 / (1 + 0.5 * a)
    poly = _ERFC_FIT[-1]
    for coefficient in _ERFC_FIT[-2::-1]:
        poly = coefficient + t * poly
    return np.copysign(1 - t * np.exp(poly - a * a), z)


def _gelu(z: Array) -> Array:
    """gelu(z) = z * Phi(z), Phi the standard normal CDF = (1 + erf(z / sqrt 2)) / 2."""
    return (0.5 * z * (1 + _erf_vector(z * INV_SQRT2))).astype(z.dtype, copy=False)


def _gelu_grad(z: Array, y: Array, dy: Array) -> Array:
    # d/dz z Phi(z) = Phi(z) + z phi(z), phi the standard normal density.
    cdf = 0.5 * (1 + _erf_vector(z * INV_SQRT2))
    pdf = np.exp(-0.5 * z * z) * INV_SQRT_2PI
    return dy * (cdf + z * pdf).astype(dy.dtype, copy=False)


def _silu(z: Array) -> Array:
    """silu(z) = swish(z) = z * sigmoid(z)."""
    return z * _sigmoid(z)


def _silu_grad(z: Array, y: Array, dy: Array) -> Array:
    # d/dz z s(z) = s + z s (1 - s) = s (1 + z (1 - s)).
    s = _sigmoid(z)
    return dy * s * (1 + z * (1 - s))


def _softplus(z: Array) -> Array:
    """softplus(z) = log(1 + e^z), written as max(z, 0) + log1p(e^-|z|) so it never overflows."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _softplus_grad(z: Array, y: Array, dy: Array) -> Array:
    return dy * _sigmoid(z)


ACTIVATIONS: dict[str, ActivationFn] = {
    fn.name: fn
    for fn in (
        ActivationFn("linear", _linear, _linear_grad, in_place=_linear),
        ActivationFn("relu", _relu, _relu_grad, in_place=lambda z: np.maximum(z, 0, out=z),
                     backward_into=lambda z, y, dy, out: np.multiply(dy, y > 0, out=out),
                     kernel_with_bias="bias_relu", kernel_gradient="relu_gradient"),
        ActivationFn("sigmoid", _sigmoid, _sigmoid_grad),
        ActivationFn("tanh", np.tanh, _tanh_grad, in_place=lambda z: np.tanh(z, out=z)),
        ActivationFn("softmax", softmax, _softmax_grad),
        ActivationFn("leaky_relu", _leaky_relu, _leaky_relu_grad, needs_input=True),
        ActivationFn("elu", _elu, _elu_grad),
        ActivationFn("selu", _selu, _selu_grad),
        ActivationFn("gelu", _gelu, _gelu_grad, needs_input=True),
        ActivationFn("silu", _silu, _silu_grad, needs_input=True),
        ActivationFn("swish", _silu, _silu_grad, needs_input=True),
        ActivationFn("softplus", _softplus, _softplus_grad, needs_input=True),
    )
}
