"""Keras's habits on a loaded model, told as what nnrun does instead: the methods it
does not have (``fit``, ``save``, ``get_weights``) and the arguments its ``predict`` and
``evaluate`` do not take (``batch_size=``, ``verbose=``), as a UserError with the way
there, not Python's bare TypeError or AttributeError."""

from __future__ import annotations

import functools
import inspect

from nnrun.errors import UserError

KERAS_METHODS = {  # name: what does that here
    "fit": "nnrun.train(config, data=(x, y)) trains a new run; nnrun.resume(run_dir, overrides={'training.epochs': N}) "
           "trains this one further",
    "predict_proba": "model.predict(x).probabilities",
    "predict_classes": "model.predict(x).predictions",
    "save": "the run directory is the saved model, which nnrun.load reads; nnrun export RUN_DIR writes ONNX",
    "compile": "a config's loss, optimizer and metrics say it, for nnrun.train",
    "get_weights": "model.weights is a dict of the weights by name, as model.safetensors holds them",
    "layers": "model.summary() lists them; model.config.model.layers is their config",
}

KERAS_ARGUMENTS = {  # Keras's predict() and evaluate() arguments: what nnrun does instead
    "batch_size": "the samples go through in batches of nnrun's own (of 1,024): leave batch_size out",
    "verbose": "a loaded model prints nothing but its notes (on standard error): leave verbose out",
    "return_dict": "an Evaluation's .metrics is the dict of the loss and the metrics: model.evaluate(x, y).metrics",
    "sample_weight": "samples are not weighted when scored; a loss's class_weights weigh classes in training",
    "steps": "every sample given is used: slice x for fewer",
    "callbacks": "predict and evaluate call no callbacks",
}


def keras_arguments(method):
    """``method`` of a loaded model with arguments it does not take told as a UserError:
    Keras's, with what nnrun does instead; any other, with what it takes."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    def called(self, *args, **kwargs):
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            unknown = [key for key in kwargs if key not in signature.parameters]
            what = f"takes no argument {', '.join(map(repr, unknown))}" if unknown else str(exc)
            taken = ", ".join(name for name in signature.parameters if name != "self")
            said = [f"{key}=: {KERAS_ARGUMENTS[key]}" for key in unknown if key in KERAS_ARGUMENTS]
            raise UserError(f"model.{method.__name__}(): {what}; it takes {taken}",
                            hint="; ".join(said) or f"help(model.{method.__name__}) says what each is") from None
        return method(self, *args, **kwargs)
    return called


def missing_attribute(name: str) -> AttributeError:
    """The error for an attribute a loaded model lacks: Keras's, with what does that here."""
    if name in KERAS_METHODS:
        call = "()" if name != "layers" else ""
        return AttributeError(f"a loaded nnrun model has no {name}{call}; {KERAS_METHODS[name]}")
    return AttributeError(f"'TrainedModel' object has no attribute {name!r}")
