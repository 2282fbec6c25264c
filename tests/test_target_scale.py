"""``data.target_scale: standardize``: a regression trained on its targets standardized by
the training split's mean and standard deviation, with predictions, metrics, evaluation,
serving and exports in the target's own units; and the warning that points at it when a
target is far from unit scale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import nnrun
from nnrun.errors import UserError

CONFIG = {
    "name": "prices",
    "seed": 3,
    "data": {"split": {"validation": 0.2, "test": 0.2}, "preprocess": [{"type": "standardize"}],
             "target_scale": "standardize"},
    "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"}, {"type": "dense", "units": 1}]},
    "loss": "mse",
    "optimizer": {"type": "adam", "learning_rate": 0.01},
    "metrics": ["mae", "r2"],
    "training": {"epochs": 30, "batch_size": 32},
}


def prices(rows: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """House prices in their own units: mean about 450,000, spread about 150,000."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, 4)).astype(np.float32)
    y = 450_000 + x @ np.float32([120_000, -60_000, 40_000, 0]) + rng.normal(0, 20_000, rows)
    return x, y.astype(np.float32)


def _config(**data) -> dict:
    return {**CONFIG, "data": {**CONFIG["data"], **data}}


def test_a_price_regression_learns_in_its_own_units(tmp_path, capfd):
    x, y = prices()
    scaled = nnrun.train(_config(), data=(x, y), run_dir=tmp_path / "scaled", quiet=True)
    assert "target_scale" not in capfd.readouterr().err
    plain = nnrun.train(_config(target_scale="none"), data=(x, y), run_dir=tmp_path / "plain", quiet=True)
    warned = " ".join(capfd.readouterr().err.split())
    assert ("the target has mean 45" in warned and "in the training split, while the model starts with outputs near "
            "0 and moves them slowly; set data.target_scale: standardize" in warned)
    # Several targets: how many are far from unit scale, and the farthest.
    several = np.stack([y, y / 2, x[:, 0]], axis=1)
    nnrun.train(_config(target_scale="none"), data=(x, several), run_dir=tmp_path / "several", quiet=True,
                overrides={"model.layers.1.units": 3, "training.epochs": 1})
    assert "2 of the 3 targets are far from unit scale; the farthest, output 0, has mean 45" in \
        " ".join(capfd.readouterr().err.split())
    assert scaled.final["test"]["r2"] > 0.9
    assert plain.final["test"]["r2"] < 0  # 30 epochs from outputs near 0 do not reach 450,000
    saved = json.loads((scaled.run_dir / "preprocess.json").read_text())["target_scale"]
    assert 400_000 < saved["mean"][0] < 500_000 and 100_000 < saved["std"][0] < 200_000
    # the training split's statistics, not the whole set's
    assert saved["mean"][0] != pytest.approx(float(y.astype(np.float64).mean()), rel=1e-9)
    # Predictions and evaluation are in the target's units.
    model = nnrun.load(scaled.run_dir)
    predictions, _ = model.predict(x[:50])
    assert np.abs(predictions - y[:50]).mean() < 40_000
    report = model.evaluate(x[:50], y[:50])
    assert report.metrics["mae"] == pytest.approx(float(np.abs(predictions - y[:50]).mean()), rel=1e-5)
    assert report.metrics["r2"] > 0.9


def test_training_on_scaled_targets_is_training_on_standardized_ones(tmp_path):
    """The same weights as a run given the standardized targets by hand; only the
    outputs are turned back."""
    x, y = prices()
    scaled = nnrun.train(_config(), data=(x, y), run_dir=tmp_path / "scaled", quiet=True)
    saved = json.loads((scaled.run_dir / "preprocess.json").read_text())["target_scale"]
    mean, std = np.float32(saved["mean"][0]), np.float32(saved["std"][0])
    by_hand = nnrun.train(_config(target_scale="none"), data=(x, ((y - mean) / std).astype(np.float32)),
                          run_dir=tmp_path / "by_hand", quiet=True)
    a, b = load_file(scaled.run_dir / "model.safetensors"), load_file(by_hand.run_dir / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert scaled.final["test"]["loss"] == by_hand.final["test"]["loss"]  # the loss is in standardized units
    raw, _ = nnrun.load(by_hand.run_dir).predict(x[:20])
    turned, _ = nnrun.load(scaled.run_dir).predict(x[:20])
    np.testing.assert_array_equal(turned, raw * std + mean)


def test_a_csv_target_is_scaled_for_predict_and_evaluate_commands(run_cli, tmp_path):
    x, y = prices(200)
    lines = ["a,b,c,d,price"] + [",".join(f"{v:.6g}" for v in row) + f",{t:.2f}" for row, t in zip(x, y)]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "new.csv").write_text("\n".join(lines[:6]) + "\n")
    (tmp_path / "p.yaml").write_text(
        "name: p\nseed: 1\ndata:\n  source: {type: csv, path: p.csv, target: price}\n  target_scale: standardize\n"
        "  preprocess: [standardize]\nmodel:\n  layers: [{type: dense, units: 1}]\nloss: mse\n"
        "optimizer: {type: adam, learning_rate: 0.05}\nmetrics: [mae]\ntraining: {epochs: 40}\n")
    result = run_cli("train", tmp_path / "p.yaml", "--run-dir", tmp_path / "run", "--quiet")
    assert result.exit_code == 0, result.output
    result = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    predicted = np.loadtxt(tmp_path / "out.csv", delimiter=",", skiprows=1)
    assert np.abs(predicted - y[:5]).max() < 80_000 and predicted.min() > 100_000
    result = run_cli("evaluate", tmp_path / "run", "--data", tmp_path / "new.csv")
    assert result.exit_code == 0, result.output


