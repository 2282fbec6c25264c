"""The catalog through the CLI and the graph: DAG models, batch norm state, warm start,
regularization in the loss, and the checks that catch mistakes before training."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import TypeAdapter

from nnrun.errors import UserError
from nnrun.model.graph import compile_graph
from nnrun.model.layers import LayerSpec
from nnrun.store.tensorfile import load_weights, save_weights

HEAD = """\
name: t
data:
  source: {type: synthetic, samples: 200, features: 6, classes: 3}
  split: {validation: 0.2, test: 0.2}
  preprocess: [{type: standardize}]
model:
  layers:
"""
TAIL = """\
loss: categorical_crossentropy
metrics: [accuracy]
training: {epochs: 2, batch_size: 32}
"""


def config(layers: str, tail: str = TAIL, model_extra: str = "") -> str:
    return HEAD + layers + model_extra + tail


RESIDUAL = """\
    - {type: dense, units: 8, activation: relu, name: stem}
    - {type: dense, units: 8, activation: relu, name: branch}
    - {type: add, inputs: [stem, branch], name: joined}
    - {type: dense, units: 3, activation: softmax}
"""


def _graph(layers, input_shape=(4,)):
    specs = TypeAdapter(list[LayerSpec]).validate_python(layers)
    return compile_graph(specs, input_shape, rng=np.random.default_rng(0))


def test_residual_dag_trains(run_cli, write_config, tmp_path):
    result = run_cli("train", write_config(config(RESIDUAL)), "--run-dir", "r")
    assert result.exit_code == 0, result.output
    weights = load_weights(tmp_path / "r" / "model.safetensors")
    assert {"stem.kernel", "branch.kernel", "dense_3.kernel", "dense_3.bias"} <= set(weights)


def test_mismatched_merge_shapes_are_a_located_compile_error(run_cli, write_config):
    layers = RESIDUAL.replace("units: 8, activation: relu, name: branch", "units: 5, activation: relu, name: branch")
    path = write_config(config(layers))
    result = run_cli("train", path)
    assert result.exit_code == 2
    assert f"{path}:10:7: model.layers.2: joined: 'add' needs inputs of one shape, got (8,), (5,)" in result.output


def test_unknown_reference_and_cycle_are_located(run_cli, write_config):
    path = write_config(config(RESIDUAL.replace("inputs: [stem, branch]", "inputs: [stem, brnch]")))
    result = run_cli("train", path)
    assert result.exit_code == 2
    assert "model.layers.2.inputs.1: unknown layer 'brnch'; did you mean 'branch'?" in result.output
    # A name close to the layer's own is not offered: reading itself would be a cycle.
    own = "    - {type: dense, units: 4, name: block, inputs: [blocks]}\n"
    result = run_cli("train", write_config(config(own + "    - {type: dense, units: 3, activation: softmax}\n")))
    assert result.exit_code == 2
    assert "model.layers.0.inputs.0: unknown layer 'blocks'" in result.output
    assert "did you mean 'block'" not in result.output
    cycle = "    - {type: dense, units: 4, name: a, inputs: [b]}\n    - {type: dense, units: 4, name: b, inputs: [a]}\n"
    result = run_cli("train", write_config(config(cycle + "    - {type: dense, units: 3, activation: softmax}\n")))
    assert result.exit_code == 2
    assert "form a cycle" in result.output


def test_concatenate_axis_and_shapes():
    graph = _graph([{"type": "reshape", "target_shape": [2, 2], "name": "r"},
                    {"type": "dense", "units": 3, "inputs": ["input"], "name": "d"},
                    {"type": "reshape", "target_shape": [1, 3], "name": "s"},
                    {"type": "concatenate", "inputs": ["r", "r"], "axis": 1}])
    assert graph.output_shape == (4, 2)
    with pytest.raises(Exception, match="must agree on every axis but -1"):
        _graph([{"type": "reshape", "target_shape": [2, 2], "name": "r"},
                {"type": "reshape", "target_shape": [4, 1], "inputs": ["input"], "name": "s"},
                {"type": "concatenate", "inputs": ["r", "s"]}])


def test_batch_norm_statistics_are_saved_but_not_trained():
    graph = _graph([{"type": "dense", "units": 3}, {"type": "batch_normalization", "momentum": 0.5}])
    assert set(graph.params) == {"dense_0.kernel", "dense_0.bias", "batch_normalization_1.gamma",
                                 "batch_normalization_1.beta", "batch_normalization_1.moving_mean",
                                 "batch_normalization_1.moving_variance"}
    assert "batch_normalization_1.moving_mean" not in graph.grads
    assert graph.trainable.size == 4 * 3 + 3 + 3 + 3  # the optimizer never sees the moving statistics
    x = np.random.default_rng(0).normal(2.0, 1.0, (64, 4)).astype(np.float32)
    out, _ = graph.forward(x, training=True)
    mean = (x @ graph.params["dense_0.kernel"] + graph.params["dense_0.bias"]).mean(axis=0)
    # One update with momentum 0.5 from zeros: half the batch mean.
    assert graph.params["batch_normalization_1.moving_mean"] == pytest.approx(0.5 * mean, rel=1e-4)
    assert np.abs(out.mean(axis=0)).max() < 1e-4  # training: normalised by the batch itself
    before = graph.params["batch_normalization_1.moving_mean"].copy()
    inference, _ = graph.forward(x, training=False)
    assert np.array_equal(before, graph.params["batch_normalization_1.moving_mean"])
    assert np.abs(inference.mean(axis=0)).max() > 0.1  # inference: the (young) moving statistics


def test_regularized_model_trains_and_saves_moving_statistics(run_cli, configs, tmp_path):
    result = run_cli("train", configs / "regularized_mlp.yaml", "--set", "training.epochs=2", "--run-dir", "r")
    assert result.exit_code == 0, result.output
    weights = load_weights(tmp_path / "r" / "model.safetensors")
    moving = [name for name in weights if name.endswith("moving_variance")]
    assert moving and not np.allclose(weights[moving[0]], 1.0)  # updated during training


def test_regularization_is_part_of_the_reported_loss(run_cli, write_config, tmp_path):
    def final_loss(regularizer: str) -> float:
        layers = f"    - {{type: dense, units: 8, activation: relu{regularizer}}}\n" \
                 "    - {type: dense, units: 3, activation: softmax}\n"
        run = f"r{len(regularizer)}"
        assert run_cli("train", write_config(config(layers), f"{run}.yaml"), "--run-dir", run).exit_code == 0
        return json.loads((tmp_path / run / "meta.json").read_text())["final"]["train"]["loss"]

    plain, heavy = final_loss(""), final_loss(", kernel_regularizer: {type: l2, l2: 10.0}")
    assert heavy > plain + 1.0


def test_warm_start_loads_weights_by_name(run_cli, write_config, tmp_path):
    layers = "    - {type: dense, units: 3, activation: softmax, name: head}\n"
    head = {"head.kernel": np.full((6, 3), 0.25, np.float32), "head.bias": np.array([1, 2, 3], np.float32)}
    save_weights(tmp_path / "init.safetensors", head)
    warm = config(layers, model_extra="  init_weights: init.safetensors\n",
                  tail=TAIL.replace("epochs: 2", "epochs: 1").replace("metrics", "optimizer: {type: sgd, learning_rate: 1.0e-9}\nmetrics"))
    result = run_cli("train", write_config(warm), "--run-dir", "r")
    assert result.exit_code == 0, result.output
    trained = load_weights(tmp_path / "r" / "model.safetensors")
    assert trained["head.bias"] == pytest.approx([1, 2, 3], abs=1e-6)  # a near-zero step away


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"head.kernel": np.zeros((6, 3), np.float32)}, "missing parameter 'head.bias'"),
        ({"head.kernel": np.zeros((6, 3), np.float32), "head.bias": np.zeros(3, np.float32),
          "tail.bias": np.zeros(3, np.float32)}, "unexpected parameter 'tail.bias'"),
        ({"head.kernel": np.zeros((5, 3), np.float32), "head.bias": np.zeros(3, np.float32)},
         "parameter 'head.kernel' has shape (5, 3), the model needs (6, 3)"),
    ],
    ids=["missing", "extra", "shape"],
)
def test_warm_start_mismatch_is_a_located_error(run_cli, write_config, tmp_path, weights, message):
    save_weights(tmp_path / "init.safetensors", weights)
    layers = "    - {type: dense, units: 3, activation: softmax, name: head}\n"
    path = write_config(config(layers, model_extra="  init_weights: init.safetensors\n"))
    result = run_cli("train", path)
    assert result.exit_code == 2
    assert f"{path}:9:17: model.init_weights: {tmp_path.resolve() / 'init.safetensors'}: weights do not fit the model" in result.output
    assert message in result.output


def test_from_logits_needs_a_linear_output(run_cli, write_config):
    layers = "    - {type: dense, units: 1, activation: sigmoid}\n"
    tail = "loss: {type: binary_crossentropy, from_logits: true}\ntraining: {epochs: 1}\n"
    text = config(layers, tail).replace("classes: 3", "classes: 2")
    result = run_cli("train", write_config(text))
    assert result.exit_code == 2
    assert "loss.from_logits: from_logits: true expects logits, but the output layer 'dense_0' applies 'sigmoid'; " \
        "remove its activation or set from_logits: false" in result.output
    # For another loss, from_logits: false alone would meet the next refusal: the fix names the activation too.
    softmax = text.replace("binary_crossentropy", "categorical_crossentropy").replace("units: 1,", "units: 2,")
    result = run_cli("train", write_config(softmax))
    assert "remove its activation, or set from_logits: false with activation: softmax (what " \
        "categorical_crossentropy needs)" in result.output


def test_class_weights_need_one_per_class(run_cli, write_config):
    tail = TAIL.replace("loss: categorical_crossentropy", "loss: {type: categorical_crossentropy, class_weights: [1, 2]}")
    result = run_cli("train", write_config(config("    - {type: dense, units: 3, activation: softmax}\n", tail)))
    assert result.exit_code == 2
    assert "loss.class_weights: 2 weights for 3 classes; give one per class, in this order: 0, 1, 2" in result.output


def test_balanced_class_weights_come_from_the_training_split_and_are_written_as_trained(run_cli, tmp_path):
    from nnrun.model.losses import balanced_weights

    assert balanced_weights(np.array([0, 0, 0, 1, 2, 2]), 3) == [6 / 9, 2.0, 1.0]  # scikit-learn's: n / (k n_c)
    y = (np.arange(300) % 10 == 0).astype(int)  # one sample in ten of class 1
    np.savez(tmp_path / "xy.npz", x=np.random.default_rng(0).normal(size=(300, 3)), y=y)
    text = ("data: {source: {type: npz, path: xy.npz}, split: {validation: 0.2, test: 0.2}}\n"
            "model: {layers: [{type: dense, units: 2, activation: softmax}]}\n"
            "loss: {type: categorical_crossentropy, class_weights: balanced}\ntraining: {epochs: 2}\n")
    (tmp_path / "c.yaml").write_text(text)
    result = run_cli("validate", "c.yaml")
    assert result.exit_code == 0, result.output
    assert "loss: categorical_crossentropy, fused with the output softmax; class weights 0: 0.5556, 1: 5" in result.output
    assert run_cli("train", "c.yaml", "--run-dir", "a", "-q").exit_code == 0
    written = (tmp_path / "a" / "config.yaml").read_text()
    assert "class_weights:\n  - 0.5555555555555556\n  - 5.0\n" in written  # 180 training rows, 18 of class 1
    # The list trains as balanced did, and the run's config.yaml retrains it.
    (tmp_path / "listed.yaml").write_text(text.replace("balanced", "[0.5555555555555556, 5.0]"))
    for config, run in (("listed.yaml", "b"), ("a/config.yaml", "c")):
        assert run_cli("train", config, "--run-dir", run, "-q").exit_code == 0
        assert (tmp_path / run / "model.safetensors").read_bytes() == (tmp_path / "a" / "model.safetensors").read_bytes()
    assert run_cli("evaluate", "a").exit_code == 0
    # The config file that said balanced resumes the run it made (its config.yaml holds the list).
    result = run_cli("train", "c.yaml", "--resume", "a", "--set", "training.epochs=3", "-q")
    assert result.exit_code == 0, result.output


def _labelled(tmp_path, weights: str) -> str:
    """A CSV of three named classes (eggs, ham, spam in the data's order) and a config
    weighing them by ``weights``; returns the config's text."""
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{['spam', 'ham', 'eggs'][i % 3]}" for i, (a, b) in enumerate(rng.normal(size=(90, 2)))]
    (tmp_path / "mail.csv").write_text("a,b,kind\n" + "\n".join(rows) + "\n")
    return ("data: {source: {type: csv, path: mail.csv, target: kind}}\n"
            "model: {layers: [{type: dense, units: 3, activation: softmax}]}\n"
            f"loss: {{type: categorical_crossentropy, class_weights: {weights}}}\ntraining: {{epochs: 2}}\n")


def test_class_weights_by_class_name_come_in_the_data_order_and_are_written_as_trained(run_cli, tmp_path):
    (tmp_path / "named.yaml").write_text(_labelled(tmp_path, "{spam: 5}"))  # a class not named weighs 1
    result = run_cli("validate", "named.yaml")
    assert result.exit_code == 0, result.output
    assert "class weights eggs: 1, ham: 1, spam: 5;" in result.output
    assert run_cli("train", "named.yaml", "--run-dir", "a", "-q").exit_code == 0
    assert "class_weights:\n  - 1.0\n  - 1.0\n  - 5.0\n" in (tmp_path / "a" / "config.yaml").read_text()
    # The list in the data's order trains to the same weights, and so does the run's config.yaml.
    (tmp_path / "listed.yaml").write_text(_labelled(tmp_path, "[1, 1, 5]"))
    for config_file, run in (("listed.yaml", "b"), ("a/config.yaml", "c")):
        assert run_cli("train", config_file, "--run-dir", run, "-q").exit_code == 0
        assert (tmp_path / run / "model.safetensors").read_bytes() == (tmp_path / "a" / "model.safetensors").read_bytes()
    # The file that named them resumes its run; other weights by name are a change, named.
    assert run_cli("train", "named.yaml", "--resume", "a", "--set", "training.epochs=3", "-q").exit_code == 0
    (tmp_path / "named.yaml").write_text(_labelled(tmp_path, "{spam: 4}"))
    result = run_cli("train", "named.yaml", "--resume", "a")
    assert result.exit_code == 2 and "differs from the config of the run a in 1 place" in result.output, result.output


def test_class_weights_by_number_name_integer_labels_as_keras_counts_them(run_cli, tmp_path):
    import nnrun

    y = np.arange(120) % 3
    np.savez(tmp_path / "xy.npz", x=np.random.default_rng(0).normal(size=(120, 3)), y=y)
    text = ("data: {source: {type: npz, path: xy.npz}}\nmodel: {layers: [{type: dense, units: 3, activation: softmax}]}\n"
            "loss: {type: categorical_crossentropy, class_weights: {0: 1.0, 2: 4.0}}\ntraining: {epochs: 2}\n")
    (tmp_path / "c.yaml").write_text(text)
    assert run_cli("train", "c.yaml", "--run-dir", "a", "-q").exit_code == 0
    assert "class_weights:\n  - 1.0\n  - 1.0\n  - 4.0\n" in (tmp_path / "a" / "config.yaml").read_text()
    # A numbered class's weight by its dotted path, as --set and a sweep's parameters name it.
    for setting, weighed in (("loss.class_weights.1=3", "class weights 0: 1, 1: 3, 2: 4;"),
                             ("loss.class_weights.2=3", "class weights 0: 1, 1: 1, 2: 3;")):
        result = run_cli("validate", "c.yaml", "--set", setting)
        assert result.exit_code == 0 and weighed in result.output, result.output
    # Over balanced (a word, no block's type), a class's weight or a mapping replaces it.
    (tmp_path / "b.yaml").write_text(text.replace("{0: 1.0, 2: 4.0}", "balanced"))
    for setting, weighed in (("loss.class_weights.2=3", "class weights 0: 1, 1: 1, 2: 3;"),
                             ("loss.class_weights={1: 3}", "class weights 0: 1, 1: 3, 2: 1;"),
                             ("loss={class_weights: {1: 3}}", "class weights 0: 1, 1: 3, 2: 1;")):
        result = run_cli("validate", "b.yaml", "--set", setting)
        assert result.exit_code == 0 and weighed in result.output, result.output
    # Keras's class_weight dict as Python builds it: dict(zip(np.unique(y), weights)), NumPy's integers for keys.
    weights = dict(zip(np.unique(y), [1.0, 1.0, 4.0]))
    config = {"model": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]}, "training": {"epochs": 1},
              "loss": {"type": "categorical_crossentropy", "class_weights": weights}}
    run = nnrun.train(config, data=(np.zeros((30, 3)), y[:30]), run_dir=tmp_path / "api").run_dir
    assert "class_weights:\n  - 1.0\n  - 1.0\n  - 4.0\n" in (run / "config.yaml").read_text()
    # Keys as Python holds labels: floats of whole numbers, and a boolean target's True and False.
    config["loss"]["class_weights"] = {0.0: 1.0, 2.0: 4.0}
    run = nnrun.train(config, data=(np.zeros((30, 3)), y[:30].astype(float)), run_dir=tmp_path / "floats").run_dir
    assert "class_weights:\n  - 1.0\n  - 1.0\n  - 4.0\n" in (run / "config.yaml").read_text()
    binary = {"model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]}, "training": {"epochs": 1},
              "loss": {"type": "binary_crossentropy", "class_weights": dict(zip(np.unique(y[:30] == 0), [1.0, 3.0]))}}
    run = nnrun.train(binary, data=(np.zeros((30, 3)), y[:30] == 0), run_dir=tmp_path / "bools").run_dir
    assert "class_weights:\n  - 1.0\n  - 3.0\n" in (run / "config.yaml").read_text()
    # 1 and '1' name one class: refused as the file's duplicate key is, not one weight silently dropped.
    config["loss"]["class_weights"] = {1: 1.0, "1": 2.0}
    with pytest.raises(UserError, match=r"loss.class_weights.1: given twice, as 1 and '1'; keep one"):
        nnrun.train(config, data=(np.zeros((30, 3)), y[:30]), run_dir=tmp_path / "twice")
    # Classes labelled 1, 2, 3: a key is a label, and 0 names none (not "the classes have names").
    np.savez(tmp_path / "xy.npz", x=np.random.default_rng(0).normal(size=(120, 3)), y=y + 1)
    result = run_cli("validate", "c.yaml", "--set", "loss.class_weights={0: 1.0, 2: 4.0}")
    assert result.exit_code == 2 and "loss.class_weights.0: '0' is no class of the data, whose training split has 3 " \
        "classes: 1, 2, 3; a key names a class by its label, not its position" in result.output, result.output


