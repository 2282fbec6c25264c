"""The Typer application: every command registered, in the order ``nnrun --help`` lists them.

Each command declares its options and calls one function, through :func:`guard`, which
turns nnrun's errors into one message and an exit code. Heavy modules are imported
inside the commands so every command starts fast. Every command is registered in
:data:`COMMANDS`; its one-line summary comes from :mod:`nnrun.cli.quick_help`, which
prints the top-level help without this module.
"""

from __future__ import annotations

from typing import Optional

from nnrun.cli import pydantic_plugins

# The command line uses no Pydantic plugins, and looking for them reads the metadata of
# every installed package (30 ms of each command's start); see the module.
pydantic_plugins.disable_all()

import typer  # noqa: E402  (after the setting above, which Pydantic reads on first use)
import typer.core  # noqa: E402

from nnrun.cli import browse_commands, run_commands, ship_commands, sweep_commands
from nnrun.cli.help_style import plain_help
from nnrun.cli.other_names import Commands
from nnrun.cli.guard import debug as _debug
from nnrun.cli.quick_help import DEBUG_HELP, DESCRIPTION, SUMMARIES, VERSION_HELP
from nnrun.version import __version__

plain_help(typer.core)
app = typer.Typer(
    name="nnrun",
    cls=Commands,
    help=DESCRIPTION,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

COMMANDS = (
    run_commands.train,
    sweep_commands.sweep,
    browse_commands.runs,
    run_commands.evaluate,
    browse_commands.compare,
    browse_commands.plot,
    browse_commands.init,
    browse_commands.layers,
    run_commands.validate,
    run_commands.predict,
    ship_commands.export,
    ship_commands.serve,
    browse_commands.schema,
    browse_commands.datasets,
)
for command in COMMANDS:
    app.command(short_help=SUMMARIES[command.__name__],
                cls=run_commands.TrainCommand if command is run_commands.train else None)(command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nnrun {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    context: typer.Context,
    debug: bool = typer.Option(False, "--debug", help=DEBUG_HELP),
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True, help=VERSION_HELP),
) -> None:
    _debug["on"] = debug
    if context.invoked_subcommand not in (None, "train", "sweep"):  # train spreads over them; sweep refuses itself
        from nnrun.cli.guard import guard
        from nnrun.engine.distributed import refuse_launcher

        command = f"nnrun {context.invoked_subcommand}"
        guard(lambda: refuse_launcher(command, f"run {command} whole, side by side (only nnrun train spreads one "
                                      "run over them)", hint=f"run it once, without mpiexec: {command} ..."))
