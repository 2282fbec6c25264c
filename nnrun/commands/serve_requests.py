"""The request schema of ``nnrun serve``, built from a run (its errors told by :mod:`.serve_errors`).

A run's raw input columns (see :func:`nnrun.commands.model_card.input_columns`)
become one Pydantic model per instance, taking each value as ``nnrun predict`` takes
a CSV cell: a numeric column a finite JSON number, true or false, or the text of a cell
(with the run's thousands separator), a categorical one a category seen in training (any
text, for a run with ``unknown: ignore``; a number category also as a JSON number, and
without its leading zeros); an empty cell (``null``, ``""``, ``"NA"``, ...) only where
training learned a value to fill it with. The run's ID and ignored columns, and its
target, may come too (any JSON scalar; IDs are given back with the prediction); other
keys are refused, as a misspelt column would be. A model of number columns also takes a
sample as an array (see :mod:`.serve_arrays`). FastAPI turns the models into the OpenAPI
page at ``/docs``, so that page documents this model's inputs.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model

from nnrun.commands.serve_arrays import ArrayShape, array_example, array_schema, as_columns, not_one_sample
from nnrun.data.cells import MISSING, markers


DEFAULT_MAX_INSTANCES = 1000
# The default body limit leaves room for --max-instances instances of the run's columns
# at BYTES_PER_VALUE each: a column's name and its value as JSON (a float's repr takes
# at most 24 characters), with room for long names and indented JSON; never under 1 MiB.
BYTES_PER_VALUE = 128
LEAST_DEFAULT_BODY_BYTES = 1 << 20


def default_max_body_bytes(columns: list[dict], passed: dict[str, str], max_instances: int) -> int:
    """The largest request body a server for these columns takes unless told otherwise:
    a text column counts one value for each token it keeps, and a column that is
    accepted but not a feature (``passed``) counts one value."""
    values = sum(column["text"]["length"] if column["type"] == "text" else 1 for column in columns) + len(passed)
    return max(LEAST_DEFAULT_BODY_BYTES, max_instances * values * BYTES_PER_VALUE)


def smallest_body_bytes(columns: list[dict]) -> int:
    """About the bytes of the shortest body ``/predict`` takes: one instance with every
    column (each is required), in compact JSON, with the shortest text each may have (a
    number category sent as a JSON number may come a few bytes shorter)."""
    def least(column: dict) -> Any:
        if column["type"] == "category" and column.get("unknown") != "ignore":
            return min(column["categories"], key=len)
        return 0 if column["type"] == "number" else _example_value(column) if column["type"] == "date" else ""

    body = {"instances": [{column["name"]: least(column) for column in columns}]}
    return len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())


def _column_type(column: dict, missing: frozenset[str]) -> Any:
    if column["type"] == "number":
        kind: Any = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_within_float32)]
    elif column["type"] == "date":
        kind = Annotated[str, Field(strict=True), AfterValidator(_a_date(column))]
    elif column["type"] == "text" or column.get("unknown") == "ignore":  # any category: unseen ones are zeros
        kind = Annotated[str, Field(strict=True)]
    else:
        kind = Literal[tuple(column["categories"])]  # type: ignore[valid-type]
    fillable = column["missing"] != "error"
    kind = Optional[kind] if fillable else kind
    if column["type"] == "text":
        return kind
    # A value may come as a CSV file holds it: text, with spaces, "NA" for an empty cell.
    # (The schema of a category still lists its categories: they are what to send.)
    if column["type"] != "number":
        return Annotated[kind, BeforeValidator(_as_a_cell_is_read(column, missing))]
    sent = Optional[Union[float, str, bool]] if fillable else Union[float, str, bool]
    return Annotated[kind, BeforeValidator(_as_a_cell_is_read(column, missing), json_schema_input_type=sent)]


BEYOND_FLOAT32 = f"is beyond the numbers the model computes with (float32, at most " \
                 f"{float(np.finfo(np.float32).max):.4g} in size)"


def _within_float32(value: float) -> float:
    """A JSON number the model's float32 can hold: 1e308 is finite in JSON, infinite there."""
    with np.errstate(over="ignore"):
        if np.isinf(np.float32(value)):
            raise ValueError(f"{show(value)} {BEYOND_FLOAT32}")
    return value


