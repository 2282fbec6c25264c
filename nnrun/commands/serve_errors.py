"""The messages of ``nnrun serve``'s 422 answers: FastAPI's validation errors of a
request (see :mod:`.serve_requests`), each naming the instance and the field:

    instance 1, field 'color': unseen category 'purple'; the model knows green, orange, red, yellow
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from nnrun.commands.model_card import columns_listed
from nnrun.commands.serve_arrays import ArrayShape, described_shapes
from nnrun.commands.serve_requests import BEYOND_FLOAT32, show
from nnrun.data.features import MISSING_CATEGORY
from nnrun.errors import did_you_mean


SHOWN_ERRORS = 50  # entries in one answer; the rest are counted in one more
LONGEST_KEY = 60  # characters of a key the client sent, in an answer (as of a value, see show)


def describe_errors(errors: list[dict], columns: list[dict], max_instances: int, sent_as_json: bool = True,
                    shapes: list[ArrayShape] = ()) -> list[dict]:
    """FastAPI's validation errors, each with ``instance``, ``field`` and a message
    (``msg``) that names both; ``sent_as_json``: the request's Content-Type said JSON;
    ``shapes``: those a sample may come as an array of (none: objects only).
    The answer stays small whatever was sent: keys are cut as values are, and past
    ``SHOWN_ERRORS`` problems the rest are counted (60,000 unknown keys made 11.7 MB).
    The problems are counted as they are shown, an instance's many missing columns as
    one, and only the shown ones are described."""
    problems = _problems(errors)
    shown = [error for problem in problems[:SHOWN_ERRORS] for error in problem]
    described = _missing_together([_describe(error, columns, max_instances, sent_as_json, shapes) for error in shown],
                                  columns, shapes)
    more = len(problems) - SHOWN_ERRORS
    if more > 0:
        described.append({"loc": ["body"], "instance": None, "field": None, "type": "more",
                          "msg": f"... and {more} more problem{'s' * (more != 1)} like these"})
    return described


def _instance_and_field(loc: list) -> tuple[int | None, Any]:
    """The instance and the field an error's location names (the ``body`` parts left out)."""
    instance = loc[1] if len(loc) > 1 and loc[0] == "instances" and isinstance(loc[1], int) else None
    return instance, loc[2] if instance is not None and len(loc) > 2 else None


def _missing_instance(error: dict) -> int | None:
    """The instance a missing-column error is of, or None for any other error."""
    if error.get("type") != "missing":
        return None
    instance, field = _instance_and_field([part for part in error.get("loc", ()) if part != "body"])
    return instance if field is not None else None


def _problems(errors: list[dict]) -> list[list[dict]]:
    """The errors as the problems an answer tells, in order: an instance missing more
    than SHOWN_MISSING columns is one problem (see _missing_together), any other error
    one each. A cheap pass, so that a request of 60,000 errors is counted, not described."""
    of = [_missing_instance(error) for error in errors]
    counts: dict[int, int] = {}
    for instance in of:
        if instance is not None:
            counts[instance] = counts.get(instance, 0) + 1
    problems: list[list[dict]] = []
    together: dict[int, list[dict]] = {}
    for error, instance in zip(errors, of):
        if instance is None or counts[instance] <= SHOWN_MISSING + 1:
            problems.append([error])
        elif instance in together:
            together[instance].append(error)
        else:
            together[instance] = [error]
            problems.append(together[instance])
    return problems


def _key(part):
    """A key the client sent, cut to ``LONGEST_KEY`` characters."""
    return part if not isinstance(part, str) or len(part) <= LONGEST_KEY else part[:LONGEST_KEY - 3] + "..."


SHOWN_MISSING = 5  # missing columns of one instance named one by one; more are one entry


