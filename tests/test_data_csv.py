"""CSV data through `nnrun train`: string labels, categories and imputation learned on
the training split, and every bad-data case as a message and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import nnrun
from nnrun.config.schema import DataConfig
from nnrun.data import load_splits

ROWS = [
    "size,shade,label",
    *[f"{i % 7 + 1},{'dark' if i % 2 else 'light'},{'cat' if i % 3 else 'dog'}" for i in range(30)],
]


def csv_config(tmp_path: Path, source: str, lines: list[str] = ROWS, split: str = "{validation: 0, test: 0.2}") -> Path:
    """A config next to its data file (read relative to the config's folder)."""
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "table.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "csv.yaml"
    path.write_text(
        "name: csv\n"
        f"data:\n  source: {source}\n  split: {split}\n  preprocess: [standardize]\n"
        "model:\n  layers:\n    - {type: dense, units: 2, activation: softmax}\n"
        "loss: categorical_crossentropy\nmetrics: [accuracy]\ntraining: {epochs: 1}\n"
    )
    return path


SOURCE = "{type: csv, path: data/table.csv, target: label, categorical: [shade]}"


def train(run_cli, config: Path, *extra: str):
    return run_cli("train", config, "--quiet", "--run-dir", config.parent / "run", *extra)


def test_csv_trains_with_string_labels_and_categories(run_cli, tmp_path):
    result = train(run_cli, csv_config(tmp_path, SOURCE))
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "preprocess.json").read_text())
    assert saved["class_names"] == ["cat", "dog"]
    assert saved["feature_names"] == ["size", "shade=dark", "shade=light"]
    assert saved["target"] == "label"
    assert [c["kind"] for c in saved["columns"]["columns"]] == ["numeric", "categorical"]
    # The saved config finds the data wherever it is run from.
    assert str(tmp_path / "data" / "table.csv") in (tmp_path / "run" / "config.yaml").read_text()
    # evaluate rebuilds the split and reapplies the saved encoding: same test score.
    assert run_cli("evaluate", tmp_path / "run").exit_code == 0
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    report = json.loads((tmp_path / "run" / "eval-test.json").read_text())
    assert report["metrics"]["accuracy"] == pytest.approx(meta["final"]["test"]["accuracy"])
    assert report["metrics"]["loss"] == pytest.approx(meta["final"]["test"]["loss"], rel=1e-5)


def test_categories_and_means_are_learned_on_the_training_split_only(tmp_path):
    lines = ["v,c,label"] + [f"{i},a,x" for i in range(8)] + ["1000,b,y", "1000,b,y"] + ["NA,a,x", ",,y"]
    (tmp_path / "table.csv").write_text("\n".join(lines) + "\n")
    data = DataConfig(
        source={"type": "csv", "path": str(tmp_path / "table.csv"), "target": "label",
                "categorical": ["c"], "missing": "mean"},
        split={"validation": 0, "test": 0.3, "stratify": True},
    )
    splits = load_splits(data, seed=0)
    train = splits.parts["train"]
    columns = {c["name"]: c for c in splits.columns["columns"]}
    # Missing cells were filled with the training mean, so the filled column keeps that mean.
    assert columns["v"]["fill"] == pytest.approx(float(train.x[:, 0].mean()), rel=1e-5)
    assert set(columns["c"]["categories"]) <= {"a", "b"}
    assert not np.isnan(np.concatenate([p.x for p in splits.parts.values()])).any()


