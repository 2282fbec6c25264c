"""``nnrun.train(config, data=(df, y))`` with a table that is more than numbers: columns
of categories or text, missing cells, column settings in the config. It trains as a CSV
run saved in the run directory, and is checked before that directory is made."""

from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

import nnrun
from nnrun.errors import UserError

pd = pytest.importorskip("pandas")

CHURN = {
    "name": "churn",
    "seed": 3,
    "data": {"source": {"id": "customer_id", "missing": "most_frequent"}, "split": {"validation": 0.2, "test": 0},
             "preprocess": ["standardize"]},
    "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 2, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.02},
    "metrics": ["accuracy"],
    "training": {"epochs": 5},
}


def churn_table(rows: int = 120):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(rows)],
        "age": rng.integers(18, 80, rows).astype(float),
        "plan": rng.choice(["basic", "pro", "max"], rows),
        "city": pd.Categorical(rng.choice(["Paris", "Lyon"], rows)),
        "member": rng.random(rows) > 0.5,
        "spend": rng.normal(50, 10, rows),
    })
    frame.loc[3, "age"], frame.loc[7, "plan"] = np.nan, None
    churned = pd.Series(np.where((frame["plan"] == "pro") | (frame["spend"] > 55), "yes", "no"), name="churned")
    return frame, churned


