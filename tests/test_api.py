"""The Python API, tested the way the README shows it: its notebook session runs as a
doctest, outputs included; then what the session does not show."""

from __future__ import annotations

import doctest
import json
import re

import numpy as np
import pytest

import nnrun
from conftest import ROOT, run_python
from nnrun.errors import UserError
from nnrun.store.tensorfile import load_weights


def readme_session() -> str:
    """The ```python block of the README's "From Python" section."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## From Python"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_notebook_session_runs_as_shown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(readme_session(), {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert runner.summarize(verbose=False).attempted >= 15


REGRESSION = {
    "name": "line",
    "data": {"split": {"validation": 0.2, "test": 0}},
    "model": {"layers": [{"type": "dense", "units": 1}]},
    "loss": "mse",
    "optimizer": {"type": "sgd", "learning_rate": 0.1},
    "metrics": ["mae"],
    "training": {"epochs": 30},
}


def test_a_regressor_from_arrays_predicts_values_and_reports_residuals(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3
    result = nnrun.train(REGRESSION, data=(x, y), run_dir=tmp_path / "line")
    assert result.best_epoch == min(result.history, key=lambda r: r["val_loss"])["epoch"]
    assert f"epochs={result.epochs}," in repr(result) and result.epochs == len(result.history)  # as the repr says
    model = nnrun.load(tmp_path / "line")
    assert model.classes is None and model.task == "regression"
    predictions, probabilities = model.predict(x[:5])
    assert probabilities is None and predictions.shape == (5,)
    assert model.predict(x[:5])[0] == predictions[0] and model.predict(x[:5]).shape == (5,)  # as Keras's array
    np.testing.assert_allclose(predictions, y[:5], atol=0.05)
    none = model.predict(x[:0])  # no samples: no predictions, as for an empty DataFrame
    assert none.predictions.shape == (0,) and none.probabilities is None
    evaluation = model.evaluate(x, y)
    assert evaluation.samples == 200 and evaluation.metrics["mae"] < 0.05 and "regression" in evaluation.details
    # The run directory stands on its own: nnrun evaluate rebuilds the split from data.npz.
    assert nnrun.evaluate(tmp_path / "line", split="validation")["metrics"] == result.final["validation"]


def test_a_run_trained_on_arrays_evaluates_and_resumes_after_it_is_moved(tmp_path, run_cli):
    """Its config.yaml names the saved data.npz within the run, not where the run was."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(80, 3))
    result = nnrun.train(REGRESSION, data=(x, x.sum(axis=1)), run_dir=tmp_path / "made")
    config = (result.run_dir / "config.yaml").read_text()
    assert "path: data.npz\n" in config and str(tmp_path) not in config
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    result.run_dir.rename(moved)
    assert nnrun.evaluate(moved, split="validation")["metrics"] == result.final["validation"]
    epochs = result.epochs
    shown = run_cli("train", "--resume", str(moved), "--set", f"training.epochs={epochs + 2}", "-q")
    assert shown.exit_code == 0, shown.output
    assert nnrun.load(moved).config.training.epochs == epochs + 2 and "path: data.npz\n" in \
        (moved / "config.yaml").read_text()


def test_targets_may_be_class_indices_or_one_hot(tmp_path):
    model = nnrun.load(nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "iris",
                                   overrides={"training.epochs": 5}).run_dir)
    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    none = model.predict(np.zeros((0, 4)))  # a bundled set's features keep their ranges: none to judge here
    assert none.predictions.shape == (0,) and none.probabilities.shape == (0, 3)
    by_name = model.evaluate(x, ["setosa", "virginica"]).metrics
    assert model.evaluate(x, [0, 2]).metrics == by_name
    assert model.evaluate(x, np.eye(3)[[0, 2]]).metrics == by_name
    # A position out of range is said as one, at its row, not as an unknown class '0'.
    with pytest.raises(UserError, match=r"^y, row 1: class index 5 is out of range: the model has 3 classes, 0 to 2 "
                                        r"\(setosa, versicolor, virginica\)"):
        model.evaluate(x, [0, 5])


