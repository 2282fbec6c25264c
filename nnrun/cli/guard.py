"""How every command runs: nnrun's errors become one message and an exit code.

Errors meant for people (:class:`~nnrun.errors.NnrunError`) are printed as one message
with their exit code (2 for bad input, 1 when training failed, or ran out of memory,
130 when interrupted);
``--debug`` shows the traceback instead, and keeps the exit code. It needs no typer
(``nnrun train`` usually runs without it, see :mod:`nnrun.cli.train_command`): a
``SystemExit`` ends the process as typer's ``Exit`` would, and under typer as well.
"""

from __future__ import annotations

import sys
from typing import Callable

debug = {"on": False}  # set by the --debug option of the nnrun command


def guard(action: Callable[[], object]) -> None:
    """Run a command; turn nnrun's errors into a message and an exit code."""
    from nnrun.console import loading
    from nnrun.errors import NnrunError

    loading.install()  # a slow data file shows progress, whichever command reads it
    try:
        action()
    except BrokenPipeError as exc:
        if exc.filename is not None:  # a file of the command's own, not its output: an error as any other
            _told(f"error: {exc.filename}: {exc.strerror or exc}")
            raise SystemExit(2) from None
        # The reader of the output left (`nnrun schema | head -1`): nothing more to say, and no failure.
        from nnrun.console.output import to_nowhere

        to_nowhere(sys.stdout, sys.stderr)
        raise SystemExit(0) from None
    except NnrunError as exc:
        from nnrun import interrupts
        from nnrun.engine.distributed import launched_rank

        interrupts.done()  # the work is over: a second Ctrl-C must not cut the message short (a stop's resume hint)

        if launched_rank() > 0:  # one run over several processes: process 0 tells the user
            raise SystemExit(exc.exit_code) from None
        if debug["on"]:  # the traceback, but still the documented exit code
            import traceback

            traceback.print_exc()
            raise SystemExit(exc.exit_code) from None
        from nnrun.console.output import error_console

        message = f"{exc.label}: {exc.render()}"
        _told(lambda: error_console().print(message, markup=False, highlight=False, soft_wrap=True))
        raise SystemExit(exc.exit_code) from None
    except OSError as exc:  # a path that cannot be written or read: a full disk, no permission, ...
        if debug["on"]:
            import traceback

            traceback.print_exc()
            raise SystemExit(2) from None
        where = f"{exc.filename}: " if exc.filename else ""
        _told(f"error: {where}{exc.strerror or exc}")
        raise SystemExit(2) from None
    except MemoryError as exc:  # numpy could not allocate an array: the run's meta.json says failed
        if debug["on"]:
            import traceback

            traceback.print_exc()
            raise SystemExit(1) from None
        print(f"error: out of memory: {exc or 'an allocation failed'}\n  hint: the model, its optimizer's state or "
              "a batch does not fit in this machine's memory; use fewer units or filters, a smaller "
              "training.batch_size, or a machine with more memory", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        from nnrun import interrupts

        interrupts.take()  # told now: no later run in this process may take it as its own
        if debug["on"]:
            raise
        from nnrun.engine.distributed import launched_rank

        if launched_rank() == 0:  # a Ctrl-C reaches every process of a launch; one says so
            _told("interrupted")
        raise SystemExit(130) from None


def _told(message: str | Callable[[], object]) -> None:
    """Print a message on standard error (or say it with a callable), unless its reader
    has left (`2>&1 | head -1`): the exit code still says what happened."""
    try:
        message() if callable(message) else print(message, file=sys.stderr, flush=True)
    except BrokenPipeError:
        from nnrun.console.output import to_nowhere

        to_nowhere(sys.stdout, sys.stderr)
