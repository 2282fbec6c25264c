"""``--set key.path=value`` overrides, applied to the plain data before validation.

Values are read as YAML scalars or flow lists (``--set metrics=[accuracy]``); integers
in the path index lists (``model.layers.1.units=32``). A mapping changes only the keys
it names (see :func:`merged`). Each applied path remembers the
``--set`` it came from, so a bad value is reported against the option, not the file.
"""

from __future__ import annotations

from typing import Any

from nnrun.config.yaml_reader import parse_value
from nnrun.errors import UserError

PathKey = tuple[Any, ...]


class Setting(str):
    """A ``key.path=value`` setting given some other way than ``--set`` (the Python
    API's ``overrides``): ``origin`` is how messages name it."""

    origin: str

    def __new__(cls, text: str, origin: str) -> "Setting":
        setting = super().__new__(cls, text)
        setting.origin = origin
        return setting

    def __getnewargs__(self) -> tuple[str, str]:  # copies keep the origin
        return str(self), self.origin


def apply_overrides(data: dict, overrides) -> dict[PathKey, str]:
    """Apply ``key.path=value`` settings (values parsed as YAML) in place; returns each
    overridden path with the ``--set`` it came from. Every setting that cannot be
    applied is reported, all in one error."""
    applied: dict[PathKey, str] = {}
    failed: list[UserError] = []
    for item in overrides:
        try:
            parts, origin = _apply(data, item)
        except UserError as exc:
            failed.append(exc)
            continue
        applied[parts] = origin
    if len(failed) == 1:
        raise failed[0]
    if failed:
        raise UserError(f"{len(failed)} settings cannot be applied:\n"
                        + "\n".join("  " + exc.render().replace("\n", "\n  ") for exc in failed))
    return applied


def _apply(data: dict, item: str) -> tuple[PathKey, str]:
    origin = item.origin if isinstance(item, Setting) else f"--set {item}"
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        example = "optimizer.learning_rate=0.01"
        example = f"--set {example}" if origin.startswith("--set") else f"'{example}'"
        raise UserError(f"{origin}: expected KEY.PATH=VALUE, e.g. {example}")
    value = parse_value(raw, origin)
    names = key.strip().split(".")
    if not all(names):
        raise UserError(
            f"{origin}: '{key.strip()}' has an empty key; write names joined by dots, e.g. training.epochs"
        )
    parts = tuple(int(p) if p.lstrip("-").isdigit() else p for p in names)
    return _set_path(data, parts, value, origin), origin


def _set_path(data: Any, parts: PathKey, value: Any, origin: str) -> PathKey:
    """Set ``value`` at ``parts``; returns the path as set. In a list, -1 is the last
    item, and the index just past the end (``model.layers.2`` of two) adds an item."""
    node, parts = data, list(parts)
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list) and isinstance(part, int) and -len(node) <= part < 0:
            part = parts[depth] = part + len(node)
        here = ".".join(map(str, parts[: depth + 1]))
        if isinstance(node, list):
            if last and part == len(node):
                node.append(value)
                return tuple(parts)
            if not isinstance(part, int) or not 0 <= part < len(node):
                span = f"an index from 0 to {len(node) - 1}" if node else "an item, but the list is empty"
                more = f"; {len(node)} adds an item, given whole: --set '{here.rpartition('.')[0]}.{len(node)}=" \
                       "{...}'" if isinstance(part, int) and part == len(node) else ""
                raise UserError(f"{origin}: '{here}' needs {span}{more}")
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
            exists = part in node if isinstance(node, dict) else True
            node[part] = merged(node[part], value) if exists else value
        else:
            node = node[part]
    return tuple(parts)


def merged(old: Any, new: Any) -> Any:
    """What setting ``new`` where ``old`` is leaves: a mapping set onto a mapping changes
    only the keys it names, recursively (``training={batch_size: 8}`` keeps the file's
    epochs), as a setting of each of them would; a mapping that names another ``type``
    replaces the block, whose options belonged to the old type. Anything else replaces."""
    if isinstance(old, str) and isinstance(new, dict) and new.get("type", old) == old:
        old = {"type": old}  # `optimizer: adam` gains options
    if not (isinstance(old, dict) and isinstance(new, dict)) or new.get("type", old.get("type")) != old.get("type"):
        return new
    result = dict(old)
    for key, value in new.items():
        result[key] = merged(old[key], value) if key in old else value
    return result
