"""Long runs: an epoch costs the same at epoch 4,000 as at epoch 1 (metrics.csv appended,
checkpoints without the history, a display bounded by its redraw rate), and a resumed
or extended run reports its best epoch as an uninterrupted one would."""

from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import pytest
from rich.console import Console
from rich.live import Live

import nnrun
from nnrun.console.progress import LineDisplay, LiveDisplay
from nnrun.engine.hooks import SilentHooks
from nnrun.engine.resume import resume_training
from nnrun.errors import Interrupted, UserError
from nnrun.store.history import format_seconds
from nnrun.store.tensorfile import read

IRIS = Path(__file__).resolve().parent.parent / "configs" / "iris.yaml"

# No early stopping, a learning rate high enough that the validation loss wobbles:
# new bests are scattered, so a marker carried wrongly over a resume shows.
CONFIG = {
    "name": "long",
    "data": {"source": {"type": "builtin", "name": "iris"}, "preprocess": ["standardize"]},
    "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 3, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "optimizer": {"type": "sgd", "learning_rate": 0.9},
    "metrics": ["accuracy"],
    "training": {"epochs": 14, "batch_size": 16, "checkpoint": {"every_epochs": 1, "keep": 2}},
}


class Watch(SilentHooks):
    """Notes metrics.csv's inode after every epoch, and interrupts at ``stop_at``."""

    def __init__(self, run_dir, stop_at=None):
        self.run_dir, self.stop_at, self.inodes = run_dir, stop_at, []

    def epoch_end(self, row):
        self.inodes.append(os.stat(self.run_dir / "metrics.csv").st_ino)
        if row["epoch"] == self.stop_at:
            os.kill(os.getpid(), 2)  # SIGINT: saved and stopped after this epoch


def lines_of(display_output: str) -> list[str]:
    return re.findall(r"epoch +\d+/\d+ .*", display_output)


def line_display() -> tuple[LineDisplay, io.StringIO]:
    buffer = io.StringIO()
    return LineDisplay(Console(file=buffer, width=200)), buffer


def test_metrics_csv_is_appended_in_place_not_rewritten(tmp_path):
    watch = Watch(tmp_path / "r")
    nnrun.train(CONFIG, run_dir=tmp_path / "r", hooks=watch)
    assert len(set(watch.inodes)) == 1  # an atomic rewrite would give each epoch a new inode
    rows = (tmp_path / "r" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 15 and rows[0].startswith("epoch,loss,accuracy,val_loss")


def test_checkpoints_do_not_grow_with_the_history(tmp_path):
    config = {**CONFIG, "training": {**CONFIG["training"], "checkpoint": {"every_epochs": 1, "keep": 20}}}
    run = nnrun.train(config, run_dir=tmp_path / "r").run_dir
    first = read(run / "checkpoints" / "epoch-000001.safetensors")[1]
    last = read(run / "checkpoints" / "epoch-000014.safetensors")[1]
    assert json.loads(last["state"])["progress"] == {"epoch": 14, "step": 14 * 7}
    assert abs(len(last["state"]) - len(first["state"])) < 16  # digits of counters, nothing per epoch


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    display, buffer = line_display()
    result = nnrun.train(CONFIG, run_dir=tmp_path_factory.mktemp("ref") / "ref", hooks=display)
    return result, lines_of(buffer.getvalue())


def test_a_resumed_run_marks_new_bests_and_reports_its_best_epoch_as_an_uninterrupted_one(tmp_path, reference):
    expected, expected_lines = reference
    stars = [line.endswith("*") for line in expected_lines]
    assert stars[6:].count(False) >= 2 and stars[6:].count(True) >= 1  # the case shows a wrong marker
    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=tmp_path / "r", hooks=Watch(tmp_path / "r", stop_at=6))
    display, buffer = line_display()
    result = resume_training(tmp_path / "r", hooks=display)
    resumed_stars = [line.endswith("*") for line in lines_of(buffer.getvalue())]
    assert resumed_stars == stars[6:]
    assert result.best_epoch == expected.best_epoch is not None
    assert [row["val_loss"] for row in result.history] == [row["val_loss"] for row in expected.history]
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["best_epoch"] == expected.best_epoch


