"""Learning-rate schedules: the rate of each epoch (``training.schedule``).

A schedule is set once per epoch, before its first batch, and the rate is written to
``metrics.csv`` as ``lr``. Epochs count from 1; ``base`` is
``optimizer.learning_rate`` and ``E`` is ``training.epochs``.

    constant            base
    step                base * factor ^ floor((epoch - 1) / every)
    exponential         base * decay_rate ^ ((epoch - 1) / decay_epochs)   (floored with staircase)
    cosine              warmup: base * epoch / warmup_epochs, then
                        base * (alpha + (1 - alpha) * (1 + cos(pi * p)) / 2),
                        p = (epoch - warmup_epochs - 1) / (E - warmup_epochs)
    reduce_on_plateau   multiplies the rate by ``factor`` when ``monitor`` has not
                        improved by ``min_delta`` for ``patience`` epochs (Keras's
                        ReduceLROnPlateau)

Schedule state lives in a plain dict of JSON values (``start`` makes it, ``observe``
updates it after each epoch), so a checkpoint can store it as it is.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from nnrun.model.monitor import Monitor
from nnrun.specs import SPEC, tagged_union


class Schedule(BaseModel):
    model_config = SPEC

    def start(self, base: float) -> dict:
        return {"base": base}

    def rate(self, state: dict, epoch: int, epochs: int) -> float:
        raise NotImplementedError

    def observe(self, state: dict, row: dict) -> None:
        """Called with each finished epoch's metrics row."""


class Constant(Schedule):
    """The optimizer's learning_rate in every epoch."""

    type: Literal["constant"] = "constant"

    def rate(self, state, epoch, epochs):
        return state["base"]


class Step(Schedule):
    """The rate times factor every `every` epochs: base * factor ^ floor((epoch - 1) / every)."""

    type: Literal["step"] = "step"
    every: int = Field(ge=1, description="Epochs between reductions.")
    factor: float = Field(0.5, gt=0, le=1, description="Multiplier applied at each reduction.")

    def rate(self, state, epoch, epochs):
        return state["base"] * self.factor ** ((epoch - 1) // self.every)


class Exponential(Schedule):
    """base * decay_rate ^ ((epoch - 1) / decay_epochs), in whole steps with staircase."""

    type: Literal["exponential"] = "exponential"
    decay_rate: float = Field(gt=0, le=1, description="Multiplier per decay_epochs epochs.")
    decay_epochs: float = Field(1.0, gt=0, description="Epochs over which the rate is multiplied by decay_rate.")
    staircase: bool = Field(False, description="Decay in whole steps of decay_epochs.")

    def rate(self, state, epoch, epochs):
        exponent = (epoch - 1) / self.decay_epochs
        return state["base"] * self.decay_rate ** (math.floor(exponent) if self.staircase else exponent)


class Cosine(Schedule):
    """A linear warmup, then a cosine from the base rate down towards alpha times it,
    reached one epoch after the last (as Keras's CosineDecay over the run's epochs)."""

    type: Literal["cosine"] = "cosine"
    warmup_epochs: int = Field(0, ge=0, description="Epochs of linear warmup from base / warmup_epochs to base.")
    alpha: float = Field(0.0, ge=0, le=1, description="The rate the decay tends to, as a fraction of the base rate.")

    def rate(self, state, epoch, epochs):
        base = state["base"]
        if epoch <= self.warmup_epochs:
            return base * epoch / self.warmup_epochs
        progress = (epoch - self.warmup_epochs - 1) / max(epochs - self.warmup_epochs, 1)
        return base * (self.alpha + (1 - self.alpha) * 0.5 * (1 + math.cos(math.pi * progress)))


class ReduceOnPlateau(Schedule):
    """The rate times factor when the monitored value has not improved for patience epochs
    (Keras's ReduceLROnPlateau)."""

    type: Literal["reduce_on_plateau"] = "reduce_on_plateau"
    monitor: str = Field("val_loss", description="Quantity watched: 'loss', a metric, or either with 'val_'.")
    factor: float = Field(0.1, gt=0, lt=1, description="Multiplier applied on a plateau.")
    patience: int = Field(10, ge=0, description="Epochs without improvement before reducing.")
    min_delta: float = Field(1e-4, ge=0, description="Smallest change that counts as an improvement.")
    cooldown: int = Field(0, ge=0, description="Epochs to wait after a reduction before counting again.")
    min_lr: float = Field(0.0, ge=0, description="The rate never goes below this.")

    def start(self, base):
        return {"base": base, "lr": base, "best": None, "wait": 0, "cooldown": 0}

    def rate(self, state, epoch, epochs):
        return state["lr"]

    def observe(self, state, row):
        monitor = Monitor(self.monitor, self.min_delta)
        if state["cooldown"] > 0:
            state["cooldown"] -= 1
            state["wait"] = 0
        if monitor.improves(row, state["best"]):
            state["best"], state["wait"] = monitor.score(row), 0
        elif state["cooldown"] == 0:
            state["wait"] += 1
            if state["wait"] >= self.patience and state["lr"] > self.min_lr:
                state["lr"] = max(state["lr"] * self.factor, self.min_lr)
                state["cooldown"], state["wait"] = self.cooldown, 0


SCHEDULES = (Constant, Step, Exponential, Cosine, ReduceOnPlateau)

ScheduleSpec = tagged_union(SCHEDULES)
