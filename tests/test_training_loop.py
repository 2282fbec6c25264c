"""The training loop: early stopping, the NaN guard, dropout at inference."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

import nnrun
from nnrun.errors import TrainingFailed

BASE = {
    "name": "t",
    "data": {"source": {"type": "builtin", "name": "iris"}, "preprocess": ["standardize"]},
    "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"},
                         {"type": "dense", "units": 3, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "metrics": ["accuracy"],
    "training": {"epochs": 5},
}


def test_early_stopping_stops_and_restores_best(tmp_path):
    config = {**BASE, "optimizer": {"type": "sgd", "learning_rate": 5.0},
              "training": {"epochs": 200, "early_stopping": {"monitor": "val_loss", "patience": 3}}}
    result = nnrun.train(config, run_dir=tmp_path / "r")
    assert result.stopped_early and len(result.history) < 200
    best = min(result.history, key=lambda row: row["val_loss"])
    assert result.best_epoch == best["epoch"]
    assert len(result.history) == result.best_epoch + 3  # patience epochs after the best
    # The saved weights are the best epoch's: evaluating them gives its validation loss.
    report = nnrun.evaluate(result.run_dir, split="validation")
    assert report["metrics"]["loss"] == pytest.approx(best["val_loss"], rel=1e-6)
    assert json.loads((result.run_dir / "meta.json").read_text())["best_epoch"] == best["epoch"]


def test_early_stopping_on_a_metric_maximises_it(tmp_path):
    config = {**BASE, "training": {"epochs": 30, "early_stopping": {"monitor": "val_accuracy", "patience": 2}}}
    result = nnrun.train(config, run_dir=tmp_path / "r")
    best = max(result.history, key=lambda row: row["val_accuracy"])
    assert result.history[result.best_epoch - 1]["val_accuracy"] == best["val_accuracy"]


def test_non_finite_loss_stops_training_and_marks_the_run_failed(tmp_path):
    config = {**BASE, "loss": "mse", "metrics": [],
              "data": {"source": {"type": "builtin", "name": "diabetes"}},  # raw, unscaled
              "model": {"layers": [{"type": "dense", "units": 1}]},
              "optimizer": {"type": "sgd", "learning_rate": 10.0}}
    with pytest.raises(TrainingFailed, match=r"the loss became (nan|inf) in epoch 1, batch \d+") as failed:
        nnrun.train(config, run_dir=tmp_path / "r")
    assert failed.value.run_dir == tmp_path / "r"  # the run kept, marked failed: where, for a caller to find it
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["status"] == "failed" and "loss became" in meta["failure"]["message"]
    assert not (tmp_path / "r" / "model.safetensors").exists()


def test_a_first_batch_that_overflows_is_not_blamed_on_the_learning_rate(tmp_path):
    # No update has happened before the first batch's loss: lowering the rate changes nothing.
    config = {**BASE, "loss": "mse", "metrics": [], "data": {"source": {"type": "builtin", "name": "diabetes"}},
              "model": {"layers": [{"type": "dense", "units": 1,
                                    "kernel_initializer": {"type": "constant", "value": 1.0e38}}]}}
    with pytest.raises(TrainingFailed) as failed:
        nnrun.train(config, run_dir=tmp_path / "r")
    assert failed.value.message.startswith("the loss of the first batch was ") and "epoch 1, batch 1;" in \
        failed.value.message
    assert failed.value.hint.startswith("the weights have not been updated yet, so the learning rate is not the cause")


def test_nan_exits_with_code_1_and_a_remedy(run_cli, write_config):
    path = write_config(
        "data: {source: {type: builtin, name: diabetes}}\n"
        "model: {layers: [{type: dense, units: 1}]}\n"
        "loss: mse\noptimizer: {type: sgd, learning_rate: 10.0}\n"
    )
    result = run_cli("train", path, "--run-dir", "r")
    assert result.exit_code == 1
    # Each remedy the config does not use already, with its rate.
    assert "hint: lower optimizer.learning_rate (now 10), standardize the inputs (data.preprocess: [standardize]), " \
           "scale the targets (data.target_scale: standardize) or clip the gradients (optimizer.global_clipnorm: " \
           "1.0); then train again" in " ".join(result.output.split())
    standardized = write_config(path.read_text().replace("data: {source: {type: builtin, name: diabetes}}",
                                                         "data: {source: {type: builtin, name: diabetes}, "
                                                         "preprocess: [standardize], target_scale: standardize}")
                                .replace("learning_rate: 10.0", "learning_rate: 1.0e+12, global_clipnorm: 1.0e+30"),
                                "standardized.yaml")
    told = " ".join(run_cli("train", standardized, "--run-dir", "s").output.split())
    assert "hint: lower optimizer.learning_rate (now 1e+12); then train again" in told
    # The run is kept, marked failed: the message names it, for a script to find it ...
    assert re.search(r"error: r: the loss became (nan|inf) in epoch 1, batch \d+; training stopped", result.output)
    # ... and a run again into it is not told to resume what would diverge again.
    again = " ".join(run_cli("train", path, "--run-dir", "r").output.split())
    assert re.search(r"error: r: already holds a run that did not finish \(failed: the loss became (nan|inf) in epoch "
                     r"1, batch \d+; training stopped\); nnrun never overwrites a run", again), again
    assert "resume" not in again and "hint: change the config so that it does not diverge, then choose another " \
        "run directory" in again
    # Nor is it resumed, which would diverge again batch for batch: a retried `CONFIG --resume DIR` is told at once.
    for args in (["--resume", "r"], [path, "--resume", "r"], ["--resume", "r", "--set", "optimizer.learning_rate=1e-4"]):
        resumed = run_cli("train", *args)
        assert resumed.exit_code == 2
        assert re.search(r"error: r: the run failed \(the loss became (nan|inf) in epoch 1, batch \d+; training "
                         r"stopped\); resumed with its config, which a resume keeps, it would fail the same way",
                         " ".join(resumed.output.split())), resumed.output


def test_metrics_csv_has_a_row_per_epoch_and_learning_rate(tmp_path):
    result = nnrun.train({**BASE, "training": {"epochs": 4}}, run_dir=tmp_path / "r")
    rows = list(csv.DictReader((result.run_dir / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert all(float(r["lr"]) == 0.001 for r in rows)
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])


def test_dropout_is_identity_at_inference_and_scaled_in_training():
    from nnrun.model.layers.core import Dropout

    layer = Dropout(rate=0.5)
    x = np.ones((200, 50), np.float32)
    assert layer.forward({}, x, False, None)[0] is x
    y, _ = layer.forward({}, x, True, np.random.default_rng(0))
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.05


def test_float32_end_to_end(tmp_path):
    from nnrun.engine.experiment import as_loaded, build

    experiment = build(as_loaded(BASE))
    graph = experiment.graph
    assert graph.weight_buffer.dtype == np.float32
    assert experiment.splits["train"].x.dtype == np.float32
    out, _ = graph.forward(experiment.splits["train"].x[:8], True, np.random.default_rng(0))
    assert out.dtype == np.float32


def test_a_diverged_text_models_hint_never_says_to_standardize_its_token_indices():
    """Validate refuses a standardized token index: the remedy leaves it out."""
    from pathlib import Path

    from nnrun.config import load_config
    from nnrun.engine.guards import fitted_remedy
    from nnrun.errors import NonFiniteError

    config = load_config(Path(__file__).parents[1] / "configs" / "text_lstm.yaml").config
    error = NonFiniteError("the loss became nan", epoch=2, batch=1, reason="loss")
    fitted_remedy(error, config, regression=False)
    assert "standardize" not in error.hint and error.hint.startswith("lower optimizer.learning_rate")
