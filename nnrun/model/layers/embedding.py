"""Embedding: integer indices -> rows of a learned table."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.errors import UserError
from nnrun.model.initializers import InitializerSpec, initialize
from nnrun.model.layers.base import Layer, Params, Shape


class Embedding(Layer):
    """``y[n, ...] = embeddings[x[n, ...]]``.

    Shapes: x (N, *s) holding integers in [0, input_dim) (stored as floats in the data,
    so each must be a whole number), embeddings (input_dim, output_dim), y (N, *s,
    output_dim). The gradient of a row sums ``dy`` over every position that chose it;
    no gradient flows into the indices.

    With ``mask_zero`` index 0 is padding (a text column's vectorizer pads with it):
    the output carries the mask ``x != 0`` (N, T), so recurrent layers, attention and
    the 1D global pools skip padded steps. Index 0 keeps its row, so the vocabulary
    size stays ``input_dim``, the ``max_tokens`` of a text column.
    """

    type: Literal["embedding"] = "embedding"
    input_dim: int = Field(gt=0, description="Number of distinct indices (vocabulary size): for a text column, its "
                                             "max_tokens.")
    output_dim: int = Field(gt=0, description="Width of each embedding vector.")
    embeddings_initializer: InitializerSpec = Field("uniform", description="Initializer of the table.")
    mask_zero: bool = Field(False, description="Index 0 is padding: mask those steps in the layers that follow.")
    differentiable_input = False

    check_cases = [({"input_dim": 5, "output_dim": 3}, (4,)), ({"input_dim": 3, "output_dim": 2}, (2, 2)),
                   ({"input_dim": 4, "output_dim": 2, "mask_zero": True}, (3,))]

    def output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape, self.output_dim)

    def output_mask(self, x, mask):
        if not self.mask_zero or x.ndim != 2:
            return None  # a mask marks the steps of (N, T) sequences
        return x != 0

    def init(self, input_shape: Shape, rng, dtype) -> Params:
        return {"embeddings": initialize(self.embeddings_initializer, (self.input_dim, self.output_dim), rng, dtype)}

    def wrong_inputs(self, x: np.ndarray) -> np.ndarray | None:
        """Where ``x`` holds a value that is not an index in [0, input_dim)."""
        with np.errstate(invalid="ignore"):  # NaN and infinities: wrong, not a warning
            indices = x.astype(np.intp)
            wrong = (indices < 0) | (indices >= self.input_dim) | (indices != x)
        return wrong if wrong.any() else None

    def accepted_inputs(self) -> str:
        return f"whole numbers from 0 to {self.input_dim - 1}, the indices it learned vectors for"

    def check_inputs(self, x: np.ndarray) -> str | None:
        """Why ``x`` cannot be looked up (a value that is not an index), or None."""
        wrong = self.wrong_inputs(x)
        if wrong is None:
            return None
        value = float(x[wrong].flat[0])
        if value.is_integer():  # an index as it is written: 387, not 387.0
            value = int(value)
        if isinstance(value, int) and value >= self.input_dim:  # indices of a larger vocabulary
            largest = int(np.max(x[np.isfinite(x)]))
            return (f"embedding input value {value!r} is not an index in [0, {self.input_dim}); the inputs go up to "
                    f"{largest}: give input_dim {largest + 1} or more (for a text column, its max_tokens)")
        return (f"embedding input value {value!r} is not an index in [0, {self.input_dim}); "
                "inputs must be whole numbers below input_dim, as they are, not standardized")

    def forward(self, params, x, training, rng):
        indices = x.astype(np.intp)
        if np.any(indices != x) or indices.min(initial=0) < 0 or indices.max(initial=0) >= self.input_dim:
            raise UserError(self.check_inputs(x))  # new data at predict time lands here
        return params["embeddings"][indices], indices

    def backward(self, params, cache, dy, need_dx=True):
        table = np.zeros_like(params["embeddings"])
        np.add.at(table, cache.reshape(-1), dy.reshape(-1, self.output_dim))
        return (np.zeros(cache.shape, dy.dtype) if need_dx else None), {"embeddings": table}
