"""Padding masks: where a model reads padded steps as if they were real ones. Warned by
``validate`` and ``train`` (through ``Experiment.warnings``), as :mod:`.advice`'s are.

A text is padded with 0 at its end; sequences of numbers are padded with steps of 0 (as
Keras's ``pad_sequences(padding="post")`` pads them). An embedding with ``mask_zero``
or a masking layer marks the padding, and the layers that read a mask skip it; a
recurrent layer that gets no mask reads the padding after the real steps.
"""

from __future__ import annotations

import numpy as np

from nnrun.config import Config
from nnrun.model.graph import INPUT, Graph
from nnrun.model.inputs import reads_input_values, values_read

PADDING_ROWS = 2000  # training sequences looked at for padding: spread over the split
PADDED_SHARE = 0.1  # of them, the share that must begin or end in steps of 0 to look padded


def unmasked_padding(config: Config, graph: Graph) -> list[str]:
    """A text is padded with 0 at its end (as Keras's TextVectorization pads it, where
    pad_sequences pads the start): a layer that reads the steps in order (recurrent) and
    gets no mask from any of its inputs reads the padding after the words, so far behind
    them that such a model may learn nothing of them. (A pooling's mean only dilutes.)"""
    text = getattr(config.data.source, "text", None)
    carried = _mask_sources(graph)[0]  # as the layers pass masks on: attention's is its query's
    masked = {name for name, source in carried.items() if source}
    warnings = []
    for embedding in graph.nodes if text is not None else ():
        if embedding.layer.type != "embedding" or embedding.name in masked:
            continue
        reached, readers = {embedding.name}, []
        for node in graph.nodes:  # in order: a node's inputs come before it
            if any(name in reached for name in node.inputs):
                reached.add(node.name)
                readers += [node] if node.layer.reads_in_order and not any(i in masked for i in node.inputs) else []
        if readers:
            warnings.append(f"model.layers.{embedding.index}: data.source.text pads each text with 0 at its end, to "
                            f"{text.length} tokens, and this embedding makes no padding mask, so model.layers."
                            f"{readers[0].index} ({readers[0].layer.type}) reads the padding after the words; set "
                            "mask_zero: true on it (index 0 is kept for the padding)")
    return warnings


def unread_masks(graph: Graph) -> list[str]:
    """Layers where a padding mask (an embedding's mask_zero, a masking layer's) ends
    without a layer having read it: from there on the padded steps count, as if there
    were no mask (Keras refuses such a model; nnrun warns, so that runs trained so still
    load)."""
    return _mask_sources(graph)[1]


def _mask_sources(graph: Graph) -> tuple[dict[str, str | None], list[str]]:
    """Node -> the embedding or masking layer whose padding mask its output carries
    (None: no mask), as the layers pass masks on, and the warnings of masks that end
    unread (see :func:`unread_masks`)."""
    source: dict[str, str | None] = {INPUT: None}
    shapes = {INPUT: graph.input_shape, **{n.name: n.output_shape for n in graph.nodes}}
    masking = {node.name for node in graph.nodes if node.layer.type == "masking"}
    warnings = []
    for node in graph.nodes:
        layer = node.layer
        carried = next((source[name] for name in node.inputs if source.get(name)), None)
        if layer.type == "embedding" and getattr(layer, "mask_zero", False):
            # Masks are made for sequences of indices, (steps,): no mask from other inputs.
            source[node.name] = node.name if input_steps(shapes, node, flat=True) else None
            if source[node.name] is None:
                warnings.append(f"model.layers.{node.index} ({node.name}, embedding): mask_zero makes a padding mask "
                                f"for a sequence of indices, shape (steps,), but its input is "
                                f"{shapes[node.inputs[0]]}, so no mask is made; reshape the input to (steps,) first, "
                                "or drop mask_zero")
        elif layer.type == "masking":  # a mask of its own steps, (steps, features): its shape is checked
            source[node.name] = node.name
        elif carried is None:
            source[node.name] = None
        elif layer.takes_mask:  # read; the output goes on with the first input's steps (attention: the query's)
            steps, first = input_steps(shapes, node), source.get(node.inputs[0])
            source[node.name] = first if len(node.output_shape) == 2 and node.output_shape[0] == steps else None
        elif layer.keeps_mask:
            source[node.name] = carried
        else:
            source[node.name] = None
            made_by = "a masking layer" if carried in masking else "mask_zero: true"
            warnings.append(f"model.layers.{node.index} ({node.name}, {layer.type}): the padding mask of {carried} "
                            f"({made_by}) ends here unread, so padded steps count as real ones from here on; read "
                            "the sequence with a layer that takes the mask first (lstm, gru, simple_rnn, "
                            "bidirectional, global_average_pool1d, global_max_pool1d, multi_head_attention), or "
                            f"drop {'the masking layer' if carried in masking else 'mask_zero'}")
    return source, warnings


