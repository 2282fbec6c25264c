"""What ``nnrun sweep`` shows: a live table of the trials, then the leaderboard.

In a terminal the table is redrawn in place (running trials first, with their epoch
and latest value, then the finished ones, best first); piped or redirected, a line is
printed as each trial starts and ends. Both end with the leaderboard, the best trial,
the files and the next command.
"""

from __future__ import annotations

import os
import time

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from nnrun.config.sweep_space import written
from nnrun.console.output import OutputConsole, say_note
from nnrun.console.numbers import number
from nnrun.console.runs_table import format_duration
from nnrun.errors import quoted

SHOWN_ROWS = 16  # of the live table; the leaderboard shows the best ten
LEADERBOARD = 10


def short(value, none: str = "-") -> str:
    """A parameter value in a few characters: 0.003162, 64, adam; ``none`` for None (a
    table's empty cell; ``null`` where it is written as a setting, key=null)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return written(value)
    return none if value is None else str(value)


def ranked(trials: list, higher_is_better: bool) -> list:
    """Finished trials with a value, best first (ties by trial id): the completed ones
    before the rest, as the sweep's best is the best completed trial (a pruned trial's
    value is of fewer epochs, and may be better only because its curve was cut there)."""
    scored = [t for t in trials if t.best is not None and t.status != "running"]
    return sorted(scored, key=lambda t: (t.status != "completed", (-t.best if higher_is_better else t.best), t.id))


def headers(parameters: list[str]) -> list[str]:
    """Parameter columns by their last key (``learning_rate``) where that is unambiguous.
    A last key that is a number (a class's weight, a list's item) keeps the key it sits
    under, as ``class_weights.2``: ``2`` alone says nothing."""
    last = [_last_word(p) for p in parameters]
    return [name if last.count(name) == 1 else path for name, path in zip(last, parameters)]


def _last_word(path: str) -> str:
    keys = path.split(".")
    start = len(keys) - 1
    while start > 0 and keys[start].lstrip("-").isdigit():
        start -= 1
    return ".".join(keys[start:])


def trials_table(trials: list, parameters: list[str], metric: str, higher_is_better: bool, title: str,
                 limit: int | None = None) -> Table:
    # Cells are Text, never markup: the live table is also drawn by prints made with
    # markup off (a trial's line), which would show a markup string's tags as they are.
    table = Table(title=Text(title), title_justify="left", caption_justify="left")
    for column in ("trial", *headers(parameters), "status", "epoch", metric, "time"):
        table.add_column(Text(column), justify="left" if column in ("trial", "status") else "right", no_wrap=True)
    running = [t for t in trials if t.status == "running"]
    others = [t for t in trials if t.status != "running" and t.best is None]
    rows = running + ranked(trials, higher_is_better) + others
    now = time.perf_counter()
    if limit is not None and len(rows) > limit:
        table.caption = Text(f"and {len(rows) - limit} more (trials.csv lists every trial)")
    for trial in rows[:limit]:
        value = trial.best if trial.status != "running" else trial.latest
        epoch = trial.best_epoch if trial.status != "running" else trial.epochs
        seconds = trial.seconds
        if trial.status == "running" and trial.started_at is not None:  # and still counting
            seconds += now - trial.started_at
        cells = [trial.id, *(short(trial.values.get(p)) for p in parameters)]
        table.add_row(*map(Text, cells), _status(trial), *map(Text, [short(epoch), "-" if value is None else number(value),
                                                                    format_duration(seconds)]))
    return table


def _status(trial) -> Text:
    colours = {"completed": "green", "failed": "red", "pruned": "yellow", "running": "cyan", "interrupted": "magenta"}
    return Text(trial.status, style=colours.get(trial.status, "white"))


def finished_line(trial, metric: str) -> str:
    """A trial's end in one line: how many epochs it trained, and its best value and the
    epoch of it (what the leaderboard ranks), then why it stopped where it did not complete."""
    epochs = f", {trial.epochs} epoch{'s' * (trial.epochs != 1)}" if trial.epochs else ""
    value = f": best {metric} {number(trial.best)} at epoch {trial.best_epoch}" if trial.best is not None else ""
    message = f"; {trial.message}" if trial.message and trial.status != "completed" else ""
    return f"trial {trial.id} {trial.status}{epochs}{value}, in {format_duration(trial.seconds)}{message}"


class SweepView:
    """Plain lines: one as each trial starts and as it ends."""

    def __init__(self, console: Console | None = None):
        self.console = console or OutputConsole()

    def begin(self, swept, state) -> None:
        self.swept, self.state = swept, state
        sweep = swept.sweep
        executor = sweep.executor
        if executor.type == "local":
            from nnrun.engine.threads import usable_cores

            workers = executor.workers or usable_cores()  # none given: one per CPU, as the sweep runs them
            where = f"{workers} worker{'' if workers == 1 else 's'}" + ("" if executor.workers else ", one per CPU")
        else:
            where = f"Ray at {executor.address}" if executor.address else "a local Ray"
        self.say(f"nnrun sweep {sweep.name} -> {swept.path}")
        self.say(f"  {sweep.search} search, {sweep.trial_count} trials, {sweep.metric} ({sweep.direction}), "
                 f"{executor.type} executor ({where})" + (f", {sweep.scheduler.type} scheduler" if sweep.scheduler else ""))
        done = [t for t in state.trials.values() if t.finished]
        if done:
            grown = f"; samples {swept.grown_from} -> {sweep.samples}" if swept.grown_from else ""
            self.say(f"  resuming: {len(done)} trial(s) already finished{grown}")
        if swept.lost:
            one = len(swept.lost) == 1
            folders = ", ".join(f"trials/{trial}" for trial in swept.lost)
            self.say(f"  {folders}: gone, with {'its' if one else 'their'} weights; trial{'' if one else 's'} "
                     f"{', '.join(swept.lost)} run{'s' if one else ''} again")
        for trial in swept.killed:
            self.say(f"  trial {trial}: its process was killed as it trained; resumed from its last checkpoint, or "
                     "started again where it kept none")
        _warn_of_waste(sweep, swept.data_warnings, swept.workers_given)

    def say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def started(self, trial) -> None:
        searched_here = searched(self.swept.sweep)  # the constants every trial sets are said once, before
        values = ", ".join(f"{k}={short(v, 'null')}" for k, v in trial.values.items() if k in searched_here)
        values = f": {values}" if values else ""
        if trial.resumed_from is None:
            self.say(f"trial {trial.id} started{values}")
        elif trial.resumed_from == 0:  # only the checkpoint saved as it began: nothing to go on from
            self.say(f"trial {trial.id} started again (it stopped before its first checkpoint after an epoch)"
                     f"{values}")
        else:
            self.say(f"trial {trial.id} resumed after epoch {trial.resumed_from}{values}")

    def epoch(self, trial) -> None: ...

    def finished(self, trial) -> None:
        self.say(finished_line(trial, self.state.metric))

    def refresh(self) -> None: ...

    def stopping(self, how: str) -> None:
        say_note(how, "stopping")  # beside the output, as a command's notes are: a script reads the leaderboard alone

    def close(self) -> None: ...

    def end(self, result) -> None:
        self.close()
        higher = result.direction == "max"
        parameters = searched(self.swept.sweep)
        table = trials_table(result.trials, parameters, result.metric, higher, "leaderboard", LEADERBOARD)
        # Piped output has no width of its own: do not squeeze the table into 80 columns.
        self.console.print(table, width=None if self.console.is_terminal else 160)
        counts = {}
        for trial in result.trials:
            counts[trial.status] = counts.get(trial.status, 0) + 1
        self.say("trials:  " + ", ".join(f"{n} {status}" for status, n in counts.items()))
        if result.best is not None:
            best = result.best
            values = ", ".join(f"{k}={short(v, 'null')}" for k, v in best.values.items() if k in parameters)
            values = f" ({values})" if values else ""  # no parameter varies: the trials differ in nothing
            self.say(f"best:    trial {best.id}, {result.metric} {number(best.best)} at epoch {best.best_epoch}{values}")
            if best.best_epoch is not None and best.best_epoch != self.swept.kept_epoch(best):
                self.say(f"note:    trial {best.id} is ranked by its best epoch, {best.best_epoch}; its weights, and "
                         f"best.yaml's when retrained, are not that epoch's (set training.early_stopping with "
                         f"monitor: {result.metric} and restore_best: true to keep them)")
            self.say(f"files:   {result.path} (sweep.yaml, trials.csv, trials/, best.yaml)")
            self.say(f"next:    nnrun train {quoted(result.path / 'best.yaml')}")
        if result.resumable:  # a trial's process stopped from outside: the sweep is not over
            many = len(result.resumable) > 1
            self.say(f"resume:  trial{'s' * many} {', '.join(result.resumable)} stopped before "
                     f"{'they' if many else 'it'} finished; nnrun sweep --resume {quoted(result.path)} finishes "
                     f"{'them' if many else 'it'} from {'their' if many else 'its'} last checkpoint (the best may "
                     "change)")


def searched(sweep) -> list[str]:
    """The parameters that vary from trial to trial: the columns of the tables (a constant
    every trial sets is in trials.csv, not on screen)."""
    return [name for name, spec in sweep.parameters.items() if not _constant(spec)]


def _constant(spec) -> bool:
    return spec.type == "choice" and len(spec.extremes()) == 1


class LiveSweepView(SweepView):
    """The trials table, redrawn in place at most four times a second."""

    def begin(self, swept, state) -> None:
        from rich.live import Live

        super().begin(swept, state)
        self.live = Live(console=self.console, auto_refresh=False, transient=True)
        self.live.start()
        self.drawn = 0.0
        self.refresh(force=True)

    def started(self, trial) -> None:
        self.refresh(force=True)

    def epoch(self, trial) -> None:
        self.refresh()

    def finished(self, trial) -> None:
        self.live.console.print(self._line(trial), markup=False, highlight=False, soft_wrap=True)
        self.refresh(force=True)

    def _line(self, trial) -> str:
        return finished_line(trial, self.state.metric)

    def refresh(self, force: bool = False) -> None:
        now = time.perf_counter()
        if getattr(self, "live", None) is None or (not force and now - self.drawn < 0.25):
            return
        self.drawn = now
        trials = list(self.state.trials.values())
        done = sum(t.finished for t in trials)
        title = f"trials: {done} of {self.swept.sweep.trial_count} finished, {sum(t.status == 'running' for t in trials)} running"
        table = trials_table(trials, searched(self.swept.sweep), self.state.metric,
                             self.state.higher_is_better, title, SHOWN_ROWS)
        self.live.update(Group(table), refresh=True)

    def close(self) -> None:
        if getattr(self, "live", None) is not None:
            self.live.stop()
            self.live = None


class QuietSweepView(SweepView):
    """``--quiet``: the warnings before it starts, a trial that failed (and why), then
    only the leaderboard and the best trial at the end (and a stop, when one is asked for)."""

    def begin(self, swept, state) -> None:
        self.swept, self.state = swept, state
        _warn_of_waste(swept.sweep, swept.data_warnings, swept.workers_given)

    def started(self, trial) -> None: ...

    def finished(self, trial) -> None:
        if trial.status == "failed":  # its reason is in trials.csv alone otherwise
            super().finished(trial)


def make_view(console: Console | None = None, quiet: bool = False) -> SweepView:
    console = console or OutputConsole()
    if quiet:
        return QuietSweepView(console)
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveSweepView(console)
    return SweepView(console)


def print_checked(console: Console, path, checked: dict) -> None:
    """What ``nnrun validate SWEEP.yaml`` checked."""
    sweep = checked["sweep"]
    say = lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    say(f"{path}: valid sweep file")
    say(f"  base       {os.path.normpath(checked['base'])} (valid, checked against its data)")
    say(f"  search     {sweep.search}, {sweep.trial_count} trials, {sweep.metric} ({sweep.direction})")
    for name, spec in sweep.parameters.items():
        values = spec.extremes()
        if _constant(spec):  # every trial sets it
            say(f"  constant   {name}: {short(values[0], 'null')}")
        else:
            kind = "grid" if sweep.search == "grid" and spec.type == "choice" else spec.type  # each value a trial
            say(f"  parameter  {name}: {kind} {', '.join(short(v, 'null') for v in values)}")
    say(f"  checked    {checked['configs']} configs: the base, and the base with each extreme of every parameter")
    _warn_of_waste(sweep, checked["warnings"])


def _warn_of_waste(sweep, data_warnings=(), workers_given: int | None = None) -> None:
    """What makes a sweep waste its time or rank misleadingly, said before it starts
    (see :mod:`nnrun.commands.sweep.advice`), and what its base config's data needs said
    (rows skipped, ...), which every trial would say again in its own run."""
    from nnrun.commands.sweep.advice import sweep_warnings
    from nnrun.console.output import say_note

    for warning in (*data_warnings, *sweep_warnings(sweep, workers_given)):
        say_note(warning, "warning")