@pytest.mark.parametrize("weights, message", [
    ("{spma: 5, ham: 2, 7: 1}", "config.yaml:3:62: loss.class_weights.spma: 'spma' is no class of the data, whose "
                                "training split has 3 classes: eggs, ham, spam; did you mean 'spam'?\n"),
    ("{spma: 5, ham: 2, 7: 1}", "config.yaml:3:76: loss.class_weights.7: '7' is no class of the data"),  # all at once
    ("{0: 1, 2: 3.5}", "config.yaml:3:55: loss.class_weights: the classes have names, not numbers: the training split "
                       "has 3 classes: eggs, ham, spam; Keras's class_weight counts them from 0, which by name is "
                       "class_weights: {eggs: 1, spam: 3.5}"),
    ("{spam: 0, ham: 0, eggs: 0}", "config.yaml:3:55: loss.class_weights: every class weighs 0, so the loss is 0"),
    ("{}", "loss.class_weights: the mapping names no class; name a class and its weight ({spam: 5.0})"),
    ("{spam: -1}", "loss.class_weights.spam: expected a number of at least 0, got -1"),
])
def test_class_weights_by_name_that_name_no_class_are_refused(run_cli, tmp_path, weights, message):
    (tmp_path / "config.yaml").write_text(_labelled(tmp_path, weights))
    result = run_cli("train", "config.yaml")
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("weights, message", [
    ("[1, -1, 0]", "loss.class_weights.1: expected a number of at least 0, got -1"),
    ("[0, 0, 0]", "loss.class_weights: every weight is 0, so the loss is 0 and nothing would be learned"),
])
def test_class_weights_that_would_push_the_wrong_way_or_nowhere_are_refused(run_cli, write_config, weights, message):
    # A negative weight makes that class's loss negative: training would make the class less likely.
    tail = TAIL.replace("loss: categorical_crossentropy", f"loss: {{type: categorical_crossentropy, "
                                                          f"class_weights: {weights}}}")
    result = run_cli("validate", write_config(config("    - {type: dense, units: 3, activation: softmax}\n", tail)))
    assert result.exit_code == 2 and message in result.output, result.output


