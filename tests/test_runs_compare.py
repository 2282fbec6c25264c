"""`nnrun runs` and `nnrun compare`."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import nnrun

from conftest import ROOT
from trained import train_diabetes, train_iris

from nnrun.commands.runs import list_runs, summarize
from nnrun.config.diff import MISSING, config_differences, flatten


def _set_started(run, stamp: str) -> None:
    meta = json.loads((run / "meta.json").read_text())
    meta["started"] = stamp
    (run / "meta.json").write_text(json.dumps(meta))


def test_runs_table_newest_first_and_tolerant(run_cli, tmp_path):
    old = train_iris(tmp_path / "runs" / "old", epochs=3)
    new = train_iris(tmp_path / "runs" / "new", "optimizer.learning_rate=0.01", epochs=8)
    _set_started(old, "2026-01-01T10:00:00+00:00")
    _set_started(new, "2026-01-02T10:00:00+00:00")
    (tmp_path / "runs" / "notes").mkdir()  # a foreign folder: skipped
    (tmp_path / "runs" / "README.txt").write_text("not a run")
    half = tmp_path / "runs" / "half"  # killed before meta.json was written (it had locked the run)
    half.mkdir()
    (half / "config.yaml").write_text("name: half\n")
    (half / ".lock").write_text("4242\n")
    scratch = tmp_path / "runs" / "scratch"  # a folder of the user's that holds a config: no run
    scratch.mkdir()
    (scratch / "config.yaml").write_text("name: mine\n")
    broken = tmp_path / "runs" / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text('{"status": "runn')
    (broken / "metrics.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy\n1,0.5,0.6,0.6,0.5\n2,0.4")

    result = run_cli("runs")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "notes" not in out and "README" not in out and "scratch" not in out
    assert out.index("new") < out.index("old")  # newest first
    assert "Runs in " in out and "/, newest first" in out  # the folder, as a folder
    assert "incomplete" in out and "unreadable" in out and "completed" in out
    assert "accuracy" in out

    summaries = {s.path.name: s for s in list_runs(tmp_path / "runs")}
    meta = json.loads((new / "meta.json").read_text())
    assert summaries["new"].epochs == 8 and summaries["new"].test == meta["final"]["test"]["accuracy"]
    assert f"{summaries['new'].test:.4f}" in out
    assert summaries["broken"].epochs == 1  # the torn second row is not counted


def test_runs_in_another_directory_and_errors(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("runs", "empty")
    assert result.exit_code == 0 and "no runs in empty" in result.output
    result = run_cli("runs", "nowhere")
    assert result.exit_code == 2 and "nowhere: no such directory" in result.output
    (tmp_path / "iris.yaml").write_text("name: iris\n")
    result = run_cli("runs", "iris.yaml")
    assert result.exit_code == 2 and "iris.yaml: a file; nnrun runs lists the runs in a folder" in result.output
    # Run directories named one by one (the shell's runs/lr-*): those runs, newest first.
    train_iris(tmp_path / "runs" / "one", epochs=1)
    train_iris(tmp_path / "runs" / "two", epochs=1)
    train_iris(tmp_path / "runs" / "three", epochs=1)
    result = run_cli("runs", "runs/one")
    assert result.exit_code == 0 and "Runs given, newest first" in result.output
    assert [line.split()[0] for line in result.output.splitlines()[2:]] == ["runs/one"]  # as given
    listed = json.loads(run_cli("runs", "runs/one", "runs/three", "--json").output)
    assert [Path(r["path"]).name for r in listed] == ["three", "one"]
    result = run_cli("runs", "runs/one", "nowhere", "iris.yaml")
    assert result.exit_code == 2
    assert "error: nowhere: no such directory\niris.yaml: not a run directory" in result.output
    (tmp_path / "latest").symlink_to(tmp_path / "runs" / "two")
    assert "error: latest: is a symbolic link; nnrun lists only real run directories" in \
        run_cli("runs", "latest").output
    # A link to a folder of runs (runs/ kept on a scratch disk) lists them, as the folder itself does.
    (tmp_path / "scratch").symlink_to(tmp_path / "runs")
    for name in ("scratch", "scratch/"):
        linked = json.loads(run_cli("runs", name, "--json").output)
        assert sorted(Path(r["path"]).name for r in linked) == ["one", "three", "two"]
    # A run named twice, as given and by its absolute path, is one row.
    twice = json.loads(run_cli("runs", "runs/one", str(tmp_path / "runs" / "one"), "--json").output)
    assert len(twice) == 1


def test_flatten_and_differences():
    assert flatten({"a": {"b": [1, {"c": 2}]}, "d": [], "e": None}) == {"a.b.0": 1, "a.b.1.c": 2, "d": [], "e": None}
    a = {"model": {"layers": [{"units": 64}]}, "seed": 1}
    b = {"model": {"layers": [{"units": 32}, {"units": 3}]}, "seed": 1}
    assert config_differences(a, b) == [("model.layers.0.units", 64, 32), ("model.layers.1.units", MISSING, 3)]
    assert config_differences(a, a) == []
    # A list of plain values (column names) is one value: one row, not an index row beside an empty list.
    assert flatten({"categorical": ["plan", "city"]}) == {"categorical": ["plan", "city"]}
    assert config_differences({"categorical": ["plan"]}, {"categorical": []}) == [("categorical", ["plan"], [])]


def test_compare_shows_config_and_metric_differences(run_cli, tmp_path):
    a = train_iris(tmp_path / "a", epochs=3)
    b = train_iris(tmp_path / "b", "optimizer.learning_rate=0.01", "model.layers.0.units=16", epochs=4)
    result = run_cli("compare", a, b)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "optimizer.learning_rate" in out and "0.001" in out and "0.01" in out
    assert "model.layers.0.units" in out and "training.epochs" in out
    assert "seed" not in out  # equal values are not listed
    meta_a, meta_b = (json.loads((p / "meta.json").read_text()) for p in (a, b))
    delta = meta_b["final"]["test"]["accuracy"] - meta_a["final"]["test"]["accuracy"]
    assert "test.accuracy" in out and f"{delta:+.4f}" in out
    assert "splits hold other rows" not in out  # the same seed and split: the same samples scored
    result = run_cli("compare", a, a)
    assert "(configs identical)" in result.output
    ordered = train_iris(tmp_path / "c", "data.split.shuffle=false", epochs=3)
    out = " ".join(run_cli("compare", a, ordered).output.split())
    assert "note: the runs' validation and test splits hold other rows (their split or seed differ): their " \
           "validation and test scores are of other samples, not the same samples scored twice" in out
    assert json.loads(run_cli("compare", a, ordered, "--json").output)["other_rows"] == ["validation", "test"]

    # The same, for a script: every value unrounded.
    record = json.loads(run_cli("compare", a, b, "--json").stdout)
    assert record["a"] == str(a) and record["b"] == str(b) and record["same_data"] is True
    config = {entry["key"]: (entry.get("a"), entry.get("b")) for entry in record["config"]}
    assert config["optimizer.learning_rate"] == (0.001, 0.01) and config["training.epochs"] == (3, 4)
    assert record["metrics"]["test.accuracy"] == {"a": meta_a["final"]["test"]["accuracy"],
                                                  "b": meta_b["final"]["test"]["accuracy"], "difference": delta}
    assert record["metrics"]["epochs"]["difference"] == 1 and record["ran"] == []
    assert record["loss_units"] is None and "note:" not in run_cli("compare", a, b).output


def test_compare_never_cuts_a_config_path_short(run_cli, tmp_path, monkeypatch):
    # At 80 columns 'training.early_stopping.restore_best' came out as 'training.early_stopping.restor…'.
    a = train_iris(tmp_path / "a", "training.early_stopping={monitor: val_loss, patience: 2}", epochs=1)
    b = train_iris(tmp_path / "b", "training.early_stopping={monitor: val_loss, patience: 3, restore_best: false}",
                   "loss={type: categorical_crossentropy, label_smoothing: 0.05}", epochs=1)
    for columns in ("60", "80", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        out = run_cli("compare", a, b).output
        assert "…" not in out and "training.early_stopping.restore_best" in out, out
    monkeypatch.setenv("COLUMNS", "50")
    assert "  training.early_stopping.patience: 2 -> 3\n" in run_cli("compare", a, b).output
    # A block turned off in one run and set in the other: one change, not null against "(absent)" and each key.
    c = train_iris(tmp_path / "c", epochs=1)
    monkeypatch.setenv("COLUMNS", "200")
    out = run_cli("compare", c, a).output
    assert "training.early_stopping.patience" not in out and "(absent)" not in out
    assert "{monitor: val_loss, patience: 2" in " ".join(out.split())


def test_compare_says_when_the_losses_are_in_other_units(run_cli, tmp_path):
    # Standardized targets in one run: its loss was 0.1 against the other's 3,000 with no word why.
    a = train_diabetes(tmp_path / "a")
    b = nnrun.train(a / "config.yaml", overrides={"data.target_scale": "standardize"}, run_dir=tmp_path / "b",
                    quiet=True).run_dir
    result = run_cli("compare", a, b)
    assert result.exit_code == 0, result.output
    assert "note: the losses are in different units: of the target's own in the first run, of standardized targets " \
           "in the second (data.target_scale); mae, rmse and r2 are in the target's units in both" in \
           " ".join(result.output.split())
    logged = nnrun.train(a / "config.yaml", overrides={"data.target_scale": "log1p"}, run_dir=tmp_path / "c",
                         quiet=True).run_dir
    assert "units: of standardized targets in the first run, of the standardized log1p of the targets in the second" \
        in " ".join(run_cli("compare", b, logged).output.split())
    assert json.loads(run_cli("compare", a, b, "--json").stdout)["loss_units"].startswith("the losses are in")


def test_a_loss_and_its_sparse_form_are_one_scale_and_another_loss_is_not(run_cli, tmp_path):
    a = train_iris(tmp_path / "a", epochs=1)
    b = train_iris(tmp_path / "b", "loss=sparse_categorical_crossentropy", epochs=1)
    assert json.loads(run_cli("compare", a, b, "--json").stdout)["loss_units"] is None  # as plot says: one scale
    c = train_iris(tmp_path / "c", "loss={type: categorical_crossentropy, label_smoothing: 0.1}", epochs=1)
    assert json.loads(run_cli("compare", a, c, "--json").stdout)["loss_units"] is None
    weighted = train_iris(tmp_path / "w", "loss.class_weights=balanced", epochs=1)
    result = run_cli("compare", a, weighted)
    assert "note: the losses weigh the classes otherwise (loss.class_weights), so their loss values do not compare; " \
           "compare their metrics" in " ".join(result.output.split())
    d = train_diabetes(tmp_path / "d")
    assert json.loads(run_cli("compare", a, d, "--json").stdout)["loss_units"].startswith(
        "the runs minimize different losses")


def test_compare_needs_two_run_directories(run_cli, tmp_path):
    a = train_iris(tmp_path / "a", epochs=1)
    result = run_cli("compare", a, "missing")
    assert result.exit_code == 2 and "missing: no such run directory" in result.output
    (tmp_path / "c").mkdir()
    result = run_cli("compare", a, "c")
    assert result.exit_code == 2 and "not an nnrun run directory" in result.output
    assert "hint: `nnrun runs` lists the runs in runs/" in result.output  # where runs are, as for a missing one
    (tmp_path / "c" / "sweep.yaml").write_text("base: x.yaml\n")  # a sweep's folder: its runs are its trials
    (tmp_path / "c" / "trials").mkdir()
    result = run_cli("compare", a, "c")
    assert result.exit_code == 2 and f"hint: a sweep: its trials' runs are in {Path('c') / 'trials'}/" in result.output
    # Once it has a best trial (best.yaml's first line names it), that comes first.
    (tmp_path / "c" / "trials" / "003").mkdir()
    (tmp_path / "c" / "best.yaml").write_text("# The best trial of this sweep: 003 (val_loss 0.1 at epoch 4), ...\n")
    result = run_cli("evaluate", "c")
    assert result.exit_code == 2 and f"hint: a sweep: its best trial is {Path('c') / 'trials' / '003'}; its " \
        "trials' runs are in" in " ".join(result.output.split())
    (tmp_path / "c" / "trials.csv").write_text("trial\n")
    # Resumed as a run, a sweep is told how to finish it; a trial resumed as a sweep, what it is.
    result = run_cli("train", "--resume", "c")
    assert result.exit_code == 2 and f"error: c: a sweep directory, not a run\n  hint: finish the sweep with nnrun " \
        f"sweep --resume c; one of its trials alone with nnrun train --resume {Path('c') / 'trials'}/<id>" in \
        result.output
    result = run_cli("sweep", "--resume", Path("c") / "trials" / "003")
    assert result.exit_code == 2 and f"hint: it is trial 003 of the sweep c: nnrun sweep --resume c finishes the " \
        f"sweep; nnrun train --resume {Path('c') / 'trials' / '003'} this trial alone" in " ".join(result.output.split())


def test_compare_shows_values_as_the_yaml_says_them(run_cli, tmp_path):
    a = train_iris(tmp_path / "a", epochs=1)
    b = train_iris(tmp_path / "b", "training.shuffle=false", "training.early_stopping=null", epochs=1)
    out = run_cli("compare", a, b).output
    assert "training.shuffle" in out and "true" in out and "false" in out and "None" not in out and "False" not in out


def test_durations_and_timestamps(tmp_path):
    from nnrun.commands.runs import summarize
    from nnrun.console.runs_table import format_duration

    assert [format_duration(s) for s in (None, 0.4, 42, 125, 7300)] == ["-", "<1s", "42s", "2m05s", "2h01m"]
    run = tmp_path / "r"
    run.mkdir()
    (run / "meta.json").write_text('{"status": "completed", "started": "2026-01-01T10:00:00", '
                                   '"ended": "2026-01-01T10:02:30+00:00"}')  # one without a zone
    assert summarize(run).seconds == 150
    # Resumed a day later: the epochs' own seconds, not the day between the stop and the resume.
    (run / "meta.json").write_text('{"status": "completed", "started": "2026-01-01T10:00:00+00:00", '
                                   '"ended": "2026-01-02T10:00:00+00:00", "resumes": [{"epoch": 1}]}')
    (run / "metrics.csv").write_text("epoch,loss,seconds\n1,0.5,1.25\n2,0.4,2.5\n")
    assert summarize(run).seconds == 3.75


def test_compare_side_by_side_when_wide(tmp_path):
    import io

    from rich.console import Console

    from nnrun.console.compare_view import print_comparison

    a = train_iris(tmp_path / "a", epochs=2)
    b = train_iris(tmp_path / "b", "seed=7", epochs=2)
    for width, together in ((160, True), (60, False)):
        buffer = io.StringIO()
        print_comparison(Console(file=buffer, width=width), a, b)
        line = next(line for line in buffer.getvalue().splitlines() if "Config differences" in line)
        assert ("Metrics" in line) is together
        assert "seed" in buffer.getvalue()


def test_a_run_that_died_without_a_word_shows_as_killed(tmp_path):
    """meta.json says "running" until the end; only the run's lock tells a live run from
    one killed by SIGKILL or a power cut."""
    from nnrun.store.lock import RunLock

    run = train_iris(tmp_path / "runs" / "a", epochs=1)
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "status": "running"}))
    assert [r.status for r in list_runs(tmp_path / "runs")] == ["killed"]
    lock = RunLock(run)
    try:
        assert [r.status for r in list_runs(tmp_path / "runs")] == ["running"]
    finally:
        lock.release()


def test_a_killed_run_says_which_epoch_its_checkpoint_holds(run_cli, tmp_path):
    """Checkpoints follow a time budget: a run killed a moment after its last one trained
    epochs that its weights and --resume do not have."""
    run = train_iris(tmp_path / "runs" / "a", epochs=3)
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "status": "running"}))
    newest = run / "checkpoints" / "epoch-000003.safetensors"
    newest.rename(newest.with_name("epoch-000001.safetensors"))  # as if the budget's last one came after epoch 1
    [entry] = list_runs(tmp_path / "runs")
    assert (entry.status, entry.epochs, entry.saved_epochs) == ("killed", 3, 1)
    line = next(line for line in run_cli("runs", tmp_path / "runs").output.splitlines() if line.startswith("a "))
    assert "killed" in line and " 3 (1 saved) " in line
    assert json.loads(run_cli("runs", tmp_path / "runs", "--json").output)[0]["saved_epochs"] == 1
    for checkpoint in (run / "checkpoints").iterdir():  # as with checkpoints off: nothing to resume from
        checkpoint.unlink()
    line = next(line for line in run_cli("runs", tmp_path / "runs").output.splitlines() if line.startswith("a "))
    assert " 3 (none saved) " in line
    assert json.loads(run_cli("runs", tmp_path / "runs", "--json").output)[0]["saved_epochs"] is None


def test_piped_tables_keep_every_value_whole(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    name = "iris-a-name-much-longer-than-a-terminal-column-would-hold-20261203-065400"
    train_iris(tmp_path / "runs" / name, epochs=1)
    result = run_cli("runs", tmp_path / "runs")
    assert result.exit_code == 0
    assert any(line.startswith(name + " ") for line in result.output.splitlines()), result.output


@pytest.mark.parametrize("columns", [40, 50, 66])
def test_a_narrow_terminal_leaves_out_whole_columns_never_the_runs_name(run_cli, tmp_path, monkeypatch, columns):
    # rich squeezed the run column to nothing at 40 and 50, and cut the test value short at 60.
    monkeypatch.setenv("COLUMNS", str(columns))
    run = train_iris(tmp_path / "runs" / "iris-20261203-065400", epochs=2)
    test = f"{json.loads((run / 'meta.json').read_text())['final']['test']['accuracy']:.4f}"
    result = run_cli("runs", "runs")
    assert result.exit_code == 0
    header = result.stdout.splitlines()[1].split()
    assert header[0] == "run" and "…" not in result.stdout
    assert "iris-2026120" in result.stdout and "completed" in result.stdout
    assert ("test" in header) == (test in result.stdout)  # a value is shown whole or not at all
    left_out = [c for c in ("time", "epochs", "metric", "test") if c not in header]
    assert bool(left_out) == (f"left out {', '.join(left_out)}; widen the terminal, or read every field with --json"
                              in " ".join(result.stderr.split()))


def test_runs_json_lists_what_the_table_shows_unrounded(run_cli, tmp_path):
    run = train_iris(tmp_path / "runs" / "iris-a", epochs=2)
    result = run_cli("runs", tmp_path / "runs", "--json")
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.output)
    meta = json.loads((run / "meta.json").read_text())
    assert record["path"] == str(run) and record["kind"] == "run" and record["status"] == "completed"
    assert record["epochs"] == 2 and record["metric"] == "accuracy"
    assert record["test"] == meta["final"]["test"]["accuracy"] and record["best_epoch"] in (1, 2)
    assert record["saved_epochs"] == 2  # every run has the key: a script reads it without a default


def test_a_runs_time_is_the_training_time_it_recorded(run_cli, tmp_path):
    """The sum of metrics.csv's seconds, for a finished, a resumed or a killed run alike:
    a killed run's time does not grow with the clock, and --json keeps the milliseconds."""
    import time

    from nnrun.commands.runs import summarize

    run = tmp_path / "runs" / "killed"
    run.mkdir(parents=True)
    (run / "meta.json").write_text('{"status": "running", "started": "2026-01-01T10:00:00+00:00", "ended": null}')
    (run / "metrics.csv").write_text("epoch,loss,seconds\n1,0.5,0.0412\n2,0.4,0.0531\n")
    first = summarize(run)
    time.sleep(0.05)
    assert first.status == "killed" and first.seconds == summarize(run).seconds == pytest.approx(0.0943)
    listed = json.loads(run_cli("runs", tmp_path / "runs", "--json").output)
    assert listed[0]["seconds"] == 0.094
    (run / "metrics.csv").unlink()  # killed in its first epoch: no training time to show
    assert summarize(run).seconds is None


