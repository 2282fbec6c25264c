"""Load a config file safely, apply ``--set`` overrides, and locate every error.

The YAML is read into plain data with the position of every key and value
(:mod:`.yaml_reader`), ``--set`` overrides are applied (:mod:`.overrides`), and the
result is validated strictly, as JSON would be: ``"64"`` is not a number and ``1`` is
not ``true``. Every Pydantic error is mapped back to its position and rendered as
``file:line:col: dotted.path: message``; errors found later (graph, data) are placed
the same way by :meth:`LoadedConfig.locate`.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nnrun.config.locations import meant_member, union_member_at
from nnrun.config.messages import describe
from nnrun.config.overrides import apply_overrides
from nnrun.config.render import QuotedConfigError
from nnrun.config.run_names import default_name
from nnrun.config.schema import Config
from nnrun.config.python_values import json_value, objects_inside, text_keys
from nnrun.config.yaml_reader import Location, PathKey, read_yaml
from nnrun.errors import ConfigError, Problem, UserError, quoted

__all__ = ["LoadedConfig", "apply_overrides", "file_kind", "load_config", "read_yaml", "validate"]


@dataclass
class LoadedConfig:
    """A validated config and where each of its values came from."""

    config: Config
    source: str
    values: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)
    overrides: dict[PathKey, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # the file's text, quoted under each problem

    def locate(self, error: ConfigError) -> ConfigError:
        """Fill in file, line and column for problems raised after loading."""
        return self.error([self._place(p, by_key=False) for p in error.problems])

    def error(self, problems: list[Problem]) -> ConfigError:
        return QuotedConfigError(self.source, problems, self.lines)

    def place(self, problem: Problem, by_key: bool = False) -> Problem:
        """The problem with the line and column of its path (of its key when ``by_key``)."""
        return self._place(problem, by_key)

    def _place(self, problem: Problem, by_key: bool) -> Problem:
        parts = tuple(int(p) if p.isdigit() else p for p in problem.path.split(".")) if problem.path else ()
        inside = [origin for path, origin in self.overrides.items() if parts and path[: len(parts)] == parts != path]
        if inside:  # e.g. a check of data.split as a whole, after --set data.split.test=...
            # One --set that gave several keys of a block is named once.
            return Problem(problem.path, f"{problem.message} (from {', '.join(dict.fromkeys(inside))})")
        # A value --set gave, or one inside it (--set model.layers=[...] replaced the file's
        # layers, whose lines no longer say anything about model.layers.0).
        for end in range(len(parts), -1, -1):
            # A number may be a mapping's key too: --set loss.class_weights={0: 2} names class '0'
            origin = self.overrides.get(parts[:end]) or self.overrides.get(tuple(map(str, parts[:end])))
            if origin:
                return Problem(problem.path, f"{problem.message} (from {origin})")
        for end in range(len(parts), -1, -1):
            prefix = parts[:end]
            where = (self.keys.get(prefix) if by_key else None) or self.values.get(prefix)
            if where:
                return Problem(problem.path, problem.message, *where)
        return problem


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> LoadedConfig:
    """Read, check and validate a config file; raise :class:`UserError` on any mistake."""
    source = str(path)
    data, values, keys, lines = read_yaml(Path(path))
    if file_kind(data) == "sweep":
        has = "base: and parameters:" if "parameters" in data else "base: and no data: or model:"
        raise UserError(f"{source} is a sweep file (it has {has}), not a training config; "
                        f"run it with: nnrun sweep {quoted(source)}")
    if not isinstance(data, dict):
        kinds = {list: "a list", str: "a word or a text", int: "a number", float: "a number", bool: "true or false"}
        kind = "an empty file" if data is None else kinds.get(type(data), f"a {type(data).__name__}")
        message = f"the config must be a mapping of sections (data:, model:, loss:, ...), got {kind}"
        raise QuotedConfigError(source, [Problem("", message, *values.get((), (1, 1)))], lines)
    applied = apply_overrides(data, overrides)
    data.setdefault("name", default_name(Path(path)))
    loaded = LoadedConfig(None, source, values, keys, applied, lines)  # type: ignore[arg-type]
    loaded.config = validate(data, loaded)
    return loaded


def file_kind(data: Any) -> str | None:
    """Which kind of file nnrun was given, from its top-level keys: ``"sweep"`` (it names a
    base config and the parameters to search, or a base and no data: or model:),
    ``"config"`` (a training config: data: or model:, and neither of a sweep's keys), or
    None when it is too broken to tell. ``nnrun validate`` takes either kind; ``train``
    and ``sweep`` each name the other command for the other kind, rather than listing
    every key of the one they expected as wrong."""
    if not isinstance(data, dict):
        return None
    # A base: without a training config's sections is a sweep file too, whose
    # parameters: is missing or misspelt: the sweep checks name that key.
    if "base" in data and ("parameters" in data or not {"data", "model"} & data.keys()):
        return "sweep"
    if not {"base", "parameters"} & data.keys() and {"data", "model"} & data.keys():
        return "config"
    return None


def validate(data: dict, loaded: LoadedConfig) -> Config:
    twice: list[Problem] = []
    data = text_keys(data, (), twice)
    objects = twice + [Problem(path, message) for path, message in objects_inside(data)]
    if objects:
        raise loaded.error(objects)
    try:
        # JSON mode: the data holds only what JSON can (the reader made sure), and
        # strict JSON validation accepts exactly the YAML types a field asks for.
        return Config.model_validate_json(json.dumps(data, default=json_value), strict=True)
    except ValidationError as exc:
        problems = _problems(exc.errors(), data, loaded)
        # A type Keras spells otherwise (Dense, Adam) hides its block's other problems;
        # with the type it surely means, they are told in the same round.
        corrected = _keras_types_corrected(exc.errors(), data)
        if corrected is not None:
            try:
                Config.model_validate_json(json.dumps(corrected, default=json_value), strict=True)
            except ValidationError as again:
                told = {problem.path for problem in problems}
                problems += [p for p in _problems(again.errors(), corrected, loaded) if p.path not in told]
        raise loaded.error(problems) from None


def _problems(errors: list[dict], data: dict, loaded: LoadedConfig) -> list[Problem]:
    """Pydantic's errors as located problems, one per mistake (see describe)."""
    problems, unfit = [], {}
    for err in errors:
        member = union_member_at(err["loc"])
        meant = _meant(err, member, errors, data) if member is not None else True
        if meant is False:
            continue
        shown = err["loc"] if member is None else err["loc"][:member] + err["loc"][member + 1:]
        path, node = user_path(shown, data)
        if err["type"] == "missing" and isinstance(path[-1], int) and isinstance(err.get("input"), list):
            path = path[:-1]  # a list too short: said of the list
        if _other_branch(err, path, errors, data):
            continue
        if err["type"] == "union_tag_invalid" and isinstance(node, dict):
            path += ("type",)  # point at the misspelled type itself
        problem = Problem(".".join(map(str, path)), describe(err, path))
        if meant is None:  # said once for every member, below
            unfit.setdefault(problem.path, []).append(problem)
            continue
        problems.append(loaded._place(problem, by_key=err["type"] == "extra_forbidden"))
    return problems + [loaded._place(_either(found), by_key=False) for found in unfit.values()]


def _keras_types_corrected(errors: list[dict], data: dict) -> dict | None:
    """A copy of ``data`` with each unknown ``type`` that has one sure Keras reading
    (Dense -> dense) replaced by it; None when there is none."""
    from nnrun.config.keras_words import keras_meaning

    corrected, changed = copy.deepcopy(data), False
    for err in errors:
        if err["type"] != "union_tag_invalid" or not isinstance(err.get("input"), dict):
            continue
        options = re.findall(r"'([^']*)'", (err.get("ctx") or {}).get("expected_tags", ""))
        meant = keras_meaning(str(err["input"].get("type")), options)
        node = _at(corrected, err["loc"])
        if meant is not None and isinstance(node, dict):
            node["type"], changed = meant, True
    return corrected if changed else None


def _at(data: Any, loc: tuple) -> Any:
    """The value at a Pydantic location inside plain data, or None."""
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _meant(err: dict, member: int, errors: list[dict], data: dict) -> bool | None:
    """A value that fits no member of a union of plain values (``kernel_size: [1, 2, 3]``
    for a number or a pair) fails each member; only the member its kind is written for
    (the pair, for a list) says what is wrong: True for that member's errors, False for
    the others'. None when the value's kind fits no member (a mapping for a number or a
    pair): then every member says what it expected, in one message."""
    union = err["loc"][:member]
    value = user_path(union, data)[1]
    labels = {other["loc"][member] for other in errors if other["loc"][:member] == union and len(other["loc"]) > member}
    if not any(meant_member(label, value) for label in labels if isinstance(label, str)):
        return None
    return meant_member(err["loc"][member], value)


def _either(problems: list[Problem]) -> Problem:
    """One message for what each member of a union expected: ``expected a whole number
    or a list, got 'a'``."""
    expected = [p.message.removeprefix("expected ").rsplit(", got ", 1) for p in problems]
    if len(problems) == 1 or not all(p.message.startswith("expected ") and len(e) == 2 for p, e in zip(problems, expected)):
        return Problem(problems[0].path, "; ".join(dict.fromkeys(p.message for p in problems)))
    return Problem(problems[0].path, f"expected {' or '.join(dict.fromkeys(e[0] for e in expected))}, got {expected[0][1]}")


def _other_branch(err: dict, path: tuple, errors: list[dict], data: dict) -> bool:
    """A name or a mapping (``initializer: GlorotUniform`` or ``{type: constant}``) fails
    both members of its union; the mapping member's "expected a mapping" says nothing
    about a misspelled name when the name member has its own error at the same place,
    nor the name member's about a mapping with its own errors inside."""
    if err["type"] in ("literal_error", "enum") and isinstance(err.get("input"), dict):
        # The other way round: a mapping with a wrong value inside ({type: constant, value: .inf})
        # is told there; the name member's "expected one of ..., got a mapping" says nothing.
        # A mapping whose type is no mapping member's ({type: he_normal}) keeps it: the name is the fix.
        inside = [user_path(other["loc"], data)[0] for other in errors if other is not err]
        return any(found[:len(path)] == path and len(found) > len(path) and found != (*path, "type")
                   for found in inside)
    if err["type"] not in ("model_type", "dict_type") or not isinstance(err.get("input"), str):
        return False
    places = {path, path[:-1]}  # the member's name may end the path (``kernel_initializer.Constant``)
    return any(other is not err and user_path(other["loc"], data)[0] in places for other in errors)


def user_path(loc: tuple, data: Any) -> tuple[tuple, Any]:
    """Map a Pydantic error location to the path of keys in the YAML, dropping union
    tags (``layers.0.dense.units`` -> ``layers.0.units``); also returns the node there
    (None when the last key is missing from the file)."""
    path: list = []
    node = data
    for depth, part in enumerate(loc):
        if depth < len(loc) - 1 and isinstance(node, dict) and node.get("type") == part:
            continue  # the block's type, as the union's tag, before a key of that name ({type: scale, scale: 2})
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif depth < len(loc) - 1 or isinstance(part, str) and "[" in part or _is_tag(node, part):
            continue  # a discriminator tag or a validator wrapper, not a key
        else:
            return tuple(path) + (part,), None
        path.append(part)
    return tuple(path), node


def _is_tag(node: Any, part: Any) -> bool:
    """The ``type`` of the block itself, as in a model validator's error location."""
    return isinstance(node, dict) and node.get("type") == part or isinstance(node, str) and node == part
