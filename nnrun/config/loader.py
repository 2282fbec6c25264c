"""Load a config file safely, apply ``--set`` overrides, and locate every error.

YAML is composed into nodes by PyYAML's safe loader and turned into plain data here,
so each value keeps its line and column; anchors, aliases and tags beyond the plain
ones are refused. Validation errors from Pydantic are mapped back to those positions
and rendered as ``file:line:col: dotted.path: message``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ConfigError, Problem, UserError
from .messages import describe
from .schema import RUN_NAME_PATTERN, Config

MAX_BYTES = 1_000_000  # a config is a page of text; anything larger is a mistake
Location = tuple[int, int]
PathKey = tuple[Any, ...]


@dataclass
class LoadedConfig:
    """A validated config and where each of its values came from."""

    config: Config
    source: str
    values: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)
    overrides: dict[PathKey, str] = field(default_factory=dict)

    def locate(self, error: ConfigError) -> ConfigError:
        """Fill in file, line and column for problems raised after loading."""
        return ConfigError(self.source, [self._place(p, by_key=False) for p in error.problems])

    def _place(self, problem: Problem, by_key: bool) -> Problem:
        parts = tuple(int(p) if p.isdigit() else p for p in problem.path.split(".")) if problem.path else ()
        for end in range(len(parts), -1, -1):
            prefix = parts[:end]
            if prefix in self.overrides:
                return Problem(problem.path, f"{problem.message} (from {self.overrides[prefix]})")
            where = (self.keys.get(prefix) if by_key else None) or self.values.get(prefix)
            if where:
                return Problem(problem.path, problem.message, *where)
        return problem


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> LoadedConfig:
    """Read, check and validate a config file; raise :class:`UserError` on any mistake."""
    source = str(path)
    data, values, keys = read_yaml(Path(path))
    if not isinstance(data, dict):
        kind = "nothing" if data is None else type(data).__name__
        raise ConfigError(source, [Problem("", f"the config must be a mapping of sections, got {kind}", 1, 1)])
    applied = apply_overrides(data, overrides)
    data.setdefault("name", default_name(Path(path)))
    loaded = LoadedConfig(None, source, values, keys, applied)  # type: ignore[arg-type]
    loaded.config = validate(data, loaded)
    return loaded


def default_name(path: Path) -> str:
    import re

    stem = re.sub(r"[^A-Za-z0-9._-]", "-", path.stem).lstrip("._-")
    return stem if re.match(RUN_NAME_PATTERN, stem) else "run"


def validate(data: dict, loaded: LoadedConfig) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path, node = user_path(err["loc"], data)
            if err["type"] == "union_tag_invalid" and isinstance(node, dict):
                path += ("type",)  # point at the misspelled type itself
            problem = Problem(".".join(map(str, path)), describe(err, path))
            problems.append(loaded._place(problem, by_key=err["type"] == "extra_forbidden"))
        raise ConfigError(loaded.source, problems) from None


def user_path(loc: tuple, data: Any) -> tuple[tuple, Any]:
    """Map a Pydantic error location to the path of keys in the YAML, dropping union
    tags (``layers.0.dense.units`` -> ``layers.0.units``); also returns the node there
    (None when the last key is missing from the file)."""
    path: list = []
    node = data
    for depth, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif depth < len(loc) - 1 or isinstance(part, str) and "[" in part:
            continue  # a discriminator tag or a validator wrapper, not a key
        else:
            return tuple(path) + (part,), None
        path.append(part)
    return tuple(path), node


def read_yaml(path: Path) -> tuple[Any, dict, dict]:
    """Parse a YAML file into plain data plus the (line, column) of every value and key."""
    source = str(path)
    if path.is_dir() or not path.exists():
        raise UserError(f"{source}: no such config file", hint="check the path; configs/ holds examples")
    if path.stat().st_size > MAX_BYTES:
        raise UserError(f"{source}: the file is larger than {MAX_BYTES // 1000} kB; a config is a short text file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{source}: not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        root = yaml.compose(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise UserError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    values: dict[PathKey, Location] = {}
    keys: dict[PathKey, Location] = {}
    if root is None:
        return None, values, keys
    return _plain(root, (), values, keys, source), values, keys


class _StrictLoader(yaml.SafeLoader):
    """Composes nodes but refuses anchors and aliases, so an alias bomb never expands."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed in a config", event.start_mark
            )
        return super().compose_node(parent, index)


_constructor = yaml.constructor.SafeConstructor()
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}


def _plain(node, path: PathKey, values: dict, keys: dict, source: str):
    where = f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"
    values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _PLAIN_TAGS:
        raise UserError(f"{where}: the YAML tag '{node.tag}' is not allowed; write plain values")
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = _plain(key_node, path + ("<key>",), {}, {}, source)
            if not isinstance(key, (str, int)):
                raise UserError(f"{where}: keys must be plain words, got {key!r}")
            if key in result:
                line = key_node.start_mark.line + 1
                raise UserError(
                    f"{source}:{line}:{key_node.start_mark.column + 1}: duplicate key '{key}' "
                    f"(first at line {keys[path + (key,)][0]})"
                )
            keys[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _plain(value_node, path + (key,), values, keys, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, path + (i,), values, keys, source) for i, item in enumerate(node.value)]
    return _constructor.construct_object(node)


def apply_overrides(data: dict, overrides) -> dict[PathKey, str]:
    """Apply ``key.path=value`` settings (values parsed as YAML) in place; returns each
    overridden path with the ``--set`` it came from."""
    applied: dict[PathKey, str] = {}
    for item in overrides:
        origin = f"--set {item}"
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{origin}: expected KEY.PATH=VALUE, e.g. --set optimizer.learning_rate=0.01")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            raise UserError(f"{origin}: the value '{raw}' is not valid YAML") from None
        parts = tuple(int(p) if p.isdigit() else p for p in key.strip().split("."))
        _set_path(data, parts, value, origin)
        applied[parts] = origin
    return applied


def _set_path(data: Any, parts: PathKey, value: Any, origin: str) -> None:
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(map(str, parts[: depth + 1]))
        if isinstance(node, list):
            if not isinstance(part, int) or not 0 <= part < len(node):
                raise UserError(f"{origin}: '{here}' needs an index from 0 to {len(node) - 1}")
        elif isinstance(node, dict):
            if isinstance(part, int):
                raise UserError(f"{origin}: '{here}' is a key, not a list index")
            if not last and not isinstance(node.get(part), (dict, list)):
                if isinstance(node.get(part), str):  # `optimizer: adam` gains options
                    node[part] = {"type": node[part]}
                else:
                    node[part] = {}
        else:
            raise UserError(f"{origin}: '{here}' goes inside a value that is not a mapping or a list")
        if last:
            node[part] = value
        else:
            node = node[part]


def resolved(config: Config) -> dict:
    """The config with every default filled in, as plain data, ``type`` first."""
    return _type_first(config.model_dump(mode="json"))


def _type_first(value):
    if isinstance(value, dict):
        ordered = {"type": value["type"]} if "type" in value else {}
        ordered.update((k, _type_first(v)) for k, v in value.items() if k != "type")
        return ordered
    if isinstance(value, list):
        return [_type_first(v) for v in value]
    return value


def config_hash(config: Config) -> str:
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def dump_yaml(config: Config) -> str:
    return yaml.safe_dump(resolved(config), sort_keys=False, default_flow_style=False)
