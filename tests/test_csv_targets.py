"""Several target columns of a CSV file: a regression of several targets through
`nnrun train`, `predict`, `evaluate --data` and `serve`'s accepted columns, and every
mistake in naming them as a message and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

HEADER = "id,x1,x2,city,price,rent"


def houses(rows: int = 120) -> list[str]:
    rng = np.random.default_rng(0)
    lines = [HEADER]
    for i in range(rows):
        x1, x2, city = rng.normal(), rng.normal(), "abc"[i % 3]
        lines.append(f"{i},{x1:.4f},{x2:.4f},{city},{2 * x1 + (city == 'b'):.4f},{3 * x2 - x1:.4f}")
    return lines


def config(tmp_path: Path, lines: list[str], source: str = "") -> Path:
    (tmp_path / "houses.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "two.yaml"
    path.write_text(
        "name: two\nseed: 1\n"
        "data:\n  source: {type: csv, path: houses.csv, target: [price, rent], id: id, categorical: [city]"
        f"{source}}}\n  split: {{validation: 0.1, test: 0.2}}\n  preprocess: [standardize]\n"
        "model:\n  layers:\n    - {type: dense, units: 16, activation: relu}\n    - {type: dense, units: 2}\n"
        "loss: mse\noptimizer: {type: adam, learning_rate: 0.01}\nmetrics: [mae]\ntraining: {epochs: 20}\n")
    return path


def test_several_target_columns_train_predict_and_score_by_name(run_cli, tmp_path):
    path = config(tmp_path, houses())
    result = run_cli("train", path, "-q", "--run-dir", tmp_path / "run")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "preprocess.json").read_text())
    assert (saved["target"], saved["target_names"]) == (None, ["price", "rent"])
    assert saved["feature_names"] == ["x1", "x2", "city=a", "city=b", "city=c"]  # neither target is a feature
    # A file that carries the targets beside the features is predicted without a note about them.
    result = run_cli("predict", tmp_path / "run", tmp_path / "houses.csv", "-o", tmp_path / "p.csv")
    assert result.exit_code == 0 and "ignored" not in result.output, result.output
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "id,prediction_price,prediction_rent"
    result = run_cli("evaluate", tmp_path / "run", "--data", tmp_path / "houses.csv")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "run" / "eval-houses.json").read_text())
    assert report["regression"]["output_names"] == ["price", "rent"]
    assert min(output["r2"] for output in report["regression"]["per_output"]) > 0.8  # each target is learned


def test_a_served_instance_may_carry_every_target_column(tmp_path):
    pytest.importorskip("fastapi")
    import nnrun
    from nnrun.commands.serve import ServedModel

    nnrun.train(config(tmp_path, houses()), run_dir=tmp_path / "run", quiet=True)
    passed = ServedModel.load(tmp_path / "run").passed_columns()
    assert passed["price"] == passed["rent"] == "The target: accepted and unused."


def test_each_empty_target_cell_is_told_at_its_column_or_its_row_dropped(run_cli, tmp_path):
    lines = houses()
    lines[4] = lines[4].rsplit(",", 1)[0] + ","  # no rent
    cells = lines[8].split(",")
    lines[8] = ",".join(cells[:4] + ["", cells[5]])  # no price
    result = run_cli("train", config(tmp_path, lines), "-q", "--run-dir", tmp_path / "run")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "missing target (2 cells):\n    line 5, column 'rent'\n    line 9, column 'price'" in result.output
    result = run_cli("train", config(tmp_path, lines, ", missing_target: drop"), "-q", "--run-dir", tmp_path / "r2")
    assert result.exit_code == 0, result.output
    assert "dropped 2 rows with an empty target ('price', 'rent') (lines 5, 9)" in " ".join(result.output.split())


@pytest.mark.parametrize("source, lines, fragment", [
    (", ignore: [rent]", None, "data.source.ignore: lists 'rent', a target; a target is never a feature, leave it "
                               "out here"),
    (", features: [x1, price]", None, "data.source.features.1: lists 'price', a target"),
    (", test_path: t.csv", ["id,x1,x2,city,price", "1,0.5,0.5,a,1.0"],
     "data.source.test_path: {tmp}/t.csv lacks 1 column of {tmp}/houses.csv that the model reads ('rent')"),
    (", text: {column: rent}", None, "data.source.text.column: 'rent' is a target column (data.source.target)"),
])
def test_a_target_column_named_elsewhere_is_a_clear_error(run_cli, tmp_path, source, lines, fragment):
    if lines:
        (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("train", config(tmp_path, houses(), source), "-q", "--run-dir", tmp_path / "run")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert fragment.format(tmp=tmp_path) in " ".join(result.output.split())


def test_the_scale_of_several_targets_is_told_of_each_by_its_name(run_cli, tmp_path):
    """A price in the 100,000s beside a rent in the 10s: the warning names 'price', and
    judges its span alone (the two pooled would span far more than a hundredfold)."""
    rng = np.random.default_rng(1)
    lines = ["id,x1,x2,city,price,rent"]
    for i in range(120):
        x1 = rng.normal()
        lines.append(f"{i},{x1:.4f},{rng.normal():.4f},{'abc'[i % 3]},{500000 + 100000 * x1:.0f},{80 + 10 * x1:.2f}")
    result = run_cli("validate", config(tmp_path, lines), "--set", "data.preprocess=[]")
    out = " ".join(result.output.split())
    assert "warning: the target 'price' has mean" in out, out
    assert "log1p" not in out  # price alone spans under a hundredfold


def test_a_target_of_words_among_several_is_told_to_be_predicted_apart(run_cli, tmp_path):
    """Not 'use a classification loss', which several targets would then refuse."""
    path = config(tmp_path, houses())
    result = run_cli("validate", path, "--set", "data.source.target=[price, city]", "--set", "data.source.categorical=[]")
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and "hint: 'city', one of the targets, holds words like" in out
    assert "leave it out of data.source.target, and predict it with a model of its own (a classification loss)" in out


def test_a_file_of_targets_alone_and_an_empty_file_of_several_targets_are_told(run_cli, tmp_path):
    result = run_cli("train", config(tmp_path, ["price,rent", "1,2", "3,4"]), "-q", "--run-dir", tmp_path / "run",
                     "--set", "data.source.id=[]", "--set", "data.source.categorical=[]")
    assert result.exit_code == 2 and "no feature columns besides the targets 'price', 'rent'" in result.output
    lines = [HEADER, *[row.rsplit(",", 2)[0] + ",," for row in houses()[1:]]]  # no target anywhere
    result = run_cli("train", config(tmp_path, lines, ", missing_target: drop"), "-q", "--run-dir", tmp_path / "r2")
    assert result.exit_code == 2 and "has an empty 'price' or 'rent', and missing_target: drop left none" in \
        " ".join(result.output.split())
