"""CSV files as other locales and programs write them: cells separated by semicolons,
tabs or bars (``data.source.delimiter``), numbers with a decimal comma
(``data.source.decimal``), and the messages that point at those settings. Training
saves both, so ``predict``, ``evaluate --data`` and ``serve`` read new files and cells
the way training read its own. The files are generated here."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import nnrun
from nnrun.data.cell_hints import number_hint
from nnrun.data.cells import parse_numbers
from nnrun.data.csvfile import read_columns
from nnrun.data.csvheader import read_header
from nnrun.data.problems import DataProblems
from nnrun.errors import UserError


def _european(rows: int = 80, separator: str = ";", decimal: str = ",") -> list[str]:
    """A file as a German spreadsheet saves it: ';' between cells, '5,0' and '20.000,00'
    (with ``decimal: "."``: '5.0' and '20000.00')."""
    lines = [separator.join(["kunde", "alter", "einkommen", "klasse"])]
    for i in range(rows):
        age, income = f"{(20 + i % 40) / 4}", f"{20_000 + 731 * i:,.2f}"
        age, income = (age.replace(".", ","), income.translate(str.maketrans(",.", ".,"))) if decimal == "," else \
            (age, income.replace(",", ""))
        lines.append(separator.join([f"K{i}", age, income, "ab"[(i * 7 // 3) % 2]]))
    return lines


def _config(tmp_path: Path, lines: list[str], source: str, name: str = "eu.csv") -> Path:
    (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "eu.yaml"
    path.write_text(f"name: eu\nseed: 1\ndata:\n  source: {{type: csv, path: {name}, target: klasse, id: kunde{source}}}\n"
                    "  preprocess: [standardize]\n"
                    "model:\n  layers: [{type: dense, units: 2, activation: softmax}]\n"
                    "loss: categorical_crossentropy\ntraining: {epochs: 2}\n")
    return path


EU = ', delimiter: ";", decimal: ",", thousands: "."'


def _read(tmp_path: Path, text: str, **options):
    (tmp_path / "t.csv").write_text(text)
    problems = DataProblems("t.csv")
    header = read_header(tmp_path / "t.csv", delimiter=options.get("delimiter", ","))
    columns = read_columns(tmp_path / "t.csv", header, header, [], problems, **options)
    return columns, problems.render() if problems else ""


def test_semicolons_and_decimal_commas_read_as_numbers_on_both_paths(tmp_path):
    text = "a;b\n3,25;-0,5\n 1,5 ;1e3\n;7\n"
    columns, report = _read(tmp_path, text, delimiter=";", decimal=",")  # the typed read
    assert not report
    np.testing.assert_array_equal(columns.number("a")[:2], np.float32([3.25, 1.5]))
    np.testing.assert_array_equal(columns.number("b"), np.float32([-0.5, 1000, 7]))
    assert np.isnan(columns.number("a")[2])
    np.testing.assert_array_equal(columns.lines, [2, 3, 4])
    # With a thousands separator the cells are read as text first: the same numbers.
    text = "a;b\n1.234,5;-0,5\n 1,5 ;1e3\n;7\n2.000.000;0\n"
    columns, report = _read(tmp_path, text, delimiter=";", decimal=",", thousands=".")
    assert not report
    np.testing.assert_array_equal(columns.number("a")[[0, 1, 3]], np.float32([1234.5, 1.5, 2_000_000]))
    np.testing.assert_array_equal(columns.number("b"), np.float32([-0.5, 1000, 7, 0]))


@pytest.mark.parametrize("thousands", [None, "."])
def test_a_decimal_point_under_decimal_comma_is_a_bad_cell_not_another_number(tmp_path, thousands):
    # "3.25" in a file whose numbers are written "3,25" is no number of that file: not
    # 3.25, and not 325 (with thousands: "." it is not between groups of three digits).
    options = {"thousands": thousands} if thousands else {}
    columns, report = _read(tmp_path, "a;b\n3,5;1\n3.25;2\n0.5;3\n2.75;4\n", delimiter=";", decimal=",", **options)
    assert columns.number("a")[0] == np.float32(3.5)
    assert "not a number (3 cells):\n    line 3, column 'a': '3.25'" in report
    if thousands:
        assert "'a' holds numbers like '3.25' that data.source.thousands: \".\" does not fit" in report
    else:
        assert ("'a' holds numbers with a decimal point (like '3.25'), but data.source.decimal is \",\", which holds "
                "for every column of the file; fix these cells, or drop the setting") in report


def test_the_typed_read_and_the_text_read_agree_to_the_bit(tmp_path):
    rng = np.random.default_rng(3)
    values = rng.normal(size=500).astype(np.float32) * np.float32(1000)
    cells = [f"{v:.6g}".replace(".", ",") for v in values.tolist()]
    text = "a;b\n" + "\n".join(f"{c};x" for c in cells) + "\n"
    fast, _ = _read(tmp_path, text, delimiter=";", decimal=",")
    slow, _ = _read(tmp_path, text.replace("x", "1.000"), delimiter=";", decimal=",", thousands=".")
    np.testing.assert_array_equal(fast.number("a"), slow.number("a"))
    np.testing.assert_array_equal(slow.number("b"), np.full(500, 1000, np.float32))
    plain, _ = _read(tmp_path, text.replace(",", ".").replace(";", ","))  # the same numbers written with points
    np.testing.assert_array_equal(fast.number("a"), plain.number("a"))


def test_rows_of_the_wrong_width_are_found_by_the_files_delimiter(tmp_path):
    _, report = _read(tmp_path, "a|b\n1|2\n3\n4|5|6\n7|8\n", delimiter="|")
    assert "line 3: 1 cells, but the header has 2 columns" in report
    assert "line 4: 3 cells, but the header has 2 columns" in report
    # More cells than columns: a text with the delimiter in it, unquoted, most likely.
    assert "hint: a row of more cells: a cell that holds the delimiter '|' (in a text, say) is written in double " \
        "quotes: \"like| this\"" \
        in report


def test_a_file_separated_otherwise_is_told_which_setting_reads_it(run_cli, tmp_path):
    result = run_cli("validate", _config(tmp_path, _european(), ""))
    assert result.exit_code == 2
    assert ("eu.csv: the header is one column, 'kunde;alter;einkommen;klasse': the file looks separated by "
            "semicolons, not commas") in result.output
    assert 'hint: set data.source.delimiter: ";" and data.source.decimal: "," (it writes numbers like 5,0)' \
        in result.output
    (tmp_path / "t.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(UserError) as caught:
        read_header(tmp_path / "t.tsv")
    assert "looks separated by tabs, not commas" in str(caught.value)
    assert 'set data.source.delimiter: "\\t"' in str(caught.value)
    (tmp_path / "c.csv").write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match="looks separated by commas, not semicolons"):
        read_header(tmp_path / "c.csv", delimiter=";")


def test_decimal_commas_in_a_file_read_with_points_get_the_decimal_hint(run_cli, tmp_path):
    result = run_cli("validate", _config(tmp_path, _european(), ', delimiter: ";"'))
    assert result.exit_code == 2
    out = result.output
    # '5,0' could not be a thousands separator (one digit after it): the decimal hint wins
    assert "hint: 'alter' holds numbers with a decimal comma (like '5,0'); set data.source.decimal: \",\"" in out
    assert ("hint: 'einkommen' holds numbers with a decimal comma (like '20.000,00'); set data.source.decimal: \",\" "
            "and thousands: \".\"") in out
    # '1,234' alone reads as a thousands separator, as before
    assert "thousands separator" in number_hint("a", np.array(["1,234", "5,678"], dtype=object), 2)
    assert "decimal comma" in number_hint("a", np.array(["0,126", "5,678"], dtype=object), 2)


def test_a_column_of_three_decimals_takes_the_files_decimal_comma_not_a_thousands_one(tmp_path):
    """'4,295' alone could group thousands; beside columns of '8,07' it has a decimal comma,
    and two hints that contradict each other would lead to a setting nnrun refuses."""
    lines = ["acidity;quality", *[f"{3 + i % 5},{i % 10}7;{4 + i % 3},{295 + i}" for i in range(40)]]
    _, out = _read(tmp_path, "\n".join(lines) + "\n", delimiter=";")
    assert "hint: 'acidity' holds numbers with a decimal comma (like '3,07'); set data.source.decimal: \",\"" in out
    assert "hint: 'quality' holds numbers with a decimal comma (like '4,295'); set data.source.decimal: \",\"" in out
    assert "thousands" not in out
    plain = ["n;quality", *[f"{i};{line.split(';')[1]}" for i, line in enumerate(lines[1:])]]  # none to tell
    _, alone = _read(tmp_path, "\n".join(plain) + "\n", delimiter=";")
    assert "hint: 'quality' holds numbers with a thousands separator" in alone
    # Two groups and more ('1,100,200') can only be thousands, decimal commas elsewhere or not.
    grouped = ["acidity;population", *[f"{3 + i % 5},0{i % 10};{1 + i % 3},{100 + i},{200 + i}" for i in range(40)]]
    _, out = _read(tmp_path, "\n".join(grouped) + "\n", delimiter=";")
    assert "hint: 'population' holds numbers with a thousands separator; set data.source.thousands: \",\"" in out


@pytest.mark.parametrize("written", ['"\\t"', "'\\t'", "tab", "TAB"])
def test_a_tab_is_written_as_yaml_allows(run_cli, tmp_path, written):
    config = _config(tmp_path, _european(separator="\t", decimal="."), f", delimiter: {written}", name="eu.tsv")
    result = run_cli("validate", config)
    assert result.exit_code == 0, result.output
    assert "delimiter='\\t'" in result.output  # shown as Python writes it, not as a blank


@pytest.mark.parametrize("source, message", [
    (', delimiter: ";;"', "data.source.delimiter: expected one ASCII character that is not a quote or a line break, got ';;'"),
    (', delimiter: "§"', "data.source.delimiter: expected one ASCII character that is not a quote or a line break, got '§'"),
    (", delimiter: '\"'", "data.source.delimiter: expected one ASCII character that is not a quote or a line break"),
    (', decimal: ";"', "data.source.decimal: expected one of '.', ',', got ';'"),
    (', decimal: ",", thousands: ","', "thousands and decimal are both \",\"; a decimal comma goes with thousands: \".\" or \" \""),
])
def test_a_wrong_setting_is_a_located_config_problem(run_cli, tmp_path, source, message):
    result = run_cli("validate", _config(tmp_path, _european(), source))
    assert result.exit_code == 2
    assert message in result.output
    assert "eu.yaml:4:" in result.output


def _trained(tmp_path: Path) -> Path:
    config = _config(tmp_path, _european(), EU)
    return nnrun.train(config, run_dir=tmp_path / "run", quiet=True).run_dir


def test_a_run_reads_new_files_as_it_read_its_own(run_cli, tmp_path):
    run = _trained(tmp_path)
    saved = json.loads((run / "preprocess.json").read_text())["columns"]
    assert (saved["delimiter"], saved["decimal"], saved["thousands"]) == (";", ",", ".")
    rows = _european()[:6]
    (tmp_path / "new.csv").write_text("\n".join(rows) + "\n")
    result = run_cli("predict", run, tmp_path / "new.csv", "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    with open(tmp_path / "p.csv", newline="") as handle:  # predictions are written with commas
        written = list(csv.DictReader(handle))
    assert [r["kunde"] for r in written] == ["K0", "K1", "K2", "K3", "K4"]
    # Cells handed to the Python API as text are read as the file's are.
    cells = {name: [row.split(";")[i] for row in rows[1:]] for i, name in enumerate(rows[0].split(";"))}
    assert [r["prediction"] for r in written] == list(nnrun.load(run).predict(cells).predictions)
    # Python numbers are numbers, whatever the run's decimal mark and thousands separator:
    # 5.25 is neither the text '5.25' (a bad cell there) nor 525.
    numbers = {"kunde": cells["kunde"], "alter": [float(c.replace(",", ".")) for c in cells["alter"]],
               "einkommen": [float(c.replace(".", "").replace(",", ".")) for c in cells["einkommen"]]}
    np.testing.assert_array_equal(nnrun.load(run).predict(numbers).probabilities,
                                  nnrun.load(run).predict(cells).probabilities)
    result = run_cli("evaluate", run, "--data", tmp_path / "new.csv")
    assert result.exit_code == 0, result.output
    # The same rows with commas between the cells, or decimal points: told what the run reads.
    (tmp_path / "comma.csv").write_text("kunde,alter,einkommen\nK0,\"5,0\",\"20.000,00\"\n")
    result = run_cli("predict", run, tmp_path / "comma.csv")
    assert result.exit_code == 2
    assert "the file looks separated by commas, not semicolons" in result.output
    assert "hint: read it as it is with --delimiter ',', or save it with semicolons between the cells" in result.output
    (tmp_path / "points.csv").write_text("kunde,alter,einkommen\nK0,5.0,20000.00\n")  # the decimal mark too
    result = run_cli("predict", run, tmp_path / "points.csv")
    assert result.exit_code == 2
    assert "hint: read it as it is with --delimiter ',' --decimal '.', or save it with semicolons between the cells" \
        in result.output
    (tmp_path / "tabs.tsv").write_text("kunde\talter\teinkommen\nK0\t5,0\t20.000,00\n")
    result = run_cli("predict", run, tmp_path / "tabs.tsv")
    assert result.exit_code == 2  # the option as it can be typed: a tab pasted from a terminal is spaces
    assert "hint: read it as it is with --delimiter tab, or save it with semicolons between the cells" in result.output
    result = run_cli("predict", run, tmp_path / "tabs.tsv", "-o", "-", "--delimiter", "tab")
    assert result.exit_code == 0, result.output
    # Read as it is: the delimiter and the decimal mark given, the run's thousands separator
    # (a point) then left out, as a file with decimal points cannot group thousands with one.
    (tmp_path / "us.csv").write_text("kunde,alter,einkommen,klasse\nK0,5.0,20000.00,a\nK1,5.25,20731.00,b\n")
    result = run_cli("predict", run, tmp_path / "us.csv", "-o", "-", "--delimiter", ",", "--decimal", ".")
    assert result.exit_code == 0, result.output
    assert [r["prediction"] for r in csv.DictReader(result.output.splitlines())] == \
        [r["prediction"] for r in written[:2]]
    result = run_cli("evaluate", run, "--data", tmp_path / "us.csv", "--delimiter", ",", "--decimal", ".")
    assert result.exit_code == 0, result.output
    result = run_cli("predict", run, tmp_path / "us.csv", "-o", "-", "--delimiter", ",", "--decimal", ".",
                     "--encoding", "UTF8")  # any of Python's names for an encoding
    assert result.exit_code == 0, result.output
    np.savez(tmp_path / "a.npz", x=np.zeros((1, 2), np.float32))
    result = run_cli("predict", run, tmp_path / "a.npz", "--delimiter", ",")
    assert result.exit_code == 2 and "--delimiter: says how a CSV file is written; " in result.output
    with pytest.raises(UserError, match="delimiter, decimal, encoding, thousands and unknown say how a file given "
                                        "as data is read"):
        nnrun.evaluate(run, delimiter=",")
    for args, message in [(["--decimal", ";"], "--decimal: expected '.' or ',', got ';'"),
                          (["--delimiter", ";;"], "--delimiter: expected one ASCII character"),
                          (["--encoding", "utf-16"], "--encoding: expected one of utf-8, cp1252, latin-1")]:
        result = run_cli("predict", run, tmp_path / "us.csv", *args)
        assert result.exit_code == 2 and message in result.output, result.output
    result = run_cli("evaluate", run, "--decimal", ".")
    assert result.exit_code == 2
    assert "--decimal: says how a file given with --data is read; a split is read as training read it" \
        in result.output
    (tmp_path / "points.csv").write_text("kunde;alter;einkommen\nK0;5.5;20000.5\n")
    result = run_cli("predict", run, tmp_path / "points.csv")
    assert result.exit_code == 2
    assert "the file is read with a decimal comma, and '5.5' in 'alter' has a point: if it is the decimal mark, " \
           "read the file with --decimal '.'\n" in " ".join(result.output.split(" "))


def test_a_file_with_another_thousands_separator_is_read_with_thousands(run_cli, tmp_path):
    # The run groups thousands with '.', under a decimal comma; the file is written the
    # American way, '20,731.00'. --decimal '.' alone leaves the separator out (a point
    # cannot be both), and the cells that have one are told how to read them.
    run = _trained(tmp_path)
    (tmp_path / "eu.csv").write_text("\n".join(_european()[:6]) + "\n")
    (tmp_path / "us.csv").write_text("kunde,alter,einkommen\n" + "".join(
        f"K{i},{(20 + i) / 4},\"{20_000 + 731 * i:,.2f}\"\n" for i in range(5)))
    result = run_cli("predict", run, tmp_path / "us.csv", "-o", "-", "--delimiter", ",")
    assert result.exit_code == 2  # both marks the other way round: both options named at once
    assert "hint: the file is read with a decimal comma, and '20,000.00' in 'einkommen' groups thousands with " \
           "commas: read the file with --decimal '.' --thousands ','" in result.output
    result = run_cli("predict", run, tmp_path / "us.csv", "-o", "-", "--delimiter", ",", "--decimal", ".")
    assert result.exit_code == 2
    assert "line 3, column 'einkommen': '20,731.00'" in result.output
    assert "hint: the file is read without a thousands separator, and '20,000.00' in 'einkommen' groups them with " \
           "',': read the file with --thousands ','" in result.output
    us = run_cli("predict", run, tmp_path / "us.csv", "-o", "-", "--delimiter", ",", "--decimal", ".",
                 "--thousands", ",")
    eu = run_cli("predict", run, tmp_path / "eu.csv", "-o", "-")
    assert us.exit_code == 0 and us.output == eu.output, us.output
    result = run_cli("evaluate", run, "--data", tmp_path / "eu.csv", "--thousands", "none")
    assert result.exit_code == 2 and "hint: the file is read without a thousands separator" in result.output
    for args, message in [(["--thousands", "x"], "--thousands: expected one character that groups digits"),
                          (["--thousands", ",", "--decimal", ","], "--thousands and --decimal are both ','"),
                          (["--thousands", ","], "--thousands ',': the file is read with ',' as its decimal mark, "
                                                 "as the run's training files were\n  hint: give the file's decimal "
                                                 "mark as well: --decimal '.'")]:
        result = run_cli("predict", run, tmp_path / "us.csv", "--delimiter", ",", *args)
        assert result.exit_code == 2 and message in result.output, result.output
    with pytest.raises(UserError, match="^thousands: expected one character"):  # the keyword, from Python
        nnrun.evaluate(run, data=tmp_path / "us.csv", thousands="ab")


def test_a_run_grouping_whole_numbers_with_points_reads_new_files_as_it_did(run_cli, tmp_path):
    # thousands: "." with the default decimal point (whole numbers such as 1.234.567):
    # predict reads '30.696' as 30696 too, not as 30.696.
    rows = ["amount,size,label"] + [f'{10 + i % 50}.{(100 + 37 * i) % 1000:03d},{i % 5},{"ab"[i % 2]}'
                                    for i in range(60)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "d.yaml").write_text(
        "name: d\ndata:\n  source: {type: csv, path: d.csv, target: label, thousands: '.'}\n"
        "model:\n  layers: [{type: dense, units: 2, activation: softmax}]\nloss: categorical_crossentropy\n"
        "training: {epochs: 1}\n")
    run = nnrun.train(tmp_path / "d.yaml", run_dir=tmp_path / "run", quiet=True).run_dir
    (tmp_path / "new.csv").write_text("amount,size\n30.696,1\n51.234,2\n")
    plain = run_cli("predict", run, tmp_path / "new.csv", "-o", "-", "--thousands", ".", "--decimal", ".")
    as_trained = run_cli("predict", run, tmp_path / "new.csv", "-o", "-")
    assert as_trained.exit_code == plain.exit_code == 0, as_trained.output
    assert as_trained.output == plain.output and "far outside" not in as_trained.output
    (tmp_path / "whole.csv").write_text("amount,size\n30696,1\n51234,2\n")
    assert run_cli("predict", run, tmp_path / "whole.csv", "-o", "-").output == as_trained.output


def test_numbers_read_far_outside_the_training_range_are_noted(run_cli, tmp_path):
    # '20.731' meant 20731 (a point grouping thousands), read with --decimal '.' as 20.731:
    # a number, so no bad cell, but a thousandth of any income training saw.
    run = _trained(tmp_path)
    seen = [c["range"] for c in json.loads((run / "preprocess.json").read_text())["columns"]["columns"]
            if c["name"] == "einkommen"][0]
    assert 20000 <= seen[0] < seen[1] <= 20000 + 731 * 79  # the training split's smallest and largest
    (tmp_path / "points.csv").write_text("kunde,alter,einkommen\nK0,5.0,20.731\nK1,5.5,21.462\nK2,6.0,40000\n")
    result = run_cli("predict", run, tmp_path / "points.csv", "-o", "-", "--delimiter", ",", "--decimal", ".")
    assert result.exit_code == 0, result.output
    assert (f"note: 2 of 3 values in 'einkommen' lie far outside what training saw ({seen[0]:g} to {seen[1]:g}), e.g. "
            "20.731 at "
            "line 2: another unit or number format? The model says little about such rows; --decimal and "
            "--thousands read a file written otherwise") in " ".join(result.output.split())
    assert "'alter'" not in result.output  # 5.0 to 6.0: inside its range
    numbers = {"kunde": ["K0", "K1"], "alter": [5.0, 5.5], "einkommen": [20.731, 21.462]}
    (note,) = nnrun.load(run).predict(numbers).notes
    assert note.startswith("2 of 2 values in 'einkommen' lie far outside") and note.endswith("about such rows")
    assert not nnrun.load(run).predict({**numbers, "einkommen": [20731.0, 80000.0]}).notes  # a little past: new data
    # One row far apart among ordinary ones: no other unit, but that row is told, with its line.
    (tmp_path / "one.csv").write_text("kunde,alter,einkommen\nK0,5.0,20731\nK1,5.5,21462\nK2,6.0,9000000\n")
    result = run_cli("predict", run, tmp_path / "one.csv", "-o", "-", "--delimiter", ",", "--decimal", ".")
    assert (f"note: 1 of 3 values in 'einkommen' lie far outside what training saw ({seen[0]:g} to {seen[1]:g}): "
            "9e+06 at line 4; the model extrapolates there and says little about such rows") in \
        " ".join(result.output.split())


def test_serving_reads_a_number_sent_as_text_with_the_runs_decimal_comma(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from nnrun.commands.serve import ServedModel, create_app

    run = _trained(tmp_path)
    client = TestClient(create_app(ServedModel.load(run)))
    as_text = client.post("/predict", json={"instances": [{"alter": "5,5", "einkommen": "20.000,25"}]})
    as_numbers = client.post("/predict", json={"instances": [{"alter": 5.5, "einkommen": 20000.25}]})
    assert as_text.status_code == 200, as_text.json()
    assert as_text.json()["predictions"] == as_numbers.json()["predictions"]
    numbers = [c for c in client.get("/metadata").json()["columns"] if c["type"] == "number"]
    assert [(c["name"], c["decimal"], c["thousands"]) for c in numbers] == [("alter", ",", "."),
                                                                            ("einkommen", ",", ".")]
    bad = client.post("/predict", json={"instances": [{"alter": "5.5", "einkommen": 1}]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["msg"] == ("instance 0, field 'alter': '5.5' is not a number (the run reads numbers "
                                              "written with a decimal comma, as in '5,5'; or send a JSON number)")


def test_parse_numbers_reads_cells_with_either_mark():
    problems = DataProblems("request", scoring=True)
    values = parse_numbers(["3,25", " -1.000,5 ", "NA"], "a", np.arange(3), problems, thousands=".", decimal=",")
    assert not problems
    np.testing.assert_array_equal(values[:2], np.float32([3.25, -1000.5]))
    assert np.isnan(values[2])


def test_hints_fit_the_settings_already_made(tmp_path):
    # Under a decimal comma, '1.257' is a number with a point, not one with a thousands separator.
    from nnrun.data.cell_hints import scoring_hint

    hint = scoring_hint("a", np.array(["1.257", "2.5"], dtype=object), None, ",")
    assert hint == ("the model reads numbers in 'a' with a decimal comma, as training read them: write '1.257' as "
                    "'1,257'")
    # Under a decimal point, '50,000' may group thousands or mark decimals: both are told,
    # thousands first (as validate reads it), where '3,25' can only be a decimal comma.
    grouped = np.array(["50,000", "120,500"], dtype=object)
    assert scoring_hint("a", grouped, None, ".", options=True) == (
        "the file is read with a decimal point and no thousands separator, and '50,000' in 'a' has a comma: if it "
        "groups thousands, read the file with --thousands ','; if it is a decimal comma, with --decimal ','")
    assert scoring_hint("a", grouped, None, ".") == (
        "the model reads plain numbers in 'a' (it was trained without data.source.thousands): write '50,000' as "
        "50000, or as 50.000 if its comma is a decimal mark")
    # Grouped with another separator than the run's, or decimals where a point groups thousands.
    assert scoring_hint("a", np.array(["46 552.1", "12 000.5"], dtype=object), ",", ".", options=True) == (
        "the file is read with ',' between thousands, and '46 552.1' in 'a' groups them with ' ': read the file with "
        "--thousands space")
    assert scoring_hint("a", np.array(["46552.1"], dtype=object), ".", ".", options=True) == (
        "the file is read with '.' between thousands, so a number has no decimal point, and '46552.1' in 'a' has one: "
        "read the file with --thousands none")
    assert scoring_hint("a", np.array(["3,25", "50,000"], dtype=object), None, ".", options=True) == (
        "the file is read with a decimal point, and '3,25' in 'a' has a decimal comma: read the file with --decimal "
        "','")
    # Read with ',' between thousands (its other cells, '1,000', fit that): a typo, not a file of decimal commas.
    assert scoring_hint("a", np.array(["30,69"], dtype=object), ",", ".", options=True) == (
        "the file is read with ',' between thousands, and '30,69' in 'a' has a comma that is not between groups of "
        "three digits: fix the cell (--decimal ',' would read every number of the file with a decimal comma, '1,000' "
        "as 1)")
    # decimal: "," already given: the hint for a semicolon file names only the delimiter.
    (tmp_path / "s.csv").write_text("a;b\n1,5;2\n")
    with pytest.raises(UserError) as caught:
        read_header(tmp_path / "s.csv", delimiter="\t", decimal=",")
    assert caught.value.hint == 'set data.source.delimiter: ";"'
    with pytest.raises(UserError) as caught:
        read_header(tmp_path / "s.csv")
    assert caught.value.hint == 'set data.source.delimiter: ";" and data.source.decimal: "," (it writes numbers like 1,5)'
    # '1,421' beside '424.48' groups thousands: no decimal comma is suggested; '3,25' is one whatever is beside it.
    (tmp_path / "t.csv").write_text("text;price;label\nhello there;424.48;a\nother one;1,421;b\n")
    with pytest.raises(UserError) as caught:
        read_header(tmp_path / "t.csv")
    assert caught.value.hint == 'set data.source.delimiter: ";"'
    (tmp_path / "t.csv").write_text("text;price;label\nhello there;424.48;a\nother one;3,25;b\n")
    with pytest.raises(UserError) as caught:
        read_header(tmp_path / "t.csv")
    assert caught.value.hint.endswith("(it writes numbers like 3,25)")


def test_no_break_spaces_between_thousands_get_their_hint_and_are_read(tmp_path):
    text = "a;b\n17\u00a0636;1\n23\u00a0001;2\n"
    _, report = _read(tmp_path, text, delimiter=";")
    assert "set data.source.thousands: \"\\u00a0\"" in report
    columns, report = _read(tmp_path, text, delimiter=";", thousands="\u00a0")
    assert not report
    np.testing.assert_array_equal(columns.number("a"), np.float32([17636, 23001]))


def test_a_file_saved_by_excel_on_windows_reads_with_its_encoding(run_cli, tmp_path):
    # cp1252, as Excel on Windows saves "CSV": 'Köln' is not UTF-8 there.
    lines = ["kunde;stadt;alter;klasse"] + [f"K{i};{('Köln', 'München', 'Düsseldorf')[i % 3]};{20 + i % 40},5;"
                                            f"{'ab'[(i * 7 // 3) % 2]}" for i in range(80)]
    source = ', delimiter: ";", decimal: ",", categorical: [stadt]'
    config = _config(tmp_path, [], source, name="win.csv")
    (tmp_path / "win.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    result = run_cli("validate", config)
    assert result.exit_code == 2
    assert "win.csv, line 2: not UTF-8 text (bad byte at offset " in result.output
    assert "hint: it reads as cp1252, what Excel on Windows saves as 'CSV': set data.source.encoding: cp1252" \
        in " ".join(result.output.split())
    assert "then also" not in result.output  # its separator and decimal mark are set already
    # Without them, the three fixes are told in one round.
    result = run_cli("validate", config, "--set", 'data.source.delimiter=","', "--set", 'data.source.decimal="."')
    assert 'then also set data.source.delimiter: ";" and data.source.decimal: "," (it writes numbers like 20,5)' \
        in " ".join(result.output.split())
    result = run_cli("train", config, "--set", "data.source.encoding=cp1252", "--run-dir", tmp_path / "run", "-q")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "preprocess.json").read_text())["columns"]
    assert saved["text_encoding"] == "cp1252"
    assert sorted(next(c for c in saved["columns"] if c["name"] == "stadt")["categories"]) == \
        ["Düsseldorf", "Köln", "München"]
    (tmp_path / "new.csv").write_bytes("kunde;stadt;alter\nN1;Köln;33,5\n".encode("cp1252"))
    result = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    # Saved again by newer Excel as "CSV UTF-8": its byte order mark settles the encoding.
    (tmp_path / "new-utf8.csv").write_bytes("\ufeffkunde;stadt;alter\nN1;Köln;33,5\n".encode("utf-8"))
    result = run_cli("predict", tmp_path / "run", tmp_path / "new-utf8.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.output == run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o", "-").output
    labelled = "\ufeff" + "\n".join(lines) + "\n"
    (tmp_path / "labelled-utf8.csv").write_bytes(labelled.encode("utf-8"))
    assert run_cli("evaluate", tmp_path / "run", "--data", tmp_path / "labelled-utf8.csv").exit_code == 0
    # A run that reads UTF-8 is not told to change a setting it cannot: the file is to be saved so.
    ascii_lines = [line.replace("ö", "oe").replace("ü", "ue") for line in lines]
    utf = _config(tmp_path, ascii_lines, source, name="utf.csv")
    assert run_cli("train", utf, "--run-dir", tmp_path / "utf", "-q").exit_code == 0
    result = run_cli("predict", tmp_path / "utf", tmp_path / "new.csv", "-o", "-")
    assert result.exit_code == 2
    assert "not UTF-8 text" in result.output and "data.source.encoding" not in result.output
    assert "read it with --encoding cp1252" in " ".join(result.output.split())
    result = run_cli("predict", tmp_path / "utf", tmp_path / "new.csv", "-o", "-", "--encoding", "cp1252")
    assert result.exit_code == 2  # read now: 'Köln' decoded, and a category this run never saw
    assert "line 2, column 'stadt': 'Köln'" in result.output


def test_each_encoding_mistake_is_told_what_it_is(tmp_path):
    rows = "a,shade\n" + "".join(f"{i},{('dünkel', 'hell', 'grün')[i % 3]}\n" for i in range(30))
    cases = {
        # UTF-8 with one line in latin-1: cp1252 would garble the rest's accents.
        "mixed": (rows.encode("utf-8") + "31,dünkel\n".encode("latin-1"), "utf-8",
                  "line 32: not UTF-8 text", "the file holds UTF-8 text elsewhere: that line was written in another "
                  "encoding; fix its text"),
        "utf16": (rows.encode("utf-16"), "utf-8", "UTF-16 text, which nnrun does not read", "save the file as UTF-8"),
        # Without a byte order mark its zero bytes are no binary data: every other byte of the text.
        "utf16le": (rows.encode("utf-16-le"), "utf-8", "UTF-16 text, which nnrun does not read",
                    "save the file as UTF-8"),
        "bom": (("\ufeff" + rows).encode("utf-8"), "cp1252", "UTF-8 text, read as cp1252",
                "set data.source.encoding: utf-8"),
        "plain": (rows.encode("utf-8"), "cp1252", "UTF-8 text, read as cp1252", "set data.source.encoding: utf-8"),
        "not_cp1252": (rows.encode("cp1252") + b"32,\x81\n", "cp1252", "line 32: not cp1252 text", "not cp1252 text"),
        # Weights or a workbook handed over as a CSV file: binary, not text in another encoding.
        "weights": (b"\x10\x00\x00\x00{\"w\":\xff\xfe}", "utf-8", "not a CSV file: it holds binary data (a zero "
                    "byte at offset 1)", "give a CSV text file"),
        # Control bytes that decode as text: binary all the same, never a header to print.
        "controls": (b"\x00\x01\x02PK\x03\x04" * 100, "utf-8", "not a CSV file: it holds binary data (a zero byte "
                     "at offset 0)", "give a CSV text file"),
        # An Excel workbook renamed .csv, by its first bytes: a zip archive of xl/ parts.
        "workbook": (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml" + b"\x00" * 40 + b"xl/",
                     "utf-8", "not a CSV file: it holds a spreadsheet workbook", "save the sheet as a CSV file"),
    }
    for name, (data, text_encoding, message, hint) in cases.items():
        (tmp_path / f"{name}.csv").write_bytes(data)
        with pytest.raises(UserError) as caught:
            header = read_header(tmp_path / f"{name}.csv", text_encoding=text_encoding)
            read_columns(tmp_path / f"{name}.csv", header, ["a"], ["shade"], DataProblems(name),
                         text_encoding=text_encoding)
        assert message in str(caught.value), (name, str(caught.value))
        assert hint in caught.value.hint, (name, caught.value.hint)


def test_a_numpy_array_given_as_a_table_is_told_how_to_save_it(run_cli, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((5, 3)))
    result = run_cli("init", "--data", tmp_path / "x.npy", "-o", tmp_path / "x.yaml")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "not a CSV file: it holds binary data" in result.output
    assert "it is a NumPy array (.npy): save it as an .npz archive, which nnrun reads: numpy.savez(path, " \
        "x=samples), with y=targets beside them" in " ".join(result.output.split())


def test_a_semicolon_file_given_to_a_comma_run_is_told_its_decimal_comma_too(run_cli, tmp_path):
    """Both fixes at once, as validate tells them for a config: the separator alone led
    to 'not a number 5,0' next."""
    run = tmp_path / "run"
    config = _config(tmp_path, _european(separator=",", decimal="."), "")
    assert run_cli("train", config, "--quiet", "--run-dir", run).exit_code == 0
    (tmp_path / "new.csv").write_text("kunde;alter;einkommen\nK0;5,0;20000,25\nK1;6,5;30000,5\n")
    for command in (["predict", run, tmp_path / "new.csv", "-o", "-"],
                    ["evaluate", run, "--data", tmp_path / "new.csv"]):
        result = run_cli(*command)
        assert result.exit_code == 2
        assert ("hint: read it as it is with --delimiter ';' --decimal ',' (it writes numbers like 5,0), or save it "
                "with commas between the cells") in " ".join(result.output.split())
    result = run_cli("predict", run, tmp_path / "new.csv", "-o", "-", "--delimiter", ";", "--decimal", ",")
    assert result.exit_code == 0, result.output


def test_a_bad_cell_after_a_cell_of_several_lines_is_told_at_its_own_line(run_cli, tmp_path):
    """An Excel note with line breaks, in quotes: the row's first line was told as its last."""
    rows = ["a,note,y"] + [f'{i},"two\nlines",{"pq"[i % 2]}' for i in range(30)]
    rows[5] = 'oops,"two\nlines",p'
    (tmp_path / "ml.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "ml.yaml").write_text("data: {source: {type: csv, path: ml.csv, target: y, categorical: [note]}}\n"
                                      "model: {layers: [{type: dense, units: 2, activation: softmax}]}\n"
                                      "loss: categorical_crossentropy\n")
    assert (tmp_path / "ml.csv").read_text().splitlines()[9].startswith("oops")  # line 10 of the file
    result = run_cli("validate", "ml.yaml")
    assert result.exit_code == 2 and "line 10, column 'a': 'oops'" in result.output
    rows[5] = '5,"two\nlines",p,extra,more'  # init numbers a row as training does: by its first line
    (tmp_path / "ml.csv").write_text("\n".join(rows) + "\n")
    said = " ".join(run_cli("init", "--data", "ml.csv", "--target", "y", "-o", "-").output.split())
    assert "note: line 10 of ml.csv has 5 cells, but the header has 3 columns" in said


