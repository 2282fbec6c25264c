"""How the Python API's functions take their arguments: hints spoken to Python code, and
an argument a function does not take told as where it goes in nnrun (Keras's
``fit(x, y, epochs=5)`` is ``nnrun.train(config, data=(x, y), overrides=...)``)."""

from __future__ import annotations

import functools
import inspect
import os
import re
from pathlib import Path

from nnrun.errors import NnrunError

# Keras's fit() arguments, and where each goes in nnrun: a setting of the config (given
# here as overrides) or another argument.
KERAS_SETTINGS = {"epochs": "training.epochs", "batch_size": "training.batch_size", "shuffle": "training.shuffle",
                  "seed": "seed", "validation_split": "data.split.validation"}
KERAS_ARGUMENTS = {  # Keras's name: (nnrun's argument, what to give)
    "validation_data": ("validation", "validation=(x_val, y_val)"),
    "x": ("data", "data=(x, y)"),
    "y": ("data", "data=(x, y)"),
    "verbose": ("quiet", "quiet=False, to see progress (quiet=True, the default, prints nothing)"),
    "callbacks": ("hooks", "hooks=..., an object with the hooks it uses (see nnrun.engine.hooks)"),
}


INTERNAL = {"command"}  # what the command line passes along (the command that ran, for the run's record)


def from_python(function):
    """Runs ``function`` with its hints spoken to Python code: ``nnrun.resume(...)`` and
    ``overrides=``, where the CLI's name ``nnrun train --resume`` and ``--set``. Arguments
    it does not take (Keras's ``epochs=``) are a UserError saying where they go."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def called(*args, **kwargs):
        from nnrun.errors import FROM_PYTHON

        _check_arguments(function.__name__, signature, args, kwargs)
        token = FROM_PYTHON.set(True)
        try:
            return function(*args, **kwargs)
        except NnrunError as error:  # a file-reading hint, in the keywords evaluate takes
            error.message = as_called(error.message)
            error.hint = as_called(error.hint) if error.hint else error.hint
            raise
        finally:
            FROM_PYTHON.reset(token)
    return called


# A file-reading option of evaluate, as a message written for the command line names it.
READING_OPTION = re.compile(r"--(decimal|thousands|delimiter|encoding) ('[^']*'|[\w-]+)")
KEYWORD_OPTION = re.compile(r"--(decimal|thousands|delimiter|encoding|unknown|threshold|workers)\b(?!-)")


def as_called(text: str) -> str:
    """``text``'s file-reading options as a Python caller gives them, to
    ``nnrun.evaluate(run, data=FILE, ...)``: ``--thousands ','`` is ``thousands=','``,
    ``--thousands none`` ``thousands=''``, ``--thousands space`` ``thousands=' '``."""
    words = {"space": "' '", "none": "''"}
    value = lambda given: words.get(given, given if given.startswith("'") else repr(given))  # noqa: E731
    given = READING_OPTION.sub(lambda found: f"{found[1]}={value(found[2])}", text)
    return KEYWORD_OPTION.sub(lambda found: found[1], given)  # '--thousands: ...', as the keyword


def _check_arguments(name: str, signature: inspect.Signature, args: tuple, kwargs: dict) -> None:
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        from nnrun.errors import UserError, closest

        parameters = signature.parameters
        unknown = [key for key in kwargs if key not in parameters]
        taken = [param for param in parameters if param not in INTERNAL]
        settings = {KERAS_SETTINGS[key]: kwargs[key] for key in unknown if key in KERAS_SETTINGS}
        places = [f"overrides={settings!r}"] if settings and "overrides" in taken else []
        # Each where the argument it names is one this function takes (resume takes no data);
        # evaluate's data is a labelled file: arrays are a loaded model's to score.
        places += [KERAS_ARGUMENTS[key][1] if name != "evaluate" or key not in ("x", "y") else
                   "nnrun.load(run_dir).evaluate(x, y) for arrays (data= takes a labelled file)"
                   for key in unknown if KERAS_ARGUMENTS.get(key, ("",))[0] in taken]
        places += [f"{meant}= for {key}=" for key in unknown if key not in KERAS_SETTINGS and key not in
                   KERAS_ARGUMENTS for meant in [closest(key, taken)] if meant]
        keyword_data = "data" in parameters and parameters["data"].kind is inspect.Parameter.KEYWORD_ONLY
        if not unknown and len(args) > 1 and keyword_data:  # train(config, x, y), as Keras's fit(x, y)
            places = ["data=(x, y)"]
        what = f"takes no argument {', '.join(map(repr, unknown))}" if unknown else str(exc)
        raise UserError(f"nnrun.{name}(): {what}; it takes {', '.join(taken)}",
                        hint=f"give {'; '.join(dict.fromkeys(places))}" if places else
                        f"help(nnrun.{name}) says what each argument is") from None


def run_path(value, name: str, what: str = "a run directory"):
    """A folder or file (``what``) given as a path (any ``os.PathLike``) or its text;
    anything else is a clear error."""
    if not isinstance(value, (str, os.PathLike)):
        from nnrun.errors import UserError

        raise UserError(f"{name}: expected the path of {what}, got {type(value).__name__}",
                        hint="a folder such as \"runs/iris-20260101-120000\" (what nnrun.train returns as "
                             "result.run_dir)" if what == "a run directory" else None)
    return Path(value)
