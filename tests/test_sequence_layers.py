"""Sequence layers beyond the registry's checks: gradients over several steps, both
directions, with masks and dropout (float64); mask semantics; Keras layouts."""

from __future__ import annotations

import numpy as np
import pytest
from sequence_check import check_layer, random_mask

from nnrun.model.initializers import initialize
from nnrun.model.layers.attention import MultiHeadAttention, PositionalEmbedding
from nnrun.model.layers.bidirectional import Bidirectional
from nnrun.model.layers.gru import GRU
from nnrun.model.layers.lstm import LSTM
from nnrun.model.layers.recurrent import SimpleRNN
from nnrun.model.layers.sequence_pooling import GlobalAveragePool1D, GlobalMaxPool1D

RECURRENT = [SimpleRNN, LSTM, GRU]
VARIANTS = {
    "last": {},
    "sequences": {"return_sequences": True},
    "backwards": {"go_backwards": True},
    "backwards-sequences": {"go_backwards": True, "return_sequences": True},
    "dropout": {"dropout": 0.3, "recurrent_dropout": 0.4, "return_sequences": True},
    "relu-no-bias": {"activation": "relu", "use_bias": False},
}


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("cls", RECURRENT, ids=lambda c: c.__name__)
def test_recurrent_gradients_over_steps(cls, variant, masked):
    mask = random_mask(np.random.default_rng(3), 3, 6) if masked else None
    check_layer(cls(units=3, **variant), (6, 2), mask=mask)


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "average"])
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_bidirectional_gradients_with_mask(kind, mode):
    layer = Bidirectional(layer={"type": kind, "units": 2, "return_sequences": True}, merge_mode=mode)
    check_layer(layer, (5, 2), mask=random_mask(np.random.default_rng(4), 3, 5))


@pytest.mark.parametrize("cls", RECURRENT, ids=lambda c: c.__name__)
def test_padded_steps_leave_the_state_alone(cls):
    """A masked sequence ends in the state its real steps give, whatever the padding holds."""
    rng = np.random.default_rng(0)
    layer = cls(units=4)
    params = layer.init((6, 3), rng, np.float64)
    x = rng.normal(size=(2, 6, 3))
    mask = np.array([[True] * 6, [True] * 4 + [False] * 2])
    y, _ = layer.forward(params, x, False, None, mask=mask)
    short, _ = layer.forward(params, x[1:, :4], False, None)
    np.testing.assert_allclose(y[1], short[0], rtol=1e-12)
    backwards = cls(units=4, go_backwards=True)
    y_back, _ = backwards.forward(params, x, False, None, mask=mask)
    short_back, _ = backwards.forward(params, x[1:, :4], False, None)
    np.testing.assert_allclose(y_back[1], short_back[0], rtol=1e-12)


def test_return_sequences_zeroes_padded_steps_and_passes_the_mask():
    layer = LSTM(units=2, return_sequences=True)
    params = layer.init((4, 1), np.random.default_rng(0), np.float64)
    mask = np.array([[True, True, False, False]])
    y, _ = layer.forward(params, np.ones((1, 4, 1)), False, None, mask=mask)
    assert np.all(y[0, 2:] == 0) and np.all(y[0, :2] != 0)
    assert layer.output_mask(None, mask) is mask
    assert LSTM(units=2).output_mask(None, mask) is None
    assert LSTM(units=2, return_sequences=True, go_backwards=True).output_mask(None, mask).tolist() == [[False, False, True, True]]