def test_unnamed_columns_at_the_end_of_the_header_are_told_as_a_spreadsheets_empty_cells(run_cli, tmp_path):
    lines = ["id;x;y;;"] + [f"{i};{i % 7},5;{'ab'[i % 2]};;" for i in range(40)]
    (tmp_path / "t2.csv").write_text("\r\n".join(lines) + "\r\n")
    result = run_cli("init", "--data", "t2.csv", "--target", "y", "-o", "-")
    assert result.exit_code == 2 and "columns 4 and 5 have no name" in result.output
    assert "the columns without a name are the last ones, as a spreadsheet writes a row's empty cells at its end " \
        "(';;'): delete them from the file" in " ".join(result.output.split())


def test_a_decimal_point_under_decimal_commas_is_told_so_with_a_no_break_space_for_thousands(run_cli, tmp_path):
    """French Excel: the hint once blamed the thousands setting, for a cell that has no space in it."""
    lines = ["m;t;c"] + [f"{i}\u00a0234,5;0,{i % 9};{'ab'[i % 2]}" for i in range(1, 40)] + ["1\u00a0000,0;1.00;a"]
    (tmp_path / "fr.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "fr.yaml").write_text('data: {source: {type: csv, path: fr.csv, target: c, delimiter: ";", '
                                      'decimal: ",", thousands: "\\u00a0"}}\nmodel: {layers: [{type: dense, units: 1, '
                                      'activation: sigmoid}]}\nloss: binary_crossentropy\n')
    said = " ".join(run_cli("validate", "fr.yaml").output.split())
    assert "line 41, column 't': '1.00'" in said and "holds numbers with a decimal point (like '1.00')" in said
    assert "thousands" not in said


