"""Every error nnrun reports to people, in one place.

Every mistake a user can make (config, data, run directory, command line) raises a
:class:`UserError`; the CLI prints its message and exits with code 2, without a
traceback. A training run that fails on its own (non-finite loss, a full disk) raises
:class:`TrainingFailed` and exits with code 1; a signal stops it with
:class:`RunInterrupted` (exit code 130). The exit code is a property of the class, so
the CLI, the run record and the Python API never test for numbers.
"""

from __future__ import annotations

import contextvars
import shlex
from dataclasses import dataclass


class NnrunError(Exception):
    """Base of every error nnrun reports to people instead of a traceback."""

    exit_code = 2
    label = "error"  # how the CLI introduces the message
    details: dict = {}  # where it happened (epoch, batch, ...), for meta.json
    run_dir = None  # the run a failure or an interruption stopped, kept: for a script to find it

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"

    def __str__(self) -> str:
        # What the CLI prints after its label, so a notebook's traceback or a script's
        # print(error) shows the hint too; ``message`` stays the bare message.
        return self.render()


class UserError(NnrunError):
    """Bad input: a config, a data file, a run directory, a command-line value."""


class AlreadyDone(UserError):
    """What was asked is done already (a completed run resumed): said as a note, and the
    command succeeds, so that a step run again (a CI job retried) changes nothing."""

    exit_code = 0
    label = "note"


class TrainingFailed(NnrunError):
    """Training stopped on its own, e.g. on a non-finite loss."""

    exit_code = 1


FIRST_LOSS_REMEDY = (  # the first batch's loss comes before any update: no learning rate made it
    "the weights have not been updated yet, so the learning rate is not the cause: standardize the inputs "
    "(data.preprocess), or use smaller initial weights or a bounded activation (tanh) where values grow "
    "layer to layer or step to step"
)
NON_FINITE_REMEDY = ("lower optimizer.learning_rate, standardize the inputs (data.preprocess), or clip the gradients "
                     "where the optimizer offers it; then train again")


class NonFiniteError(TrainingFailed):
    """The loss, a gradient or a weight became NaN or infinite (exit code 1); ``before_update``:
    at the first batch, from the initial weights, where the learning rate is not the cause."""

    def __init__(self, message: str, epoch: int, batch: int, reason: str, hint: str | None = None,
                 before_update: bool = False):
        super().__init__(message, hint=hint or (FIRST_LOSS_REMEDY if before_update else NON_FINITE_REMEDY))
        self.details = {"epoch": epoch, "batch": batch, "reason": reason}
        self.before_update = before_update


class RunWriteFailed(TrainingFailed):
    """Writing one of the run's files failed as it trained (a full disk, say): the run
    failed, and what it saved so far is intact."""


class CheckpointWriteFailed(RunWriteFailed):
    """Writing a checkpoint failed (disk full, say); older checkpoints are intact."""


# Whom a hint speaks to: a shell (the default) or Python code, which nnrun.api says
# around each of its calls, so that a hint there names nnrun.resume(...), not a command.
FROM_PYTHON: contextvars.ContextVar[bool] = contextvars.ContextVar("nnrun_from_python", default=False)


def resume_command(run_path, epochs: str | None = None) -> str:
    """How to resume ``run_path`` (to ``epochs``), as the caller calls nnrun."""
    if FROM_PYTHON.get():
        longer = f", overrides={{'training.epochs': {epochs}}}" if epochs else ""
        return f"nnrun.resume({str(run_path)!r}{longer})"
    return f"nnrun train --resume {quoted(run_path)}" + (f" --set training.epochs={epochs}" if epochs else "")


def evaluate_command(run_path, split: str | None = None, data: bool = False) -> str:
    """How to score ``run_path``'s test split (or ``split``, or with ``data`` a labelled
    file), as the caller calls nnrun."""
    if FROM_PYTHON.get():
        return f"nnrun.evaluate({str(run_path)!r}{f', split={split!r}' if split else ''}" \
               f"{', data=FILE' if data else ''})"
    return f"nnrun evaluate {quoted(run_path)}{f' --split {split}' if split else ''}{' --data FILE' if data else ''}"


