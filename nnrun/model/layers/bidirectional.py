"""``bidirectional``: one recurrent layer reading forwards, a copy reading backwards."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.layers.base import Layer, Params, Shape
from nnrun.model.layers.gru import GRU
from nnrun.model.layers.lstm import LSTM
from nnrun.model.layers.recurrent import SimpleRNN
from nnrun.specs import tagged_union

RecurrentSpec = tagged_union((SimpleRNN, LSTM, GRU))
DIRECTIONS = ("forward", "backward")


class Bidirectional(Layer):
    """Runs ``layer`` over the sequence and a copy of it (its own weights) with
    ``go_backwards`` flipped, then merges the two outputs; with ``return_sequences``
    the backward output is put back in forward time order first, so step t of both
    sees the same token.

    Shapes: (N, T, F) -> (N, 2u) for ``concat``, (N, u) for ``sum``, ``mul`` and
    ``average`` (``ave``, Keras's spelling); (N, T, .) with return_sequences.
    Parameters are the wrapped layer's, prefixed: ``forward_kernel``,
    ``backward_recurrent_kernel``, ...
    """

    type: Literal["bidirectional"] = "bidirectional"
    layer: RecurrentSpec = Field(description="The recurrent layer to run both ways, e.g. {type: lstm, units: 64}.")
    merge_mode: Literal["concat", "sum", "mul", "average", "ave"] = Field(
        "concat", description="How the two directions' outputs combine.")

    takes_mask = True
    reads_in_order = True
    spans_batch = True
    check_cases = [
        ({"layer": {"type": "lstm", "units": 2}}, (3, 2)),
        ({"layer": {"type": "gru", "units": 2, "return_sequences": True}, "merge_mode": "mul"}, (3, 2)),
        ({"layer": {"type": "simple_rnn", "units": 2, "return_sequences": True}, "merge_mode": "average"}, (3, 2)),
        ({"layer": {"type": "lstm", "units": 2, "go_backwards": True}, "merge_mode": "sum"}, (3, 2)),
    ]

    def _directions(self):
        flipped = self.layer.model_copy(update={"go_backwards": not self.layer.go_backwards})
        return self.layer, flipped

    def output_shape(self, input_shape: Shape) -> Shape:
        shape = self.layer.output_shape(input_shape)
        return (*shape[:-1], 2 * shape[-1]) if self.merge_mode == "concat" else shape

    def init(self, input_shape: Shape, rng, dtype) -> Params:
        return {f"{side}_{name}": value
                for side, layer in zip(DIRECTIONS, self._directions())
                for name, value in layer.init(input_shape, rng, dtype).items()}

    def penalties(self):
        return {f"{side}_{name}": reg for side in DIRECTIONS for name, reg in self.layer.penalties().items()}

    def output_mask(self, x, mask):
        return mask if self.layer.return_sequences else None

    @staticmethod
    def _side(params: Params, side: str) -> Params:
        prefix = side + "_"
        return {name[len(prefix):]: value for name, value in params.items() if name.startswith(prefix)}

    def _realign(self, y):
        """The backward copy's output in the forward one's time order."""
        return y[:, ::-1] if self.layer.return_sequences else y

    def forward(self, params, x, training, rng, mask=None, part=None):
        (ahead, behind), kwargs = self._directions(), ({} if mask is None else {"mask": mask})
        kwargs["part"] = part
        y_ahead, cache_ahead = ahead.forward(self._side(params, "forward"), x, training, rng, **kwargs)
        y_behind, cache_behind = behind.forward(self._side(params, "backward"), x, training, rng, **kwargs)
        y_behind = self._realign(y_behind)
        if self.merge_mode == "concat":
            y = np.concatenate([y_ahead, y_behind], axis=-1)
        elif self.merge_mode == "sum":
            y = y_ahead + y_behind
        elif self.merge_mode == "mul":
            y = y_ahead * y_behind
        else:
            y = (y_ahead + y_behind) * y_ahead.dtype.type(0.5)
        saved = (y_ahead, y_behind) if self.merge_mode == "mul" else None
        return y, (cache_ahead, cache_behind, saved)

    def _split_dy(self, dy, saved):
        if self.merge_mode == "concat":
            half = dy.shape[-1] // 2
            return dy[..., :half], dy[..., half:]
        if self.merge_mode == "sum":
            return dy, dy
        if self.merge_mode == "mul":
            y_ahead, y_behind = saved
            return dy * y_behind, dy * y_ahead
        half = dy * dy.dtype.type(0.5)
        return half, half

    def backward(self, params, cache, dy, need_dx=True):
        cache_ahead, cache_behind, saved = cache
        ahead, behind = self._directions()
        dy_ahead, dy_behind = self._split_dy(dy, saved)
        dx_ahead, g_ahead = ahead.backward(self._side(params, "forward"), cache_ahead, dy_ahead, need_dx)
        dx_behind, g_behind = behind.backward(self._side(params, "backward"), cache_behind,
                                              np.ascontiguousarray(self._realign(dy_behind)), need_dx)
        grads = {f"forward_{k}": v for k, v in g_ahead.items()} | {f"backward_{k}": v for k, v in g_behind.items()}
        return (dx_ahead + dx_behind if need_dx else None), grads
