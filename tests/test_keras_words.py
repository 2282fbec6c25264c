"""Keras users' first guesses get the nnrun word they meant, not the nearest spelling."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import nnrun
from nnrun.errors import UserError

BASE = {
    "name": "keras",
    "data": {"source": {"type": "builtin", "name": "iris"}},
    "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 3, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.01},
    "metrics": ["accuracy"],
    "training": {"epochs": 2},
}


def with_change(path: str, value) -> dict:
    """BASE with one dotted key set (list items by index)."""
    config = yaml.safe_load(yaml.safe_dump(BASE))
    *parents, last = path.split(".")
    node = config
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return config


GUESSES = [
    # fit()'s and the optimizers' arguments a ported script carries along: what nnrun does instead.
    ("training.verbose", 0, "training.verbose: unknown key 'verbose'; the progress shown is the command's: nnrun "
                            "train -q for a summary only; remove this key"),
    ("training.initial_epoch", 3, "unknown key 'initial_epoch'; a run goes on from its own checkpoint: nnrun train "
                                  "--resume RUN_DIR"),
    ("training.validation_data", "val.csv", "unknown key 'validation_data'; a validation set of its own is a file of "
                                            "the data source: data.source.validation_path"),
    ("optimizer.amsgrad", True, "optimizer.amsgrad: unknown key 'amsgrad'; AMSGrad is not offered"),
    ("training.early_stopping", {"monitor": "val_loss", "baseline": 0.5},
     "unknown key 'baseline'; early stopping has no baseline"),
    # Losses Keras has and nnrun does not: said so, not the nearest spelling (binary_crossentropy).
    ("loss", "binary_focal_crossentropy", "loss: unknown type 'binary_focal_crossentropy'; focal loss is not offered; "
                                          "binary_crossentropy or categorical_crossentropy with class_weights: balanced"),
    ("loss", "kl_divergence", "unknown type 'kl_divergence'; the Kullback-Leibler divergence is not offered"),
    ("model.layers.0", {"type": "Lambda"}, "unknown type 'Lambda'; a layer of one's own code is not offered"),
    # Rescaling(1./255) as a config value: no arithmetic, the number to write.
    ("data.preprocess", [{"type": "scale", "factor": "1./255"}],
     "data.preprocess.0.factor: expected a number, got '1./255'; a config holds no arithmetic: write the number, "
     "0.00392156862745098 (1./255)"),
    ("model.layers.0.input_shape", [4],
     "model.layers.0.input_shape: unknown key 'input_shape'; nnrun takes the input shape from the data, "
     "so no layer declares it; remove this key"),
    ("model.layers.0.input_dim", 4,
     "model.layers.0.input_dim: unknown key 'input_dim'; nnrun takes the input size from the data, "
     "so no layer declares it; remove this key"),
    ("metrics.0", "acc",
     "metrics.0: expected one of accuracy, top_k_accuracy, precision, recall, f1, f1_macro, auc, pr_auc, balanced_accuracy, mae, rmse, mape, r2, "
     "got 'acc'; did you mean 'accuracy'? (Keras's 'acc' is 'accuracy' in nnrun)"),
    ("metrics.0", "average_precision",
     "got 'average_precision'; did you mean 'pr_auc'? ('average_precision' is 'pr_auc' in nnrun)"),
    ("metrics.0", "AUPRC", "got 'AUPRC'; did you mean 'pr_auc'?"),
    ("metrics.0", "balanced_accuracy_score", "got 'balanced_accuracy_score'; did you mean 'balanced_accuracy'?"),
    ("metrics.0", "categorical_accuracy",
     "got 'categorical_accuracy'; did you mean 'accuracy'? (Keras's 'categorical_accuracy' is 'accuracy' in nnrun)"),
    ("optimizer.lr", 0.01,
     "optimizer.lr: unknown key 'lr'; did you mean 'learning_rate'? (Keras's 'lr' is 'learning_rate' in nnrun)"),
    ("training.validation_split", 0.15,
     "training.validation_split: unknown key 'validation_split'; the validation fraction is set in the data "
     "block: data: {split: {validation: 0.15}}"),
    # Keras layers without an nnrun type of their name: what to write, not the nearest spelling.
    ("model.layers.0", {"type": "ReLU"}, "model.layers.0.type: unknown type 'ReLU'; an activation is a layer's "
     "option here (activation: relu on the layer before), or a layer of its own: {type: activation, activation: relu}"),
    ("model.layers.0", {"type": "InputLayer", "shape": [4]}, "unknown type 'InputLayer'; the input needs no layer"),
    ("model.layers.0", {"type": "Normalization"}, "unknown type 'Normalization'; standardizing the features is "
     "preprocessing here: data.preprocess: [standardize]"),
    ("model.layers.0", {"type": "SpatialDropout1D", "rate": 0.1}, "unknown type 'SpatialDropout1D'; dropping whole "
     "channels is not offered; dropout drops single values"),
    ("model.layers.0", {"type": "SpatialDropout3D", "rate": 0.1}, "unknown type 'SpatialDropout3D'; dropping whole "
     "channels is not offered"),
    ("model.layers.0", {"type": "Sigmoid"}, "unknown type 'Sigmoid'; an activation is a layer's option here "
     "(activation: sigmoid on the layer before)"),
    ("optimizer.learning_rate", {"type": "ExponentialDecay", "decay_steps": 100}, "optimizer.learning_rate: expected "
     "a number, got a mapping; a rate that changes is training.schedule"),
    ("training.schedule", {"type": "step", "every": 2, "step_size": 2}, "training.schedule.step_size: unknown key "
     "'step_size'; did you mean 'every'? (PyTorch's 'step_size' is 'every' in nnrun)"),
    ("training.schedule", {"type": "step", "every": 2, "gamma": 0.5}, "training.schedule.gamma: unknown key 'gamma'; "
     "did you mean 'factor'? (PyTorch's 'gamma' is 'factor' in nnrun)"),
    ("training.early_stopping", {"monitor": "val_accuracy", "mode": "max"}, "training.early_stopping.mode: unknown "
     "key 'mode'; the direction follows the quantity monitored: higher is better for accuracy"),
    ("training.schedule", {"type": "exponential", "decay_rate": 0.9, "decay_steps": 100}, "unknown key "
     "'decay_steps'; Keras's decay_steps count batches; nnrun's schedule counts epochs"),
    ("training.schedule", {"type": "exponential", "decay_rate": 0.9, "initial_learning_rate": 0.1}, "unknown key "
     "'initial_learning_rate'; the rate a schedule starts from is optimizer.learning_rate"),
    ("model.layers.0.activity_regularizer", "l2", "unknown key 'activity_regularizer'; a penalty on a layer's "
     "outputs is not offered"),
    ("model.layers.0", {"type": "embedding", "input_dim": 10, "output_dim": 4, "input_length": 4},
     "model.layers.0.input_length: unknown key 'input_length'; nnrun takes the sequence length from the data (a "
     "text's from data.source.text.length); remove this key"),
    # A text's length and vocabulary as Keras's TextVectorization and tutorials name them: spelling alone sent
    # max_len to max_tokens, the vocabulary's size.
    ("data.source", {"type": "csv", "path": "reviews.csv", "target": "label", "text": {"column": "review",
                                                                                    "max_len": 12}},
     "data.source.text.max_len: unknown key 'max_len'; did you mean 'length'? (a text's length in tokens is 'length' "
     "here)"),
    ("data.source", {"type": "csv", "path": "reviews.csv", "target": "label", "text": {"column": "review",
                                                                                    "vocab_size": 200}},
     "data.source.text.vocab_size: unknown key 'vocab_size'; did you mean 'max_tokens'? (the vocabulary's size is "
     "'max_tokens' here)"),
    # TextVectorization's other arguments: what nnrun does instead, not a neighbour by spelling ('split' is no
    # data.split here, 'oov_token' no 'tokens').
    ("data.source", {"type": "csv", "path": "reviews.csv", "target": "label", "text": {"column": "review",
                                                                                    "split": "whitespace"}},
     "data.source.text.split: unknown key 'split'; how a text is split is 'tokens' here: word (on white space, "
     "Keras's split='whitespace') or char (split='character')"),
    ("data.source", {"type": "csv", "path": "reviews.csv", "target": "label", "text": {"column": "review",
                                                                                    "oov_token": "<OOV>"}},
     "data.source.text.oov_token: unknown key 'oov_token'; a word outside the vocabulary is always '[UNK]', index 1 "
     "(0 is the padding); remove this key"),
    ("data.source", {"type": "csv", "path": "reviews.csv", "target": "label", "text": {"column": "review",
                                                                                    "standardize": "lower"}},
     "data.source.text.standardize: unknown key 'standardize'; Keras's standardization is lowercase and "
     "strip_punctuation here"),
    ("model.layers.0", {"type": "bidirectional", "layer": {"type": "lstm", "units": 4}, "return_sequences": True},
     "model.layers.0.return_sequences: unknown key 'return_sequences'; the wrapped layer's options go inside it: "
     "layer: {type: ..., return_sequences: true}"),
    ("model.layers.0", {"type": "bidirectional", "layer": {"type": "lstm", "units": 4}, "merge_mod": "sum"},
     "model.layers.0.merge_mod: unknown key 'merge_mod'; did you mean 'merge_mode'?"),
    ("metrics.0", "RootMeanSquaredError",
     "got 'RootMeanSquaredError'; did you mean 'rmse'? (Keras's 'RootMeanSquaredError' is 'rmse' in nnrun)"),
    ("metrics.0", "mse", "got 'mse'; did you mean 'rmse'? (mse is a loss; as a metric nnrun offers rmse, its square root)"),
    ("loss", "MeanSquaredError", "did you mean 'mse'? (Keras's 'MeanSquaredError' is 'mse' in nnrun)"),
    ("loss", "mape", "did you mean 'mae'? (mape is a metric here (metrics: [mape]), not a loss; mae is the loss "
     "nearest it)"),
    ("metrics.0", "MeanAbsolutePercentageError", "did you mean 'mape'? (Keras's 'MeanAbsolutePercentageError' is "
     "'mape' in nnrun)"),
    ("model.layers.0", {"type": "conv2d", "filters": 2, "kernel_size": 3, "data_format": "channels_first"},
     "model.layers.0.data_format: unknown key 'data_format'; nnrun's images are channels last, (height, width, "
     "channels); give channels-first images transposed, x.transpose(0, 2, 3, 1), and remove this key"),
    ("model.layers.0.activation", "ReLU",
     "got 'ReLU'; did you mean 'relu'? (nnrun's names are lower case)"),
    ("model.layers.0.kernel_initializer", "GlorotUniform",
     "got 'GlorotUniform'; did you mean 'glorot_uniform'? (nnrun's names are lower case, words joined by '_')"),
    ("optimizer.type", "Adam",
     "optimizer.type: unknown type 'Adam'; did you mean 'adam'? (nnrun's names are lower case)"),
    # Keras's fit() and compile() arguments where nnrun keeps them.
    ("epochs", 5, "epochs: unknown key 'epochs'; it goes under training: training.epochs"),
    ("batch_size", 16, "batch_size: unknown key 'batch_size'; it goes under training: training.batch_size"),
    ("learning_rate", 0.1, "unknown key 'learning_rate'; it goes under optimizer: optimizer.learning_rate"),
    ("lr", 0.1, "lr: unknown key 'lr'; it goes under optimizer: optimizer.learning_rate"),
    ("callbacks", ["early_stopping"], "callbacks: unknown key 'callbacks'; Keras's callbacks are settings: "
                                      "training.early_stopping (EarlyStopping), training.schedule"),
    ("training.patience", 3, "training.patience: unknown key 'patience'; it goes under training.early_stopping: "
                             "training.early_stopping.patience"),
    ("training.loss", "mse", "training.loss: unknown key 'loss'; it goes at the top level of the config, not under "
                             "training"),
    ("metrics", "accuracy", "metrics: expected a list, got 'accuracy'; write a list, even of one: [accuracy]"),
    # PyTorch's names, and plain "cross entropy", which spelling alone took for binary_crossentropy.
    ("loss", "cross_entropy", "loss: unknown type 'cross_entropy'; did you mean 'categorical_crossentropy'? "
                              "(a cross-entropy over classes; binary_crossentropy is for one sigmoid output)"),
    ("loss", "CrossEntropyLoss", "did you mean 'categorical_crossentropy'? (PyTorch's 'CrossEntropyLoss' is "
                                 "'categorical_crossentropy' in nnrun)"),
    ("loss", "MSELoss", "loss: unknown type 'MSELoss'; did you mean 'mse'? (PyTorch's 'MSELoss' is 'mse' in nnrun)"),
]


@pytest.mark.parametrize(("path", "value", "message"), GUESSES, ids=[g[0] + "=" + str(g[1]) for g in GUESSES])
def test_a_keras_guess_gets_the_nnrun_word(run_cli, write_config, path, value, message):
    config = write_config(yaml.safe_dump(with_change(path, value), sort_keys=False))
    result = run_cli("validate", config)
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.count("problem in the config") == 1  # one problem, not one per union member


def test_every_place_a_key_is_sent_to_exists(run_cli, write_config):
    """The places of keras_words.PLACES are keys of the config's schema."""
    from nnrun.config.keras_words import PLACES
    from nnrun.config.schema import Config

    for place in PLACES.values():
        model = Config
        for part in place.split("."):
            assert part in model.model_fields, place
            annotation = model.model_fields[part].annotation
            model = next((a for a in getattr(annotation, "__args__", (annotation,)) if hasattr(a, "model_fields")),
                         None) if part != place.split(".")[-1] else None


