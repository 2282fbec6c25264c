"""`nnrun predict`: the saved column encoding and preprocessing, reapplied to new rows."""

from __future__ import annotations

import csv
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import nnrun

FRUIT_ROWS = "weight_g,length_cm,sweetness,color\n160,7.2,6.5,red\n115,19.0,7.5,yellow\n,8.1,4.0,orange\n"


@pytest.fixture(scope="module")
def fruit_run(tmp_path_factory) -> Path:
    """The README's CSV example, trained once for every test here."""
    from nnrun.engine.train import train

    folder = tmp_path_factory.mktemp("fruit")
    root = Path(__file__).resolve().parent.parent
    return train(root / "configs" / "fruit.yaml", run_dir=folder / "run", overrides=["training.epochs=30"]).run_dir


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory) -> Path:
    from nnrun.engine.train import train

    folder = tmp_path_factory.mktemp("iris")
    root = Path(__file__).resolve().parent.parent
    return train(root / "configs" / "iris.yaml", run_dir=folder / "run", overrides=["training.epochs=3"]).run_dir


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_predict_writes_class_names_and_probabilities(run_cli, tmp_path, fruit_run):
    (tmp_path / "new.csv").write_text(FRUIT_ROWS)
    result = run_cli("predict", fruit_run, "new.csv", "-o", "out.csv", "--proba")
    assert result.exit_code == 0, result.output
    assert "wrote 3 predictions to out.csv" in result.output
    rows = read_rows(tmp_path / "out.csv")
    assert list(rows[0]) == ["prediction", "proba_apple", "proba_banana", "proba_orange"]
    assert [r["prediction"] for r in rows] == ["apple", "banana", "orange"]
    for row in rows:
        assert sum(float(v) for k, v in row.items() if k.startswith("proba_")) == pytest.approx(1.0, abs=1e-4)


def test_a_run_folder_that_cannot_be_written_is_told_to_write_elsewhere(run_cli, tmp_path, fruit_run, monkeypatch):
    # A run kept on a read-only mount (an archive) or owned by another user.
    import errno

    from nnrun.store import files

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(files, "atomic_write", read_only)
    new = tmp_path / "new.csv"
    new.write_text("weight_g,length_cm,sweetness,color\n150,7.1,5,red\n")
    result = run_cli("predict", fruit_run, new)
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == (
        f"error: {fruit_run}/predictions.csv: cannot write the predictions (Read-only file system) hint: give -o FILE "
        "in a folder you can write to, or -o - to print them")
    printed = run_cli("predict", fruit_run, new, "-o", "-")
    assert printed.exit_code == 0 and printed.stdout.splitlines()[0] == "prediction" and len(printed.stdout.splitlines()) == 2


def test_predict_reapplies_exactly_the_training_pipeline(run_cli, fruit_run):
    """On the full training file (its label column is allowed and ignored), the share
    of right answers equals the one training reported, split by split."""
    data = Path(__file__).resolve().parent.parent / "configs" / "data" / "fruit.csv"
    assert run_cli("predict", fruit_run, data).exit_code == 0
    predicted = [r["prediction"] for r in read_rows(fruit_run / "predictions.csv")]
    truth = [r["fruit"] for r in read_rows(data)]
    meta = json.loads((fruit_run / "meta.json").read_text())
    expected = sum(meta["final"][s]["accuracy"] * n for s, n in meta["samples"].items())
    assert sum(p == t for p, t in zip(predicted, truth)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("weight_g,length_cm,sweetness\n1,2,3\n", "missing: 'color'"),
        ("weight_g,length_cm,sweetness,colour\n1,2,3,red\n", "missing: 'color'; the input has 'colour': misspelled?"),
        # Another case shares no letter as written: 'SWEETNESS' is still the one meant.
        ("weight_g,length_cm,SWEETNESS,color\n1,2,3,red\n", "missing: 'sweetness'; the input has 'SWEETNESS': "
                                                            "misspelled?"),
        ("weight_g,length_cm,sweetness,color\n1,2,3,red\n1,2,3,purple\n",
         "unknown category (1 cell):\n    line 3, column 'color': 'purple'"),
        ("weight_g,length_cm,sweetness,color\n1,long,3,red\n",
         "not a number (1 cell):\n    line 2, column 'length_cm': 'long'"),
        ("weight_g,length_cm,sweetness,color\n", "new.csv: no data rows under the header"),
    ],
)
def test_bad_prediction_input(run_cli, tmp_path, fruit_run, text, fragment):
    (tmp_path / "new.csv").write_text(text)
    result = run_cli("predict", fruit_run, "new.csv")
    assert result.exit_code == 2
    assert fragment in result.output and "Traceback" not in result.output


