"""Random streams: one independent generator per purpose, all derived from the config's seed.

Adding dropout therefore leaves the split and the initial weights unchanged, and
``evaluate`` rebuilds exactly the split that training used.
"""

from __future__ import annotations

import numpy as np

STREAMS = {"split": 1, "init": 2, "shuffle": 3, "dropout": 4}


def stream(seed: int, purpose: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, STREAMS[purpose]]))
