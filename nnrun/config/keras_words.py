"""Keras's (and PyTorch's) names for what nnrun names otherwise, for the "did you mean"
of config errors.

People who know Keras write what Keras accepts: ``input_shape`` on a layer, ``lr``,
``metrics: [acc]``, ``activation: ReLU``. Spelling similarity alone suggests the wrong
thing (``acc`` is closest to ``auc``), so these words are looked up here first:

    keras_key_hint("lr", ["learning_rate", ...])        -> "; did you mean 'learning_rate'? ..."
    keras_value_hint("GlorotUniform", ["glorot_uniform", ...]) -> "; did you mean 'glorot_uniform'? ..."

Each returns "" when it knows nothing better, and the caller falls back to spelling.
"""

from __future__ import annotations

import re

from nnrun.config.keras_text_words import TEXT_KEYS, TEXT_WORDS

# Keys Keras takes that have no place (or another place) in nnrun's config.
KEYS = {
    "input_shape": "nnrun takes the input shape from the data, so no layer declares it; remove this key",
    "batch_input_shape": "nnrun takes the input shape from the data, so no layer declares it; remove this key",
    "input_dim": "nnrun takes the input size from the data, so no layer declares it; remove this key",
    "validation_split": "the validation fraction is set in the data block: data: {split: {validation: 0.2}}",
    "input_length": "nnrun takes the sequence length from the data (a text's from data.source.text.length); "
                    "remove this key",
    "data_format": "nnrun's images are channels last, (height, width, channels); give channels-first images "
                   "transposed, x.transpose(0, 2, 3, 1), and remove this key",
    "clipnorm": "Keras's clipnorm clips each weight's gradient by its own norm, which nnrun does not offer; "
                "global_clipnorm clips the norm of all gradients together (Keras's global_clipnorm), clipvalue "
                "each element",
    "weight_decay": "weight decay (decoupled, as in Keras's AdamW) is adamw's: optimizer: {type: adamw, "
                    "weight_decay: 0.004}; or an l2 kernel_regularizer on the layers",
    "decay": "Keras's old decay (the rate divided by 1 + decay * steps) is no option here: the rate changes by "
             "epoch with training.schedule (e.g. {type: exponential, decay_rate: 0.9})",
    "save_best_only": "checkpoints are for resuming; the best epoch's weights are kept by "
                      "training.early_stopping: {monitor: val_loss, restore_best: true}",
    "callbacks": "Keras's callbacks are settings: training.early_stopping (EarlyStopping), training.schedule "
                 "(LearningRateScheduler, ReduceLROnPlateau: {type: reduce_on_plateau}) and training.checkpoint "
                 "(ModelCheckpoint)",
    "decay_steps": "Keras's decay_steps count batches; nnrun's schedule counts epochs: decay_epochs is decay_steps "
                   "divided by the batches an epoch (samples / batch_size)",
    "initial_learning_rate": "the rate a schedule starts from is optimizer.learning_rate; training.schedule changes "
                             "it by epoch",
    "activity_regularizer": "a penalty on a layer's outputs is not offered; kernel_regularizer and bias_regularizer "
                            "penalize its weights",
    "reset_after": "nnrun's gru always works as Keras's reset_after: true (its default); remove this key",
    # fit()'s arguments, which a config ported from a Keras script carries along
    "verbose": "the progress shown is the command's: nnrun train -q for a summary only; remove this key",
    "steps_per_epoch": "an epoch is one pass over the training split, batch_size samples a step; remove this key "
                       "(fewer samples: data.source.samples for synthetic data, or fewer rows)",
    "validation_steps": "the whole validation split is scored after every epoch; remove this key",
    "validation_freq": "the whole validation split is scored after every epoch; remove this key",
    "initial_epoch": "a run goes on from its own checkpoint: nnrun train --resume RUN_DIR (with --set "
                     "training.epochs=N to train it further); remove this key",
    "validation_data": "a validation set of its own is a file of the data source: data.source.validation_path "
                       "(a CSV source), or nnrun.train(config, data=..., validation=(x, y)) in Python",
    "sample_weight": "weights per class are loss.class_weights; weights per sample are not offered",
    "workers": "nnrun trains in one process (a data-parallel run: mpiexec, see nnrun[mpi]); remove this key",
    "use_multiprocessing": "nnrun trains in one process (a data-parallel run: mpiexec, see nnrun[mpi]); remove "
                           "this key",
    "max_queue_size": "batches are gathered from the data in memory, with no queue; remove this key",
    "amsgrad": "AMSGrad is not offered: adam, adamw, nadam and adamax are; remove this key",
    "baseline": "early stopping has no baseline: it stops after patience epochs without improvement; remove this key",
    "start_from_epoch": "early stopping counts from the first epoch; a longer patience waits longer; remove this key",
}