def test_a_column_name_that_only_looks_the_same_is_shown_as_written():
    # A non-breaking space, or an accent as a letter and a combining mark: "misspelled?" would puzzle.
    from nnrun.data.columns import accept_columns
    from nnrun.errors import UserError

    for written in ("store\u00a0city", "store  city"):
        with pytest.raises(UserError) as error:
            accept_columns([written, "a"], ["store city", "a"], "new.csv")
        assert f"missing: 'store city'; the input has it written with other characters that look the same, " \
               f"{written!a}: write it as 'store city'" in str(error.value)
    with pytest.raises(UserError, match=r"the input has it written .* 'Montre\\u0301al': write it as 'Montr\\xe9al'"):
        accept_columns(["Montre\u0301al"], ["Montr\u00e9al"], "new.csv")
    with pytest.raises(UserError, match=r"missing: 'a\xf1o'; the input has it written with other characters"):
        accept_columns(["an\u0303o", "x"], ["a\u00f1o", "x"], "new.csv")  # too short for difflib to offer


def test_missing_value_without_imputation_names_the_cell(run_cli, tmp_path, iris_run):
    (tmp_path / "new.csv").write_text("sepal_length,sepal_width,petal_length,petal_width\n5,3,1,0.2\n6,,4,1\n")
    result = run_cli("predict", iris_run, "new.csv")
    assert result.exit_code == 2 and "missing value (1 cell):\n    line 3, column 'sepal_width'" in result.output


def test_blank_lines_between_rows_are_refused_with_the_other_bad_rows(run_cli, tmp_path, fruit_run):
    """Skipping a blank line would shift every prediction under it; one after the
    last row shifts nothing. Row problems are listed in file order."""
    (tmp_path / "new.csv").write_text("weight_g,length_cm,sweetness,color\n160,7.2,6.5,red\n\n115,19.0,7.5\n"
                                      "  \n,8.1,4.0,orange\n\n")
    result = run_cli("predict", fruit_run, "new.csv", "-o", "out.csv")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ("new.csv: 3 problems in the data\n  rows with the wrong number of cells (3):\n"
            "    line 3: blank, but the header has 4 columns\n"
            "    line 4: 3 cells, but the header has 4 columns\n"
            "    line 5: blank, but the header has 4 columns\n"
            "    hint: a row of fewer cells: each row needs a cell for every column, empty or not\n"
            "    hint: the predictions line up with the rows, so a blank line is not skipped: delete it, or write its "
            "4 empty cells (',,,') to predict a row of missing values\n") in result.output
    assert "hint: predict and evaluate --data take every row, each in its place, so none is skipped as training's " \
        "bad_rows: skip does: fix or delete these rows" in result.output
    assert not (tmp_path / "out.csv").exists()
    (tmp_path / "new.csv").write_text(FRUIT_ROWS + "\n\n")
    result = run_cli("predict", fruit_run, "new.csv", "-o", "out.csv")
    assert result.exit_code == 0 and "wrote 3 predictions to out.csv" in result.output
    # The empty cells in the file's own delimiter.
    (tmp_path / "semi.csv").write_text(FRUIT_ROWS.replace(",", ";").replace("7.2;", "7,2;") + "\n" + "1;2;3;red\n")
    result = run_cli("predict", fruit_run, "semi.csv", "--delimiter", ";", "--decimal", ",")
    assert result.exit_code == 2 and "write its 4 empty cells (';;;')" in " ".join(result.output.split())


