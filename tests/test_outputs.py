"""What evaluate and predict write: one report per evaluation, predictions to standard
output with `-o -`, nothing replaced without --force; and a run that did not complete
is scored and used with its newest valid checkpoint, saying so."""

from __future__ import annotations

import importlib.util
import json
import os
import signal

import pytest
from conftest import run_python

import nnrun
from nnrun.engine.hooks import SilentHooks
from nnrun.errors import Interrupted, UserError

CONFIG = {
    "name": "out",
    "data": {"source": {"type": "builtin", "name": "iris"}, "preprocess": ["standardize"]},
    "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 3, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.02},
    "metrics": ["accuracy"],
    "training": {"epochs": 8, "batch_size": 16, "checkpoint": {"every_epochs": 1, "keep": 2}},
}
SAMPLES = "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"


class StopAfter(SilentHooks):
    def __init__(self, epoch):
        self.epoch = epoch

    def epoch_end(self, row):
        if row["epoch"] == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def run(tmp_path):
    return nnrun.train(CONFIG, run_dir=tmp_path / "run").run_dir


def test_each_evaluation_has_its_own_report(run_cli, run, tmp_path):
    for split in ("test", "train"):
        result = run_cli("evaluate", run, "--split", split)
        assert result.exit_code == 0 and f"written: {run / f'eval-{split}.json'}" in result.output
    (tmp_path / "new.npz").write_bytes(b"")
    import numpy as np

    np.savez(tmp_path / "new.npz", x=np.array([[5.1, 3.5, 1.4, 0.2]]), y=np.array([0]))
    assert run_cli("evaluate", run, "--data", tmp_path / "new.npz").exit_code == 0
    reports = {p.name: json.loads(p.read_text()) for p in run.glob("eval-*.json")}
    assert set(reports) == {"eval-test.json", "eval-train.json", "eval-new.json"}
    assert reports["eval-test.json"]["samples"] == 30 and reports["eval-train.json"]["samples"] == 105
    assert reports["eval-new.json"]["samples"] == 1


def test_an_existing_report_is_not_replaced_without_force(run_cli, run):
    assert run_cli("evaluate", run).exit_code == 0
    assert run_cli("evaluate", run).exit_code == 0  # the same report again: nothing is lost
    report = run / "eval-test.json"
    edited = json.loads(report.read_text()) | {"samples": 29}  # of these weights, but not what nnrun wrote
    report.write_text(json.dumps(edited))
    result = run_cli("evaluate", run)
    assert result.exit_code == 2
    assert f"error: {report}: already exists; nnrun does not overwrite it" in result.output
    assert "add --force to replace it" in result.output and json.loads(report.read_text()) == edited
    assert "choose another file with -o" not in result.output  # evaluate has no such option
    assert run_cli("evaluate", run, "--force").exit_code == 0
    assert json.loads(report.read_text())["samples"] == 30


def test_a_report_from_before_fingerprints_is_replaced_if_the_same_else_kept_aside(run_cli, run):
    assert run_cli("evaluate", run).exit_code == 0
    report = run / "eval-test.json"
    written = json.loads(report.read_text())
    older = {k: v for k, v in written.items() if k != "weights_fingerprint"}
    report.write_text(json.dumps(older, indent=2) + "\n")  # as nnrun wrote it before fingerprints
    result = run_cli("evaluate", run)
    assert result.exit_code == 0 and "kept:" not in result.output  # the same report: nothing to keep
    assert json.loads(report.read_text()) == written
    report.write_text("{}\n")  # something else under that name, of unknown weights
    result = run_cli("evaluate", run)
    assert result.exit_code == 0 and f"kept:    {run / 'eval-test.earlier.json'}" in result.output
    assert (run / "eval-test.earlier.json").read_text() == "{}\n" and json.loads(report.read_text()) == written


