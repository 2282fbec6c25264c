"""The hooks the training loop calls, in the order it calls them.

The engine knows no screen: it calls these methods and nothing else. The console's
displays implement them (a live bar, plain lines, or only the closing results); the
Python API passes :class:`SilentHooks` unless asked to show progress; a sweep's trial
can pass its own to see every epoch. Every hook has a do-nothing default here, so an
implementation overrides only what it needs, or defines only those (:func:`as_hooks`
fills in the rest).

    start(experiment, run_dir)        the experiment is built, the run directory exists
    resumed(epoch, checkpoint, history)  a resumed run continues after ``epoch``; ``history``
                                      holds the rows of the epochs before
    warn(message)                     something the user should know, training goes on
    epoch_start(epoch, epochs, batches)
    batch(index, loss)                after each optimizer step (index from 1)
    epoch_end(row)                    the epoch's metrics.csv row is written
    should_stop() -> bool             asked after each epoch (after its checkpoint): True
                                      ends training there, as early stopping would (a
                                      sweep's pruner, a notebook's own stopping rule)
    finish(result)                    training completed; ``result`` is a TrainResult
    close()                           always last, whether training finished or failed
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from nnrun.errors import UserError


@runtime_checkable
class TrainingHooks(Protocol):
    def start(self, experiment, run_dir: Path) -> None: ...
    def resumed(self, epoch: int, checkpoint: Path, history: list[dict]) -> None: ...
    def warn(self, message: str) -> None: ...
    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None: ...
    def batch(self, index: int, loss: float) -> None: ...
    def epoch_end(self, row: dict) -> None: ...
    def should_stop(self) -> bool: ...
    def finish(self, result) -> None: ...
    def close(self) -> None: ...


class SilentHooks:
    """Every hook does nothing except :meth:`warn`, which still reaches the user on
    standard error: a warning is never swallowed just because progress is quiet."""

    def start(self, experiment, run_dir: Path) -> None:
        pass

    def resumed(self, epoch: int, checkpoint: Path, history: list[dict]) -> None:
        pass

    def warn(self, message: str) -> None:
        import sys

        print(f"warning: {message}", file=sys.stderr)

    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        pass

    def batch(self, index: int, loss: float) -> None:
        pass

    def epoch_end(self, row: dict) -> None:
        pass

    def should_stop(self) -> bool:
        return False

    def finish(self, result) -> None:
        pass

    def close(self) -> None:
        pass


class QuietHooks(SilentHooks):
    """:class:`SilentHooks` that also pass the experiment's warnings about the data and
    the settings (a target far from unit scale, ...) to :meth:`warn` at the start, as
    ``nnrun train --quiet`` prints them: the Python API's default, and the base of a
    notebook's partial hooks."""

    def start(self, experiment, run_dir: Path) -> None:
        for warning in experiment.warnings:
            self.warn(warning)


HOOKS = ("start(experiment, run_dir)", "resumed(epoch, checkpoint, history)", "warn(message)",
         "epoch_start(epoch, epochs, batches)", "batch(index, loss)", "epoch_end(row)", "should_stop()",
         "finish(result)", "close()")
HOOK_NAMES = tuple(hook.split("(")[0] for hook in HOOKS)
# A Keras callback's methods, by the hook that does their work here (other arguments).
KERAS_CALLBACKS = {"on_train_begin": "start", "on_epoch_begin": "epoch_start", "on_epoch_end": "epoch_end",
                   "on_train_batch_end": "batch", "on_batch_end": "batch", "on_train_end": "finish"}


def _written_for(hooks, name: str) -> bool:
    """Whether ``hooks``' class (or one of its own bases) defines the Keras method
    ``name``: keras.callbacks.Callback's own do-nothing ones are no work left uncalled."""
    owner = next((klass for klass in type(hooks).__mro__ if name in vars(klass)), None)
    return owner is not None and not owner.__module__.split(".")[0] in ("keras", "tf_keras", "tensorflow")