def test_lines_of_bare_separators_after_the_last_row_are_no_rows(run_cli, tmp_path, fruit_run):
    """What a spreadsheet writes below a table: no predictions made up for them. Between
    rows, ',,,' is still a row of missing values (see above)."""
    (tmp_path / "new.csv").write_text(FRUIT_ROWS + "\n,,,\r\n , , ,\n\n,,,\n")
    result = run_cli("predict", fruit_run, "new.csv", "-o", "out.csv")
    assert result.exit_code == 0 and "wrote 3 predictions to out.csv" in result.output, result.output
    (tmp_path / "gap.csv").write_text(FRUIT_ROWS.replace("\n", "\n,,,\n", 1) + "\n,,,\n")
    result = run_cli("predict", fruit_run, "gap.csv", "-o", "gap-out.csv")
    assert result.exit_code == 0 and "wrote 4 predictions to gap-out.csv" in result.output, result.output


def one_column_run(run_cli, tmp_path, missing: str) -> str:
    """A regressor trained on one number column ``x`` (``data.source.missing``: ``missing``)."""
    rows = "\n".join(f"{i / 10},{i / 5}" for i in range(40))
    (tmp_path / "line.csv").write_text(f"x,y\n{rows}\n")
    (tmp_path / f"{missing}.yaml").write_text(
        f"data: {{source: {{type: csv, path: line.csv, target: y, missing: {missing}}}, "
        "split: {validation: 0, test: 0.25}}\n"
        "model: {layers: [{type: dense, units: 1}]}\nloss: mse\ntraining: {epochs: 1}\n")
    assert run_cli("train", f"{missing}.yaml", "--run-dir", missing, "-q").exit_code == 0
    return missing


def test_a_blank_line_of_a_one_number_column_file_is_a_missing_cell(run_cli, tmp_path):
    run = one_column_run(run_cli, tmp_path, "mean")
    (tmp_path / "new.csv").write_text("x\n1\n\n3\n")
    result = run_cli("predict", run, "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    (tmp_path / "alone.csv").write_text("x\n1\nNA\n3\n")  # NA: the run's fill value
    assert result.stdout == run_cli("predict", run, "alone.csv", "-o", "-").stdout
    assert len(result.stdout.splitlines()) == 4 and len(set(result.stdout.splitlines()[1:])) == 3

    run = one_column_run(run_cli, tmp_path, "error")
    result = run_cli("predict", run, "new.csv", "-o", "-")
    assert result.exit_code == 2
    assert ("new.csv: 1 bad cell in the data\n  missing value (1 cell):\n    line 3, column 'x'\n"
            "    hint: fill it in, or train with data.source.missing set to mean or most_frequent") in result.output
    # Blank lines after the last row are no rows, with or without imputation.
    (tmp_path / "ends_blank.csv").write_text("x\n1\n3\n\n\n")
    result = run_cli("predict", run, "ends_blank.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3


def test_predict_from_npz(run_cli, tmp_path, iris_run, fruit_run):
    np.savez(tmp_path / "x.npz", x=np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], np.float32))
    result = run_cli("predict", iris_run, "x.npz", "-o", "p.csv")
    assert result.exit_code == 0, result.output
    assert len(read_rows(tmp_path / "p.csv")) == 2
    np.savez(tmp_path / "wide.npz", x=np.zeros((2, 5)))
    result = run_cli("predict", iris_run, "wide.npz")
    assert result.exit_code == 2 and "samples of shape (5,), but the model takes (4,)" in result.output
    result = run_cli("predict", fruit_run, "x.npz")
    assert result.exit_code == 2 and "trained on CSV columns" in result.output
    result = run_cli("predict", iris_run, "x.npz", "--unknown", "ignore")
    assert result.exit_code == 2 and f"--unknown: is for a run trained on categorical CSV columns; {iris_run} has " \
        "none" in " ".join(result.output.split())


