"""Turn Pydantic's validation errors into messages for people.

Each message says what was expected and echoes what was received; unknown keys and
unknown ``type`` names get a "did you mean" from the schema itself.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel


def describe(error: dict, path: tuple) -> str:
    kind, message, received = error["type"], error["msg"], error.get("input")
    if kind == "extra_forbidden":
        key = path[-1]
        allowed = fields_at(error["loc"])
        return f"unknown key '{key}'" + suggestion(str(key), allowed, "keys")
    if kind == "missing":
        return "required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = [t.strip(" '") for t in error.get("ctx", {}).get("expected_tags", "").split(",")]
        if kind == "union_tag_not_found":
            return f"a 'type' is required; one of: {', '.join(expected)}"
        tag = error["ctx"]["tag"]
        return f"unknown type '{tag}'" + suggestion(tag, expected, "types")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        return f"'{received}' is not one of {expected}" + suggestion(str(received), options, None)
    return f"{message.rstrip('.')}, got {_show(received)}"


def suggestion(word: str, options: list[str], noun: str | None) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(options)}" if noun and options else ""


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def fields_at(loc: tuple) -> list[str]:
    """Field names of the model that holds the last key of a Pydantic error location."""
    from .schema import Config

    current: Any = Config
    for part in loc[:-1]:
        current = _step(current, part)
        if current is None:
            return []
    model = _as_model(current)
    return list(model.model_fields) if model else []


def _step(annotation: Any, part: Any) -> Any:
    annotation = _strip(annotation)
    model = _as_model(annotation)
    if model is not None:
        field = model.model_fields.get(part)
        return field.annotation if field else None
    origin = typing.get_origin(annotation)
    if origin in (list, tuple) and isinstance(part, int):
        return typing.get_args(annotation)[0]
    if origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            member_model = _as_model(_strip(member))
            if member_model and "type" in member_model.model_fields:
                if member_model.model_fields["type"].default == part:
                    return member_model
        return None
    return None


def _strip(annotation: Any) -> Any:
    """Remove Annotated wrappers and Optional."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return annotation


def _as_model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
