"""Weight initializers, with Keras's formulas and fan conventions.

For a kernel of shape (..., fan_in_channels, fan_out_channels) the receptive field is
the product of the leading axes: fan_in = in * receptive, fan_out = out * receptive.

In a config an initializer is a name (``he_normal``) or, for a constant,
``{type: constant, value: 0.1}``.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Union

import numpy as np
from pydantic import BaseModel, Field

from nnrun.specs import SPEC

Shape = tuple[int, ...]

# Keras divides the normal stddev by this so that a normal truncated at two standard
# deviations keeps the intended variance.
_TRUNCATION_STDDEV = 0.87962566103423978


def fans(shape: Shape) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(rng: np.random.Generator, shape: Shape, stddev: float) -> np.ndarray:
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():  # redraw the few values beyond two standard deviations
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return values * stddev


def _uniform(scale_fan: Callable[[int, int], float]):
    def init(shape: Shape, rng: np.random.Generator) -> np.ndarray:
        limit = np.sqrt(3.0 * scale_fan(*fans(shape)))
        return rng.uniform(-limit, limit, shape)

    return init


def _normal(scale_fan: Callable[[int, int], float]):
    def init(shape: Shape, rng: np.random.Generator) -> np.ndarray:
        stddev = np.sqrt(scale_fan(*fans(shape))) / _TRUNCATION_STDDEV
        return _truncated_normal(rng, shape, stddev)

    return init


def _glorot(fan_in: int, fan_out: int) -> float:
    return 2.0 / (fan_in + fan_out)


def _he(fan_in: int, fan_out: int) -> float:
    return 2.0 / fan_in


def _lecun(fan_in: int, fan_out: int) -> float:
    return 1.0 / fan_in


def _orthogonal(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Keras's Orthogonal (gain 1), the default recurrent kernel: the matrix flattened to
    (prod(shape[:-1]), shape[-1]) has orthonormal rows or columns, whichever are fewer,
    from the QR decomposition of a normal matrix with the signs of R's diagonal."""
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    q *= np.sign(np.diag(r))
    return (q if rows >= cols else q.T).reshape(shape)


INITIALIZERS: dict[str, Callable[[Shape, np.random.Generator], np.ndarray]] = {
    "glorot_uniform": _uniform(_glorot),
    "glorot_normal": _normal(_glorot),
    "he_uniform": _uniform(_he),
    "he_normal": _normal(_he),
    "lecun_uniform": _uniform(_lecun),
    "lecun_normal": _normal(_lecun),
    # Keras's RandomUniform default, the default of embedding tables.
    "uniform": lambda shape, rng: rng.uniform(-0.05, 0.05, shape),
    "orthogonal": _orthogonal,
    "zeros": lambda shape, rng: np.zeros(shape),
    "ones": lambda shape, rng: np.ones(shape),
}


class Constant(BaseModel):
    """Every element set to ``value``."""

    model_config = SPEC

    type: Literal["constant"] = "constant"
    value: float = Field(0.0, description="The value of every element.")


InitializerName = Literal[tuple(INITIALIZERS)]  # type: ignore[valid-type]
InitializerSpec = Union[InitializerName, Constant]  # type: ignore[valid-type]


def initialize(spec: str | Constant, shape: Shape, rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """Draw a parameter of ``shape`` in float64, then cast, so float32 and float64
    models built from one seed start from the same values."""
    if isinstance(spec, Constant):
        return np.full(shape, spec.value, dtype=dtype)
    return INITIALIZERS[spec](shape, rng).astype(dtype)
