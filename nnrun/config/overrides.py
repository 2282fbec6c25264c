"""``--set key.path=value`` overrides, applied to the plain data before validation.

Values are read as YAML scalars or flow lists (``--set metrics=[accuracy]``); integers
in the path index lists (``model.layers.1.units=32``). A mapping changes only the keys
it names (see :func:`merged`). Each applied path remembers the
``--set`` it came from, so a bad value is reported against the option, not the file.
"""

from __future__ import annotations

import re
from typing import Any

from nnrun.config.yaml_reader import CLASS_WEIGHTS, parse_value
from nnrun.errors import UserError, did_you_mean

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


# Where a word is a value of its own, not a block's type that a mapping gives options to
# (``optimizer: adam`` + ``{learning_rate: 0.1}``): ``class_weights: balanced`` set by class
# name is the mapping alone.
NAMES_NO_TYPE = {CLASS_WEIGHTS}


def apply_overrides(data: dict, overrides) -> dict[PathKey, str]:
    """Apply ``key.path=value`` settings (values parsed as YAML) in place; returns each
    overridden path with the ``--set`` it came from. Every setting that cannot be
    applied is reported, all in one error."""
    applied: dict[PathKey, str] = {}
    failed: list[UserError] = []
    for item in overrides:
        try:
            paths, origin = _apply(data, item, applied)
        except UserError as exc:
            failed.append(exc)
            continue
        applied.update(dict.fromkeys(paths, origin))
    if len(failed) == 1:
        raise failed[0]
    if failed:
        raise UserError(f"{len(failed)} settings cannot be applied:\n"
                        + "\n".join("  " + exc.render().replace("\n", "\n  ") for exc in failed))
    return applied


def _apply(data: dict, item: str, earlier: dict[PathKey, str]) -> tuple[list[PathKey], str]:
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
    return _set_path(data, path_parts(key.strip()), value, origin, earlier), origin


def path_parts(key: str) -> PathKey:
    """``model.layers.-1.units`` -> ``("model", "layers", -1, "units")``: whole numbers
    (with a minus sign or not) index lists, anything else names keys."""
    return tuple(int(name) if re.fullmatch(r"-?\d+", name, re.ASCII) else name for name in key.split("."))


def from_the_start(node: Any, part: Any) -> Any:
    """A list index from the end (-1: the last item of ``node``) counted from the start;
    any other part as it is."""
    if isinstance(node, list) and isinstance(part, int) and -len(node) <= part < 0:
        return part + len(node)
    return part


def _set_path(data: Any, parts: PathKey, value: Any, origin: str,
              earlier: dict[PathKey, str] | None = None) -> list[PathKey]:
    """Set ``value`` at ``parts``; returns the paths it gave values to (the keys a
    mapping named, where it merged into one). In a list, -1 is the last item, and the
    index just past the end (``model.layers.2`` of two) adds an item. For a ``--set``
    (``earlier``: the paths the settings before it gave), another ``type`` replaces its
    block, as a mapping naming it does (see :func:`_retyped`); a sweep's parameter sets
    the type alone, keeping the base config's options."""
    node, parts, made = data, list(parts), None  # made: the key of a mapping this setting began, and its siblings
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        part = parts[depth] = from_the_start(node, part)
        here = ".".join(map(str, parts[: depth + 1]))
        if isinstance(node, list):
            if last and part == len(node):
                node.append(value)
                return [tuple(parts)]
            if not isinstance(part, int) or not 0 <= part < len(node):
                span = f"an index from 0 to {len(node) - 1} (or -1 to -{len(node)} from the end)" if node else \
                    "an item, but the list is empty"
                added = f"{here.rpartition('.')[0]}.{len(node)}"
                given = f": --set '{added}={{...}}'" if origin.startswith("--set") else \
                    f": overrides={{'{added}': {{...}}}}" if origin.startswith("overrides") else ""
                more = f"; {len(node)} adds an item, given whole{given}" if isinstance(part, int) and \
                    part >= len(node) else ""
                raise UserError(f"{origin}: '{here}' needs {span}{more}")
            if not last and isinstance(node[part], str):  # `- flatten` gains options
                node[part] = {"type": node[part]}
        elif isinstance(node, dict):
            if isinstance(part, int) and (str(part) in node or tuple(parts[depth - 2:depth]) == CLASS_WEIGHTS):
                part = parts[depth] = str(part)  # a key that is a number: a numbered class's weight
            if isinstance(part, int):
                # An index into a mapping the path began: a misspelt list's key (model.layer.1).
                close = did_you_mean(made[0], made[1] + _schema_keys(parts[: depth - 1])) if made and not node else ""
                if close:
                    raise UserError(f"{origin}: '{here.rpartition('.')[0]}' is no key of the config{close}")
                raise UserError(f"{origin}: '{here}' is a key, not a list index")
            made = None
            if not last and not isinstance(node.get(part), (dict, list)):
                if isinstance(node.get(part), str) and tuple(parts[: depth + 1]) not in NAMES_NO_TYPE:
                    # `optimizer: adam` gains options
                    node[part] = {"type": node[part]}
                else:
                    made = (part, [key for key in node if isinstance(key, str)]) if part not in node else None
                    node[part] = {}
        else:
            raise UserError(f"{origin}: '{here}' goes inside a value that is not a mapping or a list")
        # Only a block that names another type: one that names none keeps its options (the
        # Python API points a source of column settings at its saved table this way).
        if earlier is not None and last and part == "type" and isinstance(node, dict) \
                and node.get("type", value) != value:
            return _retyped(node, value, tuple(parts), earlier)
        if last:
            exists = part in node if isinstance(node, dict) else True
            old = node[part] if exists else None
            node[part] = merged(old, value, tuple(parts)) if exists else value
            # The file's keys a merge kept are still the file's: their mistakes are told at their lines.
            return _given_paths(old, value, tuple(parts))
        node = node[part]
    return [tuple(parts)]