def test_keras_layouts_and_defaults():
    rng = np.random.default_rng(0)
    lstm = LSTM(units=5).init((7, 3), rng, np.float32)
    assert {k: v.shape for k, v in lstm.items()} == {"kernel": (3, 20), "recurrent_kernel": (5, 20), "bias": (20,)}
    assert lstm["bias"].tolist() == [0] * 5 + [1] * 5 + [0] * 10  # unit_forget_bias
    gru = GRU(units=5).init((7, 3), rng, np.float32)
    assert {k: v.shape for k, v in gru.items()} == {"kernel": (3, 15), "recurrent_kernel": (5, 15), "bias": (2, 15)}
    recurrent = lstm["recurrent_kernel"].astype(np.float64)  # orthogonal: (5, 20) has orthonormal rows
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(5), atol=1e-5)
    attention = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4).init([(6, 8), (5, 7)], rng, np.float32)
    assert {k: v.shape for k, v in attention.items()} == {
        "query_kernel": (8, 2, 3), "query_bias": (2, 3), "key_kernel": (7, 2, 3), "key_bias": (2, 3),
        "value_kernel": (7, 2, 4), "value_bias": (2, 4), "output_kernel": (2, 4, 8), "output_bias": (8,)}
    bidirectional = Bidirectional(layer={"type": "gru", "units": 2}).init((4, 3), rng, np.float32)
    assert sorted(bidirectional) == ["backward_bias", "backward_kernel", "backward_recurrent_kernel",
                                     "forward_bias", "forward_kernel", "forward_recurrent_kernel"]


def test_orthogonal_initializer_in_both_orientations():
    tall = initialize("orthogonal", (6, 3), np.random.default_rng(0), np.float64)
    wide = initialize("orthogonal", (3, 6), np.random.default_rng(0), np.float64)
    np.testing.assert_allclose(tall.T @ tall, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-12)


def test_attention_ignores_padded_keys_and_respects_causality():
    rng = np.random.default_rng(1)
    layer = MultiHeadAttention(num_heads=2, key_dim=2, use_causal_mask=True)
    params = layer.init([(5, 4)], rng, np.float64)
    x = rng.normal(size=(1, 5, 4))
    y, _ = layer.forward(params, [x], False, None, mask=[np.array([[True, True, True, False, False]])])
    changed = x.copy()
    changed[0, 3:] = 100.0  # padding, seen by no query
    y2, _ = layer.forward(params, [changed], False, None, mask=[np.array([[True, True, True, False, False]])])
    np.testing.assert_allclose(y[0, :3], y2[0, :3], rtol=1e-12)
    later = x.copy()
    later[0, 4] = -7.0  # the last step changes no earlier step's output under a causal mask
    y3, _ = layer.forward(params, [later], False, None)
    y4, _ = layer.forward(params, [x], False, None)
    np.testing.assert_allclose(y3[0, :4], y4[0, :4], rtol=1e-12)


@pytest.mark.parametrize("cls", [GlobalAveragePool1D, GlobalMaxPool1D])
def test_pools_with_masks(cls):
    check_layer(cls(), (5, 3), mask=random_mask(np.random.default_rng(2), 3, 5))
    x = np.array([[[1.0], [3.0], [50.0]]])
    y, _ = cls().forward({}, x, False, None, mask=np.array([[True, True, False]]))
    assert y[0, 0] == (2.0 if cls is GlobalAveragePool1D else 3.0)
    empty, _ = cls().forward({}, x, False, None, mask=np.zeros((1, 3), bool))
    assert empty[0, 0] == 0.0


def test_attention_and_positions_with_masks():
    rng = np.random.default_rng(6)
    layer = MultiHeadAttention(num_heads=2, key_dim=2, dropout=0.2)
    check_layer(layer, [(4, 3), (5, 2)], mask=[random_mask(rng, 3, 4), random_mask(rng, 3, 5)])
    check_layer(PositionalEmbedding(), (4, 3))
    assert PositionalEmbedding().output_mask(None, "m") == "m"


# A sequence with no real step at all (an empty text is all padding): its output is a
# constant, so no gradient may reach its padded steps or the weights through them.
EMPTY_ROW = np.array([[True, True, True, False, False], [False] * 5, [True] * 5])
LEFT_PADDED = np.array([[False, False, True, True, True], [False, True, True, True, True], [True] * 5])


