"""The layer registry: the one place a layer is added.

Add a class to ``LAYERS`` and it becomes a YAML ``type``, part of the JSON Schema, and
gradient-checked by the test suite (through its ``check_cases``).
"""

from __future__ import annotations

from nnrun.model.layers.attention import MultiHeadAttention, PositionalEmbedding
from nnrun.model.layers.base import Layer
from nnrun.model.layers.bidirectional import Bidirectional
from nnrun.model.layers.conv import Conv1D, Conv2D
from nnrun.model.layers.core import Activation, Dense, Dropout
from nnrun.model.layers.embedding import Embedding
from nnrun.model.layers.gru import GRU
from nnrun.model.layers.lstm import LSTM
from nnrun.model.layers.merge import Add, Concatenate, Multiply
from nnrun.model.layers.normalization import BatchNormalization, LayerNormalization
from nnrun.model.layers.pooling import (
    AveragePool2D,
    GlobalAveragePool2D,
    MaxPool1D,
    MaxPool2D,
)
from nnrun.model.layers.recurrent import SimpleRNN
from nnrun.model.layers.sequence_pooling import GlobalAveragePool1D, GlobalMaxPool1D
from nnrun.model.layers.shape import Flatten, Reshape
from nnrun.specs import tagged_union

LAYERS: tuple[type[Layer], ...] = (
    Dense,
    Activation,
    Dropout,
    BatchNormalization,
    LayerNormalization,
    Flatten,
    Reshape,
    Embedding,
    Add,
    Concatenate,
    Multiply,
    Conv2D,
    Conv1D,
    MaxPool2D,
    AveragePool2D,
    GlobalAveragePool2D,
    MaxPool1D,
    SimpleRNN,
    LSTM,
    GRU,
    Bidirectional,
    MultiHeadAttention,
    PositionalEmbedding,
    GlobalAveragePool1D,
    GlobalMaxPool1D,
)

LayerSpec = tagged_union(LAYERS)

LAYER_TYPES: dict[str, type[Layer]] = {cls.model_fields["type"].default: cls for cls in LAYERS}

__all__ = ["LAYERS", "LAYER_TYPES", "Layer", "LayerSpec"]
