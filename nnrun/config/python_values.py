"""What a config given in Python (a dict) may hold that a YAML file cannot, made into
what the file would hold, or told: keys that are numbers (NumPy's too) as text, NumPy
scalars and paths as values; arrays, functions and classes refused, since a run is
saved as its config file and reproduced from it.
"""

from __future__ import annotations

from typing import Any

from nnrun.config.yaml_reader import class_name_of
from nnrun.errors import Problem


def objects_inside(value: Any, path: tuple = ()) -> list[tuple[str, str]]:
    """(dotted path, message) for every array (NumPy, pandas, ...) and every Python
    function or class inside a config given as a dict: a config holds settings, which a
    run saves as its config file to be trained again from; data goes beside it."""
    if isinstance(value, dict):
        return [found for key, inner in value.items() for found in objects_inside(inner, (*path, key))]
    if isinstance(value, (list, tuple)):
        return [found for i, inner in enumerate(value) for found in objects_inside(inner, (*path, i))]
    dotted = ".".join(map(str, path))
    # A class's ndim and shape are descriptors, no numbers: classes are told below, as functions are.
    if not isinstance(value, type) and getattr(value, "ndim", 0) and hasattr(value, "shape"):
        return [(dotted, f"an array of shape {tuple(value.shape)} ({type(value).__name__}) inside the config; a "
                         "config holds settings, not data: pass arrays beside it, as nnrun.train(config, "
                         "data=(x, y), validation=(x_val, y_val))")]
    if callable(value):  # a lambda as the schedule (Keras's LearningRateScheduler), an optimizer object
        from nnrun.config.locations import tags_at

        what = "class" if isinstance(value, type) else "function"
        types = tags_at(path)
        instead = f"by its type, one of: {', '.join(types)}" if types else "as the value itself"
        return [(dotted, f"a Python {what} ({getattr(value, '__name__', type(value).__name__)}) inside the config; "
                         "a run is saved as its config file and reproduced from it, so a config holds settings "
                         f"only: write this one {instead}")]
    return []


def text_keys(value: Any, path: tuple, twice: list[Problem]) -> Any:
    """A Python caller's mapping with its number keys as JSON writes them, text: NumPy's
    too (``dict(zip(np.unique(y), weights))``, Keras's class_weight idiom), which
    ``json.dumps`` refuses. Two keys that become one (1 and '1') are told in ``twice``."""
    if isinstance(value, list):
        return [text_keys(item, (*path, i), twice) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    result, given = {}, {}
    for key, item in value.items():
        text = _text_key(key)
        if text in result:
            twice.append(Problem(".".join(map(str, (*path, text))), f"given twice, as {given[text]!r} and {key!r}; "
                                                                     "keep one"))
        result[text], given[text] = text_keys(item, (*path, text), twice), key
    return result


def _text_key(key: Any) -> Any:
    """A key as the text JSON needs: a number as a class is named (class_name_of)."""
    plain = key.item() if hasattr(key, "item") and not isinstance(key, str) else key  # a NumPy scalar
    return class_name_of(plain) if isinstance(plain, (int, float)) else key


def json_value(value: Any) -> Any:
    """Values a Python caller may put in a config dict: NumPy scalars, paths."""
    return value.item() if hasattr(value, "item") else str(value)
