"""What training shows: a header, progress, a line per epoch, a closing summary.

Three reporters share one interface: ``RichReporter`` for a terminal (a live bar with
loss, redrawn at most ten times a second), ``PlainReporter`` for logs and pipes (one
line per epoch), and ``QuietReporter`` (the summary only, or nothing from the API).
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REDRAW_SECONDS = 0.1


def format_row(row: dict) -> str:
    shown = [f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "lr", "seconds")]
    return "  ".join(shown) + f"  ({row['seconds']:.2f}s)"


class Reporter:
    """Silent base: every hook does nothing."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console()

    def start(self, experiment, run_dir: Path) -> None: ...

    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None: ...

    def batch(self, index: int, loss: float) -> None: ...

    def epoch_end(self, row: dict) -> None: ...

    def finish(self, result) -> None: ...


class QuietReporter(Reporter):
    def __init__(self, console: Console | None = None, summary: bool = False):
        super().__init__(console)
        self.summary = summary

    def finish(self, result) -> None:
        if self.summary:
            print_summary(self.console, result)


class PlainReporter(Reporter):
    def start(self, experiment, run_dir: Path) -> None:
        print_header(self.console, experiment, run_dir)

    def epoch_start(self, epoch, epochs, batches):
        self.epoch, self.epochs = epoch, epochs

    def epoch_end(self, row):
        self.console.print(f"epoch {row['epoch']}/{self.epochs}  {format_row(row)}", highlight=False, soft_wrap=True)

    def finish(self, result):
        print_summary(self.console, result)


class RichReporter(PlainReporter):
    def start(self, experiment, run_dir):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        super().start(experiment, run_dir)
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(),
            console=self.console, transient=True, auto_refresh=False,
        )
        self.progress.start()
        self.task = None
        self.last_draw = 0.0

    def epoch_start(self, epoch, epochs, batches):
        super().epoch_start(epoch, epochs, batches)
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task("", total=batches, epoch=f"{epoch}/{epochs}", loss=float("nan"))

    def batch(self, index, loss):
        now = time.perf_counter()
        if now - self.last_draw >= REDRAW_SECONDS:
            self.progress.update(self.task, completed=index, loss=loss, refresh=True)
            self.last_draw = now

    def epoch_end(self, row):
        self.progress.update(self.task, completed=self.progress.tasks[-1].total)
        self.progress.console.print(
            f"epoch {row['epoch']}/{self.epochs}  {format_row(row)}", highlight=False, soft_wrap=True
        )

    def finish(self, result):
        self.progress.stop()
        super().finish(result)


def make_reporter(quiet: bool, console: Console | None = None, interactive: bool | None = None) -> Reporter:
    console = console or Console()
    if quiet:
        return QuietReporter(console)
    if interactive if interactive is not None else console.is_terminal:
        return RichReporter(console)
    return PlainReporter(console)


def print_header(console: Console, experiment, run_dir: Path) -> None:
    config, graph = experiment.config, experiment.graph
    sizes = ", ".join(f"{name} {len(part)}" for name, part in experiment.splits.items())
    console.print(f"[bold]nnrun[/] training [bold]{config.name}[/] -> {run_dir}")
    console.print(
        f"  samples: {sizes}; input {graph.input_shape} -> output {graph.output_shape}; "
        f"{graph.parameter_count:,} parameters",
        highlight=False,
    )


def print_summary(console: Console, result) -> None:
    metrics = list(next(iter(result.final.values())))
    table = Table(title="Final weights", title_justify="left")
    table.add_column("split")
    for name in metrics:
        table.add_column(name, justify="right")
    for split, scores in result.final.items():
        table.add_row(split, *(f"{scores[m]:.4f}" for m in metrics))
    console.print(table)
    epochs = len(result.history)
    note = f", best epoch {result.best_epoch}" if result.best_epoch else ""
    if result.stopped_early:
        note += " (stopped early)"
    console.print(f"{epochs} epochs in {result.seconds:.2f}s{note}", highlight=False)
    console.print(f"run directory: {result.run_dir}", highlight=False, soft_wrap=True)
    console.print(f"next: nnrun evaluate {result.run_dir}", highlight=False, soft_wrap=True)


def print_scores(console: Console, report: dict, run_dir) -> None:
    console.print(f"{run_dir}: {report['split']} split, {report['samples']} samples", highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in report["metrics"].items():
        table.add_row(name, f"{value:.4f}")
    console.print(table)
