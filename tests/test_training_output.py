"""What `nnrun train` prints: header, a line per epoch, the closing results, --quiet,
and the notes on early stopping and overfitting."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import nnrun
from conftest import run_piped
from nnrun.console.progress import (
    LineDisplay,
    QuietDisplay,
    LiveDisplay,
    make_display,
)
from nnrun.store.curves import overfitting, sparkline
from nnrun.store.history import read_metrics

IRIS = Path(__file__).resolve().parent.parent / "configs" / "iris.yaml"

# Six metrics on three splits: a results table wider than the 80 columns rich assumes
# when nothing tells it a width.
MANY_METRICS = """\
name: many_metrics
data:
  source: {type: builtin, name: breast_cancer}
  preprocess: [{type: standardize}]
model:
  layers:
    - {type: dense, units: 8, activation: relu}
    - {type: dense, units: 2, activation: softmax}
loss: categorical_crossentropy
metrics: [accuracy, precision, recall, f1, f1_macro, auc]
training: {epochs: 2}
"""


def test_plain_output_has_header_epoch_lines_and_results(run_cli):
    result = run_cli("train", IRIS, "--set", "training.epochs=3", "--run-dir", "r")
    assert result.exit_code == 0, result.output
    out = result.output
    # Header: run directory, samples and shapes per split, parameter count.
    assert "training iris -> r" in out
    assert "train         105 samples   x 105x4" in out and "test           30 samples" in out
    assert "515 parameters" in out and "classes    3 classes: setosa, versicolor, virginica" in out
    assert "model      4 -> dense 64 relu -> dense 3 softmax; 515 parameters" in out  # softmax fused in the loss
    # One plain line per epoch (no progress bar outside a terminal).
    assert [line.split("  ")[0] for line in out.splitlines() if line.startswith("epoch ")] == [
        "epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert "\r" not in out and "\x1b[" not in out  # no redraws, no colour codes
    # Closing results.
    assert "Results (final weights)" in out and "validation" in out
    assert "best epoch:  3 of 3 (val_loss" in out
    assert "time:" in out and "files:       r (checkpoints/, config.yaml, meta.json, metrics.csv" in out
    assert "next:        nnrun evaluate r" in out


def test_a_schedule_shows_its_rate_in_every_epoch_line_and_the_header_names_the_plan(run_cli):
    result = run_cli("train", IRIS, "--set", "training.epochs=4", "--set", "training.schedule={type: step, "
                     "every: 2, factor: 0.5}", "--set", "training.early_stopping={monitor: val_loss, patience: 3}",
                     "--run-dir", "r")
    assert result.exit_code == 0, result.output
    assert "training   4 epochs, batch 32, adam lr 0.001 (step), loss categorical_crossentropy, early stopping on " \
           "val_loss (patience 3)" in result.output
    rates = [re.search(r"  lr (\S+)  \(", line).group(1) for line in result.output.splitlines()
             if line.startswith("epoch ")]
    assert rates == ["0.001", "0.001", "0.0005", "0.0005"]
    plain = run_cli("train", IRIS, "--set", "training.epochs=1", "--run-dir", "r2")
    assert " lr " not in next(line for line in plain.output.splitlines() if line.startswith("epoch "))


def test_a_graph_is_named_a_graph_in_the_header_not_drawn_as_a_chain(run_cli):
    from conftest import ROOT

    result = run_cli("train", ROOT / "configs" / "residual_mlp.yaml", "--set", "training.epochs=1", "--run-dir", "r")
    assert result.exit_code == 0, result.output
    assert "a graph of" in result.output and "layers (nnrun validate lists their inputs) -> dense 10 softmax;" in \
        " ".join(result.output.split())


def test_a_training_quantity_is_said_to_be_measured_as_the_batches_trained(run_cli):
    # With no validation split the lines under the table show the training loss, which
    # is the batches' as they trained (dropout on, weights moving), not the table's score.
    result = run_cli("train", IRIS, "--set", "training.epochs=3", "--set", "data.split.validation=0",
                     "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert re.search(r"best epoch: \d of 3 \(loss [0-9.]+, over the epoch's batches as they trained\)", out)
    assert re.search(r"loss: \S+ [0-9.]+ -> [0-9.]+, over the epoch's batches as they trained", out)


def test_quiet_prints_only_the_results(run_cli):
    result = run_cli("train", IRIS, "--set", "training.epochs=3", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    assert "epoch 1/3" not in result.output and "samples   x" not in result.output
    assert "Results" in result.output and "nnrun evaluate r" in result.output


def test_a_narrow_width_never_splits_a_number_or_a_name_in_the_results(tmp_path):
    # COLUMNS=50, as a CI job or a narrow terminal sets it: the table runs past 50 rather
    # than print accuracy 0.9892 as "0.989" over "2", or "validati" over "on".
    result = run_piped("train", IRIS.parent / "breast_cancer.yaml", "--set", "training.epochs=1", "--set",
                       "metrics=[accuracy, precision, recall, f1, auc]", "--run-dir", "r", "--quiet",
                       cwd=tmp_path, env={"COLUMNS": "50"})
    assert result.returncode == 0, result.stderr
    rows = [line.split("│")[1:-1] for line in result.stdout.splitlines() if line.startswith("│")]
    assert [row[0].strip() for row in rows] == ["train", "validation", "test"]
    assert all(re.fullmatch(r"\d\.\d{4}", cell.strip()) for row in rows for cell in row[2:])
    assert all(len(line) > 50 for line in result.stdout.splitlines() if line.startswith("│"))


def test_the_next_step_of_a_run_that_held_nothing_out_is_to_evaluate_a_file(run_cli):
    # Retrained on every row for the model to ship: it has no split to score.
    result = run_cli("train", IRIS, "--set", "data.split={validation: 0, test: 0}", "--set",
                     "training.early_stopping=null", "--set", "training.epochs=2", "--run-dir", "all", "-q")
    assert result.exit_code == 0, result.output
    assert "next: nnrun evaluate all --data FILE (a labelled file of new samples: it trained on every row)" in \
        " ".join(result.output.split())
    kept = run_cli("train", IRIS, "--set", "data.split={validation: 0.2, test: 0}", "--set", "training.epochs=2",
                   "--run-dir", "val", "-q")
    assert "next: nnrun evaluate val --split validation (it holds no test split)" in " ".join(kept.output.split())


def test_two_class_scores_name_the_class_they_score(run_cli):
    # Which class is the second depends on how the names sort: said, not left to guess.
    result = run_cli("train", IRIS.parent / "breast_cancer.yaml", "--set", "training.epochs=1", "--set",
                     "metrics=[accuracy, precision, f1]", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    assert "note: precision and f1 are of class 'malignant', the second of two (data.classes orders them; f1_macro averages both; nnrun " \
           "evaluate reports each class)" in " ".join(result.output.split())
    result = run_cli("train", IRIS, "--set", "training.epochs=1", "--set", "metrics=[f1]", "--run-dir", "r3", "-q")
    assert result.exit_code == 0 and "second of two" not in result.output  # of three classes: the macro mean


def test_an_accuracy_no_better_than_the_most_frequent_class_is_noted(run_cli, tmp_path):
    # Nine rows in ten of class 0, inputs of noise: the number reads well on its own.
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "imb.npz", x=rng.normal(size=(400, 3)), y=(rng.random(400) < 0.1).astype(int))
    (tmp_path / "imb.yaml").write_text("data: {source: {type: npz, path: imb.npz}}\nmodel: {layers: [{type: dense, "
                                       "units: 2, activation: softmax}]}\nloss: categorical_crossentropy\n"
                                       "metrics: [accuracy]\ntraining: {epochs: 5}\n")
    result = run_cli("train", tmp_path / "imb.yaml", "--run-dir", "imb", "-q")
    text = " ".join(result.output.split())
    assert result.exit_code == 0 and re.search(r"note: test accuracy 0\.\d+ is no better than always predicting '0', "
                                               r"the most frequent training class \(0\.8750 of the test split\): the "
                                               r"model does no better than the class shares alone", text), result.output
    trained = run_cli("train", IRIS, "--run-dir", "iris", "-q")
    assert "no better than always" not in trained.output
    # Class weights trade accuracy for the rare class on purpose; balanced accuracy above chance says the model
    # tells the classes apart: neither is noted.
    for setting in ("loss={type: categorical_crossentropy, class_weights: balanced}",
                    "metrics=[accuracy, balanced_accuracy]"):
        np.savez(tmp_path / "sig.npz", x=(x := rng.normal(size=(400, 3))), y=(x[:, 0] + 0.3 * rng.normal(size=400) >
                                                                             1.3).astype(int))
        weighed = run_cli("train", tmp_path / "imb.yaml", "--set", "data.source.path=sig.npz", "--set", setting,
                          "--set", "training.epochs=40", "--run-dir", f"w{len(setting)}", "-q")
        assert weighed.exit_code == 0 and "no better than always" not in weighed.output, weighed.output


def _auc_of_one_class(folder):
    """A config whose early stopping watches val_auc of a validation split that holds one
    class only: class 1 is 4 rows of 200, none of them in the 20 held out."""
    rng = np.random.default_rng(1)
    np.savez(folder / "xy.npz", x=rng.normal(size=(200, 3)), y=(np.arange(200) < 4).astype(int))
    config = folder / "c.yaml"
    config.write_text("data: {source: {type: npz, path: xy.npz}, split: {validation: 0.1, test: 0.1}}\n"
                      "model: {layers: [{type: dense, units: 1, activation: sigmoid}]}\nloss: binary_crossentropy\n"
                      "metrics: [auc]\ntraining: {epochs: 3, early_stopping: {monitor: val_auc, patience: 2}}\n")
    return config


def test_early_stopping_on_a_quantity_that_can_never_be_a_number_is_refused_before_training(run_cli, tmp_path):
    # Class 1 misses the validation split, so val_auc would be NaN every epoch: early
    # stopping would wait out its patience and keep no best epoch. Said before training.
    result = run_cli("train", _auc_of_one_class(tmp_path), "--run-dir", tmp_path / "r")
    assert result.exit_code == 2
    assert "training.early_stopping.monitor: 'val_auc' cannot be measured: the validation split holds one class " \
           "only, so auc reads NaN in every epoch; monitor val_loss" in " ".join(result.output.split())
    assert not (tmp_path / "r").exists()


def test_early_stopping_is_reported(run_cli):
    # min_delta larger than any change: nothing after epoch 1 counts as an improvement.
    stop = "training.early_stopping={monitor: val_loss, patience: 2, min_delta: 10}"
    result = run_cli("train", IRIS, "--set", "training.epochs=50", "--set", stop, "--run-dir", "r")
    assert result.exit_code == 0, result.output
    assert "Results (weights of epoch 1)" in result.output
    assert "early stop:  stopped after epoch 3 of 50: val_loss did not improve for 2 epochs; " \
           "restored the weights of epoch 1" in result.output
    # Patience 0 stops at the first epoch that does not improve: one, as counted, not "0 epochs".
    stop = "training.early_stopping={monitor: val_loss, patience: 0, min_delta: 10}"
    result = run_cli("train", IRIS, "--set", "training.epochs=50", "--set", stop, "--run-dir", "r0")
    assert "stopped after epoch 2 of 50: val_loss did not improve for 1 epoch;" in result.output, result.output


def test_overfitting_note_in_summary(run_cli):
    # A wide network trained long on half the usual training samples overfits: its validation
    # loss is lowest near epoch 70 and has doubled by epoch 300.
    result = run_cli("train", IRIS, "--set", "training.epochs=300", "--set", "optimizer.learning_rate=0.02",
                     "--set", "model.layers.0.units=256", "--set", "data.split.validation=0.5", "--run-dir", "r")
    assert result.exit_code == 0, result.output
    history = read_metrics(Path("r") / "metrics.csv")
    assert overfitting(history) is not None
    assert "note:" in result.output and "likely overfitting" in result.output


def test_overfitting_detection():
    falling = [{"epoch": e, "loss": 1 / e, "val_loss": 1 / e} for e in range(1, 11)]
    assert overfitting(falling) is None
    rising = [{"epoch": e, "loss": 1 / e, "val_loss": abs(e - 4) / 10 + 0.2} for e in range(1, 11)]
    note = overfitting(rising)
    assert note.startswith("validation loss rose from 0.2000 (epoch 4) to 0.8000 (epoch 10)")
    # Both losses rising is divergence, not overfitting.
    assert overfitting([{**r, "loss": r["val_loss"]} for r in rising]) is None
    assert overfitting([{"epoch": 1, "loss": 1.0}]) is None  # no validation split
    # A rise that is small next to how far the loss fell is noise.
    wobble = [{"epoch": e, "loss": 1 / e, "val_loss": v} for e, v in enumerate([0.66, 0.1, 0.0031, 0.0035, 0.0036, 0.0038], 1)]
    assert overfitting(wobble) is None


def test_sparkline():
    assert sparkline([3, 2, 1, 0]) == "█▆▃▁"
    assert sparkline([1, 1, 1]) == "▁▁▁"
    assert sparkline([]) == ""
    long = sparkline(list(range(1000)), width=40)
    assert len(long) == 40 and long[0] == "▁" and long[-1] == "█"
    assert sparkline([1.0, float("nan"), 0.0]) == "█▁"


def test_read_metrics_keeps_rows_before_a_torn_line(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss,val_loss\n1,0.5,0.6\n2,0.4,0.5\n3,0.3")
    assert [r["epoch"] for r in read_metrics(path)] == [1, 2]
    assert read_metrics(tmp_path / "missing.csv") == []
    # Cut inside the last number, which would still parse as a shorter one: no line end, no row.
    path.write_text("epoch,loss,seconds\n1,0.5,0.25\n2,0.4,0.12")
    assert [r["epoch"] for r in read_metrics(path)] == [1]


def test_display_choice():
    assert type(make_display(quiet=False, interactive=True)) is LiveDisplay
    assert type(make_display(quiet=False, interactive=False)) is LineDisplay
    quiet = make_display(quiet=True)
    assert type(quiet) is QuietDisplay and not quiet.results


def test_rich_progress_in_a_terminal(tmp_path):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    display = LiveDisplay(console)
    nnrun.train(IRIS, overrides=["training.epochs=3"], run_dir=tmp_path / "r", hooks=display)
    out = buffer.getvalue()
    assert "training" in out and "ETA" in out and "3/3" in out  # the bar over the whole run
    assert "epoch 3/3  loss" in out and "Results" in out
    assert display.progress is None  # the live display was stopped


def test_rich_progress_is_released_when_training_fails(tmp_path):
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    display = LiveDisplay(console)
    with pytest.raises(nnrun.errors.TrainingFailed):
        try:
            nnrun.train(IRIS, overrides=["optimizer.learning_rate=1e30"], run_dir=tmp_path / "r", hooks=display)
        finally:
            display.close()
    assert display.progress is None and not console.is_alt_screen


def test_a_reader_that_leaves_does_not_fail_the_run(tmp_path):
    # `nnrun train config.yaml | head -1`: the pipe closes after the first line. The run
    # carries on to its end, completed, and the command's exit code is still 0.
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "nnrun", "train", str(IRIS), "--run-dir", "r",
                                "--set", "training.epochs=30"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, errors
    assert b"training iris" in first and errors == ""
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["status"] == "completed"
    assert len(read_metrics(tmp_path / "r" / "metrics.csv")) == 30


@pytest.mark.parametrize("options", [[], ["--quiet"]], ids=["lines", "quiet"])
def test_piped_results_table_keeps_every_metric_and_value_whole(tmp_path, options):
    # `nnrun train config.yaml | tail` in a CI log: the table as wide as its values need,
    # and the epochs as plain lines, with no bar drawn.
    (tmp_path / "config.yaml").write_text(MANY_METRICS)
    result = run_piped("train", "config.yaml", "--run-dir", "r", *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    metrics = ["loss", "accuracy", "precision", "recall", "f1", "f1_macro", "auc"]
    [header] = [_cells(line) for line in out.splitlines() if line.startswith("┃")]
    assert header == ["split", "samples", *metrics]
    rows = [_cells(line) for line in out.splitlines() if line.startswith("│")]
    assert rows == [[split, str(meta["samples"][split]), *(f"{meta['final'][split][m]:.4f}" for m in metrics)]
                    for split in ("train", "validation", "test")]
    assert "…" not in out and "\r" not in out and "\x1b[" not in out and "ETA" not in out
    epochs = [line.split("  ")[0] for line in out.splitlines() if line.startswith("epoch ")]
    assert epochs == ([] if options else ["epoch 1/2", "epoch 2/2"])


def test_train_json_prints_only_the_result_as_json_for_a_script_and_the_progress_on_stderr(tmp_path):
    (tmp_path / "config.yaml").write_text(MANY_METRICS)
    result = run_piped("train", "config.yaml", "--run-dir", "r", "--json", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # nothing but the JSON: no epochs, table or colours
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert report["run_dir"] == "r" and report["epochs"] == 2 and report["stopped_early"] is False
    assert report["final"] == meta["final"] and report["parameters"] > 0
    # The progress and summary on standard error, where a CI log shows a long run's epochs.
    epochs = [line.split("  ")[0] for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert epochs == ["epoch 1/2", "epoch 2/2"] and "Results (final weights)" in result.stderr
    assert "\x1b[" not in result.stdout
    quiet = run_piped("train", "config.yaml", "--run-dir", "q", "--json", "-q", cwd=tmp_path)
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["epochs"] == 2 and "epoch" not in quiet.stderr
    # A completed run resumed is a note, exit 0; the JSON is still there, as recorded.
    again = run_piped("train", "--resume", "r", "--json", cwd=tmp_path)
    assert again.returncode == 0 and "nothing to resume" in again.stderr
    recorded = json.loads(again.stdout)
    assert recorded["final"] == report["final"] and recorded["epochs"] == 2 and recorded["seconds"] == 0
    assert recorded["note"].endswith("the run has completed; there is nothing to resume") and "note" not in report


def test_train_json_of_a_failed_or_interrupted_run_says_where_it_is_and_what_next(tmp_path):
    """Exit 1 or 130 with JSON still on standard output: a script (a CI step) learns the
    run's folder, its status and the command that resumes it without parsing the error."""
    import os
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "config.yaml").write_text(MANY_METRICS)
    failed = run_piped("train", "config.yaml", "--run-dir", "f", "--json", "--set",
                       "optimizer={type: sgd, learning_rate: 1.0e+6}", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    report = json.loads(failed.stdout)
    assert report["run_dir"] == "f" and report["status"] == "failed" and report["resume"] is None
    assert "the loss became nan in epoch" in report["message"] and report["epoch"] >= 1
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    running = subprocess.Popen([sys.executable, "-m", "nnrun", "train", "config.yaml", "--run-dir", "i", "--json",
                                "--set", "training.epochs=100000"], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not ((tmp_path / "i" / "metrics.csv").is_file() and
               len((tmp_path / "i" / "metrics.csv").read_text().splitlines()) > 2):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    running.send_signal(signal.SIGTERM)
    out, _ = running.communicate(timeout=60)
    assert running.returncode == 130
    report = json.loads(out)
    assert report["status"] == "interrupted" and report["run_dir"] == "i" and report["epoch"] >= 2
    assert report["resume"] == "nnrun train --resume i" and report["message"].startswith("stopped by SIGTERM")


def test_forced_colours_in_a_log_still_get_epoch_lines_not_bars(tmp_path):
    # FORCE_COLOR (set for coloured CI logs) makes rich take the pipe for a terminal.
    (tmp_path / "config.yaml").write_text(MANY_METRICS)
    result = run_piped("train", "config.yaml", "--run-dir", "r", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b[" in out  # the colours it asked for
    assert "\r" not in out and "ETA" not in out and "\x1b[?25l" not in out and "\x1b[1A" not in out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert [line.split("  ")[0] for line in plain.splitlines() if line.startswith("epoch ")] == ["epoch 1/2",
                                                                                                 "epoch 2/2"]


def _cells(line: str) -> list[str]:
    """The cells of one table line, header (┃) or row (│)."""
    return [cell.strip() for cell in line.replace("┃", "│").split("│")[1:-1]]


def test_an_epoch_line_to_a_reader_that_left_quiets_the_console_instead_of_failing(tmp_path, monkeypatch):
    # The epoch lines are written straight to the console's file (rich's print costs more
    # than a short epoch), so a closed pipe there is this display's to handle, as rich
    # handles it in its own prints.
    import os

    from nnrun.console.output import OutputConsole

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    console = OutputConsole(file=ClosedPipe())
    monkeypatch.setattr(os, "dup2", lambda *args: None)  # leave this process's stdout alone
    display = LineDisplay(console)
    display.best = None  # as start() leaves it before the first epoch
    display.epoch_start(1, 2, 3)
    display.epoch_end({"epoch": 1, "loss": 0.5, "seconds": 0.1})
    assert console.quiet


def test_the_new_best_marker_follows_early_stoppings_monitor():
    """Early stopping on val_accuracy keeps that quantity's best epoch: the * marks it,
    not a new low of the validation loss the run does not keep."""
    import io
    from types import SimpleNamespace

    from nnrun.console.output import OutputConsole
    from nnrun.console.progress import LineDisplay
    from nnrun.model.monitor import Monitor

    rows = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 0.9, "val_accuracy": 0.60, "seconds": 0.1},
            {"epoch": 2, "loss": 0.8, "accuracy": 0.6, "val_loss": 0.8, "val_accuracy": 0.70, "seconds": 0.1},
            {"epoch": 3, "loss": 0.6, "accuracy": 0.7, "val_loss": 0.7, "val_accuracy": 0.65, "seconds": 0.1}]
    marked = {}
    for name, stopping in (("val_accuracy", SimpleNamespace(monitor="val_accuracy", min_delta=0.0)),
                           ("min_delta", SimpleNamespace(monitor="val_loss", min_delta=0.15)), ("none", None)):
        display = LineDisplay(OutputConsole(file=io.StringIO()))
        display.best = None  # as start() sets it, with the monitor below
        display.monitored = Monitor(stopping.monitor, stopping.min_delta) if stopping else None
        display.epoch_start(1, 3, 1)
        marked[name] = [display.epoch_line(row).endswith(" *") for row in rows]
    # min_delta 0.15: epochs 2 and 3 improve the loss by 0.1 each, which early stopping does not count.
    assert marked == {"val_accuracy": [True, True, False], "min_delta": [True, False, True],
                      "none": [True, True, True]}


def test_an_output_that_cannot_encode_unicode_gets_ascii_and_escapes_not_a_traceback(tmp_path):
    # PYTHONIOENCODING=ascii (or a C locale): the sparkline's blocks and a path's letters
    # once raised UnicodeEncodeError after the run had completed (exit 1).
    from nnrun.store.curves import SPARK_ASCII

    folder = tmp_path / "ünï"
    folder.mkdir()
    config = folder / "iris ñ.yaml"
    config.write_text(IRIS.read_text())
    ascii_only = {"PYTHONIOENCODING": "ascii"}
    result = run_piped("train", config, "--run-dir", "r", "--set", "training.epochs=3", cwd=tmp_path, env=ascii_only)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    [curve] = [line for line in result.stdout.splitlines() if line.startswith("val_loss:")]
    assert set(curve.split()[1]) <= set(SPARK_ASCII)
    checked = run_piped("validate", config, cwd=tmp_path, env=ascii_only)
    assert checked.returncode == 0 and "\\xfcn\\xef" in checked.stdout and ": valid" in checked.stdout


@pytest.mark.parametrize("columns", ["0", "1"])
def test_a_columns_setting_of_no_width_still_shows_errors_and_tables(tmp_path, columns):
    # At COLUMNS=0 rich printed nothing at all, not even the error; at 1 a character a line.
    (tmp_path / "iris.yaml").write_text(IRIS.read_text())
    missing = run_piped("validate", "missing.yaml", cwd=tmp_path, env={"COLUMNS": columns})
    assert missing.returncode == 2 and "error: missing.yaml: no such config file" in missing.stderr
    valid = run_piped("validate", "iris.yaml", cwd=tmp_path, env={"COLUMNS": columns})
    assert valid.returncode == 0 and "iris.yaml: valid" in valid.stdout
    assert "dense_0" in valid.stdout  # the model's table, at a width its names fit in


def test_meta_json_keeps_the_command_as_a_shell_can_run_it_again(tmp_path):
    import shlex

    (tmp_path / "my configs").mkdir()
    (tmp_path / "my configs" / "iris é.yaml").write_text(IRIS.read_text())
    args = ["train", "my configs/iris é.yaml", "--set", "training={epochs: 2, batch_size: 8}", "--run-dir", "out dir/r",
            "-q"]
    assert run_piped(*args, cwd=tmp_path).returncode == 0
    command = json.loads((tmp_path / "out dir" / "r" / "meta.json").read_text())["command"]
    assert shlex.split(command)[-len(args):] == args


def test_a_runs_config_yaml_keeps_letters_beyond_ascii_as_written(tmp_path):
    import yaml

    rows = "\n".join(f"{i % 7},{i % 5},{'ja' if i % 2 else 'nein'}" for i in range(40))
    (tmp_path / "dätä.csv").write_text(f"größe,länge,klasse\n{rows}\n", encoding="utf-8")
    config = {"name": "t", "data": {"source": {"type": "csv", "path": str(tmp_path / "dätä.csv"), "target": "klasse"}},
              "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "sparse_categorical_crossentropy",
              "training": {"epochs": 1}}
    run = nnrun.train(config, run_dir=tmp_path / "r", quiet=True).run_dir
    text = (run / "config.yaml").read_text(encoding="utf-8")
    assert "dätä.csv" in text and "\\x" not in text
    assert yaml.safe_load(text)["data"]["source"]["path"].endswith("dätä.csv")


def test_the_summary_curve_is_of_what_early_stopping_watches(run_cli):
    result = run_cli("train", IRIS, "--set", "training.early_stopping={monitor: val_accuracy, patience: 50}",
                     "--set", "training.epochs=4", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    assert re.search(r"^val_accuracy: \S+ [\d.]+ -> [\d.]+$", result.output, re.MULTILINE), result.output
    plain = run_cli("train", IRIS, "--set", "training.epochs=4", "--run-dir", "r2", "--quiet")
    assert re.search(r"^val_loss:\s+\S+ [\d.]+ -> [\d.]+$", plain.output, re.MULTILINE), plain.output


def test_a_saved_run_that_watched_an_unmeasurable_auc_is_still_evaluated(run_cli, tmp_path, monkeypatch):
    # Trained by an nnrun that let it train (the check left out here): scoring its weights
    # is no new training to refuse.
    import nnrun.engine.experiment

    config = _auc_of_one_class(tmp_path)
    with monkeypatch.context() as older:
        older.setattr(nnrun.engine.experiment, "unmeasurable_monitors", lambda config, parts: [])
        assert run_cli("train", config, "--run-dir", tmp_path / "r", "-q").exit_code == 0
    result = run_cli("evaluate", tmp_path / "r")
    assert result.exit_code == 0, result.output


def test_the_json_of_a_stopped_run_offers_a_resume_only_where_one_can_go_on(tmp_path, capsys):
    """A kept checkpoint and a run that did not diverge: the resume command; no checkpoint
    (checkpoints off), or a divergence (resumed, it diverges again): null."""
    from nnrun.console.results import print_stopped_json
    from nnrun.errors import NonFiniteError, RunInterrupted, RunWriteFailed

    kept, none = tmp_path / "kept", tmp_path / "none"
    (kept / "checkpoints").mkdir(parents=True)
    (kept / "checkpoints" / "epoch-000003.safetensors").write_bytes(b"")
    none.mkdir()
    cases = [(RunWriteFailed("could not write x: No space left on device"), kept, "nnrun train --resume"),
             (RunInterrupted("stopped at once", "train it again", {"epoch": 3}), none, None),
             (NonFiniteError("the loss became nan", epoch=2, batch=1, reason="loss"), kept, None)]
    for stopped, run, resume in cases:
        stopped.run_dir = run
        print_stopped_json(stopped)
        report = json.loads(capsys.readouterr().out)
        assert (report["resume"] or "").startswith(resume or "") and (report["resume"] is None) == (resume is None)