def test_a_table_of_numeric_columns_takes_an_array_of_them_in_order(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,label\n" + "".join(f"{i % 7},{i % 3},{'yes' if i % 2 else 'no'}\n"
                                                          for i in range(40)))
    config = {"name": "t", "data": {"source": {"type": "csv", "path": str(tmp_path / "t.csv"), "target": "label"}},
              "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    model = nnrun.load(nnrun.train(config, run_dir=tmp_path / "run").run_dir)
    x = np.array([[1.0, 2.0], [3.0, 0.0]])
    by_name = model.predict({"a": x[:, 0], "b": x[:, 1]})
    assert (model.predict(x).probabilities == by_name.probabilities).all()
    with pytest.raises(UserError, match=r"^x: got an array of shape \(2, 3\), but this model was trained on the columns "
                                        r"of a table \(a, b\); pass a dict of columns or a pandas DataFrame, or a 2-D "
                                        r"array of its 2 numeric columns in that order$"):
        model.predict(np.zeros((2, 3)))


class Frame:
    """What nnrun needs of a pandas DataFrame: ``columns`` and a column by name."""

    def __init__(self, data: dict):
        self.data, self.columns = data, list(data)

    def __getitem__(self, name):
        return self.data[name]


def test_a_csv_run_takes_columns_by_name_and_says_what_is_wrong(tmp_path):
    fruit = nnrun.load(nnrun.train(ROOT / "configs" / "fruit.yaml", run_dir=tmp_path / "fruit",
                                   overrides={"training.epochs": 3}).run_dir)
    columns = {"color": ["red", None], "weight_g": [160, 115], "length_cm": [7.2, 19.0], "sweetness": [6.5, 7.5]}
    assert list(fruit.predict(Frame(columns)).predictions) == list(fruit.predict(columns).predictions)
    # A file, read as nnrun predict reads it: the same predictions.
    (tmp_path / "new.csv").write_text("color,weight_g,length_cm,sweetness\nred,160,7.2,6.5\n,115,19.0,7.5\n")
    assert list(fruit.predict(tmp_path / "new.csv").predictions) == list(fruit.predict(columns).predictions)
    assert list(fruit.predict(str(tmp_path / "new.csv")).predictions) == list(fruit.predict(columns).predictions)
    with pytest.raises(UserError, match="nope.csv: no such file"):
        fruit.predict(tmp_path / "nope.csv")
    # An extra column is left out (as predict does); a missing one is an error naming its look-alike.
    assert list(fruit.predict({**columns, "note": ["a", "b"]}).predictions) == list(fruit.predict(columns).predictions)
    misspelled = {**{k: v for k, v in columns.items() if k != "color"}, "colour": ["red", "red"]}
    with pytest.raises(UserError, match="x: 1 of the model's columns is missing\n  missing: 'color'; the input has 'colour'"):
        fruit.predict(misspelled)
    with pytest.raises(UserError, match=r"x: got an array of shape \(2, 4\), but this model was trained on the "
                                        r"columns of a table \(weight_g, "):
        fruit.predict(np.zeros((2, 4)))
    with pytest.raises(UserError, match=r"x: the columns have different lengths \(1, 2\)"):
        fruit.predict({**columns, "weight_g": [160]})
    # Cells and targets are numbered alike, from 0 as the table's rows are (not as a file's lines).
    bad = {**columns, "weight_g": [160, "heavy"], "color": ["red", "purple"]}
    with pytest.raises(UserError) as caught:
        fruit.predict(bad)
    assert "row 1, column 'weight_g': 'heavy'" in str(caught.value) and "row 1, column 'color'" in str(caught.value)
    with pytest.raises(UserError, match="y, row 1: unknown class 'kiwi'"):
        fruit.evaluate(columns, ["apple", "kiwi"])
    with pytest.raises(UserError, match="hint: 'APPLE' is the class 'apple' written another way"):
        fruit.evaluate(columns, ["apple", "APPLE"])
    iris = nnrun.load(nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "iris",
                                  overrides={"training.epochs": 2}).run_dir)
    # A bundled data set's features have names: columns by those names work, in any order.
    with pytest.raises(UserError, match="x: 4 of the model's 4 columns are missing: 'sepal_length', 'sepal_width'"):
        iris.predict(columns)
    samples = np.float32([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    named = {name: samples[:, i] for i, name in reversed(list(enumerate(
        ["sepal_length", "sepal_width", "petal_length", "petal_width"])))}
    np.testing.assert_array_equal(iris.predict(named).probabilities, iris.predict(samples).probabilities)
    # A column named otherwise is pointed at as the one to rename, each input column once.
    with pytest.raises(UserError) as caught:
        iris.predict({"sepal length (cm)": samples[:, 0]})
    assert caught.value.message.endswith("; the input's 'sepal length (cm)' may be 'sepal_length': rename it")
    with pytest.raises(UserError, match=r"x: samples of shape \(3,\), but the model takes \(4,\)"):
        iris.predict(np.zeros((2, 3)))


def test_unseen_categories_are_told_in_python_as_predict_tells_them(tmp_path, capsys):
    run = nnrun.train(ROOT / "configs" / "fruit.yaml", run_dir=tmp_path / "fruit",
                      overrides={"training.epochs": 2, "data.source.unknown": "ignore"}).run_dir
    fruit = nnrun.load(run)
    capsys.readouterr()
    columns = {"color": ["purple", "red", "purple"], "weight_g": [160, 115, 120], "length_cm": [7.2, 19.0, 8.0],
               "sweetness": [6.5, 7.5, 6.0]}
    note = "2 cells held categories training never saw, encoded as all zeros: 'color' 'purple' (2)"
    prediction = fruit.predict(columns)
    assert prediction.notes == (note,) and capsys.readouterr().err == f"note: {note}\n"
    assert fruit.evaluate(columns, ["apple", "banana", "apple"]).notes == (note,)
    assert capsys.readouterr().err == f"note: {note}\n"
    seen = {**columns, "color": ["red", "red", "yellow"]}
    assert fruit.predict(seen).notes == () and capsys.readouterr().err == ""


def test_a_text_model_trains_on_texts_alone_as_on_a_table_of_their_column(tmp_path):
    texts = ["great film", "awful film", "great plot", "awful plot", "", "fine film"] * 8
    labels = ["pos", "neg", "pos", "neg", "neg", "pos"] * 8
    config = {"data": {"source": {"text": {"column": "review", "max_tokens": 20, "length": 3}}},
              "model": {"layers": [{"type": "embedding", "input_dim": 20, "output_dim": 4},
                                   {"type": "global_average_pool1d"},
                                   {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 2}, "seed": 3}
    listed = nnrun.train(config, data=(texts, labels), validation=(np.array(texts[:6]), labels[:6]),
                         run_dir=tmp_path / "list")
    assert (tmp_path / "list" / "data.csv").read_text().startswith('"review","target"\n"great film","pos"\n')
    assert nnrun.load(listed.run_dir).predict(["great plot", "awful film"]).probabilities.shape == (2, 2)
    # A number among the texts is no text; without the text block, texts are told where to go.
    with pytest.raises(UserError, match=r"x: item 47 is 3, but this model reads texts \(its column 'review'\)"):
        nnrun.train(config, data=(texts[:-1] + [3], labels), run_dir=tmp_path / "number")
    with pytest.raises(UserError, match=r"texts train with a text block in the config, data: \{source: \{text: "):
        nnrun.train({**config, "data": {}}, data=(texts, labels), run_dir=tmp_path / "bare")
    assert not (tmp_path / "number").exists() and not (tmp_path / "bare").exists()


def test_training_from_arrays_refuses_bad_input_and_leaves_no_folder(tmp_path):
    x, y = np.zeros((20, 2)), np.array([0, 1] * 10)
    config = {**REGRESSION, "loss": "categorical_crossentropy", "metrics": []}
    with pytest.raises(UserError, match="data: x has 20 samples but y has 19"):
        nnrun.train(config, data=(x, y[:19]), run_dir=tmp_path / "a")
    with pytest.raises(UserError, match=r"data: x must be a real numeric array .* got <U1"):
        nnrun.train(config, data=(np.array([["a", "b"]] * 20), y), run_dir=tmp_path / "b")
    with pytest.raises(UserError, match=r"data: x must be .* of shape \(20,\)") as one_feature:
        nnrun.train(config, data=(x[:, 0], y), run_dir=tmp_path / "b")
    assert one_feature.value.hint == "for one feature per sample, x.reshape(-1, 1) (of a DataFrame: df[['column']])"
    with pytest.raises(UserError, match=r"validation: expected a pair \(x, y\) of samples and targets, got float") \
            as split:
        nnrun.train(config, data=(x, y), validation=0.3, run_dir=tmp_path / "b")
    assert split.value.hint == ("a share of data to hold out is overrides={'data.split.validation': 0.3}, as Keras's "
                                "validation_split")
    with pytest.raises(UserError, match="validation: given without data"):
        nnrun.train(config, validation=(x, y), run_dir=tmp_path / "c")
    with pytest.raises(UserError, match="the output has 1 unit but the data has 2 classes"):
        nnrun.train(config, data=(x, y), run_dir=tmp_path / "d")
    with pytest.raises(UserError, match="overrides: an array is data, not a setting"):
        nnrun.train(config, data=(x, y), overrides={"seed": np.arange(3)}, run_dir=tmp_path / "e")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_run_loads_its_newest_checkpoint_with_a_note(tmp_path, capsys):
    import os
    import signal

    from nnrun.engine.hooks import SilentHooks
    from nnrun.errors import Interrupted

    class StopAfterTwo(SilentHooks):
        def epoch_end(self, row):
            if row["epoch"] == 2:
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted) as stopped:
        nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "r", hooks=StopAfterTwo())
    # A KeyboardInterrupt, as Ctrl-C is in any Python code: a notebook's loop of runs
    # that goes on past a failing one (except Exception) stops here.
    assert isinstance(stopped.value, KeyboardInterrupt) and not isinstance(stopped.value, Exception)
    assert str(stopped.value).startswith("stopped by SIGINT after epoch 2; saved the state after epoch 2 to ")
    # Its hints name the Python call that goes on, not the command line.
    assert stopped.value.hint == f"resume with: nnrun.resume({str(tmp_path / 'r')!r})"
    assert stopped.value.run_dir == tmp_path / "r"  # for a script with runs_root=, where to resume
    capsys.readouterr()
    model = nnrun.load(tmp_path / "r")
    assert model.weights_note.startswith("the run is interrupted and has no final weights")
    assert capsys.readouterr().err == f"note: {model.weights_note}\n"  # said, as the README promises
    assert model.weights_epoch == 2  # the checkpoint's epoch: history could run past it after a kill
    assert len(model.history) == 2 and len(model.predict(np.zeros((1, 4))).predictions) == 1
    with pytest.raises(UserError, match="already holds a run that did not finish") as again:
        nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "r")  # a notebook's cell run again
    assert again.value.hint == f"resume it with: nnrun.resume({str(tmp_path / 'r')!r}), or choose another run " \
        "directory (run_dir=), or leave it out to get a new timestamped one"
    # Resumed from Python, it ends with the weights of a run that was never stopped.
    resumed = nnrun.resume(tmp_path / "r")
    whole = nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "whole")
    assert resumed.run_dir == tmp_path / "r" and len(resumed.history) == len(whole.history)
    assert (tmp_path / "r" / "model.safetensors").read_bytes() == (tmp_path / "whole" / "model.safetensors").read_bytes()
    capsys.readouterr()
    assert nnrun.resume(tmp_path / "r").final == resumed.final  # completed: as recorded, with a note
    note = capsys.readouterr().err
    assert "the run has completed" in note and "hint: evaluate it with: nnrun.evaluate(" in note
    assert f"nnrun.resume({str(tmp_path / 'r')!r}, overrides={{'training.epochs': N}})" in note
    with pytest.raises(UserError, match="overrides: differs from the config of the run") as changed:
        nnrun.resume(tmp_path / "r", overrides={"seed": 7})
    assert "--set" not in changed.value.render() and "nnrun.train(config)" in changed.value.hint


