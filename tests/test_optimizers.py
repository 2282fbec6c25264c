"""Each optimizer against a step computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnrun.optimizers import SGD, Adam


def _run(optimizer, grads_per_step, w0):
    w = np.array(w0, dtype=np.float64)
    slots = optimizer.slots(w.size, w.dtype)
    for t, g in enumerate(grads_per_step, start=1):
        optimizer.step(w, np.array(g, dtype=np.float64), slots, optimizer.learning_rate, t)
    return w


def test_sgd_plain_step():
    assert _run(SGD(learning_rate=0.1), [[1.0, -2.0]], [0.5, 0.5]) == pytest.approx([0.4, 0.7])


def test_sgd_momentum_two_steps():
    # v1 = -0.1*1 = -0.1, w1 = 0.9;  v2 = 0.9*-0.1 - 0.1*1 = -0.19, w2 = 0.71
    assert _run(SGD(learning_rate=0.1, momentum=0.9), [[1.0], [1.0]], [1.0]) == pytest.approx([0.71])


def test_adam_two_steps_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    g1, g2, w = 0.5, -0.25, 1.0
    m, v = 0.0, 0.0
    for t, g in ((1, g1), (2, g2)):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * math.sqrt(1 - b2**t) / (1 - b1**t) * m / (math.sqrt(v) + eps)
    got = _run(Adam(learning_rate=lr), [[g1], [g2]], [1.0])
    assert got == pytest.approx([w], rel=1e-12)
    # The first Adam step moves every weight by about the learning rate, whatever |g|.
    assert _run(Adam(learning_rate=lr), [[123.0, -0.001]], [0.0, 0.0]) == pytest.approx([-lr, lr], rel=1e-2)


def test_float32_update_stays_float32():
    w = np.ones(3, np.float32)
    opt = Adam()
    slots = opt.slots(3, np.float32)
    opt.step(w, np.ones(3, np.float32), slots, opt.learning_rate, 1)
    assert w.dtype == np.float32 and all(s.dtype == np.float32 for s in slots.values())
