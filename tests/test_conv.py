"""Convolution and pooling forward passes against direct loops, and their edge cases.
(Their gradients are checked with every other layer in test_gradients.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnrun.model.layers.conv import COLUMN_BUDGET, Conv1D, Conv2D
from nnrun.model.layers.pooling import (
    AveragePool2D,
    GlobalAveragePool2D,
    GlobalMaxPool2D,
    MaxPool1D,
    MaxPool2D,
)


def naive_conv2d(x, kernel, bias, stride, dilation, padding):
    """Keras semantics by direct summation: y[n,i,j,f] = sum x[n, i*s+a*d, j*s+b*d, c] k[a,b,c,f]."""
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    if padding == "same":
        oh, ow = math.ceil(h / stride[0]), math.ceil(w / stride[1])
        ph = max((oh - 1) * stride[0] + span[0] - h, 0)
        pw = max((ow - 1) * stride[1] + span[1] - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - span[0]) // stride[0] + 1, (w - span[1]) // stride[1] + 1
    y = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    pixel = x[:, i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1], :]
                    y[:, i, j, :] += pixel @ kernel[a, b]
    return y + bias


@pytest.mark.parametrize("spec", [
    {"kernel_size": 3},
    {"kernel_size": 3, "strides": 2, "padding": "same"},
    {"kernel_size": (2, 3), "dilation_rate": (2, 1), "padding": "same"},
    {"kernel_size": 1, "strides": (1, 2)},
])
def test_conv2d_matches_direct_summation(spec):
    rng = np.random.default_rng(0)
    layer = Conv2D(filters=4, **spec)
    x = rng.standard_normal((2, 7, 6, 3))
    params = layer.init((7, 6, 3), rng, np.float64)
    params["bias"] = rng.standard_normal(4)
    y, _ = layer.forward(params, x, False, None)
    pair = lambda v: (v, v) if isinstance(v, int) else v
    expected = naive_conv2d(x, params["kernel"], params["bias"], pair(layer.strides), pair(layer.dilation_rate),
                            layer.padding)
    assert y.shape == expected.shape == (2, *layer.output_shape((7, 6, 3)))
    np.testing.assert_allclose(y, expected, rtol=1e-10)


def test_conv1d_is_conv2d_of_height_one():
    rng = np.random.default_rng(1)
    layer = Conv1D(filters=2, kernel_size=3, strides=2, padding="same")
    params = layer.init((9, 2), rng, np.float64)
    assert params["kernel"].shape == (3, 2, 2)  # Keras layout (kernel, in, out)
    x = rng.standard_normal((3, 9, 2))
    y, _ = layer.forward(params, x, False, None)
    expected = naive_conv2d(x[:, None], params["kernel"][None], params["bias"], (1, 2), (1, 1), "same")[:, 0]
    np.testing.assert_allclose(y, expected, rtol=1e-10)


@pytest.mark.parametrize("kernel, dilation, stride", [(3, 1, 1), (2, 4, 1), (3, 2, 2)])
def test_causal_conv1d_reads_no_later_step_and_matches_torch_after_left_padding(kernel, dilation, stride):
    rng = np.random.default_rng(2)
    layer = Conv1D(filters=3, kernel_size=kernel, dilation_rate=dilation, strides=stride, padding="causal")
    params = layer.init((10, 2), rng, np.float64)
    x = rng.standard_normal((4, 10, 2))
    assert layer.output_shape((10, 2)) == (-(-10 // stride), 3)
    y, cache = layer.forward(params, x, True, None)
    # An output of step t changes with no input after t.
    later = x.copy()
    later[:, 6:] += 5.0
    changed = np.abs(layer.forward(params, later, False, None)[0] - y).max(axis=(0, 2)) > 0
    assert not changed[: 6 // stride + (6 % stride > 0)].any() and changed[-1]
    torch = pytest.importorskip("torch")  # Keras's causal padding: (kernel - 1) * dilation zeros before, none after
    tx = torch.from_numpy(x.transpose(0, 2, 1).copy()).requires_grad_(True)
    tk = torch.from_numpy(params["kernel"].transpose(2, 1, 0).copy()).requires_grad_(True)
    padded = torch.nn.functional.pad(tx, ((kernel - 1) * dilation, 0))
    ty = torch.nn.functional.conv1d(padded, tk, torch.from_numpy(params["bias"]), stride=stride, dilation=dilation)
    np.testing.assert_allclose(ty.detach().numpy().transpose(0, 2, 1), y, rtol=1e-10, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx, grads = layer.backward(params, cache, dy)
    ty.backward(torch.from_numpy(dy.transpose(0, 2, 1).copy()))
    np.testing.assert_allclose(tx.grad.numpy().transpose(0, 2, 1), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tk.grad.numpy().transpose(2, 1, 0), grads["kernel"], rtol=1e-10, atol=1e-12)


def test_causal_padding_is_conv1d_s_alone():
    with pytest.raises(ValueError, match="valid"):
        Conv2D(filters=1, kernel_size=3, padding="causal")


def test_large_batches_are_processed_in_bounded_chunks():
    """A batch whose columns exceed the budget gives the same result in chunks."""
    rng = np.random.default_rng(2)
    layer = Conv2D(filters=2, kernel_size=3, padding="same")
    per_sample = 16 * 16 * 9 * 4 * 4  # column bytes of one float32 sample
    n = COLUMN_BUDGET // per_sample + 3
    x = rng.standard_normal((n, 16, 16, 4), dtype=np.float32)
    params = layer.init((16, 16, 4), rng, np.float32)
    y, cache = layer.forward(params, x, True, None)
    assert cache[0][2] is None  # columns were not kept for the whole batch
    y_small, _ = layer.forward(params, x[:5], True, None)
    # BLAS may sum a row's products in another order for another number of rows (threads
    # split the matrix differently), so a float32 rounding's worth of difference is allowed.
    np.testing.assert_allclose(y[:5], y_small, rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(y.shape, dtype=np.float32)
    dx, grads = layer.backward(params, cache, dy)
    dx_small, _ = layer.backward(params, layer.forward(params, x[:5], True, None)[1], dy[:5])
    np.testing.assert_allclose(dx[:5], dx_small, rtol=1e-4, atol=1e-5)
    # The bias gradient comes out of the chunks' kernel-gradient multiplies (a column of
    # ones): summed over every chunk, it is the sum of dy over every output pixel.
    np.testing.assert_allclose(grads["bias"], dy.astype(np.float64).sum(axis=(0, 1, 2)), rtol=1e-4, atol=1e-3)


def test_max_pool_matches_window_maxima_and_breaks_ties_once():
    x = np.zeros((1, 4, 4, 1))
    x[0, 1, 1, 0] = 5.0
    layer = MaxPool2D()
    y, cache = layer.forward({}, x, True, None)
    assert y[0, :, :, 0].tolist() == [[5.0, 0.0], [0.0, 0.0]]
    dx, _ = layer.backward({}, cache, np.ones_like(y))
    # The all-zero windows send their gradient to one tap each, not to all four.
    assert dx.sum() == 4.0 and dx[0, 1, 1, 0] == 1.0 and dx[0, 2, 2, 0] == 1.0 and dx[0, 3, 3, 0] == 0.0


def test_average_pool_same_padding_counts_only_real_pixels():
    x = np.ones((1, 3, 3, 1))
    y, _ = AveragePool2D(pool_size=2, padding="same").forward({}, x, False, None)
    assert y.shape == (1, 2, 2, 1) and np.allclose(y, 1.0)


def test_pooling_shapes_and_global_average():
    assert MaxPool2D(pool_size=3, strides=2, padding="same").output_shape((28, 28, 8)) == (14, 14, 8)
    assert MaxPool1D(pool_size=2).output_shape((9, 3)) == (4, 3)
    x = np.arange(12.0).reshape(1, 2, 3, 2)
    y, _ = GlobalAveragePool2D().forward({}, x, False, None)
    assert y.tolist() == [[5.0, 6.0]]


@pytest.mark.parametrize("layer, shape, fragment", [
    (Conv2D(filters=1, kernel_size=5), (3, 3, 1), "does not fit"),
    (Conv2D(filters=1, kernel_size=3), (10,), "expects images"),
    (MaxPool2D(), (16, 12), r"max_pool2d expects images \(height, width, channels\), got \(16, 12\); images of one "
                            r"channel need the channel axis: x\[..., None\] in the data, or a first layer \{type: "
                            r"reshape, target_shape: \[16, 12, 1\]\}"),
    (MaxPool2D(pool_size=4), (3, 3, 1), "does not fit"),
    (Conv1D(filters=1, kernel_size=3), (8, 8, 1), "expects sequences"),
    # The span a dilation gives the kernel is what does not fit: said, as (3, 5) alone would fit.
    (Conv2D(filters=1, kernel_size=(3, 5), strides=2, dilation_rate=2), (8, 8, 1),
     r"the \(3, 5\) kernel \(spanning \(5, 9\) with dilation_rate \(2, 2\)\) does not fit the \(8, 8\) input with "
     r"padding 'valid'; use padding: same, a smaller kernel_size or dilation_rate"),
    (Conv1D(filters=1, kernel_size=3, dilation_rate=4), (8, 1), r"the kernel of 3 \(spanning 9 with dilation_rate 4\)"),
])
def test_impossible_shapes_are_compile_errors(layer, shape, fragment):
    with pytest.raises(ValueError, match=fragment):
        layer.output_shape(shape)


def _specs(layers: list[dict]) -> list:
    from pydantic import TypeAdapter

    from nnrun.model.layers import LayerSpec

    return TypeAdapter(list[LayerSpec]).validate_python(layers)


def _gradients(layers: list[dict], shape: tuple, fused: bool) -> np.ndarray:
    """The graph's gradient buffer for one batch, with or without relu's gradient taken
    by the max pool (see nnrun.model.fusions)."""
    from nnrun.model.graph import compile_graph
    from nnrun.model.losses import CategoricalCrossentropy

    loss = CategoricalCrossentropy()
    graph = compile_graph(_specs(layers), shape, loss, np.random.default_rng(1))
    if not fused:
        graph.relu_pools = {}
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, *shape), dtype=np.float32)
    out, tape = graph.forward(x, True, rng)
    graph.backward(tape, loss(out, rng.integers(0, 4, 6), True)[1])
    return graph.grad_buffer.copy()


HEAD = [{"type": "flatten"}, {"type": "dense", "units": 4, "activation": "softmax"}]


@pytest.mark.parametrize("layers, shape", [
    ([{"type": "conv2d", "filters": 5, "kernel_size": 3, "activation": "relu"}, {"type": "max_pool2d"}, *HEAD],
     (10, 8, 2)),
    ([{"type": "conv2d", "filters": 5, "kernel_size": 3, "activation": "relu", "padding": "same"},
      {"type": "max_pool2d", "pool_size": 3, "strides": 2, "padding": "same"}, *HEAD], (9, 7, 3)),
    ([{"type": "conv1d", "filters": 4, "kernel_size": 3, "activation": "relu"}, {"type": "max_pool1d"}, *HEAD],
     (12, 3)),
    ([{"type": "dense", "units": 6, "activation": "relu"}, {"type": "max_pool1d"}, *HEAD], (8, 3)),
], ids=["conv2d-tiled", "conv2d-overlapping", "conv1d", "dense-on-steps"])
def test_a_max_pool_taking_relus_gradient_gives_the_same_gradients(layers, shape):
    from nnrun.model.graph import compile_graph

    graph = compile_graph(_specs(layers), shape)
    assert graph.relu_pools == {graph.nodes[1].name: graph.nodes[0].name}
    fused, plain = _gradients(layers, shape, True), _gradients(layers, shape, False)
    assert np.array_equal(fused.view(np.uint32), plain.view(np.uint32))


@pytest.mark.parametrize("layers", [
    [{"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "tanh"}, {"type": "max_pool2d"}],
    [{"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "relu"}, {"type": "average_pool2d"}],
    [{"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "relu", "name": "c"},
     {"type": "max_pool2d", "name": "p"}, {"type": "flatten", "inputs": ["c"], "name": "f"},
     {"type": "flatten", "inputs": ["p"], "name": "g"}, {"type": "concatenate", "inputs": ["f", "g"]}],
    [{"type": "conv2d", "filters": 2, "kernel_size": 3}, {"type": "activation", "activation": "relu"},
     {"type": "max_pool2d"}],
], ids=["tanh", "average-pool", "relu-read-twice", "relu-its-own-layer"])
def test_relus_gradient_stays_with_its_layer_otherwise(layers):
    from nnrun.model.graph import compile_graph

    assert compile_graph(_specs(layers), (8, 8, 1)).relu_pools == {}


def test_relus_gradient_is_taken_by_the_max_pool_with_the_compiled_kernels_too(monkeypatch):
    pytest.importorskip("numba")
    from nnrun.model import kernels

    layers = [{"type": "conv2d", "filters": 5, "kernel_size": 3, "activation": "relu"}, {"type": "max_pool2d"},
              *HEAD]
    for name, value in (("_loaded", {}), ("_unavailable", []), ("_in_use", [False])):  # this test's own
        monkeypatch.setattr(kernels, name, value)
    monkeypatch.delenv("NNRUN_KERNELS", raising=False)
    assert kernels.prepare(kernels.MIN_PARAMETERS)
    assert kernels.compiled("max_pool_backward_tiled", np.zeros((1, 1, 1, 1), np.float32)) is not None
    fused, plain = _gradients(layers, (10, 8, 2), True), _gradients(layers, (10, 8, 2), False)
    assert np.array_equal(fused.view(np.uint32), plain.view(np.uint32))


def test_no_fusion_for_a_relu_layer_that_is_the_output_or_read_through_dropout():
    from nnrun.model.graph import compile_graph

    as_output = [{"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "relu"}]
    through_dropout = [{"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "relu"},
                       {"type": "dropout", "rate": 0.5}, {"type": "max_pool2d"}]
    for layers in (as_output, through_dropout):
        assert compile_graph(_specs(layers), (8, 8, 1)).relu_pools == {}


@pytest.mark.parametrize("channels", [1, 3, 15, 16, 20])
def test_im2col_gives_every_window_in_either_layout(channels):
    from nnrun.model.layers.windows import FEW_CHANNELS, im2col

    x = np.random.default_rng(3).standard_normal((3, 7, 8, channels), dtype=np.float32)
    cols = im2col(x, (3, 3), (2, 3), (2, 2), (1, 1))
    # The reference: window (n, r, q) is x[n, 2r:2r+2, 2q:2q+3, :], flattened.
    expected = np.stack([x[n, 2 * r : 2 * r + 2, 2 * q : 2 * q + 3, :].reshape(-1)
                         for n in range(3) for r in range(3) for q in range(3)])
    assert np.array_equal(cols, expected)
    assert cols.flags.f_contiguous == (channels < FEW_CHANNELS)
    # With a column of ones after the windows' (for the bias gradient), the same windows.
    with_ones = im2col(x, (3, 3), (2, 3), (2, 2), (1, 1), ones=True)
    assert np.array_equal(with_ones[:, :-1], expected) and np.all(with_ones[:, -1] == 1)
    assert with_ones.flags.f_contiguous == (channels < FEW_CHANNELS)


def test_global_max_pool2d_against_loops_and_torch():
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 5)).astype(np.float32)
    layer = GlobalMaxPool2D()
    assert layer.output_shape((3, 4, 5)) == (5,)
    y, cache = layer.forward({}, x, True, None)
    np.testing.assert_array_equal(y, x.max(axis=(1, 2)))
    dy = np.random.default_rng(4).normal(size=y.shape).astype(np.float32)
    dx, grads = layer.backward({}, cache, dy)
    expected = np.zeros_like(x)
    for n in range(2):
        for c in range(5):
            i, j = np.unravel_index(x[n, :, :, c].argmax(), (3, 4))
            expected[n, i, j, c] = dy[n, c]
    np.testing.assert_array_equal(dx, expected)
    assert grads == {}
    torch = pytest.importorskip("torch")  # PyTorch's global max pooling: the same values and gradient
    tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
    ty = torch.nn.functional.adaptive_max_pool2d(tx, 1).flatten(1)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_array_equal(ty.detach().numpy(), y)
    np.testing.assert_array_equal(tx.grad.numpy().transpose(0, 2, 3, 1), dx)


def test_images_stored_channels_first_are_told_to_be_transposed(run_cli, tmp_path):
    """PyTorch's (channels, height, width): the layers' shape errors come with the cause,
    and a model that fits such images anyway is warned about them."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "nchw.npz", x=rng.random((40, 1, 16, 16)).astype(np.float32), y=np.arange(40) % 2)
    text = ("data: {source: {type: npz, path: nchw.npz}}\nmodel:\n  layers:\n"
            "    - {type: conv2d, filters: 4, kernel_size: 3}\n    - {type: max_pool2d, pool_size: 2}\n"
            "    - {type: flatten}\n    - {type: dense, units: 2, activation: softmax}\nloss: categorical_crossentropy\n")
    (tmp_path / "c.yaml").write_text(text)
    result = run_cli("validate", tmp_path / "c.yaml")
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and "c.yaml:1:16: data.source: the samples (1, 16, 16) look like images stored " \
        "channels first, (channels, height, width); nnrun's images are channels last, (height, width, channels): " \
        "give x.transpose(0, 2, 3, 1), shape (16, 16, 1)" in out, result.output
    assert "model.layers.0: conv2d_0: the (3, 3) kernel does not fit" in out  # the layers' own problem still told
    (tmp_path / "c.yaml").write_text(text.replace("kernel_size: 3}", "kernel_size: 3, padding: same}").replace(
        "    - {type: max_pool2d, pool_size: 2}\n", ""))
    result = run_cli("validate", tmp_path / "c.yaml")
    assert result.exit_code == 0 and "warning: the samples (1, 16, 16) look like images stored channels first" in \
        " ".join(result.output.split()), result.output


