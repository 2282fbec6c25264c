"""The hooks the training loop calls, in the order it calls them.

The engine knows no screen: it calls these methods and nothing else. The console's
displays implement them (a live bar, plain lines, or only the closing results); the
Python API passes :class:`SilentHooks` unless asked to show progress; a sweep's trial
can pass its own to see every epoch. Every hook has a do-nothing default here, so an
implementation overrides only what it needs.

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
