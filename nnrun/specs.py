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

import importlib
import json
import typing
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


def tagged_union(members: tuple[type, ...], parse: Callable[[Any], Any] = short_form) -> Any:
    """The field type of a family: ``{type: name, ...options}`` or just ``name``.

    ``parse`` turns what the user wrote into the tagged form before validation; the
    default expands a bare name. Errors name the member by its tag
    (``layers.0.dense.units: ...``), which is what people wrote.
    """
    union = Annotated[Union[members], Field(discriminator="type")]  # type: ignore[valid-type]
    accepted = Union[Literal[type_names(members)], union]  # type: ignore[valid-type]
    return Annotated[union, BeforeValidator(parse, json_schema_input_type=accepted)]


class LazyFamily:
    """A family named by ``type`` tag -> ``"module:Class"``, loaded member by member.

    As a field's annotation (``Annotated[Base, family]``) it validates exactly like
    :func:`tagged_union` of all its members, with the same errors at the same locations
    (``layers.0.dense.units``), but a config of dense layers never imports the
    convolution or recurrent modules nor builds their validators: for ``nnrun train`` on
    a small model that was a sixth of its start-up. The JSON Schema, asked for rarely,
    loads every member.
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
        # The short form is expanded first, so errors show the block as expanded, as the union's do.
        return core_schema.no_info_before_validator_function(
            self.parse, core_schema.with_info_plain_validator_function(self._validate))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> Any:
        return handler(TypeAdapter(tagged_union(self.members(), self.parse)).core_schema)

    def _validate(self, value: Any, info: Any) -> Any:
        if isinstance(value, BaseModel) and getattr(value, "type", None) in self.where:  # a member, built in Python
            return self.member(value.type).__pydantic_validator__.validate_python(value, context=info.context)
        if not isinstance(value, dict):
            raise PydanticCustomError("model_attributes_type", "Input should be a valid dictionary or object to "
                                      "extract fields from")
        if "type" not in value:
            raise PydanticCustomError("union_tag_not_found", "Unable to extract tag using discriminator {discriminator}",
                                      {"discriminator": "'type'"})
        tag = value["type"]
        if not isinstance(tag, str) or tag not in self.where:
            expected = ", ".join(repr(name) for name in self.tags)
            raise PydanticCustomError(
                "union_tag_invalid",
                "Input tag '{tag}' found using {discriminator} does not match any of the expected tags: {expected_tags}",
                {"discriminator": "'type'", "tag": str(tag), "expected_tags": expected},
            )
        validator = self.member(tag).__pydantic_validator__
        try:
            # A config file is validated as strict JSON (see nnrun.config.loader); its
            # members are too. Python callers (tests, the API's dicts) get Python's rules.
            if info.mode == "json":
                return validator.validate_json(json.dumps(value), strict=True, context=info.context)
            return validator.validate_python(value, context=info.context)
        except ValidationError as exc:
            # Under the tag, as a discriminated union places its members' errors.
            raise ValidationError.from_exception_data(exc.title, [
                {"type": _error_type(error), "loc": (tag, *error["loc"]), "input": error["input"],
                 **({"ctx": error["ctx"]} if "ctx" in error else {})}
                for error in exc.errors(include_url=False)
            ]) from None


def _error_type(error: dict) -> Any:
    """Pydantic's own error types carry over by name; any other keeps its message."""
    known = typing.get_args(core_schema.ErrorType)
    return error["type"] if error["type"] in known else PydanticCustomError(error["type"], error["msg"])