@pytest.mark.parametrize(
    "lines, source, fragment",
    [
        (["size,shade,label", "1,dark,cat", "", "two,light,dog"], SOURCE,
         "not a number (1 cell):\n    line 4, column 'size': 'two'"),  # blank lines count
        (["size,shade,label", '1,"dark\nblue",cat', "two,light,dog"], SOURCE,
         "not a number (1 cell):\n    line 4, column 'size': 'two'"),  # and so do quoted line breaks
        (["size,shade,label", "1,dark,cat", ",light,dog"], SOURCE,
         "missing value (1 cell):\n    line 3, column 'size'"),
        (["size,shade,label", "1,dark,cat", "2,light,"], SOURCE,
         "missing target (1 cell):\n    line 3, column 'label'"),
        (["size,shade,label", "1,dark,cat", "2,light"], SOURCE, "table.csv: 1 problem in the data\n  rows with the wrong number of cells (1):\n    line 3: 2 cells, but the header has 3"),
        (ROWS, "{type: csv, path: data/table.csv, target: lable}",
         "csv.yaml:3:53: data.source.target: 'lable' is not a column of"),
        # Several target columns are a regression's; one-hot columns are pointed to one of labels.
        (["size,shade,cat,dog", "1,dark,1,0", "2,light,0,1"], "{type: csv, path: data/table.csv, target: [cat, dog]}",
         "csv.yaml:3:53: data.source.target: names 2 columns, which is a regression of several targets, but the task "
         "is a classification (from the loss or data.source.task); a classification reads its class labels from one "
         "column. For several values, use a regression loss (mse, mae, huber). For one-hot columns, write the class "
         "names into one column (pandas: df[columns].idxmax(axis=1)) and name that one"),
        (ROWS, "{type: csv, path: data/table.csv, target: []}", "data.source.target: expected the column to predict, "
         "or a list of the columns to predict; got an empty list"),
        (ROWS, "{type: csv, path: data/table.csv, target: [label, size, label]}",
         "data.source.target: names 'label' twice; name each column to predict once"),
        (ROWS, "{type: csv, path: data/table.csv, target: label, features: [sise]}",
         "data.source.features: 'sise' is not a column of"),
        (ROWS, "{type: csv, path: data/table.csv, target: label, categorical: [shad]}",
         "data.source.categorical: 'shad' is not a column of"),
        (ROWS, "{type: csv, path: data/table.csv, target: label, id: [shade], categorical: [shade]}",
         "data.source.categorical: lists 'shade', an id column (data.source.id), which is copied into predictions, never learned"),
        # Every misspelt name at once, whichever key lists it.
        (ROWS, "{type: csv, path: data/table.csv, target: lable, features: [sise, shade], categorical: [shad]}",
         "3 problems in the config"),
        # Of several names, each wrong one is pointed at where it stands in the list.
        (ROWS, "{type: csv, path: data/table.csv, target: label, categorical: [shade, sise]}",
         "csv.yaml:3:81: data.source.categorical.1: 'sise' is not a column of"),
        # A column named twice in one list, at the repeat.
        (ROWS, "{type: csv, path: data/table.csv, target: label, features: [size, shade, size]}",
         "data.source.features.2: lists 'size' again (it is item 0 too); name each column once"),
        (ROWS, "{type: csv, path: data/table.csv, target: label, categorical: [shade, shade]}",
         "data.source.categorical.1: lists 'shade' again (it is item 0 too)"),
        (ROWS, "{type: csv, path: data/nothere.csv, target: label}", "csv.yaml:3:29: data.source.path: "),
        (ROWS, "{type: csv, path: data/nothere.csv, target: label}", "nothere.csv: no such file; a relative "
         "path in a config is read from the config file's folder (in a dict or a --set, from the working "
         "directory); a run's config.yaml holds the absolute path"),
        (ROWS, "{type: csv, path: data/table.csv, test_path: data/t.csv, target: label}",
         "csv.yaml:3:56: data.source.test_path: "),
        # Every file not there, at once, each at its key.
        (ROWS, "{type: csv, path: data/nothere.csv, test_path: data/t.csv, target: label}",
         "2 problems in the config"),
        (["size,shade,label"], SOURCE, "table.csv: no data rows under the header"),
        (ROWS[:5], SOURCE, "data.split.test: the test split would be empty"),
        (["size,size,label,size", "1,2,cat,3"], "{type: csv, path: data/table.csv, target: label}",
         "table.csv: line 1, the header, does not name each column once: 'size' is columns 1, 2 and 4\n"
         "  hint: give each column a name of its own in the file's first line"),
        (["size;shade;label", "1;dark;cat"], SOURCE,
         "table.csv: the header is one column, 'size;shade;label': the file looks separated by semicolons, "
         "not commas\n  hint: set data.source.delimiter: \";\""),
        (["size\tshade\tlabel", "1\tdark\tcat"], SOURCE, "the file looks separated by tabs"),
    ],
)
def test_bad_csv_data_is_a_clear_error(run_cli, tmp_path, lines, source, fragment):
    result = train(run_cli, csv_config(tmp_path, source, lines, split="{validation: 0, test: 0.1}"))
    assert result.exit_code == 2
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_a_file_not_in_utf8_says_how_to_save_it(run_cli, tmp_path):
    config = csv_config(tmp_path, SOURCE)
    (tmp_path / "data" / "table.csv").write_bytes("size,shade,label\n1,dünkel,cat\n2,light,dog\n".encode("latin-1"))
    result = train(run_cli, config)
    assert result.exit_code == 2
    assert "table.csv, line 2: not UTF-8 text (bad byte at offset 20)\n  hint: it reads as cp1252, what Excel on " \
        "Windows saves as 'CSV': set data.source.encoding: cp1252, or save the file as UTF-8 (spreadsheet programs " \
        "call it 'CSV UTF-8')" in result.output
    lines = ["size,shade,label"] + [f"{i},dark,{'cat' if i % 2 else 'dog'}" for i in range(3000)]
    text = ("\ufeff" + "\n".join(lines) + "\n4,dünkel,cat\n")  # a byte order mark first, as Excel writes
    (tmp_path / "data" / "table.csv").write_bytes(text.encode("utf-8")[:3] + text[1:].encode("latin-1"))
    result = train(run_cli, config)  # past the header's first block: the reader finds it
    assert result.exit_code == 2
    offset = len(text[1:].encode("latin-1").split(b"\xfc")[0]) + 3
    assert f"table.csv, line 3002: not UTF-8 text (bad byte at offset {offset})" in result.output


