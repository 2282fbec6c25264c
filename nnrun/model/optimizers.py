"""Optimizers: small in-place update rules over one flat parameter buffer.

Every trainable parameter of a model lives in one contiguous array (the graph hands
out named views into it), so one vectorised update serves all of them. Slots
(momentum, moments) are flat arrays of the same layout, named so checkpoints can
store them; scalar state (Nadam's running product) is a one-element slot.

The rules follow Keras's formulations and defaults; the step every one of them takes
(clipping, the finite check) is :class:`~nnrun.model.optimizer_base.Optimizer`'s.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.kernels import compiled
from nnrun.model.optimizer_base import Optimizer
from nnrun.specs import short_form, tagged_union


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (Keras form):
    ``v = momentum * v - lr * g;  w = w + v``, and with ``nesterov``
    ``w = w + momentum * v - lr * g`` (the look-ahead step)."""

    type: Literal["sgd"] = "sgd"
    learning_rate: float = Field(0.01, gt=0, description="Step size (the start of training.schedule).")
    momentum: float = Field(0.0, ge=0, lt=1, description="Momentum factor in [0, 1).")
    nesterov: bool = Field(False, description="Nesterov momentum.")

    def slot_names(self) -> tuple[str, ...]:
        return ("velocity",) if self.momentum else ()

    def update(self, weights, grads, slots, lr, t):
        scratch = np.multiply(grads, lr, out=slots["_scratch"])  # lr * g
        if not self.momentum:
            weights -= scratch
            return
        velocity = slots["velocity"]
        velocity *= self.momentum
        velocity -= scratch
        if self.nesterov:
            weights -= scratch
            weights += np.multiply(velocity, self.momentum, out=scratch)
        else:
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

    def _moments(self, grads, slots):
        m, v, scratch = slots["m"], slots["v"], slots["_scratch"]
        m *= self.beta_1
        m += np.multiply(grads, 1 - self.beta_1, out=scratch)
        v *= self.beta_2
        np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.beta_2
        v += scratch
        return m, v, scratch

    def update_if_finite(self, weights, grads, slots, lr, t):
        # A subclass with an update of its own (AdamW, Nadam) checks first, then updates.
        updated = self._compiled_update(weights, grads, slots, lr, t) if type(self).update is Adam.update else None
        if updated is None:
            return super().update_if_finite(weights, grads, slots, lr, t)
        return updated == weights.size

    def _step_size(self, lr: float, t: int) -> float:
        return lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)

    def _compiled_update(self, weights, grads, slots, lr, t) -> int | None:
        """The compiled kernel's checked update (see :mod:`nnrun.model.kernel_code`): the
        count of parameters it updated, or None when the NumPy code should run."""
        kernel = compiled("adam")  # None unless the kernels were loaded: the cheap test first
        if kernel is None or not _flat_float32(weights, grads, slots["m"], slots["v"]):
            return None
        # One compiled pass, the same float32 arithmetic as update's NumPy code.
        f32 = np.float32
        return kernel(weights, grads, slots["m"], slots["v"], f32(self.beta_1), f32(1 - self.beta_1),
                      f32(self.beta_2), f32(1 - self.beta_2), f32(self.epsilon), f32(self._step_size(lr, t)))

    def update(self, weights, grads, slots, lr, t):
        """The update of gradients the caller has checked (see :meth:`update_if_finite`)."""
        if self._compiled_update(weights, grads, slots, lr, t) is not None:
            return
        step_size = self._step_size(lr, t)
        m, v, scratch = self._moments(grads, slots)
        np.sqrt(v, out=scratch)
        scratch += self.epsilon
        np.divide(m, scratch, out=scratch)
        scratch *= step_size
        weights -= scratch


