"""The command line: thin Typer commands over the Python API.

Each command declares its options and calls one function. Errors meant for people
(:class:`~nnrun.errors.NnrunError`) are printed as one message with exit code 2 (bad
input) or 1 (training failed); ``--debug`` shows the traceback instead. Heavy modules
are imported inside the commands so ``nnrun --help`` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Optional

import typer

from . import __version__

app = typer.Typer(
    name="nnrun",
    help="Train neural networks from a YAML file.\n\nExample: nnrun train configs/iris.yaml",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nnrun {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of short error messages."),
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    _state["debug"] = debug


def _guard(action: Callable[[], object]) -> None:
    """Run a command; turn nnrun's errors into a message and an exit code."""
    from .errors import NnrunError

    try:
        action()
    except NnrunError as exc:
        if _state["debug"]:
            raise
        from rich.console import Console

        Console(stderr=True).print(f"{exc.label}: {exc.render()}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        if _state["debug"]:
            raise
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


@app.command()
def train(
    config: Optional[Path] = typer.Argument(
        None, help="The YAML config file (optional with --resume).", show_default=False
    ),
    set_: list[str] = typer.Option([], "--set", help="Override a value: --set optimizer.learning_rate=0.01 (repeatable)."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Write the run here instead of runs/<name>-<time>/."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the final summary."),
    resume: Optional[Path] = typer.Option(
        None, "--resume", help="Continue this run directory from its newest valid checkpoint.", show_default=False
    ),
) -> None:
    """Train a model and write a run directory.

    Example: nnrun train configs/iris.yaml --set training.epochs=20

    Continue a stopped run: nnrun train --resume runs/iris-20260101-120000
    """

    def action():
        from .errors import UserError
        from .report import make_reporter
        from .report import QuietReporter
        from .training import train as run_training

        reporter = QuietReporter(summary=True) if quiet else make_reporter(quiet=False)
        if resume is not None:
            from .resume import resume_training

            if run_dir is not None:
                raise UserError("--run-dir: not allowed with --resume, which continues the run where it is")
            resume_training(resume, config, overrides=set_, reporter=reporter, command=" ".join(sys.argv))
            return
        if config is None:
            raise UserError("missing CONFIG: give a config file, or --resume RUN_DIR to continue a run",
                            hint="nnrun train configs/iris.yaml")
        run_training(config, overrides=set_, run_dir=run_dir, reporter=reporter, command=" ".join(sys.argv))

    _guard(action)


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run directory written by `nnrun train`.", show_default=False),
    split: str = typer.Option("test", "--split", help="Which split to score: test, validation or train."),
) -> None:
    """Reload a run and report its metrics on a split; writes eval.json.

    Example: nnrun evaluate runs/iris-20260101-120000
    """

    def action():
        from rich.console import Console

        from .errors import UserError
        from .evaluation import evaluate as run_evaluation
        from .report import print_scores

        if split not in ("test", "validation", "train"):
            raise UserError(f"--split: '{split}' is not a split; choose test, validation or train")
        report = run_evaluation(run_dir, split)
        print_scores(Console(), report, run_dir)

    _guard(action)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
