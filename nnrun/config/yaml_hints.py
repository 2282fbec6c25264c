"""What PyYAML's words mean for the commonest slips in a hand-written file: the hint
under an "invalid YAML" error, and the line really at fault where YAML fails on the
line after it (``epochs:100`` read as text running on into ``batch_size: 32``).
"""

from __future__ import annotations

import re

import yaml


def syntax_hint(exc: yaml.MarkedYAMLError, lines: list[str]) -> str | None:
    """What PyYAML's words mean for the commonest slips in a hand-written file."""
    problem, start, mark = exc.problem or "", exc.context_mark, exc.problem_mark
    if problem.startswith("expected <block end>") and mark:
        before = next((n for n in range(mark.line - 1, -1, -1) if lines[n].strip()
                       and not lines[n].lstrip().startswith("#")), None)
        here = lines[mark.line] if mark.line < len(lines) else ""
        if before is not None and lines[before].lstrip().startswith("- ") and \
                spaces(here) == spaces(lines[before]) and not here.lstrip().startswith("-"):
            # "- type: dense" then "units: 1" under the dash: a key of the item, one level short.
            under = spaces(lines[before]) + 2
            return (f"this line starts in the column of the '-' on line {before + 1}; a key of that item goes under "
                    f"its first key: indent it by {under} spaces")
        told = "" if before is None else (f"line {before + 1} is indented by {_indent(lines[before])} and this "
                                          f"line by {_indent(lines[mark.line])}; ")
        return (f"{told}the keys of one mapping, and the '-' items of one list, start in the same column, "
                "and what a key holds is indented further than the key")
    if "could not find expected ':'" in problem:
        return "a key on this line or the line before it has no ':' after it; write key: value"
    if "mapping values are not allowed here" in problem and mark and mark.line < len(lines):
        before = next((n for n in range(mark.line - 1, -1, -1) if lines[n].strip()), None)
        key = re.match(r"\s*(?:- )?([^\s:#][^:#]*):\s*\S", lines[before]) if before is not None else None
        if key and spaces(lines[mark.line]) > spaces(lines[before]):
            # "units: 64" then " activation: relu" one column further: read as more of 64.
            column = lines[before].index(key.group(1)) + 1
            return (f"this line is indented further than '{key.group(1).strip()}' on line {before + 1}, so YAML "
                    f"reads it as more of that key's value: start it in the same column ({column})")
    if "mapping values are not allowed here" in problem:
        return ("a ':' YAML did not expect: a value that holds ': ' needs quotes, or a key sits on the line "
                "of another key's value")
    if problem.startswith(("expected ',' or '}'", "expected ',' or ']'")):
        opened = f"that opens on line {start.line + 1}" if start else "before this point"
        return f"the {{...}} or [...] {opened} lacks a comma between items, or its closing bracket"
    return None


def keyless_line(exc: yaml.MarkedYAMLError, lines: list[str]) -> tuple[int, str, str] | None:
    """A line with no ': ' after its key ("epochs:100", "name iris"), which YAML reads as
    text running on into the next line, where it fails: that line's index, what is
    wrong with it and how to write it; None when the line before the error has its key."""
    problem, mark = exc.problem or "", exc.problem_mark
    if not mark or mark.line >= len(lines) or not any(
            words in problem for words in ("mapping values are not allowed here", "could not find expected ':'")):
        return None
    before = next((n for n in range(mark.line - 1, -1, -1) if lines[n].strip()
                   and not lines[n].lstrip().startswith("#")), None)
    if before is None or spaces(lines[before]) != spaces(lines[mark.line]) or not _reads_alone(lines[mark.line]):
        return None  # the error's own line is at fault (or the two are of different blocks)
    content = lines[before].split(" #", 1)[0].rstrip()
    if re.search(r":(\s|$)", content) or any(bracket in content for bracket in "{}[]\"'"):
        return None
    # A key glued to its value, a key and its value with no ':' between, or a key alone;
    # never a list item or a document marker ("- flatten", "---"), which are fine lines.
    glued = re.fullmatch(r"\s*([A-Za-z_][\w.]*):(\S.*)", content)
    spaced = re.fullmatch(r"\s*([A-Za-z_][\w.]*)\s+(\S.*)", content)
    if glued:
        return (before, f"'{content.strip()}' is no key and value: YAML needs a space after the ':'",
                f"write '{glued.group(1)}: {glued.group(2)}'")
    if spaced or re.fullmatch(r"\s*[A-Za-z_][\w.]*", content):
        said = f"'{content.strip()}' has no ':' after its key, so YAML reads it as text running on into line " \
               f"{mark.line + 1}"
        return before, said, f"write '{spaced.group(1)}: {spaced.group(2)}'" if spaced else \
            "write a key and its value as key: value"
    return None


def _reads_alone(line: str) -> bool:
    """Whether a line is good YAML by itself (``batch_size: 32``), as a line after one
    that ran on into it is."""
    try:
        yaml.safe_load(line.strip())
    except yaml.YAMLError:
        return False
    return True


def spaces(line: str) -> int:
    """The indentation of ``line``, in spaces."""
    return len(line) - len(line.lstrip(" "))


def _indent(line: str) -> str:
    count = spaces(line)
    return f"{count} space{'s' if count != 1 else ''}"