def _as_a_cell_is_read(column: dict, missing: frozenset[str] = MISSING):
    """A value sent as text read as ``nnrun predict`` reads the cell: surrounding spaces
    dropped, a missing marker ("", "NA", ..., and the run's ``missing``) empty (None), a number column's text
    parsed with the run's thousands separator and decimal mark, true and false 1 and 0;
    other values pass on as they are."""
    from nnrun.data.cells import number_markers, parse_numbers
    from nnrun.data.number_patterns import PLAIN
    from nnrun.data.problems import DataProblems

    category, marked = column["type"] == "category", number_markers(missing - MISSING)
    separator, decimal = column.get("thousands"), column.get("decimal", ".")
    # A number with the run's decimal mark, and its thousands separator between groups of three digits if it has one.
    grouped = rf"[1-9]\d{{0,2}}(?:{re.escape(separator)}\d{{3}})+|" if separator else ""
    # ASCII digits only: '٣٤' is no number to predict's reader, nor here
    written_plainly = re.compile(rf"^[+-]?(?:{grouped}\d+)(?:{re.escape(decimal)}\d+)?$", re.ASCII)
    if category:
        from nnrun.data.categories import category_index, known_category

        fold = column.get("fold_case", False)
        index = category_index(column["categories"], fold)

    def read(value: Any) -> Any:
        if isinstance(value, bool) and column["type"] == "number":
            return float(value)  # true and false are 1 and 0, as a CSV file's True and False are
        if isinstance(value, (int, float)) and value in marked:
            value = ""  # -999 sent as a number: the run's marker for a gap, as its text "-999" is
        if category and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # 94105 or 2139 for the category '94105' or '02139', as predict reads a cell
        if not isinstance(value, str):
            return value
        if value.strip().lower() in missing:
            if column["missing"] == "error":
                raise ValueError(f"{show(value)} is an empty cell, and training had no value to fill it with; "
                                 f"send {'a number' if column['type'] == 'number' else 'one of its categories'}")
            return None
        if category:  # '2139' is '02139' and '94105.0' is '94105', as predict reads them
            return known_category(value.strip(), column["categories"], index, fold)
        if column["type"] != "number":
            return value.strip()
        if written_plainly.match(value.strip()):  # the usual number as text: read at once (the general reader
            # below took 0.4 ms a cell, 20 to 60 times the time of a request of JSON numbers)
            text = value.strip()
            number = float(text.replace(separator, "").replace(decimal, ".") if separator else text.replace(decimal, "."))
            if math.isfinite(number):  # 400 digits are infinite: told by the reader below, as it quotes them
                return number
        problems = DataProblems("request", scoring=True)
        number = parse_numbers([value], column["name"], np.zeros(1, np.int64), problems, column.get("thousands"),
                               column.get("decimal", "."), signs=tuple(column.get("strip_signs", ())))
        if problems:
            kind = next(iter(problems.kinds))  # "not a number", or "not a finite number" ("inf", "1e400")
            written = f" ({separator!r} stands only between groups of three digits, as training read them)" \
                if kind == "not a number" and separator and separator in value else ""
            if kind == "not a number" and decimal == "," and PLAIN.match(value.strip()):  # '0.68' for '0,68'
                written = (" (the run reads numbers written with a decimal comma, as in "
                           f"{value.strip().replace('.', ',')!r}; or send a JSON number)")
            raise ValueError(f"{show(value)} is {kind}{written}")
        return float(number[0])

    return read


def _a_date(column: dict):
    """A check that a date column's text is a date as training read them."""
    from nnrun.data.dates import described, parse

    def read(value: str) -> str:
        if parse(value, column["format"]) is None:
            raise ValueError(f"{show(value)} is not a date written {described(column['format'])}, as training read "
                             "them")
        return value

    return read


