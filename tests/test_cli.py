"""The whole path as a user types it: train, then evaluate."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import nnrun
from nnrun.errors import UserError
from nnrun.store.tensorfile import load_weights
from conftest import run_python


@pytest.fixture(autouse=True)
def _signal_handlers_kept():
    """cli.program() run in this process sets the handlers of SIGINT and SIGTERM (and
    ignores both once its command is done); the next test gets them back as they were."""
    import signal

    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in before.items():
        signal.signal(number, handler)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

IRIS = Path(__file__).resolve().parent.parent / "configs" / "iris.yaml"
RUN_FILES = {"config.yaml", "meta.json", "metrics.csv", "preprocess.json", "model.safetensors"}


def test_train_then_evaluate_iris(run_cli, tmp_path):
    result = run_cli("train", IRIS, "--run-dir", "runs/iris")
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "iris"
    assert RUN_FILES <= {p.name for p in run.iterdir()}
    assert "nnrun evaluate runs/iris" in result.output

    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "completed" and meta["epochs_completed"] == 100
    assert meta["final"]["test"]["accuracy"] >= 0.9

    result = run_cli("evaluate", "runs/iris")
    assert result.exit_code == 0, result.output
    report = json.loads((run / "eval-test.json").read_text())
    assert report["split"] == "test" and report["samples"] == 30
    assert report["metrics"]["accuracy"] >= 0.9
    assert report["metrics"]["accuracy"] == meta["final"]["test"]["accuracy"]
    assert "accuracy" in result.output


def test_run_directory_contract(run_cli, tmp_path):
    assert run_cli("train", IRIS, "--set", "training.epochs=3", "--run-dir", "r").exit_code == 0
    run = tmp_path / "r"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    # Resolved: every default written out, the override included.
    assert saved["training"] == {"epochs": 3, "batch_size": 32, "shuffle": True, "early_stopping": None,
                                 "schedule": None, "threads": "auto",
                                 "checkpoint": {"every_seconds": 5.0, "every_epochs": None, "keep": 2}}
    assert saved["optimizer"]["beta_1"] == 0.9
    # The saved config trains again as it is.
    assert run_cli("train", run / "config.yaml", "--run-dir", "again").exit_code == 0
    assert (run / "model.safetensors").read_bytes() == (tmp_path / "again" / "model.safetensors").read_bytes()

    weights = load_weights(run / "model.safetensors")
    assert sorted(weights) == ["dense_0.bias", "dense_0.kernel", "dense_1.bias", "dense_1.kernel"]
    assert weights["dense_0.kernel"].shape == (4, 64) and weights["dense_0.kernel"].dtype == np.float32

    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}

    prep = json.loads((run / "preprocess.json").read_text())
    assert prep["class_names"] == ["setosa", "versicolor", "virginica"]
    assert prep["steps"] == ["standardize"] and len(prep["states"][0]["mean"]) == 4
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]


def test_same_seed_gives_identical_weights(run_cli, tmp_path):
    for name in ("a", "b"):
        assert run_cli("train", IRIS, "--run-dir", name, "--set", "training.epochs=5").exit_code == 0
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    assert run_cli("train", IRIS, "--run-dir", "c", "--set", "training.epochs=5", "--set", "seed=7").exit_code == 0
    assert (tmp_path / "a" / "model.safetensors").read_bytes() != (tmp_path / "c" / "model.safetensors").read_bytes()


def test_default_run_directory_is_timestamped_and_never_reused(run_cli, tmp_path):
    for _ in range(2):
        assert run_cli("train", IRIS, "--set", "training.epochs=1", "--quiet").exit_code == 0
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all(name.startswith("iris-") for name in runs)


def test_existing_run_dir_is_not_overwritten(run_cli, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    result = run_cli("train", IRIS, "--run-dir", "taken")
    assert result.exit_code == 2
    assert "taken: already exists (a folder that is no run, and not empty); nnrun makes the run directory itself, " \
           "never writing into something already there" in " ".join(result.output.split())
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


def test_an_empty_folder_made_beforehand_becomes_the_run_once(run_cli, tmp_path):
    # A volume mounted for the run, or a folder a CI step made: taken by the first run only.
    (tmp_path / "out").mkdir()
    assert run_cli("train", IRIS, "--set", "training.epochs=1", "--run-dir", "out", "-q").exit_code == 0
    assert (tmp_path / "out" / "model.safetensors").is_file()
    lock = tmp_path / "out" / ".lock"
    before = (lock.read_bytes(), lock.stat().st_mtime_ns)
    result = run_cli("train", IRIS, "--set", "training.epochs=1", "--run-dir", "out", "-q")
    assert result.exit_code == 2 and "out: already exists; nnrun never overwrites a run" in result.output
    assert (lock.read_bytes(), lock.stat().st_mtime_ns) == before  # refused, and not touched either


def test_a_run_directory_that_did_not_finish_is_pointed_to_its_resume(run_cli, tmp_path):
    # A notebook's cell run again after an interrupt was told only that the folder exists.
    import json

    assert run_cli("train", IRIS, "--set", "training.epochs=1", "--run-dir", "r", "-q").exit_code == 0
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    (tmp_path / "r" / "meta.json").write_text(json.dumps({**meta, "status": "interrupted"}))
    result = run_cli("train", IRIS, "--run-dir", "r")
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "r: already holds a run that did not finish (interrupted); nnrun never overwrites a run" in said
    assert "hint: resume it with: nnrun train --resume r, or choose another run directory (--run-dir)" in said
    # Killed (meta.json still says running) with no checkpoint kept: no resume is offered, as none could run.
    (tmp_path / "r" / "meta.json").write_text(json.dumps({**meta, "status": "running"}))
    for checkpoint in (tmp_path / "r" / "checkpoints").iterdir():
        checkpoint.unlink()
    said = " ".join(run_cli("train", IRIS, "--run-dir", "r").output.split())
    assert "r: already holds a run that did not finish (killed)" in said and "hint: it kept no checkpoint to resume " \
        "from (training.checkpoint: null); choose another run directory" in said


def test_a_run_directory_still_training_names_the_process_not_a_resume(run_cli, tmp_path):
    import json
    import os

    from nnrun.store.lock import RunLock

    assert run_cli("train", IRIS, "--set", "training.epochs=1", "--run-dir", "r", "-q").exit_code == 0
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    (tmp_path / "r" / "meta.json").write_text(json.dumps({**meta, "status": "running"}))
    lock = RunLock(tmp_path / "r")  # as the training process holds it
    try:
        result = run_cli("train", IRIS, "--run-dir", "r")
    finally:
        lock.release()
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and f"r: another nnrun process (pid {os.getpid()}) is writing this run " \
        "directory" in said and "resume" not in said


def test_a_run_directory_that_cannot_be_written_says_to_go_on_from_a_copy(tmp_path, monkeypatch):
    import errno
    import os

    from nnrun.errors import UserError
    from nnrun.store.lock import RunLock

    def refused(path, *args, **kwargs):  # as a read-only folder answers a process that is not root
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(UserError) as caught:
        RunLock(tmp_path)
    assert caught.value.message == f"{tmp_path}/.lock: cannot open the lock file (Permission denied)"
    assert caught.value.hint == "the run directory cannot be written by you here: copy it where you can write " \
        "(cp -r) and go on from the copy"


def test_bad_config_exits_2_with_located_message(run_cli, write_config):
    path = write_config(IRIS.read_text().replace("units: 64", "unit: 64"))
    result = run_cli("train", path)
    assert result.exit_code == 2
    assert f"{path}:13:" in result.output
    assert "model.layers.0.unit: unknown key 'unit'; did you mean 'units'?" in result.output
    assert "model.layers.0.units: required key is missing" in result.output
    assert "Traceback" not in result.output


def test_wrong_output_width_is_reported_before_training(run_cli, write_config, tmp_path):
    path = write_config(IRIS.read_text().replace("units: 3,", "units: 4,"))
    result = run_cli("train", path)
    assert result.exit_code == 2
    assert "model.layers.1: the output has 4 units but the data has 3 classes" in result.output
    assert not (tmp_path / "runs").exists()


def test_evaluate_missing_run_dir(run_cli):
    result = run_cli("evaluate", "runs/nothing-here")
    assert result.exit_code == 2
    assert "runs/nothing-here: no such run directory" in result.output
    assert "hint: `nnrun runs` lists the runs in runs/" in result.output  # its default folder, not `nnrun runs runs`


def test_evaluate_other_splits(run_cli):
    assert run_cli("train", IRIS, "--run-dir", "r", "--set", "training.epochs=2", "-q").exit_code == 0
    result = run_cli("evaluate", "r", "--split", "validation")
    assert result.exit_code == 0 and "validation split, 15 samples" in result.output
    result = run_cli("evaluate", "r", "--split", "everything")
    assert result.exit_code == 2 and "'everything' is not a split" in result.output
    with pytest.raises(UserError, match=r"the run has no split named 'valid'; did you mean 'validation'\? "
                                        r"\(it has: train, validation, test\)"):
        nnrun.evaluate("r", split="valid")
    # Retrained on every row (the README's recipe for the model to ship): pointed to a labelled file.
    assert run_cli("train", IRIS, "--run-dir", "all", "--set", "data.split={validation: 0, test: 0}", "--set",
                   "training.early_stopping=null", "--set", "training.epochs=1", "-q").exit_code == 0
    result = run_cli("evaluate", "all")
    assert result.exit_code == 2 and "all: the run has no split named 'test' (it has: train)" in result.output
    assert "hint: score it with: nnrun evaluate all --data FILE (a labelled file of new samples: it trained on every " \
        "row)" in " ".join(result.output.split())


def test_python_api(tmp_path):
    import nnrun

    config = yaml.safe_load(IRIS.read_text())
    config["training"]["epochs"] = 2
    result = nnrun.train(config, run_dir=tmp_path / "api")
    assert result.run_dir == tmp_path / "api" and len(result.history) == 2
    assert set(result.final) == {"train", "validation", "test"}
    report = nnrun.evaluate(result.run_dir)
    assert report["metrics"]["loss"] == result.final["test"]["loss"]


def test_paths_of_the_wrong_kind_say_so(run_cli, tmp_path):
    result = run_cli("evaluate", IRIS)
    assert result.exit_code == 2 and f"{IRIS}: is a file, not a run directory" in result.output
    (tmp_path / "folder").mkdir()
    result = run_cli("train", "folder")
    assert result.exit_code == 2 and "folder: is a directory, not a config file" in result.output


def test_debug_shows_the_traceback_and_keeps_the_exit_code(run_cli):
    result = run_cli("--debug", "evaluate", "runs/nothing-here")
    assert result.exit_code == 2


def test_debug_after_the_command_is_taken_as_nnruns_own(tmp_path):
    code = ("import sys; sys.argv = ['nnrun', 'evaluate', 'runs/nothing-here', '--debug']\n"
            "from nnrun.cli import main\nmain()\n")
    done = run_python(code, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "Traceback (most recent call last)" in done.stderr
    from nnrun.cli import _debug_first

    argv = ["nnrun", "predict", "run", "--", "--debug"]  # after "--" it is an argument, a file name
    _debug_first(argv)
    assert argv == ["nnrun", "predict", "run", "--", "--debug"]


def test_huge_losses_print_in_scientific_notation():
    from nnrun.console.numbers import number, signed

    assert number(4.1e31) == "4.1e+31" and number(0.1234567) == "0.1235" and number(0.0) == "0.0000"
    assert number(2.325e-09) == "2.325e-09" and number(220779413504.0) == "2.208e+11"
    assert signed(-3e-8) == "-3e-08" and signed(0.25) == "+0.2500"


def test_the_results_table_shows_tiny_and_huge_values_as_numbers(run_cli, write_config):
    # A regression whose loss falls to 1e-10 was shown as 0.0000; one of 2e11 as twelve digits.
    write_config("a,y\n" + "".join(f"{i / 10},{i / 10 + 0.00001}\n" for i in range(40)), "d.csv")
    config = write_config("name: d\ndata: {source: {type: csv, path: d.csv, target: y}, split: {validation: 0.2, "
                          "test: 0}}\nmodel: {layers: [{type: dense, units: 1, kernel_initializer: ones}]}\n"
                          "loss: mse\noptimizer: {type: sgd, learning_rate: 1.0e-6}\ntraining: {epochs: 1}\n")
    result = run_cli("train", config, "--quiet")
    assert result.exit_code == 0, result.output
    assert "0.0000 " not in result.output and "e-" in result.output


def test_unwritable_places_are_messages_not_tracebacks(run_cli, tmp_path):
    result = run_cli("train", IRIS, "--run-dir", "/proc/nnrun-cannot-write-here")
    assert result.exit_code == 2
    assert result.output.startswith("error: /proc/nnrun-cannot-write-here")
    assert "Traceback" not in result.output


def test_damaged_preprocessing_file_is_named(run_cli, tmp_path):
    assert run_cli("train", IRIS, "--run-dir", "r", "--set", "training.epochs=1", "-q").exit_code == 0
    prep = tmp_path / "r" / "preprocess.json"
    saved = json.loads(prep.read_text())
    saved["states"] = [{}]
    prep.write_text(json.dumps(saved))
    for args in (["evaluate", "r"], ["predict", "r", IRIS]):
        result = run_cli(*args)
        assert result.exit_code == 2, result.output
        assert "error: r/preprocess.json: damaged: its fitted statistics do not fit the data (KeyError" in result.output
    saved["task"] = "guessing"
    prep.write_text(json.dumps(saved))
    result = run_cli("evaluate", "r")
    assert result.exit_code == 2 and "r/preprocess.json: damaged (task:" in result.output


def test_running_the_command_line_in_a_process_leaves_its_objects_collectable(tmp_path):
    code = ("import gc, sys, weakref\nclass Big: pass\nbig = Big(); big.me = big; alive = weakref.ref(big)\n"
            f"sys.argv = ['nnrun', 'validate', {str(CONFIGS / 'iris.yaml')!r}]\n"
            "from nnrun.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "del big\ngc.collect()\nprint('collected' if alive() is None else 'kept')\n")
    result = run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "collected"


def test_every_help_example_names_files_and_columns_that_exist():
    """The ``Example:`` lines of the commands' help are what a new user types first:
    every file they name under configs/ exists, and every ``--keep`` column is one of
    the example file's columns."""
    import csv
    import shlex

    from nnrun.cli.application import app

    root = Path(__file__).resolve().parent.parent
    examples = [line.strip()[len("Example:"):].split("&&")[0]
                for info in app.registered_commands
                for line in (info.callback.__doc__ or "").splitlines() if line.strip().startswith("Example:")]
    assert len(examples) >= 10
    for example in examples:
        words = shlex.split(example)
        files = [root / word for word in words if word.startswith("configs/") and not word.endswith(".json")]
        for path in files:
            assert path.is_file(), example
        kept = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--keep"]
        for column in kept:
            with open(next(p for p in files if p.suffix == ".csv"), newline="") as f:
                assert column in next(csv.reader(f)), example