def test_runs_in_a_folder_below_are_pointed_at_not_skipped_without_a_word(run_cli, tmp_path):
    train_iris(tmp_path / "archive" / "deep" / "r", epochs=1)
    result = run_cli("runs", tmp_path / "archive")
    assert result.exit_code == 0
    assert f"note: {tmp_path / 'archive' / 'deep'} holds runs of its own: nnrun runs {tmp_path / 'archive' / 'deep'} " \
           "lists them" in " ".join(result.output.split())
    # As nnrun runs lists a folder: one that merely holds a config.yaml, or a link, is no run.
    import os

    (tmp_path / "archive" / "scratch" / "x").mkdir(parents=True)
    (tmp_path / "archive" / "scratch" / "x" / "config.yaml").write_text("name: x\n")
    (tmp_path / "archive" / "links").mkdir()
    os.symlink(tmp_path / "archive" / "deep" / "r", tmp_path / "archive" / "links" / "r")
    (tmp_path / "archive" / "deep" / "config.yaml").write_text("name: kept beside the runs\n")
    out = " ".join(run_cli("runs", tmp_path / "archive").output.split())
    assert "deep holds runs of its own" in out and "scratch" not in out and "links" not in out


def test_a_run_without_its_metrics_csv_is_listed_by_its_first_metric_from_meta_json(tmp_path):
    run = train_iris(tmp_path / "runs" / "r", epochs=2)
    (run / "metrics.csv").unlink()
    [entry] = list_runs(tmp_path / "runs")
    meta = json.loads((run / "meta.json").read_text())
    assert entry.metric == "accuracy" and entry.test == meta["final"]["test"]["accuracy"]  # not the test loss
    # A sweep's trial so: by the sweep's metric, as its other trials are.
    assert summarize(run, "loss").metric == "loss" and summarize(run, "loss").test == meta["final"]["test"]["loss"]


