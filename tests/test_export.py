"""`nnrun export`: every config in configs/ exports, and onnxruntime gives nnrun's
outputs on the run's test split at batch sizes 1 and 64."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import nnrun
from trained import CONFIGS

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from nnrun.commands.export import export_run  # noqa: E402
from conftest import run_python

TOLERANCE = 1e-5  # absolute, on probabilities; relative to the value for a regressor
CONFIG_NAMES = sorted(path.stem for path in CONFIGS.glob("*.yaml"))


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory) -> dict[str, Path]:
    """Every config trained for two epochs (the weights only need to be non-trivial)."""
    root = tmp_path_factory.mktemp("runs")
    return {name: nnrun.train(CONFIGS / f"{name}.yaml", overrides=["training.epochs=2"], run_dir=root / name,
                              quiet=True).run_dir for name in CONFIG_NAMES}


def readme_client(which: str, run: Path, up_to: str | None = None) -> dict:
    """The README's onnxruntime client (``fruit``: the table one; ``text``: the text one)
    run as written on ``run`` (up to the line starting ``up_to``); its names."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start, placeholder = {"fruit": ("From Python, with only onnxruntime and NumPy.", "runs/fruit-20261201-081500"),
                          "text": ("for a model whose only\ninput is the text", "runs/text_lstm-20261201-081500")}[which]
    client = readme.split(start)[1].split("```python\n")[1].split("```")[0].replace(placeholder, str(run))
    namespace: dict = {}
    exec(client.split(up_to)[0] if up_to else client, namespace)
    return namespace


def _test_split(run: Path):
    """The run's test split as the exported model takes it: encoded, not preprocessed."""
    from nnrun.config import load_config
    from nnrun.data import load_splits
    from nnrun.engine.experiment import resolve_paths
    from nnrun.store.trained import TrainedRun

    trained = TrainedRun.load(run)
    resolved = resolve_paths(load_config(run / "config.yaml"))
    test = load_splits(resolved.data, resolved.seed, trained.preprocessing.encoding()).parts["test"].x
    return trained.config, trained.preprocessing, trained.graph, test


def _without_onnx_form(run: Path) -> list[str]:
    """What the export must refuse in a run's model: attention layers, by name."""
    from nnrun.config import load_config

    layers = load_config(run / "config.yaml").config.model.layers
    names = [layer.name or f"{layer.type}_{i}" for i, layer in enumerate(layers)]
    return [f"'{name}'" for name, layer in zip(names, layers)
            if layer.type == "multi_head_attention"]


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_every_config_exports_and_onnxruntime_agrees(trained_runs, tmp_path, name):
    from nnrun.commands.export.check import reference_outputs
    from nnrun.errors import UserError

    refused = _without_onnx_form(trained_runs[name])
    if refused:  # attention: a clear refusal that names the layer, and no file
        with pytest.raises(UserError, match="cannot export: ") as caught:
            export_run(trained_runs[name], tmp_path / f"{name}.onnx")
        assert any(layer in caught.value.message for layer in refused)
        assert caught.value.message.startswith(f"{trained_runs[name]}: cannot export: ")
        assert not (tmp_path / f"{name}.onnx").exists()
        return
    report = export_run(trained_runs[name], tmp_path / f"{name}.onnx")
    assert report.comparison.max_difference is not None and report.comparison.max_difference <= TOLERANCE
    config, saved, graph, x = _test_split(trained_runs[name])
    session = ort.InferenceSession(str(report.model_path), providers=["CPUExecutionProvider"])
    (output,) = session.get_outputs()
    assert session.get_inputs()[0].shape[0] == "batch"
    for batch in (1, 64):
        rows = x[:batch] if len(x) >= batch else np.resize(x, (batch, *x.shape[1:]))
        got = session.run([output.name], {"features": rows})[0]
        expected = reference_outputs(graph, config.data.preprocess, saved.states, rows, saved.task)
        assert got.shape == expected.shape == (batch, *expected.shape[1:])
        scale = np.maximum(np.abs(expected), 1) if saved.task == "regression" else 1
        assert np.max(np.abs(got - expected) / scale) <= TOLERANCE
        if saved.task == "classification":
            np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-5)  # one probability per class


