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
comes in the order nnrun returns it (reversed, like Keras). Masked sequences (an
embedding with ``mask_zero``) have no form here; ``convert.check_exportable`` refuses
them.
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


def recurrent(b: OnnxBuilder, layer, params: dict, name: str, x: str) -> str:
    """``layer`` (simple_rnn, gru or lstm) on the batch-major sequence ``x`` (N, T, F)."""
    steps = b.node("Transpose", [x], f"{name}_time_major", perm=[1, 0, 2])  # (T, N, F)
    if layer.go_backwards:
        steps = b.node("Slice", [steps, b.constant(f"{name}_start", np.array([-1], np.int64)),
                                 b.constant(f"{name}_end", np.array([-INT_MAX], np.int64)),
                                 b.constant(f"{name}_axis", np.array([0], np.int64)),
                                 b.constant(f"{name}_step", np.array([-1], np.int64))], f"{name}_reversed")
    w, r, bias = _weights(layer, params)
    operands = [steps, b.weight(f"{name}.W", w), b.weight(f"{name}.R", r), b.weight(f"{name}.B", bias)]
    op = {"simple_rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}[layer.type]
    extra = {"linear_before_reset": 1} if layer.type == "gru" else {}
    outputs = [b.fresh(f"{name}_Y"), b.fresh(f"{name}_Y_h")]
    b.nodes.append(b.onnx.helper.make_node(op, operands, outputs, name=f"{name}_{op}", hidden_size=layer.units,
                                           activations=_activations(name, layer), **extra))
    if not layer.return_sequences:  # Y_h (1, N, u) -> (N, u)
        return b.node("Squeeze", [outputs[1], b.constant(f"{name}_dir", np.array([0], np.int64))], name)
    sequence = b.node("Squeeze", [outputs[0], b.constant(f"{name}_dir", np.array([1], np.int64))], f"{name}_seq")
    return b.node("Transpose", [sequence], name, perm=[1, 0, 2])  # (T, N, u) -> (N, T, u)


def _recurrent(b: OnnxBuilder, node, inputs: list[str], shapes) -> str:
    return recurrent(b, node.layer, node.params, node.name, inputs[0])


def _bidirectional(b: OnnxBuilder, node, inputs: list[str], shapes) -> str:
    """Both directions as separate forward passes, merged as nnrun merges them."""
    ahead, behind = node.layer._directions()
    sides = []
    for side, layer in (("forward", ahead), ("backward", behind)):
        prefix = side + "_"
        params = {k[len(prefix):]: v for k, v in node.params.items() if k.startswith(prefix)}
        sides.append(recurrent(b, layer, params, f"{node.name}_{side}", inputs[0]))
    if node.layer.layer.return_sequences:  # the backward pass's output in forward time order
        sides[1] = b.node("Slice", [sides[1], b.constant(f"{node.name}_start", np.array([-1], np.int64)),
                                    b.constant(f"{node.name}_end", np.array([-INT_MAX], np.int64)),
                                    b.constant(f"{node.name}_axis", np.array([1], np.int64)),
                                    b.constant(f"{node.name}_step", np.array([-1], np.int64))],
                          f"{node.name}_realigned")
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
    def convert(b: OnnxBuilder, node, inputs: list[str], shapes) -> str:
        return b.axes(op, [inputs[0]], node.name, [1], keepdims=0)  # (N, T, C) -> (N, C)

    return convert


CONVERTERS: dict[str, Callable] = {
    "simple_rnn": _recurrent,
    "gru": _recurrent,
    "lstm": _recurrent,
    "bidirectional": _bidirectional,
    "positional_embedding": _positional_embedding,
    "global_average_pool1d": _global_pool1d("ReduceMean"),
    "global_max_pool1d": _global_pool1d("ReduceMax"),
}