def test_a_setting_added_since_a_run_was_trained_is_no_difference(run_cli, tmp_path):
    # An older nnrun wrote config.yaml without data.split.shuffle and a step's per: their defaults.
    old, new = train_iris(tmp_path / "old", epochs=1), train_iris(tmp_path / "new", epochs=1)
    saved = yaml.safe_load((old / "config.yaml").read_text())
    del saved["data"]["split"]["shuffle"], saved["data"]["preprocess"][0]["per"]
    (old / "config.yaml").write_text(yaml.safe_dump(saved, sort_keys=False))
    result = run_cli("compare", old, new, "--json")
    assert result.exit_code == 0 and json.loads(result.output)["config"] == []


def test_a_layer_put_in_or_taken_out_is_one_row_not_every_later_layer_changed():
    from nnrun.config.diff import describe_changes

    dense = {"type": "dense", "units": 8, "activation": "relu", "use_bias": True, "name": None}
    out = {"type": "dense", "units": 3, "activation": "softmax", "use_bias": True, "name": None}
    dropout = {"type": "dropout", "rate": 0.2, "name": None}
    a = {"seed": 1, "model": {"layers": [dense, out]}, "loss": "mse"}
    b = {"seed": 2, "model": {"layers": [dense, dropout, out]}, "loss": "mae"}
    assert describe_changes(a, b) == ["seed (1 -> 2)", 'model.layers.1 ((absent) -> {"type": "dropout", "rate": 0.2})',
                                      'loss ("mse" -> "mae")']
    assert describe_changes(b, a)[1] == 'model.layers.1 ({"type": "dropout", "rate": 0.2} -> (absent))'
    # A layer changed as well as one put in: place by place, as before.
    changed = describe_changes(a, {**b, "model": {"layers": [dense, dropout, {**out, "units": 4}]}})
    assert "model.layers.1.type (\"dense\" -> \"dropout\")" in changed


