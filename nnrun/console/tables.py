"""The tables nnrun prints. A value that does not fit its column folds onto the next
line, never cut short with an ellipsis (rich's default): a report saved from a narrow
terminal, or a CI log at COLUMNS=80, holds every digit and every name. Numbers and
short names are never split at all: the console lays a table out wider than its width
first (see :meth:`nnrun.console.output.OutputConsole.print`)."""

from __future__ import annotations

from rich.table import Table


class FoldingTable(Table):
    def add_column(self, *args, **kwargs) -> None:
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)
