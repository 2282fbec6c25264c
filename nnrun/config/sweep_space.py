"""The values a sweep searches, one spec per parameter, tagged by ``type``:

    optimizer.learning_rate: {type: loguniform, low: 1.0e-4, high: 1.0e-1}
    model.layers.0.units: {type: choice, values: [16, 32, 64]}

Each spec draws a value from a NumPy generator (:meth:`sample`) and names the values
``nnrun validate`` tries against the base config (:meth:`extremes`);
:func:`plan_problems` says what a search asks of them.

May import: the leaves and the config schema's base.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from typing import Literal, Union, get_args

from pydantic import Field, field_validator, model_validator

from nnrun.config.schema import Section
from nnrun.specs import short_form, tagged_union

# A swept value: a scalar, or a list set whole (the steps of data.preprocess, the features
# a select layer takes), as Ray Tune's choice and Ludwig's hyperopt take any value.
Value = Union[bool, int, float, str, None, list]
Search = Literal["grid", "random", "tpe"]
RANGES = ("uniform", "loguniform", "int")  # the parameter types that are no list of values
PARAMETER_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z0-9_]+|-[0-9]+))*$")  # -1: from the end, as --set


def written(value) -> str:
    """A swept value on one line, as a sweep file writes it (``adam``, ``0.001``, ``null``,
    ``[{type: standardize}]``), which the YAML reader reads back as the same value
    (trials.csv keeps lists so)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return json.dumps(value)
    from nnrun.config.yaml_writer import one_line

    return one_line(value)


def shown_value(value) -> str:
    """A swept value in a message: JSON for a scalar ("adam", 0.001), as written for a list."""
    return written(value) if isinstance(value, list) else json.dumps(value)


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
    """One of the listed values, drawn with equal chances; a value that is a list is set
    whole (``data.preprocess: [[], [standardize]]``)."""

    type: Literal["choice"] = "choice"
    values: list[Value] = Field(min_length=1, description="The values to choose from; a list among them is set whole.")

    def extremes(self) -> list:
        return list(self.values)

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    @field_validator("values", mode="before")
    @classmethod
    def _plain_values(cls, values):
        # Checked first: pydantic would reject a mapping once per kind of value it tried.
        for value in values if isinstance(values, list) else ():
            if isinstance(value, dict):
                keys = ", ".join(f".{key}" for key in list(value)[:3]) or ".<key>"
                raise ValueError(f"{json.dumps(value)} is a mapping; a swept value is a number, a word, true, false, "
                                 f"null or a list: sweep each key inside it by its own path, this parameter's then "
                                 f"{keys} (as optimizer.learning_rate: [...] sweeps a key of optimizer)")
        return values

    @model_validator(mode="after")
    def _distinct(self):
        # A repeated value is tried twice (a grid) or drawn twice as often (a choice):
        # almost always a typo for another value. 8 and 8.0, or 1 and true, stay apart; a
        # list and the text that writes it do not (Optuna and trials.csv know it by that text).
        seen: dict = {}
        for value in self.values:
            key = (str, written(value)) if isinstance(value, (list, str)) else (type(value), value)
            if key in seen and type(seen[key]) is not type(value):
                raise ValueError(f"{shown_value(seen[key])} and {shown_value(value)} are one value (a list and the "
                                 "text that writes it); list it once")
            if key in seen:
                raise ValueError(f"{shown_value(value)} is listed twice in values; list each value once")
            seen[key] = value
        return self


class Grid(Choice):
    """Every listed value is tried: with search: random, each grid combination is tried
    ``samples`` times (as Ray Tune's grid_search); with search: grid, once."""

    type: Literal["grid"] = "grid"
    values: list[Value] = Field(min_length=1, description="The values, each one tried; a list among them is set whole.")


