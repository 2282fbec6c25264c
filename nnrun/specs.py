"""The Pydantic base every config block shares, and the one idiom for a family of specs.

Every block forbids unknown keys, is immutable, and refuses ``.inf``/``.nan`` (no option
of nnrun means infinity): that is :data:`SPEC`. A family (layers, losses, optimizers,
schedules, sources, preprocessing steps, regularizers) is a tuple of spec classes,
each with a ``type: Literal[...]`` tag, made into one field type by
:func:`tagged_union`: a Pydantic discriminated union on ``type`` that also accepts the
bare type name (``loss: mse`` for ``loss: {type: mse}``) and says so in the JSON Schema.
A large family whose members live in many modules (the layers) is a
:class:`LazyFamily` instead: the same field, but a member's module is imported, and its
validator built, only when a config names it.
"""

from __future__ import annotations

import functools
import importlib
import json
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Callable, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError, core_schema

# defer_build: a block's validator is built when a config is first validated, not when
# its class is defined; every command imports all the blocks, and building them all at
# import was the largest part of `nnrun train`'s start-up.
SPEC = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


def short_form(value):
    """A bare name stands for a block with only a type: ``adam`` means ``{type: adam}``."""
    return {"type": value} if isinstance(value, str) else value


def type_names(members: tuple[type, ...]) -> tuple[str, ...]:
    """The ``type`` tags of a family, in registration order."""
    return tuple(member.model_fields["type"].default for member in members)


def tagged_union(members: tuple[type, ...], parse: Callable[[Any], Any] = short_form, also: tuple = ()) -> Any:
    """The field type of a family: ``{type: name, ...options}`` or just ``name``.

    ``parse`` turns what the user wrote into the tagged form before validation; the
    default expands a bare name. ``also``: the other forms ``parse`` takes (types), so
    that the JSON Schema accepts them too. Errors name the member by its tag
    (``layers.0.dense.units: ...``), which is what people wrote.
    """
    union = Annotated[Union[members], Field(discriminator="type")]  # type: ignore[valid-type]
    accepted = Union[(Literal[type_names(members)], union, *also)]  # type: ignore[valid-type]
    return Annotated[union, BeforeValidator(parse, json_schema_input_type=accepted)]


class LazyFamily:
    """A family named by ``type`` tag -> ``"module:Class"``, loaded member by member.

    As a field's annotation (``Annotated[Base, family]``) it validates like
    :func:`tagged_union` of all its members, with the same errors at the same locations
    (``layers.0.dense.units``), strict or lax as the caller asks, but a config of dense
    layers never imports the convolution or recurrent modules nor builds their
    validators: for ``nnrun train`` on a small model that was a sixth of its start-up.
    One difference: strict JSON validation of the whole union refused pairs such as
    ``kernel_size: [3, 3]``, which each member validated on its own takes. Objects are
    read by their attributes only when they are members (``from_attributes`` is not
    passed on). The JSON Schema, asked for rarely, loads every member.
    """

    def __init__(self, where: dict[str, str], parse: Callable[[Any], Any] = short_form):
        self.where, self.parse = where, parse
        self.tags = tuple(where)

    def member(self, tag: str) -> type:
        module, name = self.where[tag].split(":")
        return getattr(importlib.import_module(module), name)

    def members(self) -> tuple[type, ...]:
        return tuple(self.member(tag) for tag in self.tags)

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        def validating(strict: bool) -> core_schema.CoreSchema:
            return core_schema.with_info_plain_validator_function(lambda value, info: self._validate(value, info, strict))

        # The short form is expanded first, so errors show the block as expanded, as the union's do.
        return core_schema.no_info_before_validator_function(
            self.parse, core_schema.lax_or_strict_schema(lax_schema=validating(False), strict_schema=validating(True)))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> Any:
        return handler(TypeAdapter(tagged_union(self.members(), self.parse)).core_schema)

    def _validate(self, value: Any, info: Any, strict: bool) -> Any:
        if isinstance(value, Mapping):
            tag = value.get("type", _MISSING)
        elif isinstance(value, BaseModel):  # a block built in Python
            tag = getattr(value, "type", _MISSING)
        else:
            raise PydanticCustomError("model_attributes_type", "Input should be a valid dictionary or object to "
                                      "extract fields from")
        if tag is _MISSING:
            raise PydanticCustomError("union_tag_not_found", "Unable to extract tag using discriminator {discriminator}",
                                      {"discriminator": "'type'"})
        if not isinstance(tag, str) or tag not in self.where:
            expected = ", ".join(repr(name) for name in self.tags)
            raise PydanticCustomError(
                "union_tag_invalid",
                "Input tag '{tag}' found using {discriminator} does not match any of the expected tags: {expected_tags}",
                {"discriminator": "'type'", "tag": str(tag), "expected_tags": expected},
            )
        validator = self.member(tag).__pydantic_validator__
        try:
            if info.mode == "json":  # the input was JSON: its values are JSON's, and JSON's rules apply to them
                return validator.validate_json(json.dumps(value), strict=strict, context=info.context)
            return validator.validate_python(value, strict=strict, context=info.context)
        except ValidationError as exc:
            # Under the tag, as a discriminated union places its members' errors.
            raise ValidationError.from_exception_data(
                exc.title, [_under(tag, error) for error in exc.errors(include_url=False)]) from None


_MISSING = object()


def _under(tag: str, error: dict) -> dict:
    """A member's error, placed under its tag. Pydantic's own error types carry over by
    name (their messages are rebuilt from the context); any other error, or one that
    reuses a built-in name with a message of its own, keeps its message and context."""
    ctx = error.get("ctx")
    line = {"type": error["type"], "loc": (tag, *error["loc"]), "input": error["input"], **({"ctx": ctx} if ctx else {})}
    if error["type"] in _builtin_error_types():
        try:
            rebuilt = ValidationError.from_exception_data("", [line]).errors(include_url=False)[0]
        except (TypeError, KeyError, ValueError):  # the built-in type needs context this error lacks
            rebuilt = None
        if rebuilt is not None and rebuilt["msg"] == error["msg"]:
            return line
    return {**line, "type": PydanticCustomError(error["type"], error["msg"], ctx)}


@functools.cache
def _builtin_error_types() -> frozenset[str]:
    return frozenset(typing.get_args(core_schema.ErrorType))