def test_model_card_in_the_metadata_and_beside_the_file(trained_runs, tmp_path):
    report = export_run(trained_runs["fruit"], tmp_path / "fruit.onnx")
    model = onnx.load(str(report.model_path))
    props = {p.key: p.value for p in model.metadata_props}
    card = json.loads(props["nnrun"])
    assert card == json.loads(report.card_path.read_text()) and report.card_path == tmp_path / "fruit.json"
    assert card["task"] == props["task"] == "classification"
    assert card["class_names"] == ["apple", "banana", "orange"]
    assert [c["name"] for c in card["columns"]] == ["weight_g", "length_cm", "sweetness", "color"]
    assert card["columns"][3]["categories"] == ["brown", "green", "orange", "red", "yellow"]
    assert card["features"][3:] == [f"color={c}" for c in ["brown", "green", "orange", "red", "yellow"]]
    assert card["onnx"]["input"] == {"name": "features", "shape": ["batch", 8], "dtype": "float32"}
    assert card["onnx"]["output"]["name"] == "probabilities" and card["onnx"]["opset"] == 17
    assert {op.domain for op in model.opset_import} == {""} and model.opset_import[0].version == 17
    assert {node.domain for node in model.graph.node} <= {""}


def test_the_readme_client_gives_nnruns_predictions_with_empty_cells_and_unseen_categories(trained_runs, tmp_path):
    """The README's onnxruntime client, run as written on a fruit run: empty cells and a
    category training never saw (with unknown: ignore) come out as nnrun predicts them."""
    run = nnrun.train(CONFIGS / "fruit.yaml", overrides=["training.epochs=2", "data.source.unknown=ignore"],
                      run_dir=tmp_path / "fruit", quiet=True).run_dir
    export_run(run)
    namespace = readme_client("fruit", run)
    rows = namespace["rows"] + [
        {"weight_g": None, "length_cm": 12.0, "sweetness": 6.0, "color": None},
        {"weight_g": 140, "length_cm": None, "sweetness": None, "color": "purple"},
    ]
    features = np.array([namespace["features"](row) for row in rows], np.float32)
    onnx_probabilities = namespace["session"].run(None, {"features": features})[0]
    assert np.abs(namespace["probabilities"] - onnx_probabilities[:2]).max() == 0
    expected = nnrun.load(run).predict({name: [row[name] for row in rows] for name in rows[0]}).probabilities
    assert np.abs(onnx_probabilities - expected).max() < TOLERANCE
    namespace["card"]["columns"][3]["unknown"] = "error"  # as a run trained with the default reads
    with pytest.raises(ValueError, match="color: 'purple' is a category the run never saw"):
        namespace["features"](rows[-1])
    misspelt = {"weight_g": 118, "length_cm": 19.5, "sweetnes": 7.2, "color": "yellow"}  # filled silently once
    with pytest.raises(KeyError, match="sweetness: missing; every row needs this column"):
        namespace["features"](misspelt)
    # A category that is a number, given as a float column holds it (94105.0), is the text "94105";
    # one written with leading zeros is matched by the number a number reader makes of it, as
    # nnrun predict matches it.
    namespace["card"]["columns"][3]["categories"] = ["02139", "10001", "94105"]
    assert namespace["features"]({**rows[0], "color": 94105.0})[-3:] == [0.0, 0.0, 1.0]
    assert namespace["features"]({**rows[0], "color": 2139})[-3:] == [1.0, 0.0, 0.0]
    assert namespace["features"]({**rows[0], "color": "2139.0"})[-3:] == [1.0, 0.0, 0.0]
    # A number column of booleans as pandas writes them: 1 and 0, as nnrun predict reads them.
    namespace["card"]["columns"][3]["categories"] = ["02139", "Montr\u00e9al", "94105"]
    assert namespace["features"]({**rows[0], "color": "Montre\u0301al"})[-3:] == [0.0, 1.0, 0.0]  # as predict reads it
    booleans = {**rows[0], "weight_g": "True", "length_cm": " false", "color": 94105}
    assert namespace["features"](booleans)[:2] == [1.0, 0.0]
    # missing_category: own: an empty cell is the category "", listed last, and the card's fill.
    namespace["card"]["columns"][3].update(categories=["red", "yellow", ""], missing="")
    assert namespace["features"]({**rows[0], "color": None})[-3:] == [0.0, 0.0, 1.0]


