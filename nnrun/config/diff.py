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
    block's ``type`` differs (a dense layer against an lstm), the options only one of the
    two members has are not listed as absent in the other: its type says that; the
    options both have are compared (units 4 -> 64)."""
    flat_a, flat_b = flatten(a), flatten(b)
    keys = list(flat_a) + [k for k in flat_b if k not in flat_a]
    changed = [(k, flat_a.get(k, MISSING), flat_b.get(k, MISSING)) for k in keys
               if flat_a.get(k, MISSING) != flat_b.get(k, MISSING)]
    retyped = [k.removesuffix("type") for k, va, vb in changed
               if (k == "type" or k.endswith(".type")) and va is not MISSING and vb is not MISSING]
    return [(k, va, vb) for k, va, vb in changed
            if not (MISSING in (va, vb) and any(k.startswith(block) for block in retyped))]


def describe_changes(old: dict, new: dict) -> list[str]:
    """``path (old -> new)`` for every difference, values written as JSON."""
    def show(value) -> str:
        return "(absent)" if value is MISSING else json.dumps(value)

    return [f"{path} ({show(a)} -> {show(b)})" for path, a, b in config_differences(old, new)]