def test_class_missing_from_training_split(run_cli, tmp_path):
    lines = ["size,shade,label"] + [f"{i},dark,cat" for i in range(10)]
    config = csv_config(tmp_path, SOURCE.replace("}", ", test_path: data/test.csv}"), lines, split="{validation: 0}")
    (tmp_path / "data" / "test.csv").write_text("size,shade,label\n3,light,dog\n2,dark,cat\n")
    result = train(run_cli, config)
    assert result.exit_code == 2
    assert "data.source: class 'dog' is only in the test file, never in the training data: fix the label there, " \
        "or add rows of it to the training file" in result.output


def test_a_single_row_class_held_out_is_called_a_possible_typo(run_cli, tmp_path):
    lines = ["size,shade,label"] + [f"{i},dark,{'cat' if i % 2 else 'dog'}" for i in range(40)] + ["7,dark,dgo"]
    config = csv_config(tmp_path, SOURCE, lines, split="{validation: 0, test: 0.5, stratify: false}")
    outputs = [run_cli("validate", config, "--set", f"seed={seed}") for seed in range(6)]
    held_out = [r for r in outputs if "'dgo' has a single row" in r.output]  # the seeds whose split holds it out
    assert held_out and all(r.exit_code == 2 for r in held_out)
    result = held_out[0]
    assert "class 'dgo' has a single row, which the split held out (a typo in a label?); fix the label, or use " \
        "more data, smaller validation/test fractions, or stratify: true" in result.output
    # Two of them held out together are named as two, in one sentence.
    lines += ["8,dark,cta"]
    config = csv_config(tmp_path, SOURCE, lines, split="{validation: 0, test: 0.5, stratify: false}")
    outputs = [run_cli("validate", config, "--set", f"seed={seed}").output for seed in range(12)]
    both = [o for o in outputs if "classes 'cta' and 'dgo' each have a single row" in o]
    assert both and "(typos in labels?); fix the labels, or use more data" in " ".join(both[0].split())


