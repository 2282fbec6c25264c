"""Run directories stay consistent whatever happens: locks, signals, NaNs, a full disk."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from test_resume import CONFIG, assert_same_run

import nnrun
from nnrun.engine.resume import resume_training
from nnrun.errors import TrainingFailed, UserError
from nnrun.store import files
from nnrun.store.lock import RunLock
from nnrun.store.rundir import RunDir
from nnrun.store.tensorfile import read

SMALL = {**CONFIG, "training": {**CONFIG["training"], "epochs": 4}}


def meta(run) -> dict:
    return json.loads((run / "meta.json").read_text())


def test_a_checkpoint_is_one_self_contained_file(tmp_path):
    run = nnrun.train(SMALL, run_dir=tmp_path / "r").run_dir
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "epoch-000002.safetensors", "epoch-000003.safetensors", "epoch-000004.safetensors"]  # keep: 3
    arrays, metadata = read(run / "checkpoints" / "epoch-000004.safetensors")
    assert {"model/dense_0.kernel", "optimizer/m", "optimizer/v", "early_stopping/best_weights"} <= set(arrays)
    assert metadata["format"] == "nnrun-checkpoint-1" and metadata["epoch"] == "4"
    assert metadata["config_hash"] == meta(run)["config_hash"] and len(metadata["checksum"]) == 64
    state = json.loads(metadata["state"])
    assert state["progress"]["epoch"] == 4 and state["progress"]["step"] == 4 * 7  # 105 samples, batches of 16
    assert set(state["random"]) == {"shuffle", "dropout"} and "state" in state["random"]["shuffle"]
    assert state["early_stopping"]["wait"] >= 0 and "history" not in state["progress"]


def test_checkpoints_every_n_epochs_and_none_when_disabled(tmp_path):
    config = {**SMALL, "training": {**SMALL["training"], "epochs": 5, "checkpoint": {"every_epochs": 2, "keep": 5}}}
    run = nnrun.train(config, run_dir=tmp_path / "a").run_dir
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "epoch-000000.safetensors", "epoch-000002.safetensors", "epoch-000004.safetensors",
        "epoch-000005.safetensors"]  # and always the last epoch
    config = {**SMALL, "training": {**SMALL["training"], "checkpoint": None}}
    assert not (nnrun.train(config, run_dir=tmp_path / "b").run_dir / "checkpoints").exists()


def test_status_moves_from_running_to_completed(tmp_path):
    from test_resume import SignalAt

    seen = []

    class Watch(SignalAt):
        def epoch_end(self, row):
            seen.append(meta(tmp_path / "r")["status"])

    nnrun.train(SMALL, run_dir=tmp_path / "r", hooks=Watch(epoch=0))
    assert seen == ["running"] * 4 and meta(tmp_path / "r")["status"] == "completed"


def test_a_locked_run_directory_cannot_be_used_twice(tmp_path, run_cli):
    from test_resume import interrupted_run

    run = interrupted_run(tmp_path, epoch=2)
    lock = RunLock(run)  # as if another process were training here
    try:
        result = run_cli("train", "--resume", run)
        assert result.exit_code == 2
        assert f"{run}: another nnrun process (pid " in result.output and "is writing this run directory" in result.output
    finally:
        lock.release()
    resume_training(run)  # free again once the other process is gone
    assert meta(run)["status"] == "completed"


def test_run_names_and_directories_are_never_reused(tmp_path, run_cli, write_config):
    for name in ("../escape", "a/b", ".hidden", ""):
        with pytest.raises(UserError, match="must be one path segment"):
            RunDir.create(name, root=tmp_path)
    path = write_config(yaml.safe_dump({**SMALL, "name": "../up"}))
    result = run_cli("train", path)
    assert result.exit_code == 2 and "name: " in result.output
    assert run_cli("train", path, "--set", "name=ok", "--run-dir", "r").exit_code == 0
    result = run_cli("train", path, "--set", "name=ok", "--run-dir", "r")
    assert result.exit_code == 2 and "already exists; nnrun never overwrites a run" in result.output
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    result = run_cli("train", path, "--set", "name=ok", "--run-dir", "link")
    assert result.exit_code == 2 and "is a symbolic link" in result.output


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_saves_a_checkpoint_and_exits_130(tmp_path, number):
    config = {**CONFIG, "training": {**CONFIG["training"], "epochs": 100000, "batch_size": 4, "early_stopping": None}}
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(config))
    run = tmp_path / "r"
    process = subprocess.Popen([sys.executable, "-m", "nnrun", "train", str(path), "--run-dir", str(run), "-q"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while not [p for p in (run / "checkpoints").glob("epoch-*") if p.name >= "epoch-000002"]:
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"nnrun exited early ({process.poll()}): {process.communicate()[0]}")
        time.sleep(0.01)
    process.send_signal(number)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    name = signal.Signals(number).name
    assert output.startswith(f"interrupted: stopped by {name} ")
    assert f"hint: resume with: nnrun train --resume {run}" in output
    record = meta(run)
    assert record["status"] == "interrupted" and record["failure"]["signal"] == name
    saved = run / "checkpoints" / record["failure"]["checkpoint"]
    assert read(saved)[1]["epoch"] == str(record["failure"]["epoch"]) == str(record["epochs_completed"])


def test_a_second_ctrl_c_stops_at_once_and_says_what_a_resume_starts_from(tmp_path):
    from nnrun.engine.hooks import SilentHooks
    from nnrun.engine.train import train
    from nnrun.errors import RunInterrupted

    class SecondCtrlC(SilentHooks):  # two SIGINTs in epoch 4, one batch: SignalWatch raises on the second
        epoch = 0

        def epoch_start(self, epoch, epochs, batches):
            self.epoch = epoch

        def batch(self, index, loss):
            if self.epoch == 4 and index == 2:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)

    run = tmp_path / "r"
    config = {**CONFIG, "training": {**CONFIG["training"], "checkpoint": {"every_epochs": 2}}}
    with pytest.raises(RunInterrupted) as stopped:  # saved after epochs 0 and 2, stopped in epoch 4
        train(config, run_dir=run, hooks=SecondCtrlC())
    assert stopped.value.exit_code == 130
    assert stopped.value.message == ("stopped at once by a second Ctrl-C, without saving: the newest checkpoint on "
                                     f"disk is {run / 'checkpoints' / 'epoch-000002.safetensors'}, after epoch 2; "
                                     "epoch 3 is lost")
    assert stopped.value.hint.startswith(f"resume with: nnrun train --resume {run} ")
    record = meta(run)
    assert record["status"] == "interrupted" and record["failure"]["checkpoint"] == "epoch-000002.safetensors"
    # With checkpoints off there is nothing to resume from: said so, and how to start again.
    off = {**CONFIG, "training": {**CONFIG["training"], "checkpoint": None}}
    with pytest.raises(RunInterrupted) as stopped:
        train(off, run_dir=tmp_path / "off", hooks=SecondCtrlC())
    assert stopped.value.message.endswith("no checkpoint is on disk (training.checkpoint is off), so the run cannot "
                                          "be resumed")
    assert stopped.value.hint.startswith("train it again: nnrun train ")
    assert resume_training(run).history[-1]["epoch"] == CONFIG["training"]["epochs"]


def test_a_non_finite_gradient_stops_at_once_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, run_cli):
    from nnrun.model.graph import Graph

    backward, calls = Graph.backward, []

    def poisoned(self, tape, d_out):  # the 17th step's gradient overflows (epoch 3, batch 3)
        backward(self, tape, d_out)
        calls.append(1)
        if len(calls) == 17:
            self.grad_buffer[5] = np.inf

    monkeypatch.setattr(Graph, "backward", poisoned)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    result = run_cli("train", path, "--run-dir", "r")
    assert result.exit_code == 1
    assert "a gradient became non-finite (NaN or inf) in epoch 3, batch 3" in result.output
    assert "hint: lower optimizer.learning_rate" in result.output and "clip the gradients" in result.output
    run = tmp_path / "r"
    failure = meta(run)["failure"]
    assert meta(run)["status"] == "failed"
    assert (failure["epoch"], failure["batch"], failure["reason"]) == (3, 3, "non-finite gradient")
    assert not (run / "model.safetensors").exists()
    newest = sorted((run / "checkpoints").iterdir())[-1]
    assert newest.name == "epoch-000002.safetensors"
    assert all(np.isfinite(a).all() for a in read(newest)[0].values())


def test_a_non_finite_loss_records_epoch_batch_and_reason(tmp_path):
    config = {**SMALL, "loss": "mse", "metrics": [], "training": {"epochs": 3},
              "data": {"source": {"type": "builtin", "name": "diabetes"}},
              "model": {"layers": [{"type": "dense", "units": 1}]},
              "optimizer": {"type": "sgd", "learning_rate": 10.0}}
    with pytest.raises(TrainingFailed, match="the loss became"):
        nnrun.train(config, run_dir=tmp_path / "r")
    failure = meta(tmp_path / "r")["failure"]
    assert failure["reason"] == "non-finite loss" and failure["epoch"] == 1 and failure["batch"] >= 1
    for path in (tmp_path / "r" / "checkpoints").iterdir():
        assert all(np.isfinite(a).all() for a in read(path)[0].values())


def test_a_full_disk_keeps_the_previous_checkpoint_and_the_run_resumes(tmp_path, monkeypatch, run_cli):
    write = files._write_temp

    def full_disk(temp, data):  # the checkpoint after epoch 3 runs out of space half way
        if "epoch-000003" in temp.name:
            temp.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        write(temp, data)

    monkeypatch.setattr(files, "_write_temp", full_disk)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    result = run_cli("train", path, "--run-dir", "r")
    run = tmp_path / "r"
    assert result.exit_code == 1
    assert ("could not write the checkpoint r/checkpoints/epoch-000003.safetensors: No space left on "
            "device; the previous checkpoint epoch-000002.safetensors is intact") in " ".join(result.output.split())
    assert "free some disk space, then resume from epoch-000002.safetensors with: nnrun train --resume r" in \
        " ".join(result.output.split())
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "epoch-000000.safetensors", "epoch-000001.safetensors", "epoch-000002.safetensors"]  # no temporary file
    assert meta(run)["status"] == "failed"

    monkeypatch.setattr(files, "_write_temp", write)  # space freed
    resume_training(run)
    reference = nnrun.train(SMALL, run_dir=tmp_path / "ref").run_dir
    assert_same_run(run, reference)


def test_a_full_disk_as_metrics_csv_grows_fails_the_run_naming_the_file(tmp_path, monkeypatch, run_cli):
    # metrics.csv's line of epoch 3 goes to a device that is always full, as a full
    # disk's does: the flush fails, and closing the file must not fail a second time.
    import os

    from nnrun.store import history

    rewrite = history.MetricsLog._rewrite

    def onto_a_full_disk(self, rows):
        rewrite(self, rows)
        if len(rows) == 1:  # the first line, written whole; the next ones to the full device
            self.handle.close()
            self.handle = open("/dev/full", "a", encoding="utf-8", newline="")

    fsync = os.fsync
    monkeypatch.setattr(history.MetricsLog, "_rewrite", onto_a_full_disk)
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # /dev/full cannot be synced; a full disk's file can
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    result = run_cli("train", path, "--run-dir", "r")
    said = " ".join(result.output.split())
    assert result.exit_code == 1, said  # training failed (2 is for bad input)
    assert "could not write r/metrics.csv: No space left on device" in said
    assert "hint: free some disk space, then resume from epoch-000001.safetensors with: nnrun train --resume r" in said
    record = meta(tmp_path / "r")
    assert record["status"] == "failed" and record["failure"]["type"] == "RunWriteFailed"

    monkeypatch.setattr(history.MetricsLog, "_rewrite", rewrite)  # space freed
    monkeypatch.setattr(os, "fsync", fsync)
    resume_training(tmp_path / "r")
    assert_same_run(tmp_path / "r", nnrun.train(SMALL, run_dir=tmp_path / "ref").run_dir)


def test_an_os_error_that_is_not_the_runs_own_file_is_not_called_a_full_disk(tmp_path):
    from nnrun.engine.hooks import SilentHooks
    from nnrun.engine.train import train

    class Logging(SilentHooks):  # a user's hook writing where it cannot
        def epoch_end(self, row):
            open(tmp_path / "no" / "such" / "log.txt", "w")

    with pytest.raises(FileNotFoundError):
        train(SMALL, run_dir=tmp_path / "r", hooks=Logging())
    assert meta(tmp_path / "r")["failure"]["type"] == "FileNotFoundError"


def test_a_full_disk_before_any_checkpoint_says_to_train_again(tmp_path, monkeypatch):
    from nnrun.errors import RunWriteFailed

    write = files._write_temp

    def full_disk(temp, data):  # metrics.csv's first line finds no space
        if "metrics.csv" in temp.name:
            raise OSError(errno.ENOSPC, "No space")
        write(temp, data)

    monkeypatch.setattr(files, "_write_temp", full_disk)
    config = {**SMALL, "training": {**SMALL["training"], "checkpoint": None}}
    with pytest.raises(RunWriteFailed) as failed:
        nnrun.train(config, run_dir=tmp_path / "r")
    assert failed.value.exit_code == 1 and failed.value.message == f"could not write {tmp_path / 'r'}/metrics.csv: No space"
    assert failed.value.hint == "free some disk space, then train again: the run saved no checkpoint to resume from"


@pytest.fixture
def full_disk_at_the_start(monkeypatch):
    """preprocess.json, written as a run starts, finds the disk full until the function
    this returns frees space (only that: monkeypatch.undo() would also leave tmp_path)."""
    write = files.write_json

    def full_disk(path, value):
        if path.name == "preprocess.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        write(path, value)

    monkeypatch.setattr(files, "write_json", full_disk)
    return lambda: monkeypatch.setattr(files, "write_json", write)


def test_a_start_that_cannot_write_its_files_leaves_no_half_made_run(tmp_path, monkeypatch, run_cli,
                                                                      full_disk_at_the_start):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    result = run_cli("train", path, "--run-dir", "r")
    assert result.exit_code == 2 and "error: r/preprocess.json: No space left on device" in result.output
    assert not (tmp_path / "r").exists()  # so `--run-dir r` works once there is space
    full_disk_at_the_start()  # space freed
    assert run_cli("train", path, "--run-dir", "r", "-q").exit_code == 0 and (tmp_path / "r" / "meta.json").exists()


def test_arrays_whose_run_cannot_start_leave_no_folder(tmp_path, monkeypatch, full_disk_at_the_start):
    # The folder made for the arrays goes too, so the same run_dir works once there is space.
    x, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    config = {"name": "a", "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "sparse_categorical_crossentropy", "training": {"epochs": 1}}
    from nnrun.store import lock, rundir

    remove, held = rundir.remove_unstarted, []

    def spied(path, *args):  # removed while this process still holds the folder's lock: no one else's go with it
        held.append(lock.is_held(path))
        remove(path, *args)

    monkeypatch.setattr(rundir, "remove_unstarted", spied)
    with pytest.raises(OSError):
        nnrun.train(config, data=(x, y), run_dir=tmp_path / "ra")
    assert not (tmp_path / "ra").exists() and held == [True]
    full_disk_at_the_start()  # space freed
    assert nnrun.train(config, data=(x, y), run_dir=tmp_path / "ra", quiet=True).run_dir.exists()


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_the_last_epoch_lets_the_run_complete(tmp_path, monkeypatch, run_cli, number):
    # The final scores, weights and meta.json take moments after the last epoch; a
    # signal then once left exit 130 beside a completed meta.json, or a run "interrupted"
    # without its weights. It is noted, and the run completes.
    import os

    from nnrun.engine.record import RunRecord

    complete = RunRecord.complete

    def completed_with_a_signal(self, *args):  # as the final weights are about to be written
        os.kill(os.getpid(), number)
        return complete(self, *args)

    monkeypatch.setattr(RunRecord, "complete", completed_with_a_signal)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    # Should the signal ever reach the handler outside the run again, it fails this test, not pytest.
    previous = signal.signal(signal.SIGTERM, lambda *args: pytest.fail("SIGTERM reached the handler outside the run"))
    try:
        result = run_cli("train", path, "--run-dir", "r", "-q")
    finally:
        signal.signal(signal.SIGTERM, previous)
    said = " ".join(result.output.split())
    assert result.exit_code == 0, said
    name = signal.Signals(number).name
    assert (f"warning: {name} arrived after the last epoch; the run had finished training, so it completed and "
            "its files are whole") in said
    assert meta(tmp_path / "r")["status"] == "completed" and (tmp_path / "r" / "model.safetensors").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are put back


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_that_c_code_swallowed_before_the_run_still_stops_it(tmp_path, number):
    # numpy's text-to-number conversion, as a run reads its data, clears the exception a
    # signal's handler raised: the run then trained to its end and exited 0. The program's
    # handler notes the signal too, and the run takes it as received when it begins.
    import os

    from nnrun import interrupts
    from nnrun.errors import Interrupted

    before = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        for n in before:
            signal.signal(n, signal.SIG_DFL if n == signal.SIGTERM else signal.default_int_handler)
        interrupts.install()
        try:
            os.kill(os.getpid(), number)
        except KeyboardInterrupt:
            pass  # swallowed, as numpy's conversion does
        with pytest.raises(Interrupted, match=f"stopped by {signal.Signals(number).name} "):
            nnrun.train(SMALL, run_dir=tmp_path / "r")
        assert interrupts.take() is None and meta(tmp_path / "r")["status"] == "interrupted"
        # A run that completes leaves both signals ignored under the program: one that comes
        # as it prints its results, or as the interpreter ends, stops nothing.
        interrupts.install()
        nnrun.train(SMALL, run_dir=tmp_path / "done")
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        os.kill(os.getpid(), number)
    finally:
        for n, handler in before.items():
            signal.signal(n, handler)


def test_a_second_ctrl_c_as_the_final_weights_are_scored_says_how_to_finish(tmp_path, monkeypatch):
    # After the last epoch a first Ctrl-C is only noted; a second one stops the scoring of
    # a large data set, as it stops an epoch, and says the run can be finished.
    import os

    from nnrun.engine.experiment import Experiment
    from nnrun.engine.train import train
    from nnrun.errors import RunInterrupted

    score = Experiment.score
    sent = []

    def scored_under_two_ctrl_c(self, name):
        if name == "test" and not sent:
            sent.append(os.kill(os.getpid(), signal.SIGINT))
            os.kill(os.getpid(), signal.SIGINT)
        return score(self, name)

    monkeypatch.setattr(Experiment, "score", scored_under_two_ctrl_c)
    with pytest.raises(RunInterrupted) as stopped:
        train(SMALL, run_dir=tmp_path / "r")
    assert stopped.value.message == ("stopped by a second Ctrl-C after the last epoch, as the final weights were "
                                     "scored; the checkpoint epoch-000004.safetensors holds its trained weights")
    assert stopped.value.hint.startswith(f"resume with: nnrun train --resume {tmp_path / 'r'} (it scores and saves")
    assert meta(tmp_path / "r")["status"] == "interrupted"
    monkeypatch.undo()
    resumed = resume_training(tmp_path / "r")  # no epoch trained again: the scores and weights written
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3, 4] and meta(tmp_path / "r")["status"] == "completed"


def test_a_second_ctrl_c_as_the_stopped_run_records_itself_keeps_the_message(tmp_path, monkeypatch):
    # A second Ctrl-C while meta.json was being written replaced the message saying
    # where a resume starts with a bare "interrupted".
    import os

    from nnrun.engine.hooks import SilentHooks
    from nnrun.engine.record import RunRecord
    from nnrun.engine.train import train
    from nnrun.errors import RunInterrupted

    class CtrlC(SilentHooks):
        def epoch_end(self, row):
            if row["epoch"] == 2:
                os.kill(os.getpid(), signal.SIGINT)

    fail = RunRecord.fail

    def failed_with_a_second_ctrl_c(self, exc):
        os.kill(os.getpid(), signal.SIGINT)
        return fail(self, exc)

    monkeypatch.setattr(RunRecord, "fail", failed_with_a_second_ctrl_c)
    with pytest.raises(RunInterrupted) as stopped:
        train(SMALL, run_dir=tmp_path / "r", hooks=CtrlC())
    assert stopped.value.message.startswith("stopped by SIGINT after epoch 2; saved the state after epoch 2 to ")
    record = meta(tmp_path / "r")
    assert record["status"] == "interrupted" and record["failure"]["epoch"] == 2


def test_a_sweep_trial_that_completed_as_the_stop_came_is_recorded_completed(tmp_path):
    from types import SimpleNamespace

    from nnrun.commands.sweep.local import _from_its_run

    trial_dir = tmp_path / "trials" / "001"
    trial_dir.mkdir(parents=True)
    (trial_dir / "meta.json").write_text(json.dumps({"status": "completed"}))
    (trial_dir / "metrics.csv").write_text("epoch,loss,val_loss\n1,0.9,0.8\n2,0.7,0.6\n")
    sweep = SimpleNamespace(metric="val_loss", direction="min")
    state = SimpleNamespace(swept=SimpleNamespace(trial_dir=lambda id: tmp_path / "trials" / id, sweep=sweep))
    trial = SimpleNamespace(id="001")
    assert _from_its_run(state, trial, "interrupted", "stopped by SIGTERM") == {
        "status": "completed", "best": 0.6, "best_epoch": 2, "epochs": 2, "message": ""}
    (trial_dir / "meta.json").write_text(json.dumps({"status": "running"}))
    assert _from_its_run(state, trial, "interrupted", "stopped by SIGTERM")["status"] == "interrupted"


def test_an_atomic_write_that_fails_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    files.write_json(target, {"old": True})
    monkeypatch.setattr(files, "_write_temp", lambda temp, data: (_ for _ in ()).throw(OSError(errno.EIO, "I/O")))
    with pytest.raises(OSError):
        files.write_json(target, {"new": True})
    assert json.loads(target.read_text()) == {"old": True} and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_non_finite_weights_are_never_checkpointed(tmp_path, monkeypatch):
    from nnrun.model.optimizers import Adam

    step = Adam.step

    def overflowing(self, weights, grads, slots, lr, t):  # the last step of epoch 2 overflows
        finite = step(self, weights, grads, slots, lr, t)
        if t == 14:
            weights[0] = np.inf
        return finite

    monkeypatch.setattr(Adam, "step", overflowing)
    with pytest.raises(TrainingFailed, match=r"the weights became non-finite \(NaN or inf\) in epoch 2, batch 7"):
        nnrun.train(SMALL, run_dir=tmp_path / "r")
    assert meta(tmp_path / "r")["failure"]["reason"] == "non-finite weights"
    assert sorted(p.name for p in (tmp_path / "r" / "checkpoints").iterdir())[-1] == "epoch-000001.safetensors"


def test_a_second_ctrl_c_as_the_stop_is_told_does_not_cut_its_message_short(capsys):
    """The run stopped and saved; the Ctrl-C after it must not leave "interrupted" alone,
    without the resume command."""
    from nnrun import interrupts
    from nnrun.cli.guard import guard
    from nnrun.errors import RunInterrupted

    class StoppedAndSaved(RunInterrupted):
        def render(self):
            os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, as the message is written
            return super().render()

    def stopped():
        raise StoppedAndSaved("stopped after epoch 3; saved", "resume with: nnrun train --resume r", {})

    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        for number in before:
            signal.signal(number, signal.default_int_handler if number == signal.SIGINT else signal.SIG_DFL)
        interrupts.install()
        with pytest.raises(SystemExit) as ended:
            guard(stopped)
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    assert ended.value.code == 130
    assert "interrupted: stopped after epoch 3; saved\n  hint: resume with: nnrun train --resume r" in \
        capsys.readouterr().err
