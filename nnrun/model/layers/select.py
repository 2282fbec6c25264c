"""Select: some features of the input, so that branches of a graph read different
columns of one table, as a Keras model of several inputs (or Ludwig's input features,
each with its own encoder) does.

    - {type: select, features: [age, income], name: numbers}
    - {type: dense, units: 16, activation: relu}
    - {type: select, features: [city], inputs: [input], name: place}   # city's one-hot features
    - {type: concatenate, inputs: [dense_1, place]}

A feature is named as the model's input names it: a CSV column's name stands for every
feature it encodes (a category's one-hot features, a date's), ``color=red`` for one of
them (a wrong name is told with the names the input has). A whole number is a position
on the last axis instead (0 first, -1 the last), which is also how a layer that reads
another layer's output, or an input of several axes, is selected from. The graph binds
the names to positions when it compiles (:meth:`Select.bound`), from the features the
data gives it; from then on the layer is ``x[..., positions]``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, PrivateAttr, field_validator

from nnrun.errors import did_you_mean
from nnrun.model.layers.base import Layer, Shape

SHOWN_NAMES = 12  # feature names a message lists


class Select(Layer):
    """Keeps the features it names, or the positions it gives, in that order: y = x[..., positions].

    Shapes: x (N, ..., F), y (N, ..., k) for k positions. The gradient goes back to the
    positions picked; the other features get none."""

    type: Literal["select"] = "select"
    features: list[str | int] = Field(min_length=1, description=(
        "The features to keep, in order: names as the input names them (a CSV column's name: every feature it "
        "encodes, e.g. a category's one-hot features), or positions on the last axis (0 first)."))

    names_features = True
    keeps_mask = True  # a sequence keeps its steps
    check_cases = [({"features": [0, 2]}, (4,)), ({"features": [1, 0]}, (3, 2)), ({"features": [-1]}, (2, 3))]
    _positions: tuple[int, ...] | None = PrivateAttr(None)
    _index: np.ndarray | None = PrivateAttr(None)  # the positions as NumPy indexes them, made once

    @field_validator("features")
    @classmethod
    def _once_each(cls, features: list) -> list:
        twice = sorted({str(f) for f in features if features.count(f) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed twice; list each feature once")
        return features

    def bound(self, features: dict[str, list[int]] | None, input_shape: Shape,
              reads: str) -> tuple["Select", list[tuple[str, str]]]:
        """A copy whose names are positions: ``features`` maps each name of the model
        input's features (and each CSV column's name) to its positions; ``reads``: the
        layer it reads ("input": the model's input). Returns the copy and the problems,
        each (a path under the layer, a message)."""
        problems, positions, reads_input = [], [], reads == "input"
        for j, feature in enumerate(self.features):
            if isinstance(feature, int):
                if reads_input and str(feature) in (features or {}):  # a header of years: 2023 unquoted in YAML
                    problems.append((f"features.{j}", f"{feature} is a position, and the input also has a column "
                                                      f"'{feature}': quote it ('{feature}') to name the column, or "
                                                      "give its position otherwise"))
                positions.append([feature])
                continue
            if not reads_input:
                problems.append((f"features.{j}", f"'{feature}' is a name, and names pick features of the model's "
                                                  f"input; this layer reads '{reads}': add inputs: [input] to pick "
                                                  "from the model's input, or give a position on the last axis of "
                                                  f"'{reads}' (0 first)"))
            elif len(input_shape) != 1:
                problems.append((f"features.{j}", f"'{feature}' is a name, and names pick features of a flat input; "
                                                  f"this one is of shape {tuple(input_shape)}: give a position on "
                                                  "its last axis (0 first)"))
            elif not features:
                problems.append((f"features.{j}", f"'{feature}' is a name, and the input's features have none here: "
                                                  "give a position on its last axis (0 first)"))
            elif feature not in features:
                names = list(features)
                listed = ", ".join(names[:SHOWN_NAMES]) + (", ..." if len(names) > SHOWN_NAMES else "")
                problems.append((f"features.{j}", f"'{feature}' is no feature of the input"
                                                  + (did_you_mean(feature, names) or f"; it has: {listed}")))
            else:
                positions.append(features[feature])
        flat = [p for group in positions for p in group]
        width = input_shape[-1] if input_shape else 0
        inside = [p % width for p in flat if -width <= p < width] if width else []
        twice = sorted({p for p in inside if inside.count(p) > 1})
        if twice and not problems:
            named = {p[0]: name for name, p in (features or {}).items() if len(p) == 1} if reads_input else {}
            shown = ", ".join(f"'{named[p]}'" if p in named else f"position {p}" for p in twice)
            why = ["by a column's name and by one of its features"] if any(
                isinstance(f, str) and len((features or {}).get(f, ())) > 1 for f in self.features) else []
            if any(isinstance(f, int) and f < 0 for f in self.features):
                why.append(f"a negative position counts from the end: -1 is {width - 1}")
            told = f" ({'; '.join(why)})" if why else ""
            problems.append(("features", f"{shown} picked twice{told}; pick each feature once"))
        copy = self.model_copy()
        copy._positions, copy._index = tuple(flat), None
        return copy, problems

    def positions(self) -> tuple[int, ...]:
        if self._positions is not None:
            return self._positions
        named = [f for f in self.features if not isinstance(f, int)]
        if named:  # a graph binds the names; compiled without the data's features, they are unknown
            raise ValueError(f"the names {', '.join(map(repr, named))} need the data's features")
        return tuple(self.features)

    def output_shape(self, input_shape: Shape) -> Shape:
        positions, width = self.positions(), input_shape[-1] if input_shape else 0
        outside = [p for p in positions if not -width <= p < width]
        if outside:
            raise ValueError(f"position{'s' * (len(outside) > 1)} {', '.join(map(str, outside))} outside the "
                             f"{width} features of the last axis (0 to {width - 1}, or -{width} to -1 from the end)")
        return (*input_shape[:-1], len(positions))

    def _picked(self) -> np.ndarray:
        # Made at the first batch, not at each: a list of positions is converted every time.
        if self._index is None:
            self._index = np.asarray(self.positions(), np.intp)
        return self._index

    def forward(self, params, x, training, rng):
        return x[..., self._picked()], x.shape

    def backward(self, params, cache, dy, need_dx=True):
        if not need_dx:
            return None, {}
        dx = np.zeros(cache, dy.dtype)
        dx[..., self._picked()] = dy  # each position once (see bound)
        return dx, {}
