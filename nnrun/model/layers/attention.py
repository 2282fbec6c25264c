"""Attention over sequences: ``multi_head_attention`` and ``positional_embedding``."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.activations import softmax
from nnrun.model.initializers import InitializerSpec, initialize
from nnrun.model.layers.base import Layer, Params, Shape, batch_uniform, needs_sequences
from nnrun.model.regularizers import RegularizerSpec

PROJECTIONS = ("query", "key", "value")


class MultiHeadAttention(Layer):
    """Scaled dot-product attention in ``num_heads`` heads (Keras's MultiHeadAttention).

    ``inputs`` are [query], [query, value] or [query, value, key] (Keras's order); one
    input is self-attention, and the key defaults to the value. For each head h:

        Q_h = query @ query_kernel[:, h] + query_bias[h]        (N, Tq, key_dim)
        K_h, V_h likewise from key and value                   (N, Tv, key_dim / value_dim)
        A_h = softmax(Q_h K_h^T / sqrt(key_dim))                (N, Tq, Tv)
        y = sum_h (A_h V_h) @ output_kernel[h] + output_bias    (N, Tq, dim)

    Keras layouts: query_kernel (dim, heads, key_dim), key_kernel (key dim, heads,
    key_dim), value_kernel (value dim, heads, value_dim), biases (heads, *), output_kernel
    (heads, value_dim, dim), output_bias (dim,), dim being the query's width.
    A key whose step is padded (the key's mask) and, with ``use_causal_mask``, a key
    after the query are left out of the softmax. ``dropout`` drops attention weights in
    training. The output keeps the query's mask.
    """

    type: Literal["multi_head_attention"] = "multi_head_attention"
    num_heads: int = Field(gt=0, description="Number of attention heads.")
    key_dim: int = Field(gt=0, description="Width of each head's query and key.")
    value_dim: int | None = Field(None, gt=0, description="Width of each head's value; default: key_dim.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout rate on the attention weights.")
    use_bias: bool = Field(True, description="Add learned biases to the projections.")
    use_causal_mask: bool = Field(False, description="Each step attends only to itself and earlier steps (a decoder).")
    kernel_initializer: InitializerSpec = Field("glorot_uniform", description="Initializer of the kernels.")
    bias_initializer: InitializerSpec = Field("zeros", description="Initializer of the biases.")
    kernel_regularizer: RegularizerSpec | None = Field(None, description="Penalty on every kernel.")
    bias_regularizer: RegularizerSpec | None = Field(None, description="Penalty on every bias.")

    merges = True
    takes_mask = True
    spans_batch = True  # attention dropout masks are drawn for the whole batch
    check_cases = [
        ({"num_heads": 2, "key_dim": 2}, [(3, 4)]),
        ({"num_heads": 1, "key_dim": 3, "value_dim": 2, "use_causal_mask": True}, [(4, 3)]),
        ({"num_heads": 2, "key_dim": 2, "use_bias": False}, [(2, 3), (4, 2)]),
        ({"num_heads": 2, "key_dim": 1, "dropout": 0.3}, [(3, 2), (2, 3), (2, 4)]),
    ]

    @property
    def _value_dim(self) -> int:
        return self.value_dim or self.key_dim

    @staticmethod
    def _roles(inputs: list) -> tuple:
        """(query, value, key) from the 1 to 3 inputs."""
        value = inputs[1] if len(inputs) > 1 else inputs[0]
        return inputs[0], value, inputs[2] if len(inputs) > 2 else value

    @staticmethod
    def _sources(count: int) -> dict[str, int]:
        """Which input each projection reads."""
        return {"query": 0, "value": min(1, count - 1), "key": 2 if count > 2 else min(1, count - 1)}

    def output_shape(self, input_shape) -> Shape:
        if not 1 <= len(input_shape) <= 3:
            raise ValueError(f"multi_head_attention takes 1 to 3 inputs (query, value, key), got {len(input_shape)}")
        flat = next((shape for shape in input_shape if len(shape) != 2), None)
        if flat is not None:  # named as the one shape it is, not the tuple of all inputs
            raise needs_sequences("multi_head_attention", flat)
        query, value, key = self._roles(input_shape)
        if key[0] != value[0]:
            raise ValueError(f"the key and the value must have as many steps, got {key} and {value}")
        return query

    def init(self, input_shape, rng, dtype) -> Params:
        query, value, key = self._roles(input_shape)
        widths = {"query": (query[1], self.key_dim), "key": (key[1], self.key_dim), "value": (value[1], self._value_dim)}
        params = {}
        for role in PROJECTIONS:
            dim, head = widths[role]
            params[f"{role}_kernel"] = initialize(self.kernel_initializer, (dim, self.num_heads, head), rng, dtype)
            if self.use_bias:
                params[f"{role}_bias"] = initialize(self.bias_initializer, (self.num_heads, head), rng, dtype)
        params["output_kernel"] = initialize(self.kernel_initializer, (self.num_heads, self._value_dim, query[1]), rng, dtype)
        if self.use_bias:
            params["output_bias"] = initialize(self.bias_initializer, (query[1],), rng, dtype)
        return params

    def penalties(self):
        kernels = {f"{role}_kernel": self.kernel_regularizer for role in (*PROJECTIONS, "output")}
        biases = {f"{role}_bias": self.bias_regularizer for role in (*PROJECTIONS, "output")} if self.use_bias else {}
        return {name: reg for name, reg in (kernels | biases).items() if reg is not None}

    def output_mask(self, x, mask):
        return mask[0] if mask is not None else None

    def _project(self, params, role, x):
        """(N, T, D) -> (N, heads, T, head width), one GEMM."""
        n, t, d = x.shape
        kernel = params[f"{role}_kernel"]
        y = x.reshape(n * t, d) @ kernel.reshape(d, -1)
        if self.use_bias:
            y += params[f"{role}_bias"].reshape(-1)
        return y.reshape(n, t, self.num_heads, -1).transpose(0, 2, 1, 3)

    def _allowed(self, mask, count, q_steps, k_steps):
        """(N or 1, 1, Tq, Tk) booleans: which keys each query may attend to, or None."""
        allowed = None
        if mask is not None:
            key_mask = mask[self._sources(count)["key"]]
            if key_mask is not None:
                allowed = key_mask[:, None, None, :]
        if self.use_causal_mask:
            causal = np.tril(np.ones((q_steps, k_steps), bool))[None, None]
            allowed = causal if allowed is None else allowed & causal
        return allowed

    def forward(self, params, x, training, rng, mask=None, part=None):
        query, value, key = self._roles(x)
        q = self._project(params, "query", query)  # (N, H, Tq, K)
        k = self._project(params, "key", key)  # (N, H, Tk, K)
        v = self._project(params, "value", value)  # (N, H, Tk, V)
        scale = query.dtype.type(1.0 / np.sqrt(self.key_dim))
        scores = (q @ k.transpose(0, 1, 3, 2)) * scale  # (N, H, Tq, Tk)
        allowed = self._allowed(mask, len(x), q.shape[2], k.shape[2])
        if allowed is not None:
            scores = np.where(allowed, scores, query.dtype.type(-1e9))
        weights = softmax(scores)
        drop = None
        if training and self.dropout > 0:
            keep = batch_uniform(rng, weights.shape, part) >= self.dropout
            drop = keep.astype(weights.dtype) * weights.dtype.type(1.0 / (1.0 - self.dropout))
        context = (weights if drop is None else weights * drop) @ v  # (N, H, Tq, V)
        n, tq = query.shape[:2]
        context = context.transpose(0, 2, 1, 3).reshape(n * tq, -1)  # heads side by side
        y = context @ params["output_kernel"].reshape(context.shape[1], -1)
        if self.use_bias:
            y += params["output_bias"]
        return y.reshape(n, tq, -1), ((query, key, value), q, k, v, weights, drop, context, len(x), allowed)

    def backward(self, params, cache, dy, need_dx=True):
        (query, key, value), q, k, v, weights, drop, context, count, allowed = cache
        n, tq, dim = dy.shape
        d_flat = dy.reshape(n * tq, dim)
        out_kernel = params["output_kernel"]
        grads = {"output_kernel": (context.T @ d_flat).reshape(out_kernel.shape)}
        if self.use_bias:
            grads["output_bias"] = d_flat.sum(axis=0)
        d_context = (d_flat @ out_kernel.reshape(-1, dim).T).reshape(n, tq, self.num_heads, -1).transpose(0, 2, 1, 3)
        dropped = weights if drop is None else weights * drop
        d_v = dropped.transpose(0, 1, 3, 2) @ d_context
        d_weights = d_context @ v.transpose(0, 1, 3, 2)
        if drop is not None:
            d_weights *= drop
        d_scores = weights * (d_weights - (d_weights * weights).sum(axis=-1, keepdims=True))
        if allowed is not None:
            # A query that may see no key has constant scores (-1e9 each), so uniform
            # weights that do not depend on q or k: none of its gradient reaches them.
            blind = ~allowed.any(axis=-1)  # (N or 1, 1, Tq or 1)
            if blind.any():
                d_scores[np.broadcast_to(blind, d_scores.shape[:-1])] = 0
        d_scores *= query.dtype.type(1.0 / np.sqrt(self.key_dim))
        d_heads = {"query": d_scores @ k, "key": d_scores.transpose(0, 1, 3, 2) @ q, "value": d_v}
        inputs = {"query": query, "key": key, "value": value}
        dx = [None] * count
        for role, source in self._sources(count).items():
            d_in = self._project_back(params, role, inputs[role], d_heads[role], grads)
            dx[source] = d_in if dx[source] is None else dx[source] + d_in
        return dx, grads

    def _project_back(self, params, role, x, d_heads, grads):
        """Gradients of one projection from d (N, H, T, width); returns d x."""
        n, t, d = x.shape
        kernel = params[f"{role}_kernel"]
        d_flat = d_heads.transpose(0, 2, 1, 3).reshape(n * t, -1)
        grads[f"{role}_kernel"] = (x.reshape(n * t, d).T @ d_flat).reshape(kernel.shape)
        if self.use_bias:
            grads[f"{role}_bias"] = d_flat.sum(axis=0).reshape(kernel.shape[1:])
        return (d_flat @ kernel.reshape(d, -1).T).reshape(n, t, d)


class PositionalEmbedding(Layer):
    """Adds a learned vector per position: ``y[n, t] = x[n, t] + embeddings[t]``.

    Shapes: x (N, T, D), embeddings (T, D). Token embeddings carry no order; this gives
    attention the position of each step. The mask passes through.
    """

    type: Literal["positional_embedding"] = "positional_embedding"
    embeddings_initializer: InitializerSpec = Field("glorot_uniform", description="Initializer of the position table.")
    keeps_mask = True
    check_cases = [({}, (3, 2)), ({"embeddings_initializer": "uniform"}, (4, 3))]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise needs_sequences("positional_embedding", input_shape)
        return input_shape

    def init(self, input_shape: Shape, rng, dtype) -> Params:
        return {"embeddings": initialize(self.embeddings_initializer, tuple(input_shape), rng, dtype)}

    def forward(self, params, x, training, rng):
        return x + params["embeddings"], None

    def backward(self, params, cache, dy, need_dx=True):
        return dy, {"embeddings": dy.sum(axis=0)}