def test_a_block_of_another_type_lists_its_type_the_options_both_have_and_those_not_at_their_default():
    # A dense layer against an lstm listed every option of each as (absent): about 90 rows.
    from nnrun.config.diff import describe_changes

    dense = {"model": {"layers": [{"type": "dense", "units": 4, "activation": "linear"}, {"type": "dense", "units": 2}]}}
    lstm = {"model": {"layers": [{"type": "lstm", "units": 8, "return_sequences": False},
                                 {"type": "dense", "units": 3}]}}
    assert describe_changes(dense, lstm) == ['model.layers.0.type ("dense" -> "lstm")',
                                             "model.layers.0.units (4 -> 8)", "model.layers.1.units (2 -> 3)"]
    momentum = {"optimizer": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True}}
    assert describe_changes({"optimizer": {"type": "adam", "learning_rate": 0.1, "beta_1": 0.9}}, momentum) == [
        'optimizer.type ("adam" -> "sgd")', "optimizer.momentum ((absent) -> 0.9)", "optimizer.nesterov ((absent) -> true)"]
    csv = {"data": {"source": {"type": "csv", "path": "/d.csv", "target": "y", "missing": "error"}}}
    assert describe_changes(csv, {"data": {"source": {"type": "builtin", "name": "digits"}}}) == [
        'data.source.type ("csv" -> "builtin")', 'data.source.path ("/d.csv" -> (absent))',
        'data.source.target ("y" -> (absent))', 'data.source.name ((absent) -> "digits")']
    adam, sgd = {"optimizer": {"type": "adam", "learning_rate": 0.001, "beta_1": 0.9}}, \
        {"optimizer": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.0}}
    assert describe_changes(adam, sgd) == ['optimizer.type ("adam" -> "sgd")', "optimizer.learning_rate (0.001 -> 0.1)"]


