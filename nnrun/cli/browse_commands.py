"""The commands that look at runs and at nnrun itself: runs, compare, plot, init,
layers, schema, datasets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from nnrun.cli.guard import guard
from nnrun.errors import quoted


def runs(
    directories: Optional[list[Path]] = typer.Argument(
        None, metavar="DIR", help="Folder holding run directories (default: runs/, where none yet is no runs), or "
        "run directories themselves (runs/lr-*).", show_default=False),
    sort: Optional[str] = typer.Option(
        None, "--sort", metavar="KEY",
        help="Order by started (newest first), name, best (best validation value first), test, time (shortest "
             "first), epochs (most first), a metric such as auc (its best validation value first), or a setting "
             "such as optimizer.learning_rate (shown as a column)."),
    reverse: bool = typer.Option(False, "--reverse", help="Turn the order round (runs without a value stay last)."),
    status: list[str] = typer.Option(
        [], "--status", metavar="STATUS",
        help="Only runs of this status (completed, killed, ...; sweep: the sweeps); repeatable."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", metavar="N", help="Only the first N runs."),
    tag: list[str] = typer.Option([], "--tag", metavar="TAG",
                                  help="Only runs whose config's tags hold TAG; repeatable (all of them)."),
    metric: Optional[str] = typer.Option(
        None, "--metric", metavar="NAME",
        help="The metric every run shows and is ranked by (loss, accuracy, mae, ...); a run without it shows none."),
    show: list[str] = typer.Option(
        [], "--show", metavar="PATH",
        help="A column of each run's setting at this dotted path (optimizer.learning_rate; a block, such as "
             "optimizer, gives one column per setting in it); repeatable."),
    params: bool = typer.Option(False, "--params",
                                help="Columns for the settings that differ between the runs listed."),
    as_json: bool = typer.Option(False, "--json", help="Print the listing as JSON, one object per run, for scripts."),
) -> None:
    """List the runs in a folder (or those named), newest first: status, epochs, best validation and test metric,
    duration.

    Example: nnrun runs runs/ --params --sort best --limit 10
    """

    def action():
        from nnrun.commands.runs_view import RunsView

        view = RunsView(sort=sort, reverse=reverse, statuses=tuple(status), limit=limit, metric=metric,
                        show=tuple(show), params=params, tags=tuple(tag))  # its options checked first, whatever there is to list
        from nnrun.commands.runs import given_runs, list_runs, listed_as

        if not directories and not Path("runs").exists():  # a fresh checkout: no run yet, no error
            typer.echo("[]" if as_json else "no runs yet (no runs/ folder here); start one with: nnrun train CONFIG")
            return
        folder = directories[0] if directories else Path("runs")
        # Run directories named themselves (the shell's runs/lr-*), else the folder that holds them.
        # (A link to one run is refused there, by name; a link to a folder of runs lists them.)
        given = directories if directories and (len(directories) > 1 or listed_as(folder) == "run" or
                                                folder.is_symlink() and listed_as(folder.resolve()) == "run") else None
        listed = given_runs(given, view.metric) if given else list_runs(folder, view.metric)
        if as_json:
            from nnrun.commands.runs import as_records
            from nnrun.console.output import say_note
            from nnrun.store.files import json_text

            listed, notes = view.apply(listed)
            for note in notes:
                say_note(note)
            typer.echo(json_text(as_records(listed, view.all_columns)), nl=False)
            return
        from nnrun.console.output import OutputConsole
        from nnrun.console.runs_table import print_runs

        print_runs(OutputConsole(), None if given else folder, view, listed)

    guard(action)


def compare(
    run_a: Path = typer.Argument(..., metavar="RUN_A", help="First run directory (A).", show_default=False),
    run_b: Path = typer.Argument(..., metavar="RUN_B", help="Second run directory (B).", show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON, for scripts."),
) -> None:
    """Show how two runs' configs differ (as dotted paths) beside how their metrics differ.

    Example: nnrun compare runs/iris-20260101-120000 runs/iris-20260101-130000
    """

    def action():
        if as_json:
            from nnrun.commands.compare import as_record, compare as compared
            from nnrun.store.files import json_text

            typer.echo(json_text(as_record(compared(run_a, run_b), run_a, run_b), default=str), nl=False)
            return
        from nnrun.console.compare_view import print_comparison
        from nnrun.console.output import OutputConsole

        print_comparison(OutputConsole(), run_a, run_b)

    guard(action)


def plot(
    run_dirs: list[Path] = typer.Argument(..., metavar="RUN_DIRS", help="One or more run directories, overlaid.", show_default=False),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="PNG file to write. Default: RUN_DIR/curves.png for one run, ./curves.png for several."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing file (a run's own curves.png is redrawn anyway)."),
) -> None:
    """Plot loss and metrics per epoch (train and validation, best epoch marked) to a PNG.

    Given a sweep directory, plot the sweep's metric against each parameter (SWEEP_DIR/sweep.png).

    Needs matplotlib: pip install 'nnrun[plot]'.

    Example: nnrun plot runs/iris-20260101-120000 -o iris.png
    """

    def action():
        from nnrun.console.sweep_plot import is_sweep_dir, plot_sweep

        if len(run_dirs) == 1 and is_sweep_dir(run_dirs[0]):
            typer.echo(f"wrote {plot_sweep(run_dirs[0], output, force)}")
            return
        from nnrun.console.output import say_note
        from nnrun.console.plot import plot_runs

        notes: list[str] = []
        written = plot_runs(run_dirs, output, force, notes)
        typer.echo(f"wrote {written}")
        for note in notes:
            say_note(note)

    guard(action)


def _complete_dataset(incomplete: str) -> list[str]:
    from nnrun.data.sources import BUILTIN

    return [name for name in BUILTIN if name.startswith(incomplete)]


def init(
    given: Optional[str] = typer.Argument(None, metavar="NAME|FILE", show_default=False,
                                          help="A bundled data set's name, or your CSV file or .npz archive: as -d NAME "
                                               "or --data FILE."),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="Bundled data set the config trains on "
                                          "(default: iris).", autocompletion=_complete_dataset, show_default=False),
    data: Optional[Path] = typer.Option(None, "--data", help="Your own CSV file to train on, instead, or an .npz "
                                        "archive of the arrays x and y.", show_default=False),
    # A list, so that a second --target is refused rather than silently taking the place of the first.
    target: Optional[list[str]] = typer.Option(None, "--target", help="With --data: the column to predict (of an "
                                               ".npz archive: the targets' array, default y).",
                                               show_default=False, metavar="COLUMN"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (- for standard output). "
                                          "Default: <dataset>.yaml, or the data file's name with .yaml."),
) -> None:
    """Write a commented starter config; never overwrites a file.

    For a data set bundled with nnrun (iris by default; an unknown name lists them all),
    for your own CSV file (its delimiter, number format and column roles: features,
    categories, IDs, text left out, read from the file and said in comments), or for an
    .npz archive of arrays x and y (images, sequences or features).

    Example: nnrun init --dataset wine -o wine.yaml && nnrun train wine.yaml

    Your own file: nnrun init --data houses.csv --target price && nnrun validate houses.yaml

    An archive of arrays: nnrun init --data images.npz (images get convolutions,
    sequences an LSTM, features a dense network)
    """

    def action():
        from nnrun.commands.init import names_a_file, write_starter
        from nnrun.console.output import say_note
        from nnrun.errors import UserError

        nonlocal dataset, data
        if given is not None:  # nnrun init wine, nnrun init houses.csv: what -d and --data say
            if data is not None:  # nnrun init --data houses.csv price
                raise UserError(f"{given}: given beside --data; the column to predict is named by --target",
                                hint=f"nnrun init --data {quoted(data)} --target {quoted(given)}")
            if dataset is not None:
                raise UserError(f"{given}: given beside --dataset {dataset}; name the data set once",
                                hint=f"nnrun init {quoted(given)}, or nnrun init --dataset {quoted(dataset)}")
            if names_a_file(given):
                data = Path(given)
            else:
                dataset = given
        targets = list(dict.fromkeys(target or ()))  # one column named twice is that column
        if len(targets) > 1:
            raise UserError(f"--target given {len(targets)} times ({', '.join(targets)}): init writes a config for "
                            "one target column", hint="name one. For one-hot columns, write the class names into one "
                            "column and name that; for several values to predict (a regression of several "
                            "targets), write it for one of them, then list them all in the config: "
                            f"data.source.target: [{', '.join(targets)}]")
        notes: list[str] = []
        written = write_starter(dataset, output, data, targets[0] if targets else None, notes, stdout=sys.stdout)
        if written is not None:
            then = f"check it against the data with: nnrun validate {quoted(written)}" if data is not None else \
                f"train it with: nnrun train {quoted(written)}"
            typer.echo(f"wrote {written}; {then}")
        for note in notes:
            say_note(note)

    guard(action)


def layers(
    name: Optional[str] = typer.Argument(None, metavar="NAME", help="Show one family (layers, losses, optimizers, metrics, schedules, "
                                                    "sources, preprocessing) or one type."),
) -> None:
    """List every layer, loss, optimizer, metric, schedule, data source and preprocessing
    step with its options, defaults and descriptions.

    Example: nnrun layers dense
    """

    def action():
        from nnrun.console.catalog_view import print_catalog
        from nnrun.console.output import OutputConsole

        print_catalog(OutputConsole(), name)

    guard(action)


def schema(
    sweep_file: bool = typer.Option(False, "--sweep", help="The schema of a sweep file instead of a config."),
) -> None:
    """Print the JSON Schema of the config language (or of a sweep file), for editors.

    Example: nnrun schema > configs/nnrun.schema.json
    """

    def action():
        if sweep_file:
            import json

            from nnrun.config.sweep import json_schema

            typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
            return
        from nnrun.config.schema import json_schema_text

        typer.echo(json_schema_text(), nl=False)

    guard(action)


def datasets() -> None:
    """List the bundled data sets (data.source: {type: builtin, name: NAME}).

    Example: nnrun datasets
    """

    def action():
        from nnrun.console.catalog_view import print_datasets
        from nnrun.console.output import OutputConsole

        print_datasets(OutputConsole())

    guard(action)
