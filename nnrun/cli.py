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

from nnrun import __version__

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
    from nnrun.errors import NnrunError

    try:
        action()
    except NnrunError as exc:
        if _state["debug"]:  # the traceback, but still the documented exit code
            import traceback

            traceback.print_exc()
            raise typer.Exit(exc.exit_code) from None
        from rich.console import Console

        Console(stderr=True).print(f"{exc.label}: {exc.render()}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:  # a path that cannot be written or read: a full disk, no permission, ...
        if _state["debug"]:
            import traceback

            traceback.print_exc()
            raise typer.Exit(2) from None
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
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
        from nnrun.console.progress import QuietReporter, make_reporter
        from nnrun.engine.resume import train_or_resume

        reporter = QuietReporter(summary=True) if quiet else make_reporter(quiet=False)
        try:
            train_or_resume(config, resume, run_dir, set_, reporter, command=" ".join(sys.argv))
        finally:
            reporter.close()

    _guard(action)


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run directory written by `nnrun train`.", show_default=False),
    split: Optional[str] = typer.Option(
        None, "--split", help="Which split to score: test (the default), validation or train."
    ),
    data: Optional[Path] = typer.Option(
        None, "--data", help="Score this labelled file instead (CSV with the training columns and the target, "
        "or NPZ with x and y).", show_default=False,
    ),
) -> None:
    """Reload a run and report its metrics on a split or a file; writes eval.json.

    Example: nnrun evaluate runs/iris-20260101-120000
    """

    def action():
        from rich.console import Console

        from nnrun.errors import UserError
        from nnrun.commands.evaluate import evaluate as run_evaluation
        from nnrun.console.evaluation import print_evaluation

        if split is not None and data is not None:
            raise UserError("--split and --data: choose one; --data scores a file instead of a split")
        if split not in (None, "test", "validation", "train"):
            raise UserError(f"--split: '{split}' is not a split; choose test, validation or train")
        report = run_evaluation(run_dir, split or "test", data)
        print_evaluation(Console(), report, run_dir)

    _guard(action)


@app.command()
def runs(
    directory: Path = typer.Argument(Path("runs"), help="Folder holding run directories."),
) -> None:
    """List the runs in a folder, newest first: status, epochs, best validation and test metric, duration.

    Example: nnrun runs runs/
    """

    def action():
        from rich.console import Console

        from nnrun.commands.runs import print_runs

        print_runs(Console(), directory)

    _guard(action)


@app.command()
def compare(
    run_a: Path = typer.Argument(..., help="First run directory (A).", show_default=False),
    run_b: Path = typer.Argument(..., help="Second run directory (B).", show_default=False),
) -> None:
    """Show how two runs' configs differ (as dotted paths) beside how their metrics differ.

    Example: nnrun compare runs/iris-20260101-120000 runs/iris-20260101-130000
    """

    def action():
        from rich.console import Console

        from nnrun.commands.compare import print_comparison

        print_comparison(Console(), run_a, run_b)

    _guard(action)


@app.command()
def plot(
    run_dirs: list[Path] = typer.Argument(..., help="One or more run directories, overlaid.", show_default=False),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="PNG file to write. Default: RUN_DIR/curves.png for one run, ./curves.png for several."
    ),
) -> None:
    """Plot loss and metrics per epoch (train and validation, best epoch marked) to a PNG.

    Needs matplotlib: pip install 'nnrun[plot]'.

    Example: nnrun plot runs/iris-20260101-120000 -o iris.png
    """

    def action():
        from nnrun.console.plot import plot_runs

        written = plot_runs(run_dirs, output)
        typer.echo(f"wrote {written}")

    _guard(action)


def _complete_dataset(incomplete: str) -> list[str]:
    from nnrun.data.sources import BUILTIN

    return [name for name in BUILTIN if name.startswith(incomplete)]


@app.command()
def init(
    dataset: str = typer.Option("iris", "--dataset", "-d", help="Bundled data set the config trains on.",
                                autocompletion=_complete_dataset),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write. Default: <dataset>.yaml."),
) -> None:
    """Write a commented starter config for a bundled data set; never overwrites a file.

    The data set is one bundled with nnrun (iris by default); an unknown name lists them all.

    Example: nnrun init --dataset wine -o wine.yaml && nnrun train wine.yaml
    """

    def action():
        from nnrun.commands.init import write_starter

        written = write_starter(dataset, output)
        typer.echo(f"wrote {written}; train it with: nnrun train {written}")

    _guard(action)


@app.command()
def layers(
    name: Optional[str] = typer.Argument(None, help="Show one family (layers, losses, optimizers, metrics) or one type."),
) -> None:
    """List every layer, loss, optimizer and metric with its options, defaults and descriptions.

    Example: nnrun layers dense
    """

    def action():
        from rich.console import Console

        from nnrun.commands.catalog import print_catalog

        print_catalog(Console(), name)

    _guard(action)


@app.command()
def validate(
    config: Path = typer.Argument(..., help="The YAML config file.", show_default=False),
    set_: list[str] = typer.Option([], "--set", help="Override a value: --set model.layers.0.units=32 (repeatable)."),
) -> None:
    """Check a config without training: schema, data, shapes; print the model summary.

    Exit code 0 when the config is valid, 2 otherwise.

    Example: nnrun validate configs/iris.yaml
    """

    def action():
        from nnrun.commands.validate import validate_and_print

        validate_and_print(config, set_)

    _guard(action)


@app.command()
def predict(
    run_dir: Path = typer.Argument(..., help="A run directory written by `nnrun train`.", show_default=False),
    input_path: Path = typer.Argument(..., metavar="INPUT", help="CSV file with the training columns, or .npz with x.",
                                      show_default=False),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Where to write (default RUN_DIR/predictions.csv)."
    ),
    proba: bool = typer.Option(False, "--proba", help="Add one probability column per class."),
) -> None:
    """Predict new samples with a trained run; writes a CSV of predictions.

    Example: nnrun predict runs/fruit-20260101-120000 configs/data/fruit_new.csv --proba
    """

    def action():
        from nnrun.commands.predict import predict as run_prediction

        result = run_prediction(run_dir, input_path, output, proba)
        typer.echo(f"wrote {result.rows} prediction{'' if result.rows == 1 else 's'} to {result.output}")

    _guard(action)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the config language, for editors.

    Example: nnrun schema > configs/nnrun.schema.json
    """

    def action():
        from nnrun.config.schema import json_schema_text

        typer.echo(json_schema_text(), nl=False)

    _guard(action)


@app.command()
def datasets() -> None:
    """List the bundled data sets (data.source: {type: builtin, name: NAME}).

    Example: nnrun datasets
    """

    def action():
        from rich.console import Console

        from nnrun.console.progress import print_datasets

        print_datasets(Console())

    _guard(action)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
