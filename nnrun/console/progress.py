"""What training shows: a header, progress, a line per epoch, then the results.

Three displays share one interface: ``LiveDisplay`` for a terminal (a bar for the
whole run and one for the current epoch, with ETA and live loss, redrawn at most ten
times a second, and a line printed above them as each epoch ends), ``LineDisplay``
for logs and pipes (the same lines, no bar), and ``QuietDisplay`` (the results only,
or nothing from the Python API).
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from nnrun.console.numbers import number
from nnrun.console.output import OutputConsole, on_screen, say_note
from nnrun.console.results import print_results
from nnrun.data.labels import class_list
from nnrun.engine.distributed import launched_size
from nnrun.engine.hooks import SilentHooks
from nnrun.model.monitor import Monitor, default_key
from nnrun.model.target_scale import COMPARED_WITH
from nnrun.store.history import format_seconds, metric_columns

REDRAW_SECONDS = 0.1


def format_row(row: dict, rate: bool = False) -> str:
    """``loss 0.4123  accuracy 0.9000  val_loss 0.3900 ...  (0.01s)``; with ``rate``, the
    epoch's learning rate before the time (``lr 0.0005``)."""
    shown = [f"{k} {number(row[k])}" for k in metric_columns(row)] + ([f"lr {row['lr']:g}"] if rate and "lr" in row
                                                                      else [])
    return "  ".join(shown) + f"  ({format_seconds(row['seconds'])})"


class Display(SilentHooks):
    """The engine's training hooks (:class:`~nnrun.engine.hooks.TrainingHooks`) on a
    rich console. This base shows nothing but warnings; ``start`` keeps the experiment
    so the results can say what early stopping did, ``resumed`` the epoch a resumed run
    continued after, so they can tell the time since the resume from the whole run's."""

    def __init__(self, console: Console | None = None):
        self.console = console or OutputConsole()
        self.experiment = None
        self.resumed_after: int | None = None

    def start(self, experiment, run_dir: Path) -> None:
        self.experiment = experiment

    def resumed(self, epoch, checkpoint, history) -> None:
        self.resumed_after = epoch

    def warn(self, message: str) -> None:
        say_note(message, "warning")


class QuietDisplay(Display):
    """No header and no epochs; the data's warnings still show (on stderr), since a
    quiet run in a pipeline is exactly where nobody would read them otherwise."""

    def __init__(self, console: Console | None = None, results: bool = False):
        super().__init__(console)
        self.results = results

    def start(self, experiment, run_dir: Path) -> None:
        super().start(experiment, run_dir)
        for warning in experiment.warnings:
            self.warn(warning)

    def finish(self, result) -> None:
        if self.results:
            print_results(self.console, result, self.experiment, self.resumed_after)


class LineDisplay(Display):
    """One line per epoch; the monitored quantity's new bests are marked with ``*``
    (early stopping's monitor, else the validation loss)."""

    monitored: Monitor | None = None  # set by start()

    def start(self, experiment, run_dir: Path) -> None:
        super().start(experiment, run_dir)
        print_header(self.console, experiment, run_dir)
        self.best = None
        # The quantity early stopping watches, whose best epoch the run keeps, else the
        # validation loss (the training loss without a validation split).
        stopping = experiment.config.training.early_stopping
        self.monitored = Monitor(stopping.monitor, stopping.min_delta) if stopping else None

    def _monitor(self, row: dict) -> Monitor:
        monitored = self.monitored  # with early stopping's min_delta: the bests it counts
        return monitored if monitored is not None and monitored.key in row else Monitor(default_key(row))

    def resumed(self, epoch, checkpoint, history):
        """Say where training continues, and carry on the new-best marker from the
        epochs before: the first epoch after a resume is starred only if it beats them."""
        super().resumed(epoch, checkpoint, history)
        self.console.print(f"resuming after epoch {epoch} from {checkpoint}", highlight=False, soft_wrap=True)
        if history:
            monitor = self._monitor(history[0])
            best = monitor.best_row(history)
            self.best = monitor.score(best) if best else None

    def epoch_start(self, epoch, epochs, batches):
        self.epoch, self.epochs = epoch, epochs

    def epoch_line(self, row: dict) -> str:
        monitor = self._monitor(row)
        improved = monitor.improves(row, self.best)
        self.best = monitor.score(row) if improved else self.best
        width = len(str(self.epochs))
        schedule = self.experiment.config.training.schedule if self.experiment is not None else None
        line = format_row(row, rate=schedule is not None and schedule.type != "constant")  # the rate it gave
        return f"epoch {row['epoch']:>{width}}/{self.epochs}  {line}{' *' if improved else ''}"

    def epoch_end(self, row):
        # Plain text, written as it is: rich's print of the same line (no markup, no
        # highlighting, no wrapping) took 0.14 ms, more than a small model's epoch.
        out = self.console.file
        try:
            out.write(self.epoch_line(row) + "\n")
            out.flush()
        except BrokenPipeError:  # the reader left (`nnrun train | head`): rich's own prints
            self.console.on_broken_pipe()  # handle this, but not a write that bypasses them

    def finish(self, result):
        print_results(self.console, result, self.experiment, self.resumed_after)


