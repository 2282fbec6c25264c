"""The command line: thin Typer commands over the functions in ``nnrun.commands``.

:mod:`nnrun.cli.application` holds the Typer application and registers every command;
:func:`main` is the ``nnrun`` program. ``nnrun --help`` is answered by
:mod:`nnrun.cli.quick_help` before typer is imported (which alone takes longer than a
help screen should), and the usual ``nnrun train`` command lines are read by
:mod:`nnrun.cli.train_command` without it; everything else goes through the Typer
application.

May import: everything before it in the package order; nothing imports it.
"""

from __future__ import annotations

import atexit
import gc
import sys

from nnrun import interrupts


def main() -> None:
    # When the process ends its objects are freed with it, but finalization would first
    # run the cycle collector over every one of them (the imported modules, the
    # config's validators): 0.2 s, a sixth of `nnrun train configs/iris.yaml`. Frozen
    # objects are left out of collections; freezing at exit, not as the command
    # returns, leaves a caller that runs main() in a longer-lived process unaffected.
    atexit.register(gc.freeze)
    _printable_anywhere()
    _debug_first(sys.argv)
    from nnrun.cli.quick_help import is_top_level_help, print_help

    if is_top_level_help(sys.argv[1:]):
        print_help()
        return
    from nnrun.cli.train_command import read_train_args

    train_options = read_train_args(sys.argv[1:])
    if train_options is not None:  # the usual `nnrun train` line, read without typer (see the module)
        from nnrun.cli import pydantic_plugins
        from nnrun.cli.guard import debug
        from nnrun.cli.train_command import run_train

        pydantic_plugins.disable_all()
        debug["on"] = train_options.pop("debug")
        run_train(**train_options)
        return
    from nnrun.cli.application import app
    from nnrun.engine.distributed import launched_rank

    if launched_rank() > 0:  # one run over several processes: process 0 alone tells a usage error
        _without_usage_errors(app)
    app()


def program() -> None:
    """The ``nnrun`` program (its console script and ``python -m nnrun``): :func:`main`,
    and after a sweep that started or joined Ray, the end of the process (see
    :func:`_end_past_ray`). A caller that runs main() itself keeps its process."""
    # SIGTERM (timeout, systemd, kill) stops a command as Ctrl-C does, also before its own
    # handling is in place (a run's, a sweep's, a server's, each of which sets its own for
    # its time): "interrupted", exit code 130, and a run directory made before its first
    # epoch removed, rather than the process dying of the signal with a half-made run
    # left behind. Once the command is done, neither stops anything (see nnrun.interrupts).
    interrupts.install()
    try:
        main()
    except SystemExit as ended:
        interrupts.done()
        _end_past_ray(ended.code)
        raise
    except KeyboardInterrupt:
        # Ctrl-C while the command's modules load, before its own handling (guard) is in place:
        # said as a command says it, not as an import traceback.
        interrupts.take()
        if "--debug" in sys.argv:
            raise
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    interrupts.done()
    _end_past_ray(0)


def _end_past_ray(code) -> None:
    """End the process at once with its exit code: the sweep's files are written and
    closed by then, and Ray's core, torn down with the interpreter, crashed the process
    after a Ctrl-C as Ray started (exit 139, not 130)."""
    ray_cluster = sys.modules.get("nnrun.commands.sweep.ray_cluster")
    if ray_cluster is None or not ray_cluster.joined:
        return
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that left, or a closed stream: nothing to keep
            pass
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def _without_usage_errors(app) -> None:
    """Run the application; a command line it refuses ends the process with click's exit
    code, unprinted (every process of an MPI launch gets the same command line)."""
    import typer

    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        raise SystemExit(130) from None
    except Exception as exc:
        if not (hasattr(exc, "exit_code") and hasattr(exc, "show")):  # click's usage errors, whichever click
            raise
        raise SystemExit(exc.exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _printable_anywhere() -> None:
    """Standard output writes what its encoding lacks as escapes, as standard error
    already does: a path or a glyph beyond ASCII under ``PYTHONIOENCODING=ascii`` (or a
    C locale) must not turn a finished command into a traceback and exit code 1."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and sys.stdout.errors == "strict":
        reconfigure(errors="backslashreplace")


def _debug_first(argv: list[str]) -> None:
    """``--debug`` belongs to ``nnrun`` itself (``nnrun --debug train ...``); typed after
    the command, as people do, it is moved in front of it rather than refused."""
    args = argv[1:]
    end = args.index("--") if "--" in args else len(args)  # after "--" every word is an argument
    if "--debug" in args[1:end]:
        argv[1:] = ["--debug", *[a for i, a in enumerate(args) if not (a == "--debug" and i < end)]]


def __getattr__(name: str):
    if name == "app":  # ``from nnrun.cli import app``: the Typer application, for tests and embedding
        from nnrun.cli.application import app

        return app
    raise AttributeError(f"module 'nnrun.cli' has no attribute {name!r}")