def test_the_readme_client_gives_nnruns_predictions_for_date_columns(tmp_path):
    """Dates with and without a time of day, an empty cell filled: the client's features
    are the ones nnrun encodes."""
    rng = np.random.default_rng(0)
    lines = ["when,day,load"]
    for i in range(120):
        hour = "" if i == 5 else f"2024-{1 + i % 12:02d}-{1 + i % 27:02d} {i % 24:02d}:{(7 * i) % 60:02d}"
        lines.append(f"{hour},2023-{1 + (5 * i) % 12:02d}-{1 + (3 * i) % 28:02d},{rng.normal():.3f}")
    (tmp_path / "load.csv").write_text("\n".join(lines) + "\n")
    config = {"data": {"source": {"type": "csv", "path": str(tmp_path / "load.csv"), "target": "load",
                                  "dates": ["when", "day"], "missing": "mean", "task": "regression"}},
              "model": {"layers": [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 1}]},
              "loss": "mse", "training": {"epochs": 2}}
    run = nnrun.train(config, run_dir=tmp_path / "dated", quiet=True).run_dir
    export_run(run)
    namespace = readme_client("fruit", run, up_to="rows = [")
    from datetime import datetime

    rows = [{"when": "2024-07-02T13:45+02:00", "day": "2023-12-31"}, {"when": None, "day": datetime(2024, 2, 29)},
            {"when": datetime(2025, 1, 1, 0, 0, 30), "day": "2023-03-15"}]
    features = np.array([namespace["features"](row) for row in rows], np.float32)
    assert features.shape == (3, 12 + 10)  # when: with the time of day; day: dates alone
    outputs = namespace["session"].run(None, {"features": features})[0]
    given = {"when": ["2024-07-02T13:45+02:00", "", "2025-01-01 00:00:30"],
             "day": ["2023-12-31", "2024-02-29", "2023-03-15"]}
    expected = nnrun.load(run).predict(given).predictions.reshape(-1)
    np.testing.assert_allclose(outputs.reshape(-1), expected, rtol=1e-5, atol=1e-5)


def test_the_readme_client_matches_categories_in_any_case_where_the_card_folds_them(tmp_path):
    lines = ["city,size,label"] + [f"{('Paris', 'PARIS', 'lyon', 'Lyon ')[i % 4]},{i % 7},{'ab'[i % 3 == 0]}"
                                   for i in range(120)]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    config = {"data": {"source": {"type": "csv", "path": str(tmp_path / "c.csv"), "target": "label",
                                  "categorical": ["city"], "fold_case": True}},
              "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 2}}
    run = nnrun.train(config, run_dir=tmp_path / "folded", quiet=True).run_dir
    export_run(run)
    namespace = readme_client("fruit", run, up_to="rows = [")
    rows = [{"city": city, "size": "3"} for city in ("paris", " PARIS ", "LYON", "lyon")]
    features = np.array([namespace["features"](row) for row in rows], np.float32)
    assert features.shape == (4, 3) and (features[0] == features[1]).all() and (features[2] == features[3]).all()
    outputs = namespace["session"].run(None, {"features": features})[0]
    expected = nnrun.load(run).predict({"city": [r["city"] for r in rows], "size": [3] * 4}).probabilities
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)


def test_binary_sigmoid_output_becomes_one_probability_per_class(trained_runs, tmp_path):
    report = export_run(trained_runs["breast_cancer"], tmp_path / "bc.onnx")
    assert json.loads(report.card_path.read_text())["onnx"]["output"]["shape"] == ["batch", 2]


def test_cli_prints_the_check_and_the_largest_difference(run_cli, trained_runs):
    result = run_cli("export", trained_runs["iris"], "-o", "iris.onnx")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("wrote iris.onnx (") and "opset 17, float32, 515 parameters)" in lines[0]
    assert lines[1].strip() == "iris.json (input columns, encoding, classes)" and lines[2] == "onnx.checker: passed"
    assert lines[3].startswith(f"onnxruntime {ort.__version__} on the test split (30 samples): "
                               "largest difference from nnrun ")
    assert float(lines[3].rsplit(" ", 1)[1]) <= TOLERANCE
    regression = run_cli("export", trained_runs["diabetes"], "-o", "diabetes.onnx")
    assert regression.output.splitlines()[1].strip() == "diabetes.json (input columns, encoding)"  # no classes