def _column_description(column: dict) -> str:
    if column["type"] == "date":
        from nnrun.data.dates import described

        text = f"A date{' and time' if column['time'] else ''}, written {described(column['format'])}."
        return text + (f" null when unknown: filled with {column['missing']!r}, as in training."
                       if column["missing"] != "error" else "")
    text = {"number": "A number (or a number as text, as a CSV cell holds it).",
            "category": "One of the categories seen in training"
                        + (f" ({', '.join(c for c in column['categories'] if c)}; another is encoded as all zeros)."
                           if column.get("unknown") == "ignore" else "."),
            "text": "Text, split into tokens with the run's vocabulary."}[column["type"]]
    if column["type"] == "category" and column["missing"] == "":  # missing_category: own
        text += " null (or \"\") when unknown: the category of empty cells, as training learned it."
    elif column["type"] != "text" and column["missing"] != "error":
        text += f" null when unknown: filled with {column['missing']!r}, as in training."
    return text


def _example_value(column: dict) -> Any:
    if column["type"] == "category":
        return column["categories"][0]
    if column["type"] == "date":
        from nnrun.data.dates import example

        return example(column["format"], column["time"])
    return "some text" if column["type"] == "text" else 0.0


def _one_value(value: Any) -> Any:
    """An ID or another column passed through: one JSON value as it is, or one error
    naming it (a union of four types told each of its four failures)."""
    if value is None or isinstance(value, (str, bool, int)) or isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, float):  # NaN or Infinity, which no JSON answer can give back
        raise ValueError(f"{show(value)} is not a finite number; send a string, a finite number, true, false or null")
    raise ValueError(f"{show(value)} is not one value; send a string, a number, true, false or null")


_PASSED = Annotated[Any, AfterValidator(_one_value), WithJsonSchema(
    {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]})]


def request_models(columns: list[dict], max_instances: int, passed: dict[str, str] | None = None,
                   missing_values=(), shapes: list[ArrayShape] = ()) -> tuple[type[BaseModel], type[BaseModel]]:
    """``(Instance, PredictRequest)`` for these columns, and the optional columns in
    ``passed`` (name: description) that are accepted but not features; ``shapes``: those
    a sample may be sent as an array of (see :func:`.serve_arrays.array_shapes`). Field
    names are positional (``c0``, ``c1``, ...) with the column names as aliases, so any
    column name works."""
    fields = {
        f"c{i}": (_column_type(column, markers(missing_values)), Field(alias=column["name"], description=_column_description(column)))
        for i, column in enumerate(columns)
    }
    for i, (name, description) in enumerate((passed or {}).items()):
        fields[f"p{i}"] = (_PASSED, Field(None, alias=name, description=description))
    forbid = ConfigDict(extra="forbid")
    instance = create_model("Instance", __config__=forbid, **fields)  # type: ignore[call-overload]
    example = {c["name"]: _example_value(c) for c in columns}
    item: Any = instance
    examples = [{"instances": [example]}]
    samples: Any = list[item]  # type: ignore[valid-type]
    if shapes:  # or as an array, made the object of columns it stands for
        nullable = all(column["missing"] != "error" for column in columns)
        sent = Union[instance, Annotated[list, WithJsonSchema(array_schema(list(shapes), nullable))]]  # type: ignore
        item = Annotated[instance, BeforeValidator(as_columns(list(example), list(shapes)), json_schema_input_type=sent)]
        samples = Annotated[list[item], BeforeValidator(not_one_sample(list(shapes)))]  # type: ignore[valid-type]
        examples.append({"instances": [array_example(list(shapes))]})
    if [column["type"] for column in columns] == ["text"]:  # a text model's text alone, as TF Serving's clients send it
        name = columns[0]["name"]
        item = Annotated[instance, BeforeValidator(lambda value: {name: value} if isinstance(value, str) else value,
                                                   json_schema_input_type=Union[instance, str])]
        samples = list[item]  # type: ignore[valid-type]
        examples.append({"instances": [example[name]]})
    request = create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": examples}),
        instances=(samples, Field(min_length=1, max_length=max_instances,
                                  description=f"The samples to predict, 1 to {max_instances}.")),
    )
    return instance, request


def show(value: Any) -> str:
    """A value as the client wrote it: JSON, with strings quoted."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
