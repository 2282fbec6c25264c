"""Preprocessing steps, fitted on the training split only and saved as plain JSON.

Each step is a spec with ``fit(x) -> state`` (JSON-able numbers) and
``apply(x, state, out=None) -> x`` (``out``, when given, is where to write: the input
itself, when the caller owns it). Statistics are per feature position, so images keep
their (H, W, C) shape; with ``per: channel``, per channel (the last axis), over every
step of a sequence or pixel of an image, as Keras's ``Normalization`` takes them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from nnrun.specs import SPEC, tagged_union

State = dict[str, list]


class Step(BaseModel):
    model_config = SPEC

    def fit(self, x: np.ndarray) -> State:
        return {}

    def apply(self, x: np.ndarray, state: State, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError


CHUNK = 8_192  # rows per float64 pass: the statistics never hold a float64 copy of the data


def _mean_std(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and (population) standard deviation in float64, in one pass
    over row chunks, merged as Chan et al. do: as accurate as ``x.std(dtype=float64)``
    and never a float64 copy of the data, not even of a chunk. Each chunk's squares are
    taken around its mean rounded to the data's dtype, in that dtype (exact enough:
    the data carry no more digits), summed in float64, and corrected for the rounding
    (the sum of squares around a point c is the one around the mean plus n (mean - c)^2)."""
    count, mean, squares = 0, np.zeros(x.shape[1:], np.float64), np.zeros(x.shape[1:], np.float64)
    # One buffer for every chunk's deviations: a fresh array per chunk paid for its pages each time.
    scratch = np.empty((min(CHUNK, len(x)), *x.shape[1:]), x.dtype if x.dtype.kind == "f" else np.float64)
    for start in range(0, len(x), CHUNK):
        chunk = x[start : start + CHUNK]
        rows, chunk_mean = len(chunk), chunk.mean(axis=0, dtype=np.float64)
        centre = chunk_mean.astype(chunk.dtype)
        deviations = np.subtract(chunk, centre, out=scratch[:rows], dtype=scratch.dtype)
        with np.errstate(over="ignore"):
            np.square(deviations, out=deviations)
        summed = deviations.sum(axis=0, dtype=np.float64)
        if not np.isfinite(summed).all():  # squares beyond float32 (values of 1e20 and more): this chunk in float64
            summed = np.square(chunk.astype(np.float64) - centre).sum(axis=0)
        chunk_squares = summed - rows * (chunk_mean - centre) ** 2
        delta, total = chunk_mean - mean, count + rows
        mean = mean + delta * (rows / total)
        squares = squares + chunk_squares + delta**2 * (count * rows / total)
        count = total
    return mean, np.sqrt(np.maximum(squares, 0.0) / max(count, 1))


def _array(values: list, like: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=like.dtype)


class Statistics(Step):
    """A step fitted on statistics of the training split, per feature or per channel."""

    per: Literal["feature", "channel"] = Field(
        "feature", description="feature: statistics of each value's position (a column; a pixel and channel of an "
        "image; a step and feature of a sequence). channel: of each channel, the last axis, over every step or pixel "
        "(a sequence's features, an image's colours), as Keras's Normalization; the same for a table's columns.")

    def _fitted_on(self, x: np.ndarray) -> np.ndarray:
        """The rows the statistics are taken over: the samples, or with ``per: channel``
        every position of every sample (a view, no copy: the data is C-ordered)."""
        return x.reshape(-1, x.shape[-1]) if self.per == "channel" and x.ndim > 2 else x


class Standardize(Statistics):
    """``(x - mean) / std`` per feature; constant features are only centred."""

    type: Literal["standardize"] = "standardize"

    def fit(self, x):
        mean, std = _mean_std(self._fitted_on(x))
        std[std == 0] = 1.0
        return {"mean": mean.astype(x.dtype).tolist(), "std": std.astype(x.dtype).tolist()}

    def apply(self, x, state, out=None):
        out = np.subtract(x, _array(state["mean"], x), out=out)
        out /= _array(state["std"], x)  # in place: one copy of the data, not two
        return out


class MinMax(Statistics):
    """``(x - min) / (max - min)`` per feature, mapping the training range to [0, 1]."""

    type: Literal["minmax"] = "minmax"

    def fit(self, x):
        rows = self._fitted_on(x)
        low, high = rows.min(axis=0), rows.max(axis=0)
        span = (high - low).astype(np.float64)
        span[span == 0] = 1.0
        return {"min": low.tolist(), "span": span.astype(x.dtype).tolist()}

    def apply(self, x, state, out=None):
        out = np.subtract(x, _array(state["min"], x), out=out)
        out /= _array(state["span"], x)
        return out


class Scale(Step):
    """``x * factor``, e.g. 1/255 for 8-bit images."""

    type: Literal["scale"] = "scale"
    factor: float = Field(description="Multiplier applied to every value.")

    def apply(self, x, state, out=None):
        return np.multiply(x, x.dtype.type(self.factor), out=out)


STEPS: tuple[type[Step], ...] = (Standardize, MinMax, Scale)


StepSpec = tagged_union(STEPS)


def fit_pipeline(steps: list[Step], x: np.ndarray) -> list[State]:
    """Fit each step on the output of the previous ones; returns their states."""
    states = []
    for i, step in enumerate(steps):
        states.append(step.fit(x))
        if i + 1 < len(steps):  # the last step's output feeds nothing: a pass over the data saved
            x = step.apply(x, states[-1])
    return states


def apply_pipeline(steps: list[Step], states: list[State], x: np.ndarray, owned: bool = False) -> np.ndarray:
    """The steps applied in turn. ``owned``: ``x`` is the caller's to overwrite (a
    training run's own split), so the steps write into it instead of a new copy of the
    data; either way each step after the first writes into the previous one's output."""
    for step, state in zip(steps, states):
        writable = owned and x.dtype.kind == "f" and x.flags.writeable
        x = step.apply(x, state, out=x if writable else None)
        owned = True  # the step's output is ours
    return np.ascontiguousarray(x, dtype=np.float32)
