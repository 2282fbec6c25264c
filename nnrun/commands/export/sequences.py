"""Sequence layers as ONNX operators: the recurrent layers, their bidirectional wrapper,
the 1-D global pools and the positional embedding.

nnrun's recurrent layers keep Keras layouts (see ``nnrun.model.layers.recurrent``);
ONNX's ``RNN``, ``GRU`` and ``LSTM`` want time-major input and their own gate orders:

- lstm: Keras gates i, f, c, o; ONNX i, o, f, c. W = kernel.T and R =
  recurrent_kernel.T with the blocks reordered, B = [bias, 0];
- gru: Keras's ``reset_after`` is ONNX's ``linear_before_reset = 1``, gates z, r, h in
  both; B = [input bias, recurrent bias];
- simple_rnn: W, R, B = [bias, 0] as they are.

``go_backwards`` reverses the time axis before a forward ONNX pass, so the output
comes in the order nnrun returns it (reversed, like Keras).

Masked sequences (an embedding's ``mask_zero``, a masking layer; ``masks`` carries the
(N, T) boolean mask through the graph). nnrun's scan leaves the state as it was at a
padded step, wherever the padding is, so a recurrent layer runs only the real steps:
each sequence's real steps are moved to its front in their order (``TopK`` of a score
that puts them first, ``GatherElements``) and the operator gets their count as
``sequence_lens``. The last state is then the state after the last real step; with
``return_sequences``, step t outputs the state after the real steps up to t, and 0 where
t is padded, as nnrun does. The global pools average, or take the maximum over, the real
steps only; a sequence with none gives 0.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from nnrun.commands.export.builder import OnnxBuilder
from nnrun.errors import UserError

# nnrun's step activations that ONNX's recurrent operators take, by their ONNX name.
STEP_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "elu": "Elu"}
LSTM_ORDER = (0, 3, 1, 2)  # ONNX block k is Keras block LSTM_ORDER[k]: i, o, f, c
INT_MAX = np.iinfo(np.int64).max


def _blocks(matrix: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """(rows, G*u) Keras weights -> (G*u, rows) with the gate blocks in ``order``."""
    parts = np.split(matrix, len(order), axis=-1)
    return np.concatenate([parts[i] for i in order], axis=-1).T


def _activations(name: str, layer) -> list[str]:
    wanted = [layer.activation] if layer.type == "simple_rnn" else [layer.recurrent_activation, layer.activation]
    if layer.type == "lstm":
        wanted.append(layer.activation)  # f (gates), g (candidate), h (cell output)
    missing = sorted({a for a in wanted if a not in STEP_ACTIVATIONS})
    if missing:
        raise UserError(f"cannot export: '{name}' ({layer.type}) uses the activation {', '.join(missing)}, which "
                        f"ONNX's {layer.type} operator does not have; it takes {', '.join(STEP_ACTIVATIONS)}")
    return [STEP_ACTIVATIONS[a] for a in wanted]


def _weights(layer, params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W (1, G*u, F), R (1, G*u, u), B (1, 2*G*u) in ONNX's layout."""
    order = LSTM_ORDER if layer.type == "lstm" else tuple(range(layer.gates))
    w, r = _blocks(params["kernel"], order), _blocks(params["recurrent_kernel"], order)
    width = layer.gates * layer.units
    bias = params.get("bias")
    if bias is None:
        b = np.zeros(2 * width, np.float32)
    elif layer.type == "gru":  # (2, 3u): input bias, recurrent bias
        b = np.concatenate([bias[0], bias[1]])
    else:
        b = np.concatenate([_blocks(bias[None], order)[:, 0], np.zeros(width, np.float32)])
    return w[None], r[None], b[None]


def reversed_in_time(b: OnnxBuilder, x: str, axis: int, stem: str) -> str:
    """``x`` with its ``axis`` read from the end."""
    return b.node("Slice", [x, b.constant(f"{stem}_start", np.array([-1], np.int64)),
                            b.constant(f"{stem}_end", np.array([-INT_MAX], np.int64)),
                            b.constant(f"{stem}_axis", np.array([axis], np.int64)),
                            b.constant(f"{stem}_step", np.array([-1], np.int64))], stem)


def _unsqueezed(b: OnnxBuilder, x: str, axis: int, stem: str) -> str:
    return b.node("Unsqueeze", [x, b.constant(f"{stem}_axes", np.array([axis], np.int64))], stem)


