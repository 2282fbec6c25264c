"""Every catalog layer and activation exported to ONNX and run by onnxruntime, an
independent runtime, must give nnrun's outputs (random weights, batch 1 and 64)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from nnrun.commands.export.activations import CONVERTERS as ACTIVATION_CONVERTERS  # noqa: E402
from nnrun.commands.export.convert import check_exportable, to_onnx  # noqa: E402
from nnrun.commands.export.layers import CONVERTERS  # noqa: E402
from nnrun.errors import UserError  # noqa: E402
from nnrun.model.activations import ACTIVATIONS  # noqa: E402
from nnrun.model.graph import compile_graph  # noqa: E402
from nnrun.model.layers import LAYER_TYPES, LayerSpec  # noqa: E402

TOLERANCE = 1e-5

# (layers, input shape): together they use every layer type and option that changes the math.
MODELS = {
    "conv2d_pools": ([
        {"type": "conv2d", "filters": 3, "kernel_size": 3, "padding": "same", "strides": 2, "activation": "relu"},
        {"type": "max_pool2d", "pool_size": 3, "strides": 2, "padding": "same"},
        {"type": "average_pool2d", "pool_size": 2, "padding": "same"},
        {"type": "conv2d", "filters": 2, "kernel_size": [2, 3], "dilation_rate": 2, "padding": "same",
         "use_bias": False},
        {"type": "global_average_pool2d"},
    ], (9, 8, 2)),
    "conv2d_global_max": ([
        {"type": "conv2d", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "tanh"},
        {"type": "global_max_pool2d"},
        {"type": "dense", "units": 2},
    ], (5, 4, 2)),
    "conv2d_valid_softmax": ([
        {"type": "conv2d", "filters": 4, "kernel_size": 2, "strides": [2, 1], "activation": "softmax"},
        {"type": "average_pool2d", "pool_size": 2, "strides": 1},
        {"type": "batch_normalization"},
        {"type": "max_pool2d"},
        {"type": "flatten"},
        {"type": "dense", "units": 3},
    ], (7, 6, 1)),
    "conv1d": ([
        {"type": "conv1d", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "gelu"},
        {"type": "conv1d", "filters": 2, "kernel_size": 2, "dilation_rate": 2, "strides": 2, "activation": "tanh"},
        {"type": "conv1d", "filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "causal"},
        {"type": "max_pool1d", "pool_size": 3, "strides": 1, "padding": "same"},
        {"type": "layer_normalization"},
        {"type": "batch_normalization", "center": False, "scale": False},
        {"type": "flatten"},
        {"type": "dense", "units": 4, "activation": "softmax"},
    ], (9, 2)),
    "normalization_reshape": ([
        {"type": "layer_normalization", "center": False},
        {"type": "reshape", "target_shape": [-1, 2]},
        {"type": "layer_normalization", "scale": False},
        {"type": "batch_normalization", "scale": False},
        {"type": "dropout", "rate": 0.5},
    ], (6,)),
    "dag_merges": ([
        {"type": "dense", "units": 4, "activation": "selu", "name": "a"},
        {"type": "dense", "units": 4, "activation": "elu", "name": "b", "inputs": ["input"]},
        {"type": "add", "inputs": ["a", "b"], "name": "s"},
        {"type": "multiply", "inputs": ["a", "b", "s"], "name": "m"},
        {"type": "add", "inputs": ["a", "b", "m"], "name": "t"},
        {"type": "concatenate", "inputs": ["t", "a"]},
        {"type": "select", "features": [7, 0, -2, 3, 5, 1, 2, 4]},
        {"type": "reshape", "target_shape": [2, 4]},
        {"type": "concatenate", "inputs": ["reshape_7", "reshape_7"], "axis": 1},
        {"type": "flatten"},
        {"type": "dense", "units": 2, "activation": "sigmoid", "use_bias": False},
    ], (3,)),
    "recurrent": ([
        {"type": "lstm", "units": 3, "return_sequences": True},
        {"type": "gru", "units": 4, "go_backwards": True, "return_sequences": True, "activation": "relu"},
        {"type": "simple_rnn", "units": 2, "return_sequences": True, "go_backwards": True},
        {"type": "positional_embedding", "name": "positions"},
        {"type": "global_max_pool1d", "name": "peak"},
        {"type": "global_average_pool1d", "inputs": ["positions"], "name": "mean"},
        {"type": "lstm", "units": 2, "inputs": ["positions"], "go_backwards": True, "recurrent_activation": "tanh",
         "use_bias": False, "name": "last"},
        {"type": "concatenate", "inputs": ["peak", "mean", "last"]},
    ], (5, 2)),
    "bidirectional": ([
        {"type": "bidirectional", "layer": {"type": "lstm", "units": 3, "return_sequences": True, "go_backwards": True}},
        {"type": "bidirectional", "layer": {"type": "gru", "units": 2, "return_sequences": True}, "merge_mode": "sum"},
        {"type": "bidirectional", "layer": {"type": "simple_rnn", "units": 2, "return_sequences": True},
         "merge_mode": "mul"},
        {"type": "bidirectional", "layer": {"type": "gru", "units": 2, "use_bias": False}, "merge_mode": "average"},
    ], (4, 3)),
    "activations": ([{"type": "activation", "activation": name} for name in ACTIVATIONS] + [
        {"type": "dense", "units": 3, "activation": name, "name": f"dense_{name}", "inputs": ["input"]}
        for name in ACTIVATIONS
    ] + [{"type": "concatenate", "inputs": [f"dense_{name}" for name in ACTIVATIONS] + ["activation_0"]}], (5,)),
}


def compiled(layers: list[dict], shape: tuple[int, ...], seed: int = 1):
    """A graph with random weights everywhere, batch norm statistics included."""
    specs = [TypeAdapter(LayerSpec).validate_python(layer) for layer in layers]
    graph = compile_graph(specs, shape, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    for name, value in graph.params.items():
        value[...] = rng.normal(0, 0.6, value.shape)
        if name.endswith("moving_variance"):
            value[...] = np.abs(value) + 0.3
    return graph


def onnx_outputs(graph, x: np.ndarray, opset: int = 17, float16: bool = False) -> np.ndarray:
    model = to_onnx(onnx, graph, [], [], "regression", opset, float16, {}, "test")
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"features": x})[0]


# Attention has no ONNX form yet: the export refuses it by name (tested below). Every
# other catalog layer converts.
WITHOUT_ONNX_FORM = {"multi_head_attention"}


def test_every_catalog_layer_and_activation_has_a_converter():
    assert set(LAYER_TYPES) - WITHOUT_ONNX_FORM <= set(CONVERTERS)
    assert not WITHOUT_ONNX_FORM & set(CONVERTERS)
    assert set(ACTIVATIONS) <= set(ACTIVATION_CONVERTERS)
    used = {layer["type"] for layers, _ in MODELS.values() for layer in layers}
    assert used == set(CONVERTERS) - {"embedding", "masking"}  # tested below, masked


def test_embedding_gathers_rows_at_whole_number_inputs():
    graph = compiled([{"type": "embedding", "input_dim": 7, "output_dim": 3},
                      {"type": "flatten"}, {"type": "dense", "units": 2, "activation": "softmax"}], (4,))
    for batch in (1, 64):
        x = np.random.default_rng(batch).integers(0, 7, (batch, 4)).astype(np.float32)
        np.testing.assert_allclose(onnx_outputs(graph, x), graph.predict(x), rtol=0, atol=TOLERANCE)


def test_float16_stores_half_size_weights_that_equal_rounded_nnrun_weights():
    layers, shape = MODELS["conv2d_valid_softmax"]
    graph = compiled(layers, shape)
    half = to_onnx(onnx, graph, [], [], "regression", 17, True, {}, "test")
    halves = [t for t in half.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16]
    assert sorted(t.name for t in halves) == sorted(f"{name}_float16" for name in graph.params)
    assert all(np.prod(t.dims) <= 1 for t in half.graph.initializer if t not in halves)  # epsilon and such
    wide = compiled([{"type": "dense", "units": 64}, {"type": "dense", "units": 64}], (64,))
    sizes = [len(to_onnx(onnx, wide, [], [], "regression", 17, f16, {}, "t").SerializeToString()) for f16 in (False, True)]
    assert sizes[1] < 0.55 * sizes[0]
    x = np.random.default_rng(0).normal(0, 1, (16, *shape)).astype(np.float32)
    got = onnx_outputs(graph, x, float16=True)
    graph.weight_buffer[...] = graph.weight_buffer.astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(got, graph.predict(x), rtol=0, atol=TOLERANCE)


def test_a_layer_without_an_onnx_form_is_refused_by_name(monkeypatch):
    graph = compiled([{"type": "dense", "units": 3, "name": "hidden"}, {"type": "layer_normalization", "name": "norm"}],
                     (2,))
    monkeypatch.delitem(CONVERTERS, "layer_normalization")
    with pytest.raises(UserError, match=r"no ONNX form for the layer 'norm' \(layer_normalization\)"):
        check_exportable(graph)


def test_attention_is_refused_by_name():
    attention = compiled([{"type": "multi_head_attention", "num_heads": 1, "key_dim": 2, "name": "attend"}], (3, 2))
    with pytest.raises(UserError, match=r"no ONNX form for the layer 'attend' \(multi_head_attention\)"):
        check_exportable(attention)


# Masked sequences: every layer that reads the mask, fed by each maker of one, and the
# layers that carry it between them.
MASKED_MODELS = {
    "tokens": ([
        {"type": "embedding", "input_dim": 6, "output_dim": 3, "mask_zero": True, "name": "words"},
        {"type": "dense", "units": 3, "activation": "tanh", "name": "carried"},
        {"type": "lstm", "units": 3, "return_sequences": True, "name": "ahead"},
        {"type": "gru", "units": 2, "go_backwards": True, "return_sequences": True, "name": "behind"},
        {"type": "simple_rnn", "units": 2, "go_backwards": True, "inputs": ["carried"], "name": "last_back"},
        {"type": "lstm", "units": 2, "inputs": ["words"], "name": "last"},
        {"type": "bidirectional", "layer": {"type": "gru", "units": 2, "return_sequences": True}, "inputs": ["words"],
         "merge_mode": "average",
         "name": "both"},
        {"type": "add", "inputs": ["both", "behind"], "name": "merged"},
        {"type": "global_max_pool1d", "name": "peak"},
        {"type": "global_average_pool1d", "inputs": ["ahead"], "name": "mean"},
        {"type": "bidirectional", "layer": {"type": "lstm", "units": 2}, "inputs": ["words"], "merge_mode": "sum",
         "name": "both_last"},
        {"type": "concatenate", "inputs": ["peak", "mean", "last_back", "last", "both_last"]},
    ], (7,)),
    "masking": ([
        {"type": "masking", "mask_value": 0.5, "name": "padded"},
        {"type": "masking", "name": "zeros_too"},
        {"type": "gru", "units": 3, "return_sequences": True, "name": "steps"},
        {"type": "global_average_pool1d", "name": "mean"},
        {"type": "global_max_pool1d", "inputs": ["steps"], "name": "peak"},
        {"type": "lstm", "units": 2, "go_backwards": True, "inputs": ["padded"], "name": "last"},
        {"type": "concatenate", "inputs": ["mean", "peak", "last"]},
    ], (6, 2)),
}


def masked_inputs(model: str, batch: int) -> np.ndarray:
    """Padding at the end, at the start, between real steps, everywhere, nowhere."""
    rng = np.random.default_rng(batch)
    shape = MASKED_MODELS[model][1]
    if model == "tokens":
        x = rng.integers(1, 6, (batch, *shape)).astype(np.float32)
        cut = rng.integers(0, shape[0] + 1, batch)
        x[np.arange(shape[0]) >= cut[:, None]] = 0  # post-padding, as a text column is padded
        x[rng.random((batch, *shape)) < 0.15] = 0
        x[::7] = 0
        return x
    x = rng.normal(0, 1, (batch, *shape)).astype(np.float32)
    steps = rng.random((batch, shape[0]))
    x[steps < 0.2] = 0.5
    x[steps > 0.85] = 0
    x[::7] = 0.5
    return x


@pytest.mark.parametrize("opset", [13, 17, 18])
@pytest.mark.parametrize("model", sorted(MODELS) + [f"masked {name}" for name in sorted(MASKED_MODELS)])
def test_onnxruntime_equals_nnrun(model, opset):
    """Random inputs; a masked model's with padding anywhere, which the export skips as nnrun does."""
    masked = model.removeprefix("masked ") if model.startswith("masked ") else None
    layers, shape = MASKED_MODELS[masked] if masked else MODELS[model]
    graph = compiled(layers, shape)
    for batch in (1, 64):
        x = masked_inputs(masked, batch) if masked else \
            np.random.default_rng(batch).normal(0, 2, (batch, *shape)).astype(np.float32)
        got = onnx_outputs(graph, x, opset)
        assert got.shape == (batch, *graph.output_shape)
        np.testing.assert_allclose(got, graph.predict(x), rtol=0, atol=TOLERANCE)


