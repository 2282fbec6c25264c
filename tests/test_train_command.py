"""`nnrun train` read without typer: the same call as typer makes, or typer's turn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_python
from nnrun.cli import train_command
from nnrun.cli.train_command import read_train_args

IRIS = str(Path(__file__).resolve().parent.parent / "configs" / "iris.yaml")

READ_ALIKE = [
    ["train", "c.yaml"],
    ["train"],
    ["train", "--resume", "runs/iris-1"],
    ["train", "--resume=runs/iris-1", "--quiet"],
    ["train", "-q", "c.yaml"],
    ["train", "c.yaml", "--quiet", "--run-dir", "out/a"],
    ["train", "--run-dir=out/a", "c.yaml", "--set", "training.epochs=3", "--set=seed=7"],
    ["train", "c.yaml", "--set", "model.layers.0.units=32", "--set", "name=x=y", "--set", "loss=mse"],
    ["train", "c.yaml", "--set", "data.source.id=[]", "--set", "a.b=-1"],
    ["--debug", "train", "c.yaml", "-q"],
    ["train", "dir with space/c.yaml", "--run-dir", "a b"],
    ["train", "c.yaml", "--json"],
    ["train", "--json", "-q", "--resume", "runs/iris-1"],
]

LEFT_TO_TYPER = [
    ["train", "--help"],
    ["train", "c.yaml", "-h"],
    ["--version"],
    ["--debug"],
    ["evaluate", "runs/x"],
    ["train", "a.yaml", "b.yaml"],
    ["train", "c.yaml", "--run-dir"],
    ["train", "c.yaml", "--run-dir", "-x"],
    ["train", "c.yaml", "--set", "--quiet"],
    ["train", "c.yaml", "--set="],
    ["train", "c.yaml", "--quiet=yes"],
    ["train", "c.yaml", "-qq"],
    ["train", "c.yaml", "--json=yes"],
    ["train", "c.yaml", "--json", "--json"],
    ["train", "c.yaml", "--run-dir", "a", "--run-dir", "b"],
    ["train", "c.yaml", "--epochs", "5"],
    ["train", "--", "c.yaml"],
    ["train", ""],
    ["train", "-"],
]


def typers_call(args: list[str], monkeypatch) -> dict:
    """What the Typer application passes to run_train for ``args``."""
    from typer.testing import CliRunner

    from nnrun.cli.application import app
    from nnrun.cli.guard import debug

    calls = []
    monkeypatch.setattr(train_command, "run_train",
                        lambda config, set_, run_dir, quiet, resume, as_json: calls.append(
                            {"config": config, "set_": set_, "run_dir": run_dir, "quiet": quiet, "resume": resume,
                             "as_json": as_json, "debug": debug["on"]}))
    monkeypatch.setitem(debug, "on", False)
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return calls[0]


@pytest.mark.parametrize("args", READ_ALIKE, ids=" ".join)
def test_the_usual_lines_are_read_as_typer_reads_them(args, monkeypatch):
    assert read_train_args(args) == typers_call(args, monkeypatch)


@pytest.mark.parametrize("args", LEFT_TO_TYPER, ids=" ".join)
def test_help_errors_and_anything_unusual_are_left_to_typer(args):
    assert read_train_args(args) is None


def test_shell_completion_is_left_to_typer(monkeypatch):
    monkeypatch.setenv("_NNRUN_COMPLETE", "complete_bash")
    assert read_train_args(["train", "c.yaml"]) is None


def test_train_runs_without_importing_typer_and_reports_errors_alike(tmp_path):
    code = ("import sys, json\n"
            f"sys.argv = ['nnrun', 'train', {IRIS!r}, '-q', '--set', 'training.epochs=2', '--run-dir', 'run']\n"
            "from nnrun.cli import main\nmain()\n"
            "print(json.dumps(sorted(m for m in ('typer', 'click') if m in sys.modules)))\n")
    done = run_python(code, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
    assert (tmp_path / "run" / "model.safetensors").is_file()
    # The same line again: the run directory exists. One message, exit code 2, as under typer.
    again = run_python(code, cwd=tmp_path, timeout=120)
    assert again.returncode == 2
    assert again.stderr.startswith("error: run: already exists; nnrun never overwrites a run")
    assert "Traceback" not in again.stderr
    debug = run_python(code.replace("'train',", "'train', '--debug',"), cwd=tmp_path, timeout=120)
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr


@pytest.mark.parametrize("args, told", [
    (["--epochs", "5"], "--set training.epochs=5"),
    (["--batch-size=64"], "--set training.batch_size=64"),
    (["--lr", "0.01", "-q"], "--set optimizer.learning_rate=0.01"),
    (["--epochs"], "--set training.epochs=VALUE"),
    (["--bogus", "1"], "--set KEY=VALUE, for example --set training.epochs=5"),
])
def test_an_option_other_tools_take_is_answered_with_its_set(args, told, run_cli):
    result = run_cli("train", IRIS, *args)
    assert result.exit_code == 2
    assert f"No such option: {args[0].partition('=')[0]}. Config values are set with --set" in result.output
    assert told in result.output


@pytest.mark.parametrize("args, meant", [
    (["--quite"], "--quiet"),
    (["--resum", "runs/x"], "--resume"),
    (["--run-dri", "x"], "--run-dir"),
    (["--sett", "seed=1"], "--set"),
])
def test_a_typo_of_trains_own_option_is_answered_with_that_option(args, meant, run_cli, tmp_path):
    result = run_cli("train", IRIS, *args)
    assert result.exit_code == 2
    assert f"No such option: {args[0]}. Did you mean {meant}?" in result.output
    assert "--set KEY=VALUE" not in result.output
    assert not any(tmp_path.iterdir())  # nothing trained


def test_train_through_typer_still_reads_its_own_options(run_cli, tmp_path):
    result = run_cli("train", IRIS, "--run-dir", "r", "--run-dir", "s", "-q", "--set", "training.epochs=1")
    assert result.exit_code == 0, result.output  # a repeated option: typer's turn, the last wins
    assert (tmp_path / "s" / "model.safetensors").exists()


def test_running_out_of_memory_is_one_message_and_exit_code_1(run_cli, monkeypatch):
    """A model too large for the machine: numpy's MemoryError is told, not a traceback."""
    import numpy as np

    from nnrun.commands import train

    def too_large(*args, **kwargs):
        return np.empty((1 << 58, 3), np.float32)  # refused at once: no machine has that much

    monkeypatch.setattr(train, "train", too_large)
    result = run_cli("train", "configs/iris.yaml")
    assert result.exit_code == 1, result.output
    assert "error: out of memory: Unable to allocate" in result.output and "(288230376151711744, 3)" in result.output
    assert "hint: the model, its optimizer's state or a batch does not fit" in result.output
    assert "Traceback" not in result.output
