"""A small writer of ONNX graphs: fresh tensor names, nodes, weights and constants.

Layer converters call :meth:`OnnxBuilder.node` and never touch protobufs. Weights go
through :meth:`OnnxBuilder.weight`, the one place ``--float16`` acts: each weight is
stored as float16 and cast back to float32 by a ``Cast`` node, so the graph computes
in float32 from half-size weights. Constants that are not weights (preprocessing
statistics, shapes, 1 for ``1 - p``) keep their own type.

Images in nnrun are NHWC; ONNX ``Conv`` and the pools want NCHW. :meth:`channels_first`
and :meth:`channels_last` insert the transposes and remember both directions, so a
chain conv -> pool -> conv transposes once on the way in and once on the way out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BATCH = "batch"  # the name of the dynamic first dimension


class OnnxBuilder:
    def __init__(self, onnx_module: Any, opset: int, float16: bool) -> None:
        self.onnx = onnx_module
        self.opset = opset
        self.float16 = float16
        self.nodes: list = []
        self.initializers: list = []
        self._used: set[str] = set()
        self._layout: dict[tuple[str, str], str] = {}  # (name, "first"/"last") -> the other layout's name

    def fresh(self, stem: str) -> str:
        """A tensor name not used before: ``stem``, ``stem_1``, ..."""
        name, count = stem, 0
        while name in self._used:
            count += 1
            name = f"{stem}_{count}"
        self._used.add(name)
        return name

    def node(self, op: str, inputs: list[str], stem: str, **attributes) -> str:
        """Adds one node with one output; returns the output's name."""
        out = self.fresh(stem)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attributes))
        return out

    def constant(self, stem: str, value: np.ndarray) -> str:
        """An initializer stored as given (float32 statistics, int64 shapes and axes)."""
        name = self.fresh(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def weight(self, stem: str, value: np.ndarray) -> str:
        """A trained parameter (float32); float16 on disk when exporting with --float16."""
        value = np.asarray(value, np.float32)
        if not self.float16:
            return self.constant(stem, value)
        half = self.constant(f"{stem}_float16", value.astype(np.float16))
        return self.node("Cast", [half], stem, to=self.onnx.TensorProto.FLOAT)

    def axes(self, op: str, inputs: list[str], stem: str, axes: list[int], **attributes) -> str:
        """A reduction over ``axes``: an attribute before opset 18, an input from 18 on
        (ReduceSum's from 13, the lowest exported: always)."""
        if self.opset >= (13 if op == "ReduceSum" else 18):
            return self.node(op, [*inputs, self.constant(f"{stem}_axes", np.array(axes, np.int64))], stem, **attributes)
        return self.node(op, inputs, stem, axes=axes, **attributes)

    def channels_first(self, name: str, rank: int) -> str:
        """(N, ..., C) -> (N, C, ...) for a tensor of ``rank`` axes, batch included."""
        if (name, "first") not in self._layout:
            perm = [0, rank - 1, *range(1, rank - 1)]
            moved = self.node("Transpose", [name], f"{name}_nchw", perm=perm)
            self._layout[(name, "first")] = moved
            self._layout[(moved, "last")] = name
        return self._layout[(name, "first")]

    def channels_last(self, name: str, rank: int, stem: str | None = None) -> str:
        """(N, C, ...) -> (N, ..., C), the inverse of :meth:`channels_first`."""
        if (name, "last") not in self._layout:
            perm = [0, *range(2, rank), 1]
            moved = self.node("Transpose", [name], stem or f"{name}_nhwc", perm=perm)
            self._layout[(name, "last")] = moved
            self._layout[(moved, "first")] = name
        return self._layout[(name, "last")]

    def model(self, graph_name: str, inputs: list, outputs: list, metadata: dict[str, str], producer: str):
        """The finished ModelProto: standard domain only, at ``self.opset``."""
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, graph_name, inputs, outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="nnrun", producer_version=producer)
        # The oldest IR version that carries this opset, so older runtimes load the file.
        model.ir_version = _ir_version_for(self.onnx, self.opset)
        helper.set_model_props(model, metadata)
        return model

    def tensor_info(self, name: str, shape: tuple[int, ...]):
        """A float32 value info with the dynamic batch in front: [batch, *shape]."""
        return self.onnx.helper.make_tensor_value_info(name, self.onnx.TensorProto.FLOAT, [BATCH, *shape])


def _ir_version_for(onnx_module: Any, opset: int) -> int:
    table = onnx_module.helper.VERSION_TABLE  # (release, ir, default-domain opset, ml opset, ...)
    fitting = [row[1] for row in table if row[2] is not None and row[2] >= opset]
    return min(fitting) if fitting else onnx_module.IR_VERSION
