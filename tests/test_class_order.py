"""`data.classes`: the order of the classes, and so the positive one of two; `nnrun init`
on a file whose class of two is rare."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import nnrun

from trained import CONFIGS


def _fraud_file(path, rows: int = 600, share: float = 0.08, seed: int = 0):
    """A table whose rare class ('fraud') sorts before the common one ('legit')."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account", "amount", "hour", "label"])
        for i in range(rows):
            fraud = rng.random() < share
            writer.writerow([f"A{i:05d}", round(float(rng.normal(3 if fraud else 0, 1)), 3),
                             int(rng.integers(0, 24)), "fraud" if fraud else "legit"])
    return path


def test_the_classes_in_the_order_listed_make_the_last_one_positive(run_cli, tmp_path):
    default = nnrun.train(CONFIGS / "breast_cancer.yaml", overrides=["training.epochs=2"], run_dir=tmp_path / "a",
                          quiet=True)
    ordered = nnrun.train(CONFIGS / "breast_cancer.yaml", overrides=["training.epochs=2",
                                                                     "data.classes=[malignant, benign]"],
                          run_dir=tmp_path / "b", quiet=True)
    assert json.loads((default.run_dir / "preprocess.json").read_text())["class_names"] == ["benign", "malignant"]
    assert json.loads((ordered.run_dir / "preprocess.json").read_text())["class_names"] == ["malignant", "benign"]
    # The same rows in each split: the stratified split is made before the classes are numbered anew.
    fingerprints = [json.loads((run.run_dir / "meta.json").read_text())["split_fingerprints"]
                    for run in (default, ordered)]
    from nnrun.config.loader import load_config
    from nnrun.data import load_splits

    splits = [load_splits(load_config(run.run_dir / "config.yaml").config.data, 42) for run in (default, ordered)]
    for name in ("train", "validation", "test"):
        np.testing.assert_array_equal(splits[0].parts[name].x, splits[1].parts[name].x)
        np.testing.assert_array_equal(splits[0].parts[name].y, 1 - splits[1].parts[name].y)
    assert fingerprints[0].keys() == fingerprints[1].keys()
    result = run_cli("evaluate", ordered.run_dir)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "true \\ predicted" in line)
    assert header.index("malignant") < header.index("benign")
    model = nnrun.load(ordered.run_dir)
    assert model.classes == ["malignant", "benign"]


@pytest.mark.parametrize("classes, message", [
    ("[benign]", "data.classes: the data has the class 'malignant' too; list each class of the data once, in the "
                 "order wanted (as found: [benign, malignant])"),
    ("[benign, malignant, other]", "data.classes: no row is of 'other'; list each class"),
    ("[benign, benign]", "data.classes: 'benign' listed more than once; list each once"),
])
def test_a_class_list_that_is_not_the_datas_classes_is_one_message(run_cli, classes, message):
    result = run_cli("validate", CONFIGS / "breast_cancer.yaml", "--set", f"data.classes={classes}")
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_regression_has_no_classes_to_order(run_cli):
    result = run_cli("validate", CONFIGS / "diabetes.yaml", "--set", "data.classes=[a, b]")
    assert result.exit_code == 2
    assert "data.classes: the data is a regression, which has no classes to order; remove data.classes" in \
        " ".join(result.output.split())


def test_init_makes_a_rare_class_positive_weighs_it_up_and_scores_its_ranking(run_cli, tmp_path):
    _fraud_file(tmp_path / "fraud.csv")
    result = run_cli("init", "fraud.csv", "--target", "label")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "fraud.yaml").read_text()
    assert "  classes: [legit, fraud]" in text and "'fraud', the rarer, last: the positive class" in text
    assert "loss: {type: binary_crossentropy, class_weights: balanced}" in text
    assert "metrics: [accuracy, auc, pr_auc, balanced_accuracy]" in text
    assert "the probability of 'fraud' (not 'legit')" in text
    result = run_cli("train", "fraud.yaml", "--set", "training.epochs=3", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    assert "pr_auc is of class 'fraud', the second of two" in " ".join(result.output.split())


def test_init_leaves_two_even_classes_as_they_sort(run_cli, tmp_path):
    _fraud_file(tmp_path / "even.csv", share=0.45)
    result = run_cli("init", "even.csv", "--target", "label")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "even.yaml").read_text()
    assert "\n  classes:" not in text and "class_weights" not in text
    assert "loss: binary_crossentropy" in text and "metrics: [accuracy, auc]" in text


