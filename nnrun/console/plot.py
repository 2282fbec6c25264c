"""``nnrun plot RUN_DIR... [-o FILE]``: learning curves as a PNG.

One panel per quantity (loss, then each metric; three to a row), epochs on the x axis;
training as a solid line, validation dashed, one colour per run, and the best epoch
marked on every panel: the one early stopping chose, else the lowest validation loss
(training loss without a validation split). matplotlib is an
optional extra, imported only here and drawn with the file-only Agg backend, so the
command works without a display.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from nnrun.errors import UserError
from nnrun.store.history import metric_columns, read_metrics, run_best_row
from nnrun.store.rundir import RunDir

INSTALL_HINT = "install it with: pip install 'nnrun[plot]'  (or: pip install matplotlib)"
TITLE_CHARACTERS_PER_INCH = 9  # of a panel's title at matplotlib's default size, about
PANEL_INCHES = (5.0, 3.6)
PANELS_PER_ROW = 3


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UserError("nnrun plot needs matplotlib, which is not installed", hint=INSTALL_HINT) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def load_histories(run_dirs, notes: list[str] | None = None) -> tuple[list[tuple[str, list[dict]]], list]:
    """(label, rows) per run with a finished epoch, and those runs' folders. Of several
    runs (a sweep's trials, one failed in its first epoch), one without is left out and
    said in ``notes``; a run alone without one, or every run, is an error."""
    histories, drawn, empty = [], [], []
    runs = [RunDir.open(run_dir) for run_dir in run_dirs]
    for run_dir, run, label in zip(run_dirs, runs, _labels([run.path for run in runs])):
        rows = read_metrics(run.metrics)
        if rows:
            histories.append((label, rows))
            drawn.append(run_dir)
        else:
            empty.append(run)
    if empty and (not histories or notes is None):
        raise UserError(f"{empty[0].metrics}: no finished epoch to plot yet")
    if empty:
        notes.append(f"left out, with no finished epoch to plot: {', '.join(str(run.path) for run in empty)}")
    return histories, drawn


def _labels(paths: list[Path]) -> list[str]:
    """Each run's folder name, with as many folders above it as tell the runs apart (two
    sweeps' trials 000: ``a-search/trials/000`` and ``b-search/trials/000``)."""
    parts = [Path(path).resolve().parts for path in paths]
    for depth in range(1, max(map(len, parts)) + 1):
        labels = ["/".join(p[-depth:]) for p in parts]
        if len(set(labels)) == len(labels):
            return labels
    return [str(path) for path in paths]


def quantities(histories) -> list[str]:
    """Panels: loss first, then metrics, in the order the runs report them; last the
    learning rate, where a schedule changed it in some run."""
    names: list[str] = []
    for _, rows in histories:
        for key in metric_columns(rows[0]):
            name = key.removeprefix("val_")
            if name not in names:
                names.append(name)
    scheduled = any(len({row.get("lr") for row in rows}) > 1 for _, rows in histories)
    return sorted(names, key=lambda n: n != "loss") + ["lr"] * scheduled


def default_output(run_dirs) -> Path:
    """A single run's curves go into its directory; several runs' into ./curves.png."""
    return RunDir(Path(run_dirs[0])).curves if len(run_dirs) == 1 else Path("curves.png")


def check_output(output: Path, own: Path | None, force: bool) -> None:
    """Refuse a plot's file name that is not a PNG, or names a file already there,
    unless ``force`` or it is ``own``, the plot nnrun keeps in a run's or sweep's folder
    and redraws from its files."""
    if output.suffix.lower() != ".png":
        raise UserError(f"{output}: the plot is a PNG; give a file name ending in .png")
    if not output.parent.is_dir():
        raise UserError(f"{output.parent}: no such directory for the plot")
    if output.exists() and not force and (own is None or output.resolve() != own.resolve()):
        raise UserError(f"{output}: already exists; nnrun does not overwrite it",
                        hint="add --force to replace it, or choose another file with -o")


def loss_types(run_dirs) -> list[str]:
    """What each run's loss values measure, in order (see compare.loss_units_of: the loss
    by its scale, with its class weights and standardized targets); '?' where unreadable."""
    from nnrun.commands.compare import loss_units_of

    return [loss_units_of(Path(run_dir)) for run_dir in run_dirs]


def plot_runs(run_dirs, output: str | Path | None = None, force: bool = False,
              notes: list[str] | None = None) -> Path:
    """Draw the runs' curves and write the PNG; returns its path. ``notes`` gains what
    the picture cannot say: runs of different losses share the loss panel's scale."""
    if not run_dirs:
        raise UserError("nnrun plot: give at least one run directory")
    given = run_dirs
    histories, run_dirs = load_histories(run_dirs, notes)
    losses = loss_types(run_dirs)
    if len(set(losses)) > 1 and notes is not None:
        notes.append(f"the runs' losses are in different units ({', '.join(dict.fromkeys(losses))}): the loss panel puts "
                     "them on one scale, where a small loss can look flat; compare them by a metric they share")
    output = Path(output) if output is not None else default_output(given)
    check_output(output, RunDir(Path(given[0])).curves if len(given) == 1 else None, force)
    plt = _pyplot()
    panels = quantities(histories)
    # At most three panels a row, so many metrics wrap into a grid instead of a strip.
    across = min(len(panels), PANELS_PER_ROW)
    down = -(-len(panels) // across)
    figure, axes = plt.subplots(down, across, figsize=(PANEL_INCHES[0] * across, PANEL_INCHES[1] * down),
                                squeeze=False)
    axes = list(axes.flat)
    for unused in axes[len(panels):]:
        unused.set_visible(False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    bests = [run_best_row(RunDir.open(run_dir).path, rows) for run_dir, (_, rows) in zip(run_dirs, histories)]
    for index, (_, rows) in enumerate(histories):
        for axis, name in zip(axes, panels):
            _draw(axis, rows, name, colours[index % len(colours)], bests[index])
    from matplotlib.ticker import MaxNLocator

    for axis, name in zip(axes, panels):
        title = f"loss ({losses[0]})" if name == "loss" and len(set(losses)) == 1 else \
            "learning rate" if name == "lr" else name
        # Wrapped to the panel: a weighted loss's title ran past the figure's edge, its start cut off.
        axis.set_title("\n".join(textwrap.wrap(title, int(PANEL_INCHES[0] * TITLE_CHARACTERS_PER_INCH))))
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole: no tick at 2.5
        axis.grid(alpha=0.3)
    handles = _legend_handles(histories, colours, bests)
    # The legend sits under the panels, in up to four columns, so it never hides a curve.
    columns = 4 if len(handles) == 4 else 3
    rows_of_legend = -(-len(handles) // columns)
    legend_inches = 0.22 * rows_of_legend + 0.15
    height = PANEL_INCHES[1] * down + legend_inches
    figure.set_figheight(height)
    figure.legend(handles=handles, loc="lower center", ncol=columns, fontsize="small", frameon=False)
    figure.suptitle(histories[0][0] if len(histories) == 1 else f"{len(histories)} runs")
    figure.tight_layout(rect=(0, legend_inches / height, 1, 1))
    return saved(figure, output)


def saved(figure, output: Path) -> Path:
    """Write ``figure`` to ``output`` as a PNG and close it. Written next to the target,
    then renamed: an interrupted plot leaves no torn PNG."""
    temp = output.with_name(f".{output.name}.tmp.png")
    try:
        figure.savefig(temp, dpi=100)
        temp.replace(output)
    except OSError as exc:  # a read-only or full folder: told of the file asked for, not the temporary one
        raise UserError(f"{output}: cannot write the plot ({exc.strerror or exc})",
                        hint="write it elsewhere with -o FILE.png") from None
    finally:
        _pyplot().close(figure)
        temp.unlink(missing_ok=True)
    return output


def _draw(axis, rows, name, colour, best) -> None:
    epochs = [r["epoch"] for r in rows]
    if name in rows[0]:
        axis.plot(epochs, [r[name] for r in rows], color=colour)
    if f"val_{name}" in rows[0]:
        axis.plot(epochs, [r[f"val_{name}"] for r in rows], color=colour, linestyle="--")
    if best is not None:
        key = f"val_{name}" if f"val_{name}" in best else name
        if key in best:
            axis.axvline(best["epoch"], color=colour, alpha=0.35, linewidth=1)
            axis.plot([best["epoch"]], [best[key]], marker="o", color=colour)


def _legend_handles(histories, colours, bests) -> list:
    """What the line styles mean, then one colour per run with its best epoch."""
    from matplotlib.lines import Line2D

    grey = "0.3"
    handles = [
        Line2D([], [], color=grey, label="train"),
        Line2D([], [], color=grey, linestyle="--", label="validation"),
        Line2D([], [], color=grey, marker="o", linestyle="", label="best epoch"),
    ]
    for index, ((label, _), best) in enumerate(zip(histories, bests)):
        at = f" (best epoch {best['epoch']})" if best else ""
        name = label if len(histories) > 1 else "this run"
        handles.append(Line2D([], [], color=colours[index % len(colours)], linewidth=3, label=f"{name}{at}"))
    return handles
