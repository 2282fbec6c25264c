"""``nnrun layers`` and ``nnrun datasets``: the catalog as one table per family
(layers, losses, ...), and the bundled data sets."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nnrun.commands.catalog import WHERE, Entry, catalog, select
from nnrun.console.tables import FoldingTable
from nnrun.data.sources import describe_builtin


def family_table(family: str, entries: list[Entry]) -> Table:
    table = FoldingTable(title=f"{family} ({WHERE[family]})", title_justify="left", show_lines=True)
    table.add_column("type", style="bold")
    table.add_column("options")
    for entry in entries:
        lines = [escape(entry.summary)] if entry.summary else []
        for option in entry.options:
            default = "required" if option.default == "required" else f"default {option.default}"
            lines.append(f"[cyan]{option.name}[/] ({escape(option.kind)}; {escape(default)})"
                         + (f": {escape(option.description)}" if option.description else ""))
        table.add_row(entry.type, "\n".join(lines))
    return table


def print_catalog(console: Console, name: str | None = None) -> None:
    for family, entries in select(catalog(), name).items():
        console.print(family_table(family, entries))
        if family == "layers":
            console.print("Every layer also takes name (default <type>_<index>) and inputs (default: the "
                          "previous layer).", highlight=False, markup=False)


def print_datasets(console: Console) -> None:
    """The bundled data sets, for ``nnrun datasets``."""
    table = FoldingTable()
    columns = ("name", "samples", "features", "target", "task", "classes")
    for column in columns:
        table.add_column(column, justify="right" if column in ("samples", "classes") else "left")
    for row in describe_builtin():
        table.add_row(*(str(row[k]) if row[k] is not None else "-" for k in columns))
    console.print(table)
