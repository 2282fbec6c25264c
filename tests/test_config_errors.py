"""Bad configs, as a user types them: `nnrun validate` exits 2 and points at the mistake.

Each case edits one line of a valid config and names the line:column and the message
fragment the user must see. Line numbers refer to VALID below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

VALID = """\
name: demo
seed: 1
data:
  source: {type: builtin, name: iris}
  split: {validation: 0.2, test: 0.2}
  preprocess: [standardize]
model:
  layers:
    - {type: dense, units: 8, activation: relu, name: hidden}
    - {type: dense, units: 3, activation: softmax}
loss: categorical_crossentropy
optimizer: {type: adam, learning_rate: 0.01}
metrics: [accuracy]
training:
  epochs: 2
  batch_size: 16
  early_stopping: {monitor: val_loss, patience: 3}
"""

LAYER_0 = "    - {type: dense, units: 8, activation: relu, name: hidden}"
LAYER_1 = "    - {type: dense, units: 3, activation: softmax}"

# (id, old text, new text, "line:col" or None for the whole file, message fragment)
CASES = [
    # Misspelled keys, at every level, with a suggestion.
    ("top-level key", "seed: 1", "sed: 1", "2:1", "sed: unknown key 'sed'; did you mean 'seed'?"),
    ("section key", "  split:", "  splt:", "5:3", "data.splt: unknown key 'splt'; did you mean 'split'?"),
    ("source key", "name: iris}", "nme: iris}", "4:27", "data.source.nme: unknown key 'nme'; did you mean 'name'?"),
    ("split key", "validation: 0.2", "validaton: 0.2", "5:11", "did you mean 'validation'?"),
    ("layer key", "units: 8", "unit: 8", "9:21", "model.layers.0.unit: unknown key 'unit'; did you mean 'units'?"),
    ("optimizer key", "learning_rate", "learning_rte", "12:25", "did you mean 'learning_rate'?"),
    ("training key", "  epochs: 2", "  epoch: 2", "15:3", "training.epoch: unknown key 'epoch'; did you mean 'epochs'?"),
    ("nested stopping key", "patience: 3", "patiance: 3", "17:39",
     "training.early_stopping.patiance: unknown key 'patiance'; did you mean 'patience'?"),
    ("unknown key, no match", "seed: 1", "seed: 1\ncolour: red", "3:1",
     "colour: unknown key 'colour'; expected one of: name"),
    # Wrong types: expected and received.
    ("text for an int", "units: 8", "units: eight", "9:28", "model.layers.0.units: expected a whole number, got 'eight'"),
    ("float for an int", "epochs: 2", "epochs: 2.5", "15:11", "training.epochs: expected a whole number, got 2.5"),
    ("quoted number", "batch_size: 16", "batch_size: '16'", "16:15", "got '16'; write the number without quotes"),
    ("yes for a bool", "batch_size: 16", "batch_size: 16\n  shuffle: yes", "17:12",
     "training.shuffle: expected true or false, got 'yes'"),
    ("word for a list", "metrics: [accuracy]", "metrics: accuracy", "13:10", "metrics: expected a list, got 'accuracy'"),
    ("number for a mapping", "split: {validation: 0.2, test: 0.2}", "split: 0.2", "5:10",
     "data.split: expected a mapping of keys to values, got 0.2"),
    ("empty section", f"model:\n  layers:\n{LAYER_0}\n{LAYER_1}\n", "model:\n", "7:7",
     "model: expected a mapping of keys to values, got nothing (an empty value or null)"),
    ("bad run name", "name: demo", "name: my demo", "1:7",
     "name: expected letters, digits, '.', '_' or '-', starting with a letter or digit, got 'my demo'"),
    ("missing section", "loss: categorical_crossentropy\n", "", "1:1", "loss: required key is missing"),
    # Out of range.
    ("negative rate", "learning_rate: 0.01", "learning_rate: -0.01", "12:40", "expected a number greater than 0, got -0.01"),
    ("fraction above 1", "validation: 0.2", "validation: 1.5", "5:23", "expected a number below 1, got 1.5"),
    ("negative seed", "seed: 1", "seed: -1", "2:7", "seed: expected a whole number of at least 0, got -1"),
    ("huge seed", "seed: 1", "seed: 100000000000000000000000", "2:7", "expected a whole number below 2**63"),
    ("huge units", "units: 8", "units: 100000000000000000000", "9:28", "expected at most 16777216"),
    ("splits leave nothing", "validation: 0.2, test: 0.2", "validation: 0.5, test: 0.5", "5:10",
     "validation + test must be below 1 to leave training data, got 0.5 + 0.5"),
    # Types of blocks.
    ("unknown layer type", "type: dense, units: 8", "type: dens, units: 8", "9:14",
     "model.layers.0.type: unknown type 'dens'; did you mean 'dense'?"),
    ("layer without type", "{type: dense, units: 3, activation: softmax}", "{units: 3, activation: softmax}", "10:7",
     "model.layers.1: a 'type' is required; one of: dense, activation, dropout"),
    ("unknown optimizer", "optimizer: {type: adam, learning_rate: 0.01}", "optimizer: adamm", "12:12",
     "optimizer: unknown type 'adamm'; did you mean 'adam'?"),
    ("unknown loss", "loss: categorical_crossentropy", "loss: categorical_crosentropy", "11:7",
     "did you mean 'categorical_crossentropy'?"),
    ("unknown activation", "activation: relu", "activation: rellu", "9:43", "got 'rellu'; did you mean 'relu'?"),
    # The graph.
    ("unknown input", LAYER_1, LAYER_1[:-1] + ", inputs: [hiden]}", "10:61",
     "model.layers.1.inputs.0: unknown layer 'hiden'; did you mean 'hidden'?"),
    ("cycle", f"{LAYER_0}\n{LAYER_1}", f"{LAYER_0[:-1]}, inputs: [out]}}\n{LAYER_1[:-1]}, name: out}}", "9:71",
     "model.layers.0.inputs: the layers form a cycle: hidden -> out -> hidden"),
    ("longer cycle", f"{LAYER_0}\n{LAYER_1}",
     "    - {type: dense, units: 8, name: a, inputs: [c]}\n    - {type: dense, units: 8, name: b}\n"
     "    - {type: dense, units: 8, name: c}\n    - {type: dense, units: 3, activation: softmax}", "9:48",
     "model.layers.0.inputs: the layers form a cycle: a -> b -> c -> a"),
    ("duplicate layer name", LAYER_1, LAYER_1[:-1] + ", name: hidden}", "10:58",
     "model.layers.1.name: duplicate layer name 'hidden' (also layer 0)"),
    ("flat layer on images", "name: iris}", "name: digits}", "9:7", "dense expects a flat input (features,), got (8, 8, 1)"),
    # Against the data.
    ("output width", "units: 3", "units: 4", "10:7", "model.layers.1: the output has 4 units but the data has 3 classes: setosa, versicolor, virginica; set units: 3 "
     "on model.layers.1"),
    ("binary loss on 3 classes", "loss: categorical_crossentropy", "loss: binary_crossentropy", "11:7",
     "binary_crossentropy needs 2 classes and 1 output unit (sigmoid); here 3 units and 3 classes: setosa, versicolor, virginica"),
    ("sigmoid with categorical", "activation: softmax", "activation: sigmoid", "10:43",
     "categorical_crossentropy needs probabilities over the classes, but sigmoid scores each class alone"),
    ("softmax on one unit", "units: 3, activation: softmax", "units: 1, activation: softmax", "10:43",
     "softmax over 1 unit always outputs 1"),
    ("regression loss on classes", "loss: categorical_crossentropy", "loss: mse", "11:7",
     "'mse' compares numbers, but the data has 3 classes"),
    ("classification loss on values", "name: iris}", "name: diabetes}", "11:7",
     "'categorical_crossentropy' needs class labels, but the data is a regression task; use mse"),
    ("monitor nothing", "monitor: val_loss", "monitor: val_acc", "17:29",
     "'val_acc' is not reported; did you mean 'val_accuracy'? (Keras's 'acc' is 'accuracy' in nnrun); "
     "choose one of loss, val_loss, accuracy, val_accuracy"),
    ("monitor misspelt", "monitor: val_loss", "monitor: val_acuracy", "17:29",
     "'val_acuracy' is not reported; did you mean 'val_accuracy'? Choose one of loss, val_loss, accuracy, "
     "val_accuracy"),
    ("monitor a metric not computed", "monitor: val_loss", "monitor: val_precision", "17:29",
     "'val_precision' is not reported: precision is not in metrics; add it (metrics: [accuracy, precision]) to "
     "monitor it"),
    ("monitor auc over 3 classes", "monitor: val_loss", "monitor: val_auc", "17:29",
     "'val_auc' is not reported, and auc is for binary classifiers (the data has 3 classes); monitor val_loss or "
     "val_accuracy"),
    ("Keras's regularizer call", "activation: relu, name: hidden}", "activation: relu, name: hidden, "
     "kernel_regularizer: l2(0.01)}", "9:83", "unknown type 'l2(0.01)'; did you mean '{l2: 0.01}'? (Keras's call "
     "l2(0.01) is written by its factors)"),
    ("Keras's clipnorm", "learning_rate: 0.01}", "learning_rate: 0.01, clipnorm: 1.0}", "12:46",
     "unknown key 'clipnorm'; Keras's clipnorm clips each weight's gradient by its own norm, which nnrun does not "
     "offer; global_clipnorm clips the norm of all gradients together"),
    ("Keras's callbacks", "  epochs: 2", "  epochs: 2\n  callbacks: []", "16:3",
     "training.callbacks: unknown key 'callbacks'; Keras's callbacks are settings: training.early_stopping"),
    ("Keras's class_weight dict under training", "  epochs: 2", "  epochs: 2\n  class_weight: {0: 1.0, 1: 2.0, 2: 1.0}",
     "16:3", "training.class_weight: unknown key 'class_weight'; it goes under loss: loss.class_weights"),
    # Broken or unsafe YAML.
    ("duplicate key", "seed: 1", "seed: 1\nseed: 2", "3:1",
     "duplicate key 'seed' (first at line 2); keep one\n     3 | seed: 2\n       | ^"),
    ("tab indentation", "  epochs: 2", "\tepochs: 2", "15:1",
     "a tab in the indentation; YAML indents with spaces only\n    15 |        epochs: 2"),
    ("repeated metric", "metrics: [accuracy]", "metrics: [accuracy, accuracy]", "13:10",
     "metrics: 'accuracy' listed more than once; list each once"),
    ("syntax", "metrics: [accuracy]", "metrics: [accuracy", "14:9",
     "invalid YAML: expected ',' or ']', but got ':'\n    14 | training:\n       |         ^\n  hint: the {...} or "
     "[...] that opens on line 13 lacks a comma between items, or its closing bracket"),
    ("indentation", "  epochs: 2", "   epochs: 2", "16:3",
     "invalid YAML: expected <block end>, but found '<block mapping start>'\n    16 |   batch_size: 16\n       |   ^\n"
     "  hint: line 15 is indented by 3 spaces and this line by 2 spaces; the keys of one mapping, and the '-' items of "
     "one list, start in the same column"),
    ("a key under the item's dash", LAYER_1, "    - type: dense\n    units: 3", "11:5",
     "invalid YAML: expected <block end>, but found '?'\n    11 |     units: 3\n       |     ^\n  hint: this line starts "
     "in the column of the '-' on line 10; a key of that item goes under its first key: indent it by 6 spaces"),
    ("a key one column too far", LAYER_1, "    - type: dense\n      units: 3\n       activation: softmax", "12:18",
     "hint: this line is indented further than 'units' on line 11, so YAML reads it as more of that key's value: "
     "start it in the same column (7)"),
    ("missing colon", "training:", "training", "15:9",
     "could not find expected ':'\n    15 |   epochs: 2\n       |         ^\n  hint: a key on this line or the line "
     "before it has no ':' after it"),
    # A key without ': ' reads as text running on into the next line, which fails: the key's line is named.
    ("no space after a key's colon", "  epochs: 2", "  epochs:2", "15:3",
     "invalid YAML: 'epochs:2' is no key and value: YAML needs a space after the ':'\n    15 |   epochs:2\n"
     "       |   ^\n  hint: write 'epochs: 2'"),
    ("no colon after a key", "name: demo", "name demo", "1:1",
     "invalid YAML: 'name demo' has no ':' after its key, so YAML reads it as text running on into line 2\n"
     "     1 | name demo\n       | ^\n  hint: write 'name: demo'"),
    ("no space after a section's colon", "loss: categorical_crossentropy", "loss:categorical_crossentropy", "11:1",
     "'loss:categorical_crossentropy' is no key and value: YAML needs a space after the ':'"),
    ("no space after a colon in braces", "units: 3,", "units:3,", "10:21",
     "unknown key 'units:3': a key and its value need a space after the ':'; write 'units: 3'"),
    ("alias bomb", "seed: 1", "seed: 1\nx: &a [1, 1]\ny: &b [*a, *a]\nz: [*b, *b, *b]", "3:4",
     "anchors and aliases (&name, *name) are not allowed"),
    ("python tag", "seed: 1", "seed: !!python/object/apply:os.system ['echo hi']", "2:7",
     "the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
]

WHOLE_FILE_CASES = [
    ("empty file", "", "1:1", "the config must be a mapping of sections (data:, model:, loss:, ...), got an empty file"),
    ("comments only", "# nothing yet\n", "1:1", "got an empty file"),
    ("list at top level", "- data\n- model\n", "1:1",
     "the config must be a mapping of sections (data:, model:, loss:, ...), got a list"),
    ("scalar at top level", "iris\n", "1:1", "got a word or a text"),
    ("a data set as the source", "data: {source: iris}\n", "1:16",
     "data.source: unknown type 'iris'; the bundled data set is {type: builtin, name: iris}"),
    ("deep nesting", "a: " + "[" * 5000 + "]" * 5000, "1:35", "nested deeper than 32 levels"),
    ("key that is a list", "[a, b]: 1\n", "1:1", "keys must be words, got ['a', 'b']"),
    ("null for a word that is no activation", "data: {source: {type: synthetic, samples: 50, pattern: null}}\n",
     "1:56", "data.source.pattern: expected one of clusters, moons, spirals, waves, linear, got nothing (an empty "
     "value or null)\n"),  # not "linear is no activation": that is an activation's hint
    ("a class's number twice", "loss: {type: categorical_crossentropy, class_weights: {0: 1, '0': 2}}\n", "1:62",
     "duplicate key '0' (first at line 1); keep one"),  # a message, not a TypeError: 0 and '0' name one class
    ("a list as a class's key", "loss: {type: categorical_crossentropy, class_weights: {[0, 1]: 1.0, 2: 3.0}}\n",
     "1:56", "keys must be words, got [0, 1]"),  # a message and exit 2: the Keras hint once raised a TypeError
    # The line before is fine, the error's own line is not: that one is named, not the list item.
    ("a colon inside a list item", "model:\n  layers:\n    - flatten\n    - dense: units: 64\n", "4:19",
     "a value that holds ': ' needs quotes"),
    ("a colon after a document marker", "---\nname: a: b\n", "2:8", "a value that holds ': ' needs quotes"),
]

SET_CASES = [
    ("training.epochs=0", "training.epochs: expected a whole number of at least 1, got 0 (from --set training.epochs=0)"),
    ("data.split.validation=15", "data.split.validation: expected a number below 1, got 15; it is a fraction: 15% is "
                                 "0.15 (from --set data.split.validation=15)"),
    ("data.split.validation=1.5", "data.split.validation: expected a number below 1, got 1.5 (from --set "
                                  "data.split.validation=1.5)"),  # 0.15 or 1.5%: no guess
    ("data.split={validation: 0.5, test: 0.6}", "validation + test must be below 1 to leave training data, got 0.5 + "
                                                "0.6 (from --set data.split={validation: 0.5, test: 0.6})\n"),  # once
    ("model.layers.5.units=3", "--set model.layers.5.units=3: 'model.layers.5' needs an index from 0 to 1"),
    ("model.layers.2.units=3", "'model.layers.2' needs an index from 0 to 1 (or -1 to -2 from the end); 2 adds an "
                               "item, given whole: --set 'model.layers.2={...}'"),
    ("model.layers.3={type: dense, units: 3}", "'model.layers.3' needs an index from 0 to 1 (or -1 to -2 from the "
                                               "end); 2 adds an item, given whole: --set 'model.layers.2={...}'"),
    ("model.layers.-1.units=4", "model.layers.1: the output has 4 units but the data has 3 classes"),
    ("model.layer.1.units=4", "--set model.layer.1.units=4: 'model.layer' is no key of the config; did you mean "
                              "'layers'?"),
    ("model.other.1.units=4", "--set model.other.1.units=4: 'model.other.1' is a key, not a list index"),
    ("metric.0=accuracy", "'metric' is no key of the config; did you mean 'metrics'?"),  # a key the file leaves out
    ("training.epochs=1e3", "training.epochs: expected a whole number, got 1000.0; write it as one, without a point "
                            "or an exponent: 1000 (from --set training.epochs=1e3)"),
    ("optimizer.lr=0.1", "optimizer.lr: unknown key 'lr'"),
    ("training.epochs", "--set training.epochs: expected KEY.PATH=VALUE"),
    # Keras's class_weight counts the classes, which iris's have names for: said by name, in any key order
    ("loss={type: categorical_crossentropy, class_weights: {2: 1, 0: 1.0, 1: 10.0}}",
     "loss.class_weights: the classes have names, not numbers: the training split has 3 classes: setosa, versicolor, "
     "virginica; Keras's class_weight counts them from 0, which by name is class_weights: {setosa: 1, versicolor: 10, "
     "virginica: 1} (from --set loss="),
    ("loss.class_weights={0: 1.0, 1: 10.5}", "which by name is class_weights: {setosa: 1, versicolor: 10.5}"),
    ("training.class_weight={0: 1.0, 1: 10.0, 2: 1}",  # read on, not stopped at its keys: told with the others
     "training.class_weight: unknown key 'class_weight'; it goes under loss: loss.class_weights (from --set "),

    ("model.layers.0.activation=rellu", "did you mean 'relu'? (from --set model.layers.0.activation=rellu)"),
    ("data.source={type: csv, path: configs/data/reviews.csv, target: label, text: review}",
     "data.source.text: expected a mapping of keys to values, got 'review'; name the column inside it: text: "
     "{column: review}"),
    ("data.source={type: csv, path: configs/data/reviews.csv, target: label, text: [{column: review}, {column: b}]}",
     "data.source.text: expected a mapping of keys to values, got a list of 2; a model reads one text column, as its "
     "only input: give one, text: {column: NAME} (for several, join them into one column of text first)"),
    # An embedding behind a reshape still reads the data's values: checked before training too.
    ("model.layers=[{type: reshape, target_shape: [4]}, {type: embedding, input_dim: 10, output_dim: 2}, "
     "{type: flatten}, {type: dense, units: 3, activation: softmax}]",
     "model.layers.1: embedding input value"),
    # A sequence layer after one that ended the steps: the fix is on that layer.
    ("model.layers=[{type: reshape, target_shape: [4, 1]}, {type: gru, units: 4}, {type: lstm, units: 3}, "
     "{type: dense, units: 3, activation: softmax}]",
     "model.layers.2: lstm_2: lstm expects sequences (steps, features), got (4,); the gru before it returns its last "
     "step only: set return_sequences: true on it"),
    # An embedding on numbers in steps: the fix is the embedding, not the lstm after it.
    ("model.layers=[{type: reshape, target_shape: [2, 2]}, {type: embedding, input_dim: 10, output_dim: 4}, "
     "{type: lstm, units: 4}, {type: dense, units: 3, activation: softmax}]",
     "lstm expects sequences (steps, features), got (2, 2, 4); the embedding before it takes token indices, one per "
     "step (steps,), and turned each of its inputs into a vector; numbers already in steps need no embedding"),
    # The one input's shape, not the tuple of the attention's inputs ("got ((16,),)").
    ("model.layers=[{type: reshape, target_shape: [4, 1]}, {type: lstm, units: 16}, {type: multi_head_attention, "
     "num_heads: 2, key_dim: 4}, {type: dense, units: 3, activation: softmax}]",
     "multi_head_attention expects sequences (steps, features), got (16,); the lstm before it returns its last step "
     "only: set return_sequences: true on it"),
    ("model.layers=[{type: reshape, target_shape: [4, 1]}, {type: global_average_pool1d}, {type: gru, units: 3}, "
     "{type: dense, units: 3, activation: softmax}]",
     "got (1,); the global_average_pool1d before it makes one vector of the steps: put this layer before that one"),
    # A problem inside a value --set replaced is the --set's, not the file's old line.
    ("model.layers=[{type: lstm, units: 8}, {type: dense, units: 3, activation: softmax}]",
     "model.layers.0: lstm_0: lstm expects sequences (steps, features), got (4,); put an embedding first for token "
     "indices (a text column), or {type: reshape, target_shape: [4, 1]} to read 4 numbers as 4 steps of one value "
     "(from --set model.layers=[{type: lstm, units: 8}"),
]


def _check(result, fragment: str, where: str | None) -> None:
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    if where:
        assert f":{where}:" in result.output
    assert "Traceback" not in result.output


def test_a_repeated_layer_name_is_the_one_problem_told(run_cli, write_config):
    """The layer after the first 'hidden' reads 'hidden' implicitly: not its own output."""
    result = run_cli("validate", write_config(VALID.replace(LAYER_1, LAYER_1[:-1] + ", name: hidden}")))
    assert "1 problem in the config" in result.output and "cannot read its own output" not in result.output
    # The first layer named 'input' reads the model input by default: the reserved name is the problem.
    result = run_cli("validate", write_config(VALID.replace(LAYER_0, LAYER_0.replace("name: hidden", "name: input"))))
    assert "1 problem in the config" in result.output and "'input' is reserved for the model input" in result.output


@pytest.mark.parametrize("monitor, told", [
    ("val_f1", "'val_f1' needs a validation split, but data.split.validation is 0; monitor one of loss, accuracy "
               "(on the training data) or set data.split.validation to a fraction such as 0.1"),
    ("val_acc", "'val_acc' needs a validation split, but data.split.validation is 0; monitor one of loss, accuracy"),
    ("val_loss", "'val_loss' needs a validation split, but data.split.validation is 0; monitor 'loss' (on the "
                 "training data) or set data.split.validation to a fraction such as 0.1"),
])
def test_with_no_validation_split_no_val_monitor_is_offered(run_cli, write_config, monitor, told):
    text = VALID.replace("validation: 0.2", "validation: 0").replace("monitor: val_loss", f"monitor: {monitor}")
    result = run_cli("validate", write_config(text))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert told in " ".join(result.output.split())


@pytest.mark.parametrize("old, new, where, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_is_located(run_cli, write_config, old, new, where, fragment):
    assert VALID.count(old) == 1, "the edit must be unambiguous"
    path = write_config(VALID.replace(old, new))
    result = run_cli("validate", path)
    _check(result, fragment, where)
    assert f"{path}:{where}: " in result.output


@pytest.mark.parametrize(
    "text, where, fragment", [c[1:] for c in WHOLE_FILE_CASES], ids=[c[0] for c in WHOLE_FILE_CASES]
)
def test_bad_file_is_located(run_cli, write_config, text, where, fragment):
    path = write_config(text)
    _check(run_cli("validate", path), fragment, where)


@pytest.mark.parametrize("setting, fragment", SET_CASES, ids=[c[0] for c in SET_CASES])
def test_bad_override_names_the_set(run_cli, write_config, setting, fragment):
    path = write_config(VALID)
    _check(run_cli("validate", path, "--set", setting), fragment, None)
    _check(run_cli("train", path, "--set", setting), fragment, None)


def test_every_set_that_cannot_be_applied_is_reported_at_once(run_cli, write_config):
    path = write_config(VALID)
    result = run_cli("validate", path, "--set", "model.layers.5.units=3", "--set", "training.epochs=3",
                     "--set", "model.layers.9.units=1", "--set", "x=[1")
    assert result.exit_code == 2
    assert "3 settings cannot be applied:\n" \
           "  --set model.layers.5.units=3: 'model.layers.5' needs an index from 0 to 1 (or -1 to -2 from the end); 2 " \
           "adds an item, given whole: --set 'model.layers.2={...}'\n" \
           "  --set model.layers.9.units=1: 'model.layers.9' needs an index from 0 to 1 (or -1 to -2 from the end); 2 " \
           "adds an item, given whole: --set 'model.layers.2={...}'\n" \
           "  --set x=[1: the value '[1' is not valid YAML" in result.output
    assert """    hint: quote a value meant as text, quotes and all: --set 'x="[1"'""" in result.output


@pytest.mark.parametrize("value", ["|", ">", "|-"])
def test_a_set_value_that_starts_a_yaml_block_is_told_to_be_quoted(run_cli, write_config, value):
    # Read as YAML, "|" alone is an empty block of text: --set data.source.delimiter=| set "".
    result = run_cli("validate", write_config(VALID), "--set", f"name={value}")
    assert result.exit_code == 2
    assert f"--set name={value}: the value '{value}' starts a block of text in YAML" in result.output
    assert f"""hint: quote a value meant as text, quotes and all: --set 'name="{value}"'""" in result.output


@pytest.mark.parametrize(("value", "comment"), [("fix #12 and retrain", "#12 and retrain"), ("#12", "#12"),
                                               ('"x" # why', "# why")])
def test_a_set_value_with_a_yaml_comment_is_refused_not_cut(run_cli, write_config, value, comment):
    # A shell variable's text after ' #' was read as a comment: notes became 'fix', silently.
    result = run_cli("validate", write_config(VALID), "--set", f"notes={value}")
    assert result.exit_code == 2
    assert f"--set notes={value}: '{comment}' starts a YAML comment, which would drop it from the value" \
        in result.output
    assert "hint: quote a value meant as text, quotes and all: --set 'notes=" in result.output
    assert run_cli("validate", write_config(VALID), "--set", "notes='fix #12'").exit_code == 0
    assert run_cli("validate", write_config(VALID), "--set", "notes=a#b").exit_code == 0  # no comment: text


@pytest.mark.parametrize("setting", ["training=epochs: 3 # three", "tags=- a # b", "tags=[a, b] # c"])
def test_a_comment_after_a_set_blocks_value_is_refused_with_its_own_hint(run_cli, write_config, setting):
    result = run_cli("validate", write_config(VALID), "--set", setting)
    assert result.exit_code == 2 and "starts a YAML comment, which would drop it from the value" in result.output
    assert "hint: remove the comment: a value set this way holds none" in result.output  # quoting would make it text


def test_every_problem_is_reported_at_once_in_file_order(run_cli, write_config):
    text = VALID.replace("units: 8", "unit: 8").replace("epochs: 2", "epochs: two").replace("seed: 1", "seed: -1")
    path = write_config(text)
    result = run_cli("validate", path)
    assert result.exit_code == 2
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[0] == f"error: {path}: 4 problems in the config"
    problems = [line for line in lines if line.startswith(f"{path}:")]
    assert [line.split(": ")[1] for line in problems] == [
        "seed", "model.layers.0.units", "model.layers.0.unit", "training.epochs",
    ]


def test_binary_bytes_and_oversized_files(run_cli, tmp_path):
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: demo\nseed: \xff\n")
    _check(run_cli("validate", binary), "2: not UTF-8 text (bad byte at offset 17)", None)
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 200_000)
    _check(run_cli("validate", big), "the file is larger than 1000 kB", None)
    _check(run_cli("validate", tmp_path / "absent.yaml"), "absent.yaml: no such config file", None)


@pytest.mark.parametrize("initializer, message", [
    ("{type: constant, value: .inf}", "model.layers.0.kernel_initializer.value: expected a finite number, got inf"),
    ("{type: constant, valu: 1}", "model.layers.0.kernel_initializer.valu: unknown key 'valu'"),
])
def test_a_mapping_initializer_is_told_what_is_wrong_inside_it_only(run_cli, tmp_path, initializer, message):
    # A name or a mapping: the mapping's own error says it all; "expected one of glorot_uniform,
    # ..., got a mapping" from the name member would only mislead.
    (tmp_path / "i.yaml").write_text("data: {source: {type: builtin, name: iris}}\nmodel:\n  layers:\n"
                                     f"    - {{type: dense, units: 3, activation: softmax, kernel_initializer: "
                                     f"{initializer}}}\nloss: categorical_crossentropy\n")
    result = run_cli("validate", tmp_path / "i.yaml")
    assert result.exit_code == 2 and "1 problem in the config" in result.output and message in result.output
    assert "got a mapping" not in result.output


def test_an_activation_a_layer_does_not_offer_is_not_spelled_into_another(run_cli, tmp_path):
    (tmp_path / "g.yaml").write_text("data: {source: {type: builtin, name: digits}}\nmodel:\n  layers:\n"
                                     "    - {type: reshape, target_shape: [8, 8]}\n"
                                     "    - {type: lstm, units: 4, activation: gelu}\n"
                                     "    - {type: dense, units: 10, activation: softmax}\nloss: categorical_crossentropy\n")
    result = run_cli("validate", tmp_path / "g.yaml")
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and "got 'gelu'; gelu is an activation of other layers (dense, conv), not one this " \
        "layer takes" in out and "did you mean 'elu'" not in out


@pytest.mark.parametrize("asked, fragment", [
    ("zero", "to fill with zeros, write 0 into the file's empty cells"),
    ("median", "median is not offered"),
    ("drop", "to leave them out, delete them from the file"),
])
def test_a_fill_other_tools_offer_is_answered_not_spelled_into_another(run_cli, tmp_path, asked, fragment):
    # 'zero' is near 'error' by its letters: the opposite of what was asked.
    (tmp_path / "d.csv").write_text("a,y\n1,0\n")
    (tmp_path / "d.yaml").write_text(f"data:\n  source: {{type: csv, path: d.csv, target: y, missing: {asked}}}\n"
                                     "model:\n  layers:\n    - {type: dense, units: 1}\nloss: mse\n")
    result = run_cli("validate", tmp_path / "d.yaml")
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and f"data.source.missing: expected one of error, mean, most_frequent, got " \
        f"'{asked}'; " in out and fragment in out and "did you mean" not in out


def test_an_absent_file_names_the_one_of_a_near_name_beside_it(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "houses.yaml").write_text(VALID)
    result = run_cli("validate", "houses.yml")
    assert result.exit_code == 2 and "houses.yml: no such config file; did you mean 'houses.yaml'?" in result.output
    assert "did you mean" not in run_cli("validate", "other.yml").output
    (tmp_path / "Data.csv").write_text("a,y\n1,0\n")
    (tmp_path / "d.yaml").write_text("data:\n  source: {type: csv, path: data.csv, target: y}\nmodel:\n  layers:\n"
                                     "    - {type: dense, units: 1}\nloss: mse\n")
    result = run_cli("validate", "d.yaml")
    assert result.exit_code == 2 and f"no such file; did you mean '{tmp_path / 'Data.csv'}'?" in result.output
    (tmp_path / "sweep.yaml").write_text("base: houses.yml\nmetric: val_loss\nparameters:\n  seed: [1, 2]\n")
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2 and "no config file at" in result.output and \
        "did you mean '" in result.output and "houses.yaml'?" in result.output, result.output
    assert "the path is relative to the sweep file's folder" in " ".join(result.output.split())
    (tmp_path / "sweep.yaml").write_text(f"base: {tmp_path / 'gone.yaml'}\nmetric: val_loss\nparameters:\n  seed: [1, 2]\n")
    result = run_cli("validate", "sweep.yaml")  # written absolute by hand: not told it is relative
    assert result.exit_code == 2 and f"no config file at {tmp_path / 'gone.yaml'}; no file is at that absolute path" \
        in " ".join(result.output.split()), result.output


def test_a_wrong_loss_gets_one_piece_of_advice(run_cli, write_config):
    result = run_cli("validate", write_config(VALID.replace("loss: categorical_crossentropy", "loss: binary_crossentropy")))
    assert result.exit_code == 2 and "1 problem in the config" in result.output
    assert "use categorical_crossentropy with softmax" in result.output and "use activation: sigmoid" not in result.output


def test_each_problem_quotes_its_line(run_cli, write_config):
    path = write_config(VALID.replace("activation: relu", "activation: rellu"))
    lines = run_cli("validate", path).output.splitlines()
    at = next(i for i, line in enumerate(lines) if "model.layers.0.activation" in line)
    assert lines[at + 1] == "     9 |     - {type: dense, units: 8, activation: rellu, name: hidden}"
    assert lines[at + 2] == "       | " + " " * 42 + "^"  # under column 43, where 'rellu' starts


CONV = """\
data: {source: {type: builtin, name: digits}}
loss: categorical_crossentropy
model:
  layers:
    - {type: reshape, target_shape: [8, 8, 1]}
    - {type: conv2d, filters: 4, kernel_size: KS}
    - flatten
    - {type: dense, units: 10, activation: softmax}