def test_non_finite_samples_are_refused_everywhere_they_can_come_from(run_cli, tmp_path, iris_run):
    x = np.array([[np.nan, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [np.inf, 3, 1, 1], [1e39, 1, 1, 1]])
    np.savez(tmp_path / "x.npz", x=x, y=np.array([0, 1, 2, 0]))
    message = "x.npz: 3 samples hold NaN, infinity or a number beyond float32's range, 3.4e38 (samples 0, 2, 3, " \
              "counted from 0); the model needs a finite number in every input"
    for command in (("predict", iris_run, "x.npz", "-o", "p.csv"), ("evaluate", iris_run, "--data", "x.npz")):
        result = run_cli(*command)
        assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "p.csv").exists()
    import nnrun
    from nnrun.errors import UserError

    model = nnrun.load(iris_run)
    beyond = r"NaN, infinity or a number beyond float32's range, 3.4e38"
    with pytest.raises(UserError, match=rf"x: 1 sample holds {beyond} \(sample 1, counted from 0\)"):
        model.predict(np.array([[5.1, 3.5, 1.4, 0.2], [1e39, 1, 1, 1]]))  # beyond float32: infinite
    with warnings.catch_warnings():  # inf - inf on the way: the error alone, no NumPy warning
        warnings.simplefilter("error")
        with pytest.raises(UserError, match=rf"x: 1 sample holds {beyond} \(sample 0,"):
            model.predict(np.array([[np.inf, -np.inf, 1, 1], [5.1, 3.5, 1.4, 0.2]]))
    assert model.predict(np.array([[1e30, 1, 1, 1]])).predictions.shape == (1,)  # large but finite: answered


def test_a_config_given_as_the_input_is_said_to_be_one(run_cli, tmp_path, iris_run):
    (tmp_path / "iris.yaml").write_text("name: iris\n")
    result = run_cli("predict", iris_run, "iris.yaml")
    assert result.exit_code == 2
    assert "iris.yaml: a YAML file, not data; give a CSV file with the training columns, or an .npz archive " \
           "with an array x\n  hint: the run's own config is used already: nnrun predict RUN_DIR DATA.csv" in result.output
    result = run_cli("evaluate", iris_run, "--data", "iris.yaml")
    assert result.exit_code == 2
    assert "give a CSV file with the training columns and the target, or an .npz archive with arrays x and y\n" \
           "  hint: the run's own config is used already: nnrun evaluate RUN_DIR --data DATA.csv" in result.output


def test_binary_and_regression_outputs(run_cli, tmp_path):
    root = Path(__file__).resolve().parent.parent
    assert run_cli("train", root / "configs" / "breast_cancer.yaml", "-q", "--run-dir", "bc",
                   "--set", "training.epochs=2").exit_code == 0
    names = json.loads((tmp_path / "bc" / "preprocess.json").read_text())["feature_names"]
    (tmp_path / "bc.csv").write_text(",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n")
    assert run_cli("predict", "bc", "bc.csv", "--proba").exit_code == 0
    assert list(read_rows(tmp_path / "bc" / "predictions.csv")[0]) == ["prediction", "proba_benign", "proba_malignant"]
    assert run_cli("train", root / "configs" / "diabetes.yaml", "-q", "--run-dir", "reg",
                   "--set", "training.epochs=2").exit_code == 0
    names = json.loads((tmp_path / "reg" / "preprocess.json").read_text())["feature_names"]
    (tmp_path / "reg.csv").write_text(",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n")
    assert run_cli("predict", "reg", "reg.csv").exit_code == 0
    value = read_rows(tmp_path / "reg" / "predictions.csv")[0]["prediction"]
    assert np.isfinite(float(value))
    # Written as the float32 it is, in its shortest text, which reads back to the same bits.
    exact = nnrun.load(tmp_path / "reg").predict({name: [1.0] for name in names}).predictions[0]
    assert value == str(np.float32(exact)) and np.float32(value) == exact
    result = run_cli("predict", "reg", "reg.csv", "-o", "-", "--proba")  # said, not silently ignored
    assert result.exit_code == 0
    assert "note: --proba adds a probability per class, and this run is a regression" in " ".join(result.output.split())
    assert result.output.count("prediction") >= 1 and "proba_" not in result.output


