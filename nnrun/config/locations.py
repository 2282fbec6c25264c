"""Where a Pydantic error location leads in the config schema.

An error's location (``model.layers.0.dense.units``) is a path through the models,
unions and lists of the schema; these walk it to the annotation there, to say what
keys a block has, which ``type`` names a family takes, and which member of a union of
plain values (a number or a pair) an error came from.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from nnrun.specs import LazyFamily


def fields_at(loc: tuple, root: Any = None) -> list[str]:
    """Field names of the model that holds the last key of a Pydantic error location."""
    model = _as_model(annotation_at(loc[:-1], root))
    return list(model.model_fields) if model else []


def description_at(loc: tuple, root: Any = None) -> str | None:
    """The schema's description of the field at a Pydantic error location."""
    model = _as_model(annotation_at(loc[:-1], root))
    field = model.model_fields.get(loc[-1]) if model else None
    return field.description if field else None


def tags_at(loc: tuple, root: Any = None) -> list[str]:
    """The ``type`` names a polymorphic block at a Pydantic error location accepts."""
    found = annotation_at(loc, root)
    family = _family(found)
    if family is not None:
        return list(family.tags)
    annotation = bare_annotation(found)
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return []
    members = [_as_model(member) for member in typing.get_args(annotation)]
    return [m.model_fields["type"].default for m in members if m and "type" in m.model_fields]


def annotation_at(loc: tuple, root: Any = None) -> Any:
    from nnrun.config.schema import Config

    current: Any = root or Config
    for part in loc:
        current = _step(current, part)
        if current is None:
            return None
    return current


def _step(annotation: Any, part: Any) -> Any:
    family = _family(annotation)
    if family is not None:
        return family.member(part) if part in family.where else None
    annotation = bare_annotation(annotation)
    model = _as_model(annotation)
    if model is not None:
        field = model.model_fields.get(part)
        if field is None:
            return None
        # Pydantic keeps a field's own Annotated metadata apart from its annotation.
        family = next((m for m in field.metadata if isinstance(m, LazyFamily)), None)
        return typing.Annotated[field.annotation, family] if family else field.annotation
    origin = typing.get_origin(annotation)
    if origin in (list, tuple) and isinstance(part, int):
        return typing.get_args(annotation)[0]
    if origin is dict:  # any key: the values share one annotation
        return typing.get_args(annotation)[1]
    if origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            member_model = _as_model(bare_annotation(member))
            if member_model and "type" in member_model.model_fields:
                if member_model.model_fields["type"].default == part:
                    return member_model
        return _member_labelled(annotation, part)
    return None


def _family(annotation: Any) -> LazyFamily | None:
    """The lazily loaded family an annotation stands for (``list[LayerSpec]``'s items),
    also when optional."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            family = next((m for m in annotation.__metadata__ if isinstance(m, LazyFamily)), None)
            if family is not None:
                return family
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return None
            annotation = members[0]
        else:
            return None


# What Pydantic calls a union member in an error location (``constrained-int``,
# ``tuple[constrained-int, constrained-int]``, ``literal['auto']``), by kind, and the
# kinds of member a value of each YAML kind can be meant for.
_LABEL_KINDS = {"int": "number", "float": "number", "bool": "bool", "str": "text", "literal": "text",
                "tuple": "list", "list": "list", "dict": "mapping"}
_VALUE_KINDS = {bool: "bool", int: "number", float: "number", str: "text", list: "list", dict: "mapping"}


def _label_kind(label: str) -> str:
    """``constrained-int`` -> ``int``, ``tuple[constrained-int, ...]`` -> ``tuple``."""
    return label.split("[")[0].removeprefix("constrained-")


def _member_labelled(union: Any, label: Any) -> Any:
    """The member of a union of plain values (no config blocks) that Pydantic names
    ``label`` in an error location; None for anything else."""
    members = [m for m in typing.get_args(union) if m is not type(None)]
    if not isinstance(label, str) or any(_as_model(m) for m in members):
        return None
    for member in members:
        plain = bare_annotation(member)
        base = typing.get_origin(plain) or plain
        name = "literal" if base is typing.Literal else getattr(base, "__name__", "")
        if name == _label_kind(label):
            return member
    return None


def union_member_at(loc: tuple, root: Any = None) -> int | None:
    """The index in a Pydantic error location of the union member it failed in
    (``kernel_size.constrained-int``: 1 past ``kernel_size``), for a union of plain
    values such as a number or a pair; None when the error is not inside such a member."""
    for index, part in enumerate(loc):
        plain = bare_annotation(annotation_at(loc[:index], root))
        if typing.get_origin(plain) in (typing.Union, types.UnionType) and _member_labelled(plain, part) is not None:
            return index
    return None


def meant_member(label: str, value: Any) -> bool:
    """Whether the union member named ``label`` is the one a value of this YAML kind is
    written for (a list for the pair, a number for the number)."""
    kind = _VALUE_KINDS.get(type(value))
    return kind is not None and _LABEL_KINDS.get(_label_kind(label)) == kind


def bare_annotation(annotation: Any) -> Any:
    """Remove Annotated wrappers and Optional."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return bare_annotation(members[0])
    return annotation


def _as_model(annotation: Any) -> type[BaseModel] | None:
    annotation = bare_annotation(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
