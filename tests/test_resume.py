"""`nnrun train --resume`: a stopped run continues to the same bytes as one never stopped."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

import nnrun
from conftest import ROOT
from nnrun.engine.hooks import SilentHooks
from nnrun.engine.resume import resume_training
from nnrun.errors import Interrupted

# Shuffling, dropout and early stopping with restored best weights: every piece of
# state a resumed run has to get back.
CONFIG = {
    "name": "resumable",
    "data": {"source": {"type": "builtin", "name": "iris"}, "preprocess": ["standardize"]},
    "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"},
                         {"type": "dropout", "rate": 0.2},
                         {"type": "dense", "units": 3, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.01},
    "metrics": ["accuracy"],
    "training": {"epochs": 12, "batch_size": 16,
                 "early_stopping": {"monitor": "val_loss", "patience": 50, "restore_best": True},
                 "checkpoint": {"every_epochs": 1, "keep": 3}},
}


class SignalAt(SilentHooks):
    """Sends this process a signal at the end of an epoch or at a given batch."""

    def __init__(self, epoch: int, batch: int | None = None, number=signal.SIGINT):
        super().__init__()
        self.at, self.at_batch, self.number, self.epoch = epoch, batch, number, 0

    def epoch_start(self, epoch, epochs, batches):
        self.epoch = epoch

    def batch(self, index, loss):
        if self.epoch == self.at and index == self.at_batch:
            os.kill(os.getpid(), self.number)

    def epoch_end(self, row):
        if row["epoch"] == self.at and self.at_batch is None:
            os.kill(os.getpid(), self.number)


def metrics_without_seconds(run) -> list[str]:
    lines = (run / "metrics.csv").read_text().splitlines()
    drop = lines[0].split(",").index("seconds")
    return [",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines]


def assert_same_run(run, reference) -> None:
    assert (run / "model.safetensors").read_bytes() == (reference / "model.safetensors").read_bytes()
    assert metrics_without_seconds(run) == metrics_without_seconds(reference)


def interrupted_run(tmp_path, config=CONFIG, name="run", **at):
    with pytest.raises(Interrupted):
        nnrun.train(config, run_dir=tmp_path / name, hooks=SignalAt(**at))
    return tmp_path / name


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return nnrun.train(CONFIG, run_dir=tmp_path_factory.mktemp("ref") / "ref").run_dir


@pytest.mark.parametrize("at", [{"epoch": 4}, {"epoch": 6, "batch": 3}, {"epoch": 1, "batch": 1}])
def test_interrupted_then_resumed_run_is_byte_identical(tmp_path, reference, at):
    run = interrupted_run(tmp_path, **at)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "interrupted"
    resume_training(run)
    assert_same_run(run, reference)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "completed" and meta["epochs_completed"] == 12
    assert meta["resumes"][0]["epoch"] == (at["epoch"] if "batch" not in at else at["epoch"] - 1)


def test_resume_falls_back_to_an_older_checkpoint_when_the_newest_is_damaged(tmp_path, reference, capsys):
    run = interrupted_run(tmp_path, epoch=5)
    newest = run / "checkpoints" / "epoch-000005.safetensors"
    data = bytearray(newest.read_bytes())
    data[-10] ^= 0x01  # one flipped bit in the last tensor
    newest.write_bytes(bytes(data))
    capsys.readouterr()
    resume_training(run, command="nnrun sweep (trial 007)")
    assert_same_run(run, reference)
    entry = json.loads((run / "meta.json").read_text())["resumes"][0]
    assert entry["checkpoint"] == "epoch-000004.safetensors"
    assert entry["command"] == "nnrun sweep (trial 007)"  # the caller's, as a new run records it
    assert "checksum mismatch" in entry["skipped"][0] and entry["skipped"][0].endswith(
        "; renamed epoch-000005.safetensors.damaged")
    # Said where the user sees it, and set aside: neither counted toward `keep` nor written over.
    warning = " ".join(capsys.readouterr().err.split())
    assert (f"warning: {newest}: checksum mismatch; the file is damaged (a changed or truncated byte); it was "
            "renamed epoch-000005.safetensors.damaged, and the run resumes from epoch-000004.safetensors") in warning
    assert (run / "checkpoints" / "epoch-000005.safetensors.damaged").read_bytes() == bytes(data)


def test_resume_continues_a_run_stopped_early_exactly(tmp_path):
    config = {**CONFIG, "optimizer": {"type": "sgd", "learning_rate": 2.0},
              "training": {**CONFIG["training"], "epochs": 200,
                           "early_stopping": {"monitor": "val_loss", "patience": 3}}}
    reference = nnrun.train(config, run_dir=tmp_path / "ref")
    assert reference.stopped_early
    run = interrupted_run(tmp_path, config, epoch=reference.best_epoch + 1)
    result = resume_training(run)
    assert result.best_epoch == reference.best_epoch and result.stopped_early
    assert_same_run(run, reference.run_dir)


def test_resume_refuses_a_changed_config_and_names_the_keys(run_cli, tmp_path):
    run = interrupted_run(tmp_path, epoch=2)
    result = run_cli("train", "--resume", run, "--set", "training.epochs=20", "--set", "optimizer.learning_rate=0.1")
    assert result.exit_code == 2
    assert f"differs from the config of the run {run} in 1 place:\n  optimizer.learning_rate (0.01 -> 0.1)" \
        in result.output  # training.epochs alone may change
    assert "training.epochs (12 -> 20)" not in result.output
    # A CONFIG with --set: the message names both, not the file alone for what --set changed.
    both = run_cli("train", str(run / "config.yaml"), "--resume", run, "--set", "optimizer.learning_rate=0.1")
    assert both.exit_code == 2 and f"{run / 'config.yaml'} with --set: differs from the config of the run" in both.output
    # Another model altogether: the first changes, and how many more.
    other = run_cli("train", "--resume", run, str(ROOT / "configs" / "digits_cnn.yaml"))
    assert other.exit_code == 2 and re.search(r"differs from the config of the run .* in \d+ places:\n  name", other.output)
    assert re.search(r"\n  \.\.\. and \d+ more\n", other.output) and other.output.count("\n  ") < 16

    config = yaml.safe_load((run / "config.yaml").read_text())
    config["training"]["batch_size"] = 8  # edited by hand after the run started
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_cli("train", "--resume", run)
    assert result.exit_code == 2
    assert "differs from the one this checkpoint was trained with; changed: training.batch_size (16 -> 8)" in (
        result.output
    )


def test_a_checkpoint_written_before_a_setting_existed_resumes(tmp_path, reference):
    """A run checkpointed by an earlier nnrun, whose config has no data.target_scale (or a
    CSV source no delimiter and decimal), resumes: a default that was not there then is
    no change; a value that differs from the default still is."""
    from nnrun.store import files
    from nnrun.store.tensorfile import encode, read

    run = interrupted_run(tmp_path, epoch=6)
    newest = max((run / "checkpoints").glob("epoch-*.safetensors"))
    arrays, metadata = read(newest)
    config = json.loads(metadata["config"])
    del config["data"]["target_scale"]
    files.atomic_write(newest, encode(arrays, {**metadata, "config": json.dumps(config), "config_hash": "earlier"}))
    resume_training(run, hooks=SilentHooks())
    assert_same_run(run, reference)


def test_resume_warns_of_predictions_and_curves_made_before_it(tmp_path, capsys):
    run = interrupted_run(tmp_path, epoch=2)
    (run / "predictions.csv").write_text("prediction\n1\n")
    (run / "curves.png").write_bytes(b"png")
    capsys.readouterr()
    resume_training(run)
    warned = " ".join(capsys.readouterr().err.split())
    assert f"warning: {run / 'predictions.csv'} was made before this resume and will not show the run's new " \
           "weights and epochs: predict again once it finishes (with --force to replace predictions.csv)" in warned
    assert f"{run / 'curves.png'} was made before this resume" in warned and f"`nnrun plot {run}` again" in warned


def test_resume_with_fewer_epochs_says_it_ends_the_run_there(run_cli, tmp_path):
    run = interrupted_run(tmp_path, epoch=4)
    result = run_cli("train", "--resume", run, "--set", "training.epochs=7")
    assert result.exit_code == 0, result.output
    assert ("training.epochs 12 -> 7: this ends the run at epoch 7 instead of 12 (it continues from epoch 4), "
            "in place") in result.output
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "completed" and meta["epochs_completed"] == 7


def test_resume_of_a_small_set_at_the_default_batch_size_warns_of_nothing_more(run_cli, tmp_path):
    """The run's config.yaml sets every field, the default batch size too; that is no
    choice of the user's to warn about on a resume (a batch size chosen was warned of as
    the run began)."""
    tiny = {**CONFIG, "data": {**CONFIG["data"], "split": {"validation": 0.8, "test": 0.1}},
            "training": {"epochs": 3}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    trained = run_cli("train", tmp_path / "tiny.yaml", "--quiet", "--run-dir", tmp_path / "run")
    assert trained.exit_code == 0 and "batch_size" not in trained.output, trained.output
    resumed = run_cli("train", "--resume", tmp_path / "run", "--set", "training.epochs=4", "--quiet")
    assert resumed.exit_code == 0 and "batch_size" not in resumed.output, resumed.output
    chosen = run_cli("train", tmp_path / "tiny.yaml", "--quiet", "--run-dir", tmp_path / "chosen", "--set",
                     "training.batch_size=32")
    assert chosen.exit_code == 0 and "training.batch_size: 32 is more than the 15 training samples" in chosen.output


def test_resume_with_the_run_config_given_again_is_accepted(run_cli, tmp_path, reference):
    run = interrupted_run(tmp_path, epoch=3)
    result = run_cli("train", run / "config.yaml", "--resume", run, "--quiet")
    assert result.exit_code == 0, result.output
    assert_same_run(run, reference)


def test_resume_after_the_data_file_moved_says_to_put_it_back(run_cli, tmp_path):
    """The run's config.yaml holds the absolute path it trained on; resume reads that
    file again, and where it is gone says what to do, the run untouched."""
    data = tmp_path / "fruit.csv"
    data.write_bytes((ROOT / "configs" / "data" / "fruit.csv").read_bytes())
    result = run_cli("train", ROOT / "configs" / "fruit.yaml", "--set", f"data.source.path={data}", "--set",
                     "training.epochs=2", "--run-dir", "run", "--quiet")
    assert result.exit_code == 0, result.output
    data.rename(tmp_path / "moved.csv")
    result = run_cli("train", "--resume", "run", "--set", "training.epochs=4")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and f"data.source.path: {data}: no such file" in said
    assert "hint: put the file back where it was, then resume; or resume with the path it has now, checked to be " \
           "the same data: --set data.source.path=NEW" in said
    assert json.loads((tmp_path / "run" / "meta.json").read_text())["epochs_completed"] == 2
    # As the hint says: resumed where the data is now, and its config.yaml names it there, for evaluate after.
    result = run_cli("train", "--resume", "run", "--set", "training.epochs=4", "--set",
                     f"data.source.path={tmp_path / 'moved.csv'}")
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "moved.csv") in (tmp_path / "run" / "config.yaml").read_text()
    assert run_cli("evaluate", "run").exit_code == 0


def test_resume_without_a_valid_checkpoint_is_an_error(run_cli, tmp_path):
    run = interrupted_run(tmp_path, epoch=2)
    for path in (run / "checkpoints").iterdir():
        path.write_bytes(b"")
    result = run_cli("train", "--resume", run)
    assert result.exit_code == 2
    assert "no valid checkpoint to resume from" in result.output
    assert "epoch-000002.safetensors: not a valid safetensors file (only 0 bytes; truncated?)" in result.output
    assert f"hint: start the run again, as a new run, with: nnrun train {run}/config.yaml" in result.output
    assert json.loads((run / "meta.json").read_text())["status"] == "interrupted"  # untouched


def test_resuming_a_completed_run_changes_nothing_and_train_needs_a_config(run_cli, reference):
    # A CI step run again after it succeeded: told, and no failure.
    before = {p.name: p.read_bytes() for p in reference.iterdir() if p.is_file()}
    result = run_cli("train", "--resume", reference)
    assert result.exit_code == 0 and "note: " in result.output
    assert "the run has completed; there is nothing to resume" in result.output
    assert {p.name: p.read_bytes() for p in reference.iterdir() if p.is_file()} == before
    result = run_cli("train")
    assert result.exit_code == 2 and "missing CONFIG" in result.output


def test_a_config_with_resume_starts_the_run_where_none_is_yet_so_one_command_can_be_retried(tmp_path, reference):
    """`nnrun train CONFIG --resume DIR` as a retried job runs it: the first time it
    starts the run in DIR (none there, or an empty folder a CI step made), after a kill it
    continues it, and once it completed it does nothing; the weights are the reference's."""
    from nnrun.commands.train import train_or_resume

    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    run = tmp_path / "nightly"
    with pytest.raises(nnrun.errors.RunInterrupted):  # as the CLI meets it (nnrun.train raises Interrupted)
        train_or_resume(config, run, None, [], SignalAt(epoch=5), command="nnrun train")
    assert json.loads((run / "meta.json").read_text())["status"] == "interrupted"
    train_or_resume(config, run, None, [], SilentHooks(), command="nnrun train")
    assert_same_run(run, reference)
    with pytest.raises(nnrun.errors.AlreadyDone):  # the CLI's note, and exit 0
        train_or_resume(config, run, None, [], SilentHooks(), command="nnrun train")
    (tmp_path / "empty").mkdir()
    train_or_resume(config, tmp_path / "empty", None, [], SilentHooks(), command="nnrun train")
    assert_same_run(tmp_path / "empty", reference)
    # Without a CONFIG, a folder without a run is still an error: nothing says what to train.
    with pytest.raises(nnrun.errors.UserError, match="no such run directory"):
        train_or_resume(None, tmp_path / "typo", None, [], SilentHooks(), command="nnrun train")