def test_only_the_program_ends_its_process_and_only_after_ray(monkeypatch, capsys):
    # After a Ray sweep the nnrun program skips the interpreter's teardown (Ray's crashed
    # it after a Ctrl-C); a caller of main() keeps its process, and a run without Ray too.
    import os
    import sys

    from nnrun import cli
    from nnrun.commands.sweep import ray_cluster

    ended = []
    monkeypatch.setattr(os, "_exit", ended.append)
    monkeypatch.setattr(sys, "argv", ["nnrun", "--help"])
    cli.program()
    assert ended == []  # no Ray in this process
    monkeypatch.setattr(ray_cluster, "joined", [True])
    cli.main()
    assert ended == []
    cli.program()
    assert ended == [0] and "Usage" in capsys.readouterr().out


def test_a_ctrl_c_while_a_command_loads_is_said_in_one_line(monkeypatch, capsys):
    """Before a command's own handling is in place (its modules still importing), Ctrl-C
    ends the program as any command's does: 'interrupted', exit code 130, no traceback."""
    import nnrun.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "main", interrupted)
    monkeypatch.setattr(sys, "argv", ["nnrun", "train", "configs/iris.yaml"])
    with pytest.raises(SystemExit) as ended:
        cli.program()
    assert ended.value.code == 130 and capsys.readouterr().err == "interrupted\n"
    monkeypatch.setattr(sys, "argv", ["nnrun", "--debug", "train", "configs/iris.yaml"])
    with pytest.raises(KeyboardInterrupt):  # --debug: the traceback, as everywhere
        cli.program()