def test_metric_for_the_wrong_task(run_cli, write_config):
    tail = TAIL.replace("[accuracy]", "[accuracy, rmse]")
    result = run_cli("train", write_config(config("    - {type: dense, units: 3, activation: softmax}\n", tail)))
    assert result.exit_code == 2
    assert "metrics.1: rmse needs a regression task, but the data is classification" in result.output


def test_top_k_accuracy_with_no_more_classes_than_k_is_warned(run_cli, write_config, tmp_path):
    tail = TAIL.replace("[accuracy]", "[accuracy, top_k_accuracy]")
    path = write_config(config("    - {type: dense, units: 3, activation: softmax}\n", tail))
    result = run_cli("train", path, "--run-dir", "r")
    assert result.exit_code == 0, result.output
    assert ("top_k_accuracy counts a sample as right when its class is among the 5 most probable, so with 3 "
            "classes it is always 1") in " ".join(result.output.split())
    assert run_cli("evaluate", "r").exit_code == 0  # a run trained with it still loads


def test_a_regression_on_targets_of_0_and_1_alone_is_warned(run_cli, tmp_path):
    rows = "".join(f"{i / 40:.3f},{(i * 7) % 11},{i % 2}\n" for i in range(40))
    (tmp_path / "p.csv").write_text("a,b,outcome\n" + rows)
    (tmp_path / "p.yaml").write_text(
        "data: {source: {type: csv, path: p.csv, target: outcome, task: regression}}\n"
        "model: {layers: [{type: dense, units: 1}]}\nloss: mse\nmetrics: [mae]\n")
    result = run_cli("validate", "p.yaml")
    assert result.exit_code == 0, result.output
    assert ("warning: loss: mse fits the targets as amounts, but they are all 0 and 1, so the model predicts numbers "
            "between them, not classes; for two classes use loss: binary_crossentropy") in " ".join(result.output.split())
    (tmp_path / "p.csv").write_text("a,b,outcome\n" + rows.replace(",0\n", ",2\n"))
    assert "all 0 and 1" not in run_cli("validate", "p.yaml").output


