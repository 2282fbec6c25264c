"""Pooling over NHWC images (and (N, L, C) sequences as images of height 1).

Both loop over the window's taps (2 x 2 = 4 for the usual pool), each step one
vectorised operation over the batch and every output pixel. Max pooling sends the gradient
to the tap of each window that won (the first, on ties) only; average
pooling spreads it evenly over the taps inside the image (padding is not counted, as in
Keras). A max pool reading a relu layer takes relu's gradient for it
(``backward(..., relu_input=True)``, see :mod:`nnrun.model.fusions`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, PositiveInt

from nnrun.model import kernels
from nnrun.model.activations import ACTIVATIONS
from nnrun.model.layers.base import Layer, Shape, needs_images, needs_sequences
from nnrun.model.layers.sequence_pooling import max_gradient, max_over_axis1
from nnrun.model.layers.windows import geometry, pad, pair, unpad
from nnrun.model.rows import over_rows

Pair = PositiveInt | tuple[PositiveInt, PositiveInt]


class _Pool2D(Layer):
    reads_images = True
    pool_size: Pair = Field(2, description="Window height and width (one number: square).")
    strides: Pair | None = Field(None, description="Step between windows; default: the pool size.")
    padding: Literal["valid", "same"] = Field("valid", description="'valid': no padding; 'same': output size ceil(input / stride).")

    def _geometry(self):
        size = pair(self.pool_size)
        return size, pair(self.strides) if self.strides is not None else size

    def _as_images(self, x):
        return x

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3:
            raise needs_images(self.type, input_shape)
        size, strides = self._geometry()
        oh, ow, _ = geometry(input_shape, size, strides, (1, 1), self.padding)
        if oh < 1 or ow < 1:
            raise ValueError(f"the pool of {size} does not fit the {input_shape[:2]} input; use padding: same, a "
                             "smaller pool_size, or fewer downsampling layers before it")
        return (oh, ow, input_shape[2])

    def _taps(self, image_shape):
        """Padding, then one (rows, cols) slice pair per window tap: the slice of the
        padded image that tap reads for every output pixel at once."""
        size, strides = self._geometry()
        oh, ow, pads = geometry(image_shape[1:], size, strides, (1, 1), self.padding)
        taps = [
            (slice(i, i + strides[0] * (oh - 1) + 1, strides[0]), slice(j, j + strides[1] * (ow - 1) + 1, strides[1]))
            for i in range(size[0])
            for j in range(size[1])
        ]
        return pads, taps


class MaxPool2D(_Pool2D):
    """Maximum over each window: x (N, H, W, C) -> (N, OH, OW, C)."""

    type: Literal["max_pool2d"] = "max_pool2d"

    check_cases = [({}, (4, 4, 2)), ({"pool_size": 3, "strides": 2, "padding": "same"}, (5, 6, 1)),
                   ({"pool_size": (2, 1)}, (5, 3, 2)), ({"pool_size": 1}, (3, 3, 1))]

    def forward(self, params, x, training, rng):
        images = self._as_images(x)
        pads, taps = self._taps(images.shape)
        xp = pad(images, pads, -np.inf)
        y = np.empty(xp[:, taps[0][0], taps[0][1]].shape, xp.dtype)
        compiled = kernels.compiled("max_pool_forward", xp)
        size, strides = self._geometry()

        def window_maxima(a, b):
            if compiled is not None:  # one pass, the same maxima
                compiled(xp[a:b], y[a:b], *size, *strides)
                return
            np.copyto(y[a:b], xp[a:b, taps[0][0], taps[0][1]])
            for rows, cols in taps[1:]:
                np.maximum(y[a:b], xp[a:b, rows, cols], out=y[a:b])

        over_rows(len(y), window_maxima, xp.size)
        return y.reshape(x.shape[0], *self.output_shape(x.shape[1:])), (xp, y, pads, taps)

    def backward(self, params, cache, dy, need_dx=True, relu_input=False):
        # The winners are found again here rather than tracked in forward: comparing
        # with the maximum is several times cheaper than recording an argmax per tap.
        xp, y, pads, taps = cache
        dy = dy.reshape(y.shape)
        tiled = self._tiles(xp.shape)  # every input pixel in exactly one window
        dxp = np.empty(xp.shape, dy.dtype) if tiled else np.zeros(xp.shape, dy.dtype)
        compiled = kernels.compiled("max_pool_backward_tiled", xp, y, dy) if tiled else None
        if relu_input and compiled is None:
            # The layer read takes no activation gradient: relu's is taken here, on the
            # pooled values, which are relu of each window's maximum (the kernel does
            # the same multiply in its pass).
            dy = ACTIVATIONS["relu"].gradient(None, y, dy)

        def route(a, b):
            if compiled is not None:  # one pass, the same winners
                compiled(xp[a:b], y[a:b], dy[a:b], dxp[a:b], *self._geometry()[0], relu_input)  # pool = strides
                return
            # Ties (e.g. zeros after relu) go to the first tap only: ``unclaimed`` marks
            # the windows no earlier tap won. The first tap needs no mask yet, and the
            # last wins whatever is left (the maximum is one of the taps), which spares 5
            # of 16 passes.
            won = np.equal(xp[a:b, taps[0][0], taps[0][1]], y[a:b])
            unclaimed = ~won
            for index, (rows, cols) in enumerate(taps):
                if index == 0:
                    pass
                elif index == len(taps) - 1:
                    won = unclaimed
                else:
                    np.equal(xp[a:b, rows, cols], y[a:b], out=won)
                    won &= unclaimed
                    unclaimed ^= won
                if tiled:
                    np.multiply(dy[a:b], won, out=dxp[a:b, rows, cols])
                else:
                    dxp[a:b, rows, cols] += dy[a:b] * won

        over_rows(len(y), route, xp.size)
        dx = unpad(dxp, pads)
        return dx.reshape(dx.shape[0], *self._input_shape(dx)), {}

    def _input_shape(self, dx):
        return dx.shape[1:]

    def _tiles(self, padded_shape) -> bool:
        """Windows side by side, neither overlapping nor leaving pixels out."""
        size, strides = self._geometry()
        return size == strides and padded_shape[1] % size[0] == 0 and padded_shape[2] % size[1] == 0


class AveragePool2D(_Pool2D):
    """Mean over each window, counting only taps inside the image."""

    type: Literal["average_pool2d"] = "average_pool2d"

    check_cases = [({}, (4, 4, 2)), ({"pool_size": 3, "strides": 2, "padding": "same"}, (5, 6, 1))]

    def forward(self, params, x, training, rng):
        pads, taps = self._taps(x.shape)
        xp = pad(x, pads)
        inside = pad(np.ones((1, *x.shape[1:3], 1), x.dtype), pads)
        total = sum(xp[:, rows, cols] for rows, cols in taps)
        counts = sum(inside[:, rows, cols] for rows, cols in taps)  # (1, OH, OW, 1)
        return total / counts, (counts, xp.shape, pads, taps)

    def backward(self, params, cache, dy, need_dx=True):
        counts, padded_shape, pads, taps = cache
        share = dy / counts
        dxp = np.zeros(padded_shape, dy.dtype)
        for rows, cols in taps:
            dxp[:, rows, cols] += share
        return unpad(dxp, pads), {}


class _GlobalPool2D(Layer):
    """A value per channel from all of an image: (N, H, W, C) -> (N, C)."""

    reads_images = True
    check_cases = [({}, (3, 4, 2))]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3:
            raise needs_images(self.type, input_shape)
        return (input_shape[2],)


class GlobalAveragePool2D(_GlobalPool2D):
    """Mean over height and width: x (N, H, W, C) -> (N, C)."""

    type: Literal["global_average_pool2d"] = "global_average_pool2d"

    def forward(self, params, x, training, rng):
        return x.mean(axis=(1, 2)), x.shape

    def backward(self, params, cache, dy, need_dx=True):
        n, h, w, c = cache
        return np.broadcast_to((dy / (h * w))[:, None, None, :], cache).copy(), {}


class GlobalMaxPool2D(_GlobalPool2D):
    """Maximum over height and width: x (N, H, W, C) -> (N, C). The gradient goes to
    the first pixel (in row-major order) that holds the maximum."""

    type: Literal["global_max_pool2d"] = "global_max_pool2d"

    def forward(self, params, x, training, rng):
        n, h, w, c = x.shape
        y, winner = max_over_axis1(x.reshape(n, h * w, c))
        return y, (x.shape, winner)

    def backward(self, params, cache, dy, need_dx=True):
        shape, winner = cache
        n, h, w, c = shape
        return max_gradient((n, h * w, c), winner, dy).reshape(shape), {}


class MaxPool1D(MaxPool2D):
    """Maximum over windows of a sequence: x (N, L, C) -> (N, OL, C)."""

    type: Literal["max_pool1d"] = "max_pool1d"
    reads_images = False  # sequences, (steps, channels), as one row of pixels
    pool_size: PositiveInt = Field(2, description="Window length.")
    strides: PositiveInt | None = Field(None, description="Step between windows; default: the pool size.")

    check_cases = [({}, (6, 2)), ({"pool_size": 3, "strides": 1, "padding": "same"}, (5, 1))]

    def _geometry(self):
        return (1, self.pool_size), (1, self.strides or self.pool_size)

    def _as_images(self, x):
        return x[:, None]

    def _input_shape(self, dx):
        return dx.shape[2:]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise needs_sequences("max_pool1d", input_shape, "length, channels")
        return super().output_shape((1, *input_shape))[1:]
