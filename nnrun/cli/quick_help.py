"""``nnrun --help`` at the speed of Python's start-up.

Importing typer takes longer than a help screen may (0.1 s), so the top-level help is
printed here without it, laid out as typer lays it out (click's formatter: at most 80
columns, options and commands as two-column lists wrapped to the width). This module
owns the texts of that screen: the program's description, the options' help and each
command's one-line summary, which :mod:`nnrun.cli.application` hands to typer (``short_help``)
so both screens say the same; a test compares them at several widths.

May import: the standard library only.
"""

from __future__ import annotations

import sys

DESCRIPTION = "Train neural networks from a YAML file.\n\nExample: nnrun train configs/iris.yaml"
DEBUG_HELP = "Show tracebacks instead of short error messages."
VERSION_HELP = "Print the version."

# In the order the help lists them (``nnrun.cli.application.COMMANDS`` registers them in it).
SUMMARIES = {
    "train": "Train a model and write a run directory.",
    "sweep": "Search hyperparameters: a sweep file's trials, in parallel.",
    "runs": "List the runs in a folder, newest first, with their metrics.",
    "evaluate": "Reload a run and report its metrics on a split or a file.",
    "compare": "Show how two runs' configs and metrics differ.",
    "plot": "Plot loss and metrics per epoch to a PNG.",
    "init": "Write a commented starter config; never overwrites a file.",
    "layers": "List every layer, loss, optimizer and metric with its options.",
    "validate": "Check a config without training; print the model summary.",
    "predict": "Predict new samples with a trained run; writes a CSV.",
    "export": "Export a trained run to ONNX, preprocessing included.",
    "serve": "Serve a trained run over HTTP (/health, /metadata, /predict).",
    "schema": "Print the JSON Schema of the config language, for editors.",
    "datasets": "List the bundled data sets.",
}

# typer's own options of the top-level command, with its texts.
OPTIONS = (
    ("--debug", DEBUG_HELP),
    ("--version", VERSION_HELP),
    ("--install-completion", "Install completion for the current shell."),
    ("--show-completion", "Show completion for the current shell, to copy it or customize the installation."),
    ("--help", "Show this message and exit."),
)


def is_top_level_help(args: list[str]) -> bool:
    return args == ["--help"]


def render(columns: int | None = None) -> str:
    """The help screen for a terminal ``columns`` wide (default: this one's)."""
    import shutil  # here: every command imports this module to ask is_top_level_help (shutil, textwrap: 4 ms)

    columns = shutil.get_terminal_size().columns if columns is None else columns
    width = max(min(columns, 80) - 2, 50)
    lines = ["Usage: nnrun [OPTIONS] COMMAND [ARGS]...", ""]
    for paragraph in DESCRIPTION.split("\n\n"):
        lines += _wrap(paragraph, width, "  ", "  ") + [""]
    for heading, rows in (("Options", OPTIONS), ("Commands", tuple(SUMMARIES.items()))):
        lines.append(f"{heading}:")
        lines += _definitions(rows, width, indent=2)
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def print_help() -> None:
    sys.stdout.write(render())


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    import textwrap

    return textwrap.TextWrapper(width, initial_indent=first, subsequent_indent=rest,
                                replace_whitespace=False).wrap(text)


def _definitions(rows, width: int, indent: int, col_max: int = 30, spacing: int = 2) -> list[str]:
    """click's definition list: names padded to one column, texts wrapped beside them."""
    first_col = min(max(len(name) for name, _ in rows), col_max) + spacing
    text_width = max(width - first_col - 2, 10)
    out = []
    for name, text in rows:
        head = " " * indent + name
        wrapped = _wrap(text, text_width, "", "")
        if len(name) <= first_col - spacing:
            out.append(head + " " * (first_col - len(name)) + wrapped[0])
        else:
            out += [head, " " * (first_col + indent) + wrapped[0]]
        out += [" " * (first_col + indent) + line for line in wrapped[1:]]
    return out