def test_embedding_rejects_values_that_are_not_indices():
    graph = _graph([{"type": "embedding", "input_dim": 4, "output_dim": 2}, {"type": "flatten"}], (3,))
    out, _ = graph.forward(np.array([[0, 3, 1]], np.float32), training=False)
    assert out.shape == (1, 6)
    with pytest.raises(Exception, match=r"input value 4 is not an index in \[0, 4\)"):
        graph.forward(np.array([[0, 4, 1]], np.float32), training=False)
    with pytest.raises(Exception, match=r"input value 0\.5 is not an index"):
        graph.forward(np.array([[0.5, 1, 1]], np.float32), training=False)


def test_constant_initializer_and_no_bias():
    graph = _graph([{"type": "dense", "units": 2, "use_bias": False,
                     "kernel_initializer": {"type": "constant", "value": 0.5}}])
    assert set(graph.params) == {"dense_0.kernel"}
    assert np.all(graph.params["dense_0.kernel"] == 0.5)


def test_batch_norm_statistics_of_a_large_batch_are_accurate_in_float32():
    # Summed in float32 over the batch and image axes, NumPy adds one row after another:
    # the variance of 512,000 values a channel was off by 3e-4 (PyTorch accumulates in float64).
    from nnrun.model.layers.normalization import BatchNormalization

    layer = BatchNormalization(momentum=0.0)
    x = np.random.default_rng(0).random((2000, 16, 16, 4), dtype=np.float32) ** 2
    params = layer.init(x.shape[1:], None, np.float32)
    y, _ = layer.forward(params, x, True, None)
    exact = x.astype(np.float64)
    assert y.dtype == np.float32 and params["moving_variance"].dtype == np.float32
    np.testing.assert_allclose(params["moving_mean"], exact.mean(axis=(0, 1, 2)), rtol=2e-7)
    np.testing.assert_allclose(params["moving_variance"], exact.var(axis=(0, 1, 2)), rtol=5e-7)