def test_a_table_of_categories_and_gaps_trains_as_a_csv_run_that_retrains_from_its_files(tmp_path):
    frame, churned = churn_table()
    result = nnrun.train(CHURN, data=(frame[:100], churned[:100]), validation=(frame[100:], churned[100:]),
                         run_dir=tmp_path / "churn")
    source = nnrun.load(result.run_dir).config.data.source
    assert (source.type, source.target, source.id, source.missing) == ("csv", "churned", ["customer_id"],
                                                                         "most_frequent")
    assert source.categorical == ["plan", "city"]  # text and pandas category columns; booleans are numbers
    assert source.validation_path == str(result.run_dir / "validation.csv")
    written = (result.run_dir / "config.yaml").read_text()  # within the run, found wherever it is moved
    assert "path: data.csv\n" in written and "validation_path: validation.csv\n" in written
    with open(result.run_dir / "data.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["spend"]) for r in rows] == frame["spend"][:100].tolist()  # every float64 read back exactly
    assert (rows[3]["age"], rows[7]["plan"], rows[0]["member"]) == ("", "", str(int(frame["member"][0])))
    # config.yaml names the saved files: it trains the same weights again.
    again = nnrun.train(result.run_dir / "config.yaml", run_dir=tmp_path / "again")
    assert again.final == result.final
    # The model takes the table back by its column names, booleans and gaps as in training.
    model = nnrun.load(result.run_dir)
    table = model.predict(frame[100:])
    columns = {name: frame[name][100:].tolist() for name in reversed(frame.columns)}
    np.testing.assert_array_equal(model.predict(columns).probabilities, table.probabilities)
    assert model.evaluate(frame[100:], churned[100:]).metrics == pytest.approx(result.final["validation"])
    shown = table.to_frame()  # as nnrun predict --proba writes it
    assert list(shown.columns) == ["prediction", "proba_no", "proba_yes"] and len(shown) == 20
    assert shown["prediction"].tolist() == table.predictions.tolist() and table != model.predict(frame[100:])


def test_targets_without_a_name_and_text_with_line_breaks(tmp_path):
    """Unnamed targets are the column ``target`` (``target_`` beside a feature of that
    name); a line break in a text cell is a space, in training and in prediction alike."""
    rng = np.random.default_rng(1)
    notes = ["fine", "late again", "late\nand rude", 'said "never"'] * 15
    frame = pd.DataFrame({"target": rng.normal(size=60), "note": notes})
    config = {**copy.deepcopy(CHURN), "data": {"split": {"validation": 0, "test": 0}}}
    result = nnrun.train(config, data=(frame, np.array(["a", "b", "b", "a"] * 15)), run_dir=tmp_path / "notes")
    source = nnrun.load(result.run_dir).config.data.source
    assert (source.target, source.categorical, source.id) == ("target_", ["note"], [])
    model = nnrun.load(result.run_dir)
    assert model.classes == ["a", "b"]
    spaced = frame.assign(note=[n.replace("\n", " ") for n in notes])
    np.testing.assert_array_equal(model.predict(frame).probabilities, model.predict(spaced).probabilities)
    assert "late and rude" in (result.run_dir / "data.csv").read_text()


def test_a_regressor_from_a_table_with_a_named_series(tmp_path):
    frame, _ = churn_table()
    price = pd.Series(frame["spend"] * 3 + 7, name="price")
    config = {**copy.deepcopy(CHURN), "model": {"layers": [{"type": "dense", "units": 1}]}, "loss": "mse",
              "metrics": ["mae"]}
    result = nnrun.train(config, data=(frame, price), run_dir=tmp_path / "price")
    model = nnrun.load(result.run_dir)
    assert model.config.data.source.task == "regression" and model.config.data.source.target == "price"
    assert model.predict(frame[:4]).predictions.shape == (4,)


@pytest.mark.parametrize("case, message", [
    ("gaps", "data: missing values: column 'age' in row 3; column 'plan' in row 7\n"
             "  hint: set data.source.missing: mean (or most_frequent) in the config"),
    ("unlisted", "data: the column 'city' (e.g. 'Lyon') holds text, but data.source.categorical does not list it\n"
                 "  hint: add it to data.source.categorical, or to data.source.ignore to leave it out"),
    ("durations", "data: the column 'waited' holds durations or periods, and the model takes numbers\n"
                  "  hint: derive numbers from them, e.g. df['waited'].dt.total_seconds() for a duration"),
    ("arrays", "data.source: the column settings (missing) apply to a table with named columns (a pandas "
               "DataFrame); arrays take none"),
    ("whole source", "data: given beside the config's own data.source; give either data=(x, y) or data.source, "
                     "not both\n  hint: leave data.source out of the config to train on the arrays (for a table, "
                     "keep only its column settings: features, categorical, dates, id, ignore, missing, "
                     "missing_category, missing_values, unknown, text, fold_case, thousands, strip_signs)"),
    ("misspelt", "\n  data.source.misssing: unknown key 'misssing'; did you mean 'missing'?"),
    ("validation gaps", "validation: missing values: column 'spend' in row 0"),
    ("short", "data: x has 120 rows but y has 5; give one target per row"),
    ("stray text", "data: text among numbers: column 'spend', row 5 'unknown', row 9 '12 EUR'; a number column "
                   "holds numbers only\n  hint: fix or drop those rows, or make them missing values with "
                   "df['spend'] = pd.to_numeric(df['spend'], errors='coerce')"),
    ("missing markers", "data: missing values: column 'plan' in rows 1, 2 ('NA' and '' are missing values in a "
                        "file, and so here)"),
    ("bad price", "data: y holds 1 value that is no finite number: row 9 '$350,000'; a regression's targets are "
                  "numbers\n  hint: write each as a plain number (350000, not '$350,000')"),
])
def test_a_table_is_checked_by_column_and_row_before_any_run_directory(tmp_path, case, message):
    frame, churned = churn_table()
    config, data, validation = copy.deepcopy(CHURN), (frame, churned), None
    source = config["data"]["source"]
    if case == "gaps":
        del source["missing"]
    elif case == "unlisted":
        source["categorical"] = ["plan"]
    elif case == "durations":
        data = (frame.assign(waited=pd.to_timedelta(range(len(frame)), unit="h")), churned)
    elif case == "arrays":
        config["data"]["source"] = {"missing": "mean"}
        data = (frame[["age", "spend"]].to_numpy(), churned)
    elif case == "whole source":
        source["type"] = "csv"
    elif case == "misspelt":
        source["misssing"] = source.pop("missing")
    elif case == "validation gaps":
        del source["missing"]
        data = (frame.fillna({"age": 40.0, "plan": "basic"}), churned)
        validation = (data[0][:10].assign(spend=[None] + [1.0] * 9), churned[:10])
    elif case == "short":
        data = (frame, churned[:5])
    elif case == "stray text":
        spend = frame["spend"].astype(object)
        spend[5], spend[9] = "unknown", "12 EUR"
        data = (frame.assign(spend=spend), churned)
    elif case == "missing markers":
        del source["missing"]
        data = (frame.fillna({"age": 40.0}).assign(plan=["basic", "NA", ""] + ["pro"] * 117), churned)
    elif case == "bad price":
        config.update(model={"layers": [{"type": "dense", "units": 2}]}, loss="mse", metrics=[])
        data = (frame, frame["spend"].astype(object).where(frame.index != 9, "$350,000").rename("price"))
    with pytest.raises(UserError) as error:
        nnrun.train(config, data=data, validation=validation, runs_root=tmp_path)
    assert message in error.value.render() and "data.csv" not in error.value.render()
    assert list(tmp_path.iterdir()) == []


def test_a_table_of_categories_with_several_targets_trains_a_column_each(tmp_path):
    """A table that trains as a CSV file keeps several regression targets: a column
    each in the saved file, named by y's columns (renamed where a feature has the name),
    and predictions and evaluate name the outputs by them."""
    frame, _ = churn_table()
    config = copy.deepcopy(CHURN)
    config.update(model={"layers": [{"type": "dense", "units": 2}]}, loss="mse", metrics=["mae"])
    y = pd.DataFrame({"spend": frame["spend"] / 10, "months": frame["age"].fillna(40) / 10})
    result = nnrun.train(config, data=(frame.drop(columns="spend"), y), run_dir=tmp_path / "two")
    source = nnrun.load(result.run_dir).config.data.source
    assert source.target == ["spend", "months"]
    assert (tmp_path / "two" / "data.csv").read_text().splitlines()[0].endswith('"spend","months"')
    model = nnrun.load(result.run_dir)
    assert model.predict(frame.drop(columns="spend")[:3]).value_columns == ("prediction_spend", "prediction_months")
    report = model.evaluate(frame.drop(columns="spend"), y)
    assert report.details["regression"]["output_names"] == ["spend", "months"]
    clashing = pd.DataFrame({"age": y["spend"], "months": y["months"]})  # 'age' is a feature too: a leak
    with pytest.raises(UserError, match=re.escape("data: y's column 'age' is a column of x too, so the model would "
                                                  "read the values it is to predict among its inputs")):
        nnrun.train(config, data=(frame, clashing), run_dir=tmp_path / "clash")
    # Unnamed, they are numbered as arrays' are; one column of a DataFrame keeps its name.
    result = nnrun.train(config, data=(frame, y.to_numpy()), run_dir=tmp_path / "unnamed")
    assert nnrun.load(result.run_dir).predict(frame[:2]).value_columns == ("prediction_0", "prediction_1")
    config["model"]["layers"][0]["units"] = 1
    result = nnrun.train(config, data=(frame, y[["months"]]), run_dir=tmp_path / "one")
    assert nnrun.load(result.run_dir).config.data.source.target == "months"
    config["model"]["layers"][0]["units"] = 2
    # A validation y of other columns, or in another order, would score other targets: refused.
    for other in (y[["months", "spend"]], y.assign(extra=1.0)):
        with pytest.raises(UserError, match=re.escape("validation: its y columns are not data's (spend, months), in "
                                                      "that order")):
            nnrun.train(config, data=(frame[:100].drop(columns="spend"), y[:100]),
                        validation=(frame[100:].drop(columns="spend"), other[100:]), runs_root=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()


def test_a_tables_categories_written_in_several_cases_are_one_with_fold_case(tmp_path):
    frame, churned = churn_table()
    frame["plan"] = [plan.upper() if i % 3 == 0 and plan else plan for i, plan in enumerate(frame["plan"])]
    config = copy.deepcopy(CHURN)
    config["data"]["source"]["fold_case"] = True
    run = nnrun.train(config, data=(frame, churned), run_dir=tmp_path / "folded").run_dir
    assert nnrun.load(run).config.data.source.fold_case is True
    plans = next(c for c in json.loads((run / "preprocess.json").read_text())["columns"]["columns"]
                 if c["name"] == "plan")["categories"]
    assert sorted(p.lower() for p in plans) == ["basic", "max", "pro"]  # one category a plan, whatever its case


def test_numbers_written_with_thousands_separators_read_as_the_settings_say(tmp_path):
    """'2,961' in a column of text: with thousands: ',' a number column, as the saved file
    reads it; without, refused with that setting (as categories, a category each)."""
    frame, churned = churn_table()
    frame["spend"] = [f"{v * 100:,.0f}" for v in frame["spend"]]  # 5,012
    config = copy.deepcopy(CHURN)
    config["data"]["source"]["thousands"] = ","
    run = nnrun.train(config, data=(frame, churned), run_dir=tmp_path / "grouped").run_dir
    model = nnrun.load(run)
    assert "spend" not in model.config.data.source.categorical
    assert "spend" in json.loads((run / "preprocess.json").read_text())["feature_names"]  # one number, not one a value
    assert len(model.predict(frame[:3]).predictions) == 3  # a table written alike predicts as it trained
    del config["data"]["source"]["thousands"]
    with pytest.raises(UserError) as refused:
        nnrun.train(config, data=(frame, churned), runs_root=tmp_path / "refused")
    assert refused.value.message.startswith("data: the column 'spend' holds numbers written with ',' between "
                                            "thousands ('")
    assert refused.value.hint.startswith("set data.source.thousands: \",\" to read them as numbers, as a file's are")
    assert not (tmp_path / "refused").exists()
    spaced = frame.assign(spend=[v.replace(",", "\u00a0") for v in frame["spend"]])  # '5\xa0012', as YAML can say it
    with pytest.raises(UserError) as refused:
        nnrun.train(config, data=(spaced, churned), runs_root=tmp_path / "refused")
    assert refused.value.hint.startswith('set data.source.thousands: "\\u00a0" to read them')
    # Left out of the features, such a column is no one's business; a few words among them, still grouped numbers.
    config["data"]["source"]["features"] = ["customer_id", "age", "plan", "city", "member"]
    config["data"]["source"]["id"] = []
    assert nnrun.train(config, data=(frame, churned), run_dir=tmp_path / "left_out").run_dir.is_dir()
    del config["data"]["source"]["features"]
    config["data"]["source"]["id"] = "customer_id"
    worded = frame.assign(spend=[*frame["spend"][:-2], "unknown", "n/a"])
    with pytest.raises(UserError, match="holds numbers written with ',' between thousands"):
        nnrun.train(config, data=(worded, churned), runs_root=tmp_path / "refused")
    # Grouped numbers only after the first thousand rows, and a non-breaking space: told, never a traceback.
    late = churn_table(1200)[0].assign(spend=["5"] * 500 + ["1\u00a0234"] * 700)
    with pytest.raises(UserError, match="holds numbers written with a non-breaking space between thousands"):
        nnrun.train(config, data=(late, churn_table(1200)[1]), runs_root=tmp_path / "refused")
    # A decimal comma would misread the plain numbers the table is saved with: refused, with what to do.
    for setting in ({"decimal": ","}, {"thousands": "."}):
        with pytest.raises(UserError, match="reads numbers written with a decimal comma") as refused:
            nnrun.train({**config, "data": {**config["data"], "source": {"id": "customer_id", **setting}}},
                        data=(frame, churned), runs_root=tmp_path / "refused")
        assert refused.value.hint.startswith("convert such a column first")
    assert not (tmp_path / "refused").exists()


def test_several_targets_with_a_classification_loss_are_pointed_to_a_regression_loss(tmp_path):
    frame, _ = churn_table()
    y = pd.DataFrame({"spend": frame["spend"], "months": frame["age"].fillna(40)})
    config = copy.deepcopy(CHURN)
    with pytest.raises(UserError) as refused:  # CHURN's loss: categorical_crossentropy
        nnrun.train(config, data=(frame.drop(columns=["spend", "age"]), y), runs_root=tmp_path)
    assert "are not one-hot rows" in refused.value.message
    assert refused.value.hint.startswith("for several values to predict, use a regression loss (mse, mae or huber), "
                                         "with data.source.task: regression where the source sets the task")


def test_a_target_that_x_holds_too_is_refused_as_a_leak(tmp_path):
    frame, _ = churn_table()
    numbers = frame[["age", "spend"]].fillna(40.0)
    config = copy.deepcopy(CHURN)
    config.update(data={"split": {"validation": 0.2}}, model={"layers": [{"type": "dense", "units": 1}]}, loss="mse",
                  metrics=[])
    for y in (numbers["spend"], numbers[["spend"]]):  # a table of numbers alone, trained as arrays: the same rule
        with pytest.raises(UserError, match=re.escape("data: y's column 'spend' is a column of x too")):
            nnrun.train(config, data=(numbers, y), runs_root=tmp_path)
    assert not tmp_path.joinpath("runs").exists() and list(tmp_path.iterdir()) == []
    # pandas' own labels of unnamed tables (0, 1, ...) in both are positions, not names: no leak.
    plain = numbers.to_numpy()
    config["model"]["layers"][0]["units"] = 2
    result = nnrun.train(config, data=(pd.DataFrame(plain), pd.DataFrame(plain * 2)), run_dir=tmp_path / "unnamed")
    assert nnrun.load(result.run_dir).predict(pd.DataFrame(plain[:1])).value_columns == ("prediction_0",
                                                                                         "prediction_1")
    # Unnamed, so a file's columns cannot say which target is which: never features '0' and '1' taken for them.
    assert json.loads((result.run_dir / "preprocess.json").read_text())["target_names"] is None
    pd.DataFrame(plain).to_csv(tmp_path / "features.csv", index=False)
    with pytest.raises(UserError, match="which its training data did not name"):
        nnrun.evaluate(result.run_dir, data=tmp_path / "features.csv")


def test_a_table_of_numbers_alone_still_trains_from_exact_arrays(tmp_path):
    frame, churned = churn_table()
    numbers = frame[["spend", "member"]]
    result = nnrun.train({**CHURN, "data": {"split": {"validation": 0, "test": 0}}}, data=(numbers, churned),
                         run_dir=tmp_path / "numbers")
    assert (result.run_dir / "data.npz").is_file() and not (result.run_dir / "data.csv").exists()
    # With a setting for its columns it is a table like any other.
    config = {**CHURN, "data": {"source": {"missing": "mean"}, "split": {"validation": 0, "test": 0}}}
    result = nnrun.train(config, data=(frame[["age", "spend"]], churned), run_dir=tmp_path / "gaps")
    assert re.search(r"^age,spend,churned$|^\"age\",\"spend\",\"churned\"$",
                     (result.run_dir / "data.csv").read_text().splitlines()[0])


SHOP = {"name": "shop", "data": {"split": {"validation": 0, "test": 0}},
        "model": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
        "loss": "categorical_crossentropy", "optimizer": {"type": "adam", "learning_rate": 0.05},
        "metrics": ["accuracy"], "training": {"epochs": 30}}


def shop_table():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=90), "b": rng.normal(size=90)})
    labels = np.where(x["a"] > 0.5, "toys", np.where(x["b"] > 0, "books", "garden"))
    return x, labels


