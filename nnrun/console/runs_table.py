"""``nnrun runs``: the table of runs, newest first, with status and key metrics."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nnrun.commands.runs import RunEntry, list_runs
from nnrun.console.numbers import number

STATUS_STYLE = {"completed": "green", "failed": "red", "interrupted": "yellow", "running": "cyan", "killed": "red"}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return "<1s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def runs_table(runs: list[RunEntry], root: Path) -> Table:
    """One row per run: the metric shown is its first configured one, else the loss;
    "best val" is its best validation value and the epoch it was reached at."""
    table = Table(title=f"Runs in {escape(str(root).rstrip('/') + '/')}, newest first", title_justify="left",
                  box=None, padding=(0, 1), pad_edge=False, header_style="bold underline")
    for column in ("run", "status", "epochs", "metric", "best val", "test", "time"):
        # Only the run name may wrap (it is long and unique); every other cell stays whole.
        table.add_column(column, justify="left" if column in ("run", "status", "metric") else "right",
                         no_wrap=column != "run", overflow="fold" if column == "run" else "ellipsis",
                         min_width=12 if column == "run" else None)
    for run in runs:
        best = "-" if run.best_validation is None else f"{number(run.best_validation)} @{run.best_epoch}"
        if run.best_trial is not None:  # a sweep: its best trial instead of an epoch
            best = f"{number(run.best_validation)} trial {run.best_trial}"
        test = "-" if run.test is None else number(run.test)
        status = f"[{STATUS_STYLE.get(run.status, 'dim')}]{escape(run.status)}[/]"
        metric = escape(run.metric) if run.epochs or run.test is not None or run.best_trial else "-"
        epochs = f"{run.epochs} trials" if run.best_trial is not None or run.status.startswith("sweep") else str(run.epochs)
        if run.saved_epochs is not None:  # its weights and --resume are those of an earlier epoch
            epochs += f" ({run.saved_epochs} saved)" if run.saved_epochs >= 0 else " (none saved)"
        table.add_row(escape(run.path.name), status, epochs, metric, best, test,
                      format_duration(run.seconds))
    return table


def print_runs(console: Console, root: str | Path = "runs") -> None:
    runs = list_runs(root)
    if not runs:
        console.print(f"no runs in {root}; start one with: nnrun train CONFIG", highlight=False, markup=False)
        return
    console.print(runs_table(runs, Path(root)))
