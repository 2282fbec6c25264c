"""Synthetic, NPZ and IDX sources, and `nnrun datasets`."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import numpy as np
import pytest

from nnrun.config.schema import DataConfig
from nnrun.data import load_splits
from nnrun.data.formats import read_idx, write_idx
from nnrun.data.preprocess import apply_pipeline, fit_pipeline
from nnrun.data.sources import SyntheticSource


def config_for(tmp_path: Path, source: str, units: int = 2, split: str = "{validation: 0, test: 0.25}") -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"name: src\ndata:\n  source: {source}\n  split: {split}\n"
        f"model:\n  layers:\n    - {{type: dense, units: {units}, activation: softmax}}\n"
        "loss: categorical_crossentropy\nmetrics: [accuracy]\ntraining: {epochs: 1}\n"
    )
    return path


def train(run_cli, config: Path):
    return run_cli("train", config, "-q", "--run-dir", config.parent / "run")


@pytest.mark.parametrize("pattern, classes", [("moons", 2), ("spirals", 3), ("clusters", 3)])
def test_synthetic_patterns(pattern, classes):
    source = SyntheticSource(pattern=pattern, samples=300, seed=1)
    data = source.load(0)
    assert data.num_classes == classes and data.x.dtype == np.float32
    assert data.input_shape == ((2,) if pattern != "clusters" else (20,))
    assert np.array_equal(data.x, SyntheticSource(pattern=pattern, samples=300, seed=1).load(5).x)
    assert set(np.unique(data.y)) == set(range(classes))


def test_moons_are_two_half_circles():
    data = SyntheticSource(pattern="moons", samples=200, noise=0.0, seed=0).load(0)
    top = data.x[data.y == 0]
    assert np.allclose(np.hypot(top[:, 0], top[:, 1]), 1.0, atol=1e-5) and (top[:, 1] >= -1e-6).all()


def test_synthetic_mistakes_are_config_errors(run_cli, tmp_path):
    result = train(run_cli, config_for(tmp_path, "{type: synthetic, pattern: moons, classes: 3}"))
    assert result.exit_code == 2
    assert "c.yaml:3:11: data.source: moons has 2 classes, not 3" in result.output
    result = train(run_cli, config_for(tmp_path, "{type: synthetic, task: regression, pattern: spirals}"))
    assert result.exit_code == 2 and "pattern 'spirals' does not make a regression task" in result.output


def test_mnist_sized_synthetic_set_is_fast():
    started = time.perf_counter()
    data = SyntheticSource(samples=60_000, features=784, classes=10, seed=0).load(0)
    assert data.x.shape == (60_000, 784) and data.num_classes == 10
    assert time.perf_counter() - started < 5.0


def test_npz_source_with_named_arrays_and_test_arrays(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "xy.npz", features=rng.normal(size=(40, 3)), labels=np.arange(40) % 2,
             x_test=rng.normal(size=(6, 3)), y_test=np.arange(6) % 2)
    source = "{type: npz, path: xy.npz, x: features, y: labels}"
    result = train(run_cli, config_for(tmp_path, source, split="{validation: 0.25}"))
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["samples"] == {"train": 30, "validation": 10, "test": 6}
    assert "also training rows" not in result.output


def test_predict_and_evaluate_take_archives_named_as_the_run_named_its_own(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "xy.npz", images=rng.normal(size=(40, 3)), labels=np.arange(40) % 2)
    result = train(run_cli, config_for(tmp_path, "{type: npz, path: xy.npz, x: images, y: labels}"))
    assert result.exit_code == 0, result.output
    np.savez(tmp_path / "new.npz", images=rng.normal(size=(5, 3)), labels=np.arange(5) % 2)
    np.savez(tmp_path / "plain.npz", x=rng.normal(size=(5, 3)), y=np.arange(5) % 2)
    for archive in ("new.npz", "plain.npz"):  # the run's names, or x and y
        assert run_cli("predict", tmp_path / "run", tmp_path / archive, "-o", "-").exit_code == 0
        assert run_cli("evaluate", tmp_path / "run", "--data", tmp_path / archive).exit_code == 0
    np.savez(tmp_path / "other.npz", samples=np.ones((2, 3)))
    result = run_cli("predict", tmp_path / "run", tmp_path / "other.npz", "-o", "-")
    assert result.exit_code == 2
    assert "other.npz: no array named 'images' or 'x' with the samples (the archive holds: samples); save them " \
        "under 'x'" in result.output


def test_a_test_set_copied_from_the_training_data_is_warned(run_cli, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    np.savez(tmp_path / "xy.npz", x=x, y=np.arange(40) % 2, x_test=x[:8], y_test=np.arange(8) % 2)
    result = run_cli("validate", config_for(tmp_path, "{type: npz, path: xy.npz}", split="{validation: 0}"))
    assert result.exit_code == 0, result.output
    assert "warning: 8 of the 8 test rows are also training rows (the same values): the test scores will be " \
        "optimistic; hold out rows the model does not train on" in " ".join(result.output.split())


def test_a_held_out_split_without_a_rare_class_is_warned(run_cli, tmp_path):
    # 4 samples of class 1: validation 0.1 and test 0.1 round to none of them, even
    # stratified, so a binary auc there reads NaN in every epoch.
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "xy.npz", x=rng.normal(size=(200, 3)), y=(np.arange(200) < 4).astype(int))
    result = run_cli("validate", config_for(tmp_path, "{type: npz, path: xy.npz}",
                                            split="{validation: 0.1, test: 0.1}"))
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "warning: the validation split (20 samples) has no sample of class '1' (4 in all): its scores of that " \
           "class are undefined or zero (a binary auc or pr_auc reads NaN); raise data.split.validation, or use more data" in out
    assert "the test split (20 samples) has no sample of class '1'" in out
    result = run_cli("validate", config_for(tmp_path, "{type: npz, path: xy.npz}", split="{validation: 0.3}"))
    assert result.exit_code == 0 and "has no sample of class" not in result.output


@pytest.mark.parametrize(
    "arrays, source, fragment",
    [
        ({"x": np.zeros((4, 2)), "y": np.zeros(4)}, "{type: npz, path: xy.npz, y: label}",
         "no array named 'label'; the arrays are: x, y"),
        ({"x": np.array([{"a": 1}] * 4, dtype=object), "y": np.zeros(4)}, "{type: npz, path: xy.npz}",
         "'x' is an object array, which needs pickle; nnrun never unpickles data hint: save it as text or numbers: "
         "numpy.savez(path, x=x.astype(str)) for labels or texts (drop the rows of a missing label first: it would "
         "be a text too), .astype(numpy.float32) for numbers"),
        ({"x": np.zeros((4, 2)), "y": np.zeros(3)}, "{type: npz, path: xy.npz}", "'x' has 4 samples but 'y' has 3"),
        ({"x": np.full((4, 2), np.nan), "y": np.zeros(4)}, "{type: npz, path: xy.npz}",
         "'x' holds NaN, infinity or a number beyond float32's range, 3.4e38, in 4 samples (samples 0, 1, 2, 3, "
         "counted from 0)"),
        ({"x": np.array([[0.0, 1], [2, 3], [1e39, 0], [0, np.inf]]), "y": np.zeros(4)}, "{type: npz, path: xy.npz}",
         "in 2 samples (samples 2, 3, counted from 0)"),
        ({"x": np.zeros(4), "y": np.zeros(4)}, "{type: npz, path: xy.npz}", "'x' must be a real numeric array"),
        # Each of these three once ended in a traceback (exit 1) from NumPy.
        ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, "{type: npz, path: xy.npz}", "'x' holds no samples (shape (0, 2))"),
        ({"x": np.zeros((30, 0, 3)), "y": np.arange(30) % 2}, "{type: npz, path: xy.npz}",
         "'x' has shape (30, 0, 3): its samples hold no values (an axis of length 0)"),
        ({"x": np.zeros((30, 5, 3)), "y": np.arange(30) % 2, "x_test": np.zeros((6, 4, 3)), "y_test": np.arange(6) % 2},
         "{type: npz, path: xy.npz}", "'x_test' holds samples of shape (4, 3), but 'x' holds (5, 3); every split's "
         "arrays must be shaped alike"),
        # A missing class is no class of its own ("nan", "").
        ({"x": np.zeros((30, 2)), "y": np.where(np.arange(30) == 7, np.nan, np.arange(30) % 2)},
         "{type: npz, path: xy.npz}", "1 class label is missing (NaN, empty, or 'nan' or '<NA>' as astype(str) "
         "writes one), in sample 7 (counted from 0); a missing target is always an error"),
        ({"x": np.zeros((30, 2)), "y": np.array(["a", "b", "", " "] * 7 + ["a", "b"])},
         "{type: npz, path: xy.npz}", "14 class labels are missing (NaN, empty, or 'nan' or '<NA>' as astype(str) "
         "writes one), in samples 2, 3, 6, 7, 10 and 9 more"),
        ({"x": np.zeros((30, 2)), "y": np.array(["a", "b", "nan"] * 10)}, "{type: npz, path: xy.npz}",
         "10 class labels are missing (NaN, empty, or 'nan' or '<NA>' as astype(str) writes one)"),
        ({"x": np.zeros((30, 4, 3)), "y": np.arange(30) % 2, "feature_names": np.array(["a", "b", "c"])},
         "{type: npz, path: xy.npz}", "'feature_names' names the columns of samples of one axis (samples, features), "
         "and 'x' holds samples of shape (4, 3) hint: leave 'feature_names' out of the archive"),
        ({"x": np.zeros((30, 2)), "y": np.where(np.arange(30) % 10 == 3, np.nan, 1.0)},
         "{type: npz, path: xy.npz, task: regression}", "the regression target holds missing or non-finite values, "
         "in samples 3, 13, 23 (counted from 0)"),
        ({"x": np.zeros((30, 2)), "y": np.zeros((30, 2)), "target_names": np.array(["a", "b", "c"])},
         "{type: npz, path: xy.npz, task: regression}", "'target_names' must be a text array of one name per column "
         "of several regression targets ('y' of shape (30, 2), task regression), got <U1 of shape (3,)"),
    ],
)
def test_bad_npz_data(run_cli, tmp_path, arrays, source, fragment):
    np.savez(tmp_path / "xy.npz", **arrays)
    result = train(run_cli, config_for(tmp_path, source))
    assert result.exit_code == 2 and fragment in " ".join(result.output.split()), result.output


def test_npz_that_is_not_an_archive(run_cli, tmp_path):
    (tmp_path / "xy.npz").write_text("hello")
    result = train(run_cli, config_for(tmp_path, "{type: npz, path: xy.npz}"))
    assert result.exit_code == 2 and "xy.npz: not a valid .npz file" in result.output


def write_mnist_like(folder: Path, suffix: str, n: int = 20, test: int = 0, shape=(5, 4)) -> None:
    rng = np.random.default_rng(0)
    for prefix, count in (("train", n), ("t10k", test)):
        if count:
            write_idx(folder / f"{prefix}-images{suffix}", rng.integers(0, 256, (count, *shape), dtype=np.uint8))
            write_idx(folder / f"{prefix}-labels{suffix}", (np.arange(count) % 2).astype(np.uint8))


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_images_raw_and_gzip(tmp_path, suffix):
    write_mnist_like(tmp_path, suffix, test=4)
    assert read_idx(tmp_path / f"train-images{suffix}").shape == (20, 5, 4)
    data = DataConfig(source={"type": "idx", "images": str(tmp_path / f"train-images{suffix}"),
                              "labels": str(tmp_path / f"train-labels{suffix}"),
                              "test_images": str(tmp_path / f"t10k-images{suffix}"),
                              "test_labels": str(tmp_path / f"t10k-labels{suffix}")},
                      split={"validation": 0.2}, preprocess=[{"type": "scale", "factor": 1 / 255}])
    parts = load_splits(data, seed=0).parts
    assert {k: v.x.shape for k, v in parts.items()} == {"train": (16, 5, 4, 1), "validation": (4, 5, 4, 1),
                                                        "test": (4, 5, 4, 1)}
    assert parts["train"].class_names == ["0", "1"] and parts["train"].x.max() <= 255


def test_idx_trains_through_the_cli(run_cli, tmp_path):
    write_mnist_like(tmp_path, ".gz", shape=(6,))  # flat feature rows, for a dense-only model
    result = train(run_cli, config_for(tmp_path, "{type: idx, images: train-images.gz, labels: train-labels.gz}"))
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "preprocess.json").read_text())
    assert saved["input_shape"] == [6] and saved["class_names"] == ["0", "1"]


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda raw: b"\x12\x34" + raw[2:], "not an IDX file (bad magic number 1234"),
        (lambda raw: raw[:-3], "the file is damaged"),
        (lambda raw: raw[:6], "the IDX header is cut short"),
        (lambda raw: gzip.compress(raw)[:-8], "a damaged gzip file"),
    ],
)
def test_bad_idx_files(run_cli, tmp_path, damage, fragment):
    write_mnist_like(tmp_path, "")
    images = tmp_path / "train-images"
    images.write_bytes(damage(images.read_bytes()))
    result = train(run_cli, config_for(tmp_path, "{type: idx, images: train-images, labels: train-labels}"))
    assert result.exit_code == 2 and fragment in result.output, result.output


def test_idx_counts_must_match(run_cli, tmp_path):
    write_mnist_like(tmp_path, "")
    write_idx(tmp_path / "train-labels", np.zeros(7, np.uint8))
    result = train(run_cli, config_for(tmp_path, "{type: idx, images: train-images, labels: train-labels}"))
    assert result.exit_code == 2 and "20 images but" in result.output and "has 7 labels" in result.output


def test_datasets_command_lists_the_bundled_sets(run_cli):
    result = run_cli("datasets")
    assert result.exit_code == 0
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│")}
    assert set(lines) == {"iris", "wine", "breast_cancer", "digits", "diabetes"}
    assert "1797" in lines["digits"] and "8x8x1" in lines["digits"] and "10" in lines["digits"]
    assert "442" in lines["diabetes"] and "regression" in lines["diabetes"]
    assert "569" in lines["breast_cancer"] and "│       2 │" in lines["breast_cancer"]
    assert "│ species " in lines["iris"] and "│ progression " in lines["diabetes"]


def test_a_bundled_sets_run_names_its_target_for_files_that_carry_it(run_cli, tmp_path):
    from conftest import ROOT
    from nnrun.data.sources import BUILTIN_FOLDER

    config = tmp_path / "iris.yaml"
    config.write_text((ROOT / "configs" / "iris.yaml").read_text())
    assert run_cli("train", config, "--set", "training.epochs=2", "--run-dir", "r", "-q").exit_code == 0
    assert json.loads((tmp_path / "r" / "preprocess.json").read_text())["target"] == "species"
    (tmp_path / "iris.csv").write_text(gzip.decompress((BUILTIN_FOLDER / "iris.csv.gz").read_bytes()).decode())
    predicted = run_cli("predict", "r", "iris.csv", "-o", "p.csv")
    assert predicted.exit_code == 0 and "ignored" not in predicted.output  # the target is no stray column
    scored = run_cli("evaluate", "r", "--data", "iris.csv")
    assert scored.exit_code == 0 and "150 samples" in scored.output
    (tmp_path / "other.csv").write_text((tmp_path / "iris.csv").read_text().replace("species", "label", 1))
    refused = run_cli("evaluate", "r", "--data", "other.csv")
    assert refused.exit_code == 2 and "no target column 'species'" in refused.output


def test_images_keep_their_shape_through_preprocessing():
    data = DataConfig(source={"type": "builtin", "name": "digits"}, preprocess=["standardize", "minmax"])
    train = load_splits(data, seed=0).parts["train"]
    states = fit_pipeline(data.preprocess, train.x)
    x = apply_pipeline(data.preprocess, states, train.x)
    assert x.shape == (len(train), 8, 8, 1) and x.dtype == np.float32
    assert np.array(states[0]["mean"]).shape == (8, 8, 1)  # one statistic per pixel
    assert x.min() == 0.0 and x.max() == 1.0


def test_synthetic_images_take_the_given_shape(tmp_path):
    import nnrun
    from nnrun.data.sources import SyntheticSource
    from nnrun.errors import ConfigError

    data = SyntheticSource(samples=10, shape=[4, 4, 1], classes=2).load(0)
    assert data.x.shape == (10, 4, 4, 1) and data.input_shape == (4, 4, 1)
    flat = SyntheticSource(samples=10, features=16, classes=2).load(0)
    assert (data.x.reshape(10, 16) == flat.x).all()  # the same values, only reshaped
    config = {"data": {"source": {"type": "synthetic", "samples": 10, "shape": [4, 4, 1], "features": 15}},
              "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 3}]}, "loss": "mse"}
    with pytest.raises(ConfigError, match=r"shape \[4, 4, 1\] holds 16 values, not features 15"):
        nnrun.train(config, run_dir=tmp_path / "r")