def test_resume_drops_rows_written_after_the_checkpoint_and_refuses_a_history_with_gaps(tmp_path, reference):
    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=tmp_path / "r", hooks=Watch(tmp_path / "r", stop_at=6))
    metrics = tmp_path / "r" / "metrics.csv"
    lines = metrics.read_text().splitlines(keepends=True)
    metrics.write_text("".join(lines) + "7,0.5,0.9")  # a row torn by a kill after the checkpoint
    resume_training(tmp_path / "r")
    assert metrics.read_text() .count("\n") == 15

    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=tmp_path / "g", hooks=Watch(tmp_path / "g", stop_at=6))
    metrics = tmp_path / "g" / "metrics.csv"
    lines = metrics.read_text().splitlines(keepends=True)
    metrics.write_text("".join(lines[:4] + lines[5:]))  # epoch 4 lost
    with pytest.raises(UserError, match="metrics.csv does not hold one row for each epoch up to it: it has no row "
                                        "of epoch 4; the run writes every epoch's row before its checkpoint"):
        resume_training(tmp_path / "g")
    metrics.write_text("".join(lines[:5] + lines[4:]))  # epoch 4 twice
    with pytest.raises(UserError, match="epoch 4 has 2 rows"):
        resume_training(tmp_path / "g")
    metrics.write_text("".join(lines[:2] + ["2,xx0.65,0.5\n"] + lines[3:]))  # a cell edited into no number
    with pytest.raises(UserError, match="line 3 reads as no row of numbers, and the lines after it are not read"):
        resume_training(tmp_path / "g")
    # A metrics.csv that is a link is refused, not replaced by a file of its own.
    metrics.rename(tmp_path / "kept.csv")
    metrics.symlink_to(tmp_path / "kept.csv")
    with pytest.raises(UserError, match="metrics.csv: is a symbolic link; nnrun writes only files inside the run "
                                        "directory"):
        resume_training(tmp_path / "g")
    assert metrics.is_symlink()
    # The checkpoints are sound, metrics.csv is at fault: none is renamed as damaged.
    assert not list((tmp_path / "g" / "checkpoints").glob("*.damaged*"))


def test_a_deleted_history_is_refused_not_trained_again_from_an_older_checkpoint(run_cli, tmp_path):
    """epoch-000000 was sound too: the resume once took it, silently, and trained every epoch again."""
    assert run_cli("train", IRIS, "--set", "training.epochs=3", "--run-dir", "r", "-q").exit_code == 0
    assert [p.name for p in sorted((tmp_path / "r" / "checkpoints").iterdir())] == \
        ["epoch-000000.safetensors", "epoch-000003.safetensors"]
    weights = (tmp_path / "r" / "model.safetensors").read_bytes()
    (tmp_path / "r" / "metrics.csv").unlink()
    result = run_cli("train", "--resume", "r", "--set", "training.epochs=5")
    assert result.exit_code == 2
    assert "epoch-000003.safetensors: is after epoch 3, but metrics.csv does not hold one row for each epoch up to " \
        "it: the file is gone" in " ".join(result.output.split())
    assert (tmp_path / "r" / "model.safetensors").read_bytes() == weights


def test_a_metrics_header_edited_by_hand_is_refused_before_the_resume_touches_the_run(tmp_path):
    # A renamed column once trained an epoch, then failed on writing its row (a traceback,
    # and the run marked failed); swapped names were taken, and the old rows mislabelled.
    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=tmp_path / "r", hooks=Watch(tmp_path / "r", stop_at=3))
    metrics = tmp_path / "r" / "metrics.csv"
    header, rest = metrics.read_text().split("\n", 1)
    for edited in (header.replace("val_loss", "vloss"), header.replace("loss,accuracy", "accuracy,loss", 1)):
        metrics.write_text(edited + "\n" + rest)
        with pytest.raises(UserError, match=f"metrics.csv: line 1 names the columns {edited}, but this run writes "
                                            f"{header}; the file was changed since the run wrote it") as error:
            resume_training(tmp_path / "r")
        assert error.value.hint == f"write its first line back as: {header}"
        assert json.loads((tmp_path / "r" / "meta.json").read_text())["status"] == "interrupted"
    metrics.write_text(header + "\n" + rest)
    assert resume_training(tmp_path / "r").history[-1]["epoch"] == CONFIG["training"]["epochs"]