@pytest.mark.parametrize("left", [
    {".lock": ""},
    {".lock": "123", "config.yaml": "name: x\n", "preprocess.json": "{}"},
    {".lock": "", "config.yaml": "name: x\n", "preprocess.json": "{}", "meta.json": '{"status": "running"}',
     "checkpoints/.epoch-000000.safetensors.99999.tmp": "half", "metrics.csv": "epoch,loss\n"},
    {".lock": "", "meta.json": '{"status": "failed", "failure": {"type": "CheckpointWriteFailed"}}',
     ".meta.json.99999.tmp": "{"},  # a disk full at checkpoint 0
], ids=["lock", "start-files", "checkpoint-cut", "failed-at-start"])
def test_a_run_killed_as_it_started_is_started_again_in_its_folder_not_refused(tmp_path, reference, run_cli, left):
    """A SIGKILL in the moments between a run's folder and its first checkpoint leaves files
    that taught nothing: a retried job (CONFIG --resume DIR, or --run-dir DIR) starts there."""
    from nnrun.commands.train import train_or_resume
    from nnrun.store.leftovers import started_nothing

    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    for retried in ("resumed", "run-dir"):
        run = tmp_path / retried
        for name, text in left.items():
            (run / name).parent.mkdir(parents=True, exist_ok=True)
            (run / name).write_text(text)
        assert started_nothing(run)
        alone = run_cli("train", "--resume", run)  # without CONFIG: nothing says what to train
        assert alone.exit_code == 2 and "the run there stopped as it started, before its first epoch; there is " \
            "nothing to resume" in " ".join(alone.output.split()) and "nnrun train CONFIG --resume" in alone.output
        if retried == "resumed":
            train_or_resume(config, run, None, [], SilentHooks(), command="nnrun train")
        else:
            assert run_cli("train", config, "--run-dir", run, "-q").exit_code == 0
        assert_same_run(run, reference)
        assert not [p for p in run.rglob("*.tmp")]
    # Something learned is no leftover: a checkpoint, a row of metrics, a completed run, a live lock.
    assert not started_nothing(reference)
    learned = tmp_path / "learned"
    (learned / "checkpoints").mkdir(parents=True)
    (learned / "metrics.csv").write_text("epoch,loss\n1,0.5\n")
    assert not started_nothing(learned)
    (learned / "metrics.csv").write_text("epoch,loss\n")
    (learned / "checkpoints" / "epoch-000000.safetensors").write_bytes(b"x")
    assert not started_nothing(learned)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert not started_nothing(other)
    # One's own files of the names a run writes, without nnrun's lock file: none of nnrun's, never cleared.
    own = tmp_path / "own"
    own.mkdir()
    (own / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    (own / "data.csv").write_text("a,b\n1,2\n")
    assert not started_nothing(own)
    refused = run_cli("train", own / "config.yaml", "--run-dir", own)
    assert refused.exit_code == 2 and (own / "data.csv").read_text() == "a,b\n1,2\n"
    # A resume refused there (no meta.json) leaves no lock file behind that would make the folder look like nnrun's.
    refused = run_cli("train", "--resume", own)
    assert refused.exit_code == 2 and "meta.json: missing" in refused.output and not (own / ".lock").exists()
    assert run_cli("train", own / "config.yaml", "--resume", own).exit_code == 2
    assert (own / "data.csv").read_text() == "a,b\n1,2\n" and not (own / ".lock").exists()
    # A lock file of another content, a linked one, a file of one's own that ends in .tmp, a row after a blank
    # line: none of them a start nnrun left.
    for number, (name, text) in enumerate(((".lock", "mine"), (".backup.tmp", "x"),
                                           ("metrics.csv", "epoch,loss\n\n1,0.5\n"))):
        odd = tmp_path / f"odd{number}"
        odd.mkdir()
        (odd / ".lock").write_text("")
        (odd / name).write_text(text)
        assert not started_nothing(odd), name
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / ".lock").symlink_to(tmp_path / "odd1" / ".lock")
    assert not started_nothing(linked)
    # A sweep's leftover, resumed as a run, is named as what it is.
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / ".lock").write_text("")
    (sweep / "sweep.yaml").write_text("")
    said = " ".join(run_cli("train", "--resume", sweep).output.split())
    assert "the sweep there stopped as it started, before its first trial; there is nothing to resume" in said and \
        f"hint: start it again there: nnrun sweep SWEEP.yaml --resume {sweep}" in said
    # ... and `train CONFIG --resume` does not clear it to start a run there: it is told the same.
    said = " ".join(run_cli("train", ROOT / "configs" / "iris.yaml", "--resume", sweep).output.split())
    assert f"hint: start it again there: nnrun sweep SWEEP.yaml --resume {sweep}" in said and (sweep / "sweep.yaml").exists()
    # A folder of the lock file alone could be either's leftover: named as the command that met it.
    from nnrun.store.leftovers import holds_no_run, leftover_refusal

    claimed = tmp_path / "claimed"
    claimed.mkdir()
    (claimed / ".lock").write_text("")
    assert holds_no_run(claimed, "run") and holds_no_run(claimed, "sweep")
    assert leftover_refusal(claimed, "sweep").hint == f"start it again there: nnrun sweep SWEEP.yaml --resume {claimed}"
    assert leftover_refusal(claimed, "run").hint == f"start it again there: nnrun train CONFIG --resume {claimed}"
    # A run that diverged in its first epoch (training.checkpoint: null keeps no checkpoint) would diverge
    # again: its record stays, and says so.
    diverged = tmp_path / "diverged"
    diverged.mkdir()
    (diverged / ".lock").write_text("")
    (diverged / "meta.json").write_text('{"status": "failed", "failure": {"type": "NonFiniteError", "epoch": 1}}')
    assert not started_nothing(diverged)
    from nnrun.store.lock import RunLock

    live = tmp_path / "live"
    live.mkdir()
    held = RunLock(live)  # a start still under way holds its lock
    try:
        assert not started_nothing(live)
    finally:
        held.release()
    assert started_nothing(live)
    # A folder claimed for a run holds its lock from the claim on: no second process takes it meanwhile.
    from nnrun.store.rundir import RunDir

    claimed, fresh = RunDir.create("x", explicit=live), RunDir.create("x", explicit=tmp_path / "fresh")
    try:
        assert not started_nothing(live)
        with pytest.raises(nnrun.errors.UserError, match="another nnrun process"):
            RunDir.create("x", explicit=live)
        from nnrun.store.lock import is_held

        assert is_held(fresh.path)  # a folder made for a run is locked from the start too
    finally:
        claimed.release_claim()
        fresh.release_claim()