def test_images_fed_as_stored_are_warned_to_be_scaled(run_cli):
    from conftest import ROOT

    unscaled = run_cli("validate", ROOT / "configs" / "digits_cnn.yaml", "--set", "data.preprocess=[]")
    assert unscaled.exit_code == 0 and "warning: data.preprocess: the images go in as stored, values from 0 to 16; " \
        "networks learn slowly or not at all from such inputs: add preprocess: [{type: scale, factor: 0.0625}] " \
        "(1/16), or [standardize]" in " ".join(unscaled.output.split())
    assert "warning" not in run_cli("validate", ROOT / "configs" / "digits_cnn.yaml").output  # scaled by its config


def test_a_series_laid_out_for_conv2d_is_no_image_stored_channels_first():
    from nnrun.model.layers.base import channels_first

    conv = [Conv2D(filters=2, kernel_size=(1, 3))]
    assert channels_first((1, 128, 9), conv) is None  # 128 steps of 9 channels as one row: channels last
    assert channels_first((3, 32, 32), conv).startswith("the samples (3, 32, 32) look like images stored channels first")
    assert channels_first((3, 32, 32), [MaxPool1D()]) is None  # no layer that reads images
    from nnrun.model.layers.core import Dropout
    from nnrun.model.layers.shape import Reshape

    assert channels_first((3, 32, 32), [Dropout(rate=0.1), *conv]) is not None  # the images reach it as they are
    assert channels_first((1, 16, 16), [Reshape(target_shape=[16, 16, 1]), *conv]) is None  # its own images


