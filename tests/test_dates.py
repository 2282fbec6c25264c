"""Date columns (data.source.dates): how cells are read, the features they become, and
a run on them end to end: training, predict, evaluate, serve, a DataFrame, init."""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pytest

from nnrun.data.coded import coded_cells
from nnrun.data.dates import check_format, feature_names, fit_date, infer_format, parse
from nnrun.data.problems import DataProblems
from nnrun.errors import ConfigError


@pytest.mark.parametrize("cell, form, expected", [
    ("2024-03-15", "ymd", datetime(2024, 3, 15)),
    ("2024/3/5 7:05", "dmy", datetime(2024, 3, 5, 7, 5)),  # year first reads one way whatever the order
    ("15/03/2024", "dmy", datetime(2024, 3, 15)),
    ("15.03.2024 14:30:10", "dmy", datetime(2024, 3, 15, 14, 30, 10)),
    ("03/15/24", "mdy", datetime(2024, 3, 15)),
    ("03/15/99", "mdy", datetime(1999, 3, 15)),  # two-digit years as strptime's %y: 69-99 the 1900s
    ("3/15/2024 12:30 AM", "mdy", datetime(2024, 3, 15, 0, 30)),
    ("3/15/2024 1:30 pm", "mdy", datetime(2024, 3, 15, 13, 30)),
    ("2024-03-15T10:20:30.25Z", "ymd", datetime(2024, 3, 15, 10, 20, 30, 250000)),
    ("2024-03-15 10:20+02:00", "ymd", datetime(2024, 3, 15, 10, 20)),  # the wall clock as written
    ("15 Mar 2024", "%d %b %Y", datetime(2024, 3, 15)),
    ("2024-02-30", "ymd", None),
    ("15/03/2024", "ymd", None),  # day and month first is no date of a year-first column
    ("13/15/2024", "dmy", None),
    ("3/15/2024 13:30 PM", "mdy", None),
    ("soon", "ymd", None),
])
def test_cells_read_as_the_format_says(cell, form, expected):
    assert parse(cell, form) == expected


def test_the_order_is_learned_from_a_cell_that_can_only_be_read_one_way():
    assert infer_format(["2024-01-05", "2024-02-06"], "d") == "ymd"
    assert infer_format(["01/02/2024", "25/02/2024"], "d") == "dmy"
    assert infer_format(["01/02/2024", "02/25/2024"], "d") == "mdy"
    with pytest.raises(ConfigError) as error:
        infer_format(["01/02/2024", "03/04/2024"], "signup")
    assert error.value.problems[0].path == "data.source.dates.signup"
    assert "'signup' writes dates such as '01/02/2024', which read day first or month first alike, and no training " \
           "cell tells which (no day over 12); say which: data.source.dates: {signup: dmy} (or mdy)" \
        in error.value.problems[0].message
    with pytest.raises(ConfigError) as error:
        infer_format(["25/02/2024", "02/25/2024"], "d")
    assert "'d' writes dates day first ('25/02/2024') and month first ('02/25/2024'); write them one way in the " \
           "file" in error.value.problems[0].message


def test_formats_are_checked():
    assert check_format("%d.%m.%Y %H:%M") == "%d.%m.%Y %H:%M"
    with pytest.raises(ValueError, match="has no year"):
        check_format("%d/%m")
    with pytest.raises(ValueError, match="'european' is no date format; give auto"):
        check_format("european")


