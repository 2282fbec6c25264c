"""Which layers read the model input's own values: an embedding looks them up as
indices, so only some values will do, and training (:mod:`nnrun.engine.checks`) and a
trained run's new samples (:mod:`nnrun.store.trained`) are checked for them.

May import: :mod:`nnrun.model.graph`.
"""

from __future__ import annotations

from nnrun.model.graph import Graph

VALUES_KEPT = ("reshape", "flatten")  # layers that pass the model input's values on unchanged


def reads_input_values(graph: Graph, node) -> bool:
    """Whether ``node`` reads the model input's values, directly or through layers that
    only reshape them (an embedding after a reshape of the input)."""
    by_name = {n.name: n for n in graph.nodes}
    while not node.reads_model_input:
        node = by_name.get(node.inputs[0]) if len(node.inputs) == 1 else None
        if node is None or node.layer.type not in VALUES_KEPT:
            return False
    return True


def input_readers(graph: Graph) -> list:
    """The nodes that read the model input's values (whose layers' ``check_inputs`` and
    ``wrong_inputs`` then apply to them)."""
    return [node for node in graph.nodes if reads_input_values(graph, node)]
