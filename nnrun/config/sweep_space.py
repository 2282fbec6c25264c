"""The values a sweep searches, one spec per parameter, tagged by ``type``:

    optimizer.learning_rate: {type: loguniform, low: 1.0e-4, high: 1.0e-1}
    model.layers.0.units: {type: choice, values: [16, 32, 64]}

Each spec draws a value from a NumPy generator (:meth:`sample`) and names the values
``nnrun validate`` tries against the base config (:meth:`extremes`).

May import: the leaves and the config schema's base.
"""

from __future__ import annotations

import math
from typing import Literal, Union

from pydantic import Field, model_validator

from nnrun.config.schema import Section
from nnrun.specs import short_form, tagged_union

Scalar = Union[bool, int, float, str, None]


class Uniform(Section):
    """A float drawn evenly between ``low`` and ``high``."""

    type: Literal["uniform"] = "uniform"
    low: float = Field(description="Smallest value.")
    high: float = Field(description="Largest value.")

    def extremes(self) -> list:
        return [self.low, self.high]

    def sample(self, rng) -> float:
        return float(rng.uniform(self.low, self.high))

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class LogUniform(Uniform):
    """A float whose logarithm is drawn evenly: as many samples in [1e-4, 1e-3] as in
    [1e-2, 1e-1]. Both bounds must be positive."""

    type: Literal["loguniform"] = "loguniform"
    low: float = Field(gt=0, description="Smallest value (positive).")
    high: float = Field(gt=0, description="Largest value.")

    def sample(self, rng) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


class IntRange(Section):
    """A whole number from ``low`` to ``high``, both included."""

    type: Literal["int"] = "int"
    low: int = Field(description="Smallest value.")
    high: int = Field(description="Largest value (included).")

    def extremes(self) -> list:
        return [self.low, self.high]

    def sample(self, rng) -> int:
        return int(rng.integers(self.low, self.high + 1))

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class Choice(Section):
    """One of the listed values, drawn with equal chances."""

    type: Literal["choice"] = "choice"
    values: list[Scalar] = Field(min_length=1, description="The values to choose from.")

    def extremes(self) -> list:
        return list(self.values)

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]


class Grid(Choice):
    """Every listed value is tried: with search: random, each grid combination is tried
    ``samples`` times (as Ray Tune's grid_search); with search: grid, once."""

    type: Literal["grid"] = "grid"
    values: list[Scalar] = Field(min_length=1, description="The values, each one tried.")


def _short_form(value):
    """A plain list is a choice: ``units: [16, 32]`` means ``{type: choice, values: [16, 32]}``;
    a number or true/false is a constant every trial sets (a choice of one), as Ray Tune
    takes one. (A word is still read as a type name, so a misspelt type is an error.)"""
    if isinstance(value, list):
        return {"type": "choice", "values": value}
    if isinstance(value, (bool, int, float)):
        return {"type": "choice", "values": [value]}
    return short_form(value)


ParameterSpec = tagged_union((Uniform, LogUniform, IntRange, Choice, Grid), _short_form)