def _along_steps(b: OnnxBuilder, x: str, index: str, stem: str) -> str:
    """``x`` (N, T, C) at step ``index`` (N, T) int64 of each sequence, every channel."""
    spread = b.node("Expand", [_unsqueezed(b, index, 2, f"{stem}_index"), b.node("Shape", [x], f"{stem}_shape")],
                    f"{stem}_indices")
    return b.node("GatherElements", [x, spread], stem, axis=1)


def _real_steps_first(b: OnnxBuilder, x: str, real: str, steps: int, name: str) -> tuple[str, str]:
    """``x`` (N, T, F) with each sequence's real steps moved to its front in their order
    (``real``: (N, T) 1.0 or 0.0), and the count of real steps (N,) int32."""
    # real * T + (T - 1 - t): every real step scores above every padded one, and an earlier
    # step above a later one, all distinct, so TopK's order is the wanted one.
    score = b.node("Add", [b.node("Mul", [real, b.constant(f"{name}_steps", np.array(steps, np.float32))],
                                  f"{name}_real_first"),
                           b.constant(f"{name}_earlier_first", np.arange(steps - 1, -1, -1, dtype=np.float32))],
                   f"{name}_order_score")
    order = [b.fresh(f"{name}_order_values"), b.fresh(f"{name}_order")]
    b.nodes.append(b.onnx.helper.make_node("TopK", [score, b.constant(f"{name}_k", np.array([steps], np.int64))],
                                           order, name=order[1], axis=1, largest=1, sorted=1))
    lengths = b.node("Cast", [b.axes("ReduceSum", [real], f"{name}_real_count", [1], keepdims=0)], f"{name}_lengths",
                     to=b.onnx.TensorProto.INT32)
    return _along_steps(b, x, order[1], f"{name}_real_first_steps"), lengths