def test_one_hot_columns_named_by_class_train_and_score_by_those_names(tmp_path):
    x, labels = shop_table()
    one_hot = pd.get_dummies(labels).astype(int)
    model = nnrun.load(nnrun.train(SHOP, data=(x, one_hot), run_dir=tmp_path / "shop").run_dir)
    assert model.classes == ["books", "garden", "toys"]
    expected = model.evaluate(x, labels).metrics
    assert model.evaluate(x, one_hot[["toys", "books", "garden"]]).metrics == expected  # by name, not position
    toys = labels == "toys"
    assert model.evaluate(x[toys], pd.get_dummies(labels[toys]).astype(int)).samples == int(toys.sum())
    with pytest.raises(UserError, match=re.escape("y: the columns 'cat_books', 'cat_garden', 'cat_toys' are not "
                                                  "among the model's classes (books, garden, toys)")):
        model.evaluate(x, one_hot.add_prefix("cat_"))
    with pytest.raises(UserError, match=r"y: \d+ rows are 0 in every column \(rows .*\), so their class is not "):
        model.evaluate(x, one_hot[["toys", "books"]])


def test_whole_number_targets_are_names_where_classes_are_numbers_and_come_back_as_numbers(tmp_path):
    x, _ = shop_table()
    rating = np.where(x["a"] > 0, 2, np.where(x["b"] > 0, 3, 1))
    model = nnrun.load(nnrun.train(SHOP, data=(x, rating), run_dir=tmp_path / "rating").run_dir)
    assert model.classes == ["1", "2", "3"]
    predictions = model.predict(x).predictions
    assert predictions.dtype == np.int64 and set(predictions.tolist()) <= {1, 2, 3}
    high = rating >= 2  # targets 2 and 3 only: still the classes "2" and "3", never positions
    assert model.evaluate(x[high], rating[high]).metrics["accuracy"] == np.mean(predictions[high] == rating[high])
    with pytest.raises(UserError, match="y, row .*: unknown class '0'; the model knows 1, 2, 3\n  hint: targets "
                                        "that are numbers are class names here, not positions"):
        model.evaluate(x, rating - 1)


