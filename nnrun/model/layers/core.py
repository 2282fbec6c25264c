"""Core layers: dense, activation, dropout, and the kernel options dense shares with
convolutions."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.activations import ACTIVATIONS
from nnrun.model.initializers import InitializerSpec, initialize
from nnrun.model.layers.base import Layer, Params, Shape, batch_uniform
from nnrun.model.regularizers import RegularizerSpec

ActivationName = Literal[tuple(ACTIVATIONS)]  # type: ignore[valid-type]


class KernelLayer(Layer):
    """Shared by layers with a kernel and a bias (dense, convolutions): the options
    for initializing and regularizing them, and the activation applied after."""

    activation: ActivationName = Field("linear", description="Activation applied to the output.")

    def output_activation(self) -> str | None:
        return self.activation

    def without_activation(self) -> "KernelLayer":
        return self.model_copy(update={"activation": "linear"})
    use_bias: bool = Field(True, description="Add a learned bias.")
    kernel_initializer: InitializerSpec = Field("glorot_uniform", description="Kernel initializer.")
    bias_initializer: InitializerSpec = Field("zeros", description="Bias initializer.")
    kernel_regularizer: RegularizerSpec | None = Field(None, description="Penalty on the kernel: l1, l2 or l1_l2.")
    bias_regularizer: RegularizerSpec | None = Field(None, description="Penalty on the bias: l1, l2 or l1_l2.")

    def activation_gradient(self, z, y, dy, gradient_of_z: bool):
        """The gradient before the activation: ``dy`` itself when the reader took it
        (for subclasses that set ``hands_over_activation_gradient``)."""
        return dy if gradient_of_z else ACTIVATIONS[self.activation].gradient(z, y, dy)

    def init_kernel(self, kernel_shape: Shape, rng: np.random.Generator, dtype) -> Params:
        params = {"kernel": initialize(self.kernel_initializer, kernel_shape, rng, dtype)}
        if self.use_bias:
            params["bias"] = initialize(self.bias_initializer, kernel_shape[-1:], rng, dtype)
        return params

    def penalties(self):
        found = {"kernel": self.kernel_regularizer, "bias": self.bias_regularizer if self.use_bias else None}
        return {name: reg for name, reg in found.items() if reg is not None}


class Dense(KernelLayer):
    """Fully connected layer: ``y = activation(x @ kernel + bias)``.

    Shapes: x (N, in), kernel (in, units), bias (units,), y (N, units). On sequences,
    as in Keras, the same kernel applies at every step: x (N, T, in) -> y (N, T, units),
    and the mask passes through.
    """

    type: Literal["dense"] = "dense"
    units: int = Field(gt=0, description="Output width.")

    check_cases = [
        ({"units": 3}, (4,)),
        ({"units": 5, "activation": "tanh"}, (3,)),
        ({"units": 4, "activation": "softmax"}, (3,)),
        ({"units": 2, "activation": "sigmoid", "use_bias": False}, (3,)),
        ({"units": 3, "activation": "relu"}, (4,)),
        ({"units": 3, "activation": "gelu", "bias_initializer": {"type": "constant", "value": 0.1}}, (2,)),
        ({"units": 2, "activation": "relu"}, (3, 4)),
    ]
    keeps_mask = True

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) > 2:
            raise ValueError(
                f"dense expects a flat input (features,), got {input_shape} (or a sequence (steps, features)); "
                "add a 'flatten' layer before it"
            )
        return (*input_shape[:-1], self.units)

    def init(self, input_shape: Shape, rng: np.random.Generator, dtype) -> Params:
        return self.init_kernel((input_shape[-1], self.units), rng, dtype)

    def forward(self, params: Params, x, training, rng):
        z = x @ params["kernel"]  # (N, units)
        y, z = ACTIVATIONS[self.activation].apply(z, params["bias"] if self.use_bias else None)
        return y, (x, z, y)

    fills_grads = True
    hands_over_activation_gradient = True  # backward takes gradient_of_z=

    def backward(self, params: Params, cache, dy, need_dx=True, into: Params | None = None, gradient_of_z=False):
        x, z, y = cache
        dz = self.activation_gradient(z, y, dy, gradient_of_z)
        if x.ndim > 2:  # a sequence: every step is one more row
            x, dz = x.reshape(-1, x.shape[-1]), dz.reshape(-1, dz.shape[-1])
        into = into or {}
        grads = {"kernel": np.matmul(x.T, dz, out=into.get("kernel"))}
        if self.use_bias:
            grads["bias"] = np.add.reduce(dz, axis=0, out=into.get("bias"))  # np.sum, without its wrapper
        return (dz @ params["kernel"].T).reshape(dy.shape[:-1] + (-1,)) if need_dx else None, grads


class Activation(Layer):
    """Applies an activation element-wise (softmax: over the last axis)."""

    type: Literal["activation"] = "activation"
    activation: ActivationName = Field(description="Activation function.")
    keeps_mask = True

    def output_activation(self) -> str | None:
        return self.activation

    def without_activation(self) -> "Activation":
        return self.model_copy(update={"activation": "linear"})

    check_cases = [({"activation": name}, (2, 3)) for name in ACTIVATIONS if name != "relu"] + [
        ({"activation": "relu"}, (5,)),
    ]

    def forward(self, params, x, training, rng):
        act = ACTIVATIONS[self.activation]
        y = act.forward(x)
        return y, (x if act.needs_input else None, y)

    def backward(self, params, cache, dy, need_dx=True):
        z, y = cache
        return ACTIVATIONS[self.activation].backward(z, y, dy), {}


class Dropout(Layer):
    """Inverted dropout: in training, zeroes each input with probability ``rate`` and
    scales the rest by 1 / (1 - rate); at inference it is the identity."""

    type: Literal["dropout"] = "dropout"
    rate: float = Field(ge=0.0, lt=1.0, description="Fraction of inputs to drop, in [0, 1).")
    keeps_mask = True

    check_cases = [({"rate": 0.5}, (6,)), ({"rate": 0.2}, (2, 3))]
    spans_batch = True  # the mask is drawn for the whole batch (see batch_uniform)

    def forward(self, params, x, training, rng, part=None):
        if not training or self.rate == 0.0:
            return x, None
        keep = batch_uniform(rng, x.shape, part) >= self.rate
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * mask, mask

    def backward(self, params, cache, dy, need_dx=True):
        return (dy if cache is None else dy * cache), {}
