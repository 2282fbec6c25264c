"""``nnrun.train(config, data=(df, y))`` with a table that is more than numbers: columns
of categories or text, missing cells, column settings in the config. It trains as a CSV
run saved in the run directory, and is checked before that directory is made."""

from __future__ import annotations

import copy
import csv
import re

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
    ("dates", "data: the column 'joined' holds dates or times, and the model takes numbers\n"
              "  hint: derive numbers from them, e.g. df['month'] = df[c].dt.month"),
    ("arrays", "data.source: the column settings (missing) apply to a table with named columns (a pandas "
               "DataFrame); arrays take none"),
    ("whole source", "data: given beside the config's own data.source; give either data=(x, y) or data.source, "
                     "not both\n  hint: leave data.source out of the config to train on the arrays (for a table, "
                     "keep only its column settings: features, categorical, id, ignore, missing, unknown, text)"),
    ("misspelt", "<config>: data.source.misssing: unknown key 'misssing'; did you mean 'missing'?"),
    ("validation gaps", "validation: missing values: column 'spend' in row 0"),
    ("short", "data: x has 120 rows but y has 5; give one target per row"),
])
def test_a_table_is_checked_by_column_and_row_before_any_run_directory(tmp_path, case, message):
    frame, churned = churn_table()
    config, data, validation = copy.deepcopy(CHURN), (frame, churned), None
    source = config["data"]["source"]
    if case == "gaps":
        del source["missing"]
    elif case == "unlisted":
        source["categorical"] = ["plan"]
    elif case == "dates":
        data = (frame.assign(joined=pd.date_range("2024-01-01", periods=len(frame))), churned)
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
    with pytest.raises(UserError) as error:
        nnrun.train(config, data=data, validation=validation, runs_root=tmp_path)
    assert message in error.value.render() and "data.csv" not in error.value.render()
    assert list(tmp_path.iterdir()) == []


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