def test_compare_says_when_the_runs_ran_with_other_process_or_thread_counts(run_cli, tmp_path):
    a, b = train_iris(tmp_path / "a", epochs=1), train_iris(tmp_path / "b", epochs=1)
    meta = json.loads((b / "meta.json").read_text())
    meta["world_size"], meta["environment"]["blas_threads"] = 2, meta["environment"]["blas_threads"] + 1
    (b / "meta.json").write_text(json.dumps(meta))  # as mpiexec -n 2 with another thread count records it
    out = run_cli("compare", a, b).output
    assert "(configs identical)" in out  # the configs are the same, not how they ran
    threads = meta["environment"]["blas_threads"]
    assert re.search(r"\(ran with\) processes\s*│\s*1\s*│\s*2\s*│", out), out
    assert re.search(rf"\(ran with\) BLAS threads\s*│\s*{threads - 1}\s*│\s*{threads}\s*│", out), out
    assert "(ran with)" not in run_cli("compare", a, a).output


def test_compare_says_when_the_runs_trained_on_other_data(run_cli, tmp_path):
    """The same config over a data file that changed in between: the config table is
    identical, and only the fingerprints tell why the metrics moved."""
    a, b = train_iris(tmp_path / "a", epochs=1), train_iris(tmp_path / "b", epochs=1)
    assert "different data" not in run_cli("compare", a, b).output
    meta = json.loads((b / "meta.json").read_text())
    before, meta["dataset_fingerprint"] = meta["dataset_fingerprint"], "0123456789abcdef" * 4
    meta["split_fingerprints"] = {name: "0" * 64 for name in meta["split_fingerprints"]}  # the rows' values changed
    (b / "meta.json").write_text(json.dumps(meta))
    assert json.loads(run_cli("compare", a, b, "--json").output)["other_rows"] == []  # the same rows, edited
    out = run_cli("compare", a, b).output
    assert re.search(rf"\(ran with\) data \(fingerprint\)\s*│\s*{before[:8]}\s*│\s*01234567\s*│", out), out
    assert "note: the runs trained on different data (their data fingerprints differ, with the same seed and data " \
        "settings: a data file changed between them), so the metrics differ by more than the config" \
        in " ".join(out.split())
    # Another seed splits the same file otherwise: the config table says so, with no note.
    c = train_iris(tmp_path / "c", "seed=7", epochs=1)
    out = run_cli("compare", a, c).output
    assert "seed" in out and "different data" not in out and "fingerprint" not in out


