"""``nnrun sweep``: a hyperparameter search, or the rest of a stopped one."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from nnrun.cli.guard import guard


def sweep(
    sweep_file: Optional[Path] = typer.Argument(
        None, metavar="SWEEP.yaml", help="The sweep file (optional with --resume).", show_default=False
    ),
    resume: Optional[Path] = typer.Option(
        None, "--resume", help="Finish this sweep directory: finished trials are kept, interrupted ones resumed.",
        show_default=False,
    ),
    run_dir: Optional[Path] = typer.Option(
        None, "--run-dir", help="Write the sweep here instead of runs/<name>-<time>/ (a new or empty folder).",
        show_default=False,
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", help="Trials at once on this machine, in place of the sweep file's "
        "executor.workers (a resumed sweep too: no trial's result changes with them).", show_default=False,
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print no trial's progress, only failed trials, the leaderboard and the summary."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (sweep directory, best trial, trials "
                                 "by status) on standard output; the progress and leaderboard go to standard error."),
) -> None:
    """Search hyperparameters: run a sweep file's trials in parallel into runs/<name>-<time>/.

    The sweep directory holds sweep.yaml, trials.csv, trials/<id>/ (one run directory per
    trial) and best.yaml (retrain the best trial: nnrun train DIR/best.yaml). Exit code 0
    if a trial completed, 1 if none did, 2 for a bad sweep file, 130 when stopped.

    Example: nnrun sweep configs/sweeps/iris.yaml

    \b
    Finish a stopped sweep: nnrun sweep --resume runs/iris-search-20260101-120000
    """

    def action():
        from nnrun.commands.sweep.runner import run_sweep
        from nnrun.console.output import OutputConsole
        from nnrun.console.sweep_view import make_view
        from nnrun.errors import UserError

        if sweep_file is None and resume is None:
            raise UserError("missing SWEEP.yaml: give a sweep file, or --resume SWEEP_DIR to finish a sweep",
                            hint="nnrun sweep configs/sweeps/iris.yaml")
        view = make_view(OutputConsole(stderr=True) if as_json else None, quiet=quiet)  # standard output: the JSON
        try:
            result = run_sweep(sweep_file, resume=resume, view=view, run_dir=run_dir, workers=workers)
        finally:
            view.close()
        if as_json:
            from nnrun.console.results import print_sweep_json

            print_sweep_json(result)

    guard(action)