def padded_numbers(graph: Graph, padding: tuple[str | None, float]) -> list[str]:
    """Sequences of numbers padded at their end (``padding``: :func:`sequence_padding` of
    them as stored): a layer that reads the steps in order with no mask reaching it reads
    that padding after the real steps, whatever preprocessing makes of the zeros.
    (Padding at the start comes before them: harmless.)"""
    end, share = padding
    readers = [node for node in graph.nodes if node.layer.reads_in_order]
    if end != "end" or not readers or any(_mask_sources(graph)[0].values()):
        return []
    return [f"{share:.0%} of the training sequences end in steps of only 0, padding as pad_sequences(padding="
            f"'post') adds it, and model.layers.{readers[0].index} ({readers[0].layer.type}) reads it after the real "
            "steps; put {type: masking} first to skip those steps (or pad at the start)"]


def sequence_padding(x: np.ndarray) -> tuple[str | None, float]:
    """:func:`padding_of` at most PADDING_ROWS sequences (N, T, F) spread over ``x`` (a
    view: nothing copied); (None, 0) for other samples."""
    return padding_of(_rows(x)) if x.ndim == 3 else (None, 0.0)


def padding_of(rows: np.ndarray) -> tuple[str | None, float]:
    """Where sequences (N, T, F) are padded with steps of 0, "start" or "end", and the
    share of them padded there; (None, 0) when they do not look padded. A sequence is
    padded at an end when a run of zero steps lies there and not at the other end (an
    image's dark border rows lie at both); the sequences padded at an end, at least
    PADDED_SHARE of them, must have runs of different lengths (a series that merely
    starts at 0 has a run of one, in every one of them)."""
    if not rows.size:
        return None, 0.0
    zero = np.all(rows == 0, axis=-1)  # (N, T)
    stop = np.zeros((len(zero), 1), bool)  # a run ends here at the latest
    start = np.argmin(np.concatenate([zero, stop], axis=1), axis=1)
    end = np.argmin(np.concatenate([zero[:, ::-1], stop], axis=1), axis=1)
    shares = {}
    for name, run, other in (("start", start, end), ("end", end, start)):
        alone = run[(run > 0) & (other == 0)]
        if len(alone) >= PADDED_SHARE * len(run) and len(np.unique(alone)) > 1:
            shares[name] = len(alone) / len(run)
    if not shares:
        return None, 0.0
    name = max(shares, key=shares.get)
    return name, shares[name]


def nothing_masked(graph: Graph, x: np.ndarray, preprocessed: bool) -> list[str]:
    """A masking layer on the model input that finds no padded step in the training
    sequences (``preprocessed``: data.preprocess changed the values it sees)."""
    warnings = []
    for node in (node for node in graph.nodes if node.layer.type == "masking"):
        if not reads_input_values(graph, node):  # a reshape, a select or a dropout passes the padding's values on
            # Padding is the data's: a layer before this one has computed new values,
            # which are seldom exactly mask_value, so its steps are never skipped.
            read = ", ".join(f"'{name}'" for name in node.inputs)
            warnings.append(f"model.layers.{node.index} (masking) reads {read}, not the model input: the values "
                            f"it compares with mask_value {node.layer.mask_value:g} are that layer's, not the "
                            "padding's, so it masks nothing; put {type: masking} first, on the model input")
            continue
        values = values_read(graph, node, _rows(x)) if len(x) else x  # as the masking layer reads them
        if values.ndim != 3 or not len(values):
            continue
        value = node.layer.mask_value
        if np.any(np.all(values == value, axis=-1)):
            continue
        why = "; data.preprocess changes the values before this layer sees them (standardize moves the padding " \
            "too): scale the sequences before padding them, and leave data.preprocess out" if preprocessed else ""
        warnings.append(f"model.layers.{node.index} (masking): no step of the training sequences has every feature "
                        f"equal to mask_value {value:g}, so the layer masks nothing{why}")
    return warnings


def _rows(x: np.ndarray) -> np.ndarray:
    return x[:: max(1, len(x) // PADDING_ROWS)][:PADDING_ROWS]


def input_steps(shapes: dict, node, flat: bool = False) -> int | None:
    """The number of steps of the sequence a node reads (its first input's, by
    ``shapes``): (steps, features), or with ``flat`` the (steps,) of token indices."""
    shape = shapes.get(node.inputs[0])
    return shape[0] if shape and len(shape) == (1 if flat else 2) else None