def test_sigterm_before_a_commands_own_handling_is_an_interrupt(monkeypatch, capsys):
    """SIGTERM (as timeout and systemd send it) ends a command as Ctrl-C does, also before
    the run's own signal handling is in place: 'interrupted', 130, and whatever cleans up
    on an interrupt (a run directory made before its first epoch) runs."""
    import os
    import signal

    import nnrun.cli as cli

    def terminated():
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(cli, "main", terminated)
    monkeypatch.setattr(sys, "argv", ["nnrun", "train", "configs/iris.yaml"])
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with pytest.raises(SystemExit) as ended:
            cli.program()
    finally:
        signal.signal(signal.SIGTERM, before)
    assert ended.value.code == 130 and capsys.readouterr().err == "interrupted\n"


def test_a_ctrl_c_is_said_once_for_every_process_of_a_launch(monkeypatch, capsys):
    # mpiexec -n 2: Ctrl-C reaches both processes; process 0 alone says 'interrupted'.
    from nnrun.cli.guard import guard

    def interrupted():
        raise KeyboardInterrupt

    for rank, said in (("1", ""), ("0", "interrupted\n")):
        monkeypatch.setenv("PMI_RANK", rank)
        with pytest.raises(SystemExit) as ended:
            guard(interrupted)
        assert ended.value.code == 130 and capsys.readouterr().err == said