def test_predict_run_directory_and_output_mistakes(run_cli, tmp_path, fruit_run):
    (tmp_path / "new.csv").write_text(FRUIT_ROWS)
    result = run_cli("predict", "nowhere", "new.csv")
    assert result.exit_code == 2 and "nowhere: no such run directory" in result.output
    result = run_cli("predict", fruit_run, "absent.csv")
    assert result.exit_code == 2 and "absent.csv: no such file" in result.output
    result = run_cli("predict", fruit_run, "new.csv", "-o", "no/such/folder/out.csv")
    assert result.exit_code == 2 and "the folder no/such/folder does not exist" in result.output


def test_flat_rows_become_images_again(tmp_path):
    """A digits model takes (8, 8, 1); a CSV row of 64 pixels is reshaped row-major."""
    from nnrun.commands.inputs import read_samples
    from nnrun.store.preprocessing import SavedPreprocessing

    names = [f"p{i}" for i in range(64)]
    saved = SavedPreprocessing(steps=[], states=[], feature_names=names, class_names=None, input_shape=[8, 8, 1],
                               task="regression")
    (tmp_path / "d.csv").write_text(",".join(names) + "\n" + ",".join(map(str, range(64))) + "\n")
    x = read_samples(tmp_path / "d.csv", saved)
    assert x.shape == (1, 8, 8, 1) and x.dtype == np.float32
    assert x[0, 1, 0, 0] == 8.0  # second image row starts at pixel 8


def test_evaluate_refuses_data_that_changed_since_training(run_cli, tmp_path):
    """Reordered rows would silently mix training rows into the test split."""
    import shutil

    from conftest import ROOT

    shutil.copytree(ROOT / "configs" / "data", tmp_path / "data")
    shutil.copy(ROOT / "configs" / "fruit.yaml", tmp_path / "fruit.yaml")
    assert run_cli("train", tmp_path / "fruit.yaml", "--run-dir", "r", "--set", "training.epochs=2", "-q").exit_code == 0
    csv = tmp_path / "data" / "fruit.csv"
    header, *rows = csv.read_text().splitlines()
    csv.write_text("\n".join([header, *reversed(rows)]) + "\n")
    result = run_cli("evaluate", "r")
    assert result.exit_code == 2
    assert "r: the data no longer matches the run: the test, train, validation splits differ" in result.output
    assert f"hint: the data changed since training ({csv}); restore it" in " ".join(result.output.split())
    assert not (tmp_path / "r" / "eval-test.json").exists()


def test_evaluate_scores_a_labelled_file(run_cli, tmp_path):
    """`nnrun evaluate RUN --data FILE` scores new labelled data with the run's own
    preprocessing; the test split written out as a file scores exactly as the split."""
    import gzip
    import json
    from importlib import resources

    from conftest import ROOT

    iris = ROOT / "configs" / "iris.yaml"
    assert run_cli("train", iris, "--run-dir", "r", "--set", "training.epochs=5", "-q").exit_code == 0
    text = gzip.decompress(resources.files("nnrun.data").joinpath("builtin", "iris.csv.gz").read_bytes()).decode()
    (tmp_path / "all.csv").write_text(text)
    result = run_cli("evaluate", "r", "--data", "all.csv")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "eval-all.json").read_text())
    assert report["data"] == str(tmp_path / "all.csv") and report["samples"] == 150  # absolute: found from anywhere
    assert sum(map(sum, report["classification"]["confusion_matrix"])) == 150
    (tmp_path / "odd.csv").write_text(text.replace("virginica", "virginia", 1))
    result = run_cli("evaluate", "r", "--data", "odd.csv")
    assert result.exit_code == 2
    assert ("odd.csv: 1 bad cell in the data\n  unknown class (1 cell):\n    line 102, column 'species': 'virginia'\n"
            "    hint: the model knows 3 classes: setosa, versicolor, virginica") in result.output
    import numpy as np

    np.savez(tmp_path / "xy.npz", x=np.zeros((4, 4), np.float32), y=np.array([0, 1, 2, 2]))
    result = run_cli("evaluate", "r", "--data", "xy.npz")
    assert result.exit_code == 0 and "xy.npz, 4 samples" in result.output