def test_a_report_of_another_file_of_the_same_name_is_kept_aside_and_the_scores_shown(run_cli, tmp_path, monkeypatch):
    """Evaluating a/labelled.csv then b/labelled.csv once refused the second, scores and all."""
    import gzip

    from nnrun.data.sources import BUILTIN_FOLDER
    from trained import train_iris

    run = train_iris(tmp_path / "iris", epochs=2)
    rows = gzip.decompress((BUILTIN_FOLDER / "iris.csv.gz").read_bytes()).decode().splitlines(keepends=True)
    for folder, part in (("a", rows[:80]), ("b", rows[:1] + rows[80:])):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "labelled.csv").write_text("".join(part))
    assert run_cli("evaluate", run, "--data", tmp_path / "a" / "labelled.csv").exit_code == 0
    first = (run / "eval-labelled.json").read_text()
    result = run_cli("evaluate", run, "--data", tmp_path / "b" / "labelled.csv")
    assert result.exit_code == 0 and "accuracy" in result.output, result.output
    kept = run / "eval-labelled.other-data.json"
    assert f"kept:    {kept} (the report of another file of that name)" in result.output
    assert kept.read_text() == first and json.loads((run / "eval-labelled.json").read_text())["samples"] == 71
    # The same file again, named from its own folder: the same file, not another (its report is replaced).
    monkeypatch.chdir(tmp_path / "b")
    result = run_cli("evaluate", run, "--data", "labelled.csv")
    assert result.exit_code == 0 and "another file" not in result.output, result.output
    # The same file with its rows changed since (a nightly latest.csv): its report kept aside too.
    before = (run / "eval-labelled.json").read_text()
    (tmp_path / "b" / "labelled.csv").write_text("".join(rows[:1] + rows[100:]))
    result = run_cli("evaluate", run, "--data", "labelled.csv")
    assert result.exit_code == 0, result.output
    earlier = run / "eval-labelled.earlier-data.json"
    assert f"kept:    {earlier} (the report of the file as it was then)" in result.output
    assert earlier.read_text() == before and json.loads((run / "eval-labelled.json").read_text())["samples"] == 51
    # An older nnrun's report of the same file, without the hash: the same report, replaced unasked.
    older = json.loads((run / "eval-labelled.json").read_text())
    del older["data_sha256"]
    (run / "eval-labelled.json").write_text(json.dumps(older))
    result = run_cli("evaluate", run, "--data", "labelled.csv")
    assert result.exit_code == 0 and "kept:" not in result.output, result.output
    # A report edited into no report of a file: replaced only with --force, and no traceback.
    report = json.loads((run / "eval-labelled.json").read_text())
    (run / "eval-labelled.json").write_text(json.dumps({**report, "data": 5}))
    assert run_cli("evaluate", run, "--data", "labelled.csv", "--force").exit_code == 0


def test_a_report_of_the_weights_before_a_resume_is_kept_aside_not_in_the_way(run_cli, tmp_path):
    from trained import train_iris

    run = train_iris(tmp_path / "iris", epochs=3)
    assert run_cli("evaluate", run).exit_code == 0
    before = (run / "eval-test.json").read_text()
    fingerprint = json.loads(before)["weights_fingerprint"]
    assert run_cli("train", "--resume", run, "--set", "training.epochs=5", "--quiet").exit_code == 0
    result = run_cli("evaluate", run)
    assert result.exit_code == 0, result.output
    kept = run / f"eval-test.weights-{fingerprint[:8]}.json"
    assert f"kept:    {kept} (the report of the weights before)" in result.output
    assert kept.read_text() == before  # nothing lost
    now = json.loads((run / "eval-test.json").read_text())
    assert now["weights_fingerprint"] != fingerprint and now["split"] == "test"
    again = run_cli("evaluate", run)  # the same weights again: the same report, nothing more kept
    assert again.exit_code == 0 and "kept:" not in again.output
    assert sorted(p.name for p in run.glob("eval-test*.json")) == ["eval-test.json", kept.name]


def test_predictions_go_to_standard_output_with_dash_and_are_never_silently_replaced(run_cli, run, tmp_path):
    (tmp_path / "new.csv").write_text(SAMPLES)
    result = run_cli("predict", run, "new.csv", "-o", "-", "--proba")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "prediction,proba_setosa,proba_versicolor,proba_virginica" and len(lines) == 3
    assert lines[1].startswith("setosa,") and not (tmp_path / "-").exists() and not (run / "predictions.csv").exists()

    assert run_cli("predict", run, "new.csv").exit_code == 0
    result = run_cli("predict", run, "new.csv", "--proba")  # different columns: would lose the first file
    assert result.exit_code == 2 and "predictions.csv: already exists; nnrun does not overwrite it" in result.output
    assert f"hint: add --force to replace it, or write these to a file of their own: -o {run / 'predictions-new.csv'}" \
        in result.output
    assert run_cli("predict", run, "new.csv", "--proba", "--force").exit_code == 0
    assert (run / "predictions.csv").read_text().startswith("prediction,proba_setosa")


@pytest.mark.parametrize("kept", ["model.safetensors", "config.yaml", "meta.json", "preprocess.json", "metrics.csv",
                                  "checkpoints/epoch-0008.safetensors", "new.csv"])
