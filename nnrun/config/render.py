"""Config errors as people read them: each problem with the line it points at.

    error: config.yaml: 1 problem in the config
      config.yaml:10:43: model.layers.1.activation: categorical_crossentropy needs ...
         10 |     - {type: dense, units: 3, activation: sigmoid}
            |                                           ^
"""

from __future__ import annotations

from nnrun.errors import ConfigError, Problem, UserError

MAX_QUOTED = 100  # characters of a quoted line; a longer line is cut, the caret kept in view


class QuotedConfigError(ConfigError):
    """A :class:`ConfigError` that quotes the config's lines under each problem when
    rendered; its ``message`` stays the plain one-line-per-problem text."""

    def __init__(self, source: str, problems: list[Problem], lines: list[str], what: str = "the config") -> None:
        super().__init__(source, problems, what)
        self.lines = lines

    def render(self) -> str:
        rendered = [self.message.splitlines()[0]]
        for problem in self.problems:
            rendered.append("  " + problem.render(self.source))
            rendered += excerpt(self.lines, problem.line, problem.column)
        if self.hint:
            rendered.append(f"  hint: {self.hint}")
        return "\n".join(rendered)


class CombinedError(UserError):
    """Mistakes of several files found by one check (a sweep file and its base config),
    reported together, each file's under its own header."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("\n".join(error.message for error in errors))
        self.errors = errors

    def render(self) -> str:
        return "\n".join(error.render() for error in self.errors)


def excerpt(lines: list[str], line: int | None, column: int | None) -> list[str]:
    """The numbered source line and a caret under the column; nothing when unknown."""
    if line is None or not 1 <= line <= len(lines) or not lines[line - 1].strip():
        return []
    text, column = lines[line - 1].rstrip(), column or 1
    start = max(0, column - MAX_QUOTED // 2) if len(text) > MAX_QUOTED else 0
    shown = text[start : start + MAX_QUOTED]
    width = len(str(len(lines)))  # the same gutter for every quoted line of the file
    return [f"    {line:>{width}} | {shown}", f"    {'':>{width}} | {' ' * (column - 1 - start)}^"]