def test_a_classifier_or_a_bounded_output_refuses_the_setting(run_cli, tmp_path):
    (tmp_path / "c.yaml").write_text(
        "name: c\ndata:\n  source: {type: builtin, name: iris}\n  target_scale: standardize\n"
        "model:\n  layers: [{type: dense, units: 3, activation: softmax}]\nloss: categorical_crossentropy\n")
    result = run_cli("validate", tmp_path / "c.yaml")
    assert result.exit_code == 2
    assert ("c.yaml:4:17: data.target_scale: standardize scales a regression's targets, but this is a "
            "classification (3 classes); remove it") in result.output
    x, y = prices(60)
    config = _config()
    config["model"] = {"layers": [{"type": "dense", "units": 1, "activation": "relu"}]}
    with pytest.raises(UserError) as caught:
        nnrun.train(config, data=(x, y), run_dir=tmp_path / "relu")
    assert "model.layers.0.activation: with data.target_scale: standardize the layers learn targets centred on 0, " \
           "which a 'relu' output cannot follow; use activation: linear" in str(caught.value)


def test_a_target_near_unit_scale_is_not_warned_about(tmp_path, capfd):
    x, y = prices(100)
    nnrun.train(_config(target_scale="none"), data=(x, (y - y.mean()) / y.std()), quiet=True, run_dir=tmp_path / "u")
    assert "target_scale" not in capfd.readouterr().err


def test_a_saved_scale_that_does_not_fit_the_model_is_damage(tmp_path):
    x, y = prices(100)
    run = nnrun.train(_config(), data=(x, y), run_dir=tmp_path / "r", quiet=True).run_dir
    path = Path(run) / "preprocess.json"
    saved = json.loads(path.read_text())
    for scale in ({"mean": [1.0, 2.0], "std": [1.0, 1.0]}, {"mean": [1.0], "std": [0.0]}, None):
        path.write_text(json.dumps({**saved, "target_scale": scale}))
        with pytest.raises(UserError, match="damaged"):
            nnrun.load(run)


def test_the_export_turns_the_outputs_back_too(tmp_path):
    pytest.importorskip("onnxruntime")
    from nnrun.commands.export import export_run

    x, y = prices(200)
    run = nnrun.train(_config(), data=(x, y), run_dir=tmp_path / "r", quiet=True).run_dir
    report = export_run(run)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(report.model_path))
    exported = session.run(None, {session.get_inputs()[0].name: x[:30]})[0].reshape(-1)
    ours, _ = nnrun.load(run).predict(x[:30])
    np.testing.assert_allclose(exported, ours, rtol=1e-6)