def test_a_hook_can_stop_training_after_an_epoch(tmp_path, capsys):
    class StopAtThree(SilentHooks):
        def epoch_end(self, row):
            self.epoch = row["epoch"]

        def should_stop(self):
            return self.epoch == 3

    result = nnrun.train(CONFIG, run_dir=tmp_path / "r", hooks=StopAtThree())
    assert len(result.history) == 3 and result.stopped_early
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["status"] == "completed"
    with pytest.raises(UserError, match="already holds a run that did not finish \\(paused by a hook\\)"):
        nnrun.train(CONFIG, run_dir=tmp_path / "r")
    # Without a checkpoint to train on from, the stop is final: no pause, and no word of early stopping.
    unsaved = {**CONFIG, "training": {**CONFIG["training"], "checkpoint": None}}
    nnrun.train(unsaved, run_dir=tmp_path / "final", hooks=StopAtThree())
    with pytest.raises(UserError, match="already exists; nnrun never overwrites a run"):
        nnrun.train(unsaved, run_dir=tmp_path / "final")
    capsys.readouterr()
    nnrun.resume(tmp_path / "final")  # a note, and the run as recorded
    note = capsys.readouterr().err
    assert "the run has completed; there is nothing to resume" in note
    assert "patience" not in note and "--resume" not in note  # which would fail: no checkpoint
    assert "train on from its weights in a new run: " in note
    assert "(it kept no checkpoint to resume from)" in note


def test_the_live_display_prints_every_epoch_line_but_redraws_at_a_bounded_rate(tmp_path, monkeypatch):
    buffer = io.StringIO()
    display = LiveDisplay(Console(file=buffer, force_terminal=True, width=200))
    draws = []  # every render of the bars, whoever asks for it (rich's reset() and add_task() did, each epoch)
    original = Live.refresh
    monkeypatch.setattr(Live, "refresh", lambda self: (draws.append(1), original(self)))
    started = time.perf_counter()
    nnrun.train({**CONFIG, "training": {**CONFIG["training"], "epochs": 60}}, run_dir=tmp_path / "r", hooks=display)
    display.close()
    epochs = sorted({int(n) for n in re.findall(r"epoch +(\d+)/60 ", buffer.getvalue())})
    assert epochs == list(range(1, 61))
    # 60 short epochs of 7 batches: far fewer redraws than epochs or batches, at most
    # ten a second, plus the bars' first render, the first batch's, the last lines' and
    # the bars' last.
    assert len(draws) <= min(30, (time.perf_counter() - started) / 0.1 + 4)


def test_the_bars_keep_their_counts_whole_on_a_narrow_terminal(tmp_path):
    class TwoEpochs(LiveDisplay):
        def should_stop(self):
            return len(self.progress.tasks) > 1 and self.progress.tasks[0].completed >= 2

    for width in (80, 60):
        buffer = io.StringIO()
        display = TwoEpochs(Console(file=buffer, force_terminal=True, width=width))
        nnrun.train({**CONFIG, "training": {**CONFIG["training"], "epochs": 12345}}, run_dir=tmp_path / f"w{width}",
                    hooks=display)
        display.close()
        screen = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", buffer.getvalue())
        bars = [line for line in re.split(r"[\r\n]", screen) if line.strip().startswith("training ━")]
        assert re.search(r" 2/12345 ETA \d:\d\d:\d\d val_loss", bars[-1]), bars  # the losses give way