def test_batch_norm_inference_gradient():
    """Inference mode treats the moving statistics as constants (float64 check)."""
    from gradcheck import assert_close, numeric_grad

    from nnrun.model.layers.normalization import BatchNormalization

    layer = BatchNormalization()
    rng = np.random.default_rng(0)
    params = {"gamma": rng.normal(1, 0.1, 3), "beta": rng.normal(0, 0.1, 3),
              "moving_mean": rng.normal(0, 1, 3), "moving_variance": rng.uniform(0.5, 2, 3)}
    x, direction = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))

    def loss():
        return float(np.sum(layer.forward(params, x, False, None)[0] * direction))

    _, cache = layer.forward(params, x, False, None)
    dx, grads = layer.backward(params, cache, direction)
    assert_close(dx, numeric_grad(loss, x), "d/dx")
    for name in ("gamma", "beta"):
        assert_close(grads[name], numeric_grad(loss, params[name]), f"d/d{name}")


def test_a_sequence_output_for_one_target_a_sample_says_how_to_end_the_model(run_cli):
    from conftest import ROOT

    result = run_cli("validate", ROOT / "configs" / "sequence_gru.yaml", "--set",
                     "model.layers.0.return_sequences=true")
    assert result.exit_code == 2
    assert ("model.layers.1: the output is a sequence of shape (64, 4) per sample, but the data has one target per "
            "sample (4 classes: sine, square, triangle, sawtooth); end with one vector per sample: "
            "return_sequences: false on the last recurrent layer") in " ".join(result.output.split())


