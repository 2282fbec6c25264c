"""Weight penalties added to the loss: ``l1``, ``l2`` and ``l1_l2``, as in Keras.

    penalty(w) = l1 * sum|w| + l2 * sum w^2,   d penalty / d w = l1 * sign(w) + 2 * l2 * w

The penalty is added to each batch's loss (so the reported loss includes it) and its
gradient to the parameter's gradient, before the optimizer step. In a config:
``kernel_regularizer: l2`` (Keras's default factor 0.01) or
``{type: l2, l2: 0.001}``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from nnrun.specs import SPEC, short_form, tagged_union


class Regularizer(BaseModel):
    model_config = SPEC

    @property
    def factors(self) -> tuple[float, float]:
        """(l1, l2); each subclass declares only the factors it has."""
        return getattr(self, "l1", 0.0), getattr(self, "l2", 0.0)

    def value(self, w: np.ndarray) -> float:
        l1, l2 = self.factors
        total = 0.0
        if l1:
            total += l1 * float(np.abs(w).sum())
        if l2:
            total += l2 * float(np.vdot(w, w))
        return total

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        """``grad += d penalty / d w``, in place."""
        l1, l2 = self.factors
        if l1:
            grad += l1 * np.sign(w)
        if l2:
            grad += (2 * l2) * w


class L1(Regularizer):
    type: Literal["l1"] = "l1"
    l1: float = Field(0.01, ge=0, description="Factor of sum |w|.")


class L2(Regularizer):
    type: Literal["l2"] = "l2"
    l2: float = Field(0.01, ge=0, description="Factor of sum w^2.")


class L1L2(Regularizer):
    type: Literal["l1_l2"] = "l1_l2"
    l1: float = Field(0.0, ge=0, description="Factor of sum |w|.")
    l2: float = Field(0.0, ge=0, description="Factor of sum w^2.")


REGULARIZERS = (L1, L2, L1L2)



def factors_form(value):
    """Keras writes a regularizer by its factors, and so may a config: ``{l2: 0.01}`` is
    ``{type: l2, l2: 0.01}``, ``{l1: ..., l2: ...}`` is ``l1_l2``; a bare name is
    ``{type: name}`` as for every family."""
    if isinstance(value, dict) and "type" not in value and value and set(value) <= {"l1", "l2"}:
        return {"type": "l1_l2" if len(value) == 2 else next(iter(value)), **value}
    return short_form(value)


RegularizerSpec = tagged_union(REGULARIZERS, parse=factors_form)
