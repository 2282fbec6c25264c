"""Every registered layer and loss is gradient-checked in float64, through the registry:
registering a layer (with its check_cases) is what puts it under this test."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_close, numeric_grad
from pydantic import TypeAdapter

from nnrun.model.graph import compile_graph
from nnrun.model.layers import LAYERS, LayerSpec
from nnrun.model.losses import LOSSES, LossSpec

LAYER_CASES = [
    pytest.param(cls, spec, shape, id=f"{cls.model_fields['type'].default}-{i}")
    for cls in LAYERS
    for i, (spec, shape) in enumerate(cls.check_cases)
]
# Layers that read masks are checked once more with padded steps in every sequence input.
MASKED_CASES = [
    pytest.param(cls, spec, shape, id=f"{cls.model_fields['type'].default}-{i}-masked")
    for cls in LAYERS if cls.takes_mask
    for i, (spec, shape) in enumerate(cls.check_cases)
]


def test_every_layer_declares_check_cases():
    assert all(cls.check_cases for cls in LAYERS), [c.__name__ for c in LAYERS if not c.check_cases]


def _inputs(rng, shapes, layer, batch=3):
    # Keep values away from 0 so kinks (relu) are never within EPS of a sample.
    def one(shape):
        if not layer.differentiable_input:  # indices (embedding)
            return rng.integers(0, layer.input_dim, (batch, *shape)).astype(np.float64)
        u = rng.uniform(0.1, 1.0, (batch, *shape))
        return u * rng.choice([-1.0, 1.0], u.shape)

    return [one(s) for s in shapes] if isinstance(shapes, list) else one(shapes)


def _masks(rng, shapes, layer, batch=3):
    """Post-padding masks (N, T) of random lengths, at least one real step each."""
    def one(shape):
        lengths = rng.integers(1, shape[0] + 1, batch)
        return np.arange(shape[0])[None, :] < lengths[:, None]

    return [one(s) for s in shapes] if layer.merges else one(shapes)


@pytest.mark.parametrize("cls, spec, shape", LAYER_CASES + MASKED_CASES)
def test_layer_gradients(cls, spec, shape, request):
    layer = cls(type=cls.model_fields["type"].default, **spec)
    rng = np.random.default_rng(0)
    params = {k: v + rng.normal(0, 0.1, v.shape) for k, v in layer.init(shape, rng, np.float64).items()}
    x = _inputs(rng, shape, layer)
    masked = request.node.callspec.id.endswith("-masked")
    kwargs = {"mask": _masks(rng, shape, layer)} if masked else {}
    out, _ = layer.forward(params, x, True, np.random.default_rng(1), **kwargs)
    weights = rng.normal(size=out.shape)  # L = sum(y * weights), a random direction

    def loss():
        y, _ = layer.forward(params, x, True, np.random.default_rng(1), **kwargs)  # same dropout mask
        return float(np.sum(y * weights))

    y, cache = layer.forward(params, x, True, np.random.default_rng(1), **kwargs)
    dx, grads = layer.backward(params, cache, weights)
    for xi, dxi in zip(x if layer.merges else [x], dx if layer.merges else [dx]):
        assert dxi.shape == xi.shape
        if layer.differentiable_input:
            assert_close(dxi, numeric_grad(loss, xi), f"{layer.type} d/dx")
    trainable = {k: v for k, v in params.items() if k not in layer.state_params}
    assert set(grads) == set(trainable)
    for name, value in trainable.items():
        assert grads[name].shape == value.shape
        assert_close(grads[name], numeric_grad(loss, value), f"{layer.type} d/d{name}")


LOSS_CASES = [
    pytest.param(cls, i, id=f"{cls.model_fields['type'].default}-{i}")
    for cls in LOSSES
    for i in range(len(cls.check_cases(np.random.default_rng(0))))
]


@pytest.mark.parametrize("cls, index", LOSS_CASES)
def test_loss_gradients(cls, index):
    out, target, from_logits, *options = cls.check_cases(np.random.default_rng(0))[index]
    loss = cls(**(options[0] if options else {}))
    value, grad = loss(out, target, from_logits)
    assert np.isfinite(value)
    assert grad.shape == out.shape
    assert_close(grad, numeric_grad(lambda: loss(out, target, from_logits)[0], out), f"{loss.type}")


def test_fused_softmax_matches_unfused_loss():
    rng = np.random.default_rng(3)
    from nnrun.model.activations import softmax
    from nnrun.model.losses import CategoricalCrossentropy

    logits, labels = rng.normal(size=(4, 3)), rng.integers(0, 3, 4)
    fused, _ = CategoricalCrossentropy()(logits, labels, True)
    plain, _ = CategoricalCrossentropy()(softmax(logits), labels, False)
    assert fused == pytest.approx(plain, rel=1e-9)


def test_fused_cross_entropy_is_stable_for_extreme_logits():
    from nnrun.model.losses import BinaryCrossentropy, CategoricalCrossentropy

    logits = np.array([[1000.0, -1000.0, 0.0]])
    value, grad = CategoricalCrossentropy()(logits, np.array([1]), True)
    assert value == pytest.approx(2000.0) and np.all(np.isfinite(grad))
    value, grad = BinaryCrossentropy()(np.array([[-800.0]]), np.array([1]), True)
    assert value == pytest.approx(800.0) and np.all(np.isfinite(grad))


def _graph_case(layers, loss, input_shape=(4,)):
    specs = TypeAdapter(list[LayerSpec]).validate_python(layers)
    return compile_graph(specs, input_shape, loss, rng=np.random.default_rng(0), dtype=np.float64)


DENSE = {"type": "dense", "units": 4, "activation": "tanh"}
GRAPH_CASES = {
    "softmax-cce-fused": ([{**DENSE, "units": 5}, {"type": "dropout", "rate": 0.3},
                           {"type": "dense", "units": 3, "activation": "softmax"}], "categorical_crossentropy"),
    "sigmoid-bce-fused": ([{"type": "dense", "units": 4, "activation": "relu"},
                           {"type": "dense", "units": 1, "activation": "sigmoid"}], "binary_crossentropy"),
    "bce-from-logits": ([DENSE, {"type": "dense", "units": 1}], {"type": "binary_crossentropy", "from_logits": True}),
    "mse": ([{"type": "dense", "units": 4, "activation": "sigmoid"}, {"type": "dense", "units": 1}], "mse"),
    # A layer feeding two others: its gradient is the sum of both paths.
    "residual-fan-out": ([{**DENSE, "name": "stem"}, {**DENSE, "activation": "selu", "name": "branch"},
                          {"type": "add", "inputs": ["stem", "branch"]},
                          {"type": "dense", "units": 3, "activation": "softmax"}], "sparse_categorical_crossentropy"),
    "concatenate-multiply": ([{**DENSE, "name": "a"}, {**DENSE, "activation": "sigmoid", "name": "gate", "inputs": ["input"]},
                              {"type": "multiply", "inputs": ["a", "gate"], "name": "gated"},
                              {"type": "concatenate", "inputs": ["gated", "input"]},
                              {"type": "dense", "units": 2}], "huber"),
    "batch-norm-training-l2": ([{**DENSE, "activation": "linear", "kernel_regularizer": {"type": "l2", "l2": 0.1}},
                                {"type": "batch_normalization"}, {"type": "activation", "activation": "elu"},
                                {"type": "dense", "units": 3, "activation": "softmax",
                                 "kernel_regularizer": {"type": "l1_l2", "l1": 0.01, "l2": 0.02},
                                 "bias_regularizer": "l1"}], "categorical_crossentropy"),
    # Padded steps (index 0) masked through a bidirectional LSTM.
    "text-bidirectional-lstm": ([{"type": "embedding", "input_dim": 5, "output_dim": 3, "mask_zero": True},
                                 {"type": "bidirectional", "layer": {"type": "lstm", "units": 2}},
                                 {"type": "dense", "units": 2, "activation": "softmax"}], "categorical_crossentropy"),
    # An encoder block: attention, add, layer norm, dense, add, layer norm, masked pool.
    "encoder-block": ([{"type": "embedding", "input_dim": 5, "output_dim": 4, "mask_zero": True},
                       {"type": "positional_embedding", "name": "tokens"},
                       {"type": "multi_head_attention", "num_heads": 2, "key_dim": 2, "name": "attend"},
                       {"type": "add", "inputs": ["tokens", "attend"]},
                       {"type": "layer_normalization", "name": "norm"},
                       {"type": "dense", "units": 4, "activation": "relu", "name": "ff"},
                       {"type": "add", "inputs": ["norm", "ff"]}, {"type": "layer_normalization"},
                       {"type": "global_average_pool1d"},
                       {"type": "dense", "units": 3, "activation": "softmax"}], "sparse_categorical_crossentropy"),
    "gru-sequences-max-pool": ([{"type": "embedding", "input_dim": 5, "output_dim": 3, "mask_zero": True},
                                {"type": "gru", "units": 3, "return_sequences": True, "go_backwards": True},
                                {"type": "simple_rnn", "units": 2, "return_sequences": True},
                                {"type": "global_max_pool1d"}, {"type": "dense", "units": 1}], "mse"),
    "embedding-layer-norm": ([{"type": "embedding", "input_dim": 5, "output_dim": 3}, {"type": "layer_normalization"},
                              {"type": "flatten"}, {"type": "dense", "units": 1}], "mae"),
    # Branches of selected features: the layers after a select of the input skip their input
    # gradient; a select inside the graph passes its gradient on to the layer that learns before it.
    "select-branches": ([{"type": "select", "features": [3, 0], "name": "left"},
                         {"type": "dense", "units": 3, "activation": "tanh", "name": "a"},
                         {"type": "select", "features": [1, 2], "inputs": ["input"], "name": "right"},
                         {"type": "dense", "units": 3, "activation": "tanh", "name": "b"},
                         {"type": "select", "features": [2, 0], "name": "picked"},
                         {"type": "concatenate", "inputs": ["a", "picked"]},
                         {"type": "dense", "units": 3, "activation": "softmax"}], "categorical_crossentropy"),
}


@pytest.mark.parametrize("layers, loss_spec", GRAPH_CASES.values(), ids=GRAPH_CASES.keys())
def test_whole_graph_gradient(layers, loss_spec):
    """Forward, fused loss, penalties and backward together, against the total loss."""
    loss = TypeAdapter(LossSpec).validate_python({"type": loss_spec} if isinstance(loss_spec, str) else loss_spec)
    graph = _graph_case(layers, loss)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4))
    if layers[0]["type"] == "embedding":
        x = rng.integers(0, 5, (6, 4)).astype(np.float64)
    width = graph.output_shape[0]
    y = rng.integers(0, max(width, 2), 6) if loss.task == "classification" else rng.normal(size=(6, width))
    fused = graph.output_activation is not None
    assert fused == (loss.fuses is not None)

    def total():
        out, _ = graph.forward(x, True, np.random.default_rng(2))
        return loss(out, y, fused)[0] + graph.penalty()

    out, tape = graph.forward(x, True, np.random.default_rng(2))
    graph.backward(tape, loss(out, y, fused)[1])
    graph.add_penalties()
    assert_close(graph.grad_buffer.copy(), numeric_grad(total, graph.trainable), "graph")


@pytest.mark.parametrize("cls, spec, shape", LAYER_CASES)
def test_float32_stays_float32(cls, spec, shape):
    """No layer silently promotes a float32 model to float64 (output, input gradient, grads)."""
    layer = cls(type=cls.model_fields["type"].default, **spec)
    rng = np.random.default_rng(0)
    params = layer.init(shape, rng, np.float32)
    x = _inputs(rng, shape, layer)
    x = [xi.astype(np.float32) for xi in x] if layer.merges else x.astype(np.float32)
    y, cache = layer.forward(params, x, True, np.random.default_rng(1))
    dx, grads = layer.backward(params, cache, np.ones_like(y))
    assert y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(d.dtype == np.float32 for d in (dx if layer.merges else [dx]))
    assert all(p.dtype == np.float32 for p in params.values())


def test_a_layer_reading_a_select_of_the_input_skips_its_input_gradient():
    graph = _graph_case(GRAPH_CASES["select-branches"][0], None)
    need = {node.name: node.need_dx for node in graph.nodes}
    assert need == {"left": False, "a": False, "right": False, "b": False, "picked": True, "concatenate_5": True,
                    "dense_6": True}
