"""The first line of a CSV file: its column names, and what to say when they show that
the file is separated by another character, is no text, or is no file at all.

May import: :mod:`nnrun.errors`, :mod:`nnrun.data.reading`.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from pathlib import Path

from nnrun.data.reading import python_encoding
from nnrun.errors import UserError, near_file

UTF8_HINT = "save the file as UTF-8 (spreadsheet programs call it 'CSV UTF-8')"


def read_header(path: Path, delimiter: str = ",",
                setting: str | None = "data.source.delimiter", decimal: str = ".", text_encoding: str = "utf-8"
                ) -> list[str]:
    """The column names of the first line, stripped; unreadable or empty files,
    folders and repeated names are user errors (a config's files are checked by its
    source first, each at its key). A header of one column that holds another
    likely separator is an error whose hint names ``setting`` (and ``decimal: ","`` too
    when the file's numbers want it and ``decimal`` is not that already; ``setting`` None
    for a trained run's files, which are read as training read its own)."""
    try:
        with open(path, newline="", encoding=python_encoding(text_encoding)) as handle:
            header = [name.strip() for name in next(csv.reader(handle, delimiter=delimiter), [])]
    except FileNotFoundError:
        raise UserError(f"{path}: no such file{near_file(path)}") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        error = not_utf8(path, setting is not None, text_encoding)
        if setting is not None and "cp1252" in (error.hint or ""):  # Excel's 'CSV' often has its own separator too
            separated = _separated_otherwise(path, delimiter, setting, decimal)
            error = UserError(error.message, hint=f"{error.hint}; then also {separated}") if separated else error
        raise error from None
    except csv.Error as exc:
        raise UserError(f"{path}: not a valid CSV file ({exc})") from None
    if not header:
        raise UserError(f"{path}: the file is empty; a CSV file needs a header row and data rows")
    if (excel := re.fullmatch(r"sep=(.)?", delimiter.join(header), re.IGNORECASE)) is not None:
        # Excel's own first line, 'sep=;', names the separator for Excel alone
        named = excel.group(1) or delimiter
        raise UserError(f"{path}: line 1 is Excel's '{delimiter.join(header)}' line, not the header",
                        hint=f"delete that line; the header is on line 2 (the file is separated by "
                             f"{_separator_name(named)})")
    if any("\0" in name for name in header) and (binary := binary_data(path)) is not None:
        raise binary  # control bytes that happen to decode: binary data, never a header to print
    if text_encoding != "utf-8" and likely_utf8(path):  # its accents would be read as two characters each
        fix = f"set {setting.rsplit('.', 1)[0]}.encoding: utf-8" if setting else "read it with --encoding utf-8"
        raise UserError(f"{path}: UTF-8 text, read as {text_encoding}", hint=fix)
    if len(header) == 1:  # a file separated by something else reads as one column
        separator = next((s for s in SEPARATORS if s != delimiter and s in header[0]), None)
        if separator:
            raise UserError(f"{path}: the header is one column, {header[0]!r}: the file looks separated by "
                            f"{_separator_name(separator)}, not {_separator_name(delimiter)}",
                            hint=_separator_hint(path, separator, delimiter, setting, decimal))
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        columns = {name: [str(i + 1) for i, n in enumerate(header) if n == name] for name in repeated[:5]}
        where = "; ".join(f"{name!r} is columns {', '.join(at[:-1])} and {at[-1]}" if name else
                          f"columns {', '.join(at[:-1])} and {at[-1]} have no name" for name, at in columns.items())
        where += f"; and {len(repeated) - 5} more names" if len(repeated) > 5 else ""
        unnamed = [i for i, name in enumerate(header) if not name]
        trailing = "" in repeated and unnamed == list(range(len(header) - len(unnamed), len(header)))
        hint = ("the columns without a name are the last ones, as a spreadsheet writes a row's empty cells at its "
                f"end ('{delimiter}{delimiter}'): delete them from the file, or name them (extra_1, extra_2) and list "
                "them in data.source.ignore") if trailing else \
            "give each column a name of its own in the file's first line"
        raise UserError(f"{path}: line 1, the header, does not name each column once: {where}", hint=hint)
    return header


SEPARATORS = (",", ";", "\t", "|")


def _separated_otherwise(path: Path, delimiter: str, setting: str, decimal: str) -> str | None:
    """The separator setting (and decimal mark) a file read as cp1252 wants, when its
    header reads as one column that holds another separator; so that both fixes are told
    at once."""
    with open(path, newline="", encoding="cp1252", errors="replace") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
    separator = next((s for s in SEPARATORS if s != delimiter and s in header[0]), None) if len(header) == 1 else None
    return _separator_hint(path, separator, delimiter, setting, decimal) if separator else None


def _separator_name(separator: str) -> str:
    return {"\t": "tabs", ",": "commas", ";": "semicolons"}.get(separator, repr(separator))


def _separator_hint(path: Path, separator: str, delimiter: str, setting: str | None, decimal_set: str) -> str:
    comma = _decimal_comma(path) if separator == ";" and decimal_set == "." else None
    if setting is None:  # a trained run's file: read as the training files were, or as --delimiter says
        option = "tab" if separator == "\t" else f"'{separator}'"  # a tab pasted from a terminal is spaces
        point = " --decimal '.'" if decimal_set == "," and _writes_decimal_points(path, separator) else ""
        point += f" --decimal ',' (it writes numbers like {comma})" if comma else ""
        return (f"read it as it is with --delimiter {option}{point}, or save it with {_separator_name(delimiter)} "
                "between the cells")
    written = '"\\t"' if separator == "\t" else f'"{separator}"'
    decimal = f' and data.source.decimal: "," (it writes numbers like {comma})' if comma else ""
    return f"set {setting}: {written}{decimal}"


def _decimal_comma(path: Path) -> str | None:
    """A number with a decimal comma ('3,25') among a file's first cells separated by
    semicolons, as a locale that writes them separates its files; None if there is none."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        sample = handle.read(1 << 14)
    numbers = re.findall(r"(?:^|;)\s*(-?\d+,\d+)\s*(?=;|$)", sample, re.MULTILINE)
    clear = [number for number in numbers if len(number.split(",")[1]) != 3]
    if clear:
        return clear[0]
    # '1,421' alone may group thousands; beside numbers with decimal points ('424.48') it does.
    points = re.search(r"(?:^|;)\s*-?\d+\.\d+\s*(?:;|$)", sample, re.MULTILINE)
    return numbers[0] if numbers and not points else None


def _writes_decimal_points(path: Path, separator: str) -> bool:
    """Whether the numbers in a file's first cells have decimal points ('5.25') and none
    a decimal comma ('5,25', quoted in a file of commas): read under a run that reads
    decimal commas, such a file needs --decimal . as well."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        cells = [cell.strip() for row in itertools.islice(csv.reader(handle, delimiter=separator), 200) for cell in row]
    return any(re.fullmatch(r"[-+]?\d*\.\d+", c) for c in cells) and not any(
        re.fullmatch(r"[-+]?\d+,\d+", c) for c in cells)


def not_utf8(path: Path, settable: bool = True, text_encoding: str = "utf-8") -> UserError:
    """The error for a file that does not decode as ``text_encoding``, naming the line of
    its first bad byte. For a UTF-8 reading, the hint names ``encoding: cp1252`` (a
    setting where the config may say so, ``settable``; else predict's option) only for a
    file with no UTF-8 text in it at all: cp1252 decodes nearly any bytes, and would
    garble the accents of a UTF-8 file with one bad line. UTF-16 is named as such."""
    # Plain UTF-8, not utf-8-sig: a byte order mark decodes, and offsets count it.
    decoder, offset, line = codecs.getincrementaldecoder(text_encoding)(), 0, 1
    with open(path, "rb") as raw:
        while block := raw.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                offset += exc.start
                line += block[: exc.start].count(b"\n")
                break
            offset, line = offset + len(block), line + block.count(b"\n")
    name = "UTF-8" if text_encoding == "utf-8" else text_encoding
    if utf16(path):
        return UserError(f"{path}: UTF-16 text, which nnrun does not read", hint=UTF8_HINT)
    binary = binary_data(path)
    if binary is not None:
        return binary
    hint = UTF8_HINT
    if text_encoding == "utf-8" and has_utf8_text(path):
        hint = "the file holds UTF-8 text elsewhere: that line was written in another encoding; fix its text"
    elif text_encoding == "utf-8" and reads_as(path, "cp1252"):
        setting = "set data.source.encoding: cp1252" if settable else "read it with --encoding cp1252"
        hint = f"it reads as cp1252, what Excel on Windows saves as 'CSV': {setting}, or {UTF8_HINT}"
    elif text_encoding != "utf-8":
        hint = f"the file is not {text_encoding} text; {UTF8_HINT}, and read it as UTF-8"
    return UserError(f"{path}, line {line}: not {name} text (bad byte at offset {offset})", hint=hint)


def binary_data(path: Path) -> UserError | None:
    """The error for a file that holds a NUL byte, which no text file does (a workbook,
    a NumPy array, weights, an archive), saying what to give instead; None for text.
    Bytes of control characters may still decode as text: told so, never printed."""
    with open(path, "rb") as raw:
        sample = raw.read(SAMPLE)
    zero = sample.find(b"\0")
    if zero < 0:
        return None
    if utf16(path):  # text after all, of two bytes a character
        return UserError(f"{path}: UTF-16 text, which nnrun does not read", hint=UTF8_HINT)
    suffix = path.suffix.lower()
    # A workbook by its first bytes (a zip archive, or the old binary format), whatever its name says.
    workbook = suffix in (".xlsx", ".xls", ".xlsm", ".ods") or sample.startswith(b"PK\x03\x04") and any(
        part in sample for part in (b"xl/", b"opendocument.spreadsheet"))  # Excel's parts, or an OpenDocument sheet
    hint = ("save the sheet as a CSV file (UTF-8)" if workbook else
            "it is a NumPy array (.npy): save it as an .npz archive, which nnrun reads: numpy.savez(path, "
            "x=samples), with y=targets beside them where they go with the samples" if suffix == ".npy" else
            "give a CSV text file, with a header row and cells separated by commas")
    what = "a spreadsheet workbook" if workbook else f"binary data (a zero byte at offset {zero})"
    return UserError(f"{path}: not a CSV file: it holds {what}", hint=hint)


# A character UTF-8 writes in two to four bytes: proof the file holds UTF-8 text.
UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
SAMPLE = 1 << 20  # bytes looked at to tell an encoding


def starts_utf8_bom(path: Path) -> bool:
    """Whether the file begins with a UTF-8 byte order mark (false where it cannot be read:
    the header's reading says why)."""
    try:
        with open(path, "rb") as raw:
            return raw.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    except OSError:
        return False


def has_utf8_text(path: Path) -> bool:
    """Whether the first ``SAMPLE`` bytes hold a UTF-8 byte order mark or character of
    several bytes."""
    with open(path, "rb") as raw:
        sample = raw.read(SAMPLE)
    return sample.startswith(codecs.BOM_UTF8) or UTF8_SEQUENCE.search(sample) is not None


def likely_utf8(path: Path) -> bool:
    """Whether the file's first ``SAMPLE`` bytes are UTF-8 text with a character of
    several bytes (or a byte order mark): no cp1252 text is that, in practice."""
    with open(path, "rb") as raw:
        sample = raw.read(SAMPLE)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # not just a character cut at the sample's end
            return False
    return sample.startswith(codecs.BOM_UTF8) or UTF8_SEQUENCE.search(sample) is not None


def utf16(path: Path) -> bool:
    """A UTF-16 byte order mark, as spreadsheets' 'Unicode text' starts; or none, but
    every other byte of the first line zero, as UTF-16 writes plain text."""
    with open(path, "rb") as raw:
        start = raw.read(512)
    if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return True
    pairs = start[: len(start) // 2 * 2]
    return len(pairs) >= 8 and any(pairs[i::2].count(0) == len(pairs) // 2 and 0 not in pairs[1 - i::2]
                                   for i in (0, 1))


def reads_as(path: Path, text_encoding: str) -> bool:
    """Whether the whole file decodes as ``text_encoding``."""
    try:
        with open(path, encoding=text_encoding) as handle:
            while handle.read(1 << 20):
                pass
    except (UnicodeDecodeError, OSError):
        return False
    return True