def test_images_of_one_channel_reshaped_first_are_scaled_and_not_called_channels_first(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "gray.npz", x=(rng.random((40, 16, 16)) * 250).astype(np.float32), y=np.arange(40) % 2)
    np.savez(tmp_path / "one.npz", x=rng.random((40, 1, 16, 16)).astype(np.float32), y=np.arange(40) % 2)
    text = ("data: {source: {type: npz, path: gray.npz}}\nmodel:\n  layers:\n"
            "    - {type: reshape, target_shape: [16, 16, 1]}\n    - {type: conv2d, filters: 2, kernel_size: 3}\n"
            "    - {type: flatten}\n    - {type: dense, units: 2, activation: softmax}\nloss: categorical_crossentropy\n")
    (tmp_path / "g.yaml").write_text(text)
    out = " ".join(run_cli("validate", tmp_path / "g.yaml").output.split())
    assert "the images go in as stored, values from" in out and "factor: 0.00392157}] (1/255)" in out, out
    # (1, 16, 16) reshaped into (16, 16, 1) first: one channel, rightly laid out; nothing to transpose.
    (tmp_path / "o.yaml").write_text(text.replace("gray.npz", "one.npz"))
    result = run_cli("validate", tmp_path / "o.yaml")
    assert result.exit_code == 0 and "channels first" not in result.output, result.output