def test_a_boolean_target_is_read_back_in_any_case_and_as_1_and_0(run_cli, tmp_path):
    rng = np.random.default_rng(3)
    rows = [(float(v), "True" if v > 0 else "False") for v in rng.normal(size=200)]
    (tmp_path / "flags.csv").write_text("value,flag\n" + "".join(f"{v},{f}\n" for v, f in rows))
    nnrun.train({"data": {"source": {"type": "csv", "path": str(tmp_path / "flags.csv"), "target": "flag"}},
                 "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
                 "loss": "binary_crossentropy", "metrics": ["accuracy"], "training": {"epochs": 2}},
                run_dir=tmp_path / "run", quiet=True)
    scores = []
    for name, write in (("same", str), ("lower", lambda f: f.lower()), ("numbers", lambda f: str(int(f == "True")))):
        (tmp_path / f"{name}.csv").write_text("value,flag\n" + "".join(f"{v},{write(f)}\n" for v, f in rows))
        result = run_cli("evaluate", tmp_path / "run", "--data", tmp_path / f"{name}.csv")
        assert result.exit_code == 0, result.output
        scores.append(json.loads((tmp_path / "run" / f"eval-{name}.json").read_text())["metrics"])
    assert scores[0] == scores[1] == scores[2]


def test_a_class_too_many_from_a_slip_in_a_label_is_said_before_another_model(run_cli, tmp_path):
    rng = np.random.default_rng(4)
    labels = ["yes" if v > 0 else "no" for v in rng.normal(size=120)]
    labels[7] = "Yes"  # one row written otherwise
    (tmp_path / "slip.csv").write_text("value,answer\n" + "".join(f"{i / 10},{a}\n" for i, a in enumerate(labels)))
    (tmp_path / "slip.yaml").write_text(
        "data: {source: {type: csv, path: slip.csv, target: answer}}\n"
        "model: {layers: [{type: dense, units: 1, activation: sigmoid}]}\n"
        "loss: binary_crossentropy\nmetrics: [accuracy, auc]\n")
    result = run_cli("validate", "slip.yaml")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    slip = "the classes 'Yes' and 'yes' differ only in case or spaces (one class written two ways?): write it one " \
           "way in the file"
    # Written one way, the labels are the two classes binary_crossentropy wants: that is the fix, not another loss.
    assert f"here 1 unit and 3 classes: Yes (1 row), no, yes: {slip}" in text
    assert "use categorical_crossentropy with softmax" not in text
    assert f"auc is for binary classifiers; the data has 3 classes: Yes (1 row), no, yes; {slip}" in text
    result = run_cli("validate", "slip.yaml", "--set", "loss=categorical_crossentropy", "--set", "metrics=[accuracy]")
    assert f"the output has 1 unit but the data has 3 classes: Yes (1 row), no, yes; {slip}, or set units: 3 on " \
           "model.layers.0" in " ".join(result.output.split())


@pytest.mark.parametrize("yes, no, classes", [("True", "False", None), ("true", "false", None),
                                              ("true", "false", ["true", "false"]), ("TRUE", "FALSE", ["TRUE", "FALSE"])])
def test_boolean_targets_score_the_same_as_booleans_numbers_or_words_in_any_class_order(tmp_path, yes, no, classes):
    pd = pytest.importorskip("pandas")

    rng = np.random.default_rng(6)
    values = rng.normal(size=300)
    truth = values > 0.3
    word = {True: yes, False: no}
    (tmp_path / "b.csv").write_text("value,flag\n" + "".join(f"{v:.4f},{word[t]}\n" for v, t in zip(values, truth)))
    config = {"data": {"source": {"type": "csv", "path": str(tmp_path / "b.csv"), "target": "flag"}},
              "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
              "loss": "binary_crossentropy", "metrics": ["accuracy"], "training": {"epochs": 3}}
    if classes:
        config["data"]["classes"] = classes  # True first: 1 and True must still name True
    model = nnrun.load(nnrun.train(config, run_dir=tmp_path / "run", quiet=True).run_dir)
    x = pd.DataFrame({"value": values})
    predicted = model.predict(x).predictions
    assert predicted.dtype == bool
    assert model.evaluate(x, predicted).metrics["accuracy"] == 1.0  # its own predictions, scored as booleans
    by_bool = model.evaluate(x, truth).metrics
    assert by_bool == model.evaluate(x, truth.astype(int)).metrics == \
        model.evaluate(x, np.where(truth, "true", "false")).metrics


