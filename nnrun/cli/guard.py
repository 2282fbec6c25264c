"""How every command runs: nnrun's errors become one message and an exit code.

Errors meant for people (:class:`~nnrun.errors.NnrunError`) are printed as one message
with their exit code (2 for bad input, 1 when training failed, 130 when interrupted);
``--debug`` shows the traceback instead, and keeps the exit code.
"""

from __future__ import annotations

from typing import Callable

import typer

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
            raise typer.Exit(exc.exit_code) from None
        if debug["on"]:  # the traceback, but still the documented exit code
            import traceback

            traceback.print_exc()
            raise typer.Exit(exc.exit_code) from None
        from rich.console import Console

        Console(stderr=True).print(f"{exc.label}: {exc.render()}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:  # a path that cannot be written or read: a full disk, no permission, ...
        if debug["on"]:
            import traceback

            traceback.print_exc()
            raise typer.Exit(2) from None
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        if debug["on"]:
            raise
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None