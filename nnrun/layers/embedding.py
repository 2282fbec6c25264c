"""Embedding: integer indices -> rows of a learned table."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ..errors import UserError
from ..initializers import InitializerSpec, initialize
from .base import Layer, Params, Shape


class Embedding(Layer):
    """``y[n, ...] = embeddings[x[n, ...]]``.

    Shapes: x (N, *s) holding integers in [0, input_dim) (stored as floats in the data,
    so each must be a whole number), embeddings (input_dim, output_dim), y (N, *s,
    output_dim). The gradient of a row sums ``dy`` over every position that chose it;
    no gradient flows into the indices.
    """

    type: Literal["embedding"] = "embedding"
    input_dim: int = Field(gt=0, description="Number of distinct indices (vocabulary size).")
    output_dim: int = Field(gt=0, description="Width of each embedding vector.")
    embeddings_initializer: InitializerSpec = Field("uniform", description="Initializer of the table.")
    differentiable_input = False

    check_cases = [({"input_dim": 5, "output_dim": 3}, (4,)), ({"input_dim": 3, "output_dim": 2}, (2, 2))]

    def output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape, self.output_dim)

    def init(self, input_shape: Shape, rng, dtype) -> Params:
        return {"embeddings": initialize(self.embeddings_initializer, (self.input_dim, self.output_dim), rng, dtype)}

    def forward(self, params, x, training, rng):
        indices = x.astype(np.intp)
        if indices.size and (indices.min() < 0 or indices.max() >= self.input_dim or np.any(indices != x)):
            bad = float(x[(indices < 0) | (indices >= self.input_dim) | (indices != x)].flat[0])
            raise UserError(
                f"embedding: input value {bad!r} is not an index in [0, {self.input_dim})",
                hint="embedding inputs must be whole numbers below input_dim; do not standardize them",
            )
        return params["embeddings"][indices], indices

    def backward(self, params, cache, dy, need_dx=True):
        table = np.zeros_like(params["embeddings"])
        np.add.at(table, cache.reshape(-1), dy.reshape(-1, self.output_dim))
        return (np.zeros(cache.shape, dy.dtype) if need_dx else None), {"embeddings": table}
