"""The optional compiled update kernels (the ``fast`` extra): the same weights as the
NumPy code to the last bit, used only for large models, and never imported otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from nnrun.model import kernels
from nnrun.model.optimizers import Adam, AdamW
from conftest import run_python

ROOT = Path(__file__).resolve().parent.parent
SIZE = kernels.MIN_PARAMETERS + 7  # not a multiple of any vector width


@pytest.fixture
def fresh_kernels(monkeypatch):
    """Forget what this process loaded, so each test decides anew."""
    monkeypatch.setattr(kernels, "_loaded", {})
    monkeypatch.setattr(kernels, "_unavailable", [])


def run_steps(optimizer, use_kernels: bool, monkeypatch, steps: int = 40):
    monkeypatch.setenv("NNRUN_KERNELS", "auto" if use_kernels else "numpy")
    rng = np.random.default_rng(3)
    weights = rng.standard_normal(SIZE, dtype=np.float32)
    slots = optimizer.slots(SIZE, np.float32)
    for t in range(1, steps + 1):
        # Gradients over many magnitudes, zeros among them: every rounding path is taken.
        grads = rng.standard_normal(SIZE, dtype=np.float32) * np.float32(10.0 ** rng.integers(-8, 4))
        grads[rng.integers(0, SIZE, 100)] = 0
        optimizer.step(weights, grads, slots, 0.003, t)
    return weights, slots


@pytest.mark.parametrize("optimizer", [Adam(), Adam(beta_1=0.5, beta_2=0.9, epsilon=1e-3), AdamW(weight_decay=0.01)],
                         ids=["adam", "adam-options", "adamw"])
def test_compiled_adam_gives_the_numpy_weights_bit_for_bit(optimizer, fresh_kernels, monkeypatch):
    pytest.importorskip("numba")
    assert kernels.prepare(SIZE)
    assert kernels.compiled("adam") is not None
    compiled_weights, compiled_slots = run_steps(optimizer, True, monkeypatch)
    numpy_weights, numpy_slots = run_steps(optimizer, False, monkeypatch)
    assert np.array_equal(compiled_weights, numpy_weights)
    for name in ("m", "v"):
        assert np.array_equal(compiled_slots[name], numpy_slots[name]), name


def test_small_models_and_the_switch_keep_the_numpy_code(fresh_kernels, monkeypatch):
    assert not kernels.prepare(kernels.MIN_PARAMETERS - 1)
    assert kernels.compiled("adam") is None
    monkeypatch.setenv("NNRUN_KERNELS", "numpy")
    assert not kernels.prepare(SIZE)
    assert kernels.compiled("adam") is None


def test_without_numba_training_uses_numpy(fresh_kernels, monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # as if not installed
    assert not kernels.prepare(SIZE)
    assert kernels.compiled("adam") is None
    weights, _ = run_steps(Adam(), True, monkeypatch, steps=2)
    assert np.isfinite(weights).all()


def test_a_small_model_run_never_imports_numba(tmp_path):
    code = ("import sys\nfrom nnrun.cli import app\n"
            f"try:\n    app(['train', {str(ROOT / 'configs' / 'iris.yaml')!r}, '--run-dir', 'r', '--quiet'])\n"
            "except SystemExit as e:\n    assert e.code == 0, e.code\n"
            "assert 'numba' not in sys.modules\n")
    result = run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_compiled_finite_check_finds_nan_and_both_infinities(fresh_kernels):
    pytest.importorskip("numba")
    assert kernels.prepare(SIZE)
    all_finite = kernels.compiled("all_finite")
    values = np.random.default_rng(0).standard_normal(SIZE, dtype=np.float32) * np.float32(1e30)
    assert all_finite(values)  # large but finite: a float32 sum of these would overflow
    for bad in (np.nan, np.inf, -np.inf):
        spoiled = values.copy()
        spoiled[SIZE - 3] = bad
        assert not all_finite(spoiled), bad


def test_a_large_activation_model_loads_them_by_its_values(fresh_kernels):
    pytest.importorskip("numba")
    assert not kernels.prepare(1000, kernels.MIN_VALUES - 1)
    assert kernels.prepare(1000, kernels.MIN_VALUES)
    assert kernels.compiled("max_pool_forward") is not None


def _element_wise_results(use_kernels: bool, monkeypatch) -> list[np.ndarray]:
    """Max pooling both ways (tiled and overlapping windows, NaN, ties, zeros after
    relu) and relu with a bias and its gradient, on one and two row threads."""
    from nnrun.model.activations import ACTIVATIONS
    from nnrun.model.layers.pooling import MaxPool1D, MaxPool2D
    from nnrun.model.rows import row_threads

    monkeypatch.setenv("NNRUN_KERNELS", "auto" if use_kernels else "numpy")
    monkeypatch.setattr("nnrun.model.rows.MIN_ELEMENTS", 64)  # split even these small arrays
    rng = np.random.default_rng(5)
    results = []
    cases = [(MaxPool2D(), (6, 8, 10, 5)), (MaxPool2D(pool_size=3, strides=2, padding="same"), (4, 7, 9, 3)),
             (MaxPool2D(pool_size=(2, 1)), (3, 6, 5, 2)), (MaxPool1D(), (5, 8, 3))]
    for threads in (1, 2):
        with row_threads(threads):
            for layer, shape in cases:
                x = np.maximum(rng.standard_normal(shape, dtype=np.float32), 0)  # many tied zeros
                x.reshape(-1)[[0, 7, 8]] = [np.nan, -0.0, np.inf]
                y, cache = layer.forward({}, x, True, None)
                dy = rng.standard_normal(y.shape, dtype=np.float32)
                dy.reshape(-1)[3] = np.inf
                results += [y, layer.backward({}, cache, dy)[0]]
            z = rng.standard_normal((40, 12), dtype=np.float32)
            z[0, :4] = [np.nan, -0.0, 0.0, -1.0]
            bias = rng.standard_normal(12, dtype=np.float32)
            bias[:4] = [0.0, -0.0, -0.0, 1.0]  # -0.0 + -0.0 stays -0.0; relu makes it 0.0
            y, _ = ACTIVATIONS["relu"].apply(z, bias)
            dy = rng.standard_normal(y.shape, dtype=np.float32)
            dy[1, :2] = [np.inf, np.nan]
            results += [y, ACTIVATIONS["relu"].gradient(None, y, dy)]
    return results


def test_compiled_element_wise_kernels_give_the_numpy_values_bit_for_bit(fresh_kernels, monkeypatch):
    pytest.importorskip("numba")
    assert kernels.prepare(1000, kernels.MIN_VALUES)
    with np.errstate(invalid="ignore"):
        compiled = _element_wise_results(True, monkeypatch)
        plain = _element_wise_results(False, monkeypatch)
    assert len(compiled) == len(plain) == 20
    for index, (a, b) in enumerate(zip(compiled, plain)):
        assert a.shape == b.shape, index
        # As bits: NaN where NumPy has NaN, and the sign of every zero.
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), index


def test_the_compiled_kernels_take_only_contiguous_float32(fresh_kernels):
    pytest.importorskip("numba")
    assert kernels.prepare(1000, kernels.MIN_VALUES)
    images = np.zeros((2, 4, 4, 3), np.float32)
    assert kernels.compiled("max_pool_forward", images) is not None
    assert kernels.compiled("max_pool_forward", images.astype(np.float64)) is None  # gradient checks
    assert kernels.compiled("max_pool_forward", images[:, ::2]) is None
    assert kernels.compiled(None, images) is None
