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
    except NnrunError as exc:
        from nnrun.engine.distributed import launched_rank

        if launched_rank() > 0:  # one run over several processes: process 0 tells the user
            raise SystemExit(exc.exit_code) from None
        if debug["on"]:  # the traceback, but still the documented exit code
            import traceback

            traceback.print_exc()
            raise SystemExit(exc.exit_code) from None
        from nnrun.console.output import error_console

        error_console().print(f"{exc.label}: {exc.render()}", markup=False, highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except OSError as exc:  # a path that cannot be written or read: a full disk, no permission, ...
        if debug["on"]:
            import traceback

            traceback.print_exc()
            raise SystemExit(2) from None
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
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
            print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None