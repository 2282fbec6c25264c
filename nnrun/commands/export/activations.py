"""Activations as ONNX operators, with nnrun's (Keras's) constants.

Every one is an operator of the standard domain at opset 13 and later, or a short
composition of them: gelu is ``0.5 x (1 + erf(x / sqrt 2))`` (the ``Gelu`` operator
only exists from opset 20), silu is ``x * sigmoid(x)``.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from nnrun.model.activations import LEAKY_SLOPE, SELU_ALPHA, SELU_SCALE

from nnrun.commands.export.builder import OnnxBuilder


def _gelu(b: OnnxBuilder, x: str, stem: str) -> str:
    scaled = b.node("Mul", [x, b.constant(f"{stem}_inv_sqrt2", np.array(1 / math.sqrt(2), np.float32))], f"{stem}_s")
    one_plus = b.node("Add", [b.node("Erf", [scaled], f"{stem}_erf"), b.constant(f"{stem}_one", np.array(1, np.float32))],
                      f"{stem}_cdf2")
    half_x = b.node("Mul", [x, b.constant(f"{stem}_half", np.array(0.5, np.float32))], f"{stem}_halfx")
    return b.node("Mul", [half_x, one_plus], stem)


def _silu(b: OnnxBuilder, x: str, stem: str) -> str:
    return b.node("Mul", [x, b.node("Sigmoid", [x], f"{stem}_sigmoid")], stem)


def _plain(op: str, **attributes) -> Callable[[OnnxBuilder, str, str], str]:
    return lambda b, x, stem: b.node(op, [x], stem, **attributes)


CONVERTERS: dict[str, Callable[[OnnxBuilder, str, str], str]] = {
    "linear": lambda b, x, stem: x,
    "relu": _plain("Relu"),
    "sigmoid": _plain("Sigmoid"),
    "tanh": _plain("Tanh"),
    "softmax": _plain("Softmax", axis=-1),
    "leaky_relu": _plain("LeakyRelu", alpha=LEAKY_SLOPE),
    "elu": _plain("Elu", alpha=1.0),
    "selu": _plain("Selu", alpha=SELU_ALPHA, gamma=SELU_SCALE),
    "gelu": _gelu,
    "silu": _silu,
    "swish": _silu,
    "softplus": _plain("Softplus"),
}


def activation(b: OnnxBuilder, name: str, x: str, stem: str) -> str:
    """``name`` applied to the tensor ``x``; the output is called ``stem``."""
    return CONVERTERS[name](b, x, stem)