def skewed_prices(rows: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Prices that span orders of magnitude (30,000 to several million): log-normal in the features."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(rows, 4)).astype(np.float32)
    y = np.exp(12.5 + x @ np.float32([0.8, -0.4, 0.3, 0]) + rng.normal(0, 0.1, rows))
    return x, y.astype(np.float32)


def test_log1p_trains_on_the_standardized_log_and_answers_in_the_targets_units(tmp_path, capfd):
    """The weights of a run given log1p(y), standardized, by hand; predictions turned back
    by expm1; metrics, evaluation and the export in the target's units."""
    x, y = skewed_prices()
    plain = nnrun.train(_config(target_scale="none"), data=(x, y), run_dir=tmp_path / "plain", quiet=True,
                        overrides={"training.epochs": 1})
    assert "set data.target_scale: standardize, or log1p, as its values span " in \
        " ".join(capfd.readouterr().err.split())
    outliers = y.copy()
    outliers[::150] *= 1000  # a few far values: they steer a squared error, not one of their logs
    nnrun.train(_config(target_scale="standardize"), data=(x, outliers), run_dir=tmp_path / "far", quiet=True,
                overrides={"training.epochs": 1})
    assert "huber" in capfd.readouterr().err
    nnrun.train(_config(target_scale="log1p"), data=(x, outliers), run_dir=tmp_path / "far_log", quiet=True,
                overrides={"training.epochs": 1})
    assert "huber" not in capfd.readouterr().err
    logged = nnrun.train(_config(target_scale="log1p"), data=(x, y), run_dir=tmp_path / "log", quiet=True)
    saved = json.loads((logged.run_dir / "preprocess.json").read_text())["target_scale"]
    assert saved["log1p"] is True and 12 < saved["mean"][0] < 13 and 0.5 < saved["std"][0] < 1.5
    mean, std = np.float32(saved["mean"][0]), np.float32(saved["std"][0])
    by_hand = nnrun.train(_config(target_scale="none"), data=(x, ((np.log1p(y) - mean) / std).astype(np.float32)),
                          run_dir=tmp_path / "by_hand", quiet=True)
    a, b = load_file(logged.run_dir / "model.safetensors"), load_file(by_hand.run_dir / "model.safetensors")
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    raw, _ = nnrun.load(by_hand.run_dir).predict(x[:50])
    model = nnrun.load(logged.run_dir)
    turned, _ = model.predict(x[:50])
    np.testing.assert_array_equal(turned, np.expm1(raw * std + mean))
    assert logged.final["test"]["r2"] > 0.9 and plain is not None
    report = model.evaluate(x[:50], y[:50])
    assert report.metrics["mae"] == pytest.approx(float(np.abs(turned - y[:50]).mean()), rel=1e-5)
    assert (np.abs(turned - y[:50]) / y[:50]).mean() < 0.15  # errors in proportion, also for the cheap ones
    pytest.importorskip("onnxruntime")
    import onnxruntime

    from nnrun.commands.export import export_run

    session = onnxruntime.InferenceSession(str(export_run(logged.run_dir).model_path))
    exported = session.run(None, {session.get_inputs()[0].name: x[:50]})[0].reshape(-1)
    np.testing.assert_allclose(exported, turned, rtol=1e-5)


def test_log1p_refuses_targets_at_or_below_minus_one_and_a_saved_scale_of_the_other_kind(tmp_path):
    x, y = skewed_prices(100)
    with pytest.raises(UserError) as caught:
        nnrun.train(_config(target_scale="log1p"), data=(x, y - 200_000), run_dir=tmp_path / "below")
    assert "data.target_scale: log1p takes log(1 + target), which needs targets above -1; the training targets go " \
           "down to -1" in str(caught.value)
    below = y[:20].copy()
    below[3] = -3.0  # in the validation split: val_loss would be NaN in every epoch
    with pytest.raises(UserError) as caught:
        nnrun.train(_config(target_scale="log1p"), data=(x, y), validation=(x[:20], below), run_dir=tmp_path / "v")
    assert "needs targets above -1; the validation targets go down to -3" in str(caught.value)
    run = nnrun.train(_config(target_scale="log1p"), data=(x, y), run_dir=tmp_path / "r", quiet=True).run_dir
    with pytest.raises(UserError, match="1 target at -1 or below, which a model that learned log"):
        nnrun.load(run).evaluate(x[:20], below)
    # A labelled file: told with its name and the lines that hold them.
    rows = [",".join(f"{v:.6f}" for v in (*sample, target)) for sample, target in zip(x[:20], below)]
    (tmp_path / "below.csv").write_text("x0,x1,x2,x3,target\n" + "\n".join(rows) + "\n")
    with pytest.raises(UserError) as caught:
        nnrun.evaluate(run, data=tmp_path / "below.csv")
    assert str(caught.value).startswith(f"{tmp_path / 'below.csv'}: 1 row with a target at -1 or below (line 5), "
                                        "which a model that learned log(1 + target)")
    path = Path(run) / "preprocess.json"
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "target_scale": {**saved["target_scale"], "log1p": False}}))
    with pytest.raises(UserError, match="damaged: its target_scale does not match data.target_scale"):
        nnrun.load(run)


def test_a_few_targets_far_from_the_rest_are_warned_with_mse_not_with_huber(run_cli, tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=400)
    y = 500_000 + 100_000 * x + rng.normal(0, 10_000, 400)
    y[[10, 20, 30]] = [7_000_000, 8_000_000, 6_500_000]  # three mansions among houses, in the training rows
    (tmp_path / "h.csv").write_text("x,price\n" + "".join(f"{a:.4f},{b:.0f}\n" for a, b in zip(x, y)))
    (tmp_path / "h.yaml").write_text(
        "data: {source: {type: csv, path: h.csv, target: price}, target_scale: standardize, split: {validation: 0.1, "
        "test: 0.1, shuffle: false}}\nmodel: {layers: [{type: dense, units: 1}]}\nloss: mse\nmetrics: [mae]\n")
    said = " ".join(run_cli("validate", "h.yaml").output.split())
    assert "warning: the target has 3 values far from the rest of the training split (as far as 8,000,000, against " \
           "a median of" in said
    assert "loss: huber (or mae) fits the other rows better, unless they are typos (correct those in the file)" in said
    assert "far from the rest" not in run_cli("validate", "h.yaml", "--set", "loss=huber").output