def train_with_files(run_cli, tmp_path, validation: str, test: str):
    """Train on the table with these texts as the validation and the test file."""
    source = SOURCE.replace("}", ", validation_path: data/val.csv, test_path: data/test.csv}")
    config = csv_config(tmp_path, source, split="{}")
    (tmp_path / "data" / "val.csv").write_text(validation)
    (tmp_path / "data" / "test.csv").write_text(test)
    return train(run_cli, config)


def test_explicit_validation_and_test_files(run_cli, tmp_path):
    result = train_with_files(run_cli, tmp_path, "size,shade,label\n3,dark,cat\n4,light,dog\n",
                              "label,size,shade\ncat,3,dark\ndog,1,light\ncat,2,dark\n")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["samples"] == {"train": 30, "validation": 2, "test": 3}
    # The run's config.yaml says the files fill those splits, so it is used as it is:
    # evaluated, trained again to the same samples, resumed.
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert {key: saved["data"]["split"][key] for key in ("validation", "test")} == {"validation": 0.0, "test": 0.0}
    assert run_cli("evaluate", tmp_path / "run").exit_code == 0
    again = run_cli("train", tmp_path / "run" / "config.yaml", "--run-dir", tmp_path / "again", "--quiet")
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "again" / "meta.json").read_text())["samples"] == meta["samples"]
    resumed = run_cli("train", "--resume", tmp_path / "run", "--set", "training.epochs=3", "--quiet")
    assert resumed.exit_code == 0, resumed.output
    # Resumed with the config file it started from, whose split fractions were left to
    # their defaults: the same config, trained longer.
    longer = run_cli("train", tmp_path / "csv.yaml", "--resume", tmp_path / "run", "--set", "training.epochs=4",
                     "--quiet")
    assert longer.exit_code == 0, longer.output
    assert json.loads((tmp_path / "run" / "meta.json").read_text())["epochs_completed"] == 4


def test_validation_and_test_files_lacking_columns_are_named_at_their_keys(run_cli, tmp_path):
    result = train_with_files(run_cli, tmp_path, "size,shade,kind\n3,dark,cat\n", "size,colour,label\n3,dark,cat\n")
    assert result.exit_code == 2
    assert "2 problems in the config" in result.output
    assert "data.source.test_path: " in result.output and "test.csv lacks 1 column of" in result.output
    assert "that the model reads ('shade'); every file of the source needs the target and the feature columns, " \
        "under the same names" in result.output
    assert "data.source.validation_path: " in result.output and "val.csv lacks 1 column of" in result.output
    assert "('label')" in result.output
    assert "data.source.0" not in result.output and "Traceback" not in result.output


def test_explicit_test_file_and_test_fraction_conflict(run_cli, tmp_path):
    config = csv_config(tmp_path, SOURCE.replace("}", ", test_path: data/test.csv}"), split="{test: 0.2}")
    (tmp_path / "data" / "test.csv").write_text("size,shade,label\n3,dark,cat\n")
    result = train(run_cli, config)
    assert result.exit_code == 2
    assert "csv.yaml:4:17: data.split.test: the test split is given by data.source (a file or arrays of its own, " \
        "as x_test in an .npz); set this to 0 or leave it out" in " ".join(result.output.split())


def test_regression_target(tmp_path):
    (tmp_path / "r.csv").write_text("a,b,y\n1,2,0.5\n2,3,1.5\n4,5,2.5\n")
    data = DataConfig(source={"type": "csv", "path": str(tmp_path / "r.csv"), "target": "y", "task": "regression"},
                      split={"validation": 0, "test": 0})
    train = load_splits(data, seed=0).parts["train"]
    assert train.y.dtype == np.float32 and train.y.tolist() == [0.5, 1.5, 2.5]
    assert train.x.tolist() == [[1, 2], [2, 3], [4, 5]]