def next_evaluation(run_path, splits) -> str:
    """The evaluation to run next on a run that scored ``splits``: of its test split, or
    where it held none out (one retrained on all its data), of its validation split or
    of a labelled file."""
    splits = set(splits) if isinstance(splits, (dict, list, tuple, set)) else set()  # meta.json's final, if sound
    if "test" in splits or not splits:
        return evaluate_command(run_path)
    if "validation" in splits:
        return f"{evaluate_command(run_path, split='validation')} (it holds no test split)"
    return f"{evaluate_command(run_path, data=True)} (a labelled file of new samples: it trained on every row)"


def train_command(config) -> str:
    """How to train ``config`` (a path; ``CONFIG`` for any) as a new run, as the caller calls nnrun."""
    if FROM_PYTHON.get():
        return f"nnrun.train({str(config)!r})" if config != "CONFIG" else "nnrun.train(config)"
    return f"nnrun train {quoted(config) if config != 'CONFIG' else config}"


def said(cli: str, python: str) -> str:
    """The words for an option as the caller gives it: ``cli`` on the command line
    (``--run-dir``), ``python`` from Python (``run_dir=``)."""
    return python if FROM_PYTHON.get() else cli


def setting(key: str, value) -> str:
    """A setting as the caller gives one: ``--set key=value``, or ``overrides=`` in Python."""
    return f"overrides={{{key!r}: {str(value)!r}}}" if FROM_PYTHON.get() else f"--set {key}={value}"


class RunInterrupted(NnrunError):
    """SIGINT or SIGTERM stopped training after a checkpoint was saved (exit code 130)."""

    exit_code = 130
    label = "interrupted"

    def __init__(self, message: str, hint: str, details: dict):
        super().__init__(message, hint=hint)
        self.details = details


class Interrupted(KeyboardInterrupt):
    """:class:`RunInterrupted` as the Python API raises it: a KeyboardInterrupt, so that
    Ctrl-C stops a notebook's loop of runs (an ``except Exception`` around each run would
    take a RunInterrupted for one run's failure and go on to the next). ``str()``,
    ``message``, ``hint``, ``details`` and ``run_dir`` are the run's, as the CLI prints them."""

    exit_code = 130

    def __init__(self, interrupted: NnrunError):  # a run's, or a sweep's (nnrun.sweep)
        super().__init__(interrupted.render())
        self.message, self.hint, self.details = interrupted.message, interrupted.hint, interrupted.details
        self.run_dir = getattr(interrupted, "run_dir", None)


class ConfigChanged(UserError):
    """The run's config or data is not what a checkpoint was trained on.

    ``changed`` lists the differing dotted keys; ``None`` means the data changed."""

    def __init__(self, path, changed: list[str] | None, hint: str | None = None):
        if changed is None:
            super().__init__(
                f"{path}: the training data changed since this checkpoint was written; resuming would not "
                "continue the same run",
                hint="restore the original data, or start a new run with `nnrun train CONFIG`",
            )
            return
        keys = ", ".join(changed) or "(formatting only)"
        super().__init__(
            f"{path}: the config differs from the one this checkpoint was trained with; changed: {keys}",
            hint=hint or "resume with the run's own config, or start a new run with `nnrun train CONFIG`",
        )


class RunEnded(UserError):
    """A resume would extend a run that early stopping ended: it stays ended (see
    :meth:`nnrun.engine.stopping.EarlyStopper.ended_run`)."""


@dataclass(frozen=True)
class Problem:
    """One located mistake in a config file."""

    path: str  # dotted key path, e.g. "model.layers.0.units"
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def render(self, source: str) -> str:
        where = source
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        elif source.startswith("<"):  # a config given in Python: no file and line to point at
            return f"{self.path or '<root>'}: {self.message}"
        return f"{where}: {self.path or '<root>'}: {self.message}"


