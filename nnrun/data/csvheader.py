"""The first line of a CSV file: its column names, and what to say when they show that
the file is separated by another character, is no text, or is no file at all.

May import: :mod:`nnrun.errors`, :mod:`nnrun.data.reading`.
"""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

from nnrun.data.reading import python_encoding
from nnrun.errors import ConfigError, Problem, UserError

UTF8_HINT = "save the file as UTF-8 (spreadsheet programs call it 'CSV UTF-8')"


def read_header(path: Path, hint: str | None = None, key: str | None = None, delimiter: str = ",",
                setting: str | None = "data.source.delimiter", decimal: str = ".", text_encoding: str = "utf-8"
                ) -> list[str]:
    """The column names of the first line, stripped; unreadable or empty files,
    folders and repeated names are user errors (an absent file names the config
    ``key`` that gave it, with ``hint``). A header of one column that holds another
    likely separator is an error whose hint names ``setting`` (and ``decimal: ","`` too
    when the file's numbers want it and ``decimal`` is not that already; ``setting`` None
    for a trained run's files, which are read as training read its own)."""
    try:
        with open(path, newline="", encoding=python_encoding(text_encoding)) as handle:
            header = [name.strip() for name in next(csv.reader(handle, delimiter=delimiter), [])]
    except FileNotFoundError:
        if key:  # given by a config: the error points at its line
            because = f"; {hint}" if hint else ""
            raise ConfigError("", [Problem(key, f"{path}: no such file{because}")]) from None
        raise UserError(f"{path}: no such file", hint=hint) from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise not_utf8(path, setting is not None) from None
    except csv.Error as exc:
        raise UserError(f"{path}: not a valid CSV file ({exc})") from None
    if not header:
        raise UserError(f"{path}: the file is empty; a CSV file needs a header row and data rows")
    if len(header) == 1:  # a file separated by something else reads as one column
        separator = next((s for s in SEPARATORS if s != delimiter and s in header[0]), None)
        if separator:
            raise UserError(f"{path}: the header is one column, {header[0]!r}: the file looks separated by "
                            f"{_separator_name(separator)}, not {_separator_name(delimiter)}",
                            hint=_separator_hint(path, separator, delimiter, setting, decimal))
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise UserError(f"{path}: the header names {', '.join(repr(n) for n in repeated)} more than once")
    return header


SEPARATORS = (",", ";", "\t", "|")


def _separator_name(separator: str) -> str:
    return {"\t": "tabs", ",": "commas", ";": "semicolons"}.get(separator, repr(separator))


def _separator_hint(path: Path, separator: str, delimiter: str, setting: str | None, decimal_set: str) -> str:
    if setting is None:  # a trained run's file: read as the training files were, or as --delimiter says
        return f"read it as it is with --delimiter '{separator}'" + \
            ("" if separator != "\t" else " (a tab)") + f", or save it with {_separator_name(delimiter)} between the cells"
    written = '"\\t"' if separator == "\t" else f'"{separator}"'
    decimal = ""
    if separator == ";" and decimal_set == ".":  # files separated so mostly come from a locale that writes "3,25"
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            sample = handle.read(1 << 14)
        number = re.search(r"(?:^|;)\s*(-?\d+,\d+)\s*(?:;|$)", sample, re.MULTILINE)
        if number:
            decimal = f' and data.source.decimal: "," (it writes numbers like {number.group(1)})'
    return f"set {setting}: {written}{decimal}"


def not_utf8(path: Path, settable: bool = True) -> UserError:
    """The error for a file that is not UTF-8, naming the line of its first bad byte;
    the hint names ``data.source.encoding: cp1252`` where that reads it and the config
    may say so (``settable``; a trained run reads files as it read its own)."""
    decoder, offset, line = codecs.getincrementaldecoder("utf-8")(), 0, 1
    with open(path, "rb") as raw:
        while block := raw.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                offset += exc.start
                line += block[: exc.start].count(b"\n")
                break
            offset, line = offset + len(block), line + block.count(b"\n")
    hint = UTF8_HINT
    if reads_as(path, "cp1252"):
        setting = "set data.source.encoding: cp1252" if settable else "read it with --encoding cp1252"
        hint = f"it reads as cp1252, what Excel on Windows saves as 'CSV': {setting}, or {UTF8_HINT}"
    return UserError(f"{path}, line {line}: not UTF-8 text (bad byte at offset {offset})", hint=hint)


def reads_as(path: Path, text_encoding: str) -> bool:
    """Whether the whole file decodes as ``text_encoding``."""
    try:
        with open(path, encoding=text_encoding) as handle:
            while handle.read(1 << 20):
                pass
    except (UnicodeDecodeError, OSError):
        return False
    return True