# Keras's losses that nnrun does not offer (by squashed name): what to use instead, said
# where a loss is asked for. Spelling alone would point binary_focal_crossentropy at binary_crossentropy
# as if it were a typo of it.
_FOCAL = "focal loss is not offered; binary_crossentropy or categorical_crossentropy with class_weights: balanced " \
    "weighs a rare class up"
NOT_OFFERED = {
    "binaryfocalcrossentropy": _FOCAL, "categoricalfocalcrossentropy": _FOCAL, "sparsecategoricalfocalcrossentropy":
    _FOCAL, "focal": _FOCAL, "focalloss": _FOCAL,
    "kldivergence": "the Kullback-Leibler divergence is not offered as a loss; categorical_crossentropy takes "
                    "probability rows as targets and differs from it by a constant",
    "hinge": "hinge losses are not offered; binary_crossentropy trains the same kind of classifier",
    "squaredhinge": "hinge losses are not offered; binary_crossentropy trains the same kind of classifier",
    "categoricalhinge": "hinge losses are not offered; categorical_crossentropy trains the same kind of classifier",
    "poisson": "the Poisson loss is not offered; mse or huber on the counts (or on their logarithm) instead",
    "logcosh": "log-cosh is not offered; huber is the loss nearest it",
    "meansquaredlogarithmicerror": "the squared logarithmic error is not offered; train with mse on the targets' "
                                   "logarithm (taken in the data) instead",
    "msle": "the squared logarithmic error is not offered; train with mse on the targets' logarithm (taken in the "
            "data) instead",
    "cosinesimilarity": "cosine similarity is not offered as a loss or metric",
}
NOT_OFFERED["kld"] = NOT_OFFERED["kullbackleiblerdivergence"] = NOT_OFFERED["kldivergence"]

# Keys that are nnrun keys under another name: Keras's name -> nnrun's.
RENAMED_KEYS = {
    "lr": "learning_rate",
    "restore_best_weights": "restore_best",
}

# A learning-rate scheduler's arguments as PyTorch's StepLR names them.
TORCH_KEYS = {"step_size": "every", "gamma": "factor"}

# Keys written at another level than nnrun keeps them: Keras's fit() and compile()
# arguments at the top of the file, a data setting under training, ... key -> its place.
PLACES = {
    "epochs": "training.epochs", "batch_size": "training.batch_size", "shuffle": "training.shuffle",
    "early_stopping": "training.early_stopping", "callbacks": "training.early_stopping",
    "patience": "training.early_stopping.patience", "monitor": "training.early_stopping.monitor",
    "schedule": "training.schedule", "threads": "training.threads", "checkpoint": "training.checkpoint",
    "learning_rate": "optimizer.learning_rate", "lr": "optimizer.learning_rate",
    "layers": "model.layers", "init_weights": "model.init_weights",
    "class_weight": "loss.class_weights", "class_weights": "loss.class_weights",
    "source": "data.source", "split": "data.split", "preprocess": "data.preprocess",
    "target_scale": "data.target_scale",
    "loss": "loss", "optimizer": "optimizer", "metrics": "metrics", "seed": "seed", "name": "name",
    "data": "data", "model": "model", "training": "training",
}