class ConfigError(UserError):
    """One or more mistakes in a config, reported together."""

    def __init__(self, source: str, problems: list[Problem], what: str = "the config") -> None:
        self.source = source
        # In file order, so the message reads top to bottom like the config.
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        count = len(problems)
        header = f"{source}: {count} problem{'s' if count != 1 else ''} in {what}"
        lines = [header] + ["  " + p.render(source) for p in self.problems]
        super().__init__("\n".join(lines))

    def data_gone(self) -> bool:
        """Whether a file of the data source is not where the config says: a run's data
        moved or deleted since it trained, which a retry cannot mend."""
        return any(p.path.startswith("data.source.") and NO_SUCH_FILE in p.message for p in self.problems)


NO_SUCH_FILE = ": no such file"  # how a data source's missing file is told (data.base), which data_gone finds


def quoted(path) -> str:
    """A path as one word of a command to copy into a shell: 'my runs/x y' stays one
    argument."""
    return shlex.quote(str(path))


def closest(word: str, options: list, cutoff: float = 0.6) -> str | None:
    """The option ``word`` most likely meant: one that differs only in case or surrounding
    spaces ('SQM' for 'sqm', which share no letter as written), else the nearest by
    spelling with case set aside; None when none is near."""
    texts = [o for o in options if isinstance(o, str)]
    folded = word.strip().casefold()
    same = [o for o in texts if o.strip().casefold() == folded]
    if same:
        return same[0]
    import difflib  # on a mistake's way only: 3 ms of every command's start-up otherwise

    by_folded = {}
    for option in texts:
        by_folded.setdefault(option.casefold(), option)
    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=cutoff)
    return by_folded[close[0]] if close else None


def near_file(path) -> str:
    """``"; did you mean 'houses.yaml'?"`` for an absent file whose folder holds one of a
    near name (.yml for .yaml, a case or a letter off); "" otherwise. The folder is
    listed once, for a message, never in a loop."""
    from pathlib import Path

    path = Path(path)
    try:
        names = [p.name for p in path.parent.iterdir() if p.is_file()] if path.parent.is_dir() else []
    except OSError:
        return ""
    near = closest(path.name, names[:10_000], cutoff=0.8)
    return f"; did you mean '{path.with_name(near)}'?" if near else ""


def did_you_mean(word: str, options: list[str], listing: str | None = None) -> str:
    """``"; did you mean 'x'?"`` for a near miss; otherwise, when ``listing`` names
    them (e.g. "known layers"), the options themselves if there are not too many."""
    close = closest(word, options)
    if close is not None:
        return f"; did you mean '{close}'?"
    # A longer word for a short option (maximize: max, minimum: min), too far off for difflib.
    shortened = [o for o in options if isinstance(o, str) and len(o) >= 3 and word.lower().startswith(o.lower())
                 and word[len(o):].isalpha()]  # 'maximize' for max, not 'mean_squared_error' for mean
    if len(shortened) == 1:
        return f"; did you mean '{shortened[0]}'?"
    # A first word of several names (he: he_normal, he_uniform), too short to be near either.
    started = [o for o in options if isinstance(o, str) and o.startswith(f"{word}_")] if len(word) > 1 else []
    if 0 < len(started) <= 3:
        return f"; did you mean {' or '.join(map(repr, started))}?"
    if listing and 0 < len(options) <= 20:
        return f"; {listing}: {', '.join(str(o) or repr(o) for o in options)}"  # an empty name shown as ''
    return ""


def hint_then_choices(hint: str, choices: str) -> str:
    """A "did you mean" hint, then the choices: a new sentence after the hint's question
    (``; did you mean 'x'? Choose one of a, b``), else one more clause (``; choose one of a, b``)."""
    if hint.endswith("?"):
        return f"{hint} {choices[:1].upper()}{choices[1:]}"
    return f"{hint}; {choices}"


def listed_samples(bad, lines=None) -> str:
    """"samples 0, 2, 3" (the first five of an array of sample indices, and how many more),
    or "lines 2, 4, 5" by the samples' file ``lines`` where given."""
    numbers = bad[:5].tolist() if lines is None else [int(lines[i]) for i in bad[:5]]
    shown = ", ".join(map(str, numbers)) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    return f"{'sample' if lines is None else 'line'}{'s' if len(bad) != 1 else ''} {shown}"
