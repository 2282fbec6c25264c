"""``nnrun validate``: everything short of training, then a model summary.

Validation loads the config (schema, overrides), reads and splits the data, fits the
preprocessing, compiles the graph against the real input shape and runs the semantic
checks: exactly what ``nnrun train`` does before its first step, so a config that
validates starts training. :func:`layer_rows` gives the rows of the model summary
that :mod:`nnrun.console.model_summary` prints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnrun.engine.experiment import Experiment, as_loaded, build


def validate(config: str | Path | dict, overrides=()) -> Experiment:
    """Check a config against its data without training; raises ``UserError``."""
    return build(as_loaded(config, overrides))


def layer_rows(experiment: Experiment) -> list[dict]:
    """One row per layer, in config order: name, type, inputs, output shape, params."""
    return graph_rows(experiment.config.model.layers, experiment.graph)


def graph_rows(specs, graph) -> list[dict]:
    """:func:`layer_rows` of a built ``graph`` and the layer ``specs`` it was built from."""
    rows = []
    for node in sorted(graph.nodes, key=lambda n: n.index):
        spec = specs[node.index]  # the spec as written: the graph may have fused its activation
        activation = spec.output_activation()
        rows.append(
            {
                "name": node.name,
                "type": spec.type + (f" ({activation})" if activation and activation != "linear" else ""),
                "inputs": ", ".join(node.inputs),
                "output_shape": "(" + ", ".join(["None", *map(str, node.output_shape)]) + ")",
                "params": sum(int(np.prod(p.shape)) for p in node.params.values()),
            }
        )
    return rows