def test_a_diverged_run_resumes_only_to_end_before_the_epoch_it_diverged_in(run_cli, tmp_path):
    """Resumed past that epoch it would diverge again, batch for batch: refused, saying so;
    ended before it, with the checkpoints it saved, it completes."""
    run = interrupted_run(tmp_path, epoch=8)
    meta = json.loads((run / "meta.json").read_text())  # as a run that diverged in epoch 9 records it
    meta.update(status="failed", failure={"type": "NonFiniteError", "message": "the loss became nan in epoch 9, batch "
                                          "2; training stopped", "epoch": 9, "batch": 2, "reason": "non-finite loss"})
    (run / "meta.json").write_text(json.dumps(meta))
    refused = run_cli("train", "--resume", run)
    assert refused.exit_code == 2
    said = " ".join(refused.output.split())
    assert f"error: {run}: the run failed (the loss became nan in epoch 9, batch 2; training stopped); resumed with " \
           "its config, which a resume keeps, it would fail the same way" in said
    assert f"or end this one before it diverged, with nnrun train --resume {run} --set training.epochs=8" in said
    assert run_cli("train", "--resume", run, "--set", "training.epochs=9").exit_code == 2
    ended = run_cli("train", "--resume", run, "--set", "training.epochs=8")
    assert ended.exit_code == 0, ended.output
    assert json.loads((run / "meta.json").read_text())["status"] == "completed"


