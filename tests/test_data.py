"""Bundled data, seeded stratified splits, preprocessing fitted on training data only."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnrun.config.schema import DataConfig
from nnrun.data import BUILTIN, load_splits
from nnrun.data.preprocess import (
    MinMax,
    Scale,
    Standardize,
    _mean_std,
    apply_pipeline,
    fit_pipeline,
)
from nnrun.data.sources import BuiltinSource, SyntheticSource
from nnrun.errors import UserError


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_data_sets_load(name):
    data = BuiltinSource(name=name).load(0)
    expected = {"iris": (150, (4,), 3), "wine": (178, (13,), 3), "breast_cancer": (569, (30,), 2),
                "digits": (1797, (8, 8, 1), 10), "diabetes": (442, (10,), 0)}[name]
    assert (len(data), data.input_shape, data.num_classes) == expected
    assert data.x.dtype == np.float32


def test_iris_split_is_stratified_and_seeded():
    config = DataConfig(source={"type": "builtin", "name": "iris"}, split={"validation": 0.1, "test": 0.2})
    splits = load_splits(config, seed=42).parts
    assert {k: len(v) for k, v in splits.items()} == {"train": 105, "validation": 15, "test": 30}
    for part, per_class in (("train", 35), ("validation", 5), ("test", 10)):
        assert np.bincount(splits[part].y).tolist() == [per_class] * 3
    again = load_splits(config, seed=42).parts
    assert np.array_equal(again["test"].x, splits["test"].x)
    other = load_splits(config, seed=1).parts
    assert not np.array_equal(other["test"].x, splits["test"].x)
    # The splits are disjoint and cover the data set.
    rows = np.concatenate([p.x for p in splits.values()])
    assert len(np.unique(rows, axis=0)) == len(np.unique(BuiltinSource(name="iris").load(0).x, axis=0))


def test_empty_split_is_an_error():
    config = DataConfig(source={"type": "synthetic", "samples": 5}, split={"validation": 0.05, "test": 0.2})
    with pytest.raises(UserError, match="the validation split would be empty"):
        load_splits(config, seed=0)


def test_standardize_uses_training_statistics_only():
    train = np.array([[0.0, 5.0], [2.0, 5.0]], np.float32)
    states = fit_pipeline([Standardize()], train)
    assert states == [{"mean": [1.0, 5.0], "std": [1.0, 1.0]}]  # constant column: std 1
    test = np.array([[4.0, 7.0]], np.float32)
    assert apply_pipeline([Standardize()], states, test).tolist() == [[3.0, 2.0]]


def test_standardize_statistics_are_float64_exact_over_chunks():
    """Many chunks, a large offset (where float32 sums lose digits) and constant
    columns: the mean and std match NumPy's float64 ones, and a constant stays at 0."""
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(1e4, 1e-2, 20_001), rng.normal(0, 100, 20_001), np.full(20_001, 0.1),
                         np.full(20_001, -3.3e6)]).astype(np.float32)
    mean, std = _mean_std(x)
    np.testing.assert_allclose(mean, x.mean(axis=0, dtype=np.float64), rtol=1e-12)
    np.testing.assert_allclose(std[:2], x.std(axis=0, dtype=np.float64)[:2], rtol=1e-9)
    assert std[2] == 0 and std[3] == 0


def test_standardize_statistics_of_values_whose_squares_pass_float32(recwarn):
    # Squared in float32, 1e30 overflowed: std inf, the feature zeroed, a raw NumPy warning.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 2)).astype(np.float32)
    x[:, 0] *= 1e30
    mean, std = _mean_std(x)
    np.testing.assert_allclose(std, x.std(axis=0, dtype=np.float64), rtol=1e-6)
    assert np.isfinite(std).all() and not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_pipeline_fits_each_step_on_the_previous_output():
    x = np.array([[0.0], [10.0]], np.float32)
    steps = [Scale(factor=2.0), Standardize()]
    assert fit_pipeline(steps, x) == [{}, {"mean": [10.0], "std": [10.0]}]


