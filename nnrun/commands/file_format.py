"""How a CSV file given to ``predict`` or ``evaluate --data`` is written, where not as
the run's training files were: ``--delimiter``, ``--decimal``, ``--encoding`` and
``--thousands`` (and ``nnrun.evaluate``'s keywords of those names), checked here once
and handed to the reader as one dict."""

from __future__ import annotations

from pathlib import Path

from nnrun.errors import UserError


def file_format(delimiter: str | None = None, decimal: str | None = None, text_encoding: str | None = None,
                thousands: str | None = None) -> dict[str, str]:
    """``--delimiter``, ``--decimal``, ``--encoding``, ``--thousands``: how a file given
    to ``predict`` or ``evaluate --data`` is written where it differs from the run's
    training files. ``--thousands none`` reads numbers without a separator ("" here)."""
    from nnrun.data.csv_settings import TEXT_ENCODINGS, csv_delimiter

    given = {}
    if delimiter is not None:
        try:
            given["delimiter"] = csv_delimiter(delimiter)
        except ValueError as exc:
            raise UserError(f"--delimiter: {exc}") from None
    if decimal is not None:
        if decimal not in (".", ","):
            raise UserError(f"--decimal: expected '.' or ',', got {decimal!r}")
        given["decimal"] = decimal
    if text_encoding is not None:
        given["text_encoding"] = _known_encoding(text_encoding, TEXT_ENCODINGS)
    if thousands is not None:
        given["thousands"] = _separator(thousands)
        if given["thousands"] == given.get("decimal") == ",":  # as data.source refuses them
            raise UserError("--thousands and --decimal are both ','; a number has one decimal mark and groups its "
                            "thousands with another character",
                            hint="a decimal comma goes with --thousands '.' or ' '; a decimal point with ',' or ' '")
    return given


def _separator(thousands: str) -> str:
    """A thousands separator as --thousands gives it: one character that is no digit,
    sign or letter ('space' and 'none' by name), or "" for none."""
    named = {"none": "", "space": " "}.get(thousands.strip().lower())
    if named is not None:
        return named
    if len(thousands) != 1 or thousands.isalnum() or thousands in "+-eE":
        raise UserError(f"--thousands: expected one character that groups digits (',', '.', ' ', \"'\") or none, "
                        f"got {thousands!r}")
    return thousands


def _known_encoding(name: str, known: tuple[str, ...]) -> str:
    """One of ``known`` by any of Python's names for it (utf8, latin1, windows-1252)."""
    import codecs

    try:
        codec = codecs.lookup(name).name
    except LookupError:
        codec = None
    match = next((k for k in known if codec is not None and codecs.lookup(k).name == codec), None)
    if match is None:
        raise UserError(f"--encoding: expected one of {', '.join(known)}, got {name!r}")
    return match


def check_written(written: dict, source: Path) -> None:
    """Reading options are for a CSV file: refused for an .npz archive, which has none."""
    if written and source.suffix.lower() == ".npz":
        option = {"delimiter": "--delimiter", "decimal": "--decimal", "text_encoding": "--encoding",
                  "thousands": "--thousands"}[next(iter(written))]
        raise UserError(f"{option}: says how a CSV file is written; {source} is an .npz archive of arrays")
