"""Each optimizer against a step computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnrun.model.optimizers import SGD, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop


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


def test_sgd_nesterov_two_steps():
    # v1 = -0.1, w1 = 1 + 0.9*-0.1 - 0.1 = 0.81;  v2 = 0.9*-0.1 - 0.1 = -0.19, w2 = 0.81 + 0.9*-0.19 - 0.1 = 0.539
    opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    assert _run(opt, [[1.0], [1.0]], [1.0]) == pytest.approx([0.539])


def test_adamw_decays_before_the_adam_step():
    lr, wd = 0.01, 0.1
    w = 2.0 * (1 - lr * wd)  # decoupled decay first
    m, v = 0.1 * 0.5, 0.001 * 0.25
    w -= lr * math.sqrt(1 - 0.999) / (1 - 0.9) * m / (math.sqrt(v) + 1e-7)
    assert _run(AdamW(learning_rate=lr, weight_decay=wd), [[0.5]], [2.0]) == pytest.approx([w], rel=1e-12)
    # With a zero gradient only the decay acts: w * (1 - lr wd) per step.
    assert _run(AdamW(learning_rate=lr, weight_decay=wd), [[0.0], [0.0]], [2.0]) == pytest.approx([2.0 * 0.999**2])


@pytest.mark.parametrize("centered, momentum", [(False, 0.0), (True, 0.0), (False, 0.5)])
def test_rmsprop_two_steps_by_hand(centered, momentum):
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, v, a, velocity = 1.0, 0.0, 0.0, 0.0
    for g in (0.5, -1.5):
        v = rho * v + (1 - rho) * g * g
        a = rho * a + (1 - rho) * g
        increment = lr * g / math.sqrt((v - a * a if centered else v) + eps)
        velocity = momentum * velocity + increment
        w -= velocity if momentum else increment
    opt = RMSprop(learning_rate=lr, centered=centered, momentum=momentum)
    assert _run(opt, [[0.5], [-1.5]], [1.0]) == pytest.approx([w], rel=1e-12)


def test_adagrad_two_steps_by_hand():
    lr, w, acc = 0.1, 1.0, 0.1
    for g in (0.5, 2.0):
        acc += g * g
        w -= lr * g / math.sqrt(acc + 1e-7)
    assert _run(Adagrad(learning_rate=lr), [[0.5], [2.0]], [1.0]) == pytest.approx([w], rel=1e-12)


def test_nadam_two_steps_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, m, v, product = 1.0, 0.0, 0.0, 1.0
    for t, g in ((1, 0.5), (2, -0.25)):
        u_t, u_next = b1 * (1 - 0.5 * 0.96**t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
        product *= u_t
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) * g / (1 - product)
        w -= lr * m_hat / (math.sqrt(v / (1 - b2**t)) + eps)
    assert _run(Nadam(learning_rate=lr), [[0.5], [-0.25]], [1.0]) == pytest.approx([w], rel=1e-12)


def test_adamax_two_steps_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, m, u = 1.0, 0.0, 0.0
    for t, g in ((1, 0.5), (2, -0.25)):
        m = b1 * m + (1 - b1) * g
        u = max(b2 * u, abs(g))  # the infinity norm: the second step keeps 0.5 * 0.999
        w -= lr / (1 - b1**t) * m / (u + eps)
    assert _run(Adamax(learning_rate=lr), [[0.5], [-0.25]], [1.0]) == pytest.approx([w], rel=1e-12)


def test_adamax_matches_pytorch():
    """PyTorch adds eps inside the max: with an eps too small to matter the two agree."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0, grads = rng.normal(size=5), rng.normal(size=(4, 5))
    ours = _run(Adamax(learning_rate=0.002, epsilon=1e-30), grads.tolist(), w0.tolist())
    weight = torch.tensor(w0, requires_grad=True)
    optimizer = torch.optim.Adamax([weight], lr=0.002, eps=1e-30)
    for g in grads:
        weight.grad = torch.tensor(g)
        optimizer.step()
    np.testing.assert_allclose(ours, weight.detach().numpy(), rtol=1e-12)


def test_clip_by_value_then_global_norm():
    # Value clipping: [3, -4] -> [1, -1]; SGD lr 1 moves by exactly that.
    assert _run(SGD(learning_rate=1.0, clipvalue=1.0), [[3.0, -4.0]], [0.0, 0.0]) == pytest.approx([-1.0, 1.0])
    # Norm 5 rescaled to 1: [0.6, -0.8].
    assert _run(SGD(learning_rate=1.0, global_clipnorm=1.0), [[3.0, -4.0]], [0.0, 0.0]) == pytest.approx([-0.6, 0.8])
    # A gradient already inside the norm is left alone.
    assert _run(SGD(learning_rate=1.0, global_clipnorm=10.0), [[3.0, -4.0]], [0.0, 0.0]) == pytest.approx([-3.0, 4.0])


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop, Adagrad, Nadam, Adamax])
def test_every_optimizer_descends_a_quadratic(cls):
    """Minimise sum((w - 3)^2) from 0: a sanity check that signs are right."""
    opt = cls(learning_rate=0.1)
    w = np.zeros(2)
    slots = opt.slots(2, w.dtype)
    for t in range(1, 301):
        opt.step(w, 2 * (w - 3.0), slots, opt.learning_rate, t)
    assert np.abs(w - 3.0).max() < 1.0  # from 3.0 away


@pytest.mark.parametrize("optimizer", [SGD(momentum=0.9), Adam(), AdamW(), RMSprop(centered=True, momentum=0.5),
                                       Adagrad(), Nadam(), Adamax(), Adam(global_clipnorm=1.0), Adam(clipvalue=1.0),
                                       SGD(clipvalue=0.5)], ids=repr)
def test_a_non_finite_gradient_changes_nothing_and_the_step_says_so(optimizer):
    w = np.array([0.5, -1.0, 2.0], np.float32)
    slots = optimizer.slots(w.size, w.dtype)
    assert optimizer.step(w, np.array([0.1, 0.2, 0.3], np.float32), slots, optimizer.learning_rate, 1) is True
    kept = w.copy(), {name: value.copy() for name, value in slots.items() if not name.startswith("_")}
    for bad in (np.nan, np.inf):
        grads = np.array([0.1, bad, 0.3], np.float32)
        with np.errstate(invalid="ignore"):  # as in training: the norm clip makes inf * 0
            assert optimizer.step(w, grads, slots, optimizer.learning_rate, 2) is False
        assert np.array_equal(w, kept[0])
        for name, value in kept[1].items():
            assert np.array_equal(slots[name], value), name


def test_global_clipnorm_clips_a_norm_past_float32s_range():
    # Their float32 sum of squares overflows; each value is finite, and so is the norm.
    grads = np.array([3e19, 4e19], np.float32)
    Adam(global_clipnorm=1.0).clip(grads)
    assert grads == pytest.approx([0.6, 0.8], rel=1e-6)