@pytest.mark.parametrize("make, shapes, mask", [
    (GlobalMaxPool1D, (5, 3), EMPTY_ROW),
    (GlobalAveragePool1D, (5, 3), EMPTY_ROW),
    (lambda: LSTM(units=2), (5, 2), EMPTY_ROW),
    (lambda: GRU(units=2, return_sequences=True), (5, 2), EMPTY_ROW),
    (lambda: Bidirectional(layer={"type": "simple_rnn", "units": 2}), (5, 2), EMPTY_ROW),
    # cross-attention to a value sequence that is all padding
    (lambda: MultiHeadAttention(num_heads=2, key_dim=2), [(4, 3), (5, 2)], [np.ones((3, 4), bool), EMPTY_ROW]),
    # causal self-attention on left-padded sequences: the first queries see only padding
    (lambda: MultiHeadAttention(num_heads=2, key_dim=2, use_causal_mask=True), [(5, 3)], [LEFT_PADDED]),
], ids=["max-pool", "average-pool", "lstm", "gru", "bidirectional", "cross-attention", "causal-attention"])
def test_a_sequence_with_no_real_step_passes_no_gradient_through_its_padding(make, shapes, mask):
    check_layer(make(), shapes, mask=mask)


def test_shape_errors_name_the_expected_input():
    with pytest.raises(ValueError, match="expects sequences"):
        LSTM(units=2).output_shape((5,))
    with pytest.raises(ValueError, match="as many steps"):
        MultiHeadAttention(num_heads=1, key_dim=2).output_shape([(3, 2), (4, 2), (5, 2)])
    assert Bidirectional(layer={"type": "gru", "units": 3, "return_sequences": True}).output_shape((7, 2)) == (7, 6)


@pytest.mark.parametrize("reader", [{"type": "lstm", "units": 3}, {"type": "gru", "units": 3},
                                    {"type": "global_average_pool1d"},
                                    {"type": "bidirectional", "layer": {"type": "simple_rnn", "units": 2}}])
def test_a_masking_layer_makes_padded_numeric_sequences_read_as_their_real_steps(reader):
    """Keras's Masking: a sequence padded with steps of 0 gives the outputs and the weights'
    gradients of the same sequence unpadded, for the layers that read a mask."""
    from pydantic import TypeAdapter

    from nnrun.model.graph import compile_graph
    from nnrun.model.layers import LayerSpec

    def graph(steps: int):
        specs = [TypeAdapter(LayerSpec).validate_python(layer) for layer in
                 ({"type": "masking"}, reader, {"type": "dense", "units": 2})]
        return compile_graph(specs, (steps, 2), rng=np.random.default_rng(0), dtype=np.float64)

    real = np.random.default_rng(1).normal(size=(1, 3, 2))
    padded, whole = graph(5), graph(3)
    x = np.concatenate([real, np.zeros((1, 2, 2))], axis=1)  # two steps of padding after the three real ones
    out_padded, tape_padded = padded.forward(x, training=True)
    out_whole, tape_whole = whole.forward(real, training=True)
    np.testing.assert_allclose(out_padded, out_whole, rtol=1e-12, atol=1e-12)
    padded.backward(tape_padded, np.ones_like(out_padded))
    whole.backward(tape_whole, np.ones_like(out_whole))
    for name in whole.params:
        np.testing.assert_allclose(padded.grads[name], whole.grads[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_a_masking_layer_zeroes_padded_steps_and_keeps_a_mask_carried_in():
    from nnrun.model.layers.masking import Masking

    layer = Masking(mask_value=-1.0)
    x = np.array([[[1.0, -1.0], [-1.0, -1.0], [0.0, 2.0]]])  # a step is padding only where every feature is -1
    y, cache = layer.forward({}, x, True, None)
    assert y.tolist() == [[[1.0, -1.0], [0.0, 0.0], [0.0, 2.0]]]
    assert layer.output_mask(x, None).tolist() == [[True, False, True]]
    assert layer.output_mask(x, np.array([[True, True, False]])).tolist() == [[True, False, False]]
    dx, grads = layer.backward({}, cache, np.ones_like(x))
    assert dx.tolist() == [[[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]] and grads == {}
    with pytest.raises(ValueError, match=r"masking expects sequences \(steps, features\), got \(6,\); .*reshape"):
        layer.output_shape((6,))
