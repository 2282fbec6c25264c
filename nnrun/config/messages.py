"""Turn Pydantic's validation errors into messages for people.

Each message says what was expected and echoes what was received (``expected a whole
number, got 1.5``); unknown keys and unknown ``type`` names get a "did you mean" from
the schema itself, and a list of the choices when nothing is close.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from nnrun.config.keras_words import keras_key_hint, keras_value_hint, place_hint
from nnrun.config.locations import annotation_at, bare_annotation, description_at, fields_at, tags_at
from nnrun.errors import closest, did_you_mean
from nnrun.model.activations import ACTIVATIONS

# What a value of each kind should have been, keyed by Pydantic's error type.
EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "path_type": "a file path",
    "none_required": "nothing (null)",
}

BOUNDS = {
    "greater_than": ("gt", "a number greater than {}"),
    "greater_than_equal": ("ge", "a number of at least {}"),
    "less_than": ("lt", "a number below {}"),
    "less_than_equal": ("le", "a number of at most {}"),
    "too_short": ("min_length", "at least {} item(s)"),
    "too_long": ("max_length", "at most {} item(s)"),
    "string_too_short": ("min_length", "at least {} character(s)"),
    "string_too_long": ("max_length", "at most {} character(s)"),
    "multiple_of": ("multiple_of", "a multiple of {}"),
}

# Regular expressions in the schema, said in words.
PATTERNS = {
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$": "letters, digits, '.', '_' or '-', starting with a letter or digit",
    r"^[A-Za-z][A-Za-z0-9_]*$": "letters, digits or '_', starting with a letter",
    r"^[A-Za-z0-9][A-Za-z0-9._:/=+-]*$": "one word of letters, digits, '.', '_', ':', '/', '=', '+' or '-' "
                                         "(a tag), starting with a letter or digit",
}


def describe(error: dict, path: tuple, root: Any = None) -> str:
    """The message for one Pydantic error; ``root`` is the validated model (the config
    by default, or e.g. the sweep file's), used for "did you mean" and field help."""
    kind, received, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "extra_forbidden":
        key, fields = str(path[-1]), fields_at(error["loc"], root)
        where = ".".join(str(part) for part in path[:-1])
        # Keras's Bidirectional(LSTM(16)) written flat: {type: bidirectional, layer: lstm, units: 16}
        flat = {"layer", "merge_mode"} <= set(fields) and closest(key, fields) is None
        wrapped = f"; the wrapped layer's options go inside it: layer: {{type: ..., {key}: {show(received)}}}" \
            if flat else ""
        glued = re.fullmatch(r"([A-Za-z_]\w*):(\S.*)", key) if received is None else None
        if glued and glued.group(1) in fields:  # {units:64}: YAML needs a space after the ':'
            return (f"unknown key '{key}': a key and its value need a space after the ':'; write "
                    f"'{glued.group(1)}: {glued.group(2)}'")
        if re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*\)", key):  # kernel_size: (3, 5) in braces, split at its comma
            return (f"unknown key '{key}': the end of a tuple, which YAML split at its comma; write the tuple as a "
                    f"list: [..., {key.rstrip(') ')}]")
        return f"unknown key '{key}'" + (keras_key_hint(key, fields, received) or place_hint(key, where) or wrapped
                                         or did_you_mean(key, fields, "expected one of"))
    if kind == "missing" and isinstance(error["loc"][-1], int) and isinstance(received, list):  # a list too short
        return f"expected {error['loc'][-1] + 1 + _items_after(error['loc'], root)} items, got {show(received)}"
    if kind == "missing":
        help_text = description_at(error["loc"], root)
        return "required key is missing" + (f" ({help_text.rstrip('.')})" if help_text else "")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _describe_tag(kind, error, received, root)
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        # Pydantic lists them as "'a', 'b' or 'c'"; a quoted option may hold a comma (decimal: ",").
        options = re.findall(r"'([^']*)'", expected) or [o.strip() for o in expected.replace(" or ", ", ").split(",")]
        shown = ", ".join(o if o.replace("_", "").replace("-", "").isalnum() else repr(o) for o in options)
        if received is None and "none" in options:  # YAML's null is no value; the option is the word none
            return f"expected one of {shown}, got {show(received)}; the word none turns it off (null is no value)"
        if received in (None, "None") and "linear" in options and str(path[-1]).endswith("activation"):  # Keras's
            return f"expected one of {shown}, got {show(received)}; linear is no activation (Keras's None)"
        if path and str(path[-1]).endswith("activation") and isinstance(received, str) and received in ACTIVATIONS:
            # A real activation this layer does not offer (gelu on an lstm): no spelling to suggest.
            return f"expected one of {shown}, got {show(received)}; {received} is an activation of other layers " \
                   "(dense, conv), not one this layer takes"
        if path and path[-1] == "missing" and str(received).lower() in MISSING_ASKED:
            return f"expected one of {shown}, got {show(received)}; {MISSING_ASKED[str(received).lower()]}"
        if isinstance(received, dict) and "pr_auc" in options and str(received.get("type", "")).lower() in options:
            # metrics: [{type: auc, curve: PR}], as Keras's AUC object: a metric is a name
            named = str(received["type"]).lower()
            named = "pr_auc" if named == "auc" and str(received.get("curve", "")).lower() == "pr" else named
            return f"expected one of {shown}, got a mapping; a metric is named, not configured: {named}"
        return f"expected one of {shown}, got {show(received)}" + _suggest(str(received), options)
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind in EXPECTED:
        return f"expected {EXPECTED[kind]}, got {show(received)}" + (_quote_hint(kind, received)
                                                                    or _shape_hint(kind, path, received))
    if kind in BOUNDS:
        key, wording = BOUNDS[kind]
        if bare_annotation(annotation_at(error["loc"], root)) is int:
            wording = wording.replace("a number", "a whole number")
        return f"expected {wording.format(_number(ctx.get(key)))}, got {show(received)}" + _percent_hint(
            kind, received, description_at(error["loc"], root))
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        return f"expected {PATTERNS.get(pattern, f'text matching {pattern}')}, got {show(received)}"
    return f"{error['msg'].rstrip('.')}, got {show(received)}"