def test_compare_says_whether_the_weights_are_identical_and_if_not_by_how_much(run_cli, tmp_path):
    """A reproducibility check: the same config and seed give the same weights bit for
    bit; one weight one float32 step away is found, by that step and where; another
    model is said to be one; a run without final weights is not compared."""
    import shutil

    from nnrun.store import tensorfile

    a, b = train_iris(tmp_path / "a", epochs=2), train_iris(tmp_path / "b", epochs=2)
    assert "weights: identical, bit for bit" in run_cli("compare", a, b).output
    record = json.loads(run_cli("compare", a, b, "--json").output)
    assert record["same_weights"] is True and record["weights"] == "identical, bit for bit"
    nudged = tmp_path / "nudged"
    shutil.copytree(a, nudged)
    weights = tensorfile.read(a / "model.safetensors")[0]
    before = float(weights["dense_1.bias"][0])
    weights["dense_1.bias"][0] = np.nextafter(weights["dense_1.bias"][0], np.float32(np.inf))
    step = float(weights["dense_1.bias"][0]) - before
    (nudged / "model.safetensors").unlink()
    tensorfile.save_weights(nudged / "model.safetensors", weights)
    record = json.loads(run_cli("compare", a, nudged, "--json").output)
    assert record["same_weights"] is False and record["weights"] == f"differ: by at most {step:.3g}, in dense_1.bias"
    wider = train_iris(tmp_path / "d", "model.layers.0.units=8", epochs=1)
    assert "weights: of other models (other weights or shapes)" in run_cli("compare", a, wider).output
    (b / "model.safetensors").unlink()  # a completed run's weights, deleted by hand
    record = json.loads(run_cli("compare", a, b, "--json").output)
    assert record["same_weights"] is None
    assert record["weights"] == "run B has no final weights (model.safetensors): deleted since it completed?"


def test_a_sweeps_trials_show_the_metric_the_sweep_ranks_by(tmp_path):
    sweep = tmp_path / "search"
    train_iris(sweep / "trials" / "000", epochs=2)
    (sweep / "sweep.yaml").write_text("metric: val_loss\nmode: min\nparameters: {optimizer.learning_rate: {}}\n")
    (sweep / "trials.csv").write_text("trial,status,val_loss\n000,completed,0.5\n")
    [trial] = list_runs(sweep)
    history = list(csv.DictReader((sweep / "trials" / "000" / "metrics.csv").open()))
    assert trial.metric == "loss" and trial.best_validation == min(float(r["val_loss"]) for r in history)
    [alone] = list_runs(sweep / "trials")  # the same run, listed on its own: its first metric
    assert alone.metric == "accuracy"
    # Its start and end are its trials', as their meta.json record them: a copy keeps them.
    import os
    import shutil

    meta = json.loads((sweep / "trials" / "000" / "meta.json").read_text())
    copy = tmp_path / "copy"
    shutil.copytree(sweep, copy)
    os.utime(copy / "sweep.yaml", (0, 4e9)), os.utime(copy / "trials.csv", (0, 4e9))  # as a copy's, far off
    for entry in (trial, list_runs(copy)[0]):
        assert entry.started.isoformat()[:19] == meta["started"][:19]
    # An end before its own start (a damaged meta.json) is no end: no time of decades.
    (copy / "trials" / "000" / "meta.json").write_text(json.dumps({**meta, "ended": "1999-01-01T00:00:00"}))
    from nnrun.commands.sweep.listing import sweep_row

    assert 0 <= sweep_row(copy)["seconds"] < 60