@pytest.mark.parametrize("kind", ["labels", "floats", "table"])
def test_a_missing_target_is_refused_by_row(tmp_path, kind):
    x, labels = shop_table()
    y = {"labels": pd.Series(labels).where(lambda s: s.index != 4),
         "floats": np.where(labels == "toys", 1.0, 0.0), "table": labels}[kind]
    if kind == "floats":
        y[[4, 7]] = np.nan
    data = (x.assign(c=["u", "v", "w"] * 30), pd.Series(labels).where(lambda s: s.index != 4)) if kind == "table" \
        else (x, y)
    rows = "rows 4, 7" if kind == "floats" else "row 4"
    with pytest.raises(UserError, match=re.escape(f"data: y has {2 if kind == 'floats' else 1} missing target")):
        nnrun.train(SHOP, data=data, runs_root=tmp_path)
    with pytest.raises(UserError, match=re.escape(rows)) as refused:
        nnrun.train(SHOP, data=data, runs_root=tmp_path)
    assert "keep = y.notna(); x[keep], y[keep]" in refused.value.hint
    assert list(tmp_path.iterdir()) == []


def test_a_missing_target_among_several_is_told_how_to_drop_its_rows(tmp_path):
    frame, _ = churn_table()
    y = pd.DataFrame({"spend": frame["spend"], "age": frame["age"]})  # age: NaN in row 3
    config = copy.deepcopy(CHURN)
    config.update(model={"layers": [{"type": "dense", "units": 2}]}, loss="mse", metrics=[])
    with pytest.raises(UserError) as refused:
        nnrun.train(config, data=(frame.drop(columns=["spend", "age"]), y), runs_root=tmp_path)
    assert refused.value.message.startswith("data: y has 1 missing target (row 3)")
    assert "keep = y.notna().all(axis=1); x[keep], y[keep]" in refused.value.hint  # a row, not a table of cells