def _short_form(value):
    """A plain list is a choice: ``units: [16, 32]`` means ``{type: choice, values: [16, 32]}``
    (so a list every trial sets is written in one: ``[[a, b]]``); a number, true/false or
    null is a constant every trial sets (a choice of one), as Ray Tune takes one. (A word
    is still read as a type name, so a misspelt type is an error.) A mapping without a
    ``type`` is no parameter: its values are set by their own paths."""
    if isinstance(value, list):
        return {"type": "choice", "values": value}
    if value is None or isinstance(value, (bool, int, float)):
        return {"type": "choice", "values": [value]}
    if isinstance(value, dict) and "type" not in value and value:
        key, inner = next(iter(value.items()))
        raise ValueError(f"a mapping without a type is no parameter; set each value inside it by its own path: "
                         f"this path followed by '.{key}', given {inner!r}")
    return short_form(value)


# The short forms an editor must accept as well: a list (a choice) and a constant.
ParameterSpec = tagged_union((Uniform, LogUniform, IntRange, Choice, Grid), _short_form,
                             also=(list[Value], bool, int, float, None))


def spec_type(value) -> str | None:
    """The ``type`` of a parameter as written (a short form read as :data:`ParameterSpec`
    reads it), valid or not; None when it names none."""
    try:
        tagged = _short_form(value)
    except ValueError:  # reported by the schema
        return None
    return tagged.get("type") if isinstance(tagged, dict) and isinstance(tagged.get("type"), str) else None


def plan_problems(search: str, samples_given: bool, kinds: dict[str, str | None],
                  written: str | None = None) -> list[tuple[str, str]]:
    """What the search asks of the parameters, as (where, message): a grid needs a list
    of values for each, tpe draws every value itself, and each name is a dotted path.
    ``kinds`` is each parameter's type; ``written`` the misspelt search that ``search``
    is the likely meaning of, so its demands are told at once, not after the fix."""
    problems = [(f"parameters.{path}", f"'{path}' is not a dotted config path like optimizer.learning_rate")
                for path in kinds if not PARAMETER_PATH.match(path)]
    ranges = [path for path, kind in kinds.items() if kind in RANGES]
    grids = [path for path, kind in kinds.items() if kind == "grid"]
    said = f"if you meant {search}, it" if written else search
    if search == "grid" and ranges:
        problems.append(("search", f"{said} needs a list of values for every parameter; {_are(ranges, 'a range')}: "
                                   f"make {_them(ranges)} {{type: grid, values: [...]}}, or use search: random"))
    if search == "grid" and samples_given:
        problems.append(("samples", f"{'if you meant search: grid, ' if written else ''}a grid search runs every "
                                    "combination once; remove samples"))
    if search == "tpe" and grids:
        problems.append(("search", f"{said} chooses every value itself; {_are(grids, 'a grid')}: make {_them(grids)} "
                                   "{type: choice, values: [...]}"))
    return problems


def _are(paths: list[str], kind: str) -> str:
    """``a is a range``, ``a and b are ranges``, ``a, b and c are ranges``."""
    if len(paths) == 1:
        return f"{paths[0]} is {kind}"
    return f"{', '.join(paths[:-1])} and {paths[-1]} are {kind.removeprefix('a ')}s"


def _them(paths: list[str]) -> str:
    return "it" if len(paths) == 1 else "them"


def plan_as_written(data: dict) -> list[tuple[str, str]]:
    """:func:`plan_problems` of the file as written, whatever else is wrong in it; a
    misspelt search is taken as its likely meaning (the "did you mean" of its own problem)."""
    parameters = data.get("parameters")
    if not isinstance(parameters, dict):
        return []
    kinds = {str(path): spec_type(spec) for path, spec in parameters.items()}
    search, written = data.get("search", "random"), None
    if search not in get_args(Search):
        close = difflib.get_close_matches(search, get_args(Search), n=1, cutoff=0.6) if isinstance(search, str) else []
        search, written = (close[0], search) if close else (None, None)
    return plan_problems(search, data.get("samples") is not None, kinds, written)
