"""Generated sequence tasks, seeded: waveforms to classify, and short movie reviews.

Both are synthetic, and say so: no real data set ships with nnrun for sequences. They
are built so that order matters, which a bag of features cannot fully see:

- ``waves``: noisy periodic signals (N, steps, 1); the class is the wave's shape
  (sine, square, triangle, sawtooth) at a random frequency, phase and amplitude;
- ``reviews``: a few sentences about a film; each opinion sentence praises or pans one
  aspect, and "not" in front of the adjective flips it. The label is the sign of the
  sum of opinions, so the same words carry opposite labels in different orders.
"""

from __future__ import annotations

import numpy as np

WAVE_NAMES = ("sine", "square", "triangle", "sawtooth")


def waves(rng: np.random.Generator, samples: int, steps: int, classes: int, noise: float):
    """x (samples, steps, 1) float32, y (samples,) int64 in [0, classes), classes <= 4."""
    if not 2 <= classes <= len(WAVE_NAMES):
        raise ValueError(f"waves has 2 to {len(WAVE_NAMES)} classes (sine, square, triangle, sawtooth), not {classes}")
    y = rng.integers(0, classes, samples)
    cycles = rng.uniform(1.5, 4.0, (samples, 1))
    phase = rng.uniform(0, 1, (samples, 1))
    amplitude = rng.uniform(0.5, 1.5, (samples, 1))
    t = (np.arange(steps)[None, :] / steps) * cycles + phase  # in periods
    frac = t - np.floor(t)
    shapes = np.stack([
        np.sin(2 * np.pi * t),
        np.where(frac < 0.5, 1.0, -1.0),
        4 * np.abs(frac - 0.5) - 1,
        2 * frac - 1,
    ])
    x = shapes[y, np.arange(samples)] * amplitude + rng.normal(0, noise, (samples, steps))
    return x[:, :, None].astype(np.float32), y.astype(np.int64)


ASPECTS = ("film", "plot", "acting", "story", "soundtrack", "ending", "cast", "dialogue", "pacing", "script")
PRAISE = ("good", "great", "excellent", "lovely", "superb", "wonderful", "brilliant", "enjoyable")
BLAME = ("bad", "awful", "terrible", "boring", "dull", "poor", "dreadful", "bland")
INTENSIFIERS = ("", "", "very ", "really ", "truly ", "quite ")
FILLER = (
    "I watched it on a rainy sunday.", "My friend had recommended it to me.", "We saw it at the old cinema.",
    "It runs for about two hours.", "The popcorn was cold.", "I went with my sister.",
    "It was based on a novel.", "There were few people in the room.", "I had read about it before.",
)


def _opinion(rng: np.random.Generator) -> tuple[str, int]:
    """One opinion sentence and its sign."""
    positive, negated = rng.random() < 0.5, rng.random() < 0.3
    adjective = rng.choice(PRAISE if positive else BLAME)
    words = f"{'not ' if negated else ''}{rng.choice(INTENSIFIERS)}{adjective}"
    sentence = f"The {rng.choice(ASPECTS)} was {words}."
    return sentence, (1 if positive else -1) * (-1 if negated else 1)


def reviews(rng: np.random.Generator, samples: int) -> tuple[list[str], list[str]]:
    """Texts and labels ("positive" or "negative"); an odd number (1 or 3) of opinion
    sentences between 0 to 2 filler ones, so there are no ties."""
    texts, labels = [], []
    for _ in range(samples):
        opinions = [_opinion(rng) for _ in range(rng.choice([1, 3]))]
        sentences = [s for s, _ in opinions] + list(rng.choice(FILLER, rng.integers(0, 3), replace=False))
        order = rng.permutation(len(sentences))
        texts.append(" ".join(sentences[i] for i in order))
        labels.append("positive" if sum(sign for _, sign in opinions) > 0 else "negative")
    return texts, labels