def _percent_hint(kind: str, received: Any, description: str | None) -> str:
    """A fraction given as a percentage (validation: 15): say what was meant."""
    if kind not in ("less_than", "less_than_equal") or not (description or "").startswith("Fraction"):
        return ""
    # From 2: 1.5 is as likely 0.15 as 1.5% (a dropout rate), where 15 is 15%.
    if isinstance(received, bool) or not isinstance(received, (int, float)) or not 2 <= received <= 100:
        return ""
    return f"; it is a fraction: {_number(received)}% is {_number(received / 100)}"


def _describe_tag(kind: str, error: dict, received: Any, root: Any = None) -> str:
    expected = tags_at(error["loc"], root)
    if kind == "union_tag_not_found":
        return "a 'type' is required" + (f"; one of: {', '.join(expected)}" if expected else "")
    tag = received.get("type") if isinstance(received, dict) else error["ctx"]["tag"]
    if not isinstance(tag, str) or not tag:
        return f"expected a type name, one of: {', '.join(expected)}; got {show(tag)}"
    if "builtin" in expected:
        from nnrun.data.sources import BUILTIN

        if tag in BUILTIN:  # data: {source: iris}: the name of a bundled data set where its type goes
            return f"unknown type '{tag}'; the bundled data set is {{type: builtin, name: {tag}}}"
    from nnrun.config.keras_layers import keras_layer_hint  # on an error's way only

    given = received if isinstance(received, dict) else None
    layer = keras_layer_hint(tag, given) if "dense" in expected else ""  # Keras's ReLU, Input, Normalization
    if "scale" in expected and tag.lower() == "rescaling":  # a preprocessing step already
        factor = given.get("scale") if given and isinstance(given.get("scale"), (int, float)) else "..."
        layer = f"; Keras's Rescaling(scale) is {{type: scale, factor: {factor}}} here"
    return f"unknown type '{tag}'" + (layer or _suggest(tag, expected, "expected one of"))


def _items_after(loc: tuple, root: Any = None) -> int:
    """How many items a fixed-length list (a tuple in the schema) has past ``loc``'s."""
    items = typing.get_args(bare_annotation(annotation_at(loc[:-1], root)))
    return max(0, len(items) - loc[-1] - 1) if items and items[-1] is not Ellipsis else 0


# Fills other tools offer for data.source.missing, each with what nnrun does instead (a
# spelling suggestion would point 'zero' at 'error', the opposite of what was asked).
_ZEROS = "nnrun fills an empty cell with the training rows' mean (or most frequent value); to fill with zeros, " \
    "write 0 into the file's empty cells"
