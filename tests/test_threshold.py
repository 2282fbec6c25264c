"""A decision threshold chosen after training: nnrun predict/evaluate --threshold, and threshold= in Python."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nnrun
from nnrun.errors import UserError

from trained import CONFIGS, train_iris


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    folder = tmp_path_factory.mktemp("threshold")
    rng = np.random.default_rng(8)
    values = rng.normal(size=(600, 2))
    labels = np.where(values[:, 0] + 0.5 * rng.normal(size=600) > 1.2, "fraud", "legit")
    rows = "".join(f"{a:.4f},{b:.4f},{c}\n" for (a, b), c in zip(values, labels))
    (folder / "f.csv").write_text("a,b,label\n" + rows)
    run = nnrun.train({"data": {"source": {"type": "csv", "path": str(folder / "f.csv"), "target": "label"},
                                "classes": ["legit", "fraud"]},
                       "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
                       "loss": "binary_crossentropy", "metrics": ["accuracy", "precision", "recall", "pr_auc"],
                       "optimizer": {"type": "adam", "learning_rate": 0.05}, "training": {"epochs": 20}},
                      run_dir=folder / "run", quiet=True).run_dir
    return folder, run


def test_evaluate_at_a_threshold_scores_the_decisions_it_makes(run_cli, binary):
    folder, run = binary
    result = run_cli("evaluate", run, "--threshold", "0.2")
    assert result.exit_code == 0, result.output
    assert "test split, 120 samples, 'fraud' predicted above 0.2" in result.output
    report = json.loads((run / "eval-test-threshold-0.2.json").read_text())
    assert run_cli("evaluate", run).exit_code == 0  # at 0.5: a report of its own
    default = json.loads((run / "eval-test.json").read_text())
    assert report["threshold"] == 0.2 and "threshold" not in default
    # By hand, from the probabilities predict writes: class 'fraud' above 0.2.
    model = nnrun.load(run)
    from nnrun.config.loader import load_config
    from nnrun.data import load_splits

    test = load_splits(load_config(run / "config.yaml").config.data, 42).parts["test"]
    probs = model.trained.outputs(model.trained.prepare(test.x.copy()))[:, 0]
    predicted, truth = probs > 0.2, test.y == 1
    assert report["metrics"]["recall"] == pytest.approx(predicted[truth].mean())
    assert report["metrics"]["precision"] == pytest.approx(truth[predicted].mean())
    assert report["metrics"]["accuracy"] == pytest.approx((predicted == truth).mean())
    assert report["metrics"]["loss"] == default["metrics"]["loss"]  # of the probabilities, whatever the threshold
    assert report["metrics"]["pr_auc"] == default["metrics"]["pr_auc"]
    assert report["classification"]["confusion_matrix"][1][1] == int((predicted & truth).sum())


def test_predict_and_the_python_api_decide_at_the_threshold(run_cli, binary):
    folder, run = binary
    low = run_cli("predict", run, folder / "f.csv", "--threshold", "0.1", "--proba", "-o", "-")
    assert low.exit_code == 0, low.output
    rows = [line.split(",") for line in low.stdout.splitlines()[1:]]
    assert all((p == "fraud") == (float(proba) > 0.1) for p, _, proba in rows)
    model = nnrun.load(run)
    x = np.array([[float(v) for v in line.split(",")[:2]] for line in (folder / "f.csv").read_text().splitlines()[1:]])
    prediction = model.predict(x, threshold=0.1)
    assert (prediction.predictions == "fraud").sum() == sum(p == "fraud" for p, _, _ in rows)
    assert (prediction.predictions == "fraud").sum() > (model.predict(x).predictions == "fraud").sum()
    y = np.where(prediction.predictions == "fraud", "fraud", "legit")
    assert model.evaluate(x, y, threshold=0.1).metrics["accuracy"] == 1.0  # its own decisions at 0.1


@pytest.mark.parametrize("value, message", [
    ("1.5", "--threshold 1.5: a threshold is a probability between 0 and 1 (not either end)"),
    ("0", "--threshold 0.0: a threshold is a probability between 0 and 1 (not either end)"),
])
def test_a_threshold_outside_zero_and_one_is_refused(run_cli, binary, value, message):
    folder, run = binary
    for command in (["evaluate", run], ["predict", run, folder / "f.csv", "-o", "-"]):
        result = run_cli(*command, "--threshold", value)
        assert result.exit_code == 2 and message in result.output


def test_a_threshold_is_for_two_classes(run_cli, tmp_path):
    run = train_iris(tmp_path / "iris", epochs=1)
    result = run_cli("evaluate", run, "--threshold", "0.3")
    assert result.exit_code == 2
    assert "--threshold: a threshold decides between two classes, and this run is a classification of 3 classes" \
        in result.output
    with pytest.raises(UserError, match="threshold: a threshold decides between two classes"):
        nnrun.load(run).predict(np.zeros((1, 4)), threshold=0.3)
    regression = nnrun.train(CONFIGS / "diabetes.yaml", overrides=["training.epochs=1"], run_dir=tmp_path / "d",
                             quiet=True).run_dir
    result = run_cli("evaluate", regression, "--threshold", "0.3")
    assert result.exit_code == 2 and "this run is a regression" in result.output


def test_a_numpy_float_is_a_threshold_and_every_digit_names_its_report(run_cli, binary):
    folder, run = binary
    model = nnrun.load(run)
    x = np.zeros((3, 2))
    assert (model.predict(x, threshold=np.float32(0.25)).predictions == model.predict(x, threshold=0.25).predictions
            ).all()
    with pytest.raises(UserError, match="threshold: expected a number, got 'high'"):
        model.predict(x, threshold="high")
    assert run_cli("evaluate", run, "--threshold", "0.30000001").exit_code == 0
    assert run_cli("evaluate", run, "--threshold", "0.3").exit_code == 0  # a report of its own, not refused
    assert (run / "eval-test-threshold-0.30000001.json").is_file() and (run / "eval-test-threshold-0.3.json").is_file()