def test_float16_reports_the_change_of_test_accuracy(run_cli, trained_runs, tmp_path):
    result = run_cli("export", trained_runs["digits_cnn"], "--float16", "-o", "digits16.onnx")
    assert result.exit_code == 0, result.output
    assert "float16 weights" in result.output.splitlines()[0]
    last = result.output.splitlines()[-1]
    assert last.startswith("float16 weights: test accuracy ") and "(change " in last
    full = export_run(trained_runs["digits_cnn"], tmp_path / "d32.onnx")
    assert (tmp_path / "digits16.onnx").stat().st_size < 0.55 * full.size_bytes
    # How far the float16 weights moved the outputs: the two files, run side by side on
    # the same test split, differ by what the line says (each within TOLERANCE of nnrun).
    said = float(re.search(r"outputs at most (\S+) from the float32 weights$", last).group(1))
    *_, x = _test_split(trained_runs["digits_cnn"])
    half, whole = (ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                   for path in (tmp_path / "digits16.onnx", full.model_path))
    apart = np.max(np.abs(half.run(None, {"features": x})[0] - whole.run(None, {"features": x})[0]))
    assert 0 < said < 0.1 and abs(apart - said) <= 2 * TOLERANCE + 0.001 * said


def test_existing_files_are_replaced_only_with_force(run_cli, trained_runs, tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"keep me")
    result = run_cli("export", trained_runs["iris"], "-o", target)
    assert result.exit_code == 2
    assert f"{target}: already exists; nnrun export does not overwrite it" in result.output
    assert "hint: add --force to replace it" in result.output
    assert target.read_bytes() == b"keep me" and not (tmp_path / "model.json").exists()
    result = run_cli("export", trained_runs["iris"], "-o", target, "--force")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != b"keep me" and (tmp_path / "model.json").is_file()
    # The same export again (a retried CI step): nothing to write, and no failure.
    written = target.stat().st_mtime_ns
    result = run_cli("export", trained_runs["iris"], "-o", target)
    assert result.exit_code == 0 and "already exported, from the same weights with the same settings" in result.output
    assert target.stat().st_mtime_ns == written
    (tmp_path / "folder.onnx").mkdir()  # --force replaces files, never a folder
    result = run_cli("export", trained_runs["iris"], "-o", tmp_path / "folder.onnx", "--force")
    assert result.exit_code == 2 and "folder.onnx: is a folder; nnrun export writes only plain files" in result.output


@pytest.mark.parametrize("name", ["meta.onnx", "preprocess.onnx", "checkpoints/model.onnx"])
def test_a_runs_own_files_are_never_written_over_force_or_not(run_cli, trained_runs, tmp_path, name):
    # The model card goes beside the model as .json: -o RUN/meta.onnx would replace meta.json.
    run = tmp_path / "run"
    shutil.copytree(trained_runs["iris"], run)
    before = {path: path.read_bytes() for path in run.rglob("*") if path.is_file()}
    result = run_cli("export", run, "-o", run / name, "--force")
    assert result.exit_code == 2 and "is part of the run" in result.output and "--force or not" in result.output
    assert {path: path.read_bytes() for path in run.rglob("*") if path.is_file()} == before


@pytest.mark.parametrize("args, message", [
    (["--opset", "9"], "--opset 9: choose an opset from 13 to"),
    (["-o", "model.txt"], "-o model.txt: give a file name ending in .onnx"),
    (["-o", "nowhere/model.onnx"], "the folder nowhere does not exist"),
])
def test_bad_options_exit_2_with_a_message(run_cli, trained_runs, args, message):
    result = run_cli("export", trained_runs["iris"], *args)
    assert result.exit_code == 2 and message in result.output