def test_each_date_becomes_its_year_its_place_in_the_year_its_weekday_and_time_of_day():
    from nnrun.data.dates import encode_dates

    cells = ["2024-01-01", "2024-07-02 00:00", "", "2023-12-31 18:00"]  # a Monday, a Tuesday, -, a Sunday
    column = fit_date("t", coded_cells(cells), "auto", "mean")
    assert column["format"] == "ymd" and column["time"] is True
    assert feature_names(column) == ["t:year", "t:year_sin", "t:year_cos", *(f"t:weekday={d}" for d in
                                     ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")), "t:day_sin", "t:day_cos"]
    out = np.zeros((4, 12), np.float32)
    encode_dates(coded_cells(cells), column, np.arange(2, 6), DataProblems("x"), out)
    year_end = 365 / 365 - 6 / 24 / 365  # 18:00 on the last day of 2023
    expected = [
        [2024.0, 0.0, 1.0, 1, 0, 0, 0, 0, 0, 0, 0.0, 1.0],
        [2024.5, math.sin(math.pi), math.cos(math.pi), 0, 1, 0, 0, 0, 0, 0, 0.0, 1.0],  # 183 of 366 days
        [0] * 12,  # an empty cell that encode_columns gave no fill: reported there, zeros here
        [2023 + year_end, math.sin(2 * math.pi * year_end), math.cos(2 * math.pi * year_end), 0, 0, 0, 0, 0, 0, 1,
         -1.0, 0.0],
    ]
    np.testing.assert_allclose(out, np.array(expected, np.float32), atol=2e-6)
    # The mean of the three dates fills an empty cell; dates without times, the mean's day.
    assert column["fill"] == "2024-03-01 22:00:00"  # 60 days and 22 hours after 1 January
    assert fit_date("d", coded_cells(["2024-01-01", "2024-01-04"]), "auto", "mean")["fill"] == "2024-01-02 00:00:00"
    assert fit_date("d", coded_cells(["2024-01-04", "2024-01-01", "2024-01-04"]), "auto", "most_frequent")["fill"] \
        == "2024-01-04 00:00:00"
    assert fit_date("d", coded_cells(["2024-01-04"]), "auto", "error")["fill"] is None


def _signups(rows: int = 300, seed: int = 0, blank: int | None = None) -> str:
    """A CSV file whose label is the signup's weekday (a weekend or not), which no
    other column tells."""
    rng = np.random.default_rng(seed)
    lines = ["signup,plan,spend,weekend"]
    for i in range(rows):
        day = datetime(2023, 1, 1).toordinal() + int(rng.integers(0, 700))
        date = datetime.fromordinal(day)
        cell = "" if i == blank else date.strftime("%d/%m/%Y")
        lines.append(f"{cell},{'ab'[i % 2]},{rng.normal():.3f},{'yes' if date.weekday() >= 5 else 'no'}")
    return "\n".join(lines) + "\n"


CONFIG = """name: signups
seed: 3
data:
  source: {{type: csv, path: s.csv, target: weekend, categorical: [plan], dates: {dates}{more}}}
  preprocess: [standardize]
model:
  layers: [{{type: dense, units: 16, activation: relu}}, {{type: dense, units: 2, activation: softmax}}]
loss: categorical_crossentropy
optimizer: {{type: adam, learning_rate: 0.02}}
training: {{epochs: 40, batch_size: 16}}
metrics: [accuracy]
"""


def test_a_run_learns_from_dates_and_reads_new_ones_as_training_did(run_cli, tmp_path):
    (tmp_path / "s.csv").write_text(_signups(blank=7))
    (tmp_path / "c.yaml").write_text(CONFIG.format(dates="[signup]", more=", missing: mean"))
    result = run_cli("train", "c.yaml", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "r" / "preprocess.json").read_text())
    column = saved["columns"]["columns"][0]
    assert {k: column[k] for k in ("name", "kind", "format", "time")} == \
        {"name": "signup", "kind": "date", "format": "dmy", "time": False}
    assert saved["feature_names"][:4] == ["signup:year", "signup:year_sin", "signup:year_cos", "signup:weekday=Mon"]
    assert run_cli("evaluate", "r").exit_code == 0
    test = json.loads((tmp_path / "r" / "eval-test.json").read_text())
    assert test["metrics"]["accuracy"] >= 0.95, test["metrics"]  # the weekday is learned
    # New rows: a weekend day, a weekday, an empty cell filled with the training mean.
    (tmp_path / "new.csv").write_text("signup,plan,spend\n16/03/2024,a,0.1\n13/03/2024,b,0.2\n,a,0\n")
    result = run_cli("predict", "r", "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[:3] == ["prediction", "yes", "no"]  # a Saturday, a Wednesday
    assert len(result.stdout.split()) == 4
    assert "filled 1 empty cell with the training split's means" in result.output
    assert "far outside the years" not in result.output
    # Dates years past the training ones (2023 to 2024): the year's trend is extrapolated, and said.
    (tmp_path / "later.csv").write_text("signup,plan,spend\n16/03/2030,a,0.1\n13/03/2031,b,0.2\n13/03/2024,a,0\n")
    result = run_cli("predict", "r", "later.csv", "-o", "-")
    assert result.exit_code == 0 and "note: 2 of 3 dates in 'signup' lie far outside the years training saw (2023 " \
        "to 2024), e.g. '16/03/2030' at line 2: the model's trend over 'signup:year' is extrapolated there, and says " \
        "little" in " ".join(result.output.split()), result.output
    # Cells that are no date as training read them: all told at once, with the way they are read.
    (tmp_path / "bad.csv").write_text("signup,plan,spend\n31/02/2024,a,0.1\n2024-03-13,b,0.2\n03/13/2024,a,0\n")
    result = run_cli("predict", "r", "bad.csv", "-o", "-")
    assert result.exit_code == 2
    assert "not a date (2 cells):\n    line 2, column 'signup': '31/02/2024'\n    line 4, column 'signup': " \
           "'03/13/2024'\n    hint: 'signup' holds dates written day first (15/03/2024, 15.03.2024), as training " \
           "read them; fix these cells (a day and a month that exist)" in result.output


def test_date_settings_are_checked_with_the_other_columns(run_cli, tmp_path):
    (tmp_path / "s.csv").write_text(_signups(rows=40))
    (tmp_path / "c.yaml").write_text(CONFIG.format(dates="{signup: '%d/%m'}", more=""))
    result = run_cli("validate", "c.yaml")
    assert result.exit_code == 2 and "the format '%d/%m' has no year" in result.output
    (tmp_path / "c.yaml").write_text(CONFIG.format(dates="[signup, plan, sign_up]", more=", ignore: [spend]"))
    result = run_cli("validate", "c.yaml")
    out = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "data.source.dates.plan: 'plan' is listed in data.source.categorical too" in out
    assert "data.source.dates.sign_up: 'sign_up' is not a column of" in out
    (tmp_path / "c.yaml").write_text(CONFIG.format(dates="[signup, signup]", more=""))
    assert "lists 'signup' twice; name each date column once" in run_cli("validate", "c.yaml").output
    # An empty cell with missing: error is a missing value like any other.
    (tmp_path / "s.csv").write_text(_signups(rows=40, blank=3))
    (tmp_path / "c.yaml").write_text(CONFIG.format(dates="[signup]", more=""))
    result = run_cli("validate", "c.yaml")
    assert result.exit_code == 2 and "missing value (1 cell):\n    line 5, column 'signup'" in result.output


def test_a_table_in_memory_trains_on_its_datetime_columns(tmp_path):
    pd = pytest.importorskip("pandas")
    import nnrun

    rng = np.random.default_rng(1)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60 * 24 * 90, 400), unit="min")
    frame = pd.DataFrame({"when": when, "spend": rng.normal(size=400)})
    night = pd.Series(np.where(when.hour < 6, "night", "day"))
    config = {"name": "times", "seed": 1, "data": {"preprocess": [{"type": "standardize"}]},
              "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"},
                                   {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "optimizer": {"type": "adam", "learning_rate": 0.02},
              "training": {"epochs": 30}, "metrics": ["accuracy"]}
    result = nnrun.train(config, data=(frame, night), run_dir=tmp_path / "r")
    assert result.final["test"]["accuracy"] >= 0.9  # the time of day is learned
    model = nnrun.load(result.run_dir)
    assert model.config.data.source.dates == {"when": "auto"}
    rows = pd.DataFrame({"when": pd.to_datetime(["2024-05-01 03:10", "2024-05-01 15:00"]), "spend": [0.0, 0.0]})
    assert model.predict(rows).predictions.tolist() == ["night", "day"]