def test_the_layers_given_as_the_model_are_told_where_they_go(run_cli, write_config):
    config = with_change("model", BASE["model"]["layers"])
    result = run_cli("validate", write_config(yaml.safe_dump(config)))
    assert "model: expected a mapping of keys to values, got a list of 2; the layers go under layers: " \
           "model: {layers: [...]}" in result.output


def test_a_keras_type_does_not_hide_the_other_problems_of_its_block(run_cli, write_config):
    config = with_change("model.layers.0.type", "Dense")
    config["model"]["layers"][0]["input_shape"] = [4]
    config["optimizer"] = {"type": "Adam", "lr": 0.01}
    result = run_cli("validate", write_config(yaml.safe_dump(config, sort_keys=False)))
    assert "4 problems in the config" in result.output  # one round, not two
    for told in ("model.layers.0.type: unknown type 'Dense'; did you mean 'dense'?",
                 "model.layers.0.input_shape: unknown key 'input_shape'", "optimizer.type: unknown type 'Adam'",
                 "optimizer.lr: unknown key 'lr'; did you mean 'learning_rate'?"):
        assert told in result.output


def test_ordinary_misspellings_still_get_spelling_suggestions(run_cli, write_config):
    result = run_cli("validate", write_config(yaml.safe_dump(with_change("metrics.0", "acuracy"))))
    assert result.exit_code == 2 and "got 'acuracy'; did you mean 'accuracy'?" in result.output
    result = run_cli("validate", write_config(yaml.safe_dump(with_change("model.layers.0.unit", 8))))
    assert result.exit_code == 2 and "unknown key 'unit'; did you mean 'units'?" in result.output
    result = run_cli("validate", write_config(yaml.safe_dump(with_change("model.layers.0.kernel_initializer", "he"))))
    assert "got 'he'; did you mean 'he_uniform' or 'he_normal'?" in result.output  # a first word of two names
    result = run_cli("validate", write_config(yaml.safe_dump(with_change("loss", "categorical_cross_entropy"))))
    assert "did you mean 'categorical_crossentropy'? (nnrun joins its words otherwise)" in result.output


