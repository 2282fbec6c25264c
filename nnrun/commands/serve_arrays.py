"""Instances sent to ``nnrun serve`` as arrays of numbers, the way TensorFlow Serving's
and MLflow's clients send a sample: ``{"instances": [[[0.0, 0.5, ...], ...], ...]}``.

A model whose columns are all numbers (a bundled data set, arrays from an ``.npz``
archive, a CSV file of number columns) takes a sample as an array as well as an object
of columns: flat, its values in the order of the columns, or, for a model of several
axes (images, sequences), nested in its input shape, row-major. An image of one channel
may leave out that last axis (a 28 x 28 list for a (28, 28, 1) model), as image
libraries hand such images over, or carry it where the model's data had none. The
array becomes the object of columns it stands for, so each value is then read and
checked as a column's value is, and an error names the column. A model with a
category, date or text column takes objects only: a list of its values would leave
each one's meaning to its position.
"""

from __future__ import annotations

from math import prod
from typing import Any

import numpy as np

ArrayShape = tuple[int, ...]
MOST_AXES = 64  # NumPy's: deeper lists stay lists inside its array


def array_shapes(columns: list[dict], input_shape: list[int]) -> list[ArrayShape]:
    """The shapes a sample may be sent as, most natural first; none for a model whose
    columns are not all numbers."""
    if not columns or any(column["type"] != "number" for column in columns):
        return []
    flat = (len(columns),)
    if len(input_shape) < 2 or prod(input_shape) != len(columns):  # a table's columns: one flat row
        return [flat]
    shapes = [tuple(input_shape)]
    if input_shape[-1] == 1 and len(input_shape) > 2:  # one channel, left out
        shapes.append(tuple(input_shape[:-1]))
    if len(input_shape) == 2 and input_shape[-1] > 1:  # images stored without a channel axis (init adds it in a
        shapes.append((*input_shape, 1))                  # reshape layer), sent with one; not (steps, 1) sequences
    return shapes + [flat]


def described_shapes(shapes: list[ArrayShape]) -> str:
    """``(8, 8, 1) or (8, 8), or its 64 values flat``, as a message says what to send."""
    *nested, flat = shapes
    values = f"{flat[0]} value{'s' if flat[0] != 1 else ''}"
    if not nested:
        return f"an array of its {values}, in the order of its columns"
    return f"an array of shape {' or '.join(_shape_text(shape) for shape in nested)}, or of its {values} flat " \
           "(row-major)"


def as_columns(names: list[str], shapes: list[ArrayShape]):
    """The check that turns a sample sent as an array into its object of columns (any
    other value passes on, to be checked as an object)."""

    def read(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        values, shape = _grid(value, shapes)
        if shape not in shapes:
            count = f" ({len(values)} value{'s' * (len(values) != 1)})" if len(shape) > 1 else ""
            given = f"an array of shape {_shape_text(shape)}{count}"
            raise ValueError(f"{given}; this model takes {described_shapes(shapes)}")
        return dict(zip(names, values))

    return read


def not_one_sample(shapes: list[ArrayShape]):
    """The check that ``instances`` is not itself one sample: ``{"instances": image}``,
    the list around it forgotten, is one problem, not one per row of the image."""

    firsts = {shape[0] for shape in shapes}

    def read(instances: Any) -> Any:
        # Looked at only when as many instances came as a sample's first axis holds (a
        # batch of a thousand images is never built twice to be told apart from one).
        if not isinstance(instances, list) or len(instances) not in firsts:
            return instances
        try:
            grid = np.array(instances, dtype=object)
        except ValueError:
            return instances
        # Lists (or objects) kept at its leaves: no grid of numbers, whatever its outer shape.
        held = any(isinstance(value, (list, dict)) for value in grid.reshape(-1).tolist())
        # A batch of samples of shape[1:] it could also be (one flat sample of a (1, 4) model): answered as that.
        if grid.shape in shapes and grid.shape[1:] not in shapes and not held:
            raise ValueError(f"this is one sample, of shape {_shape_text(grid.shape)}: send it inside a list, "
                             "{\"instances\": [sample]}")
        return instances

    return read


def _grid(value: list, shapes: list[ArrayShape]) -> tuple[list, ArrayShape]:
    """The values of a nested list, row-major, and its shape. NumPy reads the nesting
    (quickly, for an image of many values); of a ragged list it keeps the rows that
    differ as lists."""
    ragged = ValueError(f"an array whose rows differ in length; send {described_shapes(shapes)}")
    try:
        array = np.array(value, dtype=object)
    except ValueError:  # a list it would not hold even as objects
        raise ragged from None
    values = array.reshape(-1).tolist()
    if any(isinstance(item, list) for item in values):  # rows it kept whole: of other lengths, or past its axes
        if array.ndim >= MOST_AXES:
            raise ValueError(f"an array nested more than {MOST_AXES} deep; send {described_shapes(shapes)}")
        raise ragged
    if any(isinstance(item, dict) for item in values):
        raise ValueError(f"an array holding objects; send {described_shapes(shapes)}, or the sample as one object "
                         "of columns")
    return values, array.shape


def _shape_text(shape: ArrayShape) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(str(n) for n in shape)})"


def array_schema(shapes: list[ArrayShape], nullable: bool = False) -> dict:
    """The JSON schema of a sample sent as an array, for the OpenAPI page: one
    alternative for each shape; its values as a number column takes them (a number, its
    text, true or false), null too where training learned a value to fill it with."""
    alternatives = []
    for shape in shapes:
        schema: dict = {"type": ["number", "string", "boolean", *(["null"] if nullable else [])]}
        for length in reversed(shape):
            schema = {"type": "array", "items": schema, "minItems": length, "maxItems": length}
        alternatives.append(schema)
    return {"anyOf": alternatives, "description": f"The sample as {described_shapes(shapes)}."}


def array_example(shapes: list[ArrayShape]) -> list:
    """A sample of zeros in the first shape, for the OpenAPI page's example."""
    return np.zeros(shapes[0]).tolist()
