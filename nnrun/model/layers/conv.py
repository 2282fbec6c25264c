"""Convolutions: conv2d on NHWC images and conv1d on (N, L, C) sequences.

Both use im2col: the windows of a chunk of the batch are copied into a column matrix (rows: output pixels, columns: KH * KW * C) and multiplied
by the kernel reshaped to (KH * KW * C, filters). Chunks bound the column matrix to
``COLUMN_BUDGET`` bytes whatever the batch size; backward recomputes columns chunk by
chunk unless the whole batch fitted in one.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, PositiveInt

from nnrun.model.activations import ACTIVATIONS
from nnrun.model.layers.base import Params, Shape, needs_images, needs_sequences
from nnrun.model.layers.core import KernelLayer
from nnrun.model.layers.windows import (
    geometry,
    im2col,
    pad,
    pair,
    scatter_windows,
    unpad,
)

COLUMN_BUDGET = 32 * 2**20  # bytes of im2col columns built at once

Pair = PositiveInt | tuple[PositiveInt, PositiveInt]


def _chunks(n: int, row_bytes: int):
    step = max(1, COLUMN_BUDGET // max(row_bytes, 1))
    return [(a, min(a + step, n)) for a in range(0, n, step)]


def conv_forward(x, kernel, strides, dilation, padding, bias_gradient: bool = False):
    """x (N, H, W, C), kernel (KH, KW, C, F) -> z (N, OH, OW, F), plus what backward
    needs (with ``bias_gradient``, what it needs to return the bias's gradient too)."""
    kh, kw, c, f = kernel.shape
    oh, ow, pads = geometry(x.shape[1:], (kh, kw), strides, dilation, padding)
    xp = pad(x, pads)
    taps = kh * kw * c
    w2 = kernel.reshape(taps, f)
    z = np.empty((x.shape[0], oh, ow, f), x.dtype)
    chunks = _chunks(x.shape[0], oh * ow * taps * x.itemsize)
    cols = None
    for a, b in chunks:
        cols = im2col(xp[a:b], (oh, ow), (kh, kw), strides, dilation, ones=bias_gradient)
        np.matmul(cols[:, :taps], w2, out=z[a:b].reshape(-1, f))
    return z, (xp, pads, cols if len(chunks) == 1 else None, bias_gradient)


def conv_backward(saved, kernel, dz, strides, dilation, need_dx):
    """Gradients of conv_forward: d kernel (KH, KW, C, F), d bias (F,) when forward was
    asked for it (else None), and dx (N, H, W, C) or None.

    The bias's gradient, the sum of ``dz`` over every output pixel, comes out of the
    kernel gradient's multiply, as the row of a column of ones that im2col appended:
    the multiply reads ``dz`` anyway, and a pass of its own over it (a matrix-vector
    product with ones) cost a third of a millisecond of a small CNN's step."""
    xp, pads, cached_cols, bias_gradient = saved
    kh, kw, c, f = kernel.shape
    n, oh, ow, _ = dz.shape
    taps = kh * kw * c
    w2 = kernel.reshape(taps, f)
    dk = np.zeros((taps + bias_gradient, f), w2.dtype)
    dxp = np.zeros_like(xp) if need_dx else None
    for a, b in _chunks(n, oh * ow * taps * xp.itemsize):
        cols = cached_cols
        if cols is None:
            cols = im2col(xp[a:b], (oh, ow), (kh, kw), strides, dilation, ones=bias_gradient)
        dz2 = dz[a:b].reshape(-1, f)
        dk += cols.T @ dz2
        if need_dx:
            dwin = (dz2 @ w2.T).reshape(b - a, oh, ow, kh, kw, c)
            scatter_windows(dwin, dxp[a:b], (kh, kw), strides, dilation)
    bias = dk[taps] if bias_gradient else None
    return dk[:taps].reshape(kernel.shape), bias, (unpad(dxp, pads) if need_dx else None)


class _Convolution(KernelLayer):
    filters: int = Field(gt=0, description="Number of output channels.")
    padding: Literal["valid", "same"] = Field("valid", description="'valid': no padding; 'same': output size ceil(input / stride).")

    def _geometry(self):  # (kernel, strides, dilation) as 2-D pairs
        raise NotImplementedError

    def _as_images(self, x):
        return x

    def _kernel_size(self) -> tuple[int, ...]:
        """Kernel axes in the Keras layout: (KH, KW) for conv2d, (K,) for conv1d."""
        return self._geometry()[0]

    def init(self, input_shape: Shape, rng, dtype) -> Params:
        return self.init_kernel((*self._kernel_size(), input_shape[-1], self.filters), rng, dtype)

    def forward(self, params, x, training, rng):
        kernel, strides, dilation = self._geometry()
        k = params["kernel"].reshape(*kernel, *params["kernel"].shape[-2:])
        z, saved = conv_forward(self._as_images(x), k, strides, dilation, self.padding,
                                bias_gradient=self.use_bias and training)  # no backward at inference
        y, z = ACTIVATIONS[self.activation].apply(z, params["bias"] if self.use_bias else None)
        return y.reshape(x.shape[0], *self.output_shape(x.shape[1:])), (saved, z, y)

    hands_over_activation_gradient = True  # backward takes gradient_of_z=

    def backward(self, params, cache, dy, need_dx=True, gradient_of_z=False):
        saved, z, y = cache
        kernel, strides, dilation = self._geometry()
        k = params["kernel"].reshape(*kernel, *params["kernel"].shape[-2:])
        dz = self.activation_gradient(z, y, dy.reshape(y.shape), gradient_of_z)
        dk, db, dx = conv_backward(saved, k, dz, strides, dilation, need_dx)
        grads = {"kernel": dk.reshape(params["kernel"].shape)}
        if self.use_bias:
            grads["bias"] = db
        return (dx.reshape(dx.shape[0], *self._input_shape_of(dx)) if need_dx else None), grads

    def _input_shape_of(self, dx):
        return dx.shape[1:]


class Conv2D(_Convolution):
    """2-D convolution (cross-correlation, as in Keras) over NHWC images.

    Shapes: x (N, H, W, C), kernel (KH, KW, C, filters), bias (filters,),
    y (N, OH, OW, filters) with OH = ceil(H / stride) for 'same',
    (H - (KH - 1) * dilation - 1) // stride + 1 for 'valid'.
    """

    type: Literal["conv2d"] = "conv2d"
    reads_images = True
    kernel_size: Pair = Field(description="Window height and width (one number: square).")
    strides: Pair = Field(1, description="Step between windows.")
    dilation_rate: Pair = Field(1, description="Spacing between kernel taps.")

    check_cases = [
        ({"filters": 2, "kernel_size": 3}, (5, 5, 2)),
        ({"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same", "activation": "tanh"}, (5, 4, 1)),
        ({"filters": 2, "kernel_size": (2, 3), "dilation_rate": 2, "padding": "same"}, (6, 6, 2)),
        ({"filters": 2, "kernel_size": 3, "strides": (2, 1), "use_bias": False, "activation": "relu"}, (7, 5, 1)),
        ({"filters": 2, "kernel_size": 2, "kernel_regularizer": "l2", "activation": "elu"}, (4, 4, 2)),
    ]

    def _geometry(self):
        return pair(self.kernel_size), pair(self.strides), pair(self.dilation_rate)

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3:
            raise needs_images("conv2d", input_shape)
        kernel, strides, dilation = self._geometry()
        oh, ow, _ = geometry(input_shape, kernel, strides, dilation, self.padding)
        if oh < 1 or ow < 1:
            spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
            spanned = f" (spanning {spans} with dilation_rate {dilation})" if spans != kernel else ""
            raise ValueError(f"the {kernel} kernel{spanned} does not fit the {input_shape[:2]} input with padding "
                             "'valid'; use padding: same, a smaller kernel_size" +
                             (" or dilation_rate" if spanned else "") + ", or fewer downsampling layers before it")
        return (oh, ow, self.filters)


class Conv1D(_Convolution):
    """1-D convolution over sequences: x (N, L, C), kernel (K, C, filters),
    y (N, OL, filters); computed as a conv2d of height 1."""

    type: Literal["conv1d"] = "conv1d"
    padding: Literal["valid", "same", "causal"] = Field(
        "valid", description="'valid': no padding; 'same': output length ceil(input / stride); 'causal': as many, "
        "padded before the sequence only, so that no output reads a later step (Keras's; a TCN's, with "
        "dilation_rate).")
    kernel_size: PositiveInt = Field(description="Window length.")
    strides: PositiveInt = Field(1, description="Step between windows.")
    dilation_rate: PositiveInt = Field(1, description="Spacing between kernel taps.")

    check_cases = [
        ({"filters": 2, "kernel_size": 3}, (6, 2)),
        ({"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same", "dilation_rate": 1}, (5, 1)),
        ({"filters": 2, "kernel_size": 2, "dilation_rate": 2, "activation": "sigmoid"}, (7, 2)),
        ({"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "causal"}, (6, 2)),
        ({"filters": 2, "kernel_size": 2, "strides": 2, "padding": "causal"}, (5, 1)),
    ]

    def _geometry(self):
        return (1, self.kernel_size), (1, self.strides), (1, self.dilation_rate)

    def _kernel_size(self):
        return (self.kernel_size,)

    def _as_images(self, x):
        return x[:, None]  # (N, 1, L, C)

    def _input_shape_of(self, dx):
        return dx.shape[2:]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise needs_sequences("conv1d", input_shape, "length, channels")
        kernel, strides, dilation = self._geometry()
        _, ol, _ = geometry((1, *input_shape), kernel, strides, dilation, self.padding)
        if ol < 1:
            span = dilation[1] * (self.kernel_size - 1) + 1
            spanned = f" (spanning {span} with dilation_rate {dilation[1]})" if span != self.kernel_size else ""
            raise ValueError(f"the kernel of {self.kernel_size}{spanned} does not fit a sequence of {input_shape[0]}; "
                             "use padding: same, or a smaller kernel_size" + (" or dilation_rate" if spanned else ""))
        return (ol, self.filters)