def test_booleans_are_1_and_0_in_memory_and_in_a_file_pandas_wrote(tmp_path, run_cli):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"tenure": rng.integers(1, 50, 80), "senior": rng.random(80) > 0.5})
    labels = np.where(frame["senior"], "a", "b")
    run = nnrun.train({**SHOP, "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]}},
                      data=(frame, labels), run_dir=tmp_path / "flags").run_dir
    model = nnrun.load(run)
    expected = model.predict(frame).probabilities
    np.testing.assert_array_equal(model.predict(frame.to_numpy()).probabilities, expected)  # an object array
    frame.to_csv(tmp_path / "new.csv", index=False)  # senior written as True and False
    assert "True" in (tmp_path / "new.csv").read_text()
    result = run_cli("predict", str(run), str(tmp_path / "new.csv"), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "out.csv")
    assert written["prediction"].tolist() == model.predict(frame).predictions.tolist()


def test_boolean_targets_score_as_1_and_0_or_by_name(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    positive = x[:, 0] > 0
    binary = {"model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
              "loss": "binary_crossentropy", "metrics": ["accuracy"], "training": {"epochs": 1}}
    model = nnrun.load(nnrun.train(binary, data=(x, positive.astype(int)), run_dir=tmp_path / "a").run_dir)
    assert model.classes == ["0", "1"]
    assert model.evaluate(x, positive).metrics == model.evaluate(x, positive.astype(int)).metrics
    model = nnrun.load(nnrun.train(binary, data=(x, positive), run_dir=tmp_path / "b").run_dir)
    assert model.classes == ["False", "True"]  # trained on booleans: their names
    assert model.evaluate(x, positive).metrics == model.evaluate(x, np.where(positive, "True", "False")).metrics
    # Written as SQL, R or a spreadsheet write booleans: the same classes.
    assert model.evaluate(x, positive).metrics == model.evaluate(x, np.where(positive, "true", "FALSE")).metrics
    assert model.evaluate(x, positive).metrics == model.evaluate(x, positive.astype(int)).metrics
    predicted = model.predict(x).predictions
    assert predicted.dtype == bool  # not the texts 'False' and 'True', both true to Python
    assert (predicted == (model.predict(x).probabilities[:, 1] > 0.5)).all()


def test_rows_as_dicts_or_one_row_as_a_series_are_a_table_too(tmp_path):
    frame, churned = churn_table()
    model = nnrun.load(nnrun.train(CHURN, data=(frame, churned), run_dir=tmp_path / "rows").run_dir)
    expected = model.predict(frame[:3]).probabilities
    records = frame[:3].astype(object).where(frame[:3].notna(), None).to_dict("records")
    np.testing.assert_array_equal(model.predict(records).probabilities, expected)
    # against the same row as a one-row table: BLAS may round a one-row product
    # differently from a three-row one in the last bit
    np.testing.assert_array_equal(model.predict(frame.iloc[1]).probabilities,
                                  model.predict(frame.iloc[[1]]).probabilities)
    np.testing.assert_allclose(model.predict(frame.iloc[1]).probabilities, expected[1:2], rtol=1e-5)


def test_a_named_column_as_a_series_is_that_column_of_every_sample(tmp_path):
    frame, churned = churn_table()
    one = {**CHURN, "data": {**CHURN["data"], "source": {"missing": "most_frequent"}}}
    model = nnrun.load(nnrun.train(one, data=(frame[["plan"]], churned), run_dir=tmp_path / "plan").run_dir)
    by_column = model.predict(frame["plan"][:5])  # df["plan"]: five samples, not one row of five cells
    np.testing.assert_array_equal(by_column.probabilities, model.predict(frame[["plan"]][:5]).probabilities)
    with pytest.raises(UserError, match="x: 1 of the model's columns is missing\n  missing: 'plan'"):
        model.predict(frame["city"][:5])  # another column's name: read as a row, which lacks 'plan'


def test_api_inputs_of_the_wrong_kind_are_clear_errors(tmp_path):
    iris = Path(__file__).resolve().parent.parent / "configs" / "iris.yaml"
    model = nnrun.load(nnrun.train(iris, overrides={"training.epochs": 1},
                                   run_dir=tmp_path / "iris").run_dir)
    with pytest.raises(UserError, match="x: the samples have different lengths; every sample needs the model's 4 "):
        model.predict([[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4]])
    for y in (None, 0):
        with pytest.raises(UserError, match="y: expected one target per sample"):
            model.evaluate(np.ones((2, 4)), y)
    assert model.predict(np.ones((2, 4), bool)).predictions.shape == (2,)  # True and False are 1 and 0
    with pytest.raises(UserError, match=r"got float64 of shape \(4,\)") as error:
        model.predict(np.array([5.1, 3.5, 1.4, 0.2]))  # one sample, without the samples' axis
    assert error.value.hint == "one sample is a batch of one: x[None], or [x]"
    x = np.random.default_rng(0).normal(size=(40, 1))
    single = nnrun.load(nnrun.train({"model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
                                     "loss": "categorical_crossentropy", "training": {"epochs": 1}},
                                    data=(x, np.arange(40) % 2), run_dir=tmp_path / "single").run_dir)
    with pytest.raises(UserError, match=r"got float64 of shape \(40,\)") as error:
        single.predict(x[:, 0])  # a model of one feature: the samples without the features' axis
    assert error.value.hint == "one value per sample: x.reshape(-1, 1)"
    with pytest.raises(UserError, match="split: expected the name of a split"):
        nnrun.evaluate(tmp_path / "iris", split=None)
    with pytest.raises(UserError, match="run_dir: expected the path of a run directory, got NoneType"):
        nnrun.load(None)
    with pytest.raises(UserError, match="config: expected the path of a YAML file, a dict or a Config, got NoneType"):
        nnrun.train(None)
    for overrides in (5, b"training.epochs=1"):
        with pytest.raises(UserError, match="overrides: expected a dict of dotted keys or a list of 'key.path=value' "):
            nnrun.train(iris, overrides=overrides)
    # any os.PathLike is a path
    assert nnrun.load(PurePosixPath(tmp_path / "iris")).predict(np.ones((1, 4))).predictions.shape == (1,)


def test_a_column_the_model_never_saw_is_noted_not_dropped_silently(tmp_path, capsys):
    # As `nnrun predict` notes it: a misspelt column is no silent loss.
    frame, churned = churn_table()
    model = nnrun.load(nnrun.train(CHURN, data=(frame, churned), run_dir=tmp_path / "r").run_dir)
    capsys.readouterr()
    prediction = model.predict(frame[:3].assign(plann=["a", "b", "c"]))
    assert prediction.notes == ("ignored 1 column the model was not trained on: 'plann'",)
    assert "note: ignored 1 column the model was not trained on: 'plann'" in capsys.readouterr().err
    assert model.predict(frame[:3]).notes == ()
    numbers = nnrun.load(nnrun.train(CHURN | {"data": {"split": {"validation": 0.2, "test": 0}}},
                                     data=(frame[["age", "spend"]].fillna(0), churned), run_dir=tmp_path / "n").run_dir)
    assert numbers.predict(frame[["age", "spend"]].fillna(0).assign(agee=1)).notes == (
        "ignored 1 column the model was not trained on: 'agee'",)


def test_texts_such_as_na_filled_by_a_policy_are_told(tmp_path, capsys):
    # 'NA' (North America?) is read as missing, as a file's would be; the policy fills it,
    # and the warning says so, with how to keep it as a value.
    frame, churned = churn_table()
    frame["plan"] = frame["plan"].fillna("basic").where(frame.index % 10 != 1, "NA")
    nnrun.train(CHURN, data=(frame, churned), run_dir=tmp_path / "r", quiet=True)
    assert "warning: column 'plan': 'NA' in 12 rows read as missing, as in a file, and filled by " \
           "data.source.missing; if 'NA' is a value, rename it (df['plan'].replace({'NA': ...}))" in capsys.readouterr().err


def test_numbers_written_as_text_are_numbers_unless_listed_as_categories(tmp_path):
    frame, churned = churn_table()
    frame = frame.assign(spend=[f"{v:.2f}" for v in frame["spend"]], age=frame["age"].fillna(40.0))
    result = nnrun.train(CHURN, data=(frame, churned), run_dir=tmp_path / "r", quiet=True)
    model = nnrun.load(result.run_dir)
    assert model.config.data.source.categorical == ["plan", "city"]
    assert model.samples(frame[:1]).shape == (1, 8)  # age, plan (3), city (2), member, spend
    config = copy.deepcopy(CHURN)
    config["data"]["source"]["categorical"] = ["plan", "city", "spend"]  # listed: each value a category
    result = nnrun.train(config, data=(frame, churned), run_dir=tmp_path / "listed", quiet=True)
    assert nnrun.load(result.run_dir).samples(frame[:1]).shape[1] > 50


def test_a_category_written_in_another_unicode_form_is_the_same_category(tmp_path):
    # 'Montréal' typed as e and a combining accent (NFD) reads as the category the file had (NFC).
    composed, decomposed = "Montr\u00e9al", "Montre\u0301al"
    frame = pd.DataFrame({"city": [composed, "Z\u00fcrich", "Bern"] * 10, "size": np.arange(30) % 4})
    result = nnrun.train({"model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
                          "data": {"source": {"categorical": ["city"]}}, "loss": "categorical_crossentropy",
                          "training": {"epochs": 1}}, data=(frame, np.arange(30) % 2), run_dir=tmp_path / "r",
                         quiet=True)
    model = nnrun.load(result.run_dir)
    np.testing.assert_array_equal(model.samples({"city": [decomposed], "size": [1]}),
                                  model.samples({"city": [composed], "size": [1]}))


def test_a_text_models_missing_texts_are_empty_texts_as_in_a_file(tmp_path):
    texts = pd.Series(["great film", "awful film", None, "great plot", "awful plot", "12345"] * 10)
    labels = pd.Series(["pos", "neg", "neg", "pos", "neg", "pos"] * 10, name="label")
    config = {"data": {"source": {"text": {"column": "text", "max_tokens": 50, "length": 4}}},
              "model": {"layers": [{"type": "embedding", "input_dim": 50, "output_dim": 4},
                                   {"type": "global_average_pool1d"},
                                   {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    result = nnrun.train(config, data=(pd.DataFrame({"text": texts}), labels), run_dir=tmp_path / "r", quiet=True)
    model = nnrun.load(result.run_dir)
    np.testing.assert_array_equal(model.predict([None]).probabilities, model.predict([""]).probabilities)
    # A text of digits that pandas read as a float (a column with a gap): the word it was, not 'great0'.
    np.testing.assert_array_equal(model.predict(pd.DataFrame({"text": [12345.0, None]})).probabilities,
                                  model.predict(["12345", ""]).probabilities)


def test_a_series_of_texts_trains_as_the_dataframe_of_its_column_does(tmp_path):
    texts = pd.Series(["great film", "awful film", "great plot", "awful plot", "fine film", "bad plot"] * 8)
    labels = pd.Series(["pos", "neg", "pos", "neg", "pos", "neg"] * 8)
    config = {"data": {"source": {"text": {"column": "text", "max_tokens": 20, "length": 3}}},
              "model": {"layers": [{"type": "embedding", "input_dim": 20, "output_dim": 4},
                                   {"type": "global_average_pool1d"},
                                   {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 2}, "seed": 3}
    alone = nnrun.train(config, data=(texts, labels), run_dir=tmp_path / "series")
    table = nnrun.train(config, data=(pd.DataFrame({"text": texts}), labels), run_dir=tmp_path / "frame")
    assert (tmp_path / "series" / "model.safetensors").read_bytes() == \
        (tmp_path / "frame" / "model.safetensors").read_bytes()
    assert alone.final == table.final


def test_several_regression_targets_from_a_table_of_numbers(tmp_path):
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    y = pd.DataFrame({"y1": x["a"] * 2, "y2": x["b"] * 1000})  # named columns: targets, not one-hot classes
    config = {"data": {"source": {"task": "regression"}, "target_scale": "standardize"},
              "model": {"layers": [{"type": "dense", "units": 2}]}, "loss": "mse", "training": {"epochs": 1}}
    result = nnrun.train(config, data=(x, y), run_dir=tmp_path / "r", quiet=True)
    model = nnrun.load(result.run_dir)
    assert model.predict(x[:3]).predictions.shape == (3, 2)
    # Named by their targets, and taken by name: matched by place, y1 would be scored as y2.
    assert list(model.predict(x[:3]).to_frame().columns) == ["prediction_y1", "prediction_y2"]
    assert model.evaluate(x, y[["y2", "y1"]]).metrics == model.evaluate(x, y).metrics
    with pytest.raises(UserError, match="y: one target per sample, but the model has 2 outputs"):
        model.evaluate(x, y["y1"])
    numbered = nnrun.load(nnrun.train(config, data=(x, pd.DataFrame(y.to_numpy())), run_dir=tmp_path / "n",
                                      quiet=True).run_dir)  # columns 0 and 1: numbers, named as text
    assert numbered.evaluate(x, pd.DataFrame(y.to_numpy())[[1, 0]]).metrics == \
        numbered.evaluate(x, y.to_numpy()).metrics
    # A run of an earlier nnrun recorded no names: the columns are taken in order, and that is said.
    saved = json.loads((result.run_dir / "preprocess.json").read_text())
    (tmp_path / "older").mkdir()
    for item in result.run_dir.iterdir():
        if item.is_file():
            (tmp_path / "older" / item.name).write_bytes(item.read_bytes())
    (tmp_path / "older" / "preprocess.json").write_text(json.dumps({**saved, "target_names": None}))
    meta = json.loads((tmp_path / "older" / "meta.json").read_text())
    meta.pop("preprocess_hash", None)
    (tmp_path / "older" / "meta.json").write_text(json.dumps(meta))
    assert nnrun.load(tmp_path / "older").evaluate(x, y).notes[-1].startswith("y's columns are taken in their order")
    with pytest.raises(UserError, match=r"y: its columns \('y1', 'z'\) are not the targets the model was trained on "
                       r"\('y1', 'y2'\)") as refused:
        model.evaluate(x, y.rename(columns={"y2": "z"}))
    assert refused.value.hint == "select them by name: y[['y1', 'y2']], or pass an array of the targets in that order"
    # A file of the features and both targets is scored as the run named them, by nnrun evaluate --data too.
    pd.concat([x, y[["y2", "y1"]], pd.Series(["d"] * len(x), name="date")], axis=1).to_csv(tmp_path / "later.csv",
                                                                                         index=False)
    from nnrun.commands.evaluate import evaluate

    report = evaluate(result.run_dir, data=tmp_path / "later.csv")
    assert report["metrics"] == pytest.approx(model.evaluate(x, y).metrics, rel=1e-6)
    assert report["regression"]["output_names"] == ["y1", "y2"]
    with pytest.raises(UserError, match=r"later\.csv: no target column 'y2'"):
        pd.concat([x, y[["y1"]]], axis=1).to_csv(tmp_path / "later.csv", index=False)
        evaluate(result.run_dir, data=tmp_path / "later.csv", force=True)
    with pytest.raises(UserError, match=r"validation: its y columns are not data's \(y1, y2\), in that order"):
        nnrun.train(config, data=(x, y), validation=(x, y[["y2", "y1"]]), runs_root=tmp_path / "refused")
    config["data"]["source"]["task"] = "classification"
    with pytest.raises(UserError, match="data.source.task: classification, but the loss mse trains a regression"):
        nnrun.train(config, data=(x, y), runs_root=tmp_path / "refused")


def test_to_frame_keeps_the_inputs_index_so_a_join_lines_up(tmp_path):
    frame, churned = churn_table()
    model = nnrun.load(nnrun.train(CHURN, data=(frame, churned), run_dir=tmp_path / "keys").run_dir)
    new = frame.iloc[10:14].set_index(pd.Index([40, 41, 42, 43], name="row"))
    table = model.predict(new).to_frame()
    assert list(table.columns) == ["prediction", "proba_no", "proba_yes"]
    assert list(table.index) == [40, 41, 42, 43] and table.index.name == "row"
    joined = new.join(table)  # the id column customer_id is the input's own: no overlap
    assert joined["customer_id"].tolist() == ["c10", "c11", "c12", "c13"]
    assert joined["prediction"].tolist() == model.predict(new).predictions.tolist()
    assert list(model.predict(new.to_dict("records")).to_frame().index) == [0, 1, 2, 3]  # no index to keep