@pytest.mark.parametrize("args, code, redirect", [
    (["schema"], 0, ""),  # the reader left: no failure, nothing said
    (["runs", "no-such-folder"], 2, "2>&1"),  # the message cannot be read, its exit code still holds
])
def test_a_reader_that_leaves_early_changes_no_exit_code(tmp_path, args, code, redirect):
    # `nnrun schema | head -1` said "error: Broken pipe" with exit 2; an error piped away exited 1.
    import shlex
    import subprocess

    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "nnrun", *args])
    result = subprocess.run(["bash", "-c", f"{command} {redirect} | true; echo ${{PIPESTATUS[0]}}"],
                            cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert result.stdout.strip() == str(code) and "Broken pipe" not in result.stderr, result.stderr


@pytest.mark.parametrize("command, usage", [
    ("evaluate", "Usage: nnrun evaluate [OPTIONS] RUN_DIR"), ("validate", "Usage: nnrun validate [OPTIONS] CONFIG..."),
    ("train", "Usage: nnrun train [OPTIONS] [CONFIG]"), ("runs", "Usage: nnrun runs [OPTIONS] [DIR]..."),
    ("plot", "Usage: nnrun plot [OPTIONS] RUN_DIRS..."),
])
def test_every_help_names_arguments_plainly_without_python_types(run_cli, command, usage):
    out = run_cli(command, "--help").output
    assert out.startswith(usage), out.splitlines()[0]
    assert not re.search(r"<(str|path|int|float|list\[\w+\])>|\{[A-Z_]+\}", out), out


@pytest.mark.parametrize("typed, meant", [
    ("fit", "Did you mean 'nnrun train'? (Keras's fit)"), ("tune", "Did you mean 'nnrun sweep'? (Ray Tune's tuning)"),
    ("resume", "Did you mean 'nnrun train --resume RUN_DIR'? (it continues a stopped run)"),
    ("trian", "Did you mean 'train'?"),  # a misspelling: click's own suggestion
])
def test_another_tools_name_for_a_command_is_told_nnruns(run_cli, typed, meant):
    result = run_cli(typed, "config.yaml")
    assert result.exit_code == 2
    assert f"Error: No such command '{typed}'. {meant}" in result.output, result.output