def test_damaged_run_directory_exits_2(run_cli, trained_runs, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(trained_runs["iris"], damaged)
    (damaged / "model.safetensors").write_bytes(b"not weights")
    result = run_cli("export", damaged, "-o", "x.onnx")
    assert result.exit_code == 2 and "model.safetensors" in result.output
    assert not (tmp_path / "x.onnx").exists()


def test_without_onnx_says_how_to_install(run_cli, trained_runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    result = run_cli("export", trained_runs["iris"])
    assert result.exit_code == 2
    assert "nnrun export needs the onnx package" in result.output and "pip install 'nnrun[onnx]'" in result.output


def test_without_onnxruntime_exports_and_says_the_outputs_were_not_compared(run_cli, trained_runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = run_cli("export", trained_runs["iris"], "-o", "plain.onnx")
    assert result.exit_code == 0, result.output
    assert "onnxruntime: not installed, so the outputs were not compared on the test split" in result.output


def test_moved_data_still_exports_and_says_why_nothing_was_compared(tmp_path):
    data = tmp_path / "fruit.csv"
    shutil.copy(CONFIGS / "data" / "fruit.csv", data)
    config = (CONFIGS / "fruit.yaml").read_text().replace("path: data/fruit.csv", f"path: {data}")
    (tmp_path / "fruit.yaml").write_text(config)
    run = nnrun.train(tmp_path / "fruit.yaml", overrides=["training.epochs=1"], run_dir=tmp_path / "run",
                      quiet=True).run_dir
    data.unlink()
    report = export_run(run, tmp_path / "fruit.onnx")
    assert report.comparison is None and "could not be loaded" in report.skipped
    assert report.model_path.exists()


def test_the_extras_are_not_imported_by_train_or_help(tmp_path):
    code = ("import sys, nnrun; from typer.testing import CliRunner; from nnrun.cli import app; "
            "CliRunner().invoke(app, ['--help']); CliRunner().invoke(app, ['export', '--help']); "
            "CliRunner().invoke(app, ['serve', '--help']); "
            f"nnrun.train({str(CONFIGS / 'iris.yaml')!r}, overrides=['training.epochs=1'], "
            f"run_dir={str(tmp_path / 'iris')!r}, quiet=True); "
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'fastapi', 'uvicorn') if m in sys.modules))")
    out = run_python(code, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_an_export_made_before_a_resume_is_kept_aside_when_exporting_again(run_cli, tmp_path, capsys):
    """Exported while interrupted, then resumed: the resume says the export will not match,
    and exporting again writes the new weights and keeps the earlier export, named after
    its weights, instead of refusing (or leaving model.onnx at odds with model.safetensors)."""
    import os
    import signal

    from nnrun.engine.hooks import SilentHooks
    from nnrun.engine.resume import resume_training
    from nnrun.errors import Interrupted, UserError

    class StopAfterTwo(SilentHooks):
        def epoch_end(self, row):
            if row["epoch"] == 2:
                os.kill(os.getpid(), signal.SIGINT)

    run = tmp_path / "r"
    with pytest.raises(Interrupted):
        nnrun.train(CONFIGS / "iris.yaml", overrides=["training.epochs=8"], run_dir=run, hooks=StopAfterTwo())
    first = export_run(run)
    earlier = json.loads((run / "model.json").read_text())["weights_fingerprint"]
    earlier_bytes = (run / "model.onnx").read_bytes()
    # A resume refused when it restores the checkpoint changes nothing: no warning of a stale export.
    with pytest.raises(UserError, match="is fewer than the 2 epochs this checkpoint has trained"):
        resume_training(run, overrides=["training.epochs=1"])
    assert "was exported" not in capsys.readouterr().err
    resume_training(run)
    assert f"warning: {run / 'model.onnx'} was exported from the weights before this resume" in capsys.readouterr().err

    result = run_cli("export", run)
    assert result.exit_code == 0, result.output
    kept = run / f"model.weights-{earlier[:8]}.onnx"
    assert f"kept the earlier export of other weights as {kept} and {kept.with_suffix('.json')}" in result.output
    assert kept.read_bytes() == earlier_bytes and first.model_path == run / "model.onnx"
    from nnrun.store.trained import weights_fingerprint
    from nnrun.store.trained import TrainedRun
    now = weights_fingerprint(TrainedRun.load(run).graph)
    assert now != earlier and json.loads((run / "model.json").read_text())["weights_fingerprint"] == now

    result = run_cli("export", run)  # the same export again: nothing to write
    assert result.exit_code == 0 and f"{run / 'model.onnx'}: already exported" in result.output
    (run / "model.json").write_text("{}")  # an export of the same weights, its card not as nnrun wrote it
    result = run_cli("export", run)
    assert result.exit_code == 2 and f"{run / 'model.onnx'}: already exists" in result.output


def test_force_keeps_an_export_of_other_weights_and_a_pair_stays_together(run_cli, trained_runs, tmp_path):
    """--force replaces an export of the same weights; one of other weights is kept aside
    all the same, model and card under one name even when only one of the pair's names
    is taken."""
    target = tmp_path / "m.onnx"
    target.write_bytes(b"an earlier model")
    target.with_suffix(".json").write_text(json.dumps({"weights_fingerprint": "0123456789abcdef"}))
    (tmp_path / "m.weights-01234567.json").write_text("taken")  # only the card's name is taken
    result = run_cli("export", trained_runs["iris"], "-o", target, "--force")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.weights-01234567-2.onnx").read_bytes() == b"an earlier model"
    card = json.loads((tmp_path / "m.weights-01234567-2.json").read_text())
    assert card == {"weights_fingerprint": "0123456789abcdef"}
    assert (tmp_path / "m.weights-01234567.json").read_text() == "taken"


def test_an_export_of_another_run_at_the_path_is_replaced_only_with_force(run_cli, trained_runs, tmp_path):
    """A deployment's model.onnx switched to another run's model, other columns and
    classes and all, with no --force: refused now; with --force, the first is kept aside."""
    target = tmp_path / "m.onnx"
    assert run_cli("export", trained_runs["iris"], "-o", target).exit_code == 0
    first = target.read_bytes()
    result = run_cli("export", trained_runs["fruit"], "-o", target)
    assert result.exit_code == 2 and target.read_bytes() == first
    assert f"{target}: holds the export of another run (" in result.output
    assert "hint: add --force to replace it (it is kept aside, not lost)" in " ".join(result.output.split())
    result = run_cli("export", trained_runs["fruit"], "-o", target, "--force")
    assert result.exit_code == 0 and "kept the earlier export of other weights as" in result.output
    assert [p.read_bytes() for p in tmp_path.glob("m.weights-*.onnx")] == [first]


def test_another_run_of_the_same_name_and_second_is_another_run(run_cli, trained_runs, tmp_path):
    """Runs of one config started in the same second (a seed loop, parallel jobs) share a
    name and a start: the run's folder tells them apart; --force keeps the first aside
    even where the weights are the same."""
    import shutil

    copy = tmp_path / "copy-of-iris"
    shutil.copytree(trained_runs["iris"], copy)  # the same name, start and weights: only the folder differs
    target = tmp_path / "m.onnx"
    assert run_cli("export", trained_runs["iris"], "-o", target).exit_code == 0
    first = target.with_suffix(".json").read_text()
    result = run_cli("export", copy, "-o", target)
    assert result.exit_code == 2 and "holds the export of another run" in result.output
    assert run_cli("export", copy, "-o", target, "--force").exit_code == 0
    kept = list(tmp_path.glob("m.weights-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == first
    assert json.loads(target.with_suffix(".json").read_text())["run"]["folder"] == "copy-of-iris"


def test_predictions_never_replace_an_exported_model_outside_its_run(run_cli, trained_runs, tmp_path):
    """-o model.json --force wrote CSV over a deployment's model card: refused, as in a run."""
    target = tmp_path / "ship" / "m.onnx"
    target.parent.mkdir()
    assert run_cli("export", trained_runs["fruit"], "-o", target).exit_code == 0
    card = target.with_suffix(".json").read_bytes()
    for written in (target.with_suffix(".json"), target):
        result = run_cli("predict", trained_runs["fruit"], CONFIGS / "data" / "fruit_new.csv", "-o", written, "--force")
        assert result.exit_code == 2 and "that nnrun export wrote; nnrun never writes predictions over it" in \
            " ".join(result.output.split())
    assert target.with_suffix(".json").read_bytes() == card


def test_the_readme_text_client_gives_nnruns_predictions(trained_runs):
    """A masked text model (text_lstm: mask_zero, a bidirectional LSTM) exports, and the
    README's tokenizer, run as written, gives nnrun's predictions on raw texts: short and
    long, punctuation, case, an accent typed as a combining mark, unknown words, empty."""
    run = trained_runs["text_lstm"]
    export_run(run)
    namespace = readme_client("text", run)
    texts = namespace["texts"] + ["", "NA", "Brilliant!!! Caf\u0065\u0301 zebra " * 15, "not", "  the WAS it  "]
    ids = np.array([namespace["token_ids"](t) for t in texts], np.float32)
    assert (ids[2] == 0).all() and (ids[3] == 0).all() and (ids[4] != 0).all()  # empty, missing; cut to length
    card = namespace["card"]  # the padding and the ids' range, which nothing else in it says
    assert card["padding"]["value"] == 0 and card["input_values"].startswith("whole numbers from 0 to 999")
    from nnrun.data.text import vectorize

    written = [t for t in texts if t != "NA"]  # the rest as nnrun's vectorizer reads them, from the card's state
    np.testing.assert_array_equal(ids[[i for i, t in enumerate(texts) if t != "NA"]],
                                  vectorize(written, namespace["spec"]))
    onnx_probabilities = namespace["session"].run(None, {"features": ids})[0]
    assert np.abs(namespace["probabilities"] - onnx_probabilities[:2]).max() == 0
    expected = nnrun.load(run).predict({"review": texts}).probabilities
    assert np.abs(onnx_probabilities - expected).max() < TOLERANCE


def test_the_readme_client_reads_rows_as_a_csv_reader_gives_them(tmp_path):
    """customers: numbers with a thousands separator, empty cells, an unseen city, rows
    as csv.DictReader gives them (every cell a text): as nnrun predicts the file."""
    import csv

    run = nnrun.train(CONFIGS / "customers.yaml", overrides=["training.epochs=2"], run_dir=tmp_path / "customers",
                      quiet=True).run_dir
    export_run(run)
    namespace = readme_client("fruit", run, up_to="rows = [")
    new = CONFIGS / "data" / "customers_new.csv"
    with open(new, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert any("," in row["income"] for row in rows) and any(not row["age"] for row in rows)
    features = np.array([namespace["features"](row) for row in rows], np.float32)
    got = namespace["session"].run(None, {"features": features})[0]
    expected = nnrun.load(run).predict(new).probabilities
    assert np.abs(got - expected).max() < TOLERANCE
    column = {"strip_signs": ["$", "%"], "thousands": ".", "decimal": ","}
    assert namespace["as_number"]("-$ 1.234,5", column) == -1234.5 and namespace["as_number"]("12,5 %", column) == 12.5


def test_a_resumed_run_ends_saying_how_to_export_again(run_cli, tmp_path):
    run = tmp_path / "r"
    nnrun.train(CONFIGS / "iris.yaml", overrides=["training.epochs=2"], run_dir=run, quiet=True)
    export_run(run)
    export_run(run, float16=True)
    result = run_cli("train", "--resume", run, "--set", "training.epochs=3")
    assert result.exit_code == 0, result.output
    assert re.search(rf"export: +nnrun export {re.escape(str(run))} and nnrun export {re.escape(str(run))} --float16 "
                     r"\(model.onnx and model-float16.onnx are of the weights before the resume\)", result.output)
    for path in (run / "model.onnx", run / "model-float16.onnx"):  # no export left: nothing to say
        path.unlink()
    result = run_cli("train", "--resume", run, "--set", "training.epochs=4")
    assert result.exit_code == 0 and "export:" not in result.output


def test_the_readme_text_client_reads_the_runs_own_missing_values_as_empty(tmp_path):
    run = nnrun.train(CONFIGS / "text_lstm.yaml", overrides=["training.epochs=1", "data.source.missing_values=[unknown]"],
                      run_dir=tmp_path / "text", quiet=True).run_dir
    export_run(run)
    namespace = readme_client("text", run)
    texts = ["Unknown", "unknown ", "the plot was not bad"]
    ids = np.array([namespace["token_ids"](t) for t in texts], np.float32)
    assert (ids[:2] == 0).all()
    got = namespace["session"].run(None, {"features": ids})[0]
    assert np.abs(got - nnrun.load(run).predict({"review": texts}).probabilities).max() < TOLERANCE


def test_a_sweep_trials_model_card_names_its_sweep_and_trial(tmp_path, monkeypatch):
    # Every trial's config is named as the base config: the card alone could not trace a shipped model back.
    from nnrun.commands.model_card import _trial_of

    (tmp_path / "iris-search" / "trials" / "003").mkdir(parents=True)
    (tmp_path / "iris-search" / "sweep.yaml").write_text("base: iris.yaml\n")
    assert _trial_of(tmp_path / "iris-search" / "trials" / "003") == {"sweep": "iris-search", "trial": "003"}
    assert _trial_of(tmp_path / "runs" / "iris-1") == {}
    monkeypatch.chdir(tmp_path / "iris-search" / "trials" / "003")  # nnrun export . from inside the trial
    assert _trial_of(Path(".")) == {"sweep": "iris-search", "trial": "003"}