def test_resume_keeps_the_thread_count_the_run_recorded(run_cli, tmp_path, monkeypatch):
    # training.threads: auto starts with the count the run recorded; a resume multiplies matrices
    # with the same count (a model this small is never re-counted), so it stays bit-identical.
    run = interrupted_run(tmp_path, epoch=2)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["environment"]["blas"] and meta["environment"]["blas_threads"] >= 1
    meta["environment"]["blas_threads"] += 7
    (run / "meta.json").write_text(json.dumps(meta))
    result = run_cli("train", "--resume", run, "--quiet")
    assert result.exit_code == 0, result.output
    assert "numeric environment" not in result.output
    resumed = json.loads((run / "meta.json").read_text())["resumes"][-1]
    assert resumed["environment"]["blas_threads"] == meta["environment"]["blas_threads"]


def test_resume_under_another_blas_warns(run_cli, tmp_path):
    run = interrupted_run(tmp_path, epoch=2)
    meta = json.loads((run / "meta.json").read_text())
    meta["environment"]["blas"] = {"name": "elsewhere", "version": "0"}
    (run / "meta.json").write_text(json.dumps(meta))
    result = run_cli("train", "--resume", run, "--quiet")
    assert result.exit_code == 0, result.output
    assert "warning: the run started under a different numeric environment (blas:" in result.output
    assert "not promised to be bit-identical" in result.output


