"""The Pydantic base every config block shares, and the one idiom for a family of specs.

Every block forbids unknown keys, is immutable, and refuses ``.inf``/``.nan`` (no option
of nnrun means infinity): that is :data:`SPEC`. A family (layers, losses, optimizers,
schedules, sources, preprocessing steps, regularizers) is a tuple of spec classes,
each with a ``type: Literal[...]`` tag, made into one field type by
:func:`tagged_union`: a Pydantic discriminated union on ``type`` that also accepts the
bare type name (``loss: mse`` for ``loss: {type: mse}``) and says so in the JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Literal, Union

from pydantic import BeforeValidator, ConfigDict, Field

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