def recurrent(b: OnnxBuilder, layer, params: dict, name: str, x: str, steps: int, mask: str | None = None) -> str:
    """``layer`` (simple_rnn, gru or lstm) on the batch-major sequence ``x`` (N, T, F)
    of ``steps`` steps; ``mask`` (N, T) bool marks the real steps when there is one."""
    if layer.go_backwards:
        x = reversed_in_time(b, x, 1, f"{name}_reversed")
        mask = None if mask is None else reversed_in_time(b, mask, 1, f"{name}_mask_reversed")
    operands_after = []
    if mask is not None:
        real = b.node("Cast", [mask], f"{name}_real", to=b.onnx.TensorProto.FLOAT)
        x, lengths = _real_steps_first(b, x, real, steps, name)
        operands_after = [lengths]
    w, r, bias = _weights(layer, params)
    time_major = b.node("Transpose", [x], f"{name}_time_major", perm=[1, 0, 2])  # (T, N, F)
    operands = [time_major, b.weight(f"{name}.W", w), b.weight(f"{name}.R", r), b.weight(f"{name}.B", bias),
                *operands_after]
    op = {"simple_rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}[layer.type]
    extra = {"linear_before_reset": 1} if layer.type == "gru" else {}
    outputs = [b.fresh(f"{name}_Y"), b.fresh(f"{name}_Y_h")]
    b.nodes.append(b.onnx.helper.make_node(op, operands, outputs, name=f"{name}_{op}", hidden_size=layer.units,
                                           activations=_activations(name, layer), **extra))
    if not layer.return_sequences:  # Y_h (1, N, u) -> (N, u): the state after the last real step
        return b.node("Squeeze", [outputs[1], b.constant(f"{name}_dir", np.array([0], np.int64))], name)
    sequence = b.node("Squeeze", [outputs[0], b.constant(f"{name}_dir", np.array([1], np.int64))], f"{name}_seq")
    if mask is None:
        return b.node("Transpose", [sequence], name, perm=[1, 0, 2])  # (T, N, u) -> (N, T, u)
    packed = b.node("Transpose", [sequence], f"{name}_packed", perm=[1, 0, 2])  # real steps first
    # Step t: the packed output after the real steps up to t (index count - 1), 0 where padded.
    before = b.node("Relu", [b.node("Sub", [b.node("CumSum", [real, b.constant(f"{name}_time", np.array(1, np.int64))],
                                                   f"{name}_real_so_far"),
                                            b.constant(f"{name}_one", np.array(1, np.float32))], f"{name}_last_real")],
                    f"{name}_last_real_from_0")
    index = b.node("Cast", [before], f"{name}_unpack", to=b.onnx.TensorProto.INT64)
    unpacked = _along_steps(b, packed, index, f"{name}_unpacked")
    return b.node("Mul", [unpacked, _unsqueezed(b, real, 2, f"{name}_real_steps")], name)


def _recurrent(b: OnnxBuilder, node, inputs: list[str], shapes, mask: str | None = None) -> str:
    return recurrent(b, node.layer, node.params, node.name, inputs[0], shapes[0][0], mask)


def _bidirectional(b: OnnxBuilder, node, inputs: list[str], shapes, mask: str | None = None) -> str:
    """Both directions as separate forward passes, merged as nnrun merges them."""
    ahead, behind = node.layer._directions()
    sides = []
    for side, layer in (("forward", ahead), ("backward", behind)):
        prefix = side + "_"
        params = {k[len(prefix):]: v for k, v in node.params.items() if k.startswith(prefix)}
        sides.append(recurrent(b, layer, params, f"{node.name}_{side}", inputs[0], shapes[0][0], mask))
    if node.layer.layer.return_sequences:  # the backward pass's output in forward time order
        sides[1] = reversed_in_time(b, sides[1], 1, f"{node.name}_realigned")
    mode = node.layer.merge_mode
    if mode == "concat":
        return b.node("Concat", sides, node.name, axis=-1)
    if mode in ("sum", "mul"):
        return b.node("Add" if mode == "sum" else "Mul", sides, node.name)
    total = b.node("Add", sides, f"{node.name}_sum")
    return b.node("Mul", [total, b.constant(f"{node.name}_half", np.array(0.5, np.float32))], node.name)


def _positional_embedding(b: OnnxBuilder, node, inputs: list[str], shapes) -> str:
    return b.node("Add", [inputs[0], b.weight(f"{node.name}.embeddings", node.params["embeddings"])], node.name)


def _global_pool1d(op: str) -> Callable:
    def convert(b: OnnxBuilder, node, inputs: list[str], shapes, mask: str | None = None) -> str:
        if mask is None:
            return b.axes(op, [inputs[0]], node.name, [1], keepdims=0)  # (N, T, C) -> (N, C)
        return (_masked_mean if op == "ReduceMean" else _masked_max)(b, node.name, inputs[0], mask)

    return convert


def _masked_mean(b: OnnxBuilder, name: str, x: str, mask: str) -> str:
    """The mean over the real steps: weights 1 / count on them (count at least 1)."""
    real = b.node("Cast", [mask], f"{name}_real", to=b.onnx.TensorProto.FLOAT)
    count = b.node("Max", [b.axes("ReduceSum", [real], f"{name}_count", [1], keepdims=1),
                           b.constant(f"{name}_one", np.array(1, np.float32))], f"{name}_count_at_least_1")
    weights = _unsqueezed(b, b.node("Div", [real, count], f"{name}_weights"), 2, f"{name}_step_weights")
    return b.axes("ReduceSum", [b.node("Mul", [x, weights], f"{name}_weighted")], name, [1], keepdims=0)


def _masked_max(b: OnnxBuilder, name: str, x: str, mask: str) -> str:
    """The maximum over the real steps (padded ones read as -inf); 0 with none."""
    padded_out = b.node("Where", [_unsqueezed(b, mask, 2, f"{name}_mask"), x,
                                  b.constant(f"{name}_lowest", np.array(-np.inf, np.float32))], f"{name}_real_only")
    top = b.axes("ReduceMax", [padded_out], f"{name}_top", [1], keepdims=0)
    real = b.node("Cast", [mask], f"{name}_real", to=b.onnx.TensorProto.FLOAT)
    count = b.axes("ReduceSum", [real], f"{name}_count", [1], keepdims=1)
    any_real = b.node("Greater", [count, b.constant(f"{name}_none", np.array(0, np.float32))], f"{name}_any_real")
    return b.node("Where", [any_real, top, b.constant(f"{name}_zero", np.array(0, np.float32))], name)


CONVERTERS: dict[str, Callable] = {
    "simple_rnn": _recurrent,
    "gru": _recurrent,
    "lstm": _recurrent,
    "bidirectional": _bidirectional,
    "positional_embedding": _positional_embedding,
    "global_average_pool1d": _global_pool1d("ReduceMean"),
    "global_max_pool1d": _global_pool1d("ReduceMax"),
}
