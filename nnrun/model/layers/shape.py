"""Layers that only change shape: flatten, reshape. Both keep the batch axis."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.layers.base import Layer, Shape


class Flatten(Layer):
    """(N, d1, ..., dk) -> (N, d1 * ... * dk)."""

    type: Literal["flatten"] = "flatten"
    check_cases = [({}, (2, 3)), ({}, (2, 2, 1))]

    def output_shape(self, input_shape: Shape) -> Shape:
        return (int(np.prod(input_shape)),)

    def forward(self, params, x, training, rng):
        return x.reshape(x.shape[0], -1), x.shape

    def backward(self, params, cache, dy, need_dx=True):
        return dy.reshape(cache), {}


class Reshape(Layer):
    """(N, *input_shape) -> (N, *target_shape); one entry of ``target_shape`` may be -1,
    inferred from the others. The number of elements must not change."""

    type: Literal["reshape"] = "reshape"
    target_shape: list[int] = Field(min_length=1, description="Shape of a sample after the layer; one -1 is inferred.")

    check_cases = [({"target_shape": [3, 2]}, (6,)), ({"target_shape": [-1]}, (2, 3)), ({"target_shape": [2, -1]}, (4,))]

    def output_shape(self, input_shape: Shape) -> Shape:
        size = int(np.prod(input_shape))
        target = list(self.target_shape)
        unknown = [i for i, d in enumerate(target) if d == -1]
        if len(unknown) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(f"target_shape {target} must hold positive sizes and at most one -1")
        known = int(np.prod([d for d in target if d != -1]))
        if unknown:
            if size % known:
                raise ValueError(f"cannot reshape {input_shape} ({size} values) into {target}")
            target[unknown[0]] = size // known
        if int(np.prod(target)) != size:
            raise ValueError(f"cannot reshape {input_shape} ({size} values) into {tuple(target)} "
                             f"({int(np.prod(target))} values)")
        return tuple(target)

    def forward(self, params, x, training, rng):
        return x.reshape(x.shape[0], *self.output_shape(x.shape[1:])), x.shape

    def backward(self, params, cache, dy, need_dx=True):
        return dy.reshape(cache), {}