def test_resume_removes_stale_temporary_files_but_not_a_running_writers(tmp_path, reference):
    run = interrupted_run(tmp_path, epoch=3)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a writer that has exited, as a killed one has
    stale = [run / f".metrics.csv.{pid}.tmp", run / "checkpoints" / f".epoch-000004.safetensors.{pid}.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as writer:
        try:  # an `nnrun evaluate` writing its report into the run folder at that moment
            busy = run / f".eval-test.json.{writer.pid}.tmp"
            busy.write_bytes(b"being written")
            resume_training(run)
            assert busy.exists()
        finally:
            writer.kill()
    assert not any(path.exists() for path in stale)
    busy.unlink()
    assert_same_run(run, reference)


# The kill test: a real `nnrun train` process is SIGKILLed at random moments (no handler
# runs, files may be half written), resumed each time, and must end byte-identical.
# A kill moment is a random epoch ahead plus a random fraction of an epoch, so every
# kill lands during training however fast or slow the disk is today.
TRIALS, KILLS, EPOCHS = 3, 3, 40


def test_sigkill_at_random_points_then_resume_is_byte_identical(tmp_path):
    config = {**CONFIG, "training": {**CONFIG["training"], "epochs": EPOCHS, "batch_size": 4,
                                     "checkpoint": {"every_epochs": 1, "keep": 2}}}
    path = tmp_path / "kill.yaml"
    path.write_text(yaml.safe_dump(config))
    reference = nnrun.train(path, run_dir=tmp_path / "ref")
    epoch_seconds = reference.seconds / EPOCHS
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    kills = []
    for trial in range(TRIALS):
        run = tmp_path / f"trial-{trial}"
        command = ["train", str(path), "--run-dir", str(run), "--quiet"]
        for _ in range(KILLS):
            target = rng.randint(_newest_epoch(run) + 1, _newest_epoch(run) + 10)
            landed = _kill_after(command, run, target, rng.uniform(0, epoch_seconds))
            kills.append(f"{'killed' if landed else 'missed'} after epoch {_newest_epoch(run)}")
            command = ["train", "--resume", str(run), "--quiet"]
        finish = _nnrun(command)
        assert finish.wait(timeout=60) == 0, f"seed {seed}: {finish.stderr.read().decode()}"
        assert_same_run(run, reference.run_dir)
        assert not list(run.rglob("*.tmp"))
    landed = sum(k.startswith("killed") for k in kills)
    print(f"kill test (seed {seed}): {TRIALS} trials, {landed} of {len(kills)} SIGKILLs landed: {kills}")
    assert landed >= TRIALS * (KILLS - 1), f"seed {seed}: {kills}"


def _newest_epoch(run) -> int:
    names = [p.name for p in (run / "checkpoints").glob("epoch-*.safetensors")] if run.exists() else []
    return max((int(n[6:12]) for n in names), default=-1)


def _nnrun(args):
    return subprocess.Popen([sys.executable, "-m", "nnrun", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _kill_after(args, run, epoch: int, delay: float) -> bool:
    """Start nnrun; once the checkpoint of ``epoch`` exists, wait ``delay`` and SIGKILL
    it. Returns whether the kill landed before the run completed."""
    process = _nnrun(args)
    deadline = time.monotonic() + 60
    while process.poll() is None and _newest_epoch(run) < epoch:
        assert time.monotonic() < deadline, "training made no progress"
        time.sleep(0.002)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return json.loads((run / "meta.json").read_text())["status"] != "completed"


def test_a_signal_saves_a_checkpoint_even_with_checkpoints_turned_off(tmp_path, reference):
    config = {**CONFIG, "training": {**CONFIG["training"], "checkpoint": None}}
    run = interrupted_run(tmp_path, config, epoch=5, batch=2)
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["epoch-000004.safetensors"]
    resume_training(run)
    assert (run / "model.safetensors").read_bytes() == (reference / "model.safetensors").read_bytes()


@pytest.mark.parametrize("optimizer", [{"type": "nadam", "learning_rate": 0.01},
                                       {"type": "adamw", "learning_rate": 0.01, "global_clipnorm": 1.0}])
def test_resume_restores_batch_norm_statistics_and_schedule_state(tmp_path, optimizer):
    """Moving statistics, a plateau schedule's counters and every optimizer slot
    (nadam's running product included) come back from the checkpoint."""
    config = {**CONFIG, "optimizer": optimizer,
              "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"},
                                   {"type": "batch_normalization"},
                                   {"type": "dropout", "rate": 0.2},
                                   {"type": "dense", "units": 3, "activation": "softmax"}]},
              "training": {**CONFIG["training"], "schedule": {"type": "reduce_on_plateau", "monitor": "val_loss",
                                                              "patience": 1, "factor": 0.5, "min_delta": 0.1}}}
    reference = nnrun.train(config, run_dir=tmp_path / "ref")
    assert len({row["lr"] for row in reference.history}) > 1  # the schedule did act
    run = interrupted_run(tmp_path, config, epoch=5, batch=2)
    resume_training(run)
    assert_same_run(run, reference.run_dir)