def test_evaluate_data_refuses_mismatched_or_empty_targets(run_cli, tmp_path):
    import json

    import numpy as np
    from conftest import ROOT

    assert run_cli("train", ROOT / "configs" / "iris.yaml", "--run-dir", "r", "--set", "training.epochs=1",
                   "-q").exit_code == 0
    cases = {
        "short.npz": ({"x": np.zeros((20, 4), np.float32), "y": np.zeros(5, np.int64)}, "x has 20 samples but y has 5"),
        "wide.npz": ({"x": np.zeros((3, 4), np.float32), "y": np.eye(5)[:3]}, "one-hot targets need 3 numeric columns"),
        "empty.npz": ({"x": np.zeros((0, 4), np.float32), "y": np.zeros(0, np.int64)}, "no samples to score"),
        # Probabilities, scored as their argmax, would read as hard labels.
        "soft.npz": ({"x": np.zeros((3, 4), np.float32), "y": np.array([[1, 0, 0], [0.8, 0.1, 0.1], [0, 0, 2]])},
                     "soft.npz, row 1: targets of 3 columns must be one-hot rows (one 1, the rest 0), as training "
                     "takes them (2 rows are not)"),
    }
    for name, (arrays, message) in cases.items():
        np.savez(tmp_path / name, **arrays)
        result = run_cli("evaluate", "r", "--data", name)
        assert result.exit_code == 2 and message in result.output, (name, result.output)
    result = run_cli("evaluate", "r", "--data", "short.npz", "--split", "test")
    assert result.exit_code == 2 and "--split and --data: choose one" in result.output
    (tmp_path / "other.csv").write_text("x1,x2,y\n1,2,3\n")  # another data set's file
    result = run_cli("evaluate", "r", "--data", "other.csv")
    assert result.exit_code == 2
    assert "other.csv: 4 of the model's columns are missing" in result.output
    assert "cannot tell which column" not in result.output
    (tmp_path / "renamed.csv").write_text("Sepal_Length,sepal_width,petal_length,petal_width,species\n1,2,3,4,setosa\n")
    result = run_cli("evaluate", "r", "--data", "renamed.csv")  # told as predict tells it: a misspelt column named
    assert "missing: 'sepal_length'; the input has 'Sepal_Length': misspelled?" in result.output
    assert "; and the target beside them (species)" in " ".join(result.output.split())  # scoring needs it too

    meta = tmp_path / "r" / "meta.json"
    saved = json.loads(meta.read_text())
    meta.write_text(json.dumps({**saved, "split_fingerprints": {"test": "x"}}))
    result = run_cli("evaluate", "r")
    assert result.exit_code == 2 and "meta.json: damaged: its split_fingerprints" in result.output


def test_float_written_labels_score_as_they_trained(run_cli, tmp_path):
    rows = [f"{a},{b},{label}" for a, b, label in
            [(0.1, 0.2, "1.0"), (0.9, 0.8, "2.0"), (0.2, 0.1, "1.0"), (0.8, 0.9, "2.0")] * 6]
    (tmp_path / "fl.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "fl.yaml").write_text(
        "data: {source: {type: csv, path: fl.csv, target: label}, split: {validation: 0, test: 0.25}}\n"
        "model: {layers: [{type: dense, units: 2, activation: softmax}]}\n"
        "loss: categorical_crossentropy\ntraining: {epochs: 1}\n")
    assert run_cli("train", "fl.yaml", "--run-dir", "r", "-q").exit_code == 0
    result = run_cli("evaluate", "r", "--data", "fl.csv")
    assert result.exit_code == 0, result.output