def test_every_layer_with_its_own_mask_rule_is_mirrored_in_the_export():
    from nnrun.commands.export.masks import OWN_RULE
    from nnrun.model.layers.base import Layer

    own = {name for name, cls in LAYER_TYPES.items() if cls.output_mask is not Layer.output_mask}
    assert own - WITHOUT_ONNX_FORM == set(OWN_RULE)
    reads = {name for name, cls in LAYER_TYPES.items() if cls.takes_mask}
    assert reads - WITHOUT_ONNX_FORM == {"simple_rnn", "gru", "lstm", "bidirectional", "global_average_pool1d",
                                         "global_max_pool1d"}


def test_a_step_activation_onnx_lacks_is_refused():
    graph = compiled([{"type": "simple_rnn", "units": 2, "activation": "selu", "name": "steps"}], (3, 2))
    with pytest.raises(UserError, match="'steps' \\(simple_rnn\\) uses the activation selu"):
        to_onnx(onnx, graph, [], [], "regression", 17, False, {}, "test")


def test_preprocessing_runs_inside_the_graph():
    from nnrun.data.preprocess import Scale, Standardize, apply_pipeline, fit_pipeline, MinMax

    graph = compiled([{"type": "dense", "units": 2}], (3,))
    train = np.random.default_rng(0).normal(5, 3, (50, 3)).astype(np.float32)
    steps = [Standardize(), MinMax(), Scale(factor=0.5)]
    states = fit_pipeline(steps, train)
    model = to_onnx(onnx, graph, steps, states, "regression", 17, False, {}, "test")
    ops = [node.op_type for node in model.graph.node]
    assert ops[:5] == ["Sub", "Div", "Sub", "Div", "Mul"]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).normal(5, 3, (64, 3)).astype(np.float32)
    expected = graph.predict(apply_pipeline(steps, states, x))
    np.testing.assert_allclose(session.run(None, {"features": x})[0], expected, rtol=0, atol=TOLERANCE)
    # Per channel on sequences: statistics of the last axis, broadcast over the steps in the graph too.
    graph = compiled([{"type": "flatten"}, {"type": "dense", "units": 2}], (4, 3))
    train = np.random.default_rng(2).normal(5, 3, (50, 4, 3)).astype(np.float32)
    steps = [Standardize(per="channel"), MinMax(per="channel")]
    states = fit_pipeline(steps, train)
    assert np.asarray(states[0]["mean"]).shape == (3,)
    session = ort.InferenceSession(to_onnx(onnx, graph, steps, states, "regression", 17, False, {}, "test")
                                   .SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(3).normal(5, 3, (16, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {"features": x})[0], graph.predict(apply_pipeline(steps, states, x)),
                               rtol=0, atol=TOLERANCE)


def test_the_model_card_says_the_padding_and_the_values_the_input_takes():
    from nnrun.commands.model_card import input_rules

    layers, shape = MASKED_MODELS["masking"]
    assert input_rules(compiled(layers, shape)) == {
        "input_values": None, "padding": {"value": 0.5, "means": "a step whose every feature is 0.5 as given is "
                                          "padding: the layers after the masking layer leave it out"}}
    after = input_rules(compiled(layers, shape), ["standardize"])["padding"]["means"]
    assert after.startswith("a step whose every feature is 0.5 after data.preprocess (standardize; write the value it "
                            "becomes, as the exported graph applies it first) is padding")
    layers, shape = MASKED_MODELS["tokens"]
    rules = input_rules(compiled([{"type": "select", "features": [6, 0, 1, 2, 3, 4, 5]}, *layers], shape))  # read through
    assert rules["input_values"] == "whole numbers from 0 to 5, the indices it learned vectors for"
    assert rules["padding"]["value"] == 0
    assert input_rules(compiled(*MODELS["conv1d"])) == {"input_values": None, "padding": None}
