"""A trained nnrun graph, with its saved preprocessing, as one ONNX model.

    features (batch, *input_shape) float32: the encoded columns, as `nnrun predict`
        builds them from a CSV file (numbers, categorical columns one-hot), before the
        numeric preprocessing
      -> preprocessing: standardize (x - mean) / std, minmax (x - min) / span,
         scale x * factor: Sub / Div / Mul with the statistics fitted in training
      -> the layers, in the graph's order (see ``layers``)
      -> the fused output activation (softmax / sigmoid), if the loss took it
      -> probabilities (batch, classes) for a classifier; a single sigmoid unit is
         widened to (1 - p, p) so there is always one column per class;
         predictions (batch, *output_shape) for a regressor

Every operator is in the standard ONNX domain.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.errors import UserError
from nnrun.model.graph import INPUT

from nnrun.commands.export.activations import activation
from nnrun.commands.export.builder import OnnxBuilder
from nnrun.commands.export.layers import CONVERTERS
from nnrun.commands.export.masks import output_mask

INPUT_NAME = "features"
LOWEST_OPSET = 13  # Softmax over one axis and the current Split/Squeeze forms start here


def check_exportable(graph) -> None:
    """Refuse a model with a layer that has no ONNX form, naming every such layer."""
    missing = [f"'{node.name}' ({node.layer.type})" for node in graph.nodes if node.layer.type not in CONVERTERS]
    if missing:
        raise UserError(f"cannot export: no ONNX form for the layer{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)}",
                        hint=f"the layers that export are: {', '.join(CONVERTERS)}")


def output_name(task: str) -> str:
    return "probabilities" if task == "classification" else "predictions"


def to_onnx(onnx_module: Any, graph, steps: list, states: list[dict], task: str, opset: int, float16: bool,
            metadata: dict[str, str], producer: str):
    """The ModelProto of ``graph`` behind the preprocessing ``steps`` with their fitted
    ``states``; ``metadata`` goes into the model's metadata properties."""
    check_exportable(graph)
    b = OnnxBuilder(onnx_module, opset, float16)
    b.fresh(INPUT_NAME)
    values = {INPUT: _preprocessing(b, INPUT_NAME, steps, states, graph.input_shape)}
    shapes, masks = {INPUT: graph.input_shape}, {INPUT: None}  # masks: (N, T) real steps, as Graph.forward's
    for node in graph.nodes:
        inputs, in_shapes = [values[n] for n in node.inputs], [shapes[n] for n in node.inputs]
        in_masks = [masks[n] for n in node.inputs]
        given = {"mask": in_masks[0]} if node.layer.takes_mask and in_masks[0] is not None else {}
        values[node.name] = CONVERTERS[node.layer.type](b, node, inputs, in_shapes, **given)
        masks[node.name] = output_mask(b, node, inputs, in_shapes, in_masks)
        shapes[node.name] = node.output_shape
    out = values[graph.output_name]
    if graph.output_activation:
        out = activation(b, graph.output_activation, out, f"{graph.output_name}_{graph.output_activation}")
    out_shape = graph.output_shape
    if graph.target_scale is not None:  # data.target_scale: standardized outputs back in the target's units
        mean, std = graph.target_scale.mean, graph.target_scale.std
        out = b.node("Add", [b.node("Mul", [out, b.constant("target_std", std)], "target_scaled"),
                             b.constant("target_mean", mean)], "target")
        if graph.target_scale.log1p:  # learned as log(1 + y): expm1, as Exp less one (ONNX has no Expm1)
            out = b.node("Sub", [b.node("Exp", [out], "target_exp"), b.constant("target_one", np.array(1, np.float32))],
                         "target_expm1")
    if task == "classification" and out_shape == (1,):  # p(class 1) -> (p(class 0), p(class 1))
        other = b.node("Sub", [b.constant("one", np.array(1, np.float32)), out], "complement")
        out, out_shape = b.node("Concat", [other, out], "two_classes", axis=1), (2,)
    out = b.node("Identity", [out], output_name(task))
    return b.model("nnrun", [b.tensor_info(INPUT_NAME, graph.input_shape)], [b.tensor_info(out, out_shape)],
                   metadata, producer)


def _preprocessing(b: OnnxBuilder, x: str, steps: list, states: list[dict], shape: tuple[int, ...]) -> str:
    """The fitted steps as element-wise operators on float32 statistics of the feature
    shape, exactly the operations ``nnrun.data.preprocess`` applies."""
    for i, (step, state) in enumerate(zip(steps, states)):
        def stat(key: str) -> str:  # of the feature shape, or of its channels (per: channel), broadcast
            values = np.asarray(state[key], np.float32)
            return b.constant(f"{step.type}_{i}_{key}", values.reshape(shape) if values.size == np.prod(shape)
                              else values)

        if step.type == "standardize":
            x = b.node("Div", [b.node("Sub", [x, stat("mean")], f"{step.type}_{i}_centred"), stat("std")],
                       f"{step.type}_{i}")
        elif step.type == "minmax":
            x = b.node("Div", [b.node("Sub", [x, stat("min")], f"{step.type}_{i}_shifted"), stat("span")],
                       f"{step.type}_{i}")
        elif step.type == "scale":
            x = b.node("Mul", [x, b.constant(f"scale_{i}_factor", np.array(step.factor, np.float32))], f"scale_{i}")
        else:
            raise UserError(f"cannot export: no ONNX form for the preprocessing step '{step.type}'")
    return x
