"""The select layer: features picked by name or position, so that branches of a graph
read different columns of one table; checked against PyTorch's indexing, bound to the
data's names when the graph compiles, and refused clearly where a name cannot apply."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter

import nnrun
from nnrun.errors import ConfigError, UserError
from nnrun.model.graph import compile_graph
from nnrun.model.layers import LayerSpec

TABLE = """id,age,income,city,joined,plan
{rows}"""


def layers(*specs):
    return [TypeAdapter(LayerSpec).validate_python(spec) for spec in specs]


@pytest.mark.parametrize(("positions", "shape"), [([2, 0], (5,)), ([-1, 1], (4, 3)), ([0], (2, 3, 2))])
def test_select_matches_torch_indexing_forward_and_backward(positions, shape):
    torch = pytest.importorskip("torch")
    graph = compile_graph(layers({"type": "select", "features": positions, "inputs": ["input"]},
                                 {"type": "flatten"}), shape)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, *shape)).astype(np.float32)
    out, tape = graph.forward(x, training=True)
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = tx[..., positions].reshape(4, -1)
    np.testing.assert_array_equal(out, ty.detach().numpy())
    dy = rng.normal(size=out.shape).astype(np.float32)
    ty.backward(torch.from_numpy(dy))
    dx, _ = graph.nodes[0].layer.backward({}, tape[0], dy.reshape(4, *shape[:-1], len(positions)))
    np.testing.assert_array_equal(dx, tx.grad.numpy())


def test_names_bind_to_positions_of_features_and_of_columns():
    features = {"age": [0], "city": [1, 2, 3], "city=Lyon": [1], "city=Nice": [2], "city=Paris": [3], "income": [4]}
    graph = compile_graph(layers({"type": "select", "features": ["income", "city"]}), (5,), features=features)
    assert graph.nodes[0].layer.positions() == (4, 1, 2, 3) and graph.output_shape == (4,)
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    np.testing.assert_array_equal(graph.predict(x), x[:, [4, 1, 2, 3]])


@pytest.mark.parametrize(("spec", "shape", "message"), [
    ({"features": ["incme"]}, (5,), "model.layers.0.features.0: 'incme' is no feature of the input; did you mean "
                                    "'income'?"),
    ({"features": ["city", "city=Lyon"]}, (5,), "model.layers.0.features: 'city=Lyon' picked twice (by a column's "
                                                 "name and by one of its features); pick each feature once"),
    ({"features": [0, -5]}, (5,), "model.layers.0.features: 'age' picked twice (a negative position counts "
                                  "from the end: -1 is 4); pick each feature once"),
    ({"features": [2023]}, (5,), "model.layers.0.features.0: 2023 is a position, and the input also has a column "
                                 "'2023': quote it ('2023') to name the column"),
    ({"features": [0, 7]}, (5,), "model.layers.0: select_0: position 7 outside the 5 features of the last axis "
                                 "(0 to 4, or -5 to -1 from the end)"),
    ({"features": [0, "age"]}, (5,), "model.layers.0.features: 'age' picked twice; pick each feature once"),
    ({"features": ["age"]}, (5, 1), "'age' is a name, and names pick features of a flat input; this one is of shape "
                                    "(5, 1): give a position on its last axis (0 first)"),
])
def test_what_a_name_or_position_cannot_pick_is_refused_at_its_place(spec, shape, message):
    features = {"age": [0], "city": [1, 2, 3], "city=Lyon": [1], "city=Nice": [2], "city=Paris": [3], "income": [4],
                "2023": [4]}
    with pytest.raises(ConfigError) as refused:
        compile_graph(layers({"type": "select", **spec}), shape, features=features)
    assert message in str(refused.value)


def test_a_name_after_another_layer_is_refused_and_a_feature_listed_twice_is_a_config_error():
    with pytest.raises(ConfigError, match=r"model.layers.1.features.0: 'age' is a name, and names pick features of "
                                          r"the model's input; this layer reads 'dense_0': add inputs: \[input\] to "
                                          r"pick from the model's input"):
        compile_graph(layers({"type": "dense", "units": 3}, {"type": "select", "features": ["age"]}), (5,),
                      features={"age": [0]})
    with pytest.raises(ValueError, match="age listed twice; list each feature once"):
        layers({"type": "select", "features": ["age", "age"]})


def test_branches_of_a_csv_table_train_predict_and_export(tmp_path):
    rng = np.random.default_rng(0)
    rows = [f"c{i},{rng.integers(20, 70)},\"{rng.integers(20, 90)},{rng.integers(100, 999)}\","
            f"{['Lyon', 'Nice', 'Paris'][i % 3]},2024-0{1 + i % 9}-1{i % 9},{['a', 'b'][i % 2]}" for i in range(80)]
    (tmp_path / "table.csv").write_text(TABLE.format(rows="\n".join(rows)) + "\n")
    config = {
        "data": {"source": {"type": "csv", "path": str(tmp_path / "table.csv"), "target": "plan", "id": "id",
                            "categorical": ["city"], "dates": ["joined"], "thousands": ","},
                 "preprocess": ["standardize"]},
        "model": {"layers": [
            {"type": "select", "features": ["age", "income"], "name": "numbers"},
            {"type": "dense", "units": 4, "activation": "relu", "name": "from_numbers"},
            {"type": "select", "features": ["city", "joined"], "inputs": ["input"], "name": "place_time"},
            {"type": "dense", "units": 4, "activation": "relu", "name": "from_place_time"},
            {"type": "concatenate", "inputs": ["from_numbers", "from_place_time"]},
            {"type": "dense", "units": 2, "activation": "softmax"}]},
        "loss": "categorical_crossentropy", "training": {"epochs": 2}}
    run = nnrun.train(config, run_dir=tmp_path / "run", quiet=True).run_dir
    model = nnrun.load(run)  # bound again from the run's saved encoding
    assert model.predict(tmp_path / "table.csv").probabilities.shape == (80, 2)
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from nnrun.commands.export import export_run

    report = export_run(run, tmp_path / "model.onnx")
    assert report.comparison.max_difference <= 1e-5 and onnx.load(str(report.model_path))
    with pytest.raises(UserError, match=r"model.layers.2.features.1: 'joind' is no feature of the input; did you "
                                        r"mean 'joined'\?"):
        config["model"]["layers"][2]["features"] = ["city", "joind"]
        nnrun.train(config, run_dir=tmp_path / "bad", quiet=True)


def test_names_without_the_datas_features_are_told_so():
    with pytest.raises(ConfigError, match="'age' is a name, and the input's features have none here: give a position"):
        compile_graph(layers({"type": "select", "features": ["age"]}), (5,))


def test_an_embedding_behind_a_select_reads_the_input_as_token_ids(tmp_path):
    """Its ids are checked as the embedding's own (not the other columns'), and the card
    tells the padding and the ids it takes."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(40, 1)) * 50, rng.integers(1, 9, (40, 4))], axis=1).astype(np.float32)
    x[::3, 3:] = 0
    config = {"model": {"layers": [
        {"type": "select", "features": [1, 2, 3, 4]},
        {"type": "embedding", "input_dim": 9, "output_dim": 2, "mask_zero": True},
        {"type": "global_average_pool1d", "name": "words"},
        {"type": "select", "features": [0], "inputs": ["input"], "name": "amount"},
        {"type": "concatenate", "inputs": ["words", "amount"]},
        {"type": "dense", "units": 2, "activation": "softmax"}]},
        "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    model = nnrun.load(nnrun.train(config, data=(x, np.arange(40) % 2), run_dir=tmp_path / "r", quiet=True).run_dir)
    with pytest.raises(UserError, match=r"1 sample holds a value the model's embedding layer cannot look up "
                                        r"\(sample 0, counted from 0; sample 0 holds 12\)"):
        model.predict(np.array([[3.5, 1, 12, 0, 0]], np.float32))
    from nnrun.commands.model_card import input_rules

    rules = input_rules(model.trained.graph)
    assert rules["padding"]["value"] == 0 and rules["input_values"].startswith("whole numbers from 0 to 8")


def test_validate_lists_the_features_a_column_encodes(run_cli):
    from pathlib import Path

    result = run_cli("validate", Path(__file__).parent.parent / "configs" / "customers.yaml")
    assert result.exit_code == 0, result.output
    assert "features: age; income; city (city=Lille, city=Lyon, city=Nice, city=Paris); tenure_months" in result.output
    iris = run_cli("validate", Path(__file__).parent.parent / "configs" / "iris.yaml")  # a feature a column: no line
    assert iris.exit_code == 0 and "features:" not in iris.output


def test_token_id_columns_of_a_table_keep_no_range_the_others_do(tmp_path):
    # Token ids stored as number columns beside an amount: a select of them into an embedding.
    # Training's rows were all long (ids of 1 and up everywhere); new rows padded with 0 are
    # no other unit, while an amount a hundred times training's still is.
    rng = np.random.default_rng(0)
    lines = ["amount,t0,t1,t2,t3,label"] + [
        f"{rng.uniform(10, 20):.2f},{','.join(str(v) for v in rng.integers(1, 9, 4))},{i % 2}" for i in range(60)]
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n")
    config = {"data": {"source": {"type": "csv", "path": str(tmp_path / "rows.csv"), "target": "label"}},
              "model": {"layers": [
                  {"type": "select", "features": ["t0", "t1", "t2", "t3"]},
                  {"type": "embedding", "input_dim": 9, "output_dim": 2, "mask_zero": True},
                  {"type": "global_average_pool1d", "name": "words"},
                  {"type": "select", "features": ["amount"], "inputs": ["input"], "name": "amount"},
                  {"type": "concatenate", "inputs": ["words", "amount"]},
                  {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    model = nnrun.load(nnrun.train(config, run_dir=tmp_path / "r", quiet=True).run_dir)
    (tmp_path / "new.csv").write_text("amount,t0,t1,t2,t3\n15,3,4,0,0\n14,5,0,0,0\n")
    assert model.predict(tmp_path / "new.csv").notes == ()
    from nnrun.commands.model_card import model_card

    card = model_card(model.trained)  # the ids' rules are said of their columns, not of the amount
    assert card["input_values"] == "'t0', 't1', 't2', 't3': whole numbers from 0 to 8, the indices it learned vectors for"
    assert card["padding"]["means"].startswith("'t0', 't1', 't2', 't3': a token index of 0 is padding")
    (tmp_path / "far.csv").write_text("amount,t0,t1,t2,t3\n1500,3,4,0,0\n1400,5,0,0,0\n")
    (note,) = model.predict(tmp_path / "far.csv").notes
    assert note.startswith("2 of 2 values in 'amount' lie far outside what training saw")