def test_serve_takes_dates_as_text_and_refuses_what_is_no_date(tmp_path, run_cli):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from nnrun.commands.serve import ServedModel, create_app

    (tmp_path / "s.csv").write_text(_signups(rows=120))
    (tmp_path / "c.yaml").write_text(CONFIG.format(dates="[signup]", more=", missing: mean"))
    assert run_cli("train", "c.yaml", "--run-dir", "r", "--quiet", "--set", "training.epochs=2").exit_code == 0
    client = TestClient(create_app(ServedModel.load(tmp_path / "r")))
    column = next(c for c in client.get("/metadata").json()["columns"] if c["name"] == "signup")
    assert column["type"] == "date" and column["format"] == "dmy" and column["time"] is False
    good = client.post("/predict", json={"instances": [{"signup": "16/03/2024", "plan": "a", "spend": 0.1},
                                                       {"signup": None, "plan": "b", "spend": 0.1}]})
    assert good.status_code == 200 and len(good.json()["predictions"]) == 2
    later = client.post("/predict", json={"instances": [{"signup": "16/03/2030", "plan": "a", "spend": 0.1}]}).json()
    assert any("lie far outside the years training saw" in note for note in later["notes"])  # as predict says it
    bad = client.post("/predict", json={"instances": [{"signup": "2024-02-30", "plan": "a", "spend": 0.1}]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["msg"] == "instance 0, field 'signup': '2024-02-30' is not a date written day " \
                                             "first (15/03/2024, 15.03.2024), as training read them"


def test_a_damaged_date_column_in_preprocess_json_is_named(run_cli, tmp_path):
    (tmp_path / "s.csv").write_text(_signups(rows=60))
    (tmp_path / "c.yaml").write_text(CONFIG.format(dates="[signup]", more=""))
    assert run_cli("train", "c.yaml", "--run-dir", "r", "--quiet", "--set", "training.epochs=1").exit_code == 0
    path = tmp_path / "r" / "preprocess.json"
    saved = json.loads(path.read_text())
    saved["columns"]["columns"][0]["format"] = "whenever"
    path.write_text(json.dumps(saved))
    result = run_cli("evaluate", "r")
    assert result.exit_code == 2
    assert "preprocess.json: damaged: the date column 'signup' has no format it can be read by ('whenever')" \
        in result.output


def test_init_writes_dates_and_says_when_the_order_is_a_guess(run_cli, tmp_path):
    lines = ["when,x,y"] + [f"{1 + i % 12:02d}/{1 + i * 7 % 12:02d}/2024,{i % 5},{'ab'[i % 2]}" for i in range(60)]
    (tmp_path / "amb.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "amb.csv", "--target", "y", "-o", "amb.yaml")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "amb.yaml").read_text()
    assert "    dates: {when: mdy} " in text
    assert "    # when: mdy is a guess: 'when' writes dates such as '01/01/2024', which read day first or month " \
           "first alike, and no training cell tells which (no day over 12); check it" in text
    # On the terminal too, where a user who reads only what init prints sees it.
    assert "note: the dates in 'when' read day first or month first alike (no day above 12): they are read month " \
           "first (mdy), a guess; check data.source.dates in amb.yaml" in " ".join(result.output.split())
    assert run_cli("validate", "amb.yaml").exit_code == 0
