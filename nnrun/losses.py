"""Losses: each returns the batch-mean loss and its gradient in one pass.

``loss(out, target, from_logits) -> (value, d value / d out)``. Targets are integer
class labels (N,) or one-hot / probability rows (N, C) for cross-entropies, and values
of the output's shape for regression. ``fuses`` names the output activation whose
Jacobian the loss folds into its own gradient: when a model ends in it, the graph
hands the loss the logits instead (``from_logits``), which is both cheaper and stable,
e.g. softmax + cross-entropy gives ``(softmax(z) - y) / N``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .activations import softmax

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON], as in Keras


class Loss(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fuses: ClassVar[str | None] = None
    # "classification" losses take class labels; "regression" losses take values.
    task: ClassVar[str] = "regression"

    def __call__(self, out: np.ndarray, target: np.ndarray, from_logits: bool = False):
        raise NotImplementedError

    @classmethod
    def check_cases(cls, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, bool]]:
        """(out, target, from_logits) triples the registry's gradient check runs."""
        raise NotImplementedError


def one_hot(labels: np.ndarray, classes: int, dtype) -> np.ndarray:
    encoded = np.zeros((labels.shape[0], classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


class CategoricalCrossentropy(Loss):
    """``-mean_n sum_c y_nc log p_nc`` with ``p = softmax(z)`` fused when the model ends in
    softmax. Integer labels are one-hot encoded implicitly."""

    type: Literal["categorical_crossentropy"] = "categorical_crossentropy"
    fuses = "softmax"
    task = "classification"

    def __call__(self, out, target, from_logits=False):
        n = out.shape[0]
        if from_logits:
            shifted = out - out.max(axis=-1, keepdims=True)
            log_sum = np.log(np.exp(shifted).sum(axis=-1))
            grad = softmax(out)
            if target.ndim == 1:
                value = np.mean(log_sum - shifted[np.arange(n), target])
                grad[np.arange(n), target] -= 1
            else:  # rows need not sum to one (label smoothing, soft targets)
                total = target.sum(axis=-1, keepdims=True)
                value = np.mean(log_sum * total[:, 0] - (shifted * target).sum(axis=-1))
                grad = grad * total - target
            grad /= n
            return float(value), grad

        probs = np.clip(out, EPSILON, 1 - EPSILON)
        if target.ndim == 1:
            target = one_hot(target, out.shape[-1], out.dtype)
        value = -np.mean((target * np.log(probs)).sum(axis=-1))
        grad = -(target / probs) * ((out >= EPSILON) & (out <= 1 - EPSILON)) / n
        return float(value), grad.astype(out.dtype, copy=False)

    @classmethod
    def check_cases(cls, rng):
        logits = rng.normal(size=(5, 4))
        probs = softmax(logits)
        labels = rng.integers(0, 4, 5)
        soft = softmax(rng.normal(size=(5, 4)))
        return [(logits, labels, True), (logits, soft, True), (probs, labels, False), (probs, soft, False)]


class BinaryCrossentropy(Loss):
    """``-mean(y log p + (1 - y) log(1 - p))`` over every output, with ``p = sigmoid(z)``
    fused when the model ends in sigmoid."""

    type: Literal["binary_crossentropy"] = "binary_crossentropy"
    fuses = "sigmoid"
    task = "classification"

    def __call__(self, out, target, from_logits=False):
        target = target.reshape(out.shape).astype(out.dtype, copy=False)
        size = out.size
        if from_logits:
            # log(1 + e^z) - z y, written so exp never overflows.
            value = np.mean(np.maximum(out, 0) - out * target + np.log1p(np.exp(-np.abs(out))))
            e = np.exp(-np.abs(out))
            probs = np.where(out >= 0, 1 / (1 + e), e / (1 + e))
            return float(value), ((probs - target) / size).astype(out.dtype, copy=False)
        probs = np.clip(out, EPSILON, 1 - EPSILON)
        value = -np.mean(target * np.log(probs) + (1 - target) * np.log(1 - probs))
        inside = (out >= EPSILON) & (out <= 1 - EPSILON)
        grad = (probs - target) / (probs * (1 - probs)) * inside / size
        return float(value), grad.astype(out.dtype, copy=False)

    @classmethod
    def check_cases(cls, rng):
        logits = rng.normal(size=(6, 1)) * 3
        labels = rng.integers(0, 2, 6)
        multi = rng.integers(0, 2, (6, 3)).astype(float)
        return [
            (logits, labels, True),
            (1 / (1 + np.exp(-logits)), labels, False),
            (rng.normal(size=(6, 3)), multi, True),
            (rng.uniform(0.05, 0.95, (6, 3)), multi, False),
        ]


class MeanSquaredError(Loss):
    """``mean((out - y)^2)`` over every output."""

    type: Literal["mse"] = "mse"

    def __call__(self, out, target, from_logits=False):
        diff = out - target.reshape(out.shape)
        return float(np.mean(diff * diff)), (2 / out.size) * diff

    @classmethod
    def check_cases(cls, rng):
        return [(rng.normal(size=(5, 1)), rng.normal(size=5), False), (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), False)]


LOSSES: tuple[type[Loss], ...] = (CategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError)

LossSpec = Annotated[Union[LOSSES], Field(discriminator="type")]  # type: ignore[valid-type]