def test_damaged_preprocessing_shapes_and_classes_are_refused(run_cli, tmp_path):
    import json

    from conftest import ROOT

    assert run_cli("train", ROOT / "configs" / "iris.yaml", "--run-dir", "r", "--set", "training.epochs=1",
                   "-q").exit_code == 0
    prep = tmp_path / "r" / "preprocess.json"
    good = json.loads(prep.read_text())
    damages = [
        ({"states": [{**good["states"][0], "mean": [good["states"][0]["mean"]] * 3}]}, "statistics do not fit the data"),
        ({"input_shape": [100000, 100000, 1000]}, "input_shape [100000, 100000, 1000] does not hold the 4 features"),
        ({"class_names": None}, "a classifier needs its class_names"),
        ({"class_names": ["a", "b"]}, "2 class names for a model with 3 outputs"),
    ]
    for change, message in damages:
        prep.write_text(json.dumps({**good, **change}))
        result = run_cli("predict", "r", ROOT / "configs" / "data" / "fruit_new.csv")
        assert result.exit_code == 2 and message in result.output, (change, result.output)


def test_predict_refuses_a_folder_as_output(run_cli, tmp_path):
    from conftest import ROOT

    assert run_cli("train", ROOT / "configs" / "iris.yaml", "--run-dir", "r", "--set", "training.epochs=1",
                   "-q").exit_code == 0
    (tmp_path / "out").mkdir()
    samples = tmp_path / "new.csv"
    samples.write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    result = run_cli("predict", "r", samples, "-o", "out")
    assert result.exit_code == 2 and "out: is a folder; give a file name for the predictions" in result.output


def test_predictions_csv_is_written_as_the_csv_module_writes_it():
    import csv
    import io

    from nnrun.commands.predict import _csv_text

    header = ["id", "pred,x", "p"]
    columns = [["a", 'b"c', "", "d\ne", " s "], ["x", "y", "z,1", "w", ""], ["1", "2", "3", "4", "5"]]
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns))
    assert _csv_text(header, columns) == expected.getvalue()
    assert _csv_text(["a", "b"], [["1", "2"], ["3", "4"]]) == "a,b\n1,3\n2,4\n"


