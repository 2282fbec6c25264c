"""Optimizers: small in-place update rules over one flat parameter buffer.

Every parameter of a model lives in one contiguous array (the graph hands out named
views into it), so one vectorised update serves all of them. Slots (momentum, moments)
are flat arrays of the same layout, named so checkpoints can store them.

``step(weights, grads, slots, lr, t)`` updates ``weights`` in place; ``t`` is the
1-based step count.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class Optimizer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    learning_rate: float = Field(0.001, gt=0, description="Step size.")

    def slot_names(self) -> tuple[str, ...]:
        return ()

    def slots(self, size: int, dtype) -> dict[str, np.ndarray]:
        """Zeroed state, plus scratch space that is never saved (names start with _)."""
        state = {name: np.zeros(size, dtype) for name in self.slot_names()}
        state["_scratch"] = np.empty(size, dtype)
        return state

    def step(self, weights: np.ndarray, grads: np.ndarray, slots, lr: float, t: int) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (Keras form):
    ``v = momentum * v - lr * g;  w = w + v``."""

    type: Literal["sgd"] = "sgd"
    learning_rate: float = Field(0.01, gt=0, description="Step size.")
    momentum: float = Field(0.0, ge=0, lt=1, description="Momentum factor in [0, 1).")

    def slot_names(self) -> tuple[str, ...]:
        return ("velocity",) if self.momentum else ()

    def step(self, weights, grads, slots, lr, t):
        scratch = np.multiply(grads, lr, out=slots["_scratch"])
        if not self.momentum:
            weights -= scratch
            return
        velocity = slots["velocity"]
        velocity *= self.momentum
        velocity -= scratch
        weights += velocity


class Adam(Optimizer):
    """Adam (Kingma and Ba), in the Keras form with epsilon outside the square root:
    ``m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``."""

    type: Literal["adam"] = "adam"
    beta_1: float = Field(0.9, ge=0, lt=1, description="Decay of the first moment.")
    beta_2: float = Field(0.999, ge=0, lt=1, description="Decay of the second moment.")
    epsilon: float = Field(1e-7, gt=0, description="Added to the denominator for stability.")

    def slot_names(self) -> tuple[str, ...]:
        return ("m", "v")

    def step(self, weights, grads, slots, lr, t):
        m, v, scratch = slots["m"], slots["v"], slots["_scratch"]
        m *= self.beta_1
        m += np.multiply(grads, 1 - self.beta_1, out=scratch)
        v *= self.beta_2
        np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.beta_2
        v += scratch
        step_size = lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        np.sqrt(v, out=scratch)
        scratch += self.epsilon
        np.divide(m, scratch, out=scratch)
        scratch *= step_size
        weights -= scratch


OPTIMIZERS: tuple[type[Optimizer], ...] = (SGD, Adam)

OptimizerSpec = Annotated[Union[OPTIMIZERS], Field(discriminator="type")]  # type: ignore[valid-type]
