"""Each catalog layer as ONNX operators, in inference form.

A converter gets the builder, the graph node (its spec, trained parameters and output
shape), the names of its input tensors and their shapes (without the batch axis),
and returns the name of its output tensor. The math mirrors the NumPy forward pass
in ``nnrun.model.layers`` with ``training=False``:

- dense: ``MatMul`` + ``Add``; conv1d/conv2d: ``Conv`` on NCHW with the kernel
  transposed from (kh, kw, in, out) to (out, in, kh, kw) and the padding nnrun
  computes (``same``: the extra pixel after); both then their activation;
- dropout: the identity; batch normalization: the moving statistics (inference form);
  layer normalization: ``LayerNormalization`` (opset 17 on) or its decomposition;
- pools: ``MaxPool`` / ``AveragePool`` (padding not counted) on NCHW; global average
  pooling: ``ReduceMean`` over height and width;
- flatten, reshape, concatenate, add, multiply: ``Flatten``, ``Reshape``, ``Concat``,
  chained ``Add`` / ``Mul``; embedding: ``Gather`` of the table at the input cast to
  int64; select: ``Gather`` of its positions on the last axis.

The sequence layers are in ``sequences``, masking and the padding masks in ``masks``.
A layer type missing from ``CONVERTERS``
makes the export refuse, naming the layer.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from nnrun.model.layers.windows import geometry

from nnrun.commands.export.activations import activation
from nnrun.commands.export.builder import OnnxBuilder
from nnrun.commands.export.masks import masking
from nnrun.commands.export.sequences import CONVERTERS as SEQUENCE_CONVERTERS

Shape = tuple[int, ...]


def _dense(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    z = b.node("MatMul", [inputs[0], b.weight(f"{node.name}.kernel", node.params["kernel"])], f"{node.name}_matmul")
    if node.layer.use_bias:
        z = b.node("Add", [z, b.weight(f"{node.name}.bias", node.params["bias"])], f"{node.name}_bias")
    return activation(b, node.layer.activation, z, node.name)


def _conv_attributes(layer, image_shape: Shape) -> dict:
    kernel, strides, dilation = layer._geometry()
    _, _, ((top, bottom), (left, right)) = geometry(image_shape, kernel, strides, dilation, layer.padding)
    return {"kernel_shape": list(kernel), "strides": list(strides), "dilations": list(dilation),
            "pads": [top, left, bottom, right]}


def _one_dimensional(attributes: dict) -> dict:
    """2-D attributes of a height-1 window (how nnrun computes 1-D layers) -> 1-D ones."""
    top, left, bottom, right = attributes["pads"]
    squeezed = {key: value[1:] for key, value in attributes.items() if key != "pads"}
    return {**squeezed, "pads": [left, right]}


def _convolution(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    layer, shape = node.layer, shapes[0]
    one_d = len(shape) == 2
    attributes = _conv_attributes(layer, (1, *shape) if one_d else shape)
    if one_d:
        attributes = _one_dimensional(attributes)
    kernel = node.params["kernel"]  # (kh, kw, in, out) or (k, in, out)
    kernel = np.moveaxis(kernel, (-1, -2), (0, 1))  # (out, in, kh, kw) / (out, in, k)
    operands = [b.channels_first(inputs[0], len(shape) + 1), b.weight(f"{node.name}.kernel", kernel)]
    if layer.use_bias:
        operands.append(b.weight(f"{node.name}.bias", node.params["bias"]))
    z = b.node("Conv", operands, f"{node.name}_conv", **attributes)
    if layer.activation == "softmax":  # over the channels, the last axis of NHWC
        return activation(b, "softmax", b.channels_last(z, len(shape) + 1, f"{node.name}_logits"), node.name)
    # An element-wise activation runs before the transpose back: the next convolution
    # or pool then reads this NCHW tensor without transposing again.
    y = activation(b, layer.activation, z, f"{node.name}_nchw")
    return b.channels_last(y, len(shape) + 1, node.name)


def _pool(op: str, **extra) -> Callable:
    def convert(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
        layer, shape = node.layer, shapes[0]
        one_d = len(shape) == 2
        size, strides = layer._geometry()
        _, _, ((top, bottom), (left, right)) = geometry((1, *shape) if one_d else shape, size, strides, (1, 1),
                                                         layer.padding)
        attributes = {"kernel_shape": list(size), "strides": list(strides), "pads": [top, left, bottom, right]}
        if one_d:
            attributes = _one_dimensional(attributes)
        pooled = b.node(op, [b.channels_first(inputs[0], len(shape) + 1)], f"{node.name}_pool", **attributes, **extra)
        return b.channels_last(pooled, len(shape) + 1, node.name)

    return convert


def _global_average_pool(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    return b.axes("ReduceMean", [inputs[0]], node.name, [1, 2], keepdims=0)


def _batch_normalization(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    """``(x - moving_mean) / sqrt(moving_variance + eps) * gamma + beta``, the four
    saved parameters kept as they are (so ``--float16`` rounds exactly the weights nnrun
    has); runtimes fold the constant part into one scale and shift when they load it."""
    params, layer, name = node.params, node.layer, node.name
    variance = b.node("Add", [b.weight(f"{name}.moving_variance", params["moving_variance"]),
                              b.constant(f"{name}_eps", np.array(layer.epsilon, np.float32))], f"{name}_var_eps")
    inv_std = b.node("Reciprocal", [b.node("Sqrt", [variance], f"{name}_std")], f"{name}_inv_std")
    centred = b.node("Sub", [inputs[0], b.weight(f"{name}.moving_mean", params["moving_mean"])], f"{name}_centred")
    y = b.node("Mul", [centred, inv_std], f"{name}_hat")
    if layer.scale:
        y = b.node("Mul", [y, b.weight(f"{name}.gamma", params["gamma"])], f"{name}_scaled")
    if layer.center:
        y = b.node("Add", [y, b.weight(f"{name}.beta", params["beta"])], f"{name}_shifted")
    return y


def _layer_normalization(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    params, layer, features = node.params, node.layer, shapes[0][-1]
    gamma = params["gamma"] if layer.scale else np.ones(features, np.float32)
    if b.opset >= 17:
        operands = [inputs[0], b.weight(f"{node.name}.gamma", gamma)]
        if layer.center:
            operands.append(b.weight(f"{node.name}.beta", params["beta"]))
        return b.node("LayerNormalization", operands, node.name, axis=-1, epsilon=layer.epsilon)
    # Before opset 17: (x - mean) / sqrt(var + eps) * gamma + beta, statistics over the last axis.
    centred = b.node("Sub", [inputs[0], b.axes("ReduceMean", [inputs[0]], f"{node.name}_mean", [-1], keepdims=1)],
                     f"{node.name}_centred")
    variance = b.axes("ReduceMean", [b.node("Mul", [centred, centred], f"{node.name}_sq")], f"{node.name}_var", [-1],
                      keepdims=1)
    std = b.node("Sqrt", [b.node("Add", [variance, b.constant(f"{node.name}_eps", np.array(layer.epsilon, np.float32))],
                                 f"{node.name}_var_eps")], f"{node.name}_std")
    y = b.node("Mul", [b.node("Div", [centred, std], f"{node.name}_hat"), b.weight(f"{node.name}.gamma", gamma)],
               f"{node.name}_scaled")
    return b.node("Add", [y, b.weight(f"{node.name}.beta", params["beta"])], node.name) if layer.center else y


def _reshape(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    target = np.array([0, *node.output_shape], np.int64)  # 0: keep the batch size
    return b.node("Reshape", [inputs[0], b.constant(f"{node.name}_shape", target)], node.name)


def _select(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    positions = np.array(node.layer.positions(), np.int64)  # bound to positions when the graph compiled
    return b.node("Gather", [inputs[0], b.constant(f"{node.name}_positions", positions)], node.name, axis=-1)


def _embedding(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    indices = b.node("Cast", [inputs[0]], f"{node.name}_indices", to=b.onnx.TensorProto.INT64)
    return b.node("Gather", [b.weight(f"{node.name}.embeddings", node.params["embeddings"]), indices], node.name, axis=0)


def _chain(op: str) -> Callable:
    """x0 op x1 op x2 ..., left to right, as the NumPy forward pass adds them."""

    def convert(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
        result = inputs[0]
        for i, other in enumerate(inputs[1:], start=1):
            result = b.node(op, [result, other], node.name if i == len(inputs) - 1 else f"{node.name}_{i}")
        return result

    return convert


def _concatenate(b: OnnxBuilder, node, inputs: list[str], shapes: list[Shape]) -> str:
    return b.node("Concat", inputs, node.name, axis=node.layer._feature_axis(len(shapes[0])) + 1)


CONVERTERS: dict[str, Callable[[OnnxBuilder, object, list[str], list[Shape]], str]] = {
    "dense": _dense,
    "activation": lambda b, node, inputs, shapes: activation(b, node.layer.activation, inputs[0], node.name),
    "dropout": lambda b, node, inputs, shapes: inputs[0],
    "batch_normalization": _batch_normalization,
    "layer_normalization": _layer_normalization,
    "flatten": lambda b, node, inputs, shapes: b.node("Flatten", inputs, node.name, axis=1),
    "reshape": _reshape,
    "select": _select,
    "embedding": _embedding,
    "add": _chain("Add"),
    "multiply": _chain("Mul"),
    "concatenate": _concatenate,
    "conv2d": _convolution,
    "conv1d": _convolution,
    "max_pool2d": _pool("MaxPool"),
    "average_pool2d": _pool("AveragePool", count_include_pad=0),
    "global_average_pool2d": _global_average_pool,
    "global_max_pool2d": lambda b, node, inputs, shapes: b.axes("ReduceMax", [inputs[0]], node.name, [1, 2],
                                                                keepdims=0),
    "max_pool1d": _pool("MaxPool"),
    "masking": masking,
    **SEQUENCE_CONVERTERS,
}