def test_a_keyboard_interrupt_raised_in_a_hook_is_one_interrupt_not_a_second_ctrl_c(tmp_path):
    from nnrun.engine.hooks import SilentHooks
    from nnrun.errors import Interrupted

    class Raises(SilentHooks):
        def epoch_end(self, row):
            if row["epoch"] == 2:
                raise KeyboardInterrupt  # as a notebook's own stop would

    with pytest.raises(Interrupted) as stopped:
        nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "r", hooks=Raises())
    # Raised as epoch 2 ends, once it is whole: kept, as a Ctrl-C there keeps it.
    assert str(stopped.value).startswith("stopped by KeyboardInterrupt after epoch 2; saved the state after epoch 2 to ")
    assert nnrun.load(tmp_path / "r").weights_epoch == 2 and len(nnrun.load(tmp_path / "r").history) == 2
    assert "second Ctrl-C" not in str(stopped.value)
    resumed = nnrun.resume(tmp_path / "r")
    whole = nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "whole")
    assert len(resumed.history) == len(whole.history)
    weights = [(tmp_path / name / "model.safetensors").read_bytes() for name in ("r", "whole")]
    assert weights[0] == weights[1]


def test_import_nnrun_stays_light():
    code = "import sys, nnrun; print(sorted(m for m in ('numpy', 'nnrun.api', 'rich') if m in sys.modules))"
    out = run_python(code, check=True).stdout
    assert out.strip() == "[]"


def test_an_override_given_in_python_is_named_as_one_not_as_a_set_option(tmp_path):
    with pytest.raises(UserError) as error:
        nnrun.train(ROOT / "configs" / "iris.yaml", overrides={"training.epoch": 5}, run_dir=tmp_path / "r")
    assert "training.epoch: unknown key 'epoch'; did you mean 'epochs'? (from overrides['training.epoch'])" \
        in error.value.render()
    assert "--set" not in error.value.render()
    with pytest.raises(UserError, match=r"^overrides 'training.epochs': expected KEY.PATH=VALUE"):
        nnrun.train(ROOT / "configs" / "iris.yaml", overrides=["training.epochs"], run_dir=tmp_path / "r")
    with pytest.raises(UserError, match=r"^overrides: \('training.epochs', 5\) is not a 'key.path=value' text"):
        nnrun.train(ROOT / "configs" / "iris.yaml", overrides=[("training.epochs", 5)], run_dir=tmp_path / "r")
    with pytest.raises(UserError, match=r"^overrides\['seed'\]: object is not a setting"):
        nnrun.train(ROOT / "configs" / "iris.yaml", overrides={"seed": object()}, run_dir=tmp_path / "r")


def test_overrides_as_nested_dicts_merge_into_the_config_and_none_is_no_overrides(tmp_path):
    result = nnrun.train(ROOT / "configs" / "iris.yaml", overrides={"training": {"epochs": np.int64(2)}},
                         run_dir=tmp_path / "nested")
    training = nnrun.load(result.run_dir).config.training
    assert (len(result.history), training.batch_size, training.shuffle) == (2, 32, True)  # the file's other keys
    assert nnrun.train(ROOT / "configs" / "iris.yaml", overrides=None, run_dir=tmp_path / "plain").history


IMAGES = {
    "name": "tiles",
    "data": {"split": {"validation": 0, "test": 0}},
    "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 2, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "optimizer": "sgd",
    "training": {"epochs": 1},
}


@pytest.mark.parametrize("shape", [(3, 2, 8, 1), (3, 16), (3, 4, 4)])
def test_samples_of_another_shape_are_refused_even_with_the_right_count_of_values(tmp_path, run_cli, shape):
    """A model of (4, 4, 1) images takes neither (2, 8, 1) nor 16 flat values from an
    array: reshaping them would predict on scrambled pixels. (A CSV file's flat columns
    do become images: test_predict.py::test_flat_rows_become_images_again.)"""
    x = np.random.default_rng(0).normal(size=(20, 4, 4, 1))
    run = nnrun.train(IMAGES, data=(x, np.array([0, 1] * 10)), run_dir=tmp_path / "tiles").run_dir
    model = nnrun.load(run)
    assert len(model.predict(np.zeros((3, 4, 4, 1))).predictions) == 3
    message = f"samples of shape {shape[1:]}, but the model takes (4, 4, 1)"
    with pytest.raises(UserError, match=re.escape(f"x: {message}")):
        model.predict(np.zeros(shape))
    np.savez(tmp_path / "new.npz", x=np.zeros(shape, np.float32))
    result = run_cli("predict", str(run), "new.npz")
    assert result.exit_code == 2 and f"new.npz: {message}" in result.output


def test_hooks_may_define_only_the_hooks_they_use(tmp_path, capsys):
    class StopAfterTwo:  # the README's two hooks, nothing else
        def __init__(self):
            self.epochs = []

        def epoch_end(self, row):
            self.epochs.append(row["epoch"])

        def should_stop(self):
            return len(self.epochs) == 2

    hooks = StopAfterTwo()
    config = ROOT / "configs" / "iris.yaml"
    result = nnrun.train(config, run_dir=tmp_path / "r", hooks=hooks, overrides={"training.epochs": 5})
    assert hooks.epochs == [1, 2] and len(result.history) == 2
    # A hook's stop is a pause, not early stopping's end: a resume trains on to the run's
    # epochs, to the weights of a run never stopped.
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["stopped_early"] and meta["stopped_by"] == "hook"
    resumed = nnrun.resume(tmp_path / "r")
    nnrun.train(config, run_dir=tmp_path / "whole", overrides={"training.epochs": 5})
    assert len(resumed.history) == 5 and not resumed.stopped_early
    assert (tmp_path / "r" / "model.safetensors").read_bytes() == (tmp_path / "whole" / "model.safetensors").read_bytes()
    assert "stopped_by" not in json.loads((tmp_path / "r" / "meta.json").read_text())
    # A completed run resumed again (a notebook's cell run twice): its result as recorded, and a note.
    capsys.readouterr()
    again = nnrun.resume(tmp_path / "r")
    assert again.epochs == 5 and again.final == json.loads((tmp_path / "r" / "meta.json").read_text())["final"]
    assert "note: " in capsys.readouterr().err
    # Without checkpoints there is nothing to go on from: the pause is an end, as it says.
    hooks = StopAfterTwo()
    nnrun.train(config, run_dir=tmp_path / "off", hooks=hooks,
                overrides={"training.epochs": 5, "training.checkpoint": None})
    assert nnrun.resume(tmp_path / "off").epochs == 2
    assert "the run has completed; there is nothing to resume" in capsys.readouterr().err