def test_fingerprint_follows_the_data(run_cli, tmp_path):
    config = csv_config(tmp_path, SOURCE)
    assert train(run_cli, config).exit_code == 0
    assert run_cli("train", config, "-q", "--run-dir", tmp_path / "again").exit_code == 0
    first, again = (json.loads((tmp_path / d / "meta.json").read_text()) for d in ("run", "again"))
    assert first["split_fingerprints"] == again["split_fingerprints"]
    (tmp_path / "data" / "table.csv").write_text("\n".join(ROWS).replace("light", "pale") + "\n")
    assert run_cli("train", config, "-q", "--run-dir", tmp_path / "changed").exit_code == 0
    changed = json.loads((tmp_path / "changed" / "meta.json").read_text())
    assert changed["dataset_fingerprint"] != first["dataset_fingerprint"]


def test_numeric_labels_sort_as_numbers():
    from nnrun.data.base import label_classes

    codes, names = label_classes(np.array(["10", "9", "1.0", "9"]))
    assert names == ["1", "9", "10"] and codes.tolist() == [2, 1, 0, 1]


def test_numeric_labels_keep_every_digit_and_one_number_is_one_class():
    from nnrun.data.base import label_classes

    codes, names = label_classes(np.array(["9007199254740993", "9007199254740992", "5"]))  # past float's 2**53
    assert names == ["5", "9007199254740992", "9007199254740993"] and codes.tolist() == [2, 1, 0]
    codes, names = label_classes(np.array(["01", "02", "1", "2.0"]))  # as a number column reads them
    assert names == ["1", "2"] and codes.tolist() == [0, 1, 0, 1]


def test_codes_longer_than_an_int64_train_and_predict_as_written(tmp_path, run_cli):
    codes = ["10000000000000000001", "10000000000000000002", "20000000000000000000"]
    lines = ["size,label", *[f"{i % 3 + 0.5 * (i % 2)},{codes[i % 3]}" for i in range(30)]]
    config = csv_config(tmp_path, "{type: csv, path: data/table.csv, target: label}", lines)
    config.write_text(config.read_text().replace("units: 2", "units: 3"))
    assert train(run_cli, config).exit_code == 0
    saved = json.loads((tmp_path / "run" / "preprocess.json").read_text())
    assert saved["class_names"] == codes
    (tmp_path / "new.csv").write_text("size\n0\n1\n2\n")
    result = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "--output", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out.csv").read_text().splitlines()
    assert all(line.split(",")[-1] in codes for line in written[1:] if "prediction" not in line)
    import nnrun

    predicted = nnrun.load(tmp_path / "run").predict({"size": [0.0, 1.0]})
    assert set(predicted.predictions.tolist()) <= set(codes)  # text: no int64 holds them
    from nnrun.commands.loaded import class_values

    assert class_values(["-5", "3"]).tolist() == [-5, 3]
    assert class_values(["-5", "--5", "²"]).tolist() == ["-5", "--5", "²"]  # not all whole numbers: text


def test_most_frequent_imputation(tmp_path):
    (tmp_path / "t.csv").write_text("v,c,label\n1,a,x\n1,b,y\n3,b,x\n,,y\n")
    data = DataConfig(source={"type": "csv", "path": str(tmp_path / "t.csv"), "target": "label",
                              "categorical": ["c"], "missing": "most_frequent"},
                      split={"validation": 0, "test": 0})
    train = load_splits(data, seed=0).parts["train"]
    assert train.feature_names == ["v", "c=a", "c=b"]
    assert train.x[3].tolist() == [1.0, 0.0, 1.0]  # v -> 1 (twice), c -> b (twice)