def _missing_together(described: list[dict], columns: list[dict], shapes: list[ArrayShape]) -> list[dict]:
    """An instance missing more than SHOWN_MISSING columns gets one entry for them all,
    not one each (a sample sent as {"x": [...]} to a model of 64 columns x0 ... x63)."""
    missing: dict[int, list[str]] = {}
    for entry in described:
        if entry["type"] == "missing" and entry["instance"] is not None and entry["field"] is not None:
            missing.setdefault(entry["instance"], []).append(entry["field"])
    crowded = {i for i, fields in missing.items() if len(fields) > SHOWN_MISSING + 1}
    if not crowded:
        return described
    result, told = [], set()
    for entry in described:
        instance = entry["instance"]
        if instance not in crowded or entry["type"] != "missing" or entry["field"] is None:
            result.append(entry)
        elif instance not in told:
            told.add(instance)
            fields = missing[instance]
            shown = ", ".join(f"'{f}'" for f in fields[:SHOWN_MISSING])
            message = f"instance {instance}: {len(fields)} columns missing ({shown}, ... '{fields[-1]}')"
            fillable = {c["name"] for c in columns if c["missing"] != "error"}
            if set(fields) <= fillable:
                message += " (send null to have them filled in)"
            if shapes:  # {"x": [...]}: the array itself was meant
                message += f"; or send the sample as {described_shapes(shapes)}, in place of the object"
            result.append({"loc": ["body", "instances", instance], "instance": instance, "field": None,
                           "msg": message, "type": "missing"})
    return result


def _describe(error: dict, columns: list[dict], max_instances: int, sent_as_json: bool = True,
              shapes: list[ArrayShape] = ()) -> dict:
    error = {**error, "loc": [_key(part) for part in error.get("loc", ())]}
    loc = [part for part in error["loc"] if part != "body"]
    kind, given = error.get("type", ""), error.get("input")
    instance, field = _instance_and_field(loc)
    if instance is not None and field is not None:
        message = f"instance {instance}, field '{field}'{_position(field, columns, shapes)}: " \
                  f"{_field_problem(kind, given, field, columns, error)}"
    elif instance is not None and kind == "value_error":  # an array that is not the sample (see serve_arrays)
        message = f"instance {instance}: {error.get('ctx', {}).get('error', error.get('msg', kind))}"
    elif instance is not None:
        message = f"instance {instance}: must be an object of columns, {{\"column\": value, ...}}"
        if shapes:
            message += f", or {described_shapes(shapes)}"
        if [column["type"] for column in columns] == ["text"]:  # a text model takes the text alone too
            message += f", or the text of '{columns[0]['name']}' as a string"
        message += f"; got {show(given)}"
        if isinstance(given, list) and not shapes:
            message += "; this model has category, date or text columns, which a list would leave to their order"
    else:
        message = _body_problem(kind, loc, given, error, max_instances, sent_as_json)
    return {"loc": list(error.get("loc", ())), "instance": instance, "field": field, "msg": message, "type": kind}


def _position(field, columns: list[dict], shapes: list[ArrayShape]) -> str:
    """Where a column of an image or a sequence sits in a sample sent as an array, flat
    and in the model's shape (the error cannot tell which form was sent):
    `` (index 37 flat, [2][5] in shape (16, 16))`` for x37 of a (16, 16) model."""
    names = [c["name"] for c in columns]
    if not shapes or len(shapes[0]) < 2 or field not in names:
        return ""
    index = names.index(field)
    nested = "".join(f"[{i}]" for i in np.unravel_index(index, shapes[0]))
    return f" (index {index} flat, {nested} in shape ({', '.join(map(str, shapes[0]))}))"