def test_hooks_and_quiet_false_show_the_progress_beside_the_callers_stopping_rule(tmp_path, capsys):
    class StopAfterThree:
        def __init__(self):
            self.rows, self.warned = [], []

        def epoch_end(self, row):
            self.rows.append(row)

        def should_stop(self):
            return len(self.rows) == 3

        def warn(self, message):
            self.warned.append(message)

    hooks = StopAfterThree()
    result = nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "r", hooks=hooks, quiet=False,
                         overrides={"training.batch_size": 500})
    shown = capsys.readouterr().out
    assert len(result.history) == len(hooks.rows) == 3 and "epoch 3/100" in " ".join(shown.split())
    assert "Results (final weights)" in shown and f"nnrun.evaluate({str(tmp_path / 'r')!r})" in shown
    assert [w for w in hooks.warned if w.startswith("training.batch_size: 500")]  # the caller's warn hears it too


def test_a_callers_hooks_are_closed_see_the_warnings_and_a_ctrl_c_in_start_is_an_interrupt(tmp_path, capsys):
    # close was never called; a start hook swallowed every warning; a KeyboardInterrupt in
    # start came out bare, not as nnrun's Interrupted with how to resume.
    calls = []

    class Watch:
        def start(self, experiment, run_dir):
            calls.append("start")

        def close(self):
            calls.append("close")

    overrides = {"training.epochs": 2, "metrics": ["accuracy", "top_k_accuracy"]}
    nnrun.train(ROOT / "configs" / "iris.yaml", overrides=overrides, run_dir=tmp_path / "r", hooks=Watch())
    assert calls == ["start", "close"]
    assert "warning: metrics: top_k_accuracy counts a sample as right" in capsys.readouterr().err

    class CtrlC:
        def start(self, experiment, run_dir):
            raise KeyboardInterrupt

    with pytest.raises(nnrun.errors.Interrupted, match="stopped by KeyboardInterrupt before epoch 1 began") as stopped:
        nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "stopped", hooks=CtrlC())
    assert "resume with" in stopped.value.hint
    assert len(nnrun.resume(tmp_path / "stopped").history) == 100


def test_hooks_made_from_quiet_hooks_warn_once(tmp_path, capsys):
    from nnrun.engine.hooks import QuietHooks

    class Epochs(QuietHooks):
        def epoch_end(self, row):
            pass

    overrides = {"training.epochs": 1, "metrics": ["accuracy", "top_k_accuracy"]}
    nnrun.train(ROOT / "configs" / "iris.yaml", overrides=overrides, run_dir=tmp_path / "r", hooks=Epochs())
    assert capsys.readouterr().err.count("warning: metrics: top_k_accuracy") == 1


