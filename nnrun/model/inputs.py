"""Which layers read the model input's own values: an embedding looks them up as
indices, so only some values will do, and training (:mod:`nnrun.engine.checks`) and a
trained run's new samples (:mod:`nnrun.store.trained`) are checked for them.

May import: :mod:`nnrun.model.graph`.
"""

from __future__ import annotations

import numpy as np

from nnrun.model.graph import Graph

# Layers that pass (some of) the model input's values on unchanged (dropout: as a trained model predicts).
VALUES_KEPT = ("reshape", "flatten", "select", "dropout")


def reads_input_values(graph: Graph, node) -> bool:
    """Whether ``node`` reads the model input's values, directly or through layers that
    only reshape or select them (an embedding after a select of a text's column)."""
    return _kept_before(graph, node) is not None


def values_read(graph: Graph, node, x):
    """The values ``node`` reads when the model's input is ``x``: ``x`` through the
    layers before it that keep values (:func:`reads_input_values` must hold)."""
    for kept in reversed(_kept_before(graph, node)):
        x = kept.layer.forward(kept.params, x, False, None)[0]
    return x


def _kept_before(graph: Graph, node) -> list | None:
    """The layers between the model input and ``node``, nearest first, where all keep
    its values; None where another layer comes between."""
    by_name, chain = {n.name: n for n in graph.nodes}, []
    while not node.reads_model_input:
        node = by_name.get(node.inputs[0]) if len(node.inputs) == 1 else None
        if node is None or node.layer.type not in VALUES_KEPT:
            return None
        chain.append(node)
    return chain


def input_readers(graph: Graph) -> list:
    """The nodes that read the model input's values (whose layers' ``check_inputs`` and
    ``wrong_inputs`` then apply to them)."""
    return [node for node in graph.nodes if reads_input_values(graph, node)]


def positions_read(graph: Graph, node) -> list[int]:
    """The positions of the flattened model input whose values ``node`` reads (all of
    them but for a select before it), in the order it reads them."""
    where = np.arange(int(np.prod(graph.input_shape)), dtype=np.float64).reshape(1, *graph.input_shape)
    return values_read(graph, node, where).astype(np.int64).ravel().tolist()


def index_positions(graph: Graph) -> set[int]:
    """The positions of the flattened model input that a layer reads as indices (an
    embedding's token ids): no range of them means anything to new samples."""
    return {p for node in input_readers(graph) if not node.layer.differentiable_input
            for p in positions_read(graph, node)}