def test_a_reading_hint_names_the_keyword_where_python_called(run_cli, tmp_path):
    """nnrun.evaluate(run, data=..., thousands=','), not the command line's --thousands ','."""
    from nnrun.api_calls import as_called

    hint = "read the file with --decimal '.' --thousands ','; or --thousands space, --thousands none, --encoding cp1252"
    assert as_called(hint) == ("read the file with decimal='.' thousands=','; or thousands=' ', thousands='', "
                               "encoding='cp1252'")
    run = tmp_path / "run"
    config = _config(tmp_path, _european(separator=",", decimal="."), "")
    assert run_cli("train", config, "--quiet", "--run-dir", run).exit_code == 0
    (tmp_path / "new.csv").write_text("kunde;alter;einkommen\nK0;5,0;20000,25\nK1;6,5;30000,5\n")
    with pytest.raises(UserError) as told:
        nnrun.evaluate(run, data=tmp_path / "new.csv")
    assert "read it as it is with delimiter=';' decimal=','" in told.value.hint
    assert "--" not in told.value.hint


@pytest.mark.parametrize(("first", "named"), [("sep=;", "semicolons"), ("SEP=,", "commas")])
def test_excels_separator_line_is_told_to_be_deleted(run_cli, tmp_path, first, named):
    separator = first[-1]
    (tmp_path / "x.csv").write_text(f"{first}\r\na{separator}b{separator}c\r\n1{separator}2{separator}x\r\n")
    (tmp_path / "x.yaml").write_text("data: {source: {type: csv, path: x.csv, target: c}}\n"
                                     "model: {layers: [{type: dense, units: 2, activation: softmax}]}\n"
                                     "loss: categorical_crossentropy\n")
    for args in (("init", "--data", "x.csv", "--target", "c"), ("validate", "x.yaml")):
        result = run_cli(*args)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert f"x.csv: line 1 is Excel's '{first}' line, not the header" in result.output
        assert f"hint: delete that line; the header is on line 2 (the file is separated by {named})" in result.output