def test_pandas_x_and_y_whose_indexes_differ_are_refused(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    y = pd.Series(np.where(x["a"] > 0, "pos", "neg"), name="t")
    config = {"model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    with pytest.raises(UserError, match=r"data: x and y have different indexes \(the same labels in another order\)"):
        nnrun.train(config, data=(x, y.sample(frac=1, random_state=0)), runs_root=tmp_path)
    with pytest.raises(UserError, match="validation: x and y have different indexes"):
        nnrun.train(config, data=(x, y), validation=(x[:10], y[5:15]), runs_root=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert nnrun.train(config, data=(x[x["b"] > 0], y[x["b"] > 0]), runs_root=tmp_path).run_dir.exists()


def test_reading_config_after_config_keeps_no_yaml_nodes(tmp_path):
    # One shared constructor kept every node it built, and each node the text read.
    import gc

    import yaml

    for _ in range(3):
        nnrun.train(ROOT / "configs" / "iris.yaml", overrides={"training.epochs": 1}, runs_root=tmp_path)
    gc.collect()
    assert not [o for o in gc.get_objects() if issubclass(type(o), yaml.constructor.BaseConstructor)]  # type(): no proxy asked


def test_a_config_object_without_a_name_trains_as_a_dict_without_one_does(tmp_path):
    config = nnrun.Config(data={"source": {"type": "builtin", "name": "iris"}}, loss="categorical_crossentropy",
                          model={"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]})
    assert config.name is None
    result = nnrun.train(config, overrides={"training.epochs": 1}, runs_root=tmp_path)
    assert result.run_dir.parent == tmp_path and result.run_dir.name.startswith("run-")


def test_a_config_object_keeps_what_its_caller_left_to_the_defaults(tmp_path, capsys):
    """A Config's every field once read as set: the default batch size was warned about as if chosen."""
    config = nnrun.Config.model_validate({"data": {"source": {"type": "synthetic", "samples": 40}},
                                          "model": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
                                          "loss": "categorical_crossentropy", "training": {"epochs": 1}})
    nnrun.train(config, runs_root=tmp_path)
    assert "batch_size" not in capsys.readouterr().err


def test_hooks_without_any_hook_are_refused_before_a_run_directory_is_made(tmp_path):
    from nnrun.engine.hooks import SilentHooks

    class Stopping:
        should_stop = True

    hooks_named = "start(experiment, run_dir), resumed(epoch, checkpoint, history), warn(message), "
    with pytest.raises(UserError, match=re.escape(f"hooks: int 42 has none of the training hooks; give an object "
                                                  f"with one or more of these methods: {hooks_named}")):
        nnrun.train(ROOT / "configs" / "iris.yaml", runs_root=tmp_path, hooks=42)
    with pytest.raises(UserError, match=re.escape("hooks: Stopping's should_stop is not a method")):
        nnrun.train(ROOT / "configs" / "iris.yaml", runs_root=tmp_path, hooks=Stopping())
    with pytest.raises(UserError, match="hooks: object has none of the training hooks"):
        nnrun.train(IMAGES, data=(np.zeros((4, 2, 2, 1)), [0, 1, 0, 1]), runs_root=tmp_path, hooks=object())
    with pytest.raises(UserError, match=re.escape("hooks[1]: Stopping's should_stop is not a method")):
        nnrun.train(ROOT / "configs" / "iris.yaml", runs_root=tmp_path, hooks=[SilentHooks(), Stopping()])

    class KerasCallback:  # written for Keras: never called here, so said
        def on_epoch_end(self, epoch, logs=None): ...

        def should_stop(self):
            return False

    with pytest.raises(UserError, match=re.escape("hooks: KerasCallback has Keras's callback methods (on_epoch_end), "
                                                  "which nnrun does not call; its hooks are epoch_end(row)")):
        nnrun.train(ROOT / "configs" / "iris.yaml", runs_root=tmp_path, hooks=KerasCallback())
    # keras.callbacks.Callback's own do-nothing methods are none of the user's work: a subclass with nnrun's hooks runs.
    KerasBase = type("Callback", (), {name: lambda self, *args, **kwargs: None for name in
                                      ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")})
    KerasBase.__module__ = "keras.src.callbacks.callback"
    Both = type("Both", (KerasBase,), {"epoch_end": lambda self, row: None})
    from nnrun.engine.hooks import as_hooks

    assert as_hooks(Both()) is not None
    assert list(tmp_path.iterdir()) == []


def test_a_list_of_hooks_calls_each_in_turn_and_stops_when_any_says_so(tmp_path, capsys):
    """As Keras takes a list of callbacks: every object sees every epoch, in the list's
    order, and one's should_stop ends training (each is still asked)."""
    seen = []

    class Log:
        def __init__(self, name):
            self.name, self.asked = name, 0

        def epoch_end(self, row):
            seen.append((self.name, row["epoch"]))

        def should_stop(self):
            self.asked += 1
            return self.name == "stopper" and self.asked == 3

    first, stopper = Log("first"), Log("stopper")
    result = nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "r", hooks=[first, stopper],
                         overrides={"training.epochs": 10})
    assert len(result.history) == 3 and first.asked == stopper.asked == 3
    assert len(nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "none", hooks=[],
                           overrides={"training.epochs": 2}).history) == 2  # an empty list: no hooks
    assert seen == [(name, epoch) for epoch in (1, 2, 3) for name in ("first", "stopper")]


CLASSIFIER = {**REGRESSION, "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "metrics": []}


@pytest.mark.parametrize("arrays, message", [
    ({"validation": "narrow"}, "validation: samples of shape (1,), but the training samples are (2,)"),
    ({"validation": "one-hot"}, "validation: targets of shape (2,), but the training targets are ()"),
    ({"validation": "short"}, "validation: x has 20 samples but y has 3; give one target per sample"),
    ({"validation": "new class"}, "validation: class 'c' is not in the training targets (a, b); the model learns "
                                  "only the classes it trains on\n  hint: fix those labels, or add samples of them "
                                  "to data=(x, y)"),
    ({"data": "fractions"}, "data: the targets are numbers with fractions (20 distinct values"),
    ({"data": "nan"}, "data: x holds NaN, infinity or a number beyond float32's range, 3.4e38"),
    ({"data": "huge"}, "data: x holds NaN, infinity or a number beyond float32's range, 3.4e38, in 20 samples "
                       "(samples 0, 1, 2, 3, 4 and 15 more, counted from 0)"),
    ({"data": "no targets"}, "data: y is None; give one target per sample"),
    ({"data": "multi-label"}, "data: targets of shape (20, 2) have several 1s in 10 rows (samples 0, 2, 4, 6, 8 "
                              "and 5 more, counted from 0): several labels per sample (multi-label) is not supported; "
                              "a classifier learns one class per sample\n  hint: train one model per label column"),
    ({"data": "empty"}, "data: x holds no samples (shape (0, 2))"),
    ({"validation": "empty"}, "validation: x holds no samples (shape (0, 2))"),
    ({"data": "soft"}, "data: targets of shape (20, 2) are not one-hot rows (one 1 per row, the rest 0); 20 rows are "
                       "probabilities over the classes (soft or smoothed labels)\n  hint: give each sample its class "
                       "(y.argmax(axis=1) of such rows), and loss.label_smoothing (0.1, say) to smooth them"),
    ({"data": "binary soft"}, "data: the targets are fractions between 0 and 1 (20 distinct, e.g. "),
    ({"data": "ragged"}, "data: the samples of x have different lengths (2, 3 values); an array needs one shape for "
                         "all\n  hint: pad them to one length"),  # not NumPy's 'inhomogeneous shape' traceback
])
def test_arrays_are_checked_as_given_and_named_as_the_argument_they_came_in(tmp_path, arrays, message):
    """Not as the run's internal data.npz (deleted by then) nor as a data.source setting."""
    x, y = np.random.default_rng(0).normal(size=(20, 2)), np.array(["a", "b"] * 10)
    given = {"narrow": (x[:, :1], y), "one-hot": (x, np.eye(2)[[0, 1] * 10]), "short": (x, y[:3]),
             "new class": (x, np.array(["a", "c"] * 10)), "fractions": (x, x[:, 0]),
             "nan": (np.where(x > 1, np.nan, x), y), "huge": (x * 1e300, y), "no targets": (x, None),
             "empty": (x[:0], y[:0]), "multi-label": (x, np.array([[1, 1], [0, 1]] * 10)),
             "ragged": ([[0.1, 0.2], [0.3, 0.4, 0.5]] * 10, y), "soft": (x, np.eye(2)[[0, 1] * 10] * 0.9 + 0.05),
             "binary soft": (x, np.linspace(0.01, 0.99, 20))}
    data = given[arrays["data"]] if "data" in arrays else (x, y)
    validation = given[arrays["validation"]] if "validation" in arrays else None
    with pytest.raises(UserError) as error:
        nnrun.train(CLASSIFIER, data=data, validation=validation, runs_root=tmp_path)
    assert error.value.render().startswith(message)
    assert "data.npz" not in error.value.render() and "data.source" not in error.value.render()
    assert list(tmp_path.iterdir()) == []


def test_arrays_beside_a_configured_source_are_refused(tmp_path):
    x, y = np.zeros((20, 4)), np.array([0, 1] * 10)
    iris = {**CLASSIFIER, "data": {"source": {"type": "builtin", "name": "iris"}}}
    message = "data: given beside the config's own data.source; give either data=(x, y) or data.source, not both"
    for config, overrides in [(iris, {}), (ROOT / "configs" / "iris.yaml", {}),
                              (CLASSIFIER, {"data.source": {"type": "builtin", "name": "iris"}})]:
        with pytest.raises(UserError, match=re.escape(message)):
            nnrun.train(config, data=(x, y), overrides=overrides, runs_root=tmp_path)
    assert list(tmp_path.iterdir()) == []
    # A Config object always holds a source (the field is required): the arrays replace it.
    from nnrun.config import load_config

    config = load_config(ROOT / "configs" / "iris.yaml").config
    three = (np.random.default_rng(0).standard_normal((30, 4)).astype(np.float32), np.array([0, 1, 2] * 10))
    result = nnrun.train(config, data=three, overrides={"training.epochs": 1}, runs_root=tmp_path)
    assert result.final["train"] and (result.run_dir / "data.npz").is_file()


def test_evaluate_takes_a_file_and_says_where_arrays_are_scored(tmp_path):
    run = nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "iris", overrides={"training.epochs": 1})
    with pytest.raises(UserError) as error:
        nnrun.evaluate(run.run_dir, data=(np.zeros((2, 4)), [0, 1]))
    assert error.value.render() == ("data: expected the path of a labelled CSV or NPZ file, got tuple\n"
                                    "  hint: score arrays in memory with nnrun.load(run_dir).evaluate(x, y)")
    with pytest.raises(UserError) as caught:  # Keras's evaluate(x, y): arrays are a loaded model's to score
        nnrun.evaluate(run.run_dir, x=np.zeros((2, 2)), y=[0, 1])
    assert caught.value.hint == "give nnrun.load(run_dir).evaluate(x, y) for arrays (data= takes a labelled file)"
    with pytest.raises(UserError, match="split: 'train' and data were both given; a file given as data is scored "
                                        "on its own rows: give one of the two"):
        nnrun.evaluate(run.run_dir, split="train", data=tmp_path / "any.csv")
    assert "epochs=1, best_epoch=" in repr(run) and "history" not in repr(run)  # a count, not every row


@pytest.mark.parametrize("call, message", [
    (lambda: nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=5), "run_dir: expected the path of a folder, got int"),
    (lambda: nnrun.train(ROOT / "configs" / "iris.yaml", quiet="no"), "quiet: expected True or False, got 'no'"),
    (lambda: nnrun.resume("runs/x", quiet=2), "quiet: expected True or False, got 2"),
    (lambda: nnrun.train(ROOT / "configs" / "iris.yaml", runs_root=None),
     "runs_root: expected the path of a folder, got NoneType"),
    (lambda: nnrun.train("name: x\n" + "# a comment\n" * 40), "the config looks like YAML text"),  # 450 bytes
    (lambda: nnrun.train("name: x\nseed: 1\n"), "the config looks like YAML text, but a string is taken as the path "
                                                 "of a config file\n  hint: pass the text parsed: "
                                                 "nnrun.train(yaml.safe_load(text)), or save it to a file"),
])
def test_options_of_the_wrong_kind_are_clear_errors(tmp_path, monkeypatch, call, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        call()
    assert message in error.value.render()
    assert not (tmp_path / "runs").exists()


def test_pandas_missing_values_of_any_dtype_are_missing_cells(tmp_path):
    """pd.NA (nullable numbers, string columns) and None read as an empty CSV cell does,
    which the run's ``missing: mean`` fills; not as the text "<NA>"."""
    pd = pytest.importorskip("pandas")
    fruit = nnrun.load(nnrun.train(ROOT / "configs" / "fruit.yaml", run_dir=tmp_path / "fruit",
                                   overrides={"training.epochs": 2}).run_dir)
    columns = {"weight_g": [160, None, 120], "length_cm": [7.2, 19.0, None], "sweetness": [6.5, 7.5, 5.0],
               "color": ["red", None, "green"]}
    expected = fruit.predict(columns).probabilities
    frame = pd.DataFrame(columns).convert_dtypes()  # Int64, Float64 and string columns, missing as pd.NA
    assert str(frame["weight_g"].dtype) == "Int64" and frame["color"].dtype == "string"
    np.testing.assert_array_equal(fruit.predict(frame).probabilities, expected)
    floats = frame.astype({"weight_g": "Float64"})
    np.testing.assert_array_equal(fruit.predict(floats).probabilities, expected)
    from nnrun.commands.in_memory import table_cells

    assert table_cells({"note": [pd.NA, pd.NaT, "a"]}, ["note"])[1] == [[""], [""], ["a"]]


def test_an_error_printed_in_python_shows_its_hint_as_the_cli_does(tmp_path, run_cli):
    with pytest.raises(UserError) as error:
        nnrun.train(CLASSIFIER, data=(np.zeros((2, 1)), np.array([0.5, 1.5])), runs_root=tmp_path)
    assert str(error.value) == error.value.render() == f"{error.value.message}\n  hint: {error.value.hint}"
    result = run_cli("predict", "nowhere", "new.csv")  # the CLI prints the message and the hint once each
    assert result.exit_code == 2 and result.output.count("nowhere: no such run directory") == 1
    assert result.output.count("hint:") == 1


def test_a_dataframe_trained_on_is_taken_back_by_its_column_names(tmp_path):
    """``data=(df, y)`` keeps the DataFrame's column names; the model then predicts from
    a DataFrame (or dict) by those names, in any order, and from a bare array as before."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    names = ["age", "bmi", "bp"]
    x = rng.normal(size=(120, 3)).astype(np.float32)
    y = (x[:, 0] + x[:, 2] > 0).astype(int)
    frame = pd.DataFrame(x, columns=names)
    run = nnrun.train(CLASSIFIER, data=(frame, y), run_dir=tmp_path / "df").run_dir
    model = nnrun.load(run)
    assert model.trained.preprocessing.feature_names == names
    reordered = {name: frame[name] for name in ["bp", "age", "bmi"]}
    np.testing.assert_array_equal(model.predict(reordered).probabilities, model.predict(x).probabilities)
    with pytest.raises(UserError, match="x: 1 of the model's 3 columns is missing: 'bmi'; the input's 'BMI' may be "
                                        "'bmi': rename it"):
        model.predict({"age": x[:, 0], "BMI": x[:, 1], "bp": x[:, 2]})
    with pytest.raises(UserError, match="x: 1 of the model's 3 columns is missing: 'bmi'; the input has: "):
        model.predict({"age": x[:, 0], "weight": x[:, 1], "bp": x[:, 2]})
    with pytest.raises(UserError, match=r"validation: its columns \(bmi, age, bp\) are not data's \(age, bmi, bp\)"):
        nnrun.train(CLASSIFIER, data=(frame, y), validation=(frame[["bmi", "age", "bp"]], y), run_dir=tmp_path / "v")
    # Booleans are 0 and 1; a column with gaps is named.
    flags = frame.assign(flag=x[:, 0] > 0)
    assert nnrun.train(CLASSIFIER, data=(flags, y), run_dir=tmp_path / "flags").parameters == 10
    texts = nnrun.train(CLASSIFIER, data=(frame.assign(bmi="high"), y), run_dir=tmp_path / "text").run_dir
    assert nnrun.load(texts).config.data.source.categorical == ["bmi"]  # a table of text trains as a CSV file
    with pytest.raises(UserError, match=r"data: x holds NaN, infinity or a number beyond float32's range, 3.4e38, in "
                                        r"2 samples \(samples 0, 1, counted from 0\) in column 'bp' \(2 rows\)"):
        nnrun.train(CLASSIFIER, data=(frame.assign(bp=[np.nan, np.inf] + [0.0] * 118), y), run_dir=tmp_path / "nan")
    plain = nnrun.load(nnrun.train(CLASSIFIER, data=(x, y), run_dir=tmp_path / "plain").run_dir)
    with pytest.raises(UserError, match="x: this model was trained on an array without column names"):
        plain.predict(reordered)


def test_a_sample_without_its_batch_axis_and_sequences_of_another_length_get_a_fix(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8, 3)).astype(np.float32)
    config = {"name": "seq", "data": {"split": {"test": 0, "validation": 0}},
              "model": {"layers": [{"type": "gru", "units": 4}, {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    model = nnrun.load(nnrun.train(config, data=(x, np.arange(40) % 2), run_dir=tmp_path / "seq").run_dir)
    with pytest.raises(UserError) as caught:
        model.predict(x[0])
    assert str(caught.value) == ("x: samples of shape (3,), but the model takes (8, 3)\n  hint: that is one sample: "
                                 "give it with a batch axis, shape (1, 8, 3) (x[None] in NumPy)")
    with pytest.raises(UserError, match="cut or pad each one to 8 steps"):
        model.predict(np.zeros((2, 10, 3)))
    with pytest.raises(UserError, match=re.escape("these are (features, steps); the model reads 8 steps of 3 "
                                                  "features: x.transpose(0, 2, 1)")):
        model.predict(np.zeros((2, 3, 8)))
    with pytest.raises(UserError, match="the model trained on 3 features a step, and these have 4: give the same "
                                        "features a step, in the order training had them"):
        model.predict(np.zeros((2, 8, 4)))
    with pytest.raises(UserError, match=re.escape("if each row is a sample's values flat, in row-major order: "
                                                  "x.reshape(len(x), 8, 3)")):
        model.predict(np.zeros((2, 24)))
    assert len(model.predict(x[0][None]).predictions) == 1


def test_train_under_an_mpi_launcher_is_refused_with_the_command_that_does_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")  # as mpiexec -n 2 python script.py starts each process
    with pytest.raises(UserError, match="nnrun.train: started by an MPI launcher with 2 processes") as caught:
        nnrun.train(ROOT / "configs" / "iris.yaml", run_dir=tmp_path / "run")
    assert caught.value.hint == "for one run over several processes: mpiexec -n N nnrun train CONFIG"
    assert not (tmp_path / "run").exists()


def test_a_run_directory_that_cannot_be_made_is_a_clear_error(tmp_path, run_cli):
    (tmp_path / "file").write_text("")
    result = run_cli("train", ROOT / "configs" / "iris.yaml", "--run-dir", tmp_path / "file" / "run")
    assert result.exit_code == 2
    assert f"{tmp_path / 'file' / 'run'}: cannot create the run directory (" in " ".join(result.output.split())


def test_an_empty_folder_that_cannot_be_written_is_told_so(tmp_path, run_cli, monkeypatch):
    """Made beforehand (a CI step's volume) but read-only: it exists, so it was not to be made."""
    import errno
    import os

    (tmp_path / "given").mkdir()
    opened = os.open

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path / "given")):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    result = run_cli("train", ROOT / "configs" / "iris.yaml", "--run-dir", tmp_path / "given")
    assert result.exit_code == 2
    assert f"{tmp_path / 'given'}: cannot write into this folder (read-only file system)" in result.output


def test_a_folder_of_runs_that_cannot_be_made_says_how_to_go_on(tmp_path, run_cli):
    (tmp_path / "runs").write_text("")  # as a read-only working folder would refuse it
    result = run_cli("train", ROOT / "configs" / "iris.yaml")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "error: runs: cannot create the folder of runs (a file stands in its path)" in said
    assert "hint: run from a folder you can write to, or give the run's folder with --run-dir" in said


def test_the_api_is_listed_for_tab_completion_before_it_loads():
    import subprocess
    import sys

    code = "import nnrun, sys; names = dir(nnrun); print('nnrun.api' in sys.modules, all(n in names for n in " \
           "('train', 'load', 'evaluate', 'resume', 'TrainResult')), 'os' in names)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "False"]  # listed, and still not imported; the package's own imports are not


def test_samples_with_a_channel_axis_the_models_data_had_not_are_told_to_drop_it(tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 3, 2)).astype(np.float32)
    config = {"name": "arrays", "data": {"split": {"test": 0, "validation": 0}},
              "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    model = nnrun.load(nnrun.train(config, data=(x, np.arange(40) % 2), run_dir=tmp_path / "r").run_dir)
    with pytest.raises(UserError) as refused:
        model.predict(x[:4, ..., None])
    assert refused.value.hint == "drop the channel axis: shape (4, 3, 2) (x[..., 0] in NumPy)"


def test_an_image_model_takes_named_pixel_columns_flat_and_says_a_missing_channel_axis(tmp_path):
    # A DataFrame of the bundled digits' pixel_0 ... pixel_63 is flat, as a CSV file's
    # columns are; an (n, 8, 8) array lacks the channel axis the model was trained with.
    pd = pytest.importorskip("pandas")
    run = nnrun.train(ROOT / "configs" / "digits_cnn.yaml", overrides={"training.epochs": 1},
                      run_dir=tmp_path / "cnn").run_dir
    model, images = nnrun.load(run), np.random.default_rng(0).uniform(0, 16, (3, 8, 8, 1))
    frame = pd.DataFrame(images.reshape(3, 64), columns=[f"pixel_{i}" for i in range(64)])
    np.testing.assert_array_equal(model.predict(frame).probabilities, model.predict(images).probabilities)
    with pytest.raises(UserError) as refused:
        model.predict(images[..., 0])
    assert refused.value.hint == "add the channel axis: shape (3, 8, 8, 1) (x[..., None] in NumPy)"
    with pytest.raises(UserError) as refused:  # PyTorch's layout
        model.predict(images.transpose(0, 3, 1, 2))
    assert refused.value.hint == "these are channels first, (channels, height, width); the model takes channels " \
        "last: x.transpose(0, 2, 3, 1)"
    # Pixels of 0-255 for a model trained on 0-16: noted for a few pixels, the rest in one line.
    notes = model.predict(np.full((2, 8, 8, 1), 255.0)).notes
    assert len(notes) == 4 and notes[0].startswith("2 of 2 values in 'pixel_0' lie far outside what training saw")
    assert re.fullmatch(r"\d+ more columns lie far outside what training saw as well: 'pixel_\d+', .*", notes[3])
    # A pixel training never lit (the digits' corner) lit within the images' range is no other unit.
    lit = np.zeros((1, 8, 8, 1))
    lit[0, 0, 0, 0] = 12.0
    assert model.predict(lit).notes == () and model.predict(pd.DataFrame(lit.reshape(1, 64),
                                                                         columns=frame.columns)).notes == ()


def test_a_bundled_data_sets_features_keep_their_training_range(run_cli, tmp_path):
    # Millimetres for centimetres: a number in every cell, so no bad cell, but noted.
    run = nnrun.train(ROOT / "configs" / "iris.yaml", overrides={"training.epochs": 1}, run_dir=tmp_path / "r").run_dir
    (tmp_path / "mm.csv").write_text("sepal_length,sepal_width,petal_length,petal_width\n51,35,14,2\n49,30,14,2\n")
    result = run_cli("predict", run, tmp_path / "mm.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert "note: 2 of 2 values in 'sepal_length' lie far outside what training saw (" in result.output
    (note, *_) = nnrun.load(run).predict(np.array([[51.0, 35, 14, 2], [49, 30, 14, 2]])).notes
    assert note.startswith("2 of 2 values in 'sepal_length' lie far outside") and "at row 0" in note


@pytest.mark.parametrize("arguments, message, hint", [
    ({"epochs": 5, "batch_size": 16}, "takes no argument 'epochs', 'batch_size'",
     "give overrides={'training.epochs': 5, 'training.batch_size': 16}"),
    ({"validation_data": ([0], [0]), "verbose": 1}, "takes no argument 'validation_data', 'verbose'",
     "give validation=(x_val, y_val); quiet=False, to see progress (quiet=True, the default, prints nothing)"),
    ({"rundir": "x"}, "takes no argument 'rundir'", "give run_dir= for rundir="),
])
def test_keras_fit_arguments_say_where_they_go_in_nnrun(tmp_path, arguments, message, hint):
    with pytest.raises(UserError) as caught:
        nnrun.train(str(ROOT / "configs" / "iris.yaml"), runs_root=tmp_path, **arguments)
    assert caught.value.message == f"nnrun.train(): {message}; it takes config, data, validation, overrides, " \
        "run_dir, runs_root, quiet, hooks"
    assert caught.value.hint == hint
    assert not any(tmp_path.iterdir())


def test_arrays_given_as_keras_fit_gives_them_are_pointed_at_data():
    with pytest.raises(UserError) as caught:
        nnrun.train({}, np.zeros((3, 4)), np.zeros(3))
    assert str(caught.value).startswith("nnrun.train(): too many positional arguments;")
    assert caught.value.hint == "give data=(x, y)"


def test_a_loaded_model_prints_its_summary_as_keras_does(tmp_path):
    run = nnrun.train(str(ROOT / "configs" / "iris.yaml"), overrides={"training.epochs": 1}, run_dir=tmp_path / "r")
    lines: list[str] = []
    nnrun.load(run.run_dir).summary(print_fn=lines.append)
    assert lines == ["Model 'iris'",
                     "Layer    Type             Output shape  Params",
                     "dense_0  dense (relu)     (None, 64)       320",
                     "dense_1  dense (softmax)  (None, 3)        195",
                     "Total params: 515 (2.0 KB, float32)"]


def test_the_history_is_indexed_by_a_column_name_as_keras_history_is(tmp_path):
    result = nnrun.train(str(ROOT / "configs" / "iris.yaml"), overrides={"training.epochs": 3}, run_dir=tmp_path / "r")
    assert result.history["val_loss"] == [row["val_loss"] for row in result.history] and len(result.history) == 3
    assert result.history[-1]["epoch"] == 3  # the rows, as before
    loaded = nnrun.load(result.run_dir).history
    assert loaded["loss"] == result.history["loss"] and loaded.columns[:2] == ["epoch", "loss"]
    assert "val_loss" in loaded and "val_auc" not in loaded and loaded.keys() == loaded.columns
    assert loaded[0] in loaded  # a row is still one of its items
    with pytest.raises(KeyError, match="'accuracy_val': the history has no such column; it has epoch, loss"):
        loaded["accuracy_val"]


def test_a_folder_made_beforehand_stays_when_the_run_fails_before_it_begins(tmp_path):
    """An empty --run-dir / run_dir= folder (a CI step's, a mounted volume's) is emptied,
    not removed, by a run that stops before it starts: the next try can use it."""
    (tmp_path / "premade").mkdir()
    config = {"data": {"split": {"validation": 0.01, "test": 0.0}},
              "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    with pytest.raises(UserError, match="the validation split would be empty"):
        nnrun.train(config, data=(np.zeros((10, 3)), np.array([0, 1] * 5)), run_dir=tmp_path / "premade")
    assert (tmp_path / "premade").is_dir() and not any((tmp_path / "premade").iterdir())
    config["data"]["split"]["validation"] = 0.2
    assert nnrun.train(config, data=(np.zeros((10, 3)), np.array([0, 1] * 5)), run_dir=tmp_path / "premade").epochs == 1


def test_one_hot_targets_as_booleans_train_and_score_as_their_numbers(tmp_path):
    """pd.get_dummies(labels).to_numpy() is an array of True and False: 1 and 0."""
    x, labels = np.random.default_rng(0).normal(size=(60, 4)), np.array(["a", "b", "c"] * 20)
    one_hot = labels[:, None] == np.array(["a", "b", "c"])
    config = {"model": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    run = nnrun.train(config, data=(x, one_hot), run_dir=tmp_path / "r").run_dir
    model = nnrun.load(run)
    assert model.evaluate(x, one_hot).metrics == model.evaluate(x, one_hot.astype(float)).metrics


def test_a_prediction_and_an_evaluation_read_as_keras_returns_them(tmp_path):
    run = nnrun.train(str(ROOT / "configs" / "iris.yaml"), overrides={"training.epochs": 2}, run_dir=tmp_path / "r")
    model, x = nnrun.load(run.run_dir), np.random.default_rng(0).normal(size=(5, 4)) + 5
    prediction = model.predict(x)
    assert np.array_equal(np.asarray(prediction), prediction.probabilities)  # Keras's predict: the probabilities
    assert np.array_equal(np.argmax(prediction, axis=1), np.argmax(prediction.probabilities, axis=1))
    # Indexed as Keras's array: p[0][1] is the first sample's probability of the second class, never the pair's items.
    assert prediction[0][1] == prediction.probabilities[0, 1] and prediction[2].shape == (3,)
    assert np.array_equal(prediction[:, 1], prediction.probabilities[:, 1])
    assert len(prediction) == 5 and prediction.shape == (5, 3)
    with pytest.raises(AttributeError, match=r"no attribute 'max'; it is the array's: np.asarray\(prediction\).max"):
        prediction.max(axis=1)
    predictions, probabilities = prediction  # and it still unpacks as the pair
    assert probabilities is prediction.probabilities and predictions is prediction.predictions
    evaluation = model.evaluate(x, np.array([0, 1, 2, 0, 1]))
    loss, accuracy = evaluation  # Keras's evaluate: the loss, then each metric
    assert (loss, accuracy) == (evaluation.metrics["loss"], evaluation.metrics["accuracy"])
    with pytest.raises(AttributeError, match=r"a loaded nnrun model has no fit\(\); nnrun.train\(config, data="):
        model.fit(x, None)
    # Keras's arguments of predict and evaluate, and its get_weights: what nnrun does instead.
    with pytest.raises(UserError) as error:
        model.predict(x, batch_size=32)
    assert error.value.render() == ("model.predict(): takes no argument 'batch_size'; it takes x, unknown, threshold\n"
                                    "  hint: batch_size=: the samples go through in batches of nnrun's own (of 1,024): "
                                    "leave batch_size out")
    with pytest.raises(UserError, match=r"model.evaluate\(\): takes no argument 'verbose', 'return_dict'") as error:
        model.evaluate(x, np.array([0, 1, 2, 0, 1]), verbose=0, return_dict=True)
    assert "return_dict=: an Evaluation's .metrics is the dict of the loss and the metrics" in error.value.render()
    with pytest.raises(UserError, match=r"y: missing; model.evaluate takes samples and their targets") as error:
        model.evaluate(tmp_path / "test.csv")
    assert "hint: score a labelled file with nnrun.evaluate(" in error.value.render()
    with pytest.raises(AttributeError, match=r"no get_weights\(\); model.weights is a dict of the weights by name"):
        model.get_weights()
    weights = model.weights
    assert set(weights) == set(load_weights(run.run_dir / "model.safetensors", require_checksum=False))
    weights["dense_0.kernel"][:] = 0  # a copy: the model predicts as before
    assert np.array_equal(model.predict(x).probabilities, prediction.probabilities)
    assert run.history.history["loss"] == run.history["loss"]  # Keras's History.history


def test_a_dataframe_with_rows_dropped_is_told_how_to_take_y_alike():
    pd = pytest.importorskip("pandas")
    frame, y = pd.DataFrame({"a": [1.0, None, 3.0] * 20, "b": range(60)}), pd.Series(["x", "y", "z"] * 20)
    config = {"model": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    for x in (frame.dropna(), frame.dropna().assign(c="text")):  # numbers only, and a table with text
        with pytest.raises(UserError, match="x has 40 (samples|rows) but y has 60") as caught:
            nnrun.train(config, data=(x, y))
        assert caught.value.hint.startswith("select y's rows by x's index: y.loc[x.index]")


def test_token_ids_read_by_an_embedding_get_no_far_value_notes(tmp_path):
    # Training's sequences were all long, so every position held ids of 1 and up; new
    # shorter ones padded with 0 (the embedding's padding), and rare ids, are no other unit.
    rng = np.random.default_rng(0)
    x = rng.integers(1, 40, (60, 6)).astype(np.float32)
    config = {"model": {"layers": [{"type": "embedding", "input_dim": 50, "output_dim": 3, "mask_zero": True},
                                   {"type": "global_average_pool1d"}, {"type": "dense", "units": 2,
                                                                        "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    model = nnrun.load(nnrun.train(config, data=(x, np.arange(60) % 2), run_dir=tmp_path / "ids").run_dir)
    short = np.array([[3, 7, 0, 0, 0, 0], [49, 48, 47, 0, 0, 0]], np.float32)
    assert model.predict(short).notes == ()
    # A number model's inputs keep their ranges: the same values are noted there.
    config["model"]["layers"] = [{"type": "dense", "units": 2, "activation": "softmax"}]
    numbers = nnrun.load(nnrun.train(config, data=(x, np.arange(60) % 2), run_dir=tmp_path / "numbers").run_dir)
    assert any("lie far outside what training saw" in note for note in numbers.predict(short).notes)
