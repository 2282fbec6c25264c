"""The Typer application: every command registered, in the order ``nnrun --help`` lists them.

Each command declares its options and calls one function, through :func:`guard`, which
turns nnrun's errors into one message and an exit code. Heavy modules are imported
inside the commands so every command starts fast. Every command is registered in
:data:`COMMANDS`; its one-line summary comes from :mod:`nnrun.cli.quick_help`, which
prints the top-level help without this module.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Optional

# The command line uses no Pydantic plugins, and looking for them reads the metadata of
# every installed package (30 ms of each command's start); a user's own setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
PLUGIN_LOADER = "pydantic.plugin._loader"


def _plugin_loader_without_discovery() -> None:
    """With every plugin disabled, stand in for Pydantic's plugin loader module.

    Even with plugins disabled, the loader module imports importlib.metadata when it is
    first imported (as the first validator is built): 21 ms, an eighth of what importing
    numpy, yaml, pydantic and rich takes, for a lookup that the setting then skips. The
    stand-in answers ``get_plugins()`` with no plugins while the setting disables all of
    them, as the loader would, and hands anything else to the real module, imported then.
    """
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in ("__all__", "1", "true") or PLUGIN_LOADER in sys.modules:
        return
    stand_in = types.ModuleType(PLUGIN_LOADER, "nnrun's stand-in for Pydantic's plugin loader (plugins disabled)")

    def real_module():
        if sys.modules.get(PLUGIN_LOADER) is stand_in:
            del sys.modules[PLUGIN_LOADER]
        import importlib

        return importlib.import_module(PLUGIN_LOADER)

    def get_plugins():
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in ("__all__", "1", "true"):
            return ()
        return real_module().get_plugins()  # the setting changed since: look for them after all

    def other(name: str):
        if name.startswith("__"):  # asked by the import system itself (__path__: is it a package?)
            raise AttributeError(name)
        return getattr(real_module(), name)

    stand_in.get_plugins, stand_in.__getattr__ = get_plugins, other
    sys.modules[PLUGIN_LOADER] = stand_in


_plugin_loader_without_discovery()

import typer  # noqa: E402  (after the settings above, which Pydantic reads on first use)

from nnrun.cli import browse_commands, run_commands, ship_commands, sweep_commands
from nnrun.cli.guard import debug as _debug
from nnrun.cli.quick_help import DEBUG_HELP, DESCRIPTION, SUMMARIES, VERSION_HELP
from nnrun.version import __version__

app = typer.Typer(
    name="nnrun",
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
    app.command(short_help=SUMMARIES[command.__name__])(command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nnrun {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help=DEBUG_HELP),
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True, help=VERSION_HELP),
) -> None:
    _debug["on"] = debug