def test_a_cell_with_a_sign_and_another_thousands_separator_gets_the_separator_hint(run_cli, tmp_path):
    # '5 347,51 €' with a plain space, for a run of no-break spaces and strip_signs: the sign hid the hint.
    rows = [f"{1000 + 37 * i:,}".replace(",", "\u00a0") + f",{i % 7} €;{'ab'[i % 2]}" for i in range(60)]
    (tmp_path / "fr.csv").write_text("ca;y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "fr.yaml").write_text(
        'data: {source: {type: csv, path: fr.csv, target: y, delimiter: ";", decimal: ",", thousands: "\\u00a0", '
        'strip_signs: ["€"]}}\nmodel: {layers: [{type: dense, units: 2, activation: softmax}]}\n'
        "loss: categorical_crossentropy\ntraining: {epochs: 1}\n")
    assert run_cli("train", "fr.yaml", "--run-dir", "r", "-q").exit_code == 0
    (tmp_path / "new.csv").write_text("ca\n5 347,51 €\n1 117,80 €\n", encoding="utf-8")
    result = run_cli("predict", "r", "new.csv", "-o", "-")
    assert result.exit_code == 2 and "line 2, column 'ca': '5 347,51 €'" in result.output
    assert "and '5 347,51' in 'ca' groups them with ' ': read the file with --thousands space" in \
        " ".join(result.output.split())