def _flat_float32(*arrays: np.ndarray) -> bool:
    """What the compiled kernels take: contiguous float32 vectors (the graph's buffers)."""
    return all(a.dtype == np.float32 and a.ndim == 1 and a.flags.c_contiguous for a in arrays)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as Keras applies it:
    first ``w -= lr * weight_decay * w``, then the Adam step. Unlike an l2 penalty
    the decay does not pass through the moments."""

    type: Literal["adamw"] = "adamw"
    weight_decay: float = Field(0.004, ge=0, description="Decay rate, multiplied by the learning rate.")

    def update(self, weights, grads, slots, lr, t):
        if self.weight_decay:
            weights *= 1 - lr * self.weight_decay
        super().update(weights, grads, slots, lr, t)


class RMSprop(Optimizer):
    """RMSprop, Keras form: ``v = rho v + (1 - rho) g^2``; ``centered`` also tracks
    ``a = rho a + (1 - rho) g`` and uses ``v - a^2``; the step is
    ``lr g / sqrt(denominator + eps)``, added to a velocity when ``momentum`` > 0."""

    type: Literal["rmsprop"] = "rmsprop"
    rho: float = Field(0.9, ge=0, lt=1, description="Decay of the squared-gradient average.")
    momentum: float = Field(0.0, ge=0, lt=1, description="Momentum factor in [0, 1).")
    epsilon: float = Field(1e-7, gt=0, description="Added under the square root for stability.")
    centered: bool = Field(False, description="Divide by the estimated variance instead of the second moment.")

    def slot_names(self) -> tuple[str, ...]:
        return ("v",) + (("average_gradient",) if self.centered else ()) + (("velocity",) if self.momentum else ())

    def update(self, weights, grads, slots, lr, t):
        v, scratch = slots["v"], slots["_scratch"]
        v *= self.rho
        np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.rho
        v += scratch
        np.copyto(scratch, v)
        if self.centered:
            average = slots["average_gradient"]
            average *= self.rho
            average += (1 - self.rho) * grads
            scratch -= average * average
        scratch += self.epsilon
        np.sqrt(scratch, out=scratch)
        np.divide(grads, scratch, out=scratch)
        scratch *= lr  # the increment lr g / sqrt(.)
        if self.momentum:
            velocity = slots["velocity"]
            velocity *= self.momentum
            velocity += scratch
            scratch = velocity
        weights -= scratch


class Adagrad(Optimizer):
    """Adagrad, Keras form: ``a += g^2;  w -= lr g / sqrt(a + eps)``, the accumulator
    starting at ``initial_accumulator_value``."""

    type: Literal["adagrad"] = "adagrad"
    initial_accumulator_value: float = Field(0.1, ge=0, description="Starting value of the accumulator.")
    epsilon: float = Field(1e-7, gt=0, description="Added under the square root for stability.")

    def slots(self, size, dtype):
        state = super().slots(size, dtype)
        state["accumulator"] = np.full(size, self.initial_accumulator_value, dtype)
        return state

    def update(self, weights, grads, slots, lr, t):
        accumulator, scratch = slots["accumulator"], slots["_scratch"]
        accumulator += np.multiply(grads, grads, out=scratch)
        np.add(accumulator, self.epsilon, out=scratch)
        np.sqrt(scratch, out=scratch)
        np.divide(grads, scratch, out=scratch)
        scratch *= lr
        weights -= scratch


class Nadam(Adam):
    """Adam with Nesterov momentum (Dozat), Keras form. With
    ``u_t = b1 (1 - 0.5 * 0.96^t)`` and ``P_t = u_1 ... u_t`` (kept as a slot):
    ``m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t)``,
    ``v_hat = v / (1 - b2^t)``, ``w -= lr m_hat / (sqrt(v_hat) + eps)``."""

    type: Literal["nadam"] = "nadam"

    def slots(self, size, dtype):
        state = super().slots(size, dtype)
        state["u_product"] = np.ones(1, np.float64)
        return state

    def update(self, weights, grads, slots, lr, t):
        u_t = self.beta_1 * (1 - 0.5 * 0.96**t)
        u_next = self.beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
        slots["u_product"] *= u_t
        product = float(slots["u_product"][0])
        m, v, scratch = self._moments(grads, slots)
        m_hat = (u_next / (1 - product * u_next)) * m + ((1 - u_t) / (1 - product)) * grads
        np.divide(v, 1 - self.beta_2**t, out=scratch)
        np.sqrt(scratch, out=scratch)
        scratch += self.epsilon
        m_hat /= scratch
        m_hat *= lr
        weights -= m_hat


class Adamax(Adam):
    """Adamax (Kingma and Ba), Adam with the infinity norm, Keras form:
    ``m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);  w -= lr / (1 - b1^t) * m / (u + eps)``
    (PyTorch's adds eps inside the max, to |g|, and starts at lr 0.002)."""

    type: Literal["adamax"] = "adamax"

    def slot_names(self) -> tuple[str, ...]:
        return ("m", "u")

    def update(self, weights, grads, slots, lr, t):
        m, u, scratch = slots["m"], slots["u"], slots["_scratch"]
        m *= self.beta_1
        m += np.multiply(grads, 1 - self.beta_1, out=scratch)
        u *= self.beta_2
        np.maximum(u, np.abs(grads, out=scratch), out=u)
        np.add(u, self.epsilon, out=scratch)
        np.divide(m, scratch, out=scratch)
        scratch *= lr / (1 - self.beta_1**t)
        weights -= scratch


OPTIMIZERS: tuple[type[Optimizer], ...] = (SGD, Adam, AdamW, RMSprop, Adagrad, Nadam, Adamax)

def _default_optimizer(value):
    """A bare name is ``{type: name}``; options without a type (``optimizer:
    {learning_rate: 0.01}``) tune the default optimizer, Adam."""
    value = short_form(value)
    return {"type": "adam", **value} if isinstance(value, dict) and "type" not in value else value


OptimizerSpec = tagged_union(OPTIMIZERS, parse=_default_optimizer)