def as_hooks(hooks, where: str = "hooks") -> TrainingHooks:
    """``hooks`` with every hook the loop calls: the ones it defines, and
    :class:`SilentHooks`' defaults for the rest (a notebook's object with only
    ``epoch_end`` and ``should_stop`` is enough). A list of such objects, as Keras takes
    its callbacks, calls each in turn, and training stops when any one's ``should_stop``
    says so. An object with none of them, or with one that cannot be called, is refused
    here, before any run directory is made."""
    if isinstance(hooks, (list, tuple)) and hooks:
        each = [own_hooks(as_hooks(item, f"{where}[{i}]")) for i, item in enumerate(hooks)]
        return GivenHooks({name: _in_turn(name, [own[name] for own in each if name in own])
                           for name in HOOK_NAMES if any(name in own for own in each)})
    own = {name: getattr(hooks, name) for name in HOOK_NAMES if hasattr(hooks, name)}
    given = f"{type(hooks).__name__} {hooks!r}" if isinstance(hooks, (int, float, str)) else type(hooks).__name__
    keras = [name for name in KERAS_CALLBACKS if KERAS_CALLBACKS[name] not in own and _written_for(hooks, name)]
    if keras:  # never called here: said, not left to do nothing
        ours = list(dict.fromkeys(next(hook for hook in HOOKS if hook.startswith(f"{KERAS_CALLBACKS[name]}("))
                                  for name in keras))
        row = " (row: the epoch's metrics, as metrics.csv has them)" if "epoch_end(row)" in ours else ""
        raise UserError(f"{where}: {given} has Keras's callback methods ({', '.join(keras)}), which nnrun does not "
                        f"call; its hooks are {', '.join(ours)}{row}", hint=f"rename them, with those arguments; "
                        f"every hook: {', '.join(HOOKS)}")
    if not own:
        raise UserError(f"{where}: {given} has none of the training hooks; give an object with one or more of "
                        f"these methods: {', '.join(HOOKS)}")
    fixed = next((name for name, method in own.items() if not callable(method)), None)
    if fixed is not None:
        raise UserError(f"{where}: {given}'s {fixed} is not a method; the training hooks are methods: "
                        f"{', '.join(HOOKS)}")
    if isinstance(hooks, QuietHooks):  # complete, and its start passes the warnings on already
        return hooks
    return GivenHooks(own)


def own_hooks(hooks: TrainingHooks) -> dict:
    """The hooks a caller's object defines itself: a QuietHooks subclass's overrides, not
    the defaults it inherits (whose warn would print every warning a second time)."""
    if isinstance(hooks, GivenHooks):
        return hooks.own
    return {name: getattr(hooks, name) for name in HOOK_NAMES
            if getattr(type(hooks), name, None) is not getattr(QuietHooks, name, None)}


def _in_turn(name: str, methods: list):
    """One hook of a list's objects: each called in turn; should_stop asks every one (a
    callback may count the epochs it sees) and is True if any says so."""
    if name == "should_stop":
        return lambda: any([method() for method in methods])

    def every(*args):
        for method in methods:
            method(*args)
    return every


class GivenHooks(QuietHooks):
    """A caller's hooks, completed with the defaults. The data's and the settings'
    warnings reach its ``warn`` (or standard error) before its own ``start`` runs: a
    hooks object that only watches the start once swallowed them all."""

    def __init__(self, own: dict):
        self.own = own
        for name, method in own.items():
            if name != "start":
                setattr(self, name, method)  # the instance's own attribute, found before the class's default

    def start(self, experiment, run_dir: Path) -> None:
        super().start(experiment, run_dir)
        if "start" in self.own:
            self.own["start"](experiment, run_dir)


class AlongsideHooks:
    """A display's hooks and a caller's together (``nnrun.train(..., hooks=h,
    quiet=False)``): each hook reaches both, the caller's ``should_stop`` decides, and a
    warning is shown once, by the display (and passed to the caller's own ``warn``)."""

    def __init__(self, display: TrainingHooks, given: TrainingHooks):
        self.display, self.given = display, given
        self.own = own_hooks(given)

    def _both(self, name: str, *args) -> None:
        getattr(self.display, name)(*args)
        if name in self.own:
            self.own[name](*args)

    def start(self, experiment, run_dir: Path) -> None:
        self.display.start(experiment, run_dir)  # which shows the data's and the settings' warnings
        for warning in experiment.warnings if "warn" in self.own else ():
            self.own["warn"](warning)
        if "start" in self.own:
            self.own["start"](experiment, run_dir)

    def resumed(self, epoch: int, checkpoint: Path, history: list[dict]) -> None:
        self._both("resumed", epoch, checkpoint, history)

    def warn(self, message: str) -> None:
        self._both("warn", message)

    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        self._both("epoch_start", epoch, epochs, batches)

    def batch(self, index: int, loss: float) -> None:
        self._both("batch", index, loss)

    def epoch_end(self, row: dict) -> None:
        self._both("epoch_end", row)

    def should_stop(self) -> bool:
        return bool(self.given.should_stop())

    def finish(self, result) -> None:
        self._both("finish", result)

    def close(self) -> None:
        try:
            self.display.close()
        finally:
            self.given.close()
