"""``nnrun runs``: the table of runs, newest first, with status and key metrics."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nnrun.commands.runs import RunEntry, folders_of_runs, list_runs, listed_as
from nnrun.commands.runs_view import SORTS, RunsView
from nnrun.console.compare_view import config_text
from nnrun.console.numbers import number
from nnrun.console.output import say_note
from nnrun.errors import quoted

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


COLUMNS = ("run", "status", "epochs", "metric", "best val", "test", "time")
RUN_WIDTH = 12  # the run's name may wrap, down to this width; no other cell is cut
# Left out in this order where the terminal is too narrow for all: rich would otherwise
# squeeze some to nothing, the run's name first, or cut numbers short.
OPTIONAL = ("time", "epochs", "metric", "test")  # the metric's name stays while its values do, where it can


def runs_table(runs: list[RunEntry], root: Path | None, width: int | None = None,
               view: RunsView | None = None) -> tuple[Table, tuple[str, ...]]:
    """One row per run: the metric shown is the one asked for, else the one its early
    stopping watches, else its first configured one, else the loss;
    "best val" is its best validation value and the epoch it was reached at; then the
    settings ``view`` shows. Within ``width`` characters, with the columns left out to fit it."""
    view = view or RunsView()
    settings = view.columns
    columns = COLUMNS[:-1] + tuple(settings) + COLUMNS[-1:]
    rows = [{**_cells(run), **{path: _setting(run, path) for path in settings}} for run in runs]
    if root is None:  # runs named one by one, perhaps of several folders (runs/*/trials/*): each as given
        for row, run in zip(rows, runs):
            row["run"] = str(run.path)
    left_out: tuple[str, ...] = ()
    # The settings go after time and epochs, the last first (the one sorted by never: the order
    # would be left unexplained), then the metric, the test value last of all.
    dropped = tuple(path for path in reversed(settings) if path != view.sort)
    for column in OPTIONAL[:2] + dropped + OPTIONAL[2:]:
        if width is None or _needed(rows, left_out, columns) <= width:
            break
        left_out += (column,)
    # A sweep's folder lists its trials as its leaderboard (see list_runs).
    sweep = root is not None and listed_as(root) == "sweep"  # not a folder of runs beside a sweep file of one's own
    ranked = any(run.values is not None for run in runs)  # the sweep's files read: its leaderboard
    kind, order = ("Trials" if sweep else "Runs", "best first" if ranked else
                   "newest first (the sweep's trials.csv or sweep.yaml is unreadable)" if sweep else "newest first")
    if view.sort is not None:
        by = f"{view.sort} {view.metric}" if view.sort in ("best", "test") and view.metric else view.sort
        order = f"sorted by {by}" + (f", {SORTS[view.sort]}" if view.sort in SORTS else "") + \
            (", reversed" if view.reverse else "")
    elif view.reverse:
        order = "worst first" if ranked else "oldest first"
    where = f"in {escape(str(root).rstrip('/') + '/')}" if root is not None else "given"
    table = Table(title=f"{kind} {where}, {order}", title_justify="left",
                  box=None, padding=(0, 1), pad_edge=False, header_style="bold underline")
    shown = [column for column in columns if column not in left_out]
    # Only the run name may wrap (it is long and unique); every other cell stays whole,
    # unless even the columns left are too wide: then they wrap too, rather than be cut.
    squeezed = width is not None and _needed(rows, left_out, columns) > width
    for column in shown:
        wraps = column == "run" or squeezed
        table.add_column(escape(column), justify="left" if column in ("run", "status", "metric") else "right",
                         no_wrap=not wraps, overflow="fold" if wraps else "ellipsis",
                         min_width=RUN_WIDTH if column == "run" else None)
    for run, cells in zip(runs, rows):
        cells = {**{column: escape(text) for column, text in cells.items()},
                 "status": f"[{STATUS_STYLE.get(run.status, 'dim')}]{escape(run.status)}[/]"}
        table.add_row(*(cells[column] for column in shown))
    return table, left_out


def _cells(run: RunEntry) -> dict[str, str]:
    best = "-" if run.best_validation is None else f"{number(run.best_validation)} @{run.best_epoch}"
    if run.best_trial is not None:  # a sweep: its best trial instead of an epoch
        best = f"{number(run.best_validation)} trial {run.best_trial}"
    metric = run.metric if run.epochs or run.test is not None or run.best_trial else "-"
    epochs = str(run.epochs)
    if run.best_trial is not None or run.status.startswith("sweep"):  # a sweep: its trials, of all it plans
        epochs = f"{run.epochs} of {run.planned} trials" if run.planned and run.epochs < run.planned else \
            f"{run.epochs} trials"
    if run.saved_epochs is not None:  # its weights and --resume are those of an earlier epoch
        epochs += f" ({run.saved_epochs} saved)" if run.saved_epochs >= 0 else " (none saved)"
    return {"run": run.path.name, "status": run.status, "epochs": epochs, "metric": metric, "best val": best,
            "test": "-" if run.test is None else number(run.test), "time": format_duration(run.seconds)}


def _setting(run: RunEntry, path: str) -> str:
    """A setting's cell: as the YAML file says it, a text unquoted (a column of them reads
    plainly), a float to six significant digits; "-" where the run has no such setting
    (or no config: a sweep)."""
    if run.config is None or path not in run.config:
        return "-"
    value = run.config[path]
    if isinstance(value, float):  # a sweep's draw to six digits, not seventeen (--json keeps every one)
        return f"{value:.6g}"
    return value if isinstance(value, str) else config_text(value, markup=False)


def _needed(rows: list[dict[str, str]], left_out: tuple[str, ...], columns: tuple[str, ...] = COLUMNS) -> int:
    """The width the table takes with every cell but the run's name whole."""
    shown = [column for column in columns if column not in left_out]
    widths = [RUN_WIDTH if column == "run" else max(len(column), *(len(row[column]) for row in rows))
              for column in shown]
    return sum(widths) + 2 * (len(shown) - 1)  # a space each side of every column but at the edges