class LiveDisplay(LineDisplay):
    """Two live bars (the run, the current epoch) under the epoch lines. Drawing costs
    far more than a short epoch, so the bars are redrawn at most every
    ``REDRAW_SECONDS``, and the epoch lines that finished in between are printed
    together with that redraw: the display's cost is bounded by its redraw rate, not by
    the number of epochs or batches."""

    def start(self, experiment, run_dir):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.table import Column

        class Bars(Progress):
            """rich's Progress renders on every reset() and add_task(), auto_refresh or
            not: once an epoch, which made a run of 1-ms epochs three times as slow as
            with --quiet. These bars render when :meth:`LiveDisplay.draw` says."""

            def refresh(self) -> None:
                pass

            def render_now(self) -> None:
                super().refresh()

        super().start(experiment, run_dir)
        epochs = experiment.config.training.epochs
        # The counts and the ETA are never cut: the losses on the right give way first
        # (their column takes what is left of the line), then the bar, down to 10 wide.
        counts = len(f"{epochs}/{epochs}")
        fixed = len(f"epoch {epochs}") + counts + len(" ETA -:--:-- ") + 4  # the columns and the gaps between
        self.progress = Bars(
            TextColumn("{task.description:>9}"), BarColumn(bar_width=max(10, min(30, self.console.width - fixed - 24))),
            MofNCompleteColumn(table_column=Column(min_width=counts, no_wrap=True)),
            TextColumn("ETA"), TimeRemainingColumn(),
            TextColumn("{task.fields[info]}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
            console=self.console, transient=True, auto_refresh=False, expand=True,
        )
        self.run_task = self.progress.add_task("training", total=epochs, info="")
        self.task = None
        self.last_draw = 0.0
        self.pending: list[str] = []  # epoch lines not yet printed
        self.progress.start()

    def epoch_start(self, epoch, epochs, batches):
        super().epoch_start(epoch, epochs, batches)
        if self.task is None:
            self.task = self.progress.add_task("", total=batches, info="")
        self.progress.reset(self.task, total=batches, description=f"epoch {epoch}", info="")
        self.loss_sum = 0.0

    def batch(self, index, loss):
        self.loss_sum += loss
        if time.perf_counter() - self.last_draw >= REDRAW_SECONDS:
            self.progress.update(self.task, completed=index, info=f"loss {self.loss_sum / index:.4f}")
            self.draw()

    def epoch_end(self, row):
        self.progress.update(self.task, completed=self.progress.tasks[-1].total)
        shown = {k: v for k, v in row.items() if k.startswith("val_")} or {"loss": row["loss"]}
        info = "  ".join(f"{k} {number(v)}" for k, v in shown.items())
        self.progress.update(self.run_task, completed=row["epoch"], info=info)
        self.pending.append(self.epoch_line(row))
        if time.perf_counter() - self.last_draw >= REDRAW_SECONDS:
            self.draw()

    def draw(self) -> None:
        """Print the waiting epoch lines above the bars, then render the bars."""
        if self.pending:  # printed above the bars as they were last rendered
            self.progress.console.print("\n".join(self.pending), highlight=False, markup=False, soft_wrap=True)
            self.pending.clear()
        self.progress.render_now()
        self.last_draw = time.perf_counter()

    def finish(self, result):
        self.close()
        super().finish(result)

    def close(self):
        if getattr(self, "progress", None) is not None:
            if self.pending:  # the last epochs' lines, also when training failed
                self.draw()
            self.progress.stop()
            self.progress = None


def make_display(quiet: bool, console: Console | None = None, interactive: bool | None = None) -> Display:
    """Quiet: nothing (the Python API's default). Otherwise a live bar in a terminal,
    plain lines elsewhere. ``nnrun train --quiet`` uses ``QuietDisplay(results=True)``."""
    console = console or OutputConsole()
    if quiet:
        return QuietDisplay(console)
    if interactive is None:
        # FORCE_COLOR makes rich take a pipe for a terminal: colours into a log, yes;
        # bars redrawn into it, no.
        interactive = console.is_terminal and on_screen(console.file) and not console.is_dumb_terminal
    if interactive:
        return LiveDisplay(console)
    return LineDisplay(console)


def print_header(console: Console, experiment, run_dir: Path) -> None:
    """Run directory, the data each split holds, the model and the training plan."""
    config, graph = experiment.config, experiment.graph
    train = experiment.splits["train"]
    console.print(f"[bold]nnrun[/] training [bold]{escape(config.name)}[/] -> {escape(str(run_dir))}", soft_wrap=True)
    for name, part in experiment.splits.items():
        console.print(f"  {name:<10} {len(part):>6} samples   x {_shape(part.x.shape):<10} y {_shape(part.y.shape)}",
                      highlight=False)
    if train.task == "classification":
        console.print(f"  classes    {class_list(train)}", highlight=False, markup=False, soft_wrap=True)
    for warning in experiment.warnings:
        console.print(f"  warning    {warning}", highlight=False, markup=False, soft_wrap=True)
    output = next(node for node in graph.nodes if node.name == graph.output_name)
    labels = {node.name: _layer_label(node) for node in graph.nodes}
    if graph.output_activation and output.layer.output_activation() in (None, "linear"):  # fused in the loss
        labels[output.name] += f" {graph.output_activation}"
    # A graph's layers in a row would read as a chain: its size and output instead (validate draws its edges).
    branched = any(spec.inputs for spec in config.model.layers)
    layers = f"a graph of {len(labels)} layers (nnrun validate lists their inputs) -> {labels[output.name]}" \
        if branched else " -> ".join(labels.values())
    console.print(f"  model      {_shape(graph.input_shape)} -> {layers}; {graph.parameter_count:,} parameters",
                  highlight=False, markup=False, soft_wrap=True)
    training, optimizer = config.training, config.optimizer
    processes = launched_size()  # an MPI launcher's: each batch is split over them
    console.print(
        f"  training   {training.epochs} epoch{'s' if training.epochs != 1 else ''}, batch {training.batch_size}, "
        f"{optimizer.type} "
        f"lr {optimizer.learning_rate:g}" + (f" ({training.schedule.type})" if training.schedule else "")
        + f", loss {config.loss.type}" + (f", over {processes} processes" if processes > 1 else "")
        + (f", early stopping on {training.early_stopping.monitor} (patience {training.early_stopping.patience})"
           if training.early_stopping else "")
        + (f", learning {COMPARED_WITH[config.data.target_scale]}" if config.data.target_scale in COMPARED_WITH
           else ""),
        highlight=False, markup=False,
    )


def _shape(shape) -> str:
    return "x".join(map(str, shape))


def _layer_label(node) -> str:
    activation = node.layer.output_activation()
    suffix = f" {activation}" if activation and activation != "linear" else ""
    return f"{node.layer.type} {_shape(node.output_shape)}{suffix}"
