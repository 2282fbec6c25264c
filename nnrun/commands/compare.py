"""``nnrun compare RUN_A RUN_B``: what differs in the configs, beside what it did to
the metrics.

Configs are compared after resolution (``config.yaml`` in a run has every default
filled in), flattened to dotted paths such as ``optimizer.learning_rate`` or
``model.layers.0.units``, so a difference is named exactly as ``--set`` would name it.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from nnrun.store import rundir
from nnrun.config.diff import MISSING, config_differences
from nnrun.config.loader import read_yaml
from nnrun.errors import UserError
from nnrun.store.history import read_metrics, run_best_row

GAP = 4  # spaces between the config and metric tables


def run_metrics(path: Path) -> dict[str, float]:
    """Flat ``split.metric`` -> value from meta.json's final scores, plus the best
    epoch and the epoch count from metrics.csv."""
    meta = rundir.read_json(path / "meta.json")
    final = meta.get("final") if isinstance(meta, dict) else None
    values: dict[str, float] = {}
    for split, scores in (final or {}).items():
        for name, value in (scores or {}).items():
            values[f"{split}.{name}"] = value
    history = read_metrics(path / "metrics.csv")
    best = run_best_row(path, history)
    values["epochs"] = len(history)
    if best is not None:
        values["best_epoch"] = best["epoch"]
    return values


def _show(value) -> str:
    return "(absent)" if value is MISSING else escape(repr(value) if isinstance(value, str) else str(value))


def config_table(differences) -> Table:
    table = Table(title="Config differences", title_justify="left", min_width=24)
    for column in ("path", "A", "B"):
        table.add_column(column)
    for path, a, b in differences:
        table.add_row(escape(path), _show(a), _show(b))
    if not differences:
        table.add_row("(identical)", "", "")
    return table


def metric_table(a: dict, b: dict) -> Table:
    table = Table(title="Metrics", title_justify="left")
    for column in ("metric", "A", "B", "B - A"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for key in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(key), b.get(key)
        cells = [_metric_cell(va), _metric_cell(vb)]
        delta = f"{vb - va:+.4f}" if isinstance(va, float) and isinstance(vb, float) else (
            f"{vb - va:+d}" if isinstance(va, int) and isinstance(vb, int) else "")
        table.add_row(escape(key), *cells, delta)
    return table


def _metric_cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def compare(run_a: str | Path, run_b: str | Path) -> tuple[list, dict, dict]:
    path_a, path_b = rundir.open_existing(run_a), rundir.open_existing(run_b)
    configs = []
    for path in (path_a, path_b):
        data = read_yaml(path / "config.yaml")[0]
        if not isinstance(data, dict):
            raise UserError(f"{path / 'config.yaml'}: not a config (expected a mapping of sections)")
        configs.append(data)
    return config_differences(*configs), run_metrics(path_a), run_metrics(path_b)


def print_comparison(console: Console, run_a, run_b) -> None:
    differences, metrics_a, metrics_b = compare(run_a, run_b)
    console.print(f"A: {run_a}\nB: {run_b}", highlight=False, markup=False, soft_wrap=True)
    tables = config_table(differences), metric_table(metrics_a, metrics_b)
    needed = sum(console.measure(table).maximum for table in tables) + GAP
    if needed > console.width:  # too narrow to stand side by side: one above the other
        console.print(Group(*tables))
        return
    side_by_side = Table.grid(padding=(0, GAP))
    side_by_side.add_row(*tables)
    console.print(side_by_side)
