"""`nnrun evaluate`: confusion matrix and per-class scores for classifiers, residual
statistics for regressors, printed and written to eval.json."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnrun
from trained import train_diabetes, train_iris

from nnrun.model.diagnostics import (
    classification_report,
    confusion_matrix,
    residual_report,
)


def test_confusion_matrix_and_per_class_scores_by_hand():
    true = np.array([0, 0, 1, 1, 2])
    probs = np.eye(3)[[0, 1, 1, 1, 0]]  # predicted 0, 1, 1, 1, 0
    assert confusion_matrix(true, probs.argmax(1), 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    report = classification_report(true, probs, ["a", "b", "c"])
    a, b, c = report["per_class"]
    # a: predicted 0 twice, right once -> P 1/2; true 0 twice, found once -> R 1/2.
    assert (a["precision"], a["recall"], a["f1"], a["support"]) == (0.5, 0.5, 0.5, 2)
    # b: predicted 1 three times, right twice -> P 2/3; R 2/2; F1 = 2 * (2/3) / (5/3) = 0.8.
    assert b["precision"] == pytest.approx(2 / 3) and b["recall"] == 1.0 and b["f1"] == pytest.approx(0.8)
    # c: never predicted: precision, recall and F1 are 0, not NaN.
    assert (c["precision"], c["recall"], c["f1"], c["support"]) == (0.0, 0.0, 0.0, 1)
    assert report["macro_average"]["recall"] == pytest.approx((0.5 + 1 + 0) / 3)


def test_binary_classifier_with_one_sigmoid_output():
    report = classification_report(np.array([0, 1, 1, 0]), np.array([[0.2], [0.9], [0.4], [0.7]]), ["no", "yes"])
    assert report["confusion_matrix"] == [[1, 1], [1, 1]]
    assert report["classes"] == ["no", "yes"]


def test_several_outputs_get_their_own_residuals_beside_the_pooled_ones():
    target = np.array([[0.0, 100.0], [1.0, 300.0], [2.0, 200.0]])
    predicted = np.array([[0.5, 150.0], [1.0, 250.0], [1.5, 200.0]])
    report = residual_report(target, predicted)
    assert report["mae"] == pytest.approx(np.abs(predicted - target).mean())
    first, second = report["per_output"]
    assert first["mae"] == pytest.approx(1 / 3) and second["mae"] == pytest.approx(100 / 3)
    assert first["max_abs"] == 0.5 and second["rmse"] == pytest.approx(np.sqrt(5000 / 3))
    assert report["r2"] == pytest.approx((first["r2"] + second["r2"]) / 2)
    assert "per_output" not in residual_report(target[:, :1], predicted[:, :1])


def test_the_metrics_and_the_residual_report_give_one_mae_and_rmse():
    """A student seeing 19842.9707 in one table and 19842.9727 in the next asks which is right."""
    from nnrun.model.metrics import METRICS

    rng = np.random.default_rng(0)
    target = rng.normal(20000, 5000, 999).astype(np.float32)
    predicted = (target + rng.normal(0, 20000, 999)).astype(np.float32).reshape(-1, 1)
    report = residual_report(target, predicted)
    assert METRICS["mae"].fn(target, predicted) == report["mae"]
    assert METRICS["rmse"].fn(target, predicted) == report["rmse"]


def test_residual_statistics_by_hand():
    stats = residual_report(np.array([1.0, 2.0, 3.0, 4.0]), np.array([[1.5], [2.0], [2.0], [5.0]]))
    # residuals 0.5, 0, -1, 1
    assert stats["mean"] == pytest.approx(0.125)
    assert stats["mae"] == pytest.approx(0.625)
    assert stats["rmse"] == pytest.approx(math.sqrt(2.25 / 4))
    assert stats["max_abs"] == 1.0 and stats["median_abs"] == 0.75
    assert stats["r2"] == pytest.approx(1 - 2.25 / 5.0)


def test_evaluate_classifier_prints_and_writes_confusion_matrix(run_cli, tmp_path):
    run = train_iris(tmp_path / "iris", epochs=20)
    result = run_cli("evaluate", run)
    assert result.exit_code == 0, result.output
    for fragment in ("Confusion matrix", "true \\ predicted", "versicolor", "Per class", "macro average",
                     "precision", "recall", "f1", "eval-test.json"):
        assert fragment in result.output
    report = json.loads((run / "eval-test.json").read_text())
    details = report["classification"]
    matrix = np.array(details["confusion_matrix"])
    assert details["classes"] == ["setosa", "versicolor", "virginica"]
    assert matrix.sum() == report["samples"] == 30 and matrix.sum(axis=1).tolist() == [10, 10, 10]
    assert np.trace(matrix) / 30 == pytest.approx(report["metrics"]["accuracy"])
    assert [row["support"] for row in details["per_class"]] == [10, 10, 10]
    # A class with no sample here, never predicted, has no scores: None in the report, "-" in the table, as the
    # macro average leaves it out.
    report = classification_report(np.array([0, 0, 2]), np.eye(3)[[0, 0, 0]], ["a", "b", "c"])
    assert [row["f1"] for row in report["per_class"]] == [0.8, None, 0.0]
    from rich.console import Console

    from nnrun.console.evaluation import per_class_table

    only = {**details, "confusion_matrix": [[4, 0, 0], [0, 0, 0], [1, 0, 0]],
            "per_class": [{"class": c, "precision": p, "recall": r, "f1": f, "support": s} for c, p, r, f, s in
                          (("setosa", 0.8, 1.0, 0.889, 4), ("versicolor", None, None, None, 0),
                           ("virginica", 0.0, 0.0, 0.0, 1))],
            "macro_average": {"precision": 0.4, "recall": 0.5, "f1": 0.444}}
    console = Console(width=100, record=True)
    console.print(per_class_table(only))
    shown = console.export_text()
    assert re.search(r"versicolor\s*│\s*-\s*│\s*-\s*│\s*-\s*│\s*0", shown), shown
    assert re.search(r"virginica\s*│\s*0\.0000", shown)  # in the split, never predicted: scored 0
    assert "the macro average leaves it out" in " ".join(shown.split())


def test_a_run_on_a_read_only_disk_is_still_scored(run_cli, tmp_path, monkeypatch):
    # An archived run on a read-only mount: the scores are printed, and the report that
    # could not be saved is a warning, not an error that hides them.
    import errno

    from nnrun.store import files

    run = train_iris(tmp_path / "iris", epochs=2)

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(files, "write_output", read_only)
    result = run_cli("evaluate", run)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Confusion matrix" in said and "accuracy" in said and "written:" not in said
    assert f"warning: the report was not saved ({run}/eval-test.json: Read-only file system); the scores above " \
           "are all there is of it" in said
    assert not (run / "eval-test.json").exists()


def test_a_config_edited_after_training_is_refused_with_what_changed(run_cli, tmp_path):
    # An edited activation once loaded the weights into another model and scored it as the run.
    run = train_iris(tmp_path / "iris", epochs=2)
    config = run / "config.yaml"
    written = config.read_text()
    config.write_text(written.replace("activation: relu", "activation: tanh", 1))
    for command in (("evaluate", run), ("predict", run, "-")):
        result = run_cli(*command)
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        assert f"error: {config}: changed since the run wrote it (meta.json's config_hash is another), so it no " \
               "longer describes the run's weights: model.layers.0.activation (\"relu\" -> \"tanh\")" in said
        assert f"hint: undo the edit; to train with the new settings, start a new run from it: nnrun train {config}" \
            in said
    config.write_text(written)
    assert run_cli("evaluate", run).exit_code == 0


def test_tags_and_notes_may_be_edited_after_training(run_cli, tmp_path):
    """They change nothing trained: a run marked promoted afterwards (as MLflow's set_tag
    does) still evaluates, lists by its new tag, and resumes to more epochs from its
    checkpoint; one more edit beside them is still refused."""
    run = train_iris(tmp_path / "iris", "training.checkpoint.every_epochs=1", epochs=2)
    config = run / "config.yaml"
    written = config.read_text()
    assert "tags: []\nnotes: null\n" in written
    config.write_text(written.replace("tags: []\nnotes: null\n", "tags: [promoted]\nnotes: the baseline we ship\n"))
    assert run_cli("evaluate", run).exit_code == 0
    listed = run_cli("runs", tmp_path, "--tag", "promoted")
    assert listed.exit_code == 0 and "iris" in listed.output, listed.output
    resumed = run_cli("train", "--resume", run, "--set", "training.epochs=3", "-q")
    assert resumed.exit_code == 0, resumed.output
    assert len((run / "metrics.csv").read_text().splitlines()) == 4  # a header and three epochs
    # With the config it was started from (no tags): the same run, its labels kept; a CI step retried is no error.
    from trained import CONFIGS

    again = run_cli("train", CONFIGS / "iris.yaml", "--resume", run, "--set", "training.epochs=4", "--set",
                    "training.checkpoint.every_epochs=1", "-q")
    assert again.exit_code == 0, again.output
    assert "- promoted" in config.read_text() and "the baseline we ship" in config.read_text()
    config.write_text(config.read_text().replace("seed: 42", "seed: 43"))
    result = run_cli("evaluate", run)
    assert result.exit_code == 2 and "seed (42 -> 43)" in result.output, result.output
    # A run older than meta.json's trained_config_hash: taken where its checkpoint says the labels alone changed.
    config.write_text(config.read_text().replace("seed: 43", "seed: 42").replace("- promoted", "- shipped"))
    assert "- shipped" in config.read_text()
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "trained_config_hash"}))
    assert run_cli("evaluate", run, "--force").exit_code == 0
    other = train_iris(tmp_path / "other", epochs=2)
    assert "was changed" not in run_cli("compare", run, other).output  # compare judges it as evaluate does
    config.write_text(config.read_text().replace("seed: 42", "seed: 44"))  # and still nothing else
    assert run_cli("evaluate", run, "--force").exit_code == 2


def test_a_preprocess_json_edited_after_training_is_refused(run_cli, tmp_path):
    # An edited mean once changed every prediction without a word.
    run = train_iris(tmp_path / "iris", epochs=2)
    saved = run / "preprocess.json"
    written = saved.read_text()
    data = json.loads(written)
    data["states"][0]["mean"][0] += 1.0
    saved.write_text(json.dumps(data, indent=2) + "\n")
    for command in (("evaluate", run), ("predict", run, "-"), ("export", run)):
        result = run_cli(*command)
        assert result.exit_code == 2, result.output
        assert f"error: {saved}: changed since the run wrote it (meta.json's preprocess_hash is another), so new " \
               "data would be read otherwise than the weights were trained on" in " ".join(result.output.split())
    saved.write_text(written)
    assert run_cli("evaluate", run).exit_code == 0


def test_evaluate_regressor_prints_and_writes_residuals(run_cli, tmp_path):
    run = train_diabetes(tmp_path / "diabetes")
    result = run_cli("evaluate", run, "--split", "validation")
    assert result.exit_code == 0, result.output
    assert "Residuals" in result.output and "root mean squared error" in result.output
    report = json.loads((run / "eval-validation.json").read_text())
    stats = report["regression"]
    assert "classification" not in report
    # The RMSE of the residuals is the square root of the MSE loss on the same split.
    assert stats["rmse"] ** 2 == pytest.approx(report["metrics"]["loss"], rel=1e-4)
    assert stats["mae"] <= stats["rmse"] <= stats["max_abs"]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=60))
def test_per_class_scores_agree_with_the_counts(pairs):
    true = np.array([t for t, _ in pairs])
    probs = np.eye(4)[[p for _, p in pairs]]
    report = classification_report(true, probs, ["a", "b", "c", "d"])
    matrix = np.array(report["confusion_matrix"])
    assert matrix.sum() == len(pairs) and np.trace(matrix) == sum(t == p for t, p in pairs)
    for c, row in enumerate(report["per_class"]):
        assert row["support"] == sum(t == c for t, _ in pairs)
        if not any(c in pair for pair in pairs):  # no sample and none predicted: no scores, as the macro leaves it
            assert row["precision"] is row["recall"] is row["f1"] is None
            continue
        assert 0 <= row["precision"] <= 1 and 0 <= row["recall"] <= 1
        low, high = sorted((row["precision"], row["recall"]))
        assert low - 1e-12 <= row["f1"] <= high + 1e-12  # a harmonic mean lies between its terms


TABLE_ROWS = ["size,label", *[f"{i % 7},{'ab'[i % 2]}" for i in range(40)]]


def _table_run(run_cli, folder):
    """A run trained one epoch on table.csv (a number and a two-class label) in
    ``folder``; returns its directory."""
    (folder / "table.csv").write_text("\n".join(TABLE_ROWS) + "\n")
    (folder / "table.yaml").write_text(
        "name: table\ndata:\n  source: {type: csv, path: table.csv, target: label}\n"
        "model:\n  layers: [{type: dense, units: 2, activation: softmax}]\nloss: categorical_crossentropy\n"
        "training: {epochs: 1}\n")
    assert run_cli("train", folder / "table.yaml", "--quiet", "--run-dir", folder / "run").exit_code == 0
    return folder / "run"


def test_a_run_whose_data_file_moved_is_told_to_score_a_file_with_data(run_cli, tmp_path):
    run = _table_run(run_cli, tmp_path)
    (tmp_path / "table.csv").rename(tmp_path / "moved.csv")
    result = run_cli("evaluate", run)
    assert result.exit_code == 2
    assert f"data.source.path: {tmp_path / 'table.csv'}: no such file" in result.output
    assert (f"hint: put the file back where it was, or score rows you have with: nnrun evaluate {run} "
            "--data FILE") in result.output
    assert run_cli("evaluate", run, "--data", tmp_path / "moved.csv").exit_code == 0


def test_scoring_the_file_the_run_trained_on_is_called_optimistic(run_cli, tmp_path):
    run = _table_run(run_cli, tmp_path)
    train = json.loads((run / "meta.json").read_text())["samples"]["train"]
    result = run_cli("evaluate", run, "--data", tmp_path / "table.csv")
    assert result.exit_code == 0, result.output
    note = (f"note: table.csv is the file the run trained on (data.source.path): {train} of its rows trained the "
            f"model, so these scores are optimistic; `nnrun evaluate {run}` scores the test split the run held out")
    assert note in " ".join(result.stderr.split()) and "optimistic" not in result.stdout  # notes beside the output
    assert json.loads((run / "eval-table.json").read_text())["notes"][0].startswith("table.csv is the file the run")
    (tmp_path / "copy.csv").write_text((tmp_path / "table.csv").read_text())  # the same rows, by another name
    assert "note: copy.csv is a copy of the file the run trained on (data.source.path)" in \
        " ".join(run_cli("evaluate", run, "--data", tmp_path / "copy.csv").output.split())
    (tmp_path / "other.csv").write_text((tmp_path / "table.csv").read_text() + TABLE_ROWS[1] + "\n")
    assert "trained on" not in run_cli("evaluate", run, "--data", tmp_path / "other.csv").output
    # A run that held no test split out is not pointed at one.
    assert run_cli("train", tmp_path / "table.yaml", "--set", "data.split.test=0", "--quiet", "--run-dir",
                   tmp_path / "no-test").exit_code == 0
    out = " ".join(run_cli("evaluate", tmp_path / "no-test", "--data", tmp_path / "table.csv").output.split())
    assert "so these scores are optimistic; a file of rows the run never saw is the fair measure" in out


def test_a_file_named_like_a_split_gets_a_report_of_its_own(run_cli, tmp_path):
    """`--data test.csv` once took eval-test.json, the test split's report, and --force
    replaced that report without a copy."""
    run = _table_run(run_cli, tmp_path)
    assert run_cli("evaluate", run).exit_code == 0
    split_report = (run / "eval-test.json").read_text()
    (tmp_path / "test.csv").write_text("\n".join(TABLE_ROWS[:11]) + "\n")
    result = run_cli("evaluate", run, "--data", tmp_path / "test.csv")
    assert result.exit_code == 0, result.output
    assert (run / "eval-test.json").read_text() == split_report
    assert json.loads((run / "eval-test.csv.json").read_text())["samples"] == 10
    (tmp_path / "fresh.csv").write_text("\n".join(TABLE_ROWS[:6]) + "\n")
    assert run_cli("evaluate", run, "--data", tmp_path / "fresh.csv").exit_code == 0
    assert (run / "eval-fresh.json").is_file()  # other names as before: the file's stem
    for name, report in (("Test.csv", "eval-Test.csv.json"), ("test", "eval-test-data.json")):
        (tmp_path / name).write_text("\n".join(TABLE_ROWS[:6]) + "\n")  # another case, no extension
        assert run_cli("evaluate", run, "--data", tmp_path / name).exit_code == 0
        assert (run / report).is_file()
    assert (run / "eval-test.json").read_text() == split_report


def test_a_target_column_named_in_another_case_is_pointed_at(run_cli, tmp_path):
    run = _table_run(run_cli, tmp_path)
    for written in ("Label", "LABEL", "labels"):
        (tmp_path / "new.csv").write_text(f"size,{written}\n1,a\n2,b\n")
        result = run_cli("evaluate", run, "--data", tmp_path / "new.csv")
        assert result.exit_code == 2
        assert "new.csv: no target column 'label'; scoring needs the true values" in result.output
        assert f"hint: the file has a column '{written}': name it 'label', as the training data did" in result.output


def test_a_killed_run_that_kept_no_checkpoint_says_it_saved_no_weights(run_cli, tmp_path):
    run = train_iris(tmp_path / "r", "training.checkpoint=null", epochs=2)
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "status": "running"}))  # as SIGKILL leaves it
    (run / "model.safetensors").unlink()
    result = run_cli("evaluate", run)
    said = " ".join(result.output.split())
    assert result.exit_code == 2
    assert (f"{run}: the run is killed (it stopped without a word) and saved no weights: it has no model.safetensors, "
            "and no checkpoint to take them from") in said
    assert f"hint: train it again with: nnrun train {run / 'config.yaml'}" in said


def test_a_live_run_that_keeps_no_checkpoint_says_to_wait_for_it(run_cli, tmp_path):
    from nnrun.store.lock import RunLock

    run = train_iris(tmp_path / "r", "training.checkpoint=null", epochs=2)
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "status": "running"}))
    (run / "model.safetensors").unlink()
    lock = RunLock(run)  # as the training process holds it
    try:
        said = " ".join(run_cli("evaluate", run).output.split())
    finally:
        lock.release()
    assert "the run is still training and has saved no weights" in said
    assert "hint: wait for it to finish (training.checkpoint is off, so it saves none before)" in said


def test_a_score_that_is_nan_is_written_as_null_in_every_json_file(run_cli, tmp_path):
    """JSON has no NaN: Python writes the bare word, which strict parsers (a CI's jq,
    node) refuse. An auc over a split of one class is such a score."""
    rows = "".join(f"{i / 60:.3f},{(i * 7) % 11},{'pos' if i % 10 == 0 else 'neg'}\n" for i in range(60))
    (tmp_path / "bin.csv").write_text("a,b,y\n" + rows)
    (tmp_path / "bin.yaml").write_text(
        "data:\n  source: {type: csv, path: bin.csv, target: y}\n  split: {validation: 0.05, test: 0.1, stratify: "
        "false}\nmodel: {layers: [{type: dense, units: 1, activation: sigmoid}]}\nloss: binary_crossentropy\n"
        "metrics: [auc]\ntraining: {epochs: 1}\n")
    for name, seed in (("r4", 4), ("r5", 5)):
        assert run_cli("train", "bin.yaml", "--set", f"seed={seed}", "-q", "--run-dir", name).exit_code == 0
    assert run_cli("evaluate", "r4").exit_code == 0

    def strict(text: str):
        return json.loads(text, parse_constant=lambda word: pytest.fail(f"{word} is no JSON"))

    meta = strict((tmp_path / "r4" / "meta.json").read_text())
    assert meta["final"]["validation"]["auc"] is None  # the split held one class: no auc
    strict((tmp_path / "r4" / "eval-test.json").read_text())
    assert run_cli("evaluate", "r4", "--split", "validation").exit_code == 0
    report = tmp_path / "r4" / "eval-validation.json"
    assert strict(report.read_text())["metrics"]["auc"] is None
    # As an older nnrun wrote it, with a bare NaN: the same report, evaluated again without --force.
    report.write_text(report.read_text().replace('"auc": null', '"auc": NaN'))
    again = run_cli("evaluate", "r4", "--split", "validation")
    assert again.exit_code == 0, again.output
    assert strict(report.read_text())["metrics"]["auc"] is None
    assert sorted(p.name for p in (tmp_path / "r4").glob("eval-*")) == ["eval-test.json", "eval-validation.json"]
    compared = strict(run_cli("compare", "r4", "r5", "--json").stdout)
    assert compared and strict(run_cli("runs", ".", "--json").stdout)


def test_a_file_cannot_score_several_targets_its_training_never_named(run_cli, tmp_path):
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(80, 3)), rng.normal(size=(80, 2))
    run = nnrun.train({"model": {"layers": [{"type": "dense", "units": 2}]}, "loss": "mse",
                       "training": {"epochs": 1}}, data=(x, y), run_dir=tmp_path / "two", quiet=True).run_dir
    (tmp_path / "f.csv").write_text("x0,x1,x2,a,b\n" + "".join(f"{r[0]},{r[1]},{r[2]},0,0\n" for r in x[:5]))
    result = run_cli("evaluate", run, "--data", tmp_path / "f.csv")
    assert result.exit_code == 2
    assert "the model predicts 2 targets, which its training data did not name, so a file's columns cannot say " \
           "which is which" in " ".join(result.output.split())
    assert "score an .npz archive with arrays x and y (samples, targets) instead" in " ".join(result.output.split())


def test_evaluate_json_prints_the_report_it_writes(run_cli, tmp_path):
    run = train_iris(tmp_path / "iris", epochs=2)
    result = run_cli("evaluate", run, "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    written = json.loads((run / "eval-test.json").read_text())
    assert printed["written"] == str(run / "eval-test.json")
    assert {k: v for k, v in printed.items() if k != "written"} == written
    assert printed["metrics"].keys() == {"loss", "accuracy"} and printed["samples"] == 30
    # Its notes on standard error too, as train --json's warnings: a script's log shows them.
    (tmp_path / "d.csv").write_text("sepal_length,sepal_width,petal_length,petal_width,species,extra\n"
                                    "5.1,3.5,1.4,0.2,setosa,1\n6.7,3.0,5.2,2.3,virginica,2\n")
    result = run_cli("evaluate", run, "--data", tmp_path / "d.csv", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["notes"] == [
        "ignored 1 column the model was not trained on: 'extra'"]
    assert "note: ignored 1 column the model was not trained on: 'extra'" in result.stderr