@pytest.mark.parametrize("rows, status", [
    (["completed", "completed", "completed"], "completed"),
    (["completed", "completed"], "killed"),  # killed between trials: one is still to start
    (["completed", "running", "completed"], "killed"),
    (["completed", "interrupted", "completed"], "interrupted"),
    (["failed", "failed", "failed"], "failed"),  # every trial ran, none completed
    (["completed", "completed", "completed", "no best.yaml"], "interrupted"),  # stopped as it was to be written
])
def test_a_sweeps_status_says_whether_every_planned_trial_completed(run_cli, tmp_path, rows, status):
    sweep = tmp_path / "runs" / "search"
    sweep.mkdir(parents=True)
    if rows[-1] != "no best.yaml" and "completed" in rows:
        (sweep / "best.yaml").write_text("name: search-best\n")
    rows = [row for row in rows if row != "no best.yaml"]
    (sweep / "sweep.yaml").write_text("base: base.yaml\nmetric: val_loss\nmode: min\nsearch: grid\n"
                                      "parameters: {optimizer.learning_rate: {type: grid, values: [0.1, 0.01, 0.001]}}\n")
    lines = [f"{i:03d},{row},{0.5 if row == 'completed' else ''}" for i, row in enumerate(rows)]
    (sweep / "trials.csv").write_text("trial,status,val_loss\n" + "\n".join(lines) + "\n")
    [record] = json.loads(run_cli("runs", "runs", "--json").stdout)
    assert record["kind"] == "sweep" and record["status"] == status and record["trials"] == len(rows)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", record["started"])  # to the second, as a run's


def test_columns_too_wide_even_alone_wrap_rather_than_be_cut(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    sweep = tmp_path / "runs" / "search"
    sweep.mkdir(parents=True)
    (sweep / "sweep.yaml").write_text("metric: val_loss\nmode: min\nsamples: 3\nparameters: {a: {type: choice}}\n")
    (sweep / "trials.csv").write_text("trial,status,val_loss\n000,completed,0.9667\n001,interrupted,0.5\n")
    out = run_cli("runs", "runs").stdout
    assert "…" not in out and "0.9667" in out and "trial" in out and "000" in out


def test_a_sweeps_folder_lists_its_trials_best_first(run_cli, tmp_path):
    sweep = tmp_path / "search"
    for trial, epochs in (("000", 1), ("001", 4), ("002", 2)):
        train_iris(sweep / "trials" / trial, epochs=epochs)
    (sweep / "sweep.yaml").write_text("metric: val_loss\nmode: min\nparameters: {a: {}, b: {}}\n")
    (sweep / "trials.csv").write_text("trial,a,b,status,val_loss\n000,1e-05,yes,completed,1\n"
                                      "001,16,relu,completed,1\n002,,true,completed,1\n")
    records = json.loads(run_cli("runs", sweep, "--json").stdout)
    listed = [Path(r["path"]).name for r in records]
    # The values as the sweep reads trials.csv back: 1e-05 a number, yes a word, empty null.
    assert {Path(r["path"]).name: r["values"] for r in records} == {
        "000": {"a": 1e-05, "b": "yes"}, "001": {"a": 16, "b": "relu"}, "002": {"a": None, "b": True}}
    best = sorted(listed, key=lambda t: min(float(r["val_loss"]) for r in
                                            csv.DictReader((sweep / "trials" / t / "metrics.csv").open())))
    assert listed == best
    assert run_cli("runs", sweep).stdout.splitlines()[0].startswith("Trials in ")


def test_tied_trials_are_listed_as_the_sweep_ranks_them_lowest_id_first(run_cli, tmp_path):
    sweep = tmp_path / "search"
    for trial in ("000", "001", "002"):  # the same run three times: one val_loss, and 002 the newest
        train_iris(sweep / "trials" / trial, epochs=2)
    (sweep / "sweep.yaml").write_text("metric: val_loss\nmode: min\nparameters: {a: {}}\n")
    (sweep / "trials.csv").write_text("trial,a,status,val_loss\n000,1,completed,1\n001,1,completed,1\n"
                                      "002,1,completed,1\n")
    records = json.loads(run_cli("runs", sweep, "--json").stdout)
    assert len({r["best_validation"] for r in records}) == 1, records
    assert [Path(r["path"]).name for r in records] == ["000", "001", "002"]


def test_a_sweeps_trials_add_up_to_its_count_and_the_completed_rank_first(run_cli, tmp_path):
    """A trial stopped before its run began has a row in trials.csv and no folder: it is
    listed all the same; a trial interrupted with a better value ranks after the completed
    ones, as the sweep's best is the best completed trial."""
    sweep = tmp_path / "runs" / "search"
    train_iris(sweep / "trials" / "000", epochs=1)
    train_iris(sweep / "trials" / "002", epochs=3)
    for trial, status in (("000", "completed"), ("002", "interrupted")):  # 002's value is the lower
        meta = json.loads((sweep / "trials" / trial / "meta.json").read_text())
        (sweep / "trials" / trial / "meta.json").write_text(json.dumps({**meta, "status": status}))
    (sweep / "sweep.yaml").write_text("metric: val_loss\nmode: min\nparameters: {a: {}}\n")
    (sweep / "trials.csv").write_text("trial,a,status,val_loss,seconds\n000,1,completed,0.9,2.0\n"
                                      "001,2,interrupted,,0.25\n002,3,interrupted,,1.0\n003,4,running,,0.1\n"
                                      "004,5,completed,0.95,1.0\n")
    records = json.loads(run_cli("runs", sweep, "--json").stdout)
    assert [(Path(r["path"]).name, r["status"]) for r in records] == [
        ("000", "completed"), ("002", "interrupted"), ("004", "missing"), ("003", "killed"), ("001", "interrupted")]
    assert records[-1]["epochs"] == 0 and records[-1]["seconds"] == 0.25 and records[-1]["values"] == {"a": 2}
    [row] = json.loads(run_cli("runs", tmp_path / "runs", "--json").stdout)
    assert row["trials"] == len(records) and row["best_trial"] == "000"
    out = run_cli("runs", sweep).stdout
    assert re.search(r"001\s+interrupted\s+0\s+-\s+-\s+-", out), out


def test_a_trial_whose_worker_was_ended_shows_the_epoch_its_resume_starts_from(run_cli, tmp_path):
    # Ray ends a trial's worker on Ctrl-C: its run still says running, its checkpoint is older
    # than its metrics; the sweep says interrupted, and the listing what a resume keeps.
    sweep = tmp_path / "search"
    run = train_iris(sweep / "trials" / "000", epochs=3)
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "status": "running"}))
    for checkpoint in (run / "checkpoints").glob("*.safetensors"):
        checkpoint.unlink()
    (sweep / "sweep.yaml").write_text("metric: val_loss\nmode: min\nparameters: {a: {}}\n")
    (sweep / "trials.csv").write_text("trial,a,status,val_loss\n000,1,interrupted,\n")
    [record] = json.loads(run_cli("runs", sweep, "--json").stdout)
    assert record["status"] == "interrupted" and record["epochs"] == 3 and record["saved_epochs"] is None
    assert re.search(r"000\s+interrupted\s+3 \(none saved\)", run_cli("runs", sweep).stdout)