def test_resume_extends_a_completed_run_when_only_epochs_change(run_cli, tmp_path):
    short = {**CONFIG, "training": {**CONFIG["training"], "epochs": 6}}
    nnrun.train(short, run_dir=tmp_path / "short")
    longer = nnrun.train(CONFIG, run_dir=tmp_path / "long")
    result = run_cli("train", "--resume", tmp_path / "short", "--set", "training.epochs=14")
    assert result.exit_code == 0, result.output
    assert "training.epochs 6 -> 14: this trains the run on from epoch 6 to 14, in place" in result.output
    assert "resuming after epoch 6" in result.output
    run = tmp_path / "short"
    assert (run / "model.safetensors").read_bytes() == (longer.run_dir / "model.safetensors").read_bytes()
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "completed" and meta["epochs_completed"] == 14
    assert meta["resumes"][-1]["epochs"] == {"from": 6, "to": 14}
    assert "epochs: 14" in (run / "config.yaml").read_text()

    result = run_cli("train", "--resume", run, "--set", "training.epochs=20", "--set", "training.batch_size=8")
    assert result.exit_code == 2
    assert "in 1 place:\n  training.batch_size (16 -> 8)" in result.output and "except training.epochs" in result.output
    result = run_cli("train", "--resume", run, "--set", "training.epochs=10")
    assert result.exit_code == 2
    assert "training.epochs: 10 is fewer than the 14 epochs this checkpoint has trained" in result.output
    assert "give training.epochs of 14 or more" in result.output
    assert "warning: training.epochs" not in result.output  # refused: no word of what it would have done


def test_an_extension_that_is_interrupted_lists_no_score_of_the_end_it_trained_past(tmp_path):
    # `nnrun runs` showed the test score of epoch 6 beside an extension stopped at epoch 9.
    from nnrun.commands.runs import list_runs
    from nnrun.errors import RunInterrupted

    short = {**CONFIG, "training": {**CONFIG["training"], "epochs": 6}}
    run = nnrun.train(short, run_dir=tmp_path / "r").run_dir
    assert json.loads((run / "meta.json").read_text())["final"]["test"]
    with pytest.raises(RunInterrupted):
        resume_training(run, overrides=["training.epochs=14"], hooks=Watch(run, stop_at=9))
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "interrupted" and not {"final", "best_epoch", "stopped_early"} & set(meta)
    (entry,) = list_runs(tmp_path)
    assert entry.test is None


