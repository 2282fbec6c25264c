"""A messy CSV file as a user brings it, through validate, train and predict: every
bad cell at once, number formats, ID and extra columns, unseen categories, warnings.
The files are generated here; none is kept in the repository."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import nnrun
from nnrun.data.cells import markers, numbers_or_none
from nnrun.data.csvfile import read_columns
from nnrun.data.csvheader import read_header
from nnrun.data.problems import DataProblems
from nnrun.errors import UserError
from conftest import run_python


def people(rows: int = 60, income=lambda i: f'"{10_000 + 997 * i:,}"', extra: dict | None = None) -> list[str]:
    """customer_id, age, income (with thousands separators), city, plan (the label)."""
    lines = ["customer_id,age,income,city,plan"]
    for i in range(rows):
        city = ("Paris", "Lyon", "Nice")[i % 3]
        plan = ("basic", "plus")[(i * 7 // 3) % 2]
        lines.append(f"C{1000 + i},{20 + i % 40},{income(i)},{city},{plan}")
    for line, text in (extra or {}).items():
        lines[line - 1] = text
    return lines


def config(tmp_path: Path, lines: list[str], source: str = "", split: str = "{validation: 0.2, test: 0.2}",
           loss: str = "categorical_crossentropy", units: int = 2) -> Path:
    (tmp_path / "people.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "people.yaml"
    activation = "softmax" if units > 1 else "linear"
    path.write_text(
        "name: people\nseed: 1\n"
        f"data:\n  source: {{type: csv, path: people.csv, target: plan{source}}}\n  split: {split}\n"
        "  preprocess: [standardize]\n"
        f"model:\n  layers:\n    - {{type: dense, units: {units}, activation: {activation}}}\n"
        f"loss: {loss}\ntraining: {{epochs: 2}}\n"
    )
    return path


TIDY = ", id: customer_id, categorical: [city], thousands: ','"


def small_classifier(tmp_path: Path, lines: list[str], classes: int, source: str = "") -> Path:
    """d.csv from ``lines`` (target: label) and d.yaml, one softmax layer over it."""
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "d.yaml"
    path.write_text(f"name: d\ndata:\n  source: {{type: csv, path: d.csv, target: label{source}}}\n"
                    f"model:\n  layers: [{{type: dense, units: {classes}, activation: softmax}}]\n"
                    "loss: categorical_crossentropy\n")
    return path


def test_every_bad_cell_is_reported_at_once_with_a_hint_that_fits(run_cli, tmp_path):
    lines = people(extra={3: "C1001,n/a,\"12,000\",Lyon,plus", 5: "C1003,44,abc,Paris,basic",
                          6: "C1004,31,\"5,000\",,basic", 8: "C1006,31,100,Paris"})
    result = run_cli("validate", config(tmp_path, lines, ", categorical: [city]"))
    assert result.exit_code == 2
    out = result.output
    assert "people.csv: 121 problems in the data" in out
    assert "rows with the wrong number of cells (1):\n    line 8: 4 cells, but the header has 5 columns" in out
    assert "not a number (" in out and "line 2, column 'customer_id': 'C1000'" in out
    assert "line 2, column 'income': '10,000'" in out
    assert "... and " in out  # first few cells of each kind, then a count of the rest
    assert "'income' holds numbers with a thousands separator; set data.source.thousands: \",\" (and fix" in out
    assert "'customer_id' holds a different text in every row, like an ID; name it in data.source.id" in out
    assert "categorical" not in out.split("not a number")[1].split("missing value")[0]  # no ID or number is a category
    assert "missing value (2 cells):\n    line 3, column 'age'\n    line 6, column 'city'" in out


def _validated(run_cli, tmp_path, header: str, rows: list[str], source: str = ""):
    """`nnrun validate` of a two-class config on a CSV of ``header`` and ``rows``."""
    (tmp_path / "d.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    path = tmp_path / "c.yaml"
    path.write_text(f"name: d\ndata:\n  source: {{type: csv, path: d.csv, target: label{source}}}\n"
                    "model:\n  layers: [{type: dense, units: 2, activation: softmax}]\nloss: categorical_crossentropy\n")
    return run_cli("validate", path)


def test_a_column_of_dates_is_pointed_to_data_source_dates(run_cli, tmp_path):
    # Dates that repeat once read as categories to list, or as cells to fix.
    rows = [f"2024-01-{1 + i % 9:02d},{i * 1.5},{'ab'[i % 2]}" for i in range(40)]
    result = _validated(run_cli, tmp_path, "sold,size,label", rows)
    assert result.exit_code == 2
    assert "hint: 'sold' holds dates (like '2024-01-01'); name it in data.source.dates: [sold] to learn from its " \
           "year, place in the year and weekday (and time of day), or leave it out with data.source.ignore" \
        in " ".join(result.output.split())


def test_a_column_of_sentences_is_pointed_to_data_source_text(run_cli, tmp_path):
    words = "the phone was very good bad awful great screen battery died quickly".split()
    rows = [f"{i},{' '.join(words[(i + j) % len(words)] for j in range(4 + i % 5))},{'ab'[i % 2]}" for i in range(40)]
    result = _validated(run_cli, tmp_path, "id,review,label", rows, ", id: [id]")
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "hint: 'review' holds free text (like '" in out
    assert "name it in data.source.text: {column: review}, the model's input for an embedding layer" in out
    assert "like an ID" not in out  # a different text in every row, but sentences


def test_bad_cells_of_one_line_are_listed_in_the_files_column_order(tmp_path):
    lines = ["price,fee,rate,ratio"] + [f"{i},{i},{i},{i}" for i in range(20)]
    lines[1], lines[3] = "x,y,z,w", "1,a,2,b"
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    problems = DataProblems("t.csv")
    read_columns(tmp_path / "t.csv", read_header(tmp_path / "t.csv"), ["price", "fee", "rate", "ratio"], [], problems)
    assert "line 2, column 'price': 'x'\n    line 2, column 'fee': 'y'\n    line 2, column 'rate': 'z'\n" \
           "    line 2, column 'ratio': 'w'\n    line 4, column 'fee': 'a'\n" in problems.render()


def test_a_lines_missing_cells_follow_the_file_order_across_text_and_number_columns(run_cli, tmp_path):
    lines = ["city,age,label", "Paris,1,a", ",,b", "Nice,x,a"] + [f"{c},{i},{'ab'[i % 2]}" for i in range(20)
                                                                    for c in ("Lyon",)]
    result = run_cli("validate", small_classifier(tmp_path, lines, classes=2, source=", categorical: [city]"))
    assert result.exit_code == 2
    # 'age' is reported first by the number reader, yet 'city' comes first in the file
    assert "missing value (2 cells):\n    line 3, column 'city'\n    line 3, column 'age'" in result.output


@pytest.mark.parametrize("kind", ["number", "category"])
def test_a_column_with_no_value_in_the_training_rows_is_not_hinted_to_the_fill_already_set(run_cli, tmp_path, kind):
    """missing: mean takes its value from the training rows; a column they hold no value
    of (its few values fell in held-out rows, or it has none) has nothing to fill with."""
    lines = ["a,empty,label"] + [f"{i},,{'ab'[i % 2]}" for i in range(30)]
    source = ", missing: mean" + (", categorical: [empty]" if kind == "category" else "")
    result = run_cli("train", small_classifier(tmp_path, lines, classes=2, source=source))
    assert result.exit_code == 2, result.output
    assert "hint: 'empty' has no value in the training rows, so missing: mean has nothing to fill it with; add it " \
           "to data.source.ignore, or fill the column in" in " ".join(result.output.split())
    assert "set to mean or most_frequent" not in result.output


def test_a_regression_target_is_never_hinted_into_the_features(run_cli, tmp_path):
    # Class labels under a regression loss: a classification loss, not data.source.categorical.
    result = run_cli("validate", config(tmp_path, people(), TIDY, loss="mse", units=1))
    assert result.exit_code == 2
    assert "hint: 'plan', the target, holds words like 'basic' (2 distinct): class labels, not numbers to " \
           "regress; for a classification use a loss such as categorical_crossentropy" in result.output
    assert "data.source.categorical" not in result.output
    # A stray word in a number target: fix it (the target cannot be left out).
    lines = people(extra={4: 'C1002,22,"12,000",Nice,n/d'})
    lines = [lines[0].replace("plan", "score")] + [line.rsplit(",", 1)[0] + f",{i % 7}" if i != 3 else line
                                                   for i, line in enumerate(lines[1:], start=1)]
    path = config(tmp_path, lines, TIDY, loss="mse", units=1)
    path.write_text(path.read_text().replace("target: plan", "target: score"))
    result = run_cli("validate", path)
    assert result.exit_code == 2
    assert "line 4, column 'score': 'n/d'\n    hint: 'score' is the target, which a regression needs as a number " \
           "in every row; fix these cells" in result.output


def test_a_column_of_words_gets_the_categorical_hint(tmp_path):
    lines = ["size,colour"] + [f"{i},{('red', 'green', 'blue')[i % 3]}" for i in range(40)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    problems = DataProblems("t.csv")
    read_columns(tmp_path / "t.csv", read_header(tmp_path / "t.csv"), ["size", "colour"], [], problems)
    assert "'colour' looks like categories (3 distinct values); list it under data.source.categorical" \
        in problems.render()


def test_thousands_separators_and_spaces_read_as_numbers(tmp_path):
    (tmp_path / "t.csv").write_text('a,b\n" 53,697 ",1\n"1,204,000.5", 2 \n,3\n')
    problems = DataProblems("t.csv")
    columns = read_columns(tmp_path / "t.csv", ["a", "b"], ["a", "b"], [], problems, thousands=",")
    assert not problems
    np.testing.assert_array_equal(columns.number("a")[:2], np.float32([53697, 1204000.5]))
    assert np.isnan(columns.number("a")[2]) and columns.numbers.dtype == np.float32
    np.testing.assert_array_equal(columns.lines, [2, 3, 4])


def test_negatives_in_parentheses_or_with_a_trailing_minus_read_as_negatives(tmp_path):
    # Excel's accounting format and SAP's exports; a cell that is no number then is still a bad one.
    (tmp_path / "t.csv").write_text('a,b\n"(1,234.50)",(5)\n"1,234.50-",5-\n" ( 7 ) ",-\n"(x)",3\n')
    problems = DataProblems("t.csv")
    columns = read_columns(tmp_path / "t.csv", ["a", "b"], ["a", "b"], [], problems, thousands=",")
    np.testing.assert_array_equal(columns.number("a")[:3], np.float32([-1234.5, -1234.5, -7]))
    np.testing.assert_array_equal(columns.number("b")[[0, 1, 3]], np.float32([-5, -5, 3]))
    assert "line 5, column 'a': '(x)'" in problems.render()  # shown as written
    assert numbers_or_none(["($2,066.93)", "$5"], thousands=",", signs=("$",)) == [pytest.approx(-2066.93), 5.0]


def _read(tmp_path: Path, text: str, thousands: str | None = None):
    (tmp_path / "t.csv").write_text(text)
    problems = DataProblems("t.csv")
    header = read_header(tmp_path / "t.csv")
    columns = read_columns(tmp_path / "t.csv", header, header, [], problems, thousands=thousands)
    return columns, problems.render() if problems else ""


def test_a_declared_separator_is_read_only_between_groups_of_three_digits(tmp_path):
    # Before, the separator was dropped wherever it stood: '852,10' (a decimal comma) became 85210.
    good = ['"1,234"', '"-3,456.5"', '" 53,697 "', "12", "0.5", "NA"]
    bad = ['"852,10"', '"1,2,3"', '",5"', '"5,"', '"1,,0"', '"1,000,00"']
    columns, report = _read(tmp_path, "a\n" + "\n".join(good + bad) + "\n", thousands=",")
    np.testing.assert_array_equal(columns.number("a")[:5], np.float32([1234, -3456.5, 53697, 12, 0.5]))
    assert np.isnan(columns.number("a")[5])
    assert "not a number (6 cells):\n    line 8, column 'a': '852,10'\n    line 9, column 'a': '1,2,3'" in report
    assert "... and 1 more" in report
    assert "'a' holds numbers like '852,10' that data.source.thousands: \",\" does not fit" in report


def test_a_point_as_separator_makes_decimals_elsewhere_bad_cells_not_larger_numbers(tmp_path):
    # thousands: "." is right for 'a' (nnrun's own hint says so) but holds for every column:
    # 'b' used to be read as 5, 25, 75 instead of 0.5, 0.25, 0.75.
    rows = [("1.234.567", "0.5"), ("2.000", "0.25"), ("3", "0.75")]
    _, hint = _read(tmp_path, "a,b\n" + "\n".join(f"{a},{b}" for a, b in rows) + "\n")
    assert "'a' holds numbers with a thousands separator; set data.source.thousands: \".\"" in hint
    columns, report = _read(tmp_path, "a,b\n" + "\n".join(f"{a},{b}" for a, b in rows) + "\n", thousands=".")
    np.testing.assert_array_equal(columns.number("a"), np.float32([1234567, 2000, 3]))
    assert "not a number (3 cells):\n    line 2, column 'b': '0.5'" in report
    assert 'and with "." a number has no decimal point' in report


@pytest.mark.parametrize("cells, hint", [
    (["$85,210", "$1,204", "$99"], "'a' holds numbers written with signs (like '$85,210'); set "
                                   'data.source.strip_signs: ["$"], and data.source.thousands: "," to read them as '
                                   "numbers"),
    (["12.5 %", "USD 3", "-4%"], "'a' holds numbers written with signs (like '12.5 %'); set data.source.strip_signs: "
                                 '["%", "USD"] to read them as numbers'),
    (["852,10", "12,5", "7,25"], "'a' holds numbers with a decimal comma (like '852,10'); set data.source.decimal: "
                                 "\",\""),
    ([f"S{i % 30:02d}" for i in range(600)], "'a' looks like categories (30 distinct values); list it under "
                                             "data.source.categorical"),
    ([f"C{i}" for i in range(197)] + ["C1", "C2", "C3"], "'a' holds a different text in nearly every row, like an "
                                                         "ID; name it in data.source.id"),
])
def test_the_hint_for_text_in_a_number_column_fits_the_text(tmp_path, cells, hint):
    _, report = _read(tmp_path, "a\n" + "\n".join(f'"{c}"' for c in cells) + "\n")
    assert hint in report and report.count("hint:") == 1


def test_what_spreadsheets_pandas_and_r_write_for_a_gap_is_missing_and_a_dash_is_hinted(tmp_path):
    # '#N/A' (a spreadsheet) and '<NA>' (pandas) used to be bad cells of their own.
    (tmp_path / "t.csv").write_text("a,b\n1,none\n#N/A,#n/a\n<NA>,light\n 2 ,<na>\n")
    problems = DataProblems("t.csv")
    columns = read_columns(tmp_path / "t.csv", ["a", "b"], ["a"], ["b"], problems)
    assert not problems
    np.testing.assert_array_equal(np.isnan(columns.number("a")), [False, True, True, False])
    assert columns.text("b").tolist() == ["none", "", "light", ""]  # 'none' is a category's name
    _, report = _read(tmp_path, "a\n" + "\n".join(["1.5", "-", "2", "--", "3", "4"]) + "\n")
    assert "'-', '--' look like a mark for a missing value; to read them so, set data.source.missing_values: " \
           '["-", "--"] (data.source.missing: mean or most_frequent then fills such cells)' in report
    # Told so, they are missing cells, in number and text columns alike, in any case, padded or not.
    (tmp_path / "m.csv").write_text("a,b\n1,-\n - ,k.A.\n-999,x\nNone,K.a.\n7,none\n")
    problems = DataProblems("m.csv")
    columns = read_columns(tmp_path / "m.csv", ["a", "b"], ["a"], ["b"], problems,
                           missing=markers(["-", "none", "k.a.", "-999"]))
    assert not problems
    np.testing.assert_array_equal(np.isnan(columns.number("a")), [False, True, True, True, False])
    assert columns.text("b").tolist() == ["", "", "x", "", ""]


def test_a_file_of_bad_cells_is_read_without_loading_pandas(tmp_path):
    # pyarrow imports pandas, when installed, the first time a Python value becomes an
    # arrow one: 0.3-0.5 s for a file whose cells are read as text.
    pytest.importorskip("pandas")
    (tmp_path / "t.csv").write_text('a,b\n"1,234",x\n"5,678",2\n')
    code = ("import sys; from nnrun.data.csvfile import read_columns; from nnrun.data.problems import DataProblems; "
            f"p = DataProblems('t'); read_columns(__import__('pathlib').Path({str(tmp_path / 't.csv')!r}), ['a', 'b'], "
            "['a', 'b'], [], p, thousands=','); assert p; print('pandas' in sys.modules)")
    out = run_python(code, check=True)
    assert out.stdout.strip() == "False"


def test_numbers_read_as_text_are_the_same_float32_as_read_typed(tmp_path):
    # A bad cell anywhere, or a declared separator, sends every number column down the
    # text path: the values must not depend on which path read them.
    rng = np.random.default_rng(0)
    values = rng.normal(size=3000) * 10.0 ** rng.integers(-8, 9, 3000)
    formats = ["{:.9g}", "{:.3f}", "{:e}", "{:+.5g}", " {:.2f} ", "{:.17g}"]
    cells = [formats[i % len(formats)].format(v) for i, v in enumerate(values)] + [".5", "5.", "-0", "NA", "1e-45"]
    text = "a,b\n" + "\n".join(f"{c},1" for c in cells) + "\n"
    typed, report = _read(tmp_path, text)
    assert not report
    as_text, report = _read(tmp_path, text.replace("\n.5,1\n", "\n.5,x\n"))
    assert "not a number (1 cell)" in report
    np.testing.assert_array_equal(as_text.number("a").view(np.uint32), typed.number("a").view(np.uint32))


def test_infinite_cells_are_bad_cells_on_either_path(tmp_path):
    text = "a,b\n1,2\ninf,3\n4,1e39\n5,-Infinity\n"
    for file in (text, text + "6,x\n"):  # typed, and read as text for the bad cell
        columns, report = _read(tmp_path, file)
        assert "not a finite number (3 cells):\n    line 3, column 'a'" in report
        assert "line 4, column 'b'" in report and "line 5, column 'b'" in report
        # Quoted as the file writes them, so a search of the file finds them ('1e39', not 'inf').
        assert "line 4, column 'b': '1e39'" in report and "line 5, column 'b': '-Infinity'" in report
        assert np.isfinite(columns.numbers).all()


def test_rows_for_a_trained_model_read_its_separator_and_survive_odd_text():
    from nnrun.data.table import build_table

    table = build_table("request", ["income"], [["26,643"], ["1,000"]], ["income"], [], [0, 1], thousands=",")
    np.testing.assert_array_equal(table.numeric[:, 0], np.float32([26643, 1000]))
    with pytest.raises(UserError) as error:  # a lone surrogate (JSON allows one) is a bad cell, not a crash
        build_table("request", ["a"], [["1\ud800"]], ["a"], [], [0])
    assert "line 0, column 'a': '1?'" in str(error.value) and "the model reads numbers in 'a'" in str(error.value)


def test_empty_cells_predict_fills_are_noted_by_column(run_cli, tmp_path):
    # An export that left a column empty is predicted from training's means: said, not silent.
    path = config(tmp_path, people(), TIDY + ", missing: mean")
    assert run_cli("train", path, "--quiet", "--run-dir", "run").exit_code == 0
    new = ["customer_id,age,income,city", "X1,30,,", "X2,,,Lyon", "X3,41,,Paris"]
    (tmp_path / "new.csv").write_text("\n".join(new) + "\n")
    result = run_cli("predict", "run", "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert ("note: filled 5 empty cells with the training split's means (the most frequent category for a category), "
            "as data.source.missing: mean says: 1 in 'age', 3 in 'income' (every row), 1 in 'city'") in " ".join(
                result.output.split())
    (note,) = nnrun.load(tmp_path / "run").predict({"customer_id": ["X1"], "age": [30], "income": [None],
                                                     "city": ["Paris"]}).notes
    assert note.startswith("filled 1 empty cell with the training split's means") and note.endswith("1 in 'income'")
    (tmp_path / "full.csv").write_text("customer_id,age,income,city\nX1,30,\"45,000\",Paris\n")
    assert "filled" not in run_cli("predict", "run", "full.csv", "-o", "-").output


def test_messy_file_trains_and_predict_keeps_the_ids(run_cli, tmp_path):
    path = config(tmp_path, people(), TIDY)
    result = run_cli("train", path, "--quiet", "--run-dir", "run")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "preprocess.json").read_text())
    assert saved["columns"]["ids"] == ["customer_id"] and "customer_id" not in saved["feature_names"]
    new = ["customer_id,age,income,city,note", 'X1,30.123456789,"1,234,567.891",Paris,call back',
           'X2,41,"12,500",Lyon,']
    (tmp_path / "new.csv").write_text("\n".join(new) + "\n")
    result = run_cli("predict", "run", "new.csv", "-o", "out.csv", "--keep", "age", "--keep", "income")
    assert result.exit_code == 0, result.output
    assert "note: ignored 1 column the model was not trained on: 'note'" in result.output
    with open(tmp_path / "out.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["customer_id", "age", "income", "prediction"]
    # Number columns copied as the file writes them, not as read (1.23457e+06, 30.1235)
    assert [(r["customer_id"], r["age"], r["income"]) for r in rows] == [("X1", "30.123456789", "1,234,567.891"),
                                                                         ("X2", "41", "12,500")]
    assert {r["prediction"] for r in rows} <= {"basic", "plus"}


def test_an_unnamed_index_column_as_pandas_writes_it_is_an_id_copied_without_a_note(run_cli, tmp_path):
    lines = [",size,label", *[f"{i},{i % 7},{'ab'[i % 2]}" for i in range(30)]]  # df.to_csv() with its index
    (tmp_path / "indexed.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "indexed.yaml").write_text(
        "name: indexed\ndata:\n  source: {type: csv, path: indexed.csv, target: label, id: ['']}\n"
        "model:\n  layers: [{type: dense, units: 2, activation: softmax}]\nloss: categorical_crossentropy\n"
        "training: {epochs: 1}\n")
    assert run_cli("train", tmp_path / "indexed.yaml", "--quiet", "--run-dir", "run").exit_code == 0
    (tmp_path / "new.csv").write_text(",size\n7,1\n8,2\n")
    result = run_cli("predict", "run", "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert "ignored" not in result.output
    assert result.output.splitlines()[:2] == [",prediction", f"7,{result.output.splitlines()[1].split(',')[1]}"]


def test_evaluate_data_accepts_the_id_column_and_says_which_columns_it_left_out(run_cli, tmp_path):
    run_cli("train", config(tmp_path, people(), TIDY), "--quiet", "--run-dir", "run")
    labelled = [line + ",x" for line in people(rows=12)]
    labelled[0] = labelled[0][:-2] + ",source"
    (tmp_path / "labelled.csv").write_text("\n".join(labelled) + "\n")
    result = run_cli("evaluate", "run", "--data", "labelled.csv")
    assert result.exit_code == 0, result.output
    assert "labelled.csv, 12 samples" in result.output
    assert "note: ignored 1 column the model was not trained on: 'source'" in result.output
    report = json.loads((tmp_path / "run" / "eval-labelled.json").read_text())
    assert report["notes"] == ["ignored 1 column the model was not trained on: 'source'"]


def test_evaluate_data_reports_every_bad_target_and_feature_cell_at_once(run_cli, tmp_path):
    run_cli("train", config(tmp_path, people(), TIDY), "--quiet", "--run-dir", "run")
    labelled = people(rows=20, extra={4: 'C1002,22,"12,000",Nice,gold', 5: 'C1003,23,"12,000",Nice,silver',
                                      6: 'C1004,24,"12,000",Nice,', 9: 'C1007,abc,"12,000",Nice,basic'})
    (tmp_path / "labelled.csv").write_text("\n".join(labelled) + "\n")
    result = run_cli("evaluate", "run", "--data", "labelled.csv")
    assert result.exit_code == 2
    out = result.output
    assert "labelled.csv: 4 bad cells in the data" in out
    assert "missing target (1 cell):\n    line 6, column 'plan'" in out
    assert "unknown class (2 cells):\n    line 4, column 'plan': 'gold'\n    line 5, column 'plan': 'silver'" in out
    assert "hint: the model knows 2 classes: basic, plus" in out
    assert "not a number (1 cell):\n    line 9, column 'age': 'abc'\n    hint: the model reads numbers in 'age'; " \
        "fix these cells" in out
    assert "data.source" not in out.split("not a number")[1]  # no setting helps a trained model
    # A class written another way is told as that, before the classes the model knows.
    (tmp_path / "cased.csv").write_text("\n".join(people(rows=20, extra={4: 'C1002,22,"12,000",Nice,Plus '})) + "\n")
    result = run_cli("evaluate", "run", "--data", "cased.csv")
    assert result.exit_code == 2 and "hint: 'Plus' is the class 'plus' written another way (case or spaces): write " \
        "the labels as training did; the model knows 2 classes: basic, plus" in " ".join(result.output.split())


def test_evaluate_data_reads_a_regression_target_as_training_did(run_cli, tmp_path):
    rows = ["size,price"] + [f'{50 + i},"{100_000 + 1_234 * i:,}"' for i in range(40)]
    (tmp_path / "houses.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "houses.yaml").write_text(
        "name: houses\ndata:\n  source: {type: csv, path: houses.csv, target: price, thousands: ','}\n"
        "model:\n  layers: [{type: dense, units: 1}]\nloss: mse\ntraining: {epochs: 2}\n")
    assert run_cli("train", tmp_path / "houses.yaml", "--quiet", "--run-dir", "run").exit_code == 0
    result = run_cli("evaluate", "run", "--data", "houses.csv")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "run" / "eval-houses.json").read_text())["samples"] == 40
    (tmp_path / "bad.csv").write_text("\n".join(rows[:3] + ["53,", '54,"1,2,3"', "55,inf"]) + "\n")
    result = run_cli("evaluate", "run", "--data", "bad.csv")
    assert result.exit_code == 2
    assert "missing target (1 cell):\n    line 4, column 'price'" in result.output
    assert "not a number (1 cell):\n    line 5, column 'price': '1,2,3'" in result.output
    (tmp_path / "word.csv").write_text("size,price\n50,abc\n")  # the targets, not an input of the model
    assert "hint: the run scores its targets in 'price' as numbers; fix these cells" in \
        run_cli("evaluate", "run", "--data", "word.csv").output
    assert "not a finite number (1 cell):\n    line 6, column 'price': 'inf'" in result.output
    (tmp_path / "inf.csv").write_text("size,price\n50,1e39\n51,-inf\n")  # no other bad cell
    result = run_cli("evaluate", "run", "--data", "inf.csv")
    assert result.exit_code == 2
    assert "not a finite number (2 cells):\n    line 2, column 'price': '1e39'\n    line 3, column 'price': '-inf'" \
        in result.output


def test_predict_keep_names_a_missing_column(run_cli, tmp_path):
    run_cli("train", config(tmp_path, people(), TIDY), "--quiet", "--run-dir", "run")
    (tmp_path / "new.csv").write_text('age,income,city\n30,"1,000",Paris\n')
    result = run_cli("predict", "run", "new.csv", "--keep", "customer_idd")
    assert result.exit_code == 2 and "no column 'customer_idd' to keep" in result.output


def test_predict_keep_refuses_a_column_named_like_an_output_column(run_cli, tmp_path):
    run_cli("train", config(tmp_path, people(), TIDY), "--quiet", "--run-dir", "run")
    (tmp_path / "new.csv").write_text('age,income,city,prediction\n30,"1,000",Paris,zz\n')
    result = run_cli("predict", "run", "new.csv", "--keep", "prediction", "-o", "out.csv")
    assert result.exit_code == 2
    assert "new.csv: the column 'prediction' has the name of a column the predictions are written in " \
           "(prediction), so the output would hold it twice" in result.output
    assert "leave it out of --keep" in result.output and not (tmp_path / "out.csv").exists()


def test_the_target_id_and_ignored_columns_are_named_once_each(run_cli, tmp_path):
    source = ", id: [customer_id, plan], ignore: [customer_id, plan], categorical: [city], thousands: ','"
    result = run_cli("validate", config(tmp_path, people(), source))
    assert result.exit_code == 2
    out = result.output
    assert "3 problems in the config" in out
    assert "data.source.id: lists 'plan', the target; the target is never a feature, leave it out here" in out
    assert "data.source.ignore: lists 'plan', the target" in out
    assert "data.source.ignore: lists 'customer_id', an id column already (data.source.id)" in out
    # Features listing the target, an id and an ignored column, and a categorical column
    # that is no feature: every one at once, each at its item.
    source = (", features: [age, plan, customer_id, city], id: [customer_id], ignore: [city], categorical: [income],"
              " thousands: ','")
    out = run_cli("validate", config(tmp_path, people(), source)).output
    assert "4 problems in the config" in out
    assert "data.source.features.1: lists 'plan', the target; the target is never a feature" in out
    assert "data.source.features.2: lists 'customer_id', an id column (data.source.id), which is copied into " \
           "predictions, never learned" in out
    assert "data.source.features.3: lists 'city', which data.source.ignore leaves out" in out
    assert "data.source.categorical: 'income' is not one of the feature columns" in out
    # id: null is no id column, as thousands: null is no separator
    result = run_cli("validate", config(tmp_path, people(), ", id: null, ignore: [customer_id], categorical: [city], "
                                        "thousands: ','"))
    assert result.exit_code == 0, result.output


def test_a_declared_separator_that_does_not_fit_gets_the_one_that_does(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n" + "".join(f'"{1000 + i:,}",{i}\n' for i in range(20)))
    problems = DataProblems("t.csv")
    read_columns(tmp_path / "t.csv", read_header(tmp_path / "t.csv"), ["a", "b"], [], problems, thousands=".")
    assert "'a' holds numbers with a thousands separator; set data.source.thousands: \",\" instead of \".\"" \
        in problems.render()


@pytest.mark.parametrize("unknown", ["error", "ignore"])
def test_unseen_categories_at_predict_time(run_cli, tmp_path, unknown):
    run_cli("train", config(tmp_path, people(), TIDY + f", unknown: {unknown}"), "--quiet", "--run-dir", "run")
    new = ["age,income,city", '30,"1,000",Paris', '31,"1,000",Rome', '32,"1,000",Oslo', '33,"1,000",Rome']
    (tmp_path / "new.csv").write_text("\n".join(new) + "\n")
    result = run_cli("predict", "run", "new.csv", "-o", "out.csv")
    if unknown == "error":
        assert result.exit_code == 2
        assert "unknown category (3 cells):\n    line 3, column 'city': 'Rome'\n    line 4, column 'city': 'Oslo'" \
            in result.output
        assert "train with data.source.unknown: ignore (nnrun predict and evaluate --data also take --unknown ignore " \
            "for one file, and a loaded model's predict and evaluate unknown=\"ignore\")" \
            in " ".join(result.output.split())
        # From Python, the hint names Python's keyword, not a command-line option reworded into neither.
        labelled = people()[0] + "\n" + people()[1].replace("Paris", "Rome") + "\n"
        (tmp_path / "labelled.csv").write_text(labelled)
        with pytest.raises(UserError) as told:
            nnrun.evaluate(tmp_path / "run", data=tmp_path / "labelled.csv")
        said = " ".join(told.value.render().split())
        assert "nnrun.evaluate and a loaded model's predict and evaluate also take unknown=\"ignore\" for one " \
            "call" in said and "unknown ignore" not in said
        # Asked for at predict time: all zeros for this file, said as a run with ignore says it.
        result = run_cli("predict", "run", "new.csv", "-o", "out.csv", "--unknown", "ignore")
        assert result.exit_code == 0, result.output
        assert "note: 3 cells held categories training never saw, encoded as all zeros: 'city' 'Oslo' (1), " \
               "'Rome' (2)" in result.output
        assert (tmp_path / "out.csv").read_text().count("\n") == 5
        # The same choice in Python, for rows in memory.
        rows = {"age": [30, 31], "income": [1000, 1000], "city": ["Paris", "Rome"]}
        with pytest.raises(UserError, match="unknown category"):
            nnrun.load(tmp_path / "run").predict(rows)
        (note,) = nnrun.load(tmp_path / "run").predict(rows, unknown="ignore").notes
        assert note == "1 cell held categories training never saw, encoded as all zeros: 'city' 'Rome' (1)"
        # Scoring a labelled file or rows takes the same choice.
        (tmp_path / "scored.csv").write_text("\n".join([new[0] + ",plan"] + [f"{row},basic" for row in new[1:]]) + "\n")
        refused = run_cli("evaluate", "run", "--data", "scored.csv")
        assert refused.exit_code == 2 and "unknown category (3 cells)" in refused.output
        scored = run_cli("evaluate", "run", "--data", "scored.csv", "--unknown", "ignore")
        assert scored.exit_code == 0 and "4 samples" in scored.output and "'Rome' (2)" in scored.output, scored.output
        assert "--unknown: says how a file given with --data is read" in run_cli("evaluate", "run", "--unknown",
                                                                                 "ignore").output
        with pytest.raises(UserError, match="unknown category"):
            nnrun.load(tmp_path / "run").evaluate(rows, ["basic", "plus"])
        assert nnrun.load(tmp_path / "run").evaluate(rows, ["basic", "plus"], unknown="ignore").samples == 2
        report = nnrun.evaluate(tmp_path / "run", data=tmp_path / "scored.csv", unknown="ignore", force=True)
        assert report["samples"] == 4
        with pytest.raises(UserError, match="unknown: expected ignore or error, got 'maybe'"):
            nnrun.load(tmp_path / "run").predict(rows, unknown="maybe")
        with pytest.raises(UserError, match="^unknown: expected ignore or error"):  # the argument, not --unknown
            nnrun.evaluate(tmp_path / "run", data=tmp_path / "scored.csv", unknown="maybe")
        run_cli("train", config(tmp_path, people(), ", ignore: [customer_id, city], thousands: \",\""), "--quiet",
                "--run-dir", "numbers")
        with pytest.raises(UserError, match="unknown: is for a run trained on categorical CSV columns; .*numbers has"):
            nnrun.load(tmp_path / "numbers").predict({"age": [30], "income": [1000]}, unknown="ignore")
    else:
        refused = run_cli("predict", "run", "new.csv", "-o", "-", "--unknown", "error")
        assert refused.exit_code == 2 and "unknown category (3 cells)" in refused.output
        wrong = run_cli("predict", "run", "new.csv", "-o", "-", "--unknown", "maybe")
        assert wrong.exit_code == 2 and "error: --unknown: expected ignore or error, got 'maybe'" in wrong.output
        # A CSV run without categorical columns has no unseen category to encode.
        run_cli("train", config(tmp_path, people(), ", ignore: [customer_id, city], thousands: \",\""), "--quiet",
                "--run-dir", "numbers")
        numbers = run_cli("predict", "numbers", "new.csv", "-o", "-", "--unknown", "ignore")
        assert numbers.exit_code == 2 and "--unknown: is for a run trained on categorical CSV columns; numbers has " \
            "none" in numbers.output
        assert result.exit_code == 0, result.output
        assert "note: 3 cells held categories training never saw, encoded as all zeros: 'city' 'Oslo' (1), " \
               "'Rome' (2)" in result.output
        assert (tmp_path / "out.csv").read_text().count("\n") == 5


def test_single_row_class_is_named_and_warned(run_cli, tmp_path):
    lines = people(extra={30: "C1028,48,\"9,000\",Paris,plsu"})
    result = run_cli("validate", config(tmp_path, lines, TIDY, split="{validation: 0.2, test: 0.2, stratify: false}",
                                        units=3))
    assert result.exit_code == 0, result.output
    assert "3 classes: basic, plsu (1 row), plus" in result.output
    assert "warning: " in result.output and "1 class has a single row: 'plsu'" in result.output


def test_classes_that_differ_only_in_case_or_spaces_are_warned_of(run_cli, tmp_path):
    lines = [line.replace(",basic", ",Basic ") if i % 4 == 0 else line for i, line in enumerate(people())]
    result = run_cli("validate", config(tmp_path, lines, TIDY, units=3))
    assert result.exit_code == 0, result.output
    assert "the classes 'Basic' and 'basic' differ only in case or spaces: one class written two ways?" \
        in " ".join(result.output.split())


def test_a_model_sized_for_the_classes_without_the_typo_is_told_which_classes_there_are(run_cli, tmp_path):
    lines = people(extra={30: "C1028,48,\"9,000\",Paris,plsu"})
    result = run_cli("validate", config(tmp_path, lines, TIDY, split="{validation: 0.2, test: 0.2, stratify: false}"))
    assert result.exit_code == 2
    assert "the output has 2 units but the data has 3 classes: basic, plsu (1 row), plus" in result.output


def test_a_target_of_a_single_class_is_one_clear_error(run_cli, tmp_path):
    lines = [line.rsplit(",", 1)[0] + ",plus" if i else line for i, line in enumerate(people())]
    result = run_cli("validate", config(tmp_path, lines, TIDY, split="{validation: 0.2, test: 0.2, stratify: false}"))
    assert result.exit_code == 2
    assert "data.source: the target holds a single class (1 class: plus); a classifier needs at least 2" \
        in result.output


def test_a_category_only_in_a_held_out_split_is_reported_at_training_time(run_cli, tmp_path):
    # The test rows come from their own file, so where 'Bordeaux' lands does not hang on the seed.
    held_out = people(rows=10, extra={4: "C1002,38,\"9,000\",Bordeaux,basic"})
    (tmp_path / "later.csv").write_text("\n".join(held_out) + "\n")
    path = config(tmp_path, people(), TIDY + ", test_path: later.csv", split="{validation: 0.2, test: 0}")
    result = run_cli("train", path, "--quiet", "--run-dir", "run")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "column 'city': 'Bordeaux' (1 row) only in the test split, not in training; encoded as all zeros there" \
        in out


def test_high_cardinality_categorical_is_a_warning(run_cli, tmp_path):
    result = run_cli("validate", config(tmp_path, people(), ", categorical: [city, customer_id], thousands: ','"))
    assert result.exit_code == 0, result.output
    assert "warning: categorical column 'customer_id' has 36 distinct values in 36 training rows" in result.output
    assert "is it an ID (data.source.id) or a number column?" in " ".join(result.output.split())
    # Rates written '23.7%' are numbers to write plainly, not categories.
    from nnrun.data.labels import category_warnings

    (warning,) = category_warnings({"rate": [f"{i / 10}%" for i in range(300)]}, 400)
    assert warning.endswith("its values are numbers with a currency or percent sign (like '0.0%'), so they are "
                            "read as text categories; write them as plain numbers in the file (and take the column "
                            "out of data.source.categorical if it is listed there) to have them read as numbers")
    # Reviews are texts to learn words from, not categories.
    (warning,) = category_warnings({"review": [f"fine fruit, {i} stars" for i in range(300)]}, 400)
    assert warning.endswith("its values read as texts (like 'fine fruit, 0 stars'): data.source.text: {column: "
                            "review} learns from their words, with an embedding first, as the model's only input "
                            "(the other columns leave it)")
    # A quoted text with a line break in it is quoted on one line, not split across the warning.
    (warning,) = category_warnings({"review": [f"fine fruit,\nnew line, {i} stars" for i in range(300)]}, 400)
    assert "(like 'fine fruit, new line, 0 stars')" in warning and "\n" not in warning


def test_float_targets_with_a_regression_loss_are_a_regression(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "xy.npz", x=rng.normal(size=(50, 3)), y=rng.normal(size=50))
    base = ("name: r\ndata:\n  source: {type: npz, path: xy.npz}\n  split: {validation: 0.2, test: 0.2}\n"
            "model:\n  layers:\n    - {type: dense, units: 1}\ntraining: {epochs: 1}\n")
    (tmp_path / "mse.yaml").write_text(base + "loss: mse\n")
    result = run_cli("validate", "mse.yaml")
    assert result.exit_code == 0, result.output
    (tmp_path / "ce.yaml").write_text(base.replace("units: 1", "units: 3, activation: softmax")
                                      + "loss: categorical_crossentropy\n")
    result = run_cli("validate", "ce.yaml")
    assert result.exit_code == 2
    assert "not class labels" in result.output and "data.source.task: regression" in result.output
    assert len(result.output) < 600  # one error, not a list of every float


def test_a_lone_fractional_label_among_whole_numbers_is_called_a_likely_typo(run_cli, tmp_path):
    lines = ["a,b,label"] + [f"{i},{2 * i},{i % 3}" for i in range(200)]
    lines[57] = "56,112,2.5"
    result = run_cli("validate", small_classifier(tmp_path, lines, classes=3))
    assert result.exit_code == 2
    assert "column 'label': the targets are numbers with fractions (4 distinct values, e.g. 2.5 (1 row)), " \
           "not class labels" in result.output
    assert "hint: only 1 of 200 rows holds a fraction: a typo? Fix those labels; for a regression set " \
           "data.source.task: regression" in result.output


def test_fractions_in_every_row_are_no_typo():
    from nnrun.data.base import check_class_numbers

    with pytest.raises(UserError) as error:
        check_class_numbers(np.array([2.5]), "f.csv", np.array([1]))
    assert error.value.message == "f.csv: the targets are numbers with fractions (1 distinct value, e.g. 2.5 (1 row)), " \
                                  "not class labels"
    assert error.value.hint.startswith("for a regression set data.source.task: regression")


@pytest.mark.parametrize("shape", ["one-hot", "column"])
def test_one_hot_and_column_labels_train_a_classifier(run_cli, tmp_path, shape):
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 3
    y = np.eye(3)[labels] if shape == "one-hot" else labels[:, None]
    np.savez(tmp_path / "xy.npz", x=rng.normal(size=(60, 4)) + labels[:, None], y=y)
    (tmp_path / "c.yaml").write_text(
        "name: c\ndata:\n  source: {type: npz, path: xy.npz}\n  split: {validation: 0.2, test: 0.2}\n"
        "model:\n  layers:\n    - {type: dense, units: 3, activation: softmax}\n"
        "loss: categorical_crossentropy\nmetrics: [accuracy]\ntraining: {epochs: 2}\n")
    result = run_cli("train", "c.yaml", "--quiet", "--run-dir", "run")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "run" / "preprocess.json").read_text())["class_names"] == ["0", "1", "2"]


def test_problems_list_the_first_few_and_count_the_rest():
    problems = DataProblems("f.csv")
    problems.add_cells("not a number", "a", np.arange(2, 102), np.array(["x"] * 100))
    text = problems.render()
    assert text.startswith("f.csv: 100 bad cells in the data\n  not a number (100 cells):")
    assert "line 6, column 'a': 'x'\n    ... and 95 more" in text


def test_load_progress_shows_after_a_second(monkeypatch, capsys):
    from nnrun.console import loading

    monkeypatch.setattr(loading, "DELAY", 0.0)
    update = loading._file_progress("big.csv")
    update(1_000_000, 3_000_000)
    update(3_000_000, 3_000_000)
    assert capsys.readouterr().err == "reading big.csv (3.0 MB) ...\n"
    update = loading._file_progress("big.csv", "parsing numbers in")  # the second pass of a file read as text
    update(100_000, 300_000)
    assert capsys.readouterr().err == "parsing numbers in big.csv (300,000 rows) ...\n"


def test_reading_csv_is_lazy_and_the_bundled_data_never_loads_pyarrow(tmp_path):
    code = ("import sys; from typer.testing import CliRunner; from nnrun.cli import app; "
            "r = CliRunner().invoke(app, ['validate', 'configs/iris.yaml']); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'pandas')))")
    root = Path(__file__).resolve().parent.parent
    out = run_python(code, cwd=root, check=True)
    assert out.stdout.strip() == "[]"


def test_reading_waits_until_the_readers_threads_let_go_of_the_file():
    # pyarrow's reader gives up the file object on a worker thread a moment after
    # read_csv returns; if the process was exiting by then it aborted (exit code 134).
    import sys
    import threading
    import time

    from nnrun.data.reading import let_go

    handed = object()
    before = sys.getrefcount(handed)
    holder = []
    with let_go(handed):
        holder.append(handed)  # what the reader's thread holds until it finishes
        threading.Thread(target=lambda: (time.sleep(0.05), holder.clear())).start()
    assert sys.getrefcount(handed) == before


@pytest.mark.parametrize("label, hint", [
    (lambda i: f'"{180_000 + 1_013 * i:,}"', "its values are numbers: to predict them, use a regression loss such as "
                                              "mse (the task follows the loss)"),
    (lambda i: f"order-{i:04d}", "it looks like an ID or free text: name the column that holds the class labels in "
                                 "data.source.target"),
])
def test_a_target_with_a_label_per_row_is_told_what_it_is_before_the_split(run_cli, tmp_path, label, hint):
    # Before, a stratified split said the validation split would be empty (0.2 of 60 samples).
    lines = ["size,price"] + [f"{i % 7},{label(i)}" for i in range(60)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "d.yaml").write_text(
        "name: d\ndata:\n  source: {type: csv, path: d.csv, target: price}\n  split: {validation: 0.2, test: 0.2}\n"
        "model:\n  layers: [{type: dense, units: 2, activation: softmax}]\nloss: categorical_crossentropy\n")
    result = run_cli("validate", tmp_path / "d.yaml")
    assert result.exit_code == 2
    assert "d.csv, column 'price': 60 distinct class labels in 60 rows (like " in result.output
    assert "too many classes to learn, most with a single row" in result.output
    assert hint in " ".join(result.output.split())


def test_a_number_category_written_as_a_float_is_the_same_category(run_cli, tmp_path):
    # A column of ZIP codes with one empty cell is written by pandas as '94105.0': the same category.
    lines = ["zip,size,label"] + [f"{(10001, 94105, 60601)[i % 3]},{i % 5},{'ab'[i % 2]}" for i in range(60)]
    config = small_classifier(tmp_path, lines, 2, ", categorical: [zip]")
    assert run_cli("train", config, "--run-dir", tmp_path / "run", "--quiet").exit_code == 0
    (tmp_path / "new.csv").write_text("zip,size\n94105,1\n94105.0,1\n60601.0,2\n1e4,2\n")
    result = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o", tmp_path / "p.csv")
    assert result.exit_code == 2  # 1e4 is 10000, which training never saw; the others are read
    assert "unknown category (1 cell):\n    line 5, column 'zip': '1e4'" in result.output
    (tmp_path / "new.csv").write_text("zip,size\n94105,1\n94105.0,1\n60601.0,2\n")
    result = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o", tmp_path / "p.csv", "--proba")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(tmp_path / "p.csv", newline="")))
    assert rows[0] == {**rows[1]}  # the same probabilities for 94105 and 94105.0


def test_a_number_category_without_its_leading_zeros_is_the_same_category(run_cli, tmp_path):
    # '02139' read by pandas (or a spreadsheet) as the number 2139: the same ZIP code.
    lines = ["zip,size,label"] + [f"{('02139', '01067', '94105')[i % 3]},{i % 4},{'ab'[i % 2]}" for i in range(60)]
    config = small_classifier(tmp_path, lines, 2, ", categorical: [zip]")
    assert run_cli("train", config, "--run-dir", tmp_path / "run", "--quiet").exit_code == 0
    model = nnrun.load(tmp_path / "run")
    padded = model.predict({"zip": ["02139", "01067"], "size": [1, 2]}).probabilities
    np.testing.assert_array_equal(model.predict({"zip": [2139, 1067], "size": [1, 2]}).probabilities, padded)
    (tmp_path / "new.csv").write_text("zip,size\n2139,1\n1067,2\n2140,1\n")
    result = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o", "-")
    assert result.exit_code == 2  # 2140 is no ZIP code training saw, with zeros or without
    assert "unknown category (1 cell):\n    line 4, column 'zip': '2140'" in result.output
    from nnrun.data.categories import category_index, category_position

    index = category_index(["7", "007", "02139"])  # '7' and '007' write the same number: only as written
    assert [category_position(w, index) for w in ("7", "007", "2139", "0007")] == [0, 1, 2, 0]


def test_a_file_without_a_header_is_told_to_get_one(run_cli, tmp_path):
    # Its first row was read as the header: every column "missing", with the fix that fits.
    path = config(tmp_path, people(), TIDY)
    assert run_cli("train", path, "--quiet", "--run-dir", "run").exit_code == 0
    (tmp_path / "rows.csv").write_text('X1,30,"45,000",Paris\nX2,41,"12,500",Lyon\n')
    result = run_cli("predict", "run", "rows.csv", "-o", "-")
    assert result.exit_code == 2
    assert ("hint: the file's first line ('X1', '30', '45,000', ...) is read as its header, but it looks like a row "
            "of data: add a first line that names the columns: age, income, city") in " ".join(result.output.split())
    (tmp_path / "misnamed.csv").write_text("years,salary,town\n30,\"45,000\",Paris\n")
    result = run_cli("predict", "run", "misnamed.csv", "-o", "-")  # names, only not the model's
    assert result.exit_code == 2 and "hint: the training columns are: age, income, city" in result.output


def test_a_missing_value_written_as_a_word_in_a_category_column_is_warned(run_cli, tmp_path):
    import random

    rng = random.Random(6)
    rows = "".join(f"{rng.uniform(-1, 1):.3f},{rng.choice(['red', 'blue', 'None', '-', ''])},{'hl'[i % 2]}\n"
                   for i in range(200))
    (tmp_path / "b.csv").write_text("x,color,y\n" + rows)
    (tmp_path / "b.yaml").write_text("data: {source: {type: csv, path: b.csv, target: y, categorical: [color], "
                                     "missing: most_frequent}}\nmodel: {layers: [{type: dense, units: 2, activation: "
                                     "softmax}]}\nloss: categorical_crossentropy\n")
    said = " ".join(run_cli("validate", "b.yaml").output.split())
    assert ("warning: categorical column 'color': '-', 'None' look like marks for a missing value, learned as "
            "categories of their own") in said
    # 'none' in most rows is an answer, as a holiday column's days without one.
    rows = "".join(f"{rng.uniform(-1, 1):.3f},{'easter' if i % 9 == 0 else 'none'},{'hl'[i % 2]}\n" for i in range(200))
    (tmp_path / "b.csv").write_text("x,color,y\n" + rows)
    assert "for a missing value" not in run_cli("validate", "b.yaml").output


def test_a_column_of_one_value_is_told_to_be_left_out(run_cli, tmp_path):
    lines = people(extra=None)
    lines = [lines[0] + ",country"] + [line + ",USA" for line in lines[1:]]
    path = config(tmp_path, lines, ", id: customer_id, thousands: ','")  # city told; country the same in every row
    said = " ".join(run_cli("validate", path).output.split())
    assert "hint: 'country' holds one value ('USA') in every row, which tells the rows nothing; leave it out with " \
           "data.source.ignore" in said
    path = config(tmp_path, lines, TIDY.replace("[city]", "[city, country]"))
    said = " ".join(run_cli("validate", path).output.split())
    assert "warning: categorical column 'country' holds one value ('USA') in every training row, which tells the " \
           "rows nothing; leave it out with data.source.ignore" in said


def test_a_categorical_column_left_out_by_ignore_is_said_to_be(run_cli, tmp_path):
    path = config(tmp_path, people(), TIDY.replace("[city]", "[city, age]") + ", ignore: [age]")
    result = run_cli("validate", path)
    assert result.exit_code == 2
    assert "data.source.categorical.1: lists 'age', which data.source.ignore leaves out; name it in one of the two" \
        in " ".join(result.output.split())


def test_many_categories_with_many_rows_each_are_no_warning(run_cli, tmp_path):
    # 250 ZIP-like codes, 40 rows each: a real category, not an ID (an ID has a row per value).
    rows = "".join(f"{i % 7 / 7:.3f},Z{i % 250:05d},{'ab'[i % 2]}\n" for i in range(10_000))
    (tmp_path / "z.csv").write_text("x,zip,label\n" + rows)
    (tmp_path / "z.yaml").write_text("data: {source: {type: csv, path: z.csv, target: label, categorical: [zip]}}\n"
                                     "model: {layers: [{type: dense, units: 2, activation: softmax}]}\n"
                                     "loss: categorical_crossentropy\n")
    result = run_cli("validate", "z.yaml")
    assert result.exit_code == 0, result.output
    assert "distinct values" not in result.output
    few = "".join(f"{i % 7 / 7:.3f},Z{i % 250:05d},{'ab'[i % 2]}\n" for i in range(1_000))  # 4 rows each
    (tmp_path / "z.csv").write_text("x,zip,label\n" + few)
    said = " ".join(run_cli("validate", "z.yaml").output.split())
    assert "categorical column 'zip' has" in said and "distinct values" in said


def test_an_unseen_category_written_otherwise_than_a_known_one_is_named(run_cli, tmp_path):
    run_cli("train", config(tmp_path, people(), TIDY), "--quiet", "--run-dir", "run")
    new = ["age,income,city", '30,"1,000",paris', '31,"1,000", NICE ', '32,"1,000",Rome']
    (tmp_path / "new.csv").write_text("\n".join(new) + "\n")
    result = run_cli("predict", "run", "new.csv", "-o", "out.csv")
    assert result.exit_code == 2
    assert "hint: 'city' was trained on Lyon, Nice, Paris ('paris' is 'Paris' written otherwise; 'NICE' is 'Nice' " \
           "written otherwise); fix the cells" in " ".join(result.output.split())


def test_missing_values_name_a_files_own_marks_for_a_gap_in_training_predict_serve_and_tables(run_cli, tmp_path):
    # '-' for a number nobody wrote down, 'k.A.' (keine Angabe) for a category.
    rows = [f"{'-' if i % 7 == 0 else i % 13},{'k.A.' if i % 11 == 0 else 'ab'[i % 2]},{'yn'[i % 3 == 0]}"
            for i in range(80)]
    (tmp_path / "g.csv").write_text("rooms,side,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "g.yaml").write_text(
        "name: g\ndata:\n  source: {type: csv, path: g.csv, target: label, categorical: [side], missing: mean,\n"
        "           missing_values: ['-', K.A.]}\nmodel:\n  layers: [{type: dense, units: 2, activation: softmax}]\n"
        "loss: categorical_crossentropy\ntraining: {epochs: 2}\n")
    result = run_cli("train", "g.yaml", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "r" / "preprocess.json").read_text())["columns"]
    assert saved["missing_values"] == ["-", "K.A."]
    assert saved["columns"][1]["categories"] == ["a", "b"]  # 'k.A.' is no category
    (tmp_path / "new.csv").write_text("rooms,side\n - ,K.a.\n3,a\n")
    result = run_cli("predict", "r", "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert "filled 2 empty cells with the training split's means" in result.output
    if importlib.util.find_spec("fastapi"):
        from fastapi.testclient import TestClient

        from nnrun.commands.serve import ServedModel, create_app

        client = TestClient(create_app(ServedModel.load(tmp_path / "r")))
        assert client.get("/metadata").json()["missing_values"] == ["-", "K.A."]
        answer = client.post("/predict", json={"instances": [{"rooms": "-", "side": "k.a."}]})
        assert answer.status_code == 200, answer.json()
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(tmp_path / "g.csv", keep_default_na=False, dtype=str)
    labels = frame.pop("label")
    config = {"name": "t", "data": {"source": {"missing": "mean", "missing_values": ["-", "k.a."],
                                               "categorical": ["side"]}},
              "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    trained = nnrun.train(config, data=(frame, labels), run_dir=tmp_path / "t")
    assert nnrun.load(trained.run_dir).predict(frame[:3]).predictions.shape == (3,)


def test_strip_signs_reads_currency_and_percent_numbers_in_training_predict_and_serve(run_cli, tmp_path):
    rows = [f'"${1000 + 37 * i:,}.50",{i % 40 / 4}%,USD {i % 9},{"yn"[i % 3 == 0]}' for i in range(90)]
    (tmp_path / "m.csv").write_text("amount,rate,fee,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "m.yaml").write_text(
        "name: m\ndata:\n  source: {type: csv, path: m.csv, target: label, thousands: ',',\n"
        "           strip_signs: [$, '%', usd]}\nmodel:\n  layers: [{type: dense, units: 2, activation: softmax}]\n"
        "loss: categorical_crossentropy\ntraining: {epochs: 1}\n")
    result = run_cli("train", "m.yaml", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    ranges = [c["range"] for c in json.loads((tmp_path / "r" / "preprocess.json").read_text())["columns"]["columns"]]
    assert ranges[1][1] <= 9.75 and ranges[2][1] == 8  # 9.75%, USD 8: the numbers they write
    (tmp_path / "new.csv").write_text('amount,rate,fee\n"$1,000",3 %,8 USD\n-$5,-2%,7\n"$1,2",3,4\n')
    result = run_cli("predict", "r", "new.csv", "-o", "-")
    assert result.exit_code == 2  # '$1,2' is no number grouped by thousands; the rest are read
    assert "not a number (1 cell):\n    line 4, column 'amount': '$1,2'" in result.output
    if importlib.util.find_spec("fastapi"):
        from fastapi.testclient import TestClient

        from nnrun.commands.serve import ServedModel, create_app

        client = TestClient(create_app(ServedModel.load(tmp_path / "r")))
        amount = next(c for c in client.get("/metadata").json()["columns"] if c["name"] == "amount")
        assert amount["strip_signs"] == ["$", "%", "usd"] and amount["thousands"] == ","
        answer = client.post("/predict", json={"instances": [{"amount": "$1,234.50", "rate": "5%", "fee": 3}]})
        assert answer.status_code == 200, answer.json()


def test_missing_category_own_learns_an_empty_cell_as_a_category_in_training_predict_and_serve(run_cli, tmp_path):
    """An empty category often says something (no plan chosen): learned as itself,
    '(missing)', in place of the most frequent category; numbers still follow missing."""
    rows = [f"{['basic', 'pro', ''][i % 3]},{i % 7},{'ab'[i % 2]},{'ny'[i % 3 == 2]}" for i in range(120)]
    (tmp_path / "p.csv").write_text("plan,visits,tier,churned\n" + "\n".join(rows) + "\n")
    (tmp_path / "p.yaml").write_text(
        "name: p\ndata:\n  source: {type: csv, path: p.csv, target: churned, categorical: [plan, tier],\n"
        "           missing_category: own}\nmodel:\n  layers: [{type: dense, units: 2, activation: softmax}]\n"
        "loss: categorical_crossentropy\noptimizer: {type: adam, learning_rate: 0.1}\ntraining: {epochs: 40}\n")
    result = run_cli("train", "p.yaml", "--run-dir", "r", "--quiet")  # missing: error, yet the empty plans train
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "r" / "preprocess.json").read_text())
    # tier is never empty in training: no category of empty cells, whose weights nothing would train.
    assert saved["feature_names"] == ["plan=basic", "plan=pro", "plan=(missing)", "visits", "tier=a", "tier=b"]
    (tmp_path / "new.csv").write_text("plan,visits,tier\n,3,a\nNA,3,a\npro,3,a\n")
    result = run_cli("predict", "r", "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == ["y", "y", "n"]  # an empty plan is the churners' own category
    (tmp_path / "new.csv").write_text("plan,visits,tier\npro,,\n")
    refused = run_cli("predict", "r", "new.csv", "-o", "-")
    assert refused.exit_code == 2  # a number, and a category never empty in training: missing says error
    assert "line 2, column 'visits'" in refused.output and "line 2, column 'tier'" in refused.output
    model = nnrun.load(tmp_path / "r")
    assert list(model.predict({"plan": [None, "basic"], "visits": [3, 3], "tier": ["a", "a"]}).predictions) == \
        ["y", "n"]
    if importlib.util.find_spec("fastapi"):
        from fastapi.testclient import TestClient

        from nnrun.commands.serve import ServedModel, create_app

        client = TestClient(create_app(ServedModel.load(tmp_path / "r")))
        plan = next(c for c in client.get("/metadata").json()["columns"] if c["name"] == "plan")
        assert plan["categories"] == ["basic", "pro", ""] and plan["missing"] == ""
        answer = client.post("/predict", json={"instances": [{"plan": None, "visits": 3, "tier": "a"}]}).json()
        assert answer["predictions"][0]["prediction"] == "y"
        unseen = client.post("/predict", json={"instances": [{"plan": "gold", "visits": 3, "tier": "a"}]}).json()
        assert unseen["detail"][0]["msg"].endswith("unseen category 'gold'; the model knows basic, pro, (missing) "
                                                   "(null)")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"plan": [["basic", "pro", None][i % 3] for i in range(120)],
                          "visits": [i % 7 for i in range(120)]})
    config = {"data": {"source": {"categorical": ["plan"], "missing_category": "own"}},
              "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    trained = nnrun.train(config, data=(frame, ["ny"[i % 3 == 2] for i in range(120)]), run_dir=tmp_path / "f")
    assert nnrun.load(trained.run_dir).samples(frame[:3]).shape == (3, 4)  # a DataFrame's gaps: the category too


def test_a_number_marker_is_missing_given_as_a_number_or_a_float_as_well_as_as_text(tmp_path):
    """missing_values: [-999]: a DataFrame's -999.0 (pandas writes a float column so), a
    loaded model's -999, a JSON -999 are the marker, as the text '-999' is."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    age = rng.integers(18, 80, 200).astype(float)
    age[::10] = -999.0
    frame = pd.DataFrame({"age": age, "x": rng.normal(size=200)})
    config = {"data": {"source": {"missing": "mean", "missing_values": [-999]}},
              "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    run = nnrun.train(config, data=(frame, np.where(frame["x"] > 0, "a", "b")), run_dir=tmp_path / "r").run_dir
    assert json.loads((run / "preprocess.json").read_text())["columns"]["columns"][0]["range"] == [18.0, 79.0]
    model = nnrun.load(run)
    as_text = model.predict(pd.DataFrame({"age": ["-999"], "x": [0.1]}))
    for given in (pd.DataFrame({"age": [-999.0], "x": [0.1]}), {"age": [-999], "x": [0.1]}):
        prediction = model.predict(given)
        assert np.array_equal(prediction.probabilities, as_text.probabilities) and "1 in 'age'" in prediction.notes[0]
    if importlib.util.find_spec("fastapi"):
        from fastapi.testclient import TestClient

        from nnrun.commands.serve import ServedModel, create_app

        client = TestClient(create_app(ServedModel.load(run)))
        answer = client.post("/predict", json={"instances": [{"age": -999, "x": 0.1}, {"age": "-999", "x": 0.1}]})
        assert answer.json()["notes"][0].endswith("2 in 'age' (every row)")


def test_a_marker_written_otherwise_than_a_number_marks_that_text_alone():
    from nnrun.data.cells import markers, number_markers

    # '00' marks cells written 00; a column's every 0 (or 0.0) is no gap. '-999' marks -999 and -999.0 too.
    assert "0" not in markers(["00"]) and "0.0" not in markers(["00"]) and not number_markers(["00", "1e3", "-0"])
    assert {"-999", "-999.0"} <= markers(["-999"]) and number_markers(["-999.0"]) == {-999.0}


def test_missing_category_own_says_why_an_empty_cell_only_held_out_rows_have_is_refused(run_cli, tmp_path):
    rows = [f"{'ab'[i % 2]},{i % 7},{'yn'[i % 3 == 0]}" for i in range(60)]
    (tmp_path / "t.csv").write_text("plan,x,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "v.csv").write_text("plan,x,label\n" + "\n".join(rows[:9] + [",3,y"]) + "\n")
    (tmp_path / "c.yaml").write_text(
        "data:\n  source: {type: csv, path: t.csv, validation_path: v.csv, target: label, categorical: [plan],\n"
        "           missing_category: own}\nmodel:\n  layers: [{type: dense, units: 2, activation: softmax}]\n"
        "loss: categorical_crossentropy\ntraining: {epochs: 1}\n")
    result = run_cli("validate", "c.yaml")
    assert result.exit_code == 2
    assert "line 11, column 'plan'" in result.output
    assert "hint: the training split has no empty 'plan' cell, so missing_category: own learned no category of " \
        "them, and only held-out rows have some; fill them in, or set data.source.missing to most_frequent to fill " \
        "such cells" in " ".join(result.output.split())


def test_encoding_leaves_its_problems_to_a_collector_it_is_given():
    """encode_columns raises only when it made the collector itself (a name reused for a
    column's missing rule once made it raise whatever it was given)."""
    from nnrun.data.encoding import encode_columns
    from nnrun.data.table import build_table

    table = build_table("new.csv", ["c"], [["z"]], ["c"], ["c"], [2])
    state = {"missing": "error", "columns": [{"name": "c", "kind": "categorical", "categories": ["x", "y"],
                                              "fill": None}]}
    problems = DataProblems("new.csv", scoring=True, columns=["c"])
    encode_columns(table, state, unseen="error", problems=problems)  # told to the collector, not raised
    assert problems and "unknown category" in problems.render()


def test_bad_rows_skip_that_leaves_no_row_says_so(run_cli, tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n" + "\n".join(f"{i};{i};x" for i in range(20)) + "\n")
    (tmp_path / "c.yaml").write_text(
        "data:\n  source: {type: csv, path: d.csv, target: label, bad_rows: skip}\nmodel:\n  layers: [{type: dense, "
        "units: 2, activation: softmax}]\nloss: categorical_crossentropy\n")
    result = run_cli("validate", "c.yaml")
    assert result.exit_code == 2
    assert "d.csv: every row has more or fewer cells than the header's 3 (lines 2, 3, 4, 5, 6, ...), and " \
        "data.source.bad_rows: skip left none to train on" in " ".join(result.output.split())


def test_the_readme_clients_negatives_read_as_the_reader_reads_them():
    """The README's ONNX client copies the rule: the same cells become the same negatives."""
    import re

    from conftest import ROOT
    from nnrun.data.cells import ACCOUNTING_NEGATIVE

    line = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("NEGATIVE = r\""))
    readme = eval(line.split("=", 1)[1])  # a raw string literal
    cells = ["(5)", "5-", "1.234,50-", "(1,234.50)", "( 7 )", "(nan)", "nan-", "-", "(-5)", "1\u00a0234,50\u00a0-",
             "(1\u00a0234,50)", "a-", "5", "-5", "2020-01-01"]
    assert [re.sub(readme, r"-\1\2", c) for c in cells] == [re.sub(ACCOUNTING_NEGATIVE, r"-\1\2", c) for c in cells]
    assert numbers_or_none(["(5)", "5-", "(nan)", "1\u00a0234,50\u00a0-"], thousands="\u00a0", decimal=",")[:2] == \
        [-5.0, -5.0]
    assert numbers_or_none(["(nan)", "nan-"]) == [None, None]  # no digit: still bad cells, not missing ones
    assert numbers_or_none(["$ (5.00)", "$(5)"], signs=("$",)) == [-5.0, -5.0]  # Excel's Accounting format