def test_a_model_trained_on_arrays_says_what_a_csv_file_for_it_holds(run_cli, tmp_path):
    # A model of sequences (20 steps of 3) trained on arrays: its 60 unnamed features were
    # listed one per line, twice.
    import nnrun

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 20, 3)).astype(np.float32), np.array([0, 1] * 20)
    config = {"name": "s", "data": {"split": {"validation": 0.25, "test": 0}},
              "model": {"layers": [{"type": "gru", "units": 4}, {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    run = nnrun.train(config, data=(x, y), run_dir=tmp_path / "s").run_dir
    (tmp_path / "f.csv").write_text("a,b\n1,2\n")
    result = run_cli("predict", run, tmp_path / "f.csv")
    assert result.exit_code == 2
    assert "f.csv: none of the model's columns x0 ... x59: it was trained on arrays, whose features have no names" \
        in result.output
    assert "give a CSV file of 60 numbers a row in columns x0 to x59 (each sample's values in row-major order of " \
        "its shape (20, 3), one sample a row), or an .npz with the samples as x of shape (samples, 20, 3)" \
        in " ".join(result.output.split())
    assert result.output.count("x1") == 0


def test_an_api_target_that_is_missing_or_a_text_is_told_so(iris_run):
    import nnrun
    from nnrun.errors import UserError

    model = nnrun.load(iris_run)
    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    with pytest.raises(UserError) as info:
        model.evaluate(x, np.array(["setosa", None], dtype=object))
    assert info.value.message == "y, row 1: missing target (1 in all); every sample scored needs its class"
    with pytest.raises(UserError) as info:
        model.evaluate(x, ["setosa", "rose"])
    assert info.value.message.startswith("y, row 1: unknown class 'rose'; the model knows setosa")


def test_predict_and_evaluate_read_standard_input_and_pipes(tmp_path, iris_run):
    # `cat new.csv | nnrun predict RUN - -o -`: a pipe is read once (a CSV file is read
    # twice, and the second read of /dev/stdin found it empty); an .npz archive too.
    import io
    import os
    import subprocess
    import sys

    def piped(*args, data: bytes):
        return subprocess.run([sys.executable, "-m", "nnrun", *map(str, args)], input=data, capture_output=True,
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})

    rows = b"sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"
    from_file = (tmp_path / "new.csv")
    from_file.write_bytes(rows)
    expected = piped("predict", iris_run, from_file, "-o", "-", data=b"").stdout
    assert expected.startswith(b"prediction\n") and len(expected.splitlines()) == 3
    for name in ("-", "/dev/stdin"):
        result = piped("predict", iris_run, name, "-o", "-", data=rows)
        assert result.returncode == 0 and result.stdout == expected, result.stderr
    archive = io.BytesIO()
    np.savez(archive, x=np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], np.float32))
    assert piped("predict", iris_run, "-", "-o", "-", data=archive.getvalue()).stdout == expected
    labelled = b"sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n"
    scored = piped("evaluate", iris_run, "--data", "-", data=labelled)
    assert scored.returncode == 0 and b"standard input, 1 samples" in scored.stdout, scored.stderr
    again = piped("evaluate", iris_run, "--data", "-", data=labelled)  # the same rows: the same report, kept once
    assert again.returncode == 0 and b"kept:" not in again.stdout, again.stdout
    assert json.loads((Path(iris_run) / "eval-stdin.json").read_text())["data"] == "-"
    assert not list(Path(iris_run).glob("eval-stdin.*.json"))
    empty = piped("predict", iris_run, "-", "-o", "-", data=b"")  # named as given, not as the temporary copy
    assert empty.returncode == 2 and empty.stderr.decode().startswith("error: standard input: the file is empty")


@pytest.mark.skipif(os.devnull != "/dev/null" or not Path(os.devnull).is_char_device(), reason="no /dev/null")
def test_predict_writes_into_a_device_such_as_dev_null(run_cli, tmp_path, fruit_run):
    (tmp_path / "new.csv").write_text(FRUIT_ROWS)
    result = run_cli("predict", fruit_run, "new.csv", "-o", os.devnull)
    assert result.exit_code == 0 and "wrote 3 predictions to /dev/null" in result.output, result.output
    assert Path(os.devnull).is_char_device()


@pytest.mark.skipif(not Path("/dev/stdout").exists(), reason="no /dev/stdout")
def test_predict_to_dev_stdout_sent_to_a_file_or_a_pipe_holds_the_csv_alone(tmp_path, fruit_run):
    """/dev/stdout is written into, also where the shell made it a file (not refused as
    one already there, nor its link replaced), and the status line goes to stderr."""
    import subprocess
    import sys

    (tmp_path / "new.csv").write_text(FRUIT_ROWS)
    command = f"{sys.executable} -m nnrun predict {fruit_run} new.csv -o /dev/stdout"
    for shell in (f"{command} > out.csv", f"{command} | cat > out.csv"):
        done = subprocess.run(["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "out.csv").read_text().splitlines()[0] == "prediction"
        assert len((tmp_path / "out.csv").read_text().splitlines()) == 4  # the header and 3 rows, nothing else
        assert "wrote 3 predictions to /dev/stdout" in done.stderr
    assert Path("/dev/stdout").is_symlink() or Path("/dev/stdout").is_char_device()


def test_large_predictions_are_written_out_as_a_spreadsheet_shows_them():
    """A price of 1,112,633.5 is 1112633.5 in predictions.csv, not 1.1126335e+06; each cell
    still reads back as the float32 predicted."""
    import numpy as np

    from nnrun.commands.predict import _positional

    values = np.array([1112633.5, 3.25, 4.4e12, 1e-7, -2.5e7], np.float32)
    cells = _positional(values.astype(str).tolist(), values)
    assert cells == ["1112633.5", "3.25", "4400000000000", "1e-07", "-25000000"]
    assert np.array_equal(np.array(cells, dtype=np.float32), values)