def test_a_warmup_longer_than_the_run_is_warned(run_cli):
    from conftest import ROOT

    result = run_cli("validate", ROOT / "configs" / "iris.yaml", "--set",
                     "training.schedule={type: cosine, warmup_epochs: 200}")
    assert result.exit_code == 0
    assert ("training.schedule.warmup_epochs: 200 warmup epochs in a run of 100: the learning rate never reaches "
            "optimizer.learning_rate") in " ".join(result.output.split())
    quiet = run_cli("validate", ROOT / "configs" / "iris.yaml", "--set",
                    "training.schedule={type: cosine, warmup_epochs: 100}")
    assert "warmup" not in quiet.output


def test_a_checkpoint_warm_starts_as_its_runs_weights_do(run_cli, tmp_path):
    from conftest import ROOT

    iris = ROOT / "configs" / "iris.yaml"
    assert run_cli("train", iris, "--run-dir", "a", "--set", "training.epochs=3", "--set",
                   "training.checkpoint={every_epochs: 1}", "-q").exit_code == 0
    checkpoint = tmp_path / "a" / "checkpoints" / "epoch-000003.safetensors"
    for name, start in (("from_weights", tmp_path / "a" / "model.safetensors"), ("from_checkpoint", checkpoint)):
        result = run_cli("train", iris, "--run-dir", name, "--set", "training.epochs=2", "--set",
                         f"model.init_weights={start}", "-q")
        assert result.exit_code == 0, result.output
    assert (tmp_path / "from_weights" / "model.safetensors").read_bytes() == \
        (tmp_path / "from_checkpoint" / "model.safetensors").read_bytes()


def test_a_sequence_output_before_a_sigmoid_says_how_to_end_the_model_not_to_change_units(run_cli):
    # Its 40 steps were told as 40 units, and units: 1 (which it had) was the fix offered.
    from conftest import ROOT

    result = run_cli("validate", ROOT / "configs" / "text_lstm.yaml", "--set", "model.layers.1.layer.return_sequences=true",
                     "--set", "model.layers.-1={type: dense, units: 1, activation: sigmoid}",
                     "--set", "loss=binary_crossentropy")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "the output is a sequence of shape" in said, said
    assert "return_sequences: false on the last recurrent layer" in said and "give the output layer" not in said
