"""Losses: each returns the batch-mean loss and its gradient in one pass.

``loss(out, target, from_logits) -> (value, d value / d out)``. Targets are integer
class labels (N,) or one-hot / probability rows (N, C) for cross-entropies, and values
of the output's shape for regression. ``fuses`` names the output activation whose
Jacobian the loss folds into its own gradient: when a model ends in it, the graph
hands the loss the logits instead (``from_logits``), which is both cheaper and stable,
e.g. softmax + cross-entropy gives ``(softmax(z) - y) / N``. A loss's own
``from_logits: true`` option says the model already outputs logits (a linear last
layer); the activation is then applied only for predictions and metrics.

Classification losses take ``class_weights`` (one per class, in the data's class
order): sample n's loss is multiplied by ``class_weights[y_n]`` and the mean still
divides by N, as Keras's ``class_weight`` does; ``balanced`` (:func:`balanced_weights`)
and a mapping by class name are resolved to such a list from the training split. ``label_smoothing`` s replaces
one-hot targets by ``y (1 - s) + s / C`` (``C = 2`` for binary cross-entropy).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from nnrun.model.activations import softmax
from nnrun.specs import SPEC, tagged_union

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON], as in Keras


class Loss(BaseModel):
    model_config = SPEC

    fuses: ClassVar[str | None] = None
    # "classification" losses take class labels; "regression" losses take values.
    task: ClassVar[str] = "regression"

    def __call__(self, out: np.ndarray, target: np.ndarray, from_logits: bool = False):
        raise NotImplementedError

    @classmethod
    def check_cases(cls, rng: np.random.Generator) -> list[tuple]:
        """(out, target, from_logits[, options]) the registry's gradient check runs."""
        raise NotImplementedError


def one_hot(labels: np.ndarray, classes: int, dtype) -> np.ndarray:
    encoded = np.zeros((labels.shape[0], classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


def balanced_weights(labels: np.ndarray, classes: int) -> list[float]:
    """scikit-learn's balanced class weights: ``samples / (classes x the class's
    samples)``, so every class weighs as much in the loss as the others together do
    in their share (a class of 5% weighs 10 where one of 50% weighs 1)."""
    counts = np.bincount(labels, minlength=classes)
    return [float(len(labels) / (classes * count)) if count else 0.0 for count in counts]


class ClassificationLoss(Loss):
    task = "classification"
    label_smoothing: float = Field(0.0, ge=0, le=1, description="Mix s of the uniform distribution into the targets.")
    class_weights: list[Annotated[float, Field(ge=0)]] | dict[str, Annotated[float, Field(ge=0)]] | \
        Literal["balanced"] | None = Field(
            None, description="Weight of each class's samples, in the data's class order (one per class), or by "
                              "class name ({spam: 5}; a class not named weighs 1); at least 0, not all 0. balanced: "
                              "samples / (classes x the class's samples) in the training split, as scikit-learn's. "
                              "The run's config.yaml holds the list a mapping or balanced comes to."
        )
    from_logits: bool = Field(False, description="The model outputs logits: its last layer has no activation.")

    @field_validator("class_weights")
    @classmethod
    def _some_weight(cls, weights: list[float] | dict[str, float] | str | None):
        # Every class weighted 0 makes the loss 0 whatever the model says: nothing is learned.
        if isinstance(weights, list) and weights and not any(weights):
            raise ValueError("every weight is 0, so the loss is 0 and nothing would be learned; weight at least one "
                             "class above 0 (1 for all is the unweighted loss)")
        if isinstance(weights, dict) and not weights:
            raise ValueError("the mapping names no class; name a class and its weight ({spam: 5.0}), or leave "
                             "class_weights out")
        return weights

    def sample_weights(self, target: np.ndarray, dtype) -> np.ndarray | None:
        """Per-sample (or per-output, for binary targets) weights from the class labels."""
        if self.class_weights is None:
            return None
        if not isinstance(self.class_weights, list):  # resolved to a list when the data is split
            raise ValueError("class_weights: balanced or by name is resolved from the training split before training")
        labels = target.argmax(axis=-1) if target.ndim == 2 and self.fuses == "softmax" else target
        return np.asarray(self.class_weights, dtype)[labels.astype(np.intp)]


class CategoricalCrossentropy(ClassificationLoss):
    """``-mean_n w_n sum_c y_nc log p_nc`` with ``p = softmax(z)`` fused when the model ends
    in softmax. Integer labels are one-hot encoded implicitly."""

    type: Literal["categorical_crossentropy"] = "categorical_crossentropy"
    fuses = "softmax"

    def __call__(self, out, target, from_logits=False):
        n, classes = out.shape[0], out.shape[-1]
        weights = self.sample_weights(target, out.dtype)
        if self.label_smoothing:
            target = one_hot(target, classes, out.dtype) if target.ndim == 1 else target
            target = target * (1 - self.label_smoothing) + self.label_smoothing / classes
        if from_logits:
            per_sample, grad = _softmax_cross_entropy(out, target)
        else:
            probs = np.clip(out, EPSILON, 1 - EPSILON)
            target = one_hot(target, classes, out.dtype) if target.ndim == 1 else target
            per_sample = -(target * np.log(probs)).sum(axis=-1)
            grad = -(target / probs) * ((out >= EPSILON) & (out <= 1 - EPSILON))
        if weights is not None:
            per_sample = per_sample * weights
            grad *= weights[:, None]
        grad /= n
        return mean(per_sample), grad.astype(out.dtype, copy=False)

    @classmethod
    def check_cases(cls, rng):
        logits = rng.normal(size=(5, 4))
        probs = softmax(logits)
        labels = rng.integers(0, 4, 5)
        soft = softmax(rng.normal(size=(5, 4)))
        smooth_weighted = {"label_smoothing": 0.1, "class_weights": [1.0, 2.0, 0.5, 3.0]}
        return [(logits, labels, True), (logits, soft, True), (probs, labels, False), (probs, soft, False),
                (logits, labels, True, smooth_weighted), (probs, labels, False, smooth_weighted)]


def mean(values: np.ndarray) -> float:
    """``float(values.mean())`` to the bit (the same pairwise sum, divided as NumPy
    divides it), without NumPy's Python wrapper: 10 of a 30-us loss on a small batch,
    which a run of tiny epochs pays twice per step."""
    total = np.add.reduce(values, axis=None)
    return float(total.dtype.type(total / np.intp(values.size)))


def _softmax_cross_entropy(logits, target):
    """Per-sample ``-sum_c y_c log softmax(z)_c`` and its gradient (not yet / N)."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=-1, keepdims=True)
    grad = np.exp(shifted)  # the softmax, from the same exponentials as the log-sum
    sums = grad.sum(axis=-1, keepdims=True)
    grad /= sums
    log_sum = np.log(sums[:, 0])
    if target.ndim == 1:
        rows = np.arange(n)
        grad[rows, target] -= 1
        return log_sum - shifted[rows, target], grad
    total = target.sum(axis=-1)  # rows need not sum to one (soft targets)
    return log_sum * total - (shifted * target).sum(axis=-1), grad * total[:, None] - target


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy for integer class labels (N,), the same math."""

    type: Literal["sparse_categorical_crossentropy"] = "sparse_categorical_crossentropy"

    @classmethod
    def check_cases(cls, rng):
        logits = rng.normal(size=(5, 3))
        labels = rng.integers(0, 3, 5)
        return [(logits, labels, True), (softmax(logits), labels, False),
                (logits, labels, True, {"label_smoothing": 0.2, "class_weights": [0.5, 1.0, 2.0]})]


class BinaryCrossentropy(ClassificationLoss):
    """``-mean(w (y log p + (1 - y) log(1 - p)))`` over every output, with
    ``p = sigmoid(z)`` fused when the model ends in sigmoid."""

    type: Literal["binary_crossentropy"] = "binary_crossentropy"
    fuses = "sigmoid"

    def __call__(self, out, target, from_logits=False):
        target = target.reshape(out.shape)
        weights = self.sample_weights(target, out.dtype)
        target = target.astype(out.dtype, copy=False)
        if self.label_smoothing:
            target = target * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        if from_logits:
            # log(1 + e^z) - z y, written so exp never overflows.
            e = np.exp(-np.abs(out))
            per_output = np.maximum(out, 0) - out * target + np.log1p(e)
            grad = np.where(out >= 0, 1 / (1 + e), e / (1 + e)) - target
        else:
            probs = np.clip(out, EPSILON, 1 - EPSILON)
            per_output = -(target * np.log(probs) + (1 - target) * np.log(1 - probs))
            inside = (out >= EPSILON) & (out <= 1 - EPSILON)
            grad = (probs - target) / (probs * (1 - probs)) * inside
        if weights is not None:
            per_output = per_output * weights
            grad = grad * weights
        return mean(per_output), (grad / out.size).astype(out.dtype, copy=False)

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
            (logits, labels, True, {"label_smoothing": 0.1, "class_weights": [0.3, 2.0]}),
        ]


class MeanSquaredError(Loss):
    """``mean((out - y)^2)`` over every output."""

    type: Literal["mse"] = "mse"

    def __call__(self, out, target, from_logits=False):
        diff = out - target.reshape(out.shape)
        return mean(diff * diff), (2 / out.size) * diff

    @classmethod
    def check_cases(cls, rng):
        return [(rng.normal(size=(5, 1)), rng.normal(size=5), False), (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), False)]


