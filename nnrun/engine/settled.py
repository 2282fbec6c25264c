"""What a run settles from its data before training, and writes into its config.yaml
as settled, so that the file trains, resumes and evaluates the same whatever data it is
given later: ``loss.class_weights`` given as ``balanced`` or by class name becomes the
list of one weight per class; a text column's unset ``unicode`` becomes nfc (a new run)
or none (a run trained before the option, resumed).
"""

from __future__ import annotations

from nnrun.config import Config, LoadedConfig
from nnrun.data import Dataset
from nnrun.data.labels import class_list
from nnrun.config.messages import is_number
from nnrun.errors import ConfigError, Problem, did_you_mean
from nnrun.model.losses import balanced_weights


def unicode_resolved(loaded: LoadedConfig, new_run: bool) -> Config:
    """The config with a text column's unset ``unicode`` made explicit: nfc for a new
    run; for a saved one (resumed), none, as runs trained before the option read their
    texts, so that a vocabulary fitted again is the one they learned."""
    return unicode_unset_as(loaded, "nfc" if new_run else "none")


def unicode_unset_as(loaded: LoadedConfig, value: str | None) -> Config:
    """The config with a text column's ``unicode``, where unset, set to ``value``."""
    source = loaded.config.data.source
    text = getattr(source, "text", None)
    if text is None or text.unicode is not None or value is None:
        return loaded.config
    text = text.model_copy(update={"unicode": value})
    data = loaded.config.data.model_copy(update={"source": source.model_copy(update={"text": text})})
    loaded.config = loaded.config.model_copy(update={"data": data})
    return loaded.config


def class_weights_resolved(loaded: LoadedConfig, train: Dataset) -> Config:
    """The config with ``loss.class_weights`` given as ``balanced`` or by class name
    replaced by the list it comes to on the training split: the run's config.yaml then
    holds the weights it trained with, and trains, resumes and evaluates with them
    whatever data it is given later (and whatever order its classes come in)."""
    loss = loaded.config.loss
    weights = getattr(loss, "class_weights", None)
    if train.task != "classification" or not isinstance(weights, (str, dict)):
        return loaded.config
    if weights == "balanced":
        listed = balanced_weights(train.y, train.num_classes)
    else:
        listed = _weights_by_name(loaded, weights, train)
    loaded.config = loaded.config.model_copy(update={"loss": loss.model_copy(update={"class_weights": listed})})
    return loaded.config


def _weights_by_name(loaded: LoadedConfig, weights: dict[str, float], train: Dataset) -> list[float]:
    """One weight per class from ``{class name: weight}``; a class not named weighs 1,
    as it would unweighted. Names that are no class of the data are refused together."""
    names = [str(name) for name in train.class_names or []]
    unknown = [name for name in weights if name not in names]
    numbered = all(is_number(name) for name in names)  # classes 1, 2, 3: a key names a label, not a position
    if unknown and not numbered and len(unknown) == len(weights) and \
            all(n.isdigit() and int(n) < len(names) for n in unknown):
        # Keras's class_weight={0: 1.0, 1: 10.0} counts the classes, which here have names
        by_name = ", ".join(f"{names[int(n)]}: {_number(w)}" for n, w in sorted(weights.items(), key=lambda i: int(i[0])))
        raise loaded.locate(ConfigError("", [Problem("loss.class_weights", (
            f"the classes have names, not numbers: the training split has {class_list(train)}; Keras's "
            f"class_weight counts them from 0, which by name is class_weights: {{{by_name}}}"))]))
    if unknown:
        raise loaded.locate(ConfigError("", [Problem(
            f"loss.class_weights.{name}", f"'{name}' is no class of the data, whose training split has "
            f"{class_list(train)}" + ("; a key names a class by its label, not its position" if numbered and
                                      is_number(name) else did_you_mean(name, names))) for name in unknown]))
    listed = [float(weights.get(name, 1.0)) for name in names]
    if not any(listed):  # else the loss is 0 whatever the model says
        raise loaded.locate(ConfigError("", [Problem("loss.class_weights", (
            "every class weighs 0, so the loss is 0 and nothing would be learned; weight at least one class above 0 "
            "(a class not named weighs 1)"))]))
    return listed


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