def test_coded_columns_encode_as_the_cells_do(tmp_path):
    """A CSV file's text columns arrive coded (codes into their distinct cells) and a
    request's cells do not; both give the same categories, fill values and features,
    padded 'NA ', an empty cell (filled) and an unseen category (zeros) included."""
    from nnrun.data.csvfile import read_columns
    from nnrun.data.csvheader import read_header
    from nnrun.data.problems import DataProblems
    from nnrun.data.encoding import encode_columns, fit_columns
    from nnrun.data.table import build_table, table_from

    lines = ["v,c", "1,a", "2, b ", "3,NA ", "4,a", "5,z", "6,"]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    columns = read_columns(path, read_header(path), ["v"], ["c"], DataProblems(str(path)))
    read = table_from(str(path), columns, ["v", "c"], ["c"])
    given = build_table("request", ["v", "c"], [line.split(",") for line in lines[1:]], ["v", "c"], ["c"], range(2, 8))
    assert read.coded and not given.coded
    train = np.array([0, 1, 2, 3])
    state = fit_columns(read.take(train), "most_frequent")
    assert state == fit_columns(given.take(train), "most_frequent")
    assert state["columns"][1] == {"name": "c", "kind": "categorical", "categories": ["a", "b"], "fill": "a"}
    expected = [[1, 1, 0], [2, 0, 1], [3, 1, 0], [4, 1, 0], [5, 0, 0], [6, 1, 0]]
    assert encode_columns(read, state).tolist() == expected
    assert encode_columns(given, state).tolist() == expected


def test_a_class_without_rows_is_not_said_to_be_in_a_file():
    # One-hot targets with a column never set: class '3' has no rows anywhere.
    from nnrun.data import Dataset, SplitConfig, split_indices
    from nnrun.errors import ConfigError

    y = np.arange(30) % 3
    data = Dataset(np.zeros((30, 2), np.float32), y, "classification", ["a", "b"], ["0", "1", "2", "3"],
                   assigned=np.where(np.arange(30) < 24, -1, 2).astype(np.int8))
    with pytest.raises(ConfigError) as error:
        split_indices(data, SplitConfig(validation=0, test=0), np.random.default_rng(0))
    message = str(error.value.problems[0].message)
    assert "class '3' has no samples in the training split" in message and "file" not in message


def test_an_unshuffled_split_keeps_the_rows_order_and_holds_out_the_last():
    from nnrun.data import Dataset, SplitConfig, split_indices
    from nnrun.errors import ConfigError

    y = np.arange(40) % 2
    data = Dataset(np.zeros((40, 2), np.float32), y, "classification", ["a", "b"], ["0", "1"])
    split = split_indices(data, SplitConfig(validation=0.1, test=0.2, shuffle=False), np.random.default_rng(0))
    assert [split[name].tolist() for name in ("train", "validation", "test")] == [
        list(range(28)), list(range(28, 32)), list(range(32, 40))]  # stratify (the default) has no say
    ordered = Dataset(np.zeros((40, 2), np.float32), (np.arange(40) >= 30).astype(int), "classification",
                      ["a", "b"], ["0", "1"])
    with pytest.raises(ConfigError) as error:  # class 1 only in the last rows: all held out
        split_indices(ordered, SplitConfig(validation=0.1, test=0.2, shuffle=False), np.random.default_rng(0))
    assert "or shuffle: true (the split keeps the rows' order: a class only in the last rows is held out)" in \
        error.value.problems[0].message
    # Sorted by class, the last rows hold one class: the warning says what the order did.
    from nnrun.data.split import held_out_class_warnings

    by_class = Dataset(np.zeros((40, 2), np.float32), (np.arange(40) >= 20).astype(int), "classification",
                       ["a", "b"], ["0", "1"])
    cut = split_indices(by_class, SplitConfig(validation=0.1, test=0.2, shuffle=False), np.random.default_rng(0))
    (warned, _) = held_out_class_warnings(by_class, cut, set(), ordered=True)
    assert warned.endswith("the split keeps the rows' order (shuffle: false): if the rows are sorted by class, "
                           "shuffle: true draws every split from all of them")
    # Shuffled, as before: the seed's rows, not the first ones.
    shuffled = split_indices(data, SplitConfig(validation=0.1, test=0.2), np.random.default_rng(0))
    assert shuffled["train"].tolist() != list(range(28)) and len(shuffled["train"]) == 28
    # A gap: rows left out before the validation rows and before the test rows.
    gapped = split_indices(data, SplitConfig(validation=0.1, test=0.2, shuffle=False, gap=3), np.random.default_rng(0))
    assert [gapped[name].tolist() for name in ("train", "validation", "test")] == [
        list(range(25)), [28], list(range(32, 40))]
    no_validation = split_indices(data, SplitConfig(validation=0, test=0.2, shuffle=False, gap=2),
                                  np.random.default_rng(0))
    assert no_validation["train"].tolist() == list(range(30)) and no_validation["test"].tolist() == list(range(32, 40))
    with pytest.raises(ConfigError) as error:
        split_indices(data, SplitConfig(validation=0.1, test=0.2, shuffle=False, gap=4), np.random.default_rng(0))
    assert error.value.problems[0].path == "data.split.gap" and "the validation split would be empty (0.1 of 40 " \
        "samples) once gap: 4 rows are left out before the next split" in error.value.problems[0].message
    with pytest.raises(ConfigError) as error:  # a split too small to hold a row with or without the gap
        split_indices(data, SplitConfig(validation=0.005, test=0.2, shuffle=False, gap=3), np.random.default_rng(0))
    assert error.value.problems[0].path == "data.split.validation" and "gap" not in error.value.problems[0].message
    with pytest.raises(ValueError, match="gap: 3 leaves rows out between splits kept in the rows' order; set "
                                         "shuffle: false as well"):
        SplitConfig(gap=3)


