"""How arguments and options read in every command's help: as click writes them, the
same in every command and with every Typer release.

Newer Typer releases write a required argument in braces in the usage line
(``nnrun evaluate [OPTIONS] {RUN_DIR}``) and a Python type after each name
(``RUN_DIRS <list[Path]>``, ``--split <str>``). Here an argument reads as its name
(``RUN_DIR``, ``[CONFIG]`` where it may be left out, ``RUN_DIRS...`` for several), and a
value without a metavar of its own as click names its kind (``TEXT``, ``PATH``,
``INTEGER``). Releases without these methods are left as they are.
"""

from __future__ import annotations

import re

KINDS = {"str": "TEXT", "path": "PATH", "int": "INTEGER", "float": "FLOAT", "bool": "BOOLEAN"}


def plain_help(core) -> None:
    """Write arguments and option values plainly in ``core`` (``typer.core``)."""
    argument, option = getattr(core, "TyperArgument", None), getattr(core, "TyperOption", None)
    if argument is not None and hasattr(argument, "_usage_display_name") and hasattr(argument, "display_type_rich"):
        argument._usage_display_name = _usage_name
        argument.display_type_rich = lambda self, ctx: None  # the name and its help say what it is
    if option is not None and hasattr(option, "display_type_rich"):
        typed = option.display_type_rich
        option.display_type_rich = lambda self, ctx: self.metavar or _kind(typed(self, ctx))


def _usage_name(self) -> str:
    name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
    return name + ("..." if self.nargs != 1 else "")


def _kind(shown: str | None) -> str | None:
    """'<str>' as TEXT, '<list[Path]>...' as PATH...; a list of choices as it is."""
    if shown is None:
        return None
    match = re.fullmatch(r"<(?:list\[)?(\w+)\]?>(\.\.\.)?", shown)
    return KINDS.get(match[1].lower(), match[1].upper()) + (match[2] or "") if match else shown
