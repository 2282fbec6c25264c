"""What ``nnrun train`` does, and its usual command lines read without typer.

    options = read_train_args(sys.argv[1:])   # None: let the Typer application read them
    if options is not None:
        run_train(**options)

Why: importing typer and the validators it builds for each option took a fifth of
``nnrun train configs/iris.yaml`` (0.12 s of 0.65 s), for command lines that only name
a config and some of train's own options. So :func:`nnrun.cli.main` reads those here,
in exactly the forms click reads the same way (``--opt VALUE``, ``--opt=VALUE``,
``-q``, the config anywhere among them, ``--debug`` first), and hands anything else to
the Typer application: help, ``--version``, an unknown or repeated option, a missing
value, a value that starts with ``-``, ``--``, shell completion. Typer therefore still
owns every error message and help screen; a test reads a set of command lines both ways
and compares what each passes to :func:`run_train`.

May import: :mod:`nnrun.cli.guard` and, inside :func:`run_train`, the modules training
needs; never typer.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

# train's options that take a value, by their name on the command line, with the
# keyword of run_train each fills; and its flags (-q is --quiet), each with its keyword.
VALUE_OPTIONS = {"--set": "set_", "--run-dir": "run_dir", "--resume": "resume"}
FLAGS = {"--quiet": "quiet", "-q": "quiet", "--json": "as_json"}
COMPLETION_VARIABLE = "_NNRUN_COMPLETE"  # set by a shell asking typer for completions


def run_train(config: Path | None, set_: list[str], run_dir: Path | None, quiet: bool,
              resume: Path | None, as_json: bool = False) -> None:
    """Train (or resume) and print progress, with nnrun's errors as messages and exit codes;
    ``as_json``: the result as one JSON object on standard output, and the progress (none
    with ``quiet``) on standard error, where a CI log still shows a long run's epochs."""
    from nnrun.cli.guard import guard

    def action():
        from nnrun.commands.train import train_or_resume
        from nnrun.console.output import OutputConsole
        from nnrun.console.progress import QuietDisplay, make_display

        from nnrun.errors import AlreadyDone, RunInterrupted, TrainingFailed

        if quiet:
            display = QuietDisplay(results=not as_json)
        else:  # standard output holds the JSON alone
            display = make_display(quiet=False, console=OutputConsole(stderr=True) if as_json else None)
        try:
            result = train_or_resume(config, resume, run_dir, set_, display, command=shlex.join(sys.argv))
        except AlreadyDone as done:  # a completed run resumed: its result as recorded, then the note
            if as_json:  # the note in the JSON too: a script tells "trained now" from "done before"
                from nnrun.console.results import print_result_json
                from nnrun.engine.train import recorded_result

                print_result_json(recorded_result(resume), note=done.message)
            raise
        except (TrainingFailed, RunInterrupted) as stopped:  # a script still learns where the run is, and why
            if as_json and stopped.run_dir is not None:
                from nnrun.console.results import print_stopped_json

                print_stopped_json(stopped)
            raise
        finally:
            display.close()
        if as_json:
            from nnrun.console.results import print_result_json

            print_result_json(result)

    guard(action)


def read_train_args(args: list[str]) -> dict | None:
    """``args`` (after the program name, ``--debug`` already moved first) as keywords of
    :func:`run_train` plus ``debug``, or None when the Typer application should read
    them (see the module's docstring)."""
    if COMPLETION_VARIABLE in os.environ:
        return None
    debug = bool(args) and args[0] == "--debug"
    args = args[1:] if debug else args
    if not args or args[0] != "train":
        return None
    options: dict = {"config": None, "set_": [], "run_dir": None, "quiet": False, "resume": None, "as_json": False}
    seen: set[str] = set()
    words = iter(args[1:])
    for word in words:
        name, has_value, value = word.partition("=") if word.startswith("--") else (word, False, None)
        if word in FLAGS:
            name = word if word != "-q" else "--quiet"
        elif name in VALUE_OPTIONS:
            if not has_value:
                value = next(words, None)
            if not value or value.startswith("-"):  # typer explains what is missing, or decides
                return None
        elif word.startswith("-") or not word or options["config"] is not None:
            return None  # --help, an unknown option, "--", a second argument: typer answers
        else:
            options["config"] = Path(word)
            continue
        if name in seen and name != "--set":  # a repeated option: typer's rule (the last wins) applies
            return None
        seen.add(name)
        if name in FLAGS:
            options[FLAGS[name]] = True
        elif name == "--set":
            options["set_"].append(value)
        else:
            options[VALUE_OPTIONS[name]] = Path(value)
    return {**options, "debug": debug}