def test_a_source_path_given_with_set_is_read_from_the_working_directory(run_cli, tmp_path, monkeypatch):
    # As the shell completes it: `--set data.source.path=data/other.csv` from where the
    # user stands, not from the config's folder (which the file's own paths are read from).
    (tmp_path / "project").mkdir()
    config = csv_config(tmp_path / "project", SOURCE)
    (tmp_path / "work" / "data").mkdir(parents=True)
    (tmp_path / "work" / "data" / "table.csv").write_text("\n".join(ROWS[:21]) + "\n")  # 20 rows, not 40
    monkeypatch.chdir(tmp_path / "work")
    typed = run_cli("validate", config, "--set", "data.source.path=data/table.csv")
    assert typed.exit_code == 0, typed.output
    assert f"path={tmp_path / 'work' / 'data' / 'table.csv'} " in typed.output
    in_file = run_cli("validate", config)
    assert f"path={tmp_path / 'project' / 'data' / 'table.csv'} " in in_file.output
    result = nnrun.train(config, overrides={"data.source.path": "data/table.csv"}, quiet=True,
                         run_dir=tmp_path / "run")
    assert f"path: {tmp_path / 'work' / 'data' / 'table.csv'}" in (result.run_dir / "config.yaml").read_text()


def test_features_that_do_not_fit_in_memory_name_the_widest_one_hot_column(monkeypatch):
    """Once an 'out of memory' that blamed the model and its batch size, with exit code 1."""
    from nnrun.data import encoding
    from nnrun.errors import UserError

    def no_room(shape, dtype):
        raise MemoryError(f"Unable to allocate an array with shape {shape}")

    monkeypatch.setattr(encoding.np, "zeros", no_room)
    state = {"columns": [{"name": "a", "kind": "numeric"},
                         {"name": "store", "kind": "categorical", "categories": [f"S{i}" for i in range(5000)]}]}
    with pytest.raises(UserError) as refused:
        encoding._features_matrix(150_000, state, "hc.csv")
    assert refused.value.message == ("hc.csv: 150000 rows of 5001 encoded features (2.8 GiB) do not fit in memory; "
                                     "one-hot, the widest columns are 'store' 5000 categories")
    assert "data.source.id or data.source.ignore" in refused.value.hint