class MeanAbsoluteError(Loss):
    """``mean(|out - y|)`` over every output; its gradient is ``sign(out - y) / size``."""

    type: Literal["mae"] = "mae"

    def __call__(self, out, target, from_logits=False):
        diff = out - target.reshape(out.shape)
        return mean(np.abs(diff)), (np.sign(diff) / out.size).astype(out.dtype, copy=False)

    @classmethod
    def check_cases(cls, rng):
        return [(rng.normal(size=(5, 1)), rng.normal(size=5) + 3, False), (rng.normal(size=(4, 2)), rng.normal(size=(4, 2)) - 3, False)]


class Huber(Loss):
    """``mean(h(out - y))`` with ``h(d) = d^2 / 2`` for ``|d| <= delta`` and
    ``delta (|d| - delta / 2)`` beyond: squared near the target, absolute far from it."""

    type: Literal["huber"] = "huber"
    delta: float = Field(1.0, gt=0, description="Where the loss turns from squared to linear.")

    def __call__(self, out, target, from_logits=False):
        diff = out - target.reshape(out.shape)
        small = np.abs(diff) <= self.delta
        value = np.where(small, 0.5 * diff * diff, self.delta * (np.abs(diff) - 0.5 * self.delta))
        grad = np.where(small, diff, self.delta * np.sign(diff)) / out.size
        return mean(value), grad.astype(out.dtype, copy=False)

    @classmethod
    def check_cases(cls, rng):
        # Differences well inside and well outside delta, never near the kink.
        target = rng.normal(size=(6, 2))
        diff = rng.choice([-1, 1], (6, 2)) * np.where(rng.random((6, 2)) < 0.5, 0.4, 2.5)
        return [(target + diff, target, False)]


LOSSES: tuple[type[Loss], ...] = (
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    BinaryCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    Huber,
)

LossSpec = tagged_union(LOSSES)

