"""Global pooling over the steps of a sequence, respecting the mask."""

from __future__ import annotations

from typing import Literal

import numpy as np

from nnrun.model.layers.base import Layer, Shape, needs_sequences


class _GlobalPool1D(Layer):
    takes_mask = True
    check_cases = [({}, (4, 3)), ({}, (1, 2))]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise needs_sequences(self.type, input_shape, "steps, channels")
        return input_shape[1:]


class GlobalAveragePool1D(_GlobalPool1D):
    """Mean over the steps: (N, T, C) -> (N, C). With a mask, over the real steps only
    (a sequence with none gives zeros)."""

    type: Literal["global_average_pool1d"] = "global_average_pool1d"

    def forward(self, params, x, training, rng, mask=None):
        if mask is None:
            return x.mean(axis=1), (x.shape, None)
        weights = mask.astype(x.dtype)
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1)  # (N, T): 1/count on real steps
        return np.einsum("ntc,nt->nc", x, weights), (x.shape, weights)

    def backward(self, params, cache, dy, need_dx=True):
        shape, weights = cache
        if weights is None:
            return np.broadcast_to(dy[:, None, :] / dy.dtype.type(shape[1]), shape).copy(), {}
        return dy[:, None, :] * weights[:, :, None], {}


class GlobalMaxPool1D(_GlobalPool1D):
    """Maximum over the steps: (N, T, C) -> (N, C); with a mask, over the real steps
    only (a sequence with none gives zeros). The gradient goes to the first step that
    holds the maximum."""

    type: Literal["global_max_pool1d"] = "global_max_pool1d"

    def forward(self, params, x, training, rng, mask=None):
        empty = None  # (N,): sequences with no real step, whose output is a constant 0
        if mask is not None:
            x = np.where(mask[:, :, None], x, -np.inf)
            empty = ~mask.any(axis=1)
        y, winner = max_over_axis1(x)
        if empty is not None and empty.any():
            y[empty] = 0
        else:
            empty = None
        return y, (x.shape, winner, empty)

    def backward(self, params, cache, dy, need_dx=True):
        shape, winner, empty = cache
        if empty is not None:  # a constant output: no gradient to the padded step argmax picked
            dy = np.where(empty[:, None], 0, dy).astype(dy.dtype, copy=False)
        return max_gradient(shape, winner, dy), {}


def max_over_axis1(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The maximum of (N, S, C) over S, and where it is (the first on ties), (N, C) each;
    global max pooling over steps, and over pixels (global_max_pool2d)."""
    winner = x.argmax(axis=1)
    return np.take_along_axis(x, winner[:, None, :], axis=1)[:, 0, :], winner


def max_gradient(shape: tuple, winner: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx of shape (N, S, C) for :func:`max_over_axis1`: dy at each maximum, 0 elsewhere."""
    dx = np.zeros(shape, dy.dtype)
    np.put_along_axis(dx, winner[:, None, :], dy[:, None, :], axis=1)
    return dx