def print_runs(console: Console, root: str | Path | None = "runs", view: RunsView | None = None,
               listed: list[RunEntry] | None = None) -> None:
    """The table of the runs in ``root``, or of those ``listed`` (``root`` None: run
    directories named one by one)."""
    view = view or RunsView()
    runs, notes = view.apply(listed if listed is not None else list_runs(root, view.metric))
    nested = folders_of_runs(root) if root is not None else []
    if nested:  # said beside the table: listing them would mix runs of other folders into this one's
        shown = ", ".join(str(folder) for folder in nested[:5]) + (", ..." if len(nested) > 5 else "")
        say_note(f"{shown} hold{'s' if len(nested) == 1 else ''} runs of {'its' if len(nested) == 1 else 'their'} "
                 f"own: nnrun runs {quoted(nested[0])} lists them")
    for note in notes:
        say_note(note)
    if not runs:
        among = f"in {root}" if root is not None else "among those given"
        if view.statuses or view.tags:
            tagged = f" tagged {' and '.join(view.tags)}" if view.tags else ""
            console.print(f"no {' or '.join(view.statuses)}{' ' * bool(view.statuses)}runs{tagged} {among}",
                          highlight=False, markup=False)
            return
        console.print(f"no runs {among}; start one with: nnrun train CONFIG", highlight=False, markup=False)
        return
    table, left_out = runs_table(runs, Path(root) if root is not None else None, console.width, view)
    # The title above it, at the console's width: at the table's own, a narrow table broke it mid-phrase.
    title, table.title = table.title, None
    console.print(title, soft_wrap=True)
    console.print(table)
    if left_out:
        say_note(f"too narrow for every column ({console.width} characters): left out {', '.join(left_out)}; "
                 "widen the terminal, or read every field with --json")