def _field_problem(kind: str, given: Any, field: str, columns: list[dict], error: dict) -> str:
    column = next((c for c in columns if c["name"] == field), None)
    names = [c["name"] for c in columns]
    if kind == "extra_forbidden":
        if names == [f"x{i}" for i in range(len(names))] and len(names) > 3:  # a model trained on arrays
            return f"unknown column; the model's columns are x0 ... x{len(names) - 1}, one value each"
        return f"unknown column{did_you_mean(field, names) or '; the model takes ' + columns_listed(names)}"
    if kind == "missing":
        return "missing; every instance needs this column" + (
            " (send null for an empty cell)" if column and column["missing"] == "" else
            " (send null to have it filled in)" if column and column["missing"] != "error" else "")
    if kind == "literal_error" and column is not None:
        known = ", ".join(c or f"{MISSING_CATEGORY} (null)" for c in column["categories"])
        return f"unseen category {show(given)}; the model knows {known}"
    if kind == "value_error":  # a cell sent as text that does not read (see _as_a_cell_is_read)
        return str(error.get("ctx", {}).get("error", error.get("msg", kind)))
    if kind == "finite_number":
        if isinstance(given, float) and given in (float("inf"), float("-inf")):  # the JSON's 1e400 reads as this
            return f"{show(given)} (or a number too large to read, such as 1e400) is not a finite number"
        return f"{show(given)} is not a finite number"
    if kind == "string_type":
        return f"{show(given)} is not text; send a string"
    if kind in ("float_type", "float_parsing") and isinstance(given, int) and not isinstance(given, bool):
        # A whole number too long for a float (over 308 digits): beyond float32 too, as 1e308 is said to be.
        return f"{show(given)} {BEYOND_FLOAT32}"
    if kind in ("float_type", "float_parsing"):
        return f"{show(given)} is not a number" + (
            "; send null for an unknown value" if column and column["missing"] != "error" and given is None else "")
    return str(error.get("msg", kind))


def _body_problem(kind: str, loc: list, given: Any, error: dict, max_instances: int, sent_as_json: bool) -> str:
    if kind == "json_invalid":
        reason = error.get("ctx", {}).get("error", "cannot parse it")
        at = "" if not (loc and isinstance(loc[0], int)) else f" character {loc[0]}" if reason.endswith(" at") else \
            f" at character {loc[0]}"  # "Unterminated string starting at": its position follows
        return f"the body is not valid JSON ({reason}{at})"
    if not loc and isinstance(given, (bytes, str)):
        if sent_as_json:  # read as JSON, and a string: requests.post(url, json=json.dumps(payload))
            return "the body is a JSON string, not an object: JSON encoded twice? Send the object itself, e.g. " \
                   "requests.post(url, json=payload)"
        try:  # not read as JSON, by its Content-Type
            sent = json.loads(given)
        except ValueError:
            return "the body is not JSON; send {\"instances\": [...]} with Content-Type: application/json"
        if isinstance(sent, dict):
            return "the body is JSON, sent as another Content-Type; send it with Content-Type: application/json"
        return f"the body must be a JSON object {{\"instances\": [...]}}, got {show(sent)}"
    if loc == ["instances"] and kind == "too_short":
        return "instances: the list is empty; send at least one instance"
    if loc == ["instances"] and kind == "too_long":
        return f"instances: {len(given) if isinstance(given, list) else 'too many'} instances, " \
               f"at most {max_instances} in one request; split them over several requests"
    if loc == ["instances"] and kind == "value_error":  # one sample sent as the list itself (see serve_arrays)
        return f"instances: {error.get('ctx', {}).get('error', error.get('msg', kind))}"
    if loc == ["instances"] and kind == "list_type":
        return f"instances: must be a list of objects, got {show(given)}"
    if loc == ["instances"] and kind == "missing":
        return "the body has no 'instances'; send {\"instances\": [{\"column\": value, ...}]}"
    if kind == "extra_forbidden" and len(loc) == 1:
        return f"unknown key '{loc[0]}' in the body; send {{\"instances\": [...]}} only"
    if not loc and kind == "missing":
        return "the body is empty; send {\"instances\": [{\"column\": value, ...}]} as JSON"
    if not loc:
        return f"the body must be a JSON object {{\"instances\": [...]}}, got {show(given)}"
    return f"{'.'.join(str(p) for p in loc)}: {error.get('msg', kind)}"


def entry_past_the_schema(error) -> dict:
    """The entry of a UserError found once the request passed its schema (an embedding
    index out of range, a value beyond float32 once preprocessed), naming the instance
    and the feature its ``details`` give (the first such sample)."""
    instance, field = error.details.get("sample"), error.details.get("feature")
    loc = ["body", "instances", *([instance] if instance is not None else []), *([field] if field else [])]
    return {"loc": loc, "instance": instance, "field": field, "msg": error.message, "type": "value_error"}