@pytest.mark.parametrize(("written", "meant"), [
    ({"l2": 0.01}, {"type": "l2", "l2": 0.01}),
    ({"l1": 0.003}, {"type": "l1", "l1": 0.003}),
    ({"l1": 0.001, "l2": 0.002}, {"type": "l1_l2", "l1": 0.001, "l2": 0.002}),
])
def test_a_regularizer_written_by_its_factors_is_that_regularizer(tmp_path, written, meant):
    config = with_change("model.layers.0.kernel_regularizer", written)
    spelled_out = with_change("model.layers.0.kernel_regularizer", meant)
    a = nnrun.train(config, run_dir=tmp_path / "a")
    b = nnrun.train(spelled_out, run_dir=tmp_path / "b")
    assert (a.run_dir / "config.yaml").read_text() == (b.run_dir / "config.yaml").read_text()
    assert (a.run_dir / "model.safetensors").read_bytes() == (b.run_dir / "model.safetensors").read_bytes()


def test_arrays_inside_a_config_are_a_clear_error(tmp_path):
    config = with_change("data.source", {"type": "npz", "path": "xy.npz", "x": np.zeros((150, 4))})
    with pytest.raises(UserError) as caught:
        nnrun.train(config, run_dir=tmp_path / "r")
    assert "data.source.x: an array of shape (150, 4) (ndarray) inside the config; a config holds settings, not " \
           "data: pass arrays beside it, as nnrun.train(config, data=(x, y), validation=(x_val, y_val))" in str(caught.value)
    assert not (tmp_path / "r").exists()


def test_a_python_function_inside_a_config_names_the_settings_that_go_there(tmp_path):
    """Keras's LearningRateScheduler(lambda epoch: ...) has no place in a config file."""
    config = with_change("training.schedule", lambda epoch: 0.01 * 0.9 ** epoch)
    with pytest.raises(UserError) as caught:
        nnrun.train(config, run_dir=tmp_path / "r")
    assert str(caught.value) == (
        "<config>: 1 problem in the config\n  training.schedule: a Python function (<lambda>) inside the config; a "
        "run is saved as its config file and reproduced from it, so a config holds settings only: write this one by "
        "its type, one of: constant, step, exponential, cosine, reduce_on_plateau")
    assert not (tmp_path / "r").exists()
    import numpy as np  # a class with array-like descriptors (ndim, shape) is a class, not an array

    with pytest.raises(UserError, match=r"optimizer: a Python class \(float32\) inside the config"):
        nnrun.train(with_change("optimizer", np.float32), run_dir=tmp_path / "r")