training: {threads: TH}
"""

# A number or a pair (kernel_size), a name or a number (threads): a value that fits
# neither gets one message, from the member it is written for, without Pydantic's
# names for the members ("kernel_size.constrained-int").
ONE_OF_CASES = [
    ("zero", "0", "auto", "6:47: model.layers.1.kernel_size: expected a whole number greater than 0, got 0"),
    ("pair_item", "[3, 0]", "auto", "6:51: model.layers.1.kernel_size.1: expected a whole number greater than 0, got 0"),
    ("short_pair", "[3]", "auto", "6:47: model.layers.1.kernel_size: expected 2 items, got a list of 1"),
    ("long_pair", "[1, 2, 3]", "auto", "6:47: model.layers.1.kernel_size: expected at most 2 item(s), got a list of 3"),
    ("fraction", "2.5", "auto", "6:47: model.layers.1.kernel_size: expected a whole number, got 2.5"),
    ("text", "a", "auto", "6:47: model.layers.1.kernel_size: expected a whole number or a list, got 'a'"),
    ("mapping", "{a: 1}", "auto", "6:47: model.layers.1.kernel_size: expected a whole number or a list, got a mapping"),
    ("threads_zero", "3", "0", "9:21: training.threads: expected a whole number of at least 1, got 0"),
    ("threads_name", "3", "many", "9:21: training.threads: expected one of auto, got 'many'"),
]


@pytest.mark.parametrize("kernel, threads, fragment", [c[1:] for c in ONE_OF_CASES], ids=[c[0] for c in ONE_OF_CASES])
def test_a_value_for_one_of_two_kinds_gets_one_message(run_cli, write_config, kernel, threads, fragment):
    path = write_config(CONV.replace("KS", kernel).replace("TH", threads))
    result = run_cli("validate", path)
    _check(result, f"{path}:{fragment}", None)
    assert "1 problem in the config" in result.output and "constrained" not in result.output


def test_binary_crossentropy_over_two_units_of_two_classes_is_told_the_one_unit_fix(run_cli, write_config):
    text = VALID.replace("name: iris}", "name: breast_cancer}").replace("units: 3, activation: softmax",
                                                                       "units: 2, activation: sigmoid")
    result = run_cli("validate", write_config(text.replace("loss: categorical_crossentropy", "loss: binary_crossentropy")))
    assert result.exit_code == 2
    assert ("here 2 units and 2 classes: benign, malignant: give the output layer units: 1 (a sigmoid), or use "
            "categorical_crossentropy with a softmax over the 2 units") in " ".join(result.output.split())


def test_an_absurd_size_inside_a_wrapped_layer_is_refused_before_anything_is_allocated(run_cli):
    """bidirectional's own layer: its units are checked as a layer's are."""
    text_lstm = Path(__file__).parents[1] / "configs" / "text_lstm.yaml"
    result = run_cli("validate", text_lstm, "--set", "model.layers.1.layer.units=99999999999999999999")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "model.layers.1.layer.units: expected at most 16777216, got 99999999999999999999" in result.output


def test_weights_that_do_not_fit_in_memory_are_told_at_their_layer_in_float32(run_cli, monkeypatch):
    """numpy's own message names its float64 draw: the layer, its array and float32's size are said."""
    from nnrun.model.layers.core import Dense

    def too_large(self, in_shape, rng, dtype):  # as numpy words it
        raise MemoryError("Unable to allocate 298. GiB for an array with shape (400000, 100000) and data type float64")

    monkeypatch.setattr(Dense, "init", too_large)
    iris = Path(__file__).parents[1] / "configs" / "iris.yaml"
    result = run_cli("validate", iris)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "model.layers.0: dense_0: its weights do not fit in memory (a 400000 x 100000 array, 149.0 GiB as " \
           "float32); make it smaller (fewer units or filters" in " ".join(result.output.split())