def test_predictions_never_replace_the_run_or_their_input_even_with_force(run_cli, run, tmp_path, kept):
    (tmp_path / "new.csv").write_text(SAMPLES)
    target = tmp_path / kept if kept == "new.csv" else run / kept
    before = target.read_bytes() if target.exists() else None
    result = run_cli("predict", run, "new.csv", "-o", target, "--force")
    assert result.exit_code == 2, result.output
    if kept == "new.csv":
        assert f"error: {target}: is the input file; nnrun does not write predictions over the data" in result.output
    else:
        assert f"error: {target}: is part of the run {run.resolve()}" in result.output
        assert "--force or not" in result.output and "--force to replace" not in result.output
    assert (target.read_bytes() if target.exists() else None) == before
    assert run_cli("evaluate", run).exit_code == 0  # the run is whole


@pytest.mark.parametrize("other, command", [("model.onnx", "export"), ("model.json", "export"),
                                            ("model-float16.json", "export"), ("eval-test.json", "evaluate"),
                                            ("curves.png", "plot")])
def test_predictions_never_replace_another_commands_output_in_the_run(run_cli, run, tmp_path, other, command):
    # Written over model.onnx with --force, they left a CSV file that export then refused to replace.
    (tmp_path / "new.csv").write_text(SAMPLES)
    (run / other).write_text("kept")
    result = run_cli("predict", run, "new.csv", "-o", run / other, "--force")
    assert result.exit_code == 2, result.output
    assert f"error: {run / other}: is where nnrun {command} writes for the run {run.resolve()}; nnrun never " \
           "writes predictions there, --force or not" in " ".join(result.output.split())
    assert (run / other).read_text() == "kept"
    result = run_cli("export", run, "-o", run / "eval-test.onnx", "--force")  # its card would be eval-test.json
    assert result.exit_code == 2 and "is where nnrun evaluate writes for the run" in result.output


@pytest.fixture
def interrupted(tmp_path):
    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=tmp_path / "stopped", hooks=StopAfter(5))
    assert not (tmp_path / "stopped" / "model.safetensors").exists()
    return tmp_path / "stopped"


def test_an_interrupted_run_is_evaluated_with_its_newest_checkpoint(run_cli, interrupted, tmp_path):
    five = nnrun.train({**CONFIG, "training": {**CONFIG["training"], "epochs": 5}}, run_dir=tmp_path / "five")
    result = run_cli("evaluate", interrupted)
    assert result.exit_code == 0, result.output
    note = (f"note: the run is interrupted and has no final weights; using those of its newest valid checkpoint, "
            f"{interrupted / 'checkpoints' / 'epoch-000005.safetensors'} (after epoch 5)")
    assert note in result.output
    report = json.loads((interrupted / "eval-test.json").read_text())
    assert report["metrics"] == five.final["test"]  # the weights after epoch 5, exactly
    assert report["weights_note"].startswith("the run is interrupted")


