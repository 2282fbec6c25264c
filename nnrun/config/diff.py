"""Differences between two configs as dotted paths: what `nnrun compare` shows and what
`nnrun train --resume` refuses to continue with."""

from __future__ import annotations

import json

MISSING = object()  # a path one of the two configs does not have


def flatten(value, prefix: str = "") -> dict[str, object]:
    """``{"a": {"b": [{"c": 1}]}}`` -> ``{"a.b.0.c": 1}``; a list of plain values (column
    names, metrics) is one value, so ``[plan] -> []`` reads as one change; empty
    containers stay."""
    if isinstance(value, dict) and value:
        items = value.items()
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value} if prefix else {}
    flat: dict[str, object] = {}
    for key, inner in items:
        flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def config_differences(a: dict, b: dict) -> list[tuple[str, object, object]]:
    """(dotted path, value in a, value in b) for every path whose values differ. Where a
    block's ``type`` differs (a dense layer against an lstm), the options both members
    have are compared (units 4 -> 64), and an option only one of them has is listed
    where it is set otherwise than its type's default (sgd's momentum 0.9): its absence
    in the other says nothing that the type does not."""
    layers = _layers_added_or_removed(a, b)
    if layers is not None:  # the other differences, with the layers told whole
        rest = config_differences(*({**c, "model": {**c["model"], "layers": []}} for c in (a, b)))
        before = [k for k in a if k != "model"][: list(a).index("model")]
        cut = next((i for i, row in enumerate(rest) if row[0].split(".")[0] not in before), len(rest))
        return rest[:cut] + layers + rest[cut:]
    flat_a, flat_b = flatten(a), flatten(b)
    keys = list(flat_a) + [k for k in flat_b if k not in flat_a]
    changed = [(k, flat_a.get(k, MISSING), flat_b.get(k, MISSING)) for k in keys
               if flat_a.get(k, MISSING) != flat_b.get(k, MISSING)]
    retyped = {k.removesuffix("type"): (va, vb) for k, va, vb in changed
               if (k == "type" or k.endswith(".type")) and va is not MISSING and vb is not MISSING}
    kept = []
    for k, va, vb in changed:
        block = next((block for block in retyped if k.startswith(block)), None)
        if block is None or MISSING not in (va, vb):
            kept.append((k, va, vb))
            continue
        kind = retyped[block][0 if vb is MISSING else 1]
        if _not_default(block, kind, k.removeprefix(block), vb if va is MISSING else va):
            kept.append((k, va, vb))
    return _blocks_whole(kept, a, b)


def _layers_added_or_removed(a: dict, b: dict) -> list | None:
    """Where one model is the other with layers added or removed (and none changed), one
    row per such layer, its options set otherwise than their defaults, at its place in
    its own model; compared place by place, a dropout put in after the first layer read
    as every later layer changed, and the last one's every option added. None otherwise."""
    import difflib

    found = [c.get("model", {}).get("layers") if isinstance(c.get("model"), dict) else None for c in (a, b)]
    if not all(isinstance(layers, list) for layers in found) or len(found[0]) == len(found[1]):
        return None
    texts = [[json.dumps(layer, sort_keys=True, default=str) for layer in layers] for layers in found]
    opcodes = difflib.SequenceMatcher(None, *texts, autojunk=False).get_opcodes()
    if any(op == "replace" for op, *_ in opcodes):
        return None
    rows = []
    for op, i1, i2, j1, j2 in opcodes:
        for side, (first, last) in ((0, (i1, i2)), (1, (j1, j2))) if op != "equal" else ():
            for i in range(first, last):
                layer = _compact(found[side][i], f"model.layers.{i}.")
                rows.append((f"model.layers.{i}", *((layer, MISSING) if side == 0 else (MISSING, layer))))
    return rows


def _compact(block, place: str):
    """A block with only its type and the options set otherwise than that type's defaults."""
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return block
    return {k: v for k, v in block.items() if k == "type" or _not_default(place, block["type"], k, v)}


def _blocks_whole(changed: list, a: dict, b: dict) -> list:
    """A block that one config turns off (null) and the other sets is one change, its
    whole value beside null, not a null beside "(absent)" and then each of its keys."""
    switched = {k for k, va, vb in changed if _null_against_absent(va, vb)
                and any(c[0].startswith(k + ".") for c in changed)}
    result = []
    for k, va, vb in changed:
        if k in switched:
            result.append((k, _at(a, k), _at(b, k)))
        elif not any(k.startswith(block + ".") for block in switched):
            result.append((k, va, vb))
    return result


def _null_against_absent(va, vb) -> bool:
    return (va is None and vb is MISSING) or (va is MISSING and vb is None)


def _at(config: dict, path: str):
    """The value at a dotted path (list items by index)."""
    value = config
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value.get(part) if isinstance(value, dict) else None
    return value


def _not_default(block: str, kind, option: str, value) -> bool:
    """Whether ``option`` of a ``kind`` block at ``block`` ("optimizer.", "model.layers.0.")
    holds another value than that type's default (a required option always does)."""
    from pydantic_core import to_jsonable_python

    from nnrun.config.locations import annotation_at, bare_annotation

    place = tuple(int(p) if p.isdigit() else p for p in block.rstrip(".").split(".") if p)
    model = bare_annotation(annotation_at((*place, kind))) if isinstance(kind, str) else None
    field = getattr(model, "model_fields", {}).get(option.split(".")[0])
    if field is None or field.is_required() or "." in option:
        return True
    return to_jsonable_python(field.get_default(call_default_factory=True)) != value


def describe_changes(old: dict, new: dict) -> list[str]:
    """``path (old -> new)`` for every difference, values written as JSON."""
    def show(value) -> str:
        return "(absent)" if value is MISSING else json.dumps(value)

    return [f"{path} ({show(a)} -> {show(b)})" for path, a, b in config_differences(old, new)]


def listed(changes: list[str], most: int = 8) -> str:
    """Changes one per line, indented, the first ``most`` of them and how many more."""
    more = f"\n  ... and {len(changes) - most} more" if len(changes) > most else ""
    return "".join(f"\n  {change}" for change in changes[:most]) + more
