"""Which layers of a graph reach the model's output.

A layer whose output feeds no later layer on the way to the output (a branch left
unconnected) changes no prediction: Keras leaves such a layer out of the model. nnrun
still computes it, and says so (:func:`nnrun.engine.advice.unused_layers`), but nothing
trains it: its gradients stay zero and its regularizer's penalty is left out of the
loss, which would otherwise swamp the loss the predictions are judged by.
"""

from __future__ import annotations


def reaching_output(nodes: list, output_name: str) -> set[str]:
    """The names of the ``nodes`` (in topological order) whose output reaches the node
    ``output_name``, that one included."""
    reaching = {output_name}
    for node in reversed(nodes):  # topological order, read backwards
        if node.name in reaching:
            reaching.update(node.inputs)
    return reaching
