"""Masking: the padded steps of sequences of numbers, marked for the layers that follow."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.layers.base import Layer, Shape, needs_sequences


class Masking(Layer):
    """``y = x`` at a step that holds any value other than ``mask_value``, and 0 at a
    step whose every feature equals it (padding), as Keras's Masking does; the output
    carries the mask of the real steps, (N, T), so that recurrent layers, attention and
    the 1D global pools skip the padding, as they skip an embedding's with ``mask_zero``.
    A mask already carried in is kept too (a step is real where both say so).

    Shapes: x (N, T, F), y the same. The gradient flows through the real steps only.
    """

    type: Literal["masking"] = "masking"
    mask_value: float = Field(0.0, description="A step whose every feature equals this value is padding.")

    check_cases = [({}, (4, 3)), ({"mask_value": 0.5}, (3, 1))]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise needs_sequences(self.type, input_shape)
        return input_shape

    def output_mask(self, x, mask):
        real = np.any(x != self.mask_value, axis=-1)
        return real if mask is None else real & mask

    def forward(self, params, x, training, rng):
        real = np.any(x != self.mask_value, axis=-1, keepdims=True)
        return x * real, real

    def backward(self, params, cache, dy, need_dx=True):
        return (dy * cache if need_dx else None), {}
