"""``nnrun --help`` is printed without importing typer, and says exactly what typer's
own help says, at every terminal width."""

from __future__ import annotations

import os

import pytest

from nnrun.cli.application import COMMANDS
from nnrun.cli.quick_help import SUMMARIES, render
from conftest import run_python


def _typer_help(columns: int) -> str:
    """typer's own top-level help in a process whose terminal is ``columns`` wide."""
    code = "import sys; sys.argv = ['nnrun', '--help']; from nnrun.cli.application import app; app()"
    env = {**os.environ, "COLUMNS": str(columns)}
    done = run_python(code, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("columns", [30, 64, 80, 120])
def test_quick_help_is_typers_help(columns):
    assert render(columns) == _typer_help(columns)


def test_every_command_has_a_summary_in_listing_order():
    assert list(SUMMARIES) == [command.__name__ for command in COMMANDS]


def test_help_does_not_import_typer():
    code = ("import sys; sys.argv = ['nnrun', '--help']; from nnrun.cli import main; main(); "
            "sys.stderr.write(','.join(m for m in ('typer', 'rich', 'numpy', 'pydantic') if m in sys.modules))")
    done = run_python(code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: nnrun [OPTIONS] COMMAND [ARGS]...")
    assert done.stderr == ""  # none of the heavy modules was loaded


def test_other_arguments_still_reach_typer():
    code = "import sys; sys.argv = ['nnrun', '--version']; from nnrun.cli import main; main()"
    done = run_python(code, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("nnrun ")