def run_files(run) -> dict[str, tuple[bytes, int]]:
    """Every file of a run directory but its lock: contents and modification time."""
    return {str(p.relative_to(run)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(run.rglob("*")) if p.is_file() and p.name != ".lock"}


# min_delta larger than any change: nothing after epoch 1 improves, so patience 2 ends
# training after epoch 3.
NEVER_IMPROVES = {"monitor": "val_loss", "patience": 2, "min_delta": 10.0}


def test_resume_refuses_to_extend_a_run_that_early_stopping_ended_and_changes_nothing(run_cli, tmp_path):
    config = {**CONFIG, "training": {**CONFIG["training"], "epochs": 30, "early_stopping": NEVER_IMPROVES}}
    assert nnrun.train(config, run_dir=tmp_path / "es").stopped_early
    run = tmp_path / "es"
    before = run_files(run)
    result = run_cli("train", "--resume", run, "--set", "training.epochs=40")
    assert result.exit_code == 2
    assert "early stopping's patience ran out at epoch 3 (val_loss did not improve for 2 epochs); trained with " \
           "more epochs from the start it would have stopped there too" in result.output
    assert f"--set model.init_weights={run}/model.safetensors" in result.output
    assert "Traceback" not in result.output and "resuming after" not in result.output
    assert run_files(run) == before  # config.yaml, meta.json, metrics.csv, checkpoints: untouched
    # Resumed as it is: nothing to resume, and the hint offers what would train it more.
    result = run_cli("train", "--resume", run)
    out = " ".join(result.output.split())
    assert result.exit_code == 0 and "the run has completed; there is nothing to resume" in out
    assert "larger training.early_stopping.patience" in out and "--set training.epochs=N" not in out


def test_resume_refuses_to_extend_a_run_killed_after_early_stopping_ended_it(tmp_path):
    """Stopped by a signal after the epoch whose patience ran out, before the run was
    recorded as completed: meta.json does not know, the checkpoint does."""
    config = {**CONFIG, "training": {**CONFIG["training"], "epochs": 30, "early_stopping": NEVER_IMPROVES}}
    with pytest.raises(Interrupted):
        nnrun.train(config, run_dir=tmp_path / "es", hooks=Watch(tmp_path / "es", stop_at=3))
    before = run_files(tmp_path / "es")
    with pytest.raises(UserError, match="early stopping's patience ran out at epoch 3"):
        resume_training(tmp_path / "es", overrides=["training.epochs=40"])
    assert run_files(tmp_path / "es") == before
    result = resume_training(tmp_path / "es")  # resumed as it was, it finishes where it stopped
    assert len(result.history) == 3 and result.stopped_early


def test_patience_running_out_on_the_last_epoch_is_not_an_early_stop(run_cli, tmp_path):
    stop = "training.early_stopping={monitor: val_loss, patience: 2, min_delta: 10}"
    result = run_cli("train", IRIS, "--set", "training.epochs=3", "--set", stop, "--run-dir", "r")
    assert result.exit_code == 0, result.output
    assert "early stop:" not in result.output
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["stopped_early"] is False
    # Not stopped early, but ended all the same: trained with 6 epochs from the start, it
    # would have stopped at epoch 3, so it is not extended.
    extended = run_cli("train", "--resume", "r", "--set", "training.epochs=6")
    assert extended.exit_code == 2
    assert "early stopping's patience ran out at epoch 3" in extended.output
    assert "training.early_stopping.patience" in extended.output


def test_a_resumed_runs_time_line_tells_the_time_since_the_resume_from_all_its_epochs(tmp_path):
    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=tmp_path / "r", hooks=Watch(tmp_path / "r", stop_at=6))
    display, buffer = line_display()
    result = resume_training(tmp_path / "r", hooks=display)
    epochs_seconds = sum(row["seconds"] for row in result.history)
    time_line = next(line for line in buffer.getvalue().splitlines() if line.startswith("time:"))
    assert time_line.split(None, 1)[1] == (
        f"{format_seconds(result.seconds)} since the resume after epoch 6, loading and saving included; the run's 14 epochs "
        f"trained for {format_seconds(epochs_seconds)} in all, {format_seconds(epochs_seconds / 14)} per epoch on average")


def test_a_resume_writes_a_deleted_preprocess_json_again(tmp_path):
    # Without it the resumed run completed, and could never be evaluated or predicted with.
    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=tmp_path / "r", hooks=Watch(tmp_path / "r", stop_at=3))
    written = (tmp_path / "r" / "preprocess.json").read_bytes()
    (tmp_path / "r" / "preprocess.json").unlink()
    warned = []

    class Notes(SilentHooks):
        def warn(self, message):
            warned.append(message)

    resume_training(tmp_path / "r", hooks=Notes())
    assert (tmp_path / "r" / "preprocess.json").read_bytes() == written
    assert warned == [f"{tmp_path / 'r' / 'preprocess.json'} was missing; it is written again from the run's data, "
                      "as the run first wrote it"]
    assert nnrun.evaluate(tmp_path / "r")["samples"] > 0


def test_a_resume_writes_an_edited_preprocess_json_again(tmp_path):
    # The resume refits it from the run's data; left edited, evaluate would refuse the run after.
    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=tmp_path / "e", hooks=Watch(tmp_path / "e", stop_at=3))
    saved = tmp_path / "e" / "preprocess.json"
    written = saved.read_bytes()
    saved.write_bytes(written + b"\n")
    warned = []

    class Notes(SilentHooks):
        def warn(self, message):
            warned.append(message)

    resume_training(tmp_path / "e", hooks=Notes())
    assert saved.read_bytes() == written
    assert warned == [f"{saved} was changed since the run wrote it; it is written again from the run's data, as the "
                      "run first wrote it"]
