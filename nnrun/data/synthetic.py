"""Generators of synthetic data, all float32 and driven by one seeded generator.

Each returns ``(x, y)``: x (samples, features) float32; y int64 class labels, or
float32 values for regression. Patterns that live in the plane (moons, spirals) put
their two coordinates in the first two features; further features are pure noise,
which makes a harder, wider problem out of the same picture.
"""

from __future__ import annotations

import numpy as np

_BLOCK_ROWS = 4096


def clusters(rng: np.random.Generator, samples: int, features: int, classes: int, noise: float):
    """Gaussian blobs of standard deviation ``noise`` around random class centres
    drawn with standard deviation 1.41 in every feature, so they lie further apart the more features
    there are (about 2.8 apart with 2 features, 10 with 20, 59 with 784). Fast enough for a
    60,000 x 784 set in about two seconds: one normal draw, then the centres added in
    row blocks, so no second array of the data's size is ever built."""
    x = rng.standard_normal((samples, features), dtype=np.float32)
    x *= np.float32(noise)
    centres = rng.standard_normal((classes, features), dtype=np.float32)
    centres *= np.float32(2.0 / np.sqrt(2.0))
    y = rng.integers(0, classes, samples)
    for start in range(0, samples, _BLOCK_ROWS):
        x[start : start + _BLOCK_ROWS] += centres[y[start : start + _BLOCK_ROWS]]
    return x, y.astype(np.int64)


def linear(rng: np.random.Generator, samples: int, features: int, noise: float):
    """``y = x . w + noise * e`` with standard normal x, e and ``|w| ~ 1``."""
    x = rng.standard_normal((samples, features), dtype=np.float32)
    w = rng.standard_normal(features).astype(np.float32) / np.float32(np.sqrt(features))
    y = x @ w + np.float32(noise) * rng.standard_normal(samples, dtype=np.float32)
    return x, y.astype(np.float32)


def moons(rng: np.random.Generator, samples: int, features: int, noise: float):
    """Two interleaved half circles of radius 1 (class 0 on top, class 1 shifted
    by (1, -0.5) below), plus Gaussian noise of standard deviation ``noise``."""
    y = rng.integers(0, 2, samples)
    angle = rng.uniform(0.0, np.pi, samples)
    plane = np.where(
        y[:, None] == 0,
        np.stack([np.cos(angle), np.sin(angle)], axis=1),
        np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1),
    )
    return _with_noise_features(rng, plane, features, noise), y.astype(np.int64)


def spirals(rng: np.random.Generator, samples: int, features: int, classes: int, noise: float):
    """``classes`` arms of an Archimedean spiral, r = t in (0.1, 1], each arm turned
    by 2 pi / classes and wound 1.5 times, plus Gaussian noise."""
    y = rng.integers(0, classes, samples)
    t = rng.uniform(0.1, 1.0, samples)
    angle = 3.0 * np.pi * t + 2.0 * np.pi * y / classes
    plane = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    return _with_noise_features(rng, plane, features, noise), y.astype(np.int64)


def _with_noise_features(rng: np.random.Generator, plane: np.ndarray, features: int, noise: float) -> np.ndarray:
    x = np.zeros((plane.shape[0], features), np.float32)
    x[:, :2] = plane
    x += np.float32(noise) * rng.standard_normal(x.shape, dtype=np.float32)
    return x