def test_compare_says_when_the_positive_class_differs_and_weights_in_another_order_are_the_same(run_cli, tmp_path):
    settings = ["training.epochs=1", "loss.class_weights=balanced", "metrics=[accuracy, pr_auc]"]
    a = nnrun.train(CONFIGS / "breast_cancer.yaml", overrides=settings, run_dir=tmp_path / "a", quiet=True).run_dir
    b = nnrun.train(CONFIGS / "breast_cancer.yaml", overrides=[*settings, "data.classes=[malignant, benign]"],
                    run_dir=tmp_path / "b", quiet=True).run_dir
    result = run_cli("compare", a, b)
    said = " ".join(result.output.split())
    assert "note: the runs order the classes otherwise (data.classes): pr_auc scores " \
           "'malignant' in A and 'benign' in B, so those values do not compare" in said
    assert "weigh the classes otherwise" not in said  # the same weight for each class, listed in another order
    record = json.loads(run_cli("compare", a, b, "--json").stdout)
    assert record["loss_units"] is None and record["positives"].startswith("the runs order the classes otherwise")


def test_classes_of_labels_that_are_numbers_are_written_as_numbers_too(tmp_path):
    rng = np.random.default_rng(7)
    (tmp_path / "n.csv").write_text("x,y\n" + "".join(f"{v:.3f},{int(v > 0.8)}\n" for v in rng.normal(size=300)))
    run = nnrun.train({"data": {"source": {"type": "csv", "path": str(tmp_path / "n.csv"), "target": "y"},
                                "classes": [1, 0]},
                       "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
                       "loss": "binary_crossentropy", "training": {"epochs": 1}}, run_dir=tmp_path / "r", quiet=True)
    assert nnrun.load(run.run_dir).classes == ["1", "0"]


def test_one_hot_targets_are_read_back_by_the_class_training_named_each_column(run_cli, tmp_path):
    rng = np.random.default_rng(10)
    x = rng.normal(size=(300, 3)).astype(np.float32)
    labels = (x[:, 0] > 0.5).astype(int)
    np.savez(tmp_path / "oh.npz", x=x, y=np.eye(2)[labels])
    run = nnrun.train({"data": {"source": {"type": "npz", "path": str(tmp_path / "oh.npz")}, "classes": [1, 0]},
                       "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
                       "loss": "categorical_crossentropy", "metrics": ["accuracy"],
                       "optimizer": {"type": "adam", "learning_rate": 0.05}, "training": {"epochs": 10}},
                      run_dir=tmp_path / "r", quiet=True).run_dir
    model = nnrun.load(run)
    assert model.classes == ["1", "0"]
    by_one_hot = model.evaluate(x, np.eye(2)[labels]).metrics
    assert by_one_hot == model.evaluate(x, labels.astype(str)).metrics  # the same classes, by name
    assert by_one_hot["accuracy"] > 0.8
    result = run_cli("evaluate", run, "--data", tmp_path / "oh.npz")
    assert result.exit_code == 0, result.output
    assert json.loads((run / "eval-oh.json").read_text())["metrics"]["accuracy"] == pytest.approx(
        by_one_hot["accuracy"])


def test_the_same_weight_list_in_another_class_order_weighs_other_classes(run_cli, tmp_path):
    settings = ["training.epochs=1", "loss.class_weights=[1, 5]"]
    a = nnrun.train(CONFIGS / "breast_cancer.yaml", overrides=settings, run_dir=tmp_path / "a", quiet=True).run_dir
    b = nnrun.train(CONFIGS / "breast_cancer.yaml", overrides=[*settings, "data.classes=[malignant, benign]"],
                    run_dir=tmp_path / "b", quiet=True).run_dir
    record = json.loads(run_cli("compare", a, b, "--json").stdout)
    assert record["loss_units"].startswith("the losses weigh the classes otherwise")  # malignant 5 against benign 5


def test_several_classes_written_several_ways_are_listed_and_counted(run_cli, tmp_path):
    labels = ["Yes", "YES ", "yes", "no", "No"] * 8
    (tmp_path / "ways.csv").write_text("value,answer\n" + "".join(f"{i / 10},{a}\n" for i, a in enumerate(labels)))
    (tmp_path / "ways.yaml").write_text(
        "data: {source: {type: csv, path: ways.csv, target: answer}}\n"
        "model: {layers: [{type: dense, units: 3, activation: softmax}]}\nloss: categorical_crossentropy\n")
    result = run_cli("validate", "ways.yaml")
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "the output has 3 units but the data has 5 classes: No, YES, Yes, no, yes; " \
        "classes differ only in case or spaces: 'No' and 'no'; 'YES', 'Yes' and 'yes' (each one class written " \
        "several ways?): write each one way in the file, which leaves 2 classes, or set units: 5" in text
    result = run_cli("validate", "ways.yaml", "--set", "model.layers.0.units=2")  # the units fit the classes once
    assert "which leaves 2 classes" in " ".join(result.output.split()) and "set units" not in result.output