def test_resume_accepts_the_runs_own_config_with_relative_paths(tmp_path, monkeypatch):
    """The run's config.yaml stores absolute paths; the same file given again with its
    relative data path is the same config, not a changed one."""
    import shutil

    from conftest import ROOT

    shutil.copytree(ROOT / "configs" / "data", tmp_path / "data")
    shutil.copy(ROOT / "configs" / "fruit.yaml", tmp_path / "fruit.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Interrupted):
        nnrun.train("fruit.yaml", run_dir=tmp_path / "run", hooks=SignalAt(epoch=2))
    resume_training(tmp_path / "run", "fruit.yaml")
    assert json.loads((tmp_path / "run" / "meta.json").read_text())["status"] == "completed"


def test_a_checkpoint_set_aside_never_replaces_a_file_of_that_name(tmp_path):
    from nnrun.engine.checkpointing import _set_aside

    damaged = tmp_path / "epoch-000005.safetensors"
    damaged.write_bytes(b"new")
    (tmp_path / "epoch-000005.safetensors.damaged").write_bytes(b"old")  # from an earlier resume
    assert _set_aside(damaged) == tmp_path / "epoch-000005.safetensors.damaged-2"
    assert not damaged.exists() and (tmp_path / "epoch-000005.safetensors.damaged").read_bytes() == b"old"
    assert (tmp_path / "epoch-000005.safetensors.damaged-2").read_bytes() == b"new"


def test_a_resume_refuses_a_held_out_split_changed_since_the_run_began(run_cli, tmp_path):
    """The checkpoint checks the training rows; a test file edited since would leave the
    resumed run's final test scores of other rows than its meta.json records."""
    rows = [f"{i % 7},{i % 5},{'xy'[i % 2]}" for i in range(80)]
    (tmp_path / "d.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "t.csv").write_text("a,b,label\n" + "\n".join(rows[:20]) + "\n")
    (tmp_path / "c.yaml").write_text(
        "data:\n  source: {type: csv, path: d.csv, test_path: t.csv, target: label}\nmodel:\n  layers: [{type: dense, "
        "units: 2, activation: softmax}]\nloss: categorical_crossentropy\ntraining: {epochs: 2}\n")
    assert run_cli("train", "c.yaml", "--run-dir", "r", "--quiet").exit_code == 0
    (tmp_path / "t.csv").write_text("a,b,label\n" + "\n".join(rows[1:21]) + "\n")
    result = run_cli("train", "--resume", "r", "--set", "training.epochs=3")
    assert result.exit_code == 2
    assert "r: the data no longer matches the run: the test split differs from training (its fingerprint in " \
        "meta.json); resumed, it would train or score on other rows" in " ".join(result.output.split())
    assert f"hint: restore the data as the run trained on it ({tmp_path / 'd.csv'} and {tmp_path / 't.csv'}), then " \
           "resume" in \
        " ".join(result.output.split())
    (tmp_path / "t.csv").write_text("a,b,label\n" + "\n".join(rows[:20]) + "\n")  # restored: it goes on
    assert run_cli("train", "--resume", "r", "--set", "training.epochs=3", "--quiet").exit_code == 0


def test_a_moved_runs_config_retrains_on_its_data_there_to_the_same_weights(run_cli, tmp_path):
    """nnrun train RUN/config.yaml, the README's way to reproduce a run, once the project
    moved: the data is read where it stands to the run now (it was refused, with the
    unlabelled *_new.csv beside it offered), and the new run's config.yaml names it there."""
    import shutil

    old = tmp_path / "old"
    (old / "data").mkdir(parents=True)
    shutil.copy(ROOT / "configs" / "data" / "fruit.csv", old / "data" / "fruit.csv")
    (old / "f.yaml").write_text((ROOT / "configs" / "fruit.yaml").read_text())
    nnrun.train(old / "f.yaml", overrides=["training.epochs=2"], run_dir=old / "runs" / "x", quiet=True)
    new = tmp_path / "new"
    old.rename(new)
    result = run_cli("train", new / "runs" / "x" / "config.yaml", "--run-dir", new / "runs" / "y")
    assert result.exit_code == 0, result.output
    assert f"data.source.path: {old / 'data' / 'fruit.csv'} is gone, and the run {new / 'runs' / 'x'} whose config " \
           f"this is moved since it was written; reading {new / 'data' / 'fruit.csv'}" in " ".join(result.output.split())
    assert f"path: {new / 'data' / 'fruit.csv'}" in (new / "runs" / "y" / "config.yaml").read_text()
    assert run_cli("validate", new / "runs" / "x" / "config.yaml").exit_code == 0  # validate agrees with train
    assert (new / "runs" / "y" / "model.safetensors").read_bytes() == (new / "runs" / "x" / "model.safetensors") \
        .read_bytes()


def test_a_run_moved_with_its_project_evaluates_and_resumes_on_its_data_there(run_cli, tmp_path):
    """A CI job checks the project out at another path: the data file config.yaml names
    by its absolute path is gone, and is read where it stands to the moved run, checked
    to be the same rows; a CONFIG given with --resume names it there too. A different
    file in its place is refused."""
    import shutil

    old = tmp_path / "old"
    (old / "data").mkdir(parents=True)
    shutil.copy(ROOT / "configs" / "data" / "customers.csv", old / "data" / "customers.csv")
    text = (ROOT / "configs" / "customers.yaml").read_text().replace("epochs: 60", "epochs: 2")
    (old / "c.yaml").write_text(text)
    nnrun.train(old / "c.yaml", run_dir=old / "runs" / "x", quiet=True)
    assert f"path: {old / 'data' / 'customers.csv'}" in (old / "runs" / "x" / "config.yaml").read_text()
    new = tmp_path / "new"
    old.rename(new)
    result = run_cli("evaluate", new / "runs" / "x")
    assert result.exit_code == 0, result.output
    assert (f"note: data.source.path: {old / 'data' / 'customers.csv'} is gone, and the run moved from "
            f"{old / 'runs' / 'x'}; reading {new / 'data' / 'customers.csv'} instead") in " ".join(result.output.split())
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is not None:  # the export compares on the moved data too
        from nnrun.commands.export import export_run

        assert export_run(new / "runs" / "x").comparison.max_difference < 1e-5
    # Trained longer without a CONFIG: config.yaml names the data where it was read, beside
    # meta.json's new place of the run, so that the next command finds it too.
    result = run_cli("train", "--resume", new / "runs" / "x", "--set", "training.epochs=3", "-q")
    assert result.exit_code == 0, result.output
    assert f"path: {new / 'data' / 'customers.csv'}" in (new / "runs" / "x" / "config.yaml").read_text()
    assert run_cli("evaluate", new / "runs" / "x", "--force").exit_code == 0
    again = tmp_path / "again"
    new.rename(again)  # and with a CONFIG that names the data where it is now
    result = run_cli("train", again / "c.yaml", "--resume", again / "runs" / "x", "--set", "training.epochs=4", "-q")
    assert result.exit_code == 0, result.output
    assert f"path: {again / 'data' / 'customers.csv'}" in (again / "runs" / "x" / "config.yaml").read_text()
    assert len((again / "runs" / "x" / "metrics.csv").read_text().splitlines()) == 5
    moved = tmp_path / "moved"
    again.rename(moved)  # moved once more: found again from where its config.yaml was written last
    lines = (moved / "data" / "customers.csv").read_text().splitlines()
    lines[4] = lines[4].replace("C10003,21,", "C10003,22,")
    (moved / "data" / "customers.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("evaluate", moved / "runs" / "x", "--force")
    assert result.exit_code == 2 and "the data no longer matches the run" in result.output, result.output



def test_a_run_resumed_where_its_data_is_now_names_it_there_for_evaluate(tmp_path):
    """Not only with more epochs: any resume told where the data is now writes it into
    config.yaml (checked first to be the data it trained on), so evaluate finds it too."""
    import shutil

    import nnrun

    shutil.copy(ROOT / "configs" / "data" / "fruit.csv", tmp_path / "fruit.csv")

    class StopAtTwo:
        def epoch_end(self, row):
            self.epoch = row["epoch"]

        def should_stop(self):
            return getattr(self, "epoch", 0) >= 2

    config = yaml.safe_load((ROOT / "configs" / "fruit.yaml").read_text())
    config["data"]["source"]["path"] = str(tmp_path / "fruit.csv")
    config["training"].update(epochs=4, early_stopping=None)
    nnrun.train(config, run_dir=tmp_path / "run", hooks=StopAtTwo())
    (tmp_path / "fruit.csv").rename(tmp_path / "moved.csv")
    nnrun.resume(tmp_path / "run", overrides={"data.source.path": str(tmp_path / "moved.csv")})
    assert str(tmp_path / "moved.csv") in (tmp_path / "run" / "config.yaml").read_text()
    assert nnrun.evaluate(tmp_path / "run")["samples"] > 0


def test_a_resume_does_not_repeat_the_data_warnings_said_as_the_run_began(run_cli, tmp_path):
    """The data is checked to be the same, and advice such as fold_case (a setting the
    resumed run keeps) could not be followed: said once, when the run began."""
    rows = [f"{['North', 'north', 'South'][i % 3]},{i % 7},{'ab'[i % 2]}" for i in range(60)]
    (tmp_path / "d.csv").write_text("city,x,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "c.yaml").write_text(
        "data: {source: {type: csv, path: d.csv, target: label, categorical: [city]}}\n"
        "model: {layers: [{type: dense, units: 2, activation: softmax}]}\n"
        "loss: categorical_crossentropy\ntraining: {epochs: 2, batch_size: 16}\n")
    trained = run_cli("train", "c.yaml", "--run-dir", "r", "-q")
    assert trained.exit_code == 0 and "differ only in case or spaces" in trained.output, trained.output
    resumed = run_cli("train", "--resume", "r", "--set", "training.epochs=3", "-q")
    assert resumed.exit_code == 0, resumed.output
    assert "differ only in case" not in resumed.output and "fold_case" not in resumed.output
