"""``nnrun compare RUN_A RUN_B``: the config differences beside what they did to the
metrics, side by side when the terminal is wide enough."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from nnrun.commands.compare import compare
from nnrun.console.numbers import number, signed
from nnrun.console.output import say_note
from nnrun.console.tables import FoldingTable
from nnrun.config.diff import MISSING

GAP = 4  # spaces between the config and metric tables
LONGEST_PATH = 48  # characters of a config path kept on one line


def config_text(value, markup: bool = True) -> str:
    """A config value as the YAML file says it (null, true), a text quoted; escaped for
    rich's markup unless ``markup`` is False."""
    if value is MISSING:
        return "(absent)"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (dict, list)):  # a whole block one run turned off, or a list: as the config writes it
        from nnrun.config.yaml_writer import one_line

        text = one_line(value)  # however long: YAML's own wrap at 80 characters would break a table's cell
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    return escape(text) if markup else text


def config_table(differences, ran=()) -> Table:
    """A row per differing key. The path (what --set takes) is never cut: its column is
    as wide as the longest (up to LONGEST_PATH); the values fold onto more lines where
    the terminal is narrow, rather than end in '…'."""
    table = FoldingTable(title="Config differences", title_justify="left", min_width=24)
    longest = max((len(path) for path, _, _ in differences), default=4)
    table.add_column("path", min_width=min(longest, LONGEST_PATH), overflow="fold")
    for column in ("A", "B"):
        table.add_column(column, overflow="fold")
    for path, a, b in differences:
        table.add_row(escape(path), config_text(a), config_text(b))
    if not differences:
        table.add_row("(configs identical)", "", "")
    for what, a, b in ran:  # not the config's, but they change the rounding, hence the weights
        table.add_row(f"[dim](ran with)[/] {escape(what)}", str(a), str(b))
    return table


def metric_table(a: dict, b: dict) -> Table:
    table = FoldingTable(title="Metrics", title_justify="left")
    for column in ("metric", "A", "B", "B - A"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for key in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(key), b.get(key)
        cells = [_metric_cell(va), _metric_cell(vb)]
        delta = signed(vb - va) if isinstance(va, float) and isinstance(vb, float) else (
            f"{vb - va:+d}" if isinstance(va, int) and isinstance(vb, int) else "")
        table.add_row(escape(key), *cells, delta)
    return table


def _metric_cell(value) -> str:
    if value is None:
        return "-"
    return number(value) if isinstance(value, float) else str(value)


def print_comparison(console: Console, run_a, run_b) -> None:
    result = compare(run_a, run_b)
    console.print(f"A: {run_a}\nB: {run_b}", highlight=False, markup=False, soft_wrap=True)
    tables = config_table(result.differences, result.ran), metric_table(result.metrics_a, result.metrics_b)
    needed = sum(console.measure(table).maximum for table in tables) + GAP
    # Measured without the terminal's bound, which a measurement is clamped to.
    unbounded = console.options.update(max_width=10_000)
    if console.measure(tables[0], options=unbounded).minimum > console.width:  # not even alone: a line a key
        console.print("Config differences", style="italic", highlight=False)
        for path, a, b in result.differences or [("(configs identical)", MISSING, MISSING)]:
            change = "" if a is MISSING and b is MISSING else f": {config_text(a)} -> {config_text(b)}"
            console.print(f"  {escape(path)}{change}", highlight=False, soft_wrap=True)
        for what, a, b in result.ran:
            console.print(f"  (ran with) {escape(what)}: {a} -> {b}", highlight=False, soft_wrap=True)
        console.print(tables[1])
    elif needed > console.width:  # too narrow to stand side by side: one above the other
        console.print(Group(*tables))
    else:
        side_by_side = Table.grid(padding=(0, GAP))
        side_by_side.add_row(*tables)
        console.print(side_by_side)
    console.print(f"weights: {result.weights}", highlight=False, markup=False, soft_wrap=True)
    if result.loss_units:
        say_note(result.loss_units)
    if result.positives:
        say_note(result.positives)
    if result.other_rows:
        said = " and ".join(result.other_rows)
        say_note(f"the runs' {said} splits hold other rows (their split or seed differ): their {said} scores are of "
                 "other samples, not the same samples scored twice")
    for config in result.edited:
        say_note(f"{config} was changed since its run wrote it: it may no longer describe the run's weights and "
                 "metrics (nnrun evaluate refuses it)")
    if result.same_data is False:
        say_note("the runs trained on different data (their data fingerprints differ, with the same seed and data "
                 "settings: a data file changed between them), so the metrics differ by more than the config")