def _schema_keys(path: list) -> list[str]:
    """The keys the config schema has at ``path``, where every block on the way has one
    type (``training``, ``data.split``); none under a block of several types."""
    from pydantic import BaseModel

    from nnrun.config.schema import Config  # on an error's way only: this module knows dicts, not the schema

    model: type[BaseModel] = Config
    for part in path:
        annotation = getattr(model.model_fields.get(part) if isinstance(part, str) else None, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _retyped(block: dict, kind: Any, path: PathKey, earlier: dict[PathKey, str]) -> list[PathKey]:
    """``optimizer.type=sgd`` where the file says adam: the block becomes the new type
    with the options that earlier settings gave it, but not the file's, which belonged
    to the old type (adam's beta_1 is no sgd option, and its learning rate is no sgd
    default), as ``--set 'optimizer={type: sgd}'`` does."""
    prefix = path[:-1]
    kept = {key: block[key] for key in block
            if key != "type" and any(given[: len(prefix) + 1] == (*prefix, key) for given in earlier)}
    block.clear()
    block.update(type=kind, **kept)
    # The whole block is this setting's now: a key the new type needs is asked of it, not
    # of the file's old block (a kept key's own, longer path still names its setting).
    return [prefix]


def merged(old: Any, new: Any, path: PathKey) -> Any:
    """What setting ``new`` where ``old`` is leaves: a mapping set onto a mapping changes
    only the keys it names, recursively (``training={batch_size: 8}`` keeps the file's
    epochs), as a setting of each of them would; a mapping that names another ``type``
    replaces the block, whose options belonged to the old type. Anything else replaces.
    ``path``: where ``old`` is (see NAMES_NO_TYPE)."""
    block = _merges_into(old, new, path)
    if block is None:
        return new
    if isinstance(new, str):  # its own type, named alone
        return block
    return {**block, **{key: merged(block[key], value, (*path, key)) if key in block else value
                        for key, value in new.items()}}


def _given_paths(old: Any, new: Any, prefix: PathKey) -> list[PathKey]:
    """The paths that setting ``new`` where ``old`` is gave values to (see :func:`merged`)."""
    block = _merges_into(old, new, prefix)
    if block is None or isinstance(new, str):
        return [prefix]
    return [path for key, value in new.items()
            for path in (_given_paths(block[key], value, (*prefix, key)) if key in block else [(*prefix, key)])]


def _merges_into(old: Any, new: Any, path: PathKey) -> dict | None:
    """The block ``new`` merges into (``optimizer: adam`` as ``{type: adam}``), or None
    when it replaces ``old`` (a word of its own, at ``path``: class_weights: balanced).
    A block's own type named alone (``optimizer=adam`` onto adam with beta_1: 0.8)
    changes nothing: it keeps the options, as ``{type: adam}`` does."""
    if (isinstance(old, str) or isinstance(new, str)) and path in NAMES_NO_TYPE:
        return None
    if isinstance(old, str) and isinstance(new, dict) and new.get("type", old) == old:
        old = {"type": old}  # `optimizer: adam` gains options
    if isinstance(new, str) and isinstance(old, dict) and old.get("type") == new:
        return old
    if not (isinstance(old, dict) and isinstance(new, dict)) or new.get("type", old.get("type")) != old.get("type"):
        return None
    return old
