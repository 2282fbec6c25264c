"""The Pydantic settings every config block shares: unknown keys are errors, specs are
immutable, and ``.inf``/``.nan`` are refused (no option of nnrun means infinity)."""

from pydantic import ConfigDict

SPEC = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def short_form(value):
    """A bare name stands for a block with only a type: ``adam`` means ``{type: adam}``."""
    return {"type": value} if isinstance(value, str) else value