# Values (metric, loss, activation names) that Keras spells otherwise, as its functions
# (mean_squared_error) and its classes (keras.metrics.RootMeanSquaredError) name them: by
# their squashed names (see squash), where squashing alone does not find nnrun's word.
RENAMED_VALUES = {
    "acc": "accuracy", "categoricalaccuracy": "accuracy", "sparsecategoricalaccuracy": "accuracy",
    "binaryaccuracy": "accuracy", "meansquarederror": "mse", "meanabsoluteerror": "mae",
    "rootmeansquarederror": "rmse", "meanabsolutepercentageerror": "mape", "r2score": "r2",
    "topkcategoricalaccuracy": "top_k_accuracy",
    "sparsetopkcategoricalaccuracy": "top_k_accuracy", "f1score": "f1",
}
# scikit-learn's names, and the usual short ones of the precision-recall curve's area: not Keras's words.
OTHER_NAMES = {
    "averageprecision": "pr_auc", "averageprecisionscore": "pr_auc", "auprc": "pr_auc", "aucpr": "pr_auc",
    "prauc": "pr_auc", "balancedaccuracyscore": "balanced_accuracy",
}

# What people coming from PyTorch write, or plain "cross entropy" (spelling alone
# suggests binary_crossentropy for it, wrong for a softmax over classes).
TORCH_VALUES = {
    "CrossEntropyLoss": "categorical_crossentropy", "NLLLoss": "categorical_crossentropy",
    "MSELoss": "mse", "L1Loss": "mae", "HuberLoss": "huber", "SmoothL1Loss": "huber",
    "BCELoss": "binary_crossentropy", "BCEWithLogitsLoss": "binary_crossentropy",
}
CROSS_ENTROPY = {"cross_entropy", "crossentropy", "cross-entropy", "ce", "log_loss", "logloss", "nll"}


def keras_key_hint(key: str, fields: list[str], value=None) -> str:
    """What to write instead of the Keras key ``key`` (given ``value``), where ``fields``
    are the keys allowed at its place; "" when ``key`` is no Keras word."""
    if key == "validation_split" and isinstance(value, float) and 0 < value < 1:
        return f"; the validation fraction is set in the data block: data: {{split: {{validation: {value}}}}}"
    if key == "scale" and "factor" in fields:  # Keras's Rescaling(scale=1/255)
        shown = f"factor: {value}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "factor"
        return f"; did you mean '{shown}'? (Keras's Rescaling(scale) is the scale step's factor here)"
    if key in RENAMED_KEYS and RENAMED_KEYS[key] in fields:
        return f"; did you mean '{RENAMED_KEYS[key]}'? (Keras's '{key}' is '{RENAMED_KEYS[key]}' in nnrun)"
    if key in TEXT_WORDS and "tokens" in fields:
        return f"; {TEXT_WORDS[key]}"
    if key in TEXT_KEYS and TEXT_KEYS[key] in fields:
        meaning = {"length": "a text's length in tokens", "max_tokens": "the vocabulary's size"}.get(
            TEXT_KEYS[key], "lower-casing")
        return f"; did you mean '{TEXT_KEYS[key]}'? ({meaning} is '{TEXT_KEYS[key]}' here)"
    if key in TORCH_KEYS and TORCH_KEYS[key] in fields:
        return f"; did you mean '{TORCH_KEYS[key]}'? (PyTorch's '{key}' is '{TORCH_KEYS[key]}' in nnrun)"
    if key == "mode" and "monitor" in fields:
        return ("; the direction follows the quantity monitored: higher is better for accuracy, auc, pr_auc, f1, r2 "
                "and the like, lower for a loss, mae and rmse; remove this key")
    if key in KEYS:
        return f"; {KEYS[key]}"
    return ""


def place_hint(key: str, where: str) -> str:
    """Where ``key``, unknown under ``where`` (a dotted path; "" for the top level),
    belongs in an nnrun config; "" when it belongs nowhere else."""
    place = PLACES.get(key)
    parent = place.rpartition(".")[0] if place else None
    if place is None or parent == where:
        return ""
    if not parent:
        return f"; it goes at the top level of the config, not under {where}"
    return f"; it goes under {parent}: {place}" + (
        " (Keras's callbacks are nnrun's training.early_stopping and training.schedule)" if key == "callbacks" else "")


