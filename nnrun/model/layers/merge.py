"""Merge layers: several inputs, one output (``inputs: [a, b, ...]``).

Each gets a list of shapes / arrays and returns a list of input gradients. Mismatched
shapes are found by ``output_shape``, i.e. at compile time.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.layers.base import Layer, Shape


def _at_least_two(kind: str, shapes: list[Shape]) -> None:
    if len(shapes) < 2:
        raise ValueError(f"'{kind}' merges at least two inputs, got {len(shapes)}; list them in 'inputs'")


def _same_shapes(kind: str, shapes: list[Shape]) -> Shape:
    _at_least_two(kind, shapes)
    if any(shape != shapes[0] for shape in shapes):
        listed = ", ".join(str(s) for s in shapes)
        raise ValueError(f"'{kind}' needs inputs of one shape, got {listed}")
    return shapes[0]


class Add(Layer):
    """Element-wise sum ``y = x_1 + ... + x_k``; every ``dx_i = dy``. The residual
    connection of a ResNet."""

    type: Literal["add"] = "add"
    merges = True
    keeps_mask = True
    check_cases = [({}, [(4,), (4,)]), ({}, [(2, 3), (2, 3), (2, 3)])]

    def output_shape(self, input_shape):
        return _same_shapes(self.type, input_shape)

    def forward(self, params, x, training, rng):
        y = x[0] + x[1]
        for extra in x[2:]:
            y += extra
        return y, len(x)

    def backward(self, params, cache, dy, need_dx=True):
        return [dy] * cache, {}


class Multiply(Layer):
    """Element-wise product ``y = x_1 * ... * x_k``; ``dx_i = dy * prod_{j != i} x_j``
    (a gate when one input is a sigmoid)."""

    type: Literal["multiply"] = "multiply"
    merges = True
    keeps_mask = True
    check_cases = [({}, [(4,), (4,)]), ({}, [(3,), (3,), (3,)])]

    def output_shape(self, input_shape):
        return _same_shapes(self.type, input_shape)

    def forward(self, params, x, training, rng):
        y = x[0] * x[1]
        for extra in x[2:]:
            y = y * extra
        return y, x

    def backward(self, params, cache, dy, need_dx=True):
        dx = []
        for i in range(len(cache)):
            d = dy
            for j, other in enumerate(cache):
                if j != i:
                    d = d * other
            dx.append(d)
        return dx, {}


class Concatenate(Layer):
    """Joins inputs along ``axis``; ``dy`` is split back along it.

    ``axis`` counts the batch axis, as in Keras: -1 (the default) is the last feature
    axis, 1 the first; 0 (the batch) is not allowed. Shapes must agree elsewhere.
    """

    type: Literal["concatenate"] = "concatenate"
    axis: int = Field(-1, description="Axis to join along; -1 is the last, 1 the first after the batch.")
    merges = True
    check_cases = [({}, [(3,), (2,)]), ({"axis": 1}, [(2, 3), (1, 3)]), ({"axis": -1}, [(2, 1), (2, 3), (2, 2)])]

    def _feature_axis(self, rank: int) -> int:
        """The axis in a sample's shape (no batch axis)."""
        axis = self.axis - 1 if self.axis > 0 else rank + self.axis
        if self.axis == 0 or not 0 <= axis < rank:
            raise ValueError(f"'concatenate' axis {self.axis} is out of range for inputs of rank {rank} "
                             f"(use 1..{rank} or -1..-{rank}; 0 is the batch)")
        return axis

    def output_shape(self, input_shape):
        _at_least_two(self.type, input_shape)
        ranks = {len(s) for s in input_shape}
        listed = ", ".join(str(s) for s in input_shape)
        if len(ranks) > 1:
            raise ValueError(f"'concatenate' needs inputs of one rank, got {listed}")
        axis = self._feature_axis(len(input_shape[0]))
        rest = {s[:axis] + s[axis + 1 :] for s in input_shape}
        if len(rest) > 1:
            raise ValueError(f"'concatenate' inputs must agree on every axis but {self.axis}, got {listed}")
        joined = sum(s[axis] for s in input_shape)
        return input_shape[0][:axis] + (joined,) + input_shape[0][axis + 1 :]

    def forward(self, params, x, training, rng):
        axis = self._feature_axis(x[0].ndim - 1) + 1
        return np.concatenate(x, axis=axis), (axis, np.cumsum([part.shape[axis] for part in x[:-1]]))

    def backward(self, params, cache, dy, need_dx=True):
        axis, splits = cache
        return np.split(dy, splits, axis=axis), {}