def test_per_channel_statistics_are_of_the_last_axis_over_every_step():
    # Sequences (N, steps, features): Keras's Normalization(axis=-1), not one mean per step and feature.
    x = np.random.default_rng(0).normal(3, 2, (40, 5, 3)).astype(np.float32)
    (state,) = fit_pipeline([Standardize(per="channel")], x)
    flat = x.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(state["mean"], flat.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(state["std"], flat.std(axis=0), rtol=1e-6)
    out = apply_pipeline([Standardize(per="channel")], [state], x)
    np.testing.assert_allclose(out.reshape(-1, 3).mean(axis=0), 0, atol=1e-5)
    (ranges,) = fit_pipeline([MinMax(per="channel")], x)
    assert ranges["min"] == x.reshape(-1, 3).min(axis=0).tolist()
    # Stored flat and reshaped by the model: warned, as the statistics are then per step.
    from nnrun.engine.experiment import as_loaded, build

    config = {"data": {"preprocess": [{"type": "standardize", "per": "channel"}]}, "loss": "categorical_crossentropy",
              "model": {"layers": [{"type": "reshape", "target_shape": [4, 1]}, {"type": "flatten"},
                                   {"type": "dense", "units": 2, "activation": "softmax"}]}}
    flat = {**config, "data": {**config["data"], "source": {"type": "synthetic", "samples": 40, "features": 4,
                                                             "classes": 2}}}
    assert any(w.startswith("data.preprocess.0: per: channel takes the last axis of the samples as stored, (4,)")
               for w in build(as_loaded(flat)).warnings)
    # A table's columns are its channels: the same statistics either way.
    table = x[:, 0, :]
    assert fit_pipeline([Standardize(per="channel")], table) == fit_pipeline([Standardize()], table)


def test_minmax_and_scale():
    x = np.array([[0.0], [10.0]], np.float32)
    steps = [MinMax(), Scale(factor=2.0)]
    states = fit_pipeline(steps, x)
    assert apply_pipeline(steps, states, np.array([[5.0]], np.float32)).tolist() == [[1.0]]


def test_pipeline_leaves_the_callers_array_alone_unless_owned():
    """Preprocessing copies the samples once, or, for a matrix the caller owns (freshly
    encoded features), writes into it; the values are the same either way."""
    x = np.array([[0.0, 4.0], [10.0, 8.0]], np.float32)
    steps = [Standardize(), MinMax(), Scale(factor=3.0)]
    states = fit_pipeline(steps, x)
    original = x.copy()
    copied = apply_pipeline(steps, states, x)
    np.testing.assert_array_equal(x, original)
    assert not np.shares_memory(copied, x)
    in_place = apply_pipeline(steps, states, x, owned=True)
    assert np.shares_memory(in_place, x)
    np.testing.assert_array_equal(in_place, copied)


def test_synthetic_is_seeded():
    a = SyntheticSource(samples=50, features=3).load(1)
    b = SyntheticSource(samples=50, features=3).load(1)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, SyntheticSource(samples=50, features=3).load(2).x)


def _split_set(x: np.ndarray):
    from nnrun.data import Dataset

    y = np.arange(len(x)) % 3
    data = Dataset(x, y, "classification", [f"f{i}" for i in range(x.shape[1])], ["a", "b", "c"])
    order = np.random.default_rng(0).permutation(len(x))
    indices = {"train": np.sort(order[: len(x) * 7 // 10]), "validation": np.sort(order[len(x) * 7 // 10 : len(x) * 8 // 10]),
               "test": np.sort(order[len(x) * 8 // 10 :])}
    return data, indices


def test_split_moves_the_training_rows_into_the_samples_own_memory():
    """The training part reuses the loaded samples (their rows moved to the front in
    place), the held-out parts are copies, and every part holds the rows, in the order,
    that copying them out gives, to the bit."""
    x = np.random.default_rng(1).standard_normal((3000, 700), dtype=np.float32)  # blocks of 749 rows
    data, indices = _split_set(x)
    expected = {name: (x[rows].copy(), data.y[rows]) for name, rows in indices.items()}
    parts = data.split(indices)
    assert list(parts) == ["train", "validation", "test"]
    assert np.shares_memory(parts["train"].x, x)
    assert not np.shares_memory(parts["validation"].x, x) and not np.shares_memory(parts["test"].x, x)
    for name, (samples, targets) in expected.items():
        np.testing.assert_array_equal(parts[name].x, samples)
        np.testing.assert_array_equal(parts[name].y, targets)


@pytest.mark.parametrize("kind", ["a slice of a larger array", "read-only"])
def test_split_copies_samples_that_are_not_the_sets_own(kind):
    base = np.random.default_rng(2).standard_normal((600, 9), dtype=np.float32)
    x = base[:, :8] if kind.startswith("a slice") else base.copy()
    x.flags.writeable = kind != "read-only"
    before = x.copy()
    data, indices = _split_set(x)
    parts = data.split(indices)
    np.testing.assert_array_equal(x, before)  # untouched
    assert not any(np.shares_memory(part.x, x) for part in parts.values())
    np.testing.assert_array_equal(parts["train"].x, before[indices["train"]])


def test_split_without_held_out_rows_is_the_set_itself():
    x = np.ones((10, 2), np.float32)
    data, _ = _split_set(x)
    parts = data.split({"train": np.arange(10), "validation": np.arange(0), "test": np.arange(0)})
    assert list(parts) == ["train"] and parts["train"].x is x


_PEAK_CHILD = """
import sys, tempfile
import nnrun, numpy

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

def train(samples, features, tmp):
    config = {"name": "peak", "data": {"source": {"type": "synthetic", "samples": samples, "features": features,
              "classes": 3, "seed": 0}, "preprocess": ["standardize"]},
              "model": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1, "batch_size": 4000}}
    nnrun.train(config, run_dir=f"{tmp}/run{samples}")

with tempfile.TemporaryDirectory() as tmp:
    train(100, 8, tmp)  # every module imported first: their memory is not the data's
    base = kib("VmRSS")
    train(40000, 512, tmp)
print((kib("VmHWM") - base) / (40000 * 512 * 4 / 1024))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_training_with_the_default_split_and_standardize_peaks_near_the_data_once(tmp_path):
    """The split keeps the samples' memory for the training rows and preprocessing
    writes into each split: the peak is the data plus the held-out copies (1.34x
    here), where copying every split and then standardizing them held 2.02x."""
    out = subprocess.run([sys.executable, "-c", _PEAK_CHILD], capture_output=True, text=True, cwd=tmp_path,
                         check=True).stdout
    assert float(out.strip().splitlines()[-1]) < 1.5