MISSING_ASKED = {
    "zero": _ZEROS, "zeros": _ZEROS, "0": _ZEROS, "constant": _ZEROS, "fill": _ZEROS,
    "median": "nnrun fills with the training rows' mean (or most frequent value); median is not offered",
    "drop": "rows with an empty feature cell are kept and filled (mean); to leave them out, delete them from the "
            "file (missing_target: drop leaves out rows without a target)",
}


def _suggest(word: str, options: list[str], listing: str | None = None) -> str:
    """A Keras name's nnrun equivalent first (``acc`` -> accuracy, not auc), then spelling."""
    return keras_value_hint(word, options) or did_you_mean(word, options, listing)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _shape_hint(kind: str, path: tuple, received: Any) -> str:
    """A list of layers given as the model, or one name where a list goes, or Python's
    tuple where YAML's list goes: the fix."""
    if isinstance(received, str) and (pair := re.fullmatch(r"\(\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*\)", received)):
        items = ", ".join(re.split(r"\s*,\s*", pair.group(1)))
        return f"; YAML writes a tuple as a list: [{items}]"
    if isinstance(received, str) and re.fullmatch(r"\(\s*\d+", received):  # {kernel_size: (3, 5)}: split at ','
        return f"; in braces YAML split the tuple at its comma: write it as a list, [{received.lstrip('( ')}, ...]"
    if kind in ("dict_type", "model_type") and path == ("model",) and isinstance(received, list):
        return "; the layers go under layers: model: {layers: [...]}"
    if kind == "list_type" and isinstance(received, str):
        return f"; write a list, even of one: [{received}]"
    if kind in ("dict_type", "model_type") and path[-1:] == ("text",) and isinstance(received, str):
        return f"; name the column inside it: text: {{column: {received}}}"
    if path[-1:] == ("learning_rate",) and isinstance(received, dict):  # Keras's ExponentialDecay(...) as the rate
        return ("; a rate that changes is training.schedule (exponential, step, cosine, reduce_on_plateau), by "
                "epoch, starting from this number")
    if kind in ("dict_type", "model_type") and path[-1:] == ("text",) and isinstance(received, list):
        return ("; a model reads one text column, as its only input: give one, text: {column: NAME} (for several, "
                "join them into one column of text first)")
    return ""


def _quote_hint(kind: str, received: Any) -> str:
    """YAML reads some words as other kinds of values; say how to write them as text."""
    if kind == "string_type" and isinstance(received, (bool, int, float)):
        return "; put the value in quotes to make it text"
    if kind in ("bool_type", "bool_parsing") and isinstance(received, str):
        if received.strip().lower() in ("true", "false"):
            return "; write true or false without quotes"
        return "; only true and false are booleans (YAML 1.2: yes, no, on and off are text)"
    if kind in ("int_type", "int_parsing", "float_type", "float_parsing") and isinstance(received, str):
        if "_" in received and is_number(received.replace("_", "")):  # YAML 1.1's 1_000 is text in 1.2
            return f"; YAML 1.2 reads digits grouped with '_' as text: write {received.replace('_', '')}"
        if is_number(received):
            return "; write the number without quotes"
        quotient = _quotient(received)  # Rescaling(1./255): a config holds no arithmetic
        return f"; a config holds no arithmetic: write the number, {quotient!r} ({received.strip()})" \
            if quotient is not None and kind.startswith("float") else ""
    if kind in ("int_type", "int_from_float") and isinstance(received, float) and received.is_integer() \
            and abs(received) < 1e15:
        return f"; write it as one, without a point or an exponent: {int(received)}"
    return ""


def _quotient(text: str) -> float | None:
    """``'1./255'`` -> 0.00392156862745098: a division of two numbers, as Python writes
    one; None for any other text."""
    top, slash, bottom = text.partition("/")
    if not slash or not is_number(top) or not is_number(bottom) or float(bottom) == 0:
        return None
    return float(top) / float(bottom)


def show(value: Any) -> str:
    """A received value, as the user wrote it (YAML spelling, kept short)."""
    if value is None:
        return "nothing (an empty value or null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an empty mapping" if not value else "a mapping"
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {len(value)}"
    if isinstance(value, str):
        text = repr(value) if value else "empty text ''"
    else:
        text = str(value)
    return text if len(text) < 60 else text[:57] + "..."


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and value >= 2**31:
        return f"2**{value.bit_length() - 1}" if value & (value - 1) == 0 else str(value)
    return str(value)
