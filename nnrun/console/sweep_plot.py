"""``nnrun plot SWEEP_DIR [-o FILE]``: the sweep's metric against each parameter.

One panel per parameter that varies (none for a constant): each finished trial is a point at (its value, its best value
of the metric), coloured by status (completed, pruned, failed trials have no value and
are left out); a log axis for log-uniform parameters, one tick per value for a choice or
a grid (in order, numbers as the sweep file writes them); the best trial ringed. Written to
``SWEEP_DIR/sweep.png`` unless ``-o`` says otherwise.
"""

from __future__ import annotations

import math

from pathlib import Path

from nnrun.commands.sweep.listing import read_sweep
from nnrun.console.plot import PANEL_INCHES, PANELS_PER_ROW, _pyplot, check_output, saved
from nnrun.errors import UserError

COLOURS = {"completed": "tab:blue", "pruned": "tab:orange"}


def is_sweep_dir(path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / "sweep.yaml").is_file() and (path / "trials.csv").is_file()


def points(rows: list[dict], parameter: str, metric: str) -> list[tuple]:
    """(x, y, status) of each trial with a value; categorical x values stay text."""
    found = []
    for row in rows:
        try:
            y = float(row[metric])
        except (KeyError, ValueError):
            continue
        if not math.isfinite(y):  # a failed trial's last value: no point to draw
            continue
        text = row.get(parameter, "")
        try:
            x = float(text)
        except ValueError:
            x = text
        found.append((x, y, row.get("status", ""), row.get("trial", "")))
    return found


def plot_sweep(sweep_dir, output: str | Path | None = None, force: bool = False) -> Path:
    read = read_sweep(Path(sweep_dir))
    if read is None:
        raise UserError(f"{sweep_dir}: sweep.yaml or trials.csv cannot be read")
    sweep, rows = read
    metric, higher = sweep["metric"], sweep.get("mode") == "max"
    own = Path(sweep_dir) / "sweep.png"
    output = Path(output) if output is not None else own
    check_output(output, own, force)
    parameters = [name for name, spec in sweep["parameters"].items() if not _is_constant(spec)]
    if not parameters:
        raise UserError(f"{sweep_dir}: every parameter of the sweep is a constant; there is nothing to plot "
                        "the metric against")
    if not any(status in COLOURS for _, _, status, _ in points(rows, parameters[0], metric)):
        raise UserError(f"{sweep_dir}: no completed or pruned trial has a value of {metric} to plot yet",
                        hint=f"the trials' messages say why: {Path(sweep_dir) / 'trials.csv'}, or nnrun runs "
                             f"{sweep_dir}")
    plt = _pyplot()
    across = min(len(parameters), PANELS_PER_ROW)
    down = -(-len(parameters) // across)
    figure, axes = plt.subplots(down, across, figsize=(PANEL_INCHES[0] * across, PANEL_INCHES[1] * down),
                                squeeze=False)
    axes = list(axes.flat)
    for unused in axes[len(parameters):]:
        unused.set_visible(False)
    for axis, parameter in zip(axes, parameters):
        _panel(axis, points(rows, parameter, metric), sweep["parameters"][parameter], higher)
        axis.set_xlabel(parameter)
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
    figure.suptitle(f"{Path(sweep_dir).name}: {metric} ({'higher' if higher else 'lower'} is better)")
    figure.tight_layout()
    return saved(figure, output)


def _is_constant(spec: dict) -> bool:
    """A parameter every trial sets to the same value (``training.epochs: 60``): a
    panel of it would be one column of points, so it gets none."""
    return spec.get("type") in ("choice", "grid") and len(spec.get("values", ())) == 1


def _panel(axis, found: list[tuple], spec: dict, higher: bool) -> None:
    # A choice or grid (or any text) has a few values, each its own tick: a continuous
    # axis would stretch 8 and 16 apart and give a single value a meaningless range.
    discrete = spec.get("type") in ("choice", "grid") or any(isinstance(x, str) for x, *_ in found)
    values = sorted({x for x, *_ in found}, key=lambda v: (1, 0.0, v) if isinstance(v, str) else (0, v, ""))
    place = {v: i for i, v in enumerate(values)}
    where = (lambda x: place[x]) if discrete else (lambda x: x)
    for status, colour in COLOURS.items():
        chosen = [(x, y) for x, y, s, _ in found if s == status]
        if chosen:
            axis.scatter([where(x) for x, _ in chosen], [y for _, y in chosen], color=colour, label=status, s=24,
                         alpha=0.8)
    completed = [(x, y) for x, y, s, _ in found if s == "completed"]
    if completed:
        x, y = (max if higher else min)(completed, key=lambda p: p[1])
        axis.scatter([where(x)], [y], s=120, facecolors="none", edgecolors="black", label="best")
    if discrete:
        axis.set_xticks(range(len(values)), [tick_label(v) for v in values])
        axis.set_xlim(-0.5, len(values) - 0.5)
    elif spec.get("type") == "loguniform":
        from matplotlib.ticker import NullFormatter

        axis.set_xscale("log")
        axis.xaxis.set_minor_formatter(NullFormatter())  # labels on the decades only: they overlapped
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize="small")


def tick_label(value) -> str:
    """A value as the sweep file writes it: 16, not 16.0; 0.001, not 1e-03."""
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
