"""Every registered layer and loss is gradient-checked in float64, through the registry:
registering a layer (with its check_cases) is what puts it under this test."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import assert_close, numeric_grad
from nnrun.graph import compile_graph
from nnrun.layers import LAYERS, LayerSpec
from nnrun.losses import LOSSES
from pydantic import TypeAdapter

LAYER_CASES = [
    pytest.param(cls, spec, shape, id=f"{cls.model_fields['type'].default}-{i}")
    for cls in LAYERS
    for i, (spec, shape) in enumerate(cls.check_cases)
]


def test_every_layer_declares_check_cases():
    assert all(cls.check_cases for cls in LAYERS), [c.__name__ for c in LAYERS if not c.check_cases]


def _inputs(rng, shapes, batch=3):
    # Keep values away from 0 so kinks (relu) are never within EPS of a sample.
    def one(shape):
        u = rng.uniform(0.1, 1.0, (batch, *shape))
        return u * rng.choice([-1.0, 1.0], u.shape)

    return [one(s) for s in shapes] if isinstance(shapes, list) else one(shapes)


@pytest.mark.parametrize("cls, spec, shape", LAYER_CASES)
def test_layer_gradients(cls, spec, shape):
    layer = cls(type=cls.model_fields["type"].default, **spec)
    rng = np.random.default_rng(0)
    params = {k: v + rng.normal(0, 0.1, v.shape) for k, v in layer.init(shape, rng, np.float64).items()}
    x = _inputs(rng, shape)
    out, _ = layer.forward(params, x, True, np.random.default_rng(1))
    weights = rng.normal(size=out.shape)  # L = sum(y * weights), a random direction

    def loss():
        y, _ = layer.forward(params, x, True, np.random.default_rng(1))  # same dropout mask
        return float(np.sum(y * weights))

    y, cache = layer.forward(params, x, True, np.random.default_rng(1))
    dx, grads = layer.backward(params, cache, weights)
    for xi, dxi in zip(x if layer.merges else [x], dx if layer.merges else [dx]):
        assert dxi.shape == xi.shape
        assert_close(dxi, numeric_grad(loss, xi), f"{layer.type} d/dx")
    assert set(grads) == set(params)
    for name, value in params.items():
        assert grads[name].shape == value.shape
        assert_close(grads[name], numeric_grad(loss, value), f"{layer.type} d/d{name}")


LOSS_CASES = [
    pytest.param(cls, i, id=f"{cls.model_fields['type'].default}-{i}")
    for cls in LOSSES
    for i in range(len(cls.check_cases(np.random.default_rng(0))))
]


@pytest.mark.parametrize("cls, index", LOSS_CASES)
def test_loss_gradients(cls, index):
    out, target, from_logits = cls.check_cases(np.random.default_rng(0))[index]
    loss = cls()
    value, grad = loss(out, target, from_logits)
    assert np.isfinite(value)
    assert grad.shape == out.shape
    assert_close(grad, numeric_grad(lambda: loss(out, target, from_logits)[0], out), f"{loss.type}")


def test_fused_softmax_matches_unfused_loss():
    rng = np.random.default_rng(3)
    from nnrun.activations import softmax
    from nnrun.losses import CategoricalCrossentropy

    logits, labels = rng.normal(size=(4, 3)), rng.integers(0, 3, 4)
    fused, _ = CategoricalCrossentropy()(logits, labels, True)
    plain, _ = CategoricalCrossentropy()(softmax(logits), labels, False)
    assert fused == pytest.approx(plain, rel=1e-9)


def test_fused_cross_entropy_is_stable_for_extreme_logits():
    from nnrun.losses import BinaryCrossentropy, CategoricalCrossentropy

    logits = np.array([[1000.0, -1000.0, 0.0]])
    value, grad = CategoricalCrossentropy()(logits, np.array([1]), True)
    assert value == pytest.approx(2000.0) and np.all(np.isfinite(grad))
    value, grad = BinaryCrossentropy()(np.array([[-800.0]]), np.array([1]), True)
    assert value == pytest.approx(800.0) and np.all(np.isfinite(grad))


def _graph_case(layers, loss, input_shape=(4,)):
    specs = TypeAdapter(list[LayerSpec]).validate_python(layers)
    return compile_graph(specs, input_shape, loss, rng=np.random.default_rng(0), dtype=np.float64)


@pytest.mark.parametrize(
    "layers, loss_cls",
    [
        ([{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dropout", "rate": 0.3},
          {"type": "dense", "units": 3, "activation": "softmax"}], LOSSES[0]),
        ([{"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 1, "activation": "sigmoid"}],
         LOSSES[1]),
        ([{"type": "dense", "units": 4, "activation": "sigmoid"}, {"type": "dense", "units": 1}], LOSSES[2]),
    ],
    ids=["softmax-cce-fused", "sigmoid-bce-fused", "mse"],
)
def test_whole_graph_gradient(layers, loss_cls):
    """Forward, fused loss and backward together, against the total loss."""
    loss = loss_cls()
    graph = _graph_case(layers, loss)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4))
    width = graph.output_shape[0]
    y = rng.integers(0, max(width, 2), 6) if loss.task == "classification" else rng.normal(size=6)
    fused = graph.output_activation is not None
    assert fused == (loss.fuses is not None)

    def total():
        out, _ = graph.forward(x, True, np.random.default_rng(2))
        return loss(out, y, fused)[0]

    out, tape = graph.forward(x, True, np.random.default_rng(2))
    graph.backward(tape, loss(out, y, fused)[1])
    assert_close(graph.grad_buffer.copy(), numeric_grad(total, graph.weight_buffer), "graph")
