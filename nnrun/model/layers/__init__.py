"""The layer registry: the one place a layer is added.

Name a class in ``LAYER_CLASSES`` (its ``type`` tag -> ``"module:Class"``) and it
becomes a YAML ``type``, part of the JSON Schema, and gradient-checked by the test
suite (through its ``check_cases``). A layer's module is imported only when a config
uses it (see :class:`~nnrun.specs.LazyFamily`); ``LAYERS`` and ``LAYER_TYPES`` import
them all.
"""

from __future__ import annotations

from typing import Annotated

from nnrun.model.layers.base import Layer
from nnrun.specs import LazyFamily

_HERE = "nnrun.model.layers"
LAYER_CLASSES: dict[str, str] = {
    "dense": f"{_HERE}.core:Dense",
    "activation": f"{_HERE}.core:Activation",
    "dropout": f"{_HERE}.core:Dropout",
    "batch_normalization": f"{_HERE}.normalization:BatchNormalization",
    "layer_normalization": f"{_HERE}.normalization:LayerNormalization",
    "flatten": f"{_HERE}.shape:Flatten",
    "reshape": f"{_HERE}.shape:Reshape",
    "select": f"{_HERE}.select:Select",
    "embedding": f"{_HERE}.embedding:Embedding",
    "masking": f"{_HERE}.masking:Masking",
    "add": f"{_HERE}.merge:Add",
    "concatenate": f"{_HERE}.merge:Concatenate",
    "multiply": f"{_HERE}.merge:Multiply",
    "conv2d": f"{_HERE}.conv:Conv2D",
    "conv1d": f"{_HERE}.conv:Conv1D",
    "max_pool2d": f"{_HERE}.pooling:MaxPool2D",
    "average_pool2d": f"{_HERE}.pooling:AveragePool2D",
    "global_average_pool2d": f"{_HERE}.pooling:GlobalAveragePool2D",
    "global_max_pool2d": f"{_HERE}.pooling:GlobalMaxPool2D",
    "max_pool1d": f"{_HERE}.pooling:MaxPool1D",
    "simple_rnn": f"{_HERE}.recurrent:SimpleRNN",
    "lstm": f"{_HERE}.lstm:LSTM",
    "gru": f"{_HERE}.gru:GRU",
    "bidirectional": f"{_HERE}.bidirectional:Bidirectional",
    "multi_head_attention": f"{_HERE}.attention:MultiHeadAttention",
    "positional_embedding": f"{_HERE}.attention:PositionalEmbedding",
    "global_average_pool1d": f"{_HERE}.sequence_pooling:GlobalAveragePool1D",
    "global_max_pool1d": f"{_HERE}.sequence_pooling:GlobalMaxPool1D",
}

LAYER_FAMILY = LazyFamily(LAYER_CLASSES)

LayerSpec = Annotated[Layer, LAYER_FAMILY]


def __getattr__(name: str):
    if name == "LAYERS":  # every layer class, in registration order
        return LAYER_FAMILY.members()
    if name == "LAYER_TYPES":  # type tag -> layer class
        return dict(zip(LAYER_FAMILY.tags, LAYER_FAMILY.members()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["LAYERS", "LAYER_CLASSES", "LAYER_FAMILY", "LAYER_TYPES", "Layer", "LayerSpec"]
