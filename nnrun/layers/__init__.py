"""The layer registry: the one place a layer is added.

Add a class to ``LAYERS`` and it becomes a YAML ``type``, part of the JSON Schema, and
gradient-checked by the test suite (through its ``check_cases``).
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from .base import Layer
from .conv import Conv1D, Conv2D
from .core import Activation, Dense, Dropout
from .embedding import Embedding
from .merge import Add, Concatenate, Multiply
from .normalization import BatchNormalization, LayerNormalization
from .pooling import AveragePool2D, GlobalAveragePool2D, MaxPool1D, MaxPool2D
from .shape import Flatten, Reshape

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
)

LayerSpec = Annotated[Union[LAYERS], Field(discriminator="type")]  # type: ignore[valid-type]

LAYER_TYPES: dict[str, type[Layer]] = {cls.model_fields["type"].default: cls for cls in LAYERS}

__all__ = ["LAYERS", "LAYER_TYPES", "Layer", "LayerSpec"]
