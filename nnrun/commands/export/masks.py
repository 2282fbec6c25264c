"""Padding masks in the exported graph: the (N, T) boolean tensor of the real steps of
a batch of sequences, carried beside the values as ``Graph.forward`` carries it.

:func:`output_mask` mirrors each layer's ``output_mask``: an embedding with
``mask_zero`` makes one (index 0 is padding), a masking layer makes one (a step whose
every feature is ``mask_value``) and keeps the one it is given, a recurrent layer with
``return_sequences`` passes its input's on (reversed for its ``go_backwards``, as its
output is), a bidirectional wrapper with ``return_sequences`` passes it on as it is, and
the layers that keep their input's steps pass it on (merges: the steps every masked
input holds). Every other layer ends it. The converters of the
layers that read a mask take it as ``mask=`` (see ``sequences``).
"""

from __future__ import annotations

import numpy as np

from nnrun.commands.export.builder import OnnxBuilder
from nnrun.commands.export.sequences import reversed_in_time

RECURRENT = ("simple_rnn", "gru", "lstm")
# The layer types whose output_mask is their own; the rest keep or end the mask by ``keeps_mask``.
OWN_RULE = ("embedding", "masking", "bidirectional", *RECURRENT)


def _real_values(b: OnnxBuilder, x: str, value: float, stem: str, keepdims: int) -> str:
    """1.0 at a step with any feature other than ``value``, else 0.0 (axis -1 reduced)."""
    other = b.node("Not", [b.node("Equal", [x, b.constant(f"{stem}_value", np.array(value, np.float32))],
                                  f"{stem}_is_value")], f"{stem}_is_other")
    found = b.node("Cast", [other], f"{stem}_other", to=b.onnx.TensorProto.FLOAT)
    return b.axes("ReduceMax", [found], stem, [-1], keepdims=keepdims)


def masking(b: OnnxBuilder, node, inputs: list[str], shapes) -> str:
    """``x`` with the padded steps zeroed, as nnrun's masking layer outputs."""
    real = _real_values(b, inputs[0], node.layer.mask_value, f"{node.name}_real", keepdims=1)
    return b.node("Mul", [inputs[0], real], node.name)


def output_mask(b: OnnxBuilder, node, inputs: list[str], shapes, masks: list[str | None]) -> str | None:
    """The mask of ``node``'s output from its inputs and their masks (None: no mask)."""
    layer, present = node.layer, [m for m in masks if m is not None]
    if layer.type == "embedding":  # (N, T) indices -> (N, T, d): index 0 is padding
        if not layer.mask_zero or len(shapes[0]) != 1:
            return None
        is_padding = b.node("Equal", [inputs[0], b.constant(f"{node.name}_padding", np.array(0, np.float32))],
                            f"{node.name}_padding_steps")
        return b.node("Not", [is_padding], f"{node.name}_mask")
    if layer.type == "masking":
        real = b.node("Cast", [_real_values(b, inputs[0], layer.mask_value, f"{node.name}_steps", keepdims=0)],
                      f"{node.name}_mask_made", to=b.onnx.TensorProto.BOOL)
        return b.node("And", [real, present[0]], f"{node.name}_mask") if present else real
    if not present:
        return None
    if layer.type in RECURRENT:
        if not layer.return_sequences:
            return None
        return reversed_in_time(b, present[0], 1, f"{node.name}_mask") if layer.go_backwards else present[0]
    if layer.type == "bidirectional":
        return present[0] if layer.layer.return_sequences else None
    if not layer.keeps_mask:
        return None
    mask = present[0]
    for i, other in enumerate(present[1:], start=1):
        mask = b.node("And", [mask, other], f"{node.name}_mask_{i}")
    return mask
