"""The step every optimizer takes: clipping, the finite check, then its own update.

``step(weights, grads, slots, lr, t)`` clips ``grads`` (in place) when asked, then
updates ``weights`` in place if every gradient is finite, and says whether it was; ``t``
is the 1-based step count. The rules follow Keras's formulations and defaults.

The finite check: no NaN or infinity in a gradient ever reaches the weights or the
slots; the step returns False instead, and the training loop stops the run. Adam with
the compiled kernels checks as it updates, block by block, in one pass over the
gradients (a separate check cost a twentieth of a small model's step); a block holding
a NaN is left as it was, and so is every block after it, so a step that returns False
may have updated the parameters before it. Nothing is kept of that state: the run
stops with an error, and its checkpoints hold the weights of an earlier epoch.

Clipping (:mod:`nnrun.model.gradients`): ``clipvalue`` clamps each gradient element to
[-c, c]; ``global_clipnorm`` rescales the whole gradient by ``c / max(||g||, c)``, the
norm taken over every parameter together (Keras's ``global_clipnorm``). Value clipping
comes first, after the finite check, since it would make an infinity finite.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from nnrun.model.gradients import all_finite, clip_by_global_norm, clip_by_value
from nnrun.specs import SPEC


class Optimizer(BaseModel):
    model_config = SPEC

    learning_rate: float = Field(0.001, gt=0, description="Step size (the start of training.schedule).")
    clipvalue: float | None = Field(None, gt=0, description="Clamp each gradient element to [-clipvalue, clipvalue].")
    global_clipnorm: float | None = Field(
        None, gt=0, description="Rescale the gradient so its norm over all parameters is at most this."
    )

    def slot_names(self) -> tuple[str, ...]:
        return ()

    def slots(self, size: int, dtype) -> dict[str, np.ndarray]:
        """Zeroed state, plus scratch space that is never saved (names start with _)."""
        state = {name: np.zeros(size, dtype) for name in self.slot_names()}
        state["_scratch"] = np.empty(size, dtype)
        return state

    def step(self, weights: np.ndarray, grads: np.ndarray, slots, lr: float, t: int) -> bool:
        """Clip, then update if every gradient is finite; False if one is not."""
        if self.clipvalue is not None:
            # Checked before clipping, which would turn an infinity into clipvalue; the
            # clipped gradients are then finite.
            if not all_finite(grads):
                return False
            self.clip(grads)
            self.update(weights, grads, slots, lr, t)
            return True
        self.clip(grads)
        return self.update_if_finite(weights, grads, slots, lr, t)

    def update_if_finite(self, weights, grads, slots, lr, t) -> bool:
        if not all_finite(grads):
            return False
        self.update(weights, grads, slots, lr, t)
        return True

    def clip(self, grads: np.ndarray) -> None:
        if self.clipvalue is not None:
            clip_by_value(grads, self.clipvalue)
        if self.global_clipnorm is not None:
            clip_by_global_norm(grads, self.global_clipnorm)

    def update(self, weights: np.ndarray, grads: np.ndarray, slots, lr: float, t: int) -> None:
        raise NotImplementedError