def keras_value_hint(word: str, options: list[str], prefix: str = "") -> str:
    """The option that the Keras name ``word`` means: a Keras alias (``acc``), or the same
    name in another case or without underscores (``ReLU``, ``GlorotUniform``, ``Adam``);
    ``prefix`` goes before the suggestion (``val_`` for a validation metric)."""
    meant = _keras_value_meant(word, options)
    if meant:
        return f"; did you mean '{prefix}{meant[0]}'? ({meant[1]})"
    absent = NOT_OFFERED.get(squash(word)) if "binary_crossentropy" in options else None  # a loss, not a metric
    return f"; {absent}" if absent and not any(squash(option) == squash(word) for option in options) else ""


def keras_meaning(word: str, options: list[str]) -> str | None:
    """The one option the Keras name ``word`` means, or None."""
    meant = _keras_value_meant(word, options)
    return meant[0] if meant else None


def _keras_value_meant(word: str, options: list[str]) -> tuple[str, str] | None:
    """``(option, why)`` for the Keras name ``word``, or None (see :func:`keras_value_hint`)."""
    call = re.fullmatch(r"\s*(?:keras\.regularizers\.)?(\w+)\((.*)\)\s*", word)
    if call and call.group(1).lower() in options and call.group(1).lower() in ("l1", "l2", "l1_l2"):
        # kernel_regularizer=l2(0.01): a regularizer is written by its factors
        name, arguments = call.group(1).lower(), [a.strip() for a in call.group(2).split(",") if a.strip()]
        factors = [a.replace("=", ": ") if "=" in a else f"{name}: {a}" for a in arguments]
        return "{" + ", ".join(factors) + "}", f"Keras's call {word.strip()} is written by its factors"
    if call and "pr_auc" in options and call.group(1).lower() == "auc":  # metrics=[AUC(curve='PR')]
        meant = "pr_auc" if re.search(r"curve\s*=\s*['\"]pr['\"]", call.group(2), re.IGNORECASE) else "auc"
        return meant, f"Keras's {word.strip()} is the metric {meant} here"
    renamed = RENAMED_VALUES.get(squash(word))
    if renamed in options:
        return renamed, f"Keras's '{word}' is '{renamed}' in nnrun"
    if OTHER_NAMES.get(squash(word)) in options:
        return OTHER_NAMES[squash(word)], f"'{word}' is '{OTHER_NAMES[squash(word)]}' in nnrun"
    if renamed in ("mse", None) and squash(word) in ("mse", "meansquarederror") and "rmse" in options:
        return "rmse", "mse is a loss; as a metric nnrun offers rmse, its square root"
    if squash(word) in ("mape", "meanabsolutepercentageerror") and "mape" not in options and "mae" in options:
        return "mae", "mape is a metric here (metrics: [mape]), not a loss; mae is the loss nearest it"
    if TORCH_VALUES.get(word) in options:
        logits = "; with no activation on the last layer, add from_logits: true" if "Logits" in word else ""
        return TORCH_VALUES[word], f"PyTorch's '{word}' is '{TORCH_VALUES[word]}' in nnrun{logits}"
    if word.lower() in CROSS_ENTROPY and "categorical_crossentropy" in options:
        return "categorical_crossentropy", ("a cross-entropy over classes; binary_crossentropy is for one sigmoid "
                                            "output")
    squashed = squash(word)
    same = [option for option in options if squash(option) == squashed]
    if len(same) == 1 and same[0] != word:
        if word == word.lower():  # categorical_cross_entropy: only the '_' differ
            return same[0], "nnrun joins its words otherwise"
        if "_" in same[0]:
            return same[0], "nnrun's names are lower case, words joined by '_'"
        return same[0], "nnrun writes it as one word" if ("_" in word or "-" in word) else "nnrun's names are lower case"
    return None


def squash(name: str) -> str:
    """``GlorotUniform``, ``glorot_uniform`` and ``glorot-uniform`` all squash to ``glorotuniform``."""
    return name.lower().replace("_", "").replace("-", "")