def test_a_killed_run_is_used_for_predictions_with_its_newest_valid_checkpoint(run_cli, interrupted, tmp_path):
    meta = json.loads((interrupted / "meta.json").read_text())
    (interrupted / "meta.json").write_text(json.dumps({**meta, "status": "running"}))  # as SIGKILL leaves it
    newest = interrupted / "checkpoints" / "epoch-000005.safetensors"
    newest.write_bytes(newest.read_bytes()[:-7])  # torn by the kill
    (tmp_path / "new.csv").write_text(SAMPLES)
    result = run_cli("predict", interrupted, "new.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.output
    assert "note: the run is killed (it stopped without a word) and has no final weights; using those of its " \
           f"newest valid checkpoint, {interrupted / 'checkpoints' / 'epoch-000004.safetensors'} (after epoch 4); " \
           "skipped: " in result.output
    assert (tmp_path / "out.csv").read_text().startswith("prediction\nsetosa\n")


def test_a_run_killed_before_its_first_checkpoint_after_an_epoch_says_its_weights_are_untrained(run_cli, tmp_path):
    # Killed after 3 short epochs, well within the default time budget between checkpoints.
    config = {**CONFIG, "training": {"epochs": 50, "batch_size": 16}}
    code = ("import os, nnrun\nfrom nnrun.engine.hooks import SilentHooks\n"
            "class Kill(SilentHooks):\n    def epoch_end(self, row):\n"
            "        if row['epoch'] == 3: os._exit(9)\n"
            f"nnrun.train({config!r}, run_dir={str(tmp_path / 'killed')!r}, hooks=Kill())\n")
    assert run_python(code).returncode == 9
    interrupted = tmp_path / "killed"
    assert [p.name for p in (interrupted / "checkpoints").iterdir()] == ["epoch-000000.safetensors"]
    result = run_cli("evaluate", interrupted)
    assert result.exit_code == 0, result.output
    assert ("note: untrained weights: the run is killed (it stopped without a word) before its first checkpoint "
            "after an epoch, so the weights are those it started from") in result.output
    assert f"train it on with: nnrun train --resume {interrupted}" in result.output
    assert nnrun.load(interrupted).weights_epoch == 0
    # Still training (a live process holds the lock): thousands of epochs may be done, the
    # next checkpoint comes with the time budget.
    import fcntl

    from nnrun.store.rundir import RunDir

    with open(RunDir(interrupted).lock_file, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = run_cli("evaluate", interrupted, "--force")
    assert result.exit_code == 0, result.output
    assert ("note: untrained weights: the run is still training and has written no checkpoint after an epoch yet "
            "(it writes one every 5 s), so the weights are those it started from") in " ".join(result.output.split())
    assert "wait for its next checkpoint" in " ".join(result.output.split())
    # A run that failed (a loss gone to NaN, say) would fail the same way resumed.
    meta = json.loads((interrupted / "meta.json").read_text())
    (interrupted / "meta.json").write_text(json.dumps({**meta, "status": "failed"}))
    result = run_cli("evaluate", interrupted, "--force")  # its report says otherwise now
    assert result.exit_code == 0, result.output
    assert "--resume" not in result.output
    assert (f"fix what failed (meta.json says what), then train it again: nnrun train {interrupted / 'config.yaml'}"
            in " ".join(result.output.split()))
    # Looked at, they may be; shipped, never: export and serve refuse them.
    if importlib.util.find_spec("onnx") is not None:
        result = run_cli("export", interrupted, "-o", tmp_path / "m.onnx")
        assert result.exit_code == 2 and "nothing to export" in result.output and not (tmp_path / "m.onnx").exists()
    pytest.importorskip("fastapi")
    from nnrun.commands.serve import ServedModel

    with pytest.raises(UserError) as refused:
        ServedModel.load(interrupted)
    assert refused.value.message == (f"{interrupted}: nothing to serve: the run is one that failed and no epoch of "
                                     "it trained the weights (it kept only the checkpoint saved as it began)")
    assert refused.value.hint == f"fix what failed (meta.json says what), then train it again: nnrun train " \
                                 f"{interrupted / 'config.yaml'}"


def test_a_run_without_weights_or_checkpoints_is_a_clear_error(run_cli, interrupted):
    for checkpoint in (interrupted / "checkpoints").iterdir():
        checkpoint.unlink()
    result = run_cli("evaluate", interrupted)
    assert result.exit_code == 2
    assert (f"{interrupted}: the run is interrupted and saved no weights: it has no model.safetensors, and no "
            "checkpoint to take them from") in " ".join(result.output.split())


def test_an_interrupted_run_is_exported_with_its_newest_checkpoint(run_cli, interrupted, tmp_path):
    pytest.importorskip("onnx")
    result = run_cli("export", interrupted, "-o", tmp_path / "stopped.onnx")
    assert result.exit_code == 0, result.output
    assert "note: the run is interrupted and has no final weights; using those of its newest valid checkpoint, " \
           f"{interrupted / 'checkpoints' / 'epoch-000005.safetensors'} (after epoch 5)" in result.output
    assert (tmp_path / "stopped.onnx").exists()


@pytest.mark.parametrize("damage", ["missing", "not JSON"])
def test_a_run_without_a_readable_meta_json_is_refused_alike_by_every_command(run_cli, run, tmp_path, damage):
    # meta.json tells final weights from a checkpoint's: without it none of them guesses.
    if damage == "missing":
        (run / "meta.json").unlink()
    else:
        (run / "meta.json").write_text("{")
    (tmp_path / "new.csv").write_text(SAMPLES)
    said = "missing; is this a complete nnrun run directory?" if damage == "missing" else "not valid JSON"
    hint = ("hint: meta.json says whether the run completed, and so which of its weights are final (model.safetensors "
            f"or a checkpoint's); restore it, or train the run again from {run / 'config.yaml'}")
    for command in (("evaluate", run), ("predict", run, "new.csv", "-o", "-")):
        result = run_cli(*command)
        assert result.exit_code == 2, result.output
        assert f"error: {run / 'meta.json'}: {said}" in result.output and hint in " ".join(result.output.split())
        assert "checkpoint, " not in result.output
    with pytest.raises(UserError, match="meta.json"):
        nnrun.load(run)