def test_a_damaged_sweep_folder_is_listed_as_unreadable_and_never_called_best_first(run_cli, tmp_path):
    # Garbage in trials.csv read as a sweep of 0 trials; its trials were titled "best first" newest first.
    sweep = tmp_path / "runs" / "search"
    train_iris(sweep / "trials" / "000", epochs=1)
    (sweep / "sweep.yaml").write_text("metric: val_loss\nmode: min\nparameters: {optimizer.learning_rate: {}}\n")
    (sweep / "trials.csv").write_text("garbage\n")
    [record] = json.loads(run_cli("runs", "runs", "--json").stdout)
    assert record["status"] == "unreadable"
    out = " ".join(run_cli("runs", sweep).output.split())
    assert "Trials in" in out and "newest first (the sweep's trials.csv or sweep.yaml is unreadable)" in out
    (sweep / "trials.csv").unlink()  # deleted beside a trial's folder: no sweep of 0 trials, as it read
    [record] = json.loads(run_cli("runs", "runs", "--json").stdout)
    assert record["status"] == "unreadable"
    import shutil

    shutil.rmtree(sweep / "trials" / "000")  # as a sweep just made, before it writes its trials.csv: still a sweep
    [record] = json.loads(run_cli("runs", "runs", "--json").stdout)
    assert record["kind"] == "sweep" and record["trials"] == 0


def test_a_folder_of_runs_beside_a_sweep_file_of_ones_own_lists_its_runs(run_cli, tmp_path):
    # sweep.yaml is the name one gives one's own sweep file; without trials/ or trials.csv it makes no sweep folder.
    project = tmp_path / "project"
    train_iris(project / "a", epochs=1)
    (project / "sweep.yaml").write_text((ROOT / "configs" / "sweeps" / "iris.yaml").read_text())
    out = " ".join(run_cli("runs", project).output.split())
    assert "Runs in" in out and "unreadable" not in out and "completed" in out


@pytest.mark.parametrize("columns", ["abc", "-5", "0"])
def test_a_columns_value_that_is_no_width_counts_as_unset(tmp_path, columns):
    # COLUMNS=abc once laid piped output out at 80 characters and left the time column out.
    from conftest import run_piped

    train_iris(tmp_path / "runs" / "a-long-run-name-of-an-experiment-with-settings", epochs=1)
    result = run_piped("runs", "runs", cwd=tmp_path, env={"COLUMNS": columns})
    assert result.returncode == 0 and "too narrow" not in result.stderr and " time" in result.stdout, result.stderr


def test_compare_notes_a_config_changed_since_its_run_wrote_it(run_cli, tmp_path):
    import shutil

    run = train_iris(tmp_path / "a", epochs=1)
    shutil.copytree(run, tmp_path / "b")
    config = tmp_path / "b" / "config.yaml"
    config.write_text(config.read_text().replace("learning_rate: 0.001", "learning_rate: 0.07"))
    said = " ".join(run_cli("compare", tmp_path / "a", tmp_path / "b").output.split())
    assert f"note: {config} was changed since its run wrote it: it may no longer describe the run's weights" in said
    record = json.loads(run_cli("compare", tmp_path / "a", tmp_path / "b", "--json").stdout)
    assert record["edited_configs"] == [str(config)]
    # A comment added, the settings as they were: evaluate takes it, and compare says nothing.
    (run / "config.yaml").write_text((run / "config.yaml").read_text() + "# my note\n")
    assert json.loads(run_cli("compare", run, tmp_path / "b", "--json").stdout)["edited_configs"] == [str(config)]


def test_a_completed_runs_epochs_come_from_meta_json_whatever_became_of_its_metrics(run_cli, tmp_path):
    a = train_iris(tmp_path / "runs" / "a", epochs=3)
    (a / "metrics.csv").unlink()
    [record] = json.loads(run_cli("runs", tmp_path / "runs", "--json").stdout)
    assert record["epochs"] == 3 and record["status"] == "completed"
    b = train_iris(tmp_path / "b", epochs=3)
    compared = json.loads(run_cli("compare", a, b, "--json").stdout)
    assert compared["metrics"]["epochs"]["a"] == compared["metrics"]["epochs"]["b"] == 3
