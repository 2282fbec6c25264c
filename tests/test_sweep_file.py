"""The sweep file: validated like a config, its extremes checked against the base
config before any trial, and its plan fixed by the seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sweeps import BASE, SWEEP, write_sweep

from nnrun.commands.sweep.space import planned_trials
from nnrun.config.sweep import load_sweep
from nnrun.errors import UserError


def test_valid_sweep_file_validates(run_cli, tmp_path):
    write_sweep(tmp_path)
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 0, result.output
    assert "valid sweep file" in result.output
    assert "random, 4 trials, val_accuracy (max)" in result.output
    # The base, then each parameter's two extremes alone.
    assert "checked    5 configs" in result.output


def test_schema_mistakes_are_located_with_did_you_mean(run_cli, tmp_path):
    text = SWEEP.replace("type: choice", "type: choise").replace("workers: 2", "workers: 2, worker: 3")
    write_sweep(tmp_path, text)
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "sweep.yaml: 2 problems in the sweep file" in result.output
    assert "sweep.yaml:9:32: parameters.model.layers.0.units.type: unknown type 'choise'; did you mean 'choice'?" \
        in result.output
    assert "executor.worker: unknown key 'worker'; did you mean 'workers'?" in result.output
    assert "Traceback" not in result.output


def test_a_path_the_base_config_lacks_is_found_before_any_trial(run_cli, tmp_path):
    text = SWEEP.replace("optimizer.learning_rate:", "optimizer.learnin_rate:").replace(
        "model.layers.0.units:", "model.layers.5.units:")
    write_sweep(tmp_path, text)
    result = run_cli("sweep", "sweep.yaml")
    assert result.exit_code == 2
    assert ("sweep.yaml:8:3: parameters.optimizer.learnin_rate: 'optimizer.learnin_rate' is not a path of the "
            "base config: optimizer.learnin_rate: unknown key 'learnin_rate'; did you mean 'learning_rate'?") \
        in result.output
    assert "parameters.model.layers.5.units: 'model.layers.5.units' is not a path of the base config: " \
           "'model.layers.5' needs an index from 0 to 1" in result.output
    assert not (tmp_path / "runs").exists()  # nothing ran, nothing was written


def test_an_extreme_that_makes_an_invalid_config_is_named(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("{type: choice, values: [4, 8]}", "{type: int, low: 0, high: 8}"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert ("parameters.model.layers.0.units: with model.layers.0.units = 0 the base config is invalid: "
            "model.layers.0.units: expected a whole number greater than 0, got 0") in result.output


def test_a_range_of_fractions_for_a_whole_number_is_told_once_with_the_fix(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("{type: choice, values: [4, 8]}", "{type: uniform, low: 4, high: 8}"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2 and "1 problem in the sweep file" in result.output
    assert ("parameters.model.layers.0.units: uniform draws numbers with fractions, but model.layers.0.units takes "
            "whole numbers; use type: int") in result.output


def test_an_extreme_that_fails_against_the_data_is_named(run_cli, tmp_path):
    text = SWEEP.replace("model.layers.0.units: {type: choice, values: [4, 8]}",
                         "model.layers.1.units: {type: choice, values: [3, 4]}")
    write_sweep(tmp_path, text)
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "parameters.model.layers.1.units: with model.layers.1.units = 4 the base config fails against its " \
           "data" in result.output
    assert "= 3" not in result.output


def test_a_validation_metric_needs_a_validation_split_in_the_base_and_in_every_trial(run_cli, tmp_path):
    # The trials would train to the end and record nothing to rank them by.
    write_sweep(tmp_path, SWEEP.replace("model.layers.0.units: {type: choice, values: [4, 8]}",
                                        "data.split.validation: [0.0, 0.2]"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2 and "1 problem in the sweep file" in result.output
    assert ("sweep.yaml:9:3: parameters.data.split.validation: with data.split.validation = 0.0 there is no validation "
            "split, so those trials would record no 'val_accuracy' and could not be ranked") in result.output
    write_sweep(tmp_path)
    (tmp_path / "base.yaml").write_text((tmp_path / "base.yaml").read_text().replace("validation: 0.2", "validation: 0"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2 and "1 problem in the sweep file" in result.output
    assert ("sweep.yaml:3:9: metric: the base config holds out no validation split (data.split.validation is 0), so "
            "no trial records 'val_accuracy'") in result.output
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", "metric: accuracy"))
    (tmp_path / "base.yaml").write_text((tmp_path / "base.yaml").read_text().replace("validation: 0.2", "validation: 0"))
    assert run_cli("validate", "sweep.yaml").exit_code == 0


def test_the_metric_must_be_a_column_of_metrics_csv(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", "metric: val_acuracy"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "sweep.yaml:3:9: metric: 'val_acuracy' is not a column of the trials' metrics.csv; did you mean " \
           "'val_accuracy'?" in result.output
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", "metric: lr"))  # a column, but of no score
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "metric: 'lr' is a column of metrics.csv that says how a trial trained, not how well; rank by a loss or " \
           "metric: loss, accuracy, val_loss, val_accuracy" in " ".join(result.output.split())
    # A metric nnrun has that the base does not compute: told to add it, not a near name to rank by.
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", "metric: val_auc"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert ("metric: 'val_auc' is not a column of the trials' metrics.csv: the base config does not compute auc; add "
            "it to its metrics (metrics: [accuracy, auc])") in " ".join(result.output.split())
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", "metric: val_mae"))  # a regression's, on a classifier
    assert ("metric: 'val_mae' is not a column of the trials' metrics.csv: mae is for regression, and the base config "
            "is a classification; rank by one of loss, accuracy, val_loss, val_accuracy") in \
        " ".join(run_cli("validate", "sweep.yaml").output.split())


def test_a_keras_metric_name_gets_the_nnrun_name(run_cli, tmp_path):
    # val_acc was taken for a misspelling of the nearest column: "did you mean 'val_auc'?"
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", "metric: val_acc"))
    (tmp_path / "base.yaml").write_text((tmp_path / "base.yaml").read_text().replace("metrics: [accuracy]",
                                                                                     "metrics: [accuracy, auc]"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "'val_acc' is not a column of the trials' metrics.csv; did you mean 'val_accuracy'? (Keras's 'acc' is " \
           "'accuracy' in nnrun)" in " ".join(result.output.split())


def test_a_loss_cannot_rank_trials_that_scale_the_target_differently(run_cli, tmp_path):
    regression = BASE.replace("{type: builtin, name: iris}", "{type: builtin, name: diabetes}").replace(
        ", stratify: true", "").replace("units: 3, activation: softmax", "units: 1").replace(
        "loss: categorical_crossentropy", "loss: mse").replace("metrics: [accuracy]", "metrics: [mae, r2]")
    sweep = SWEEP.replace("metric: val_accuracy", "metric: val_loss") + \
        "  data.target_scale: {type: choice, values: [none, standardize]}\n"
    write_sweep(tmp_path, sweep.replace("executor: {type: local, workers: 2}\n", "") +
                "executor: {type: local, workers: 2}\n")
    (tmp_path / "base.yaml").write_text(regression.replace("EPOCHS", "2"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert ("metric: 'val_loss' is in other units in trials of another data.target_scale (none, standardize), so it "
            "cannot rank them; use val_mae") in " ".join(result.output.split())
    # One scale in every trial is one unit: a constant log1p ranks by the loss as well as any other setting.
    (tmp_path / "sweep.yaml").write_text((tmp_path / "sweep.yaml").read_text().replace(
        "{type: choice, values: [none, standardize]}", "[log1p]"))
    result = run_cli("validate", "sweep.yaml")
    assert "cannot rank them" not in result.output, result.output


def test_grid_search_needs_values_for_every_parameter(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("search: random\nsamples: 4\n", "search: grid\n"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "search: grid needs a list of values for every parameter; optimizer.learning_rate is a range" \
        in result.output


def test_tpe_refuses_grid_parameters_and_grid_refuses_samples(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("search: random", "search: tpe").replace("type: choice", "type: grid"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "search: tpe chooses every value itself; model.layers.0.units is a grid" in result.output
    grid = SWEEP.replace("search: random", "search: grid").replace(
        "{type: loguniform, low: 1.0e-3, high: 1.0e-1}", "{type: grid, values: [0.01, 0.1]}")
    write_sweep(tmp_path, grid)
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "samples: a grid search runs every combination once; remove samples" in result.output


NEW_USERS_SWEEP = """\
base: ../my/animals.yaml
name: ani
metric: val_acuracy
search: grdi
parameters:
  optimizer.learnin_rate: {type: loguniform, low: 1.0e-4, high: 1.0e-1}
  model.layers.0.units: {type: int, low: 0, high: 64}
  training.batch_size: {type: choice, values: []}
executor: {type: local, workers: 0}
"""


def test_every_mistake_of_a_sweep_file_is_reported_at_once(run_cli, tmp_path):
    (tmp_path / "my").mkdir()
    (tmp_path / "my" / "animals.yaml").write_text(BASE.replace("EPOCHS", "2"))
    (tmp_path / "sw").mkdir()
    (tmp_path / "sw" / "sw1.yaml").write_text(NEW_USERS_SWEEP)
    result = run_cli("sweep", "sw/sw1.yaml")
    assert result.exit_code == 2
    assert "sw/sw1.yaml: 7 problems in the sweep file" in result.output
    for problem in [
        "sw1.yaml:3:9: metric: 'val_acuracy' is not a column of the trials' metrics.csv; did you mean "
        "'val_accuracy'?",
        "sw1.yaml:4:9: search: expected one of grid, random, tpe, got 'grdi'; did you mean 'grid'?",
        # What the meant search asks, at once rather than after the fix; placed at search:, in plural.
        "sw1.yaml:4:9: search: if you meant grid, it needs a list of values for every parameter; "
        "optimizer.learnin_rate and model.layers.0.units are ranges: make them {type: grid, values: [...]}, "
        "or use search: random",
        "sw1.yaml:6:3: parameters.optimizer.learnin_rate: 'optimizer.learnin_rate' is not a path of the base "
        "config: optimizer.learnin_rate: unknown key 'learnin_rate'; did you mean 'learning_rate'?",
        "sw1.yaml:7:3: parameters.model.layers.0.units: with model.layers.0.units = 0 the base config is "
        "invalid: model.layers.0.units: expected a whole number greater than 0, got 0",
        "sw1.yaml:8:47: parameters.training.batch_size.values: expected at least 1 item(s), got an empty list",
        "sw1.yaml:9:34: executor.workers: expected a whole number of at least 1, got 0",
    ]:
        assert problem in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


def test_a_sweep_files_mistakes_come_with_its_base_configs(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("workers: 2", "workers: 0"))
    base = tmp_path / "base.yaml"
    base.write_text(base.read_text().replace("units: 8", "units: -8"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "sweep.yaml: 1 problem in the sweep file" in result.output
    assert "sweep.yaml:10:34: executor.workers: expected a whole number of at least 1, got 0" in result.output
    # The base's own mistakes, located in the base file; the parameters wait for a valid base.
    assert "base.yaml: 1 problem in the config" in result.output
    assert "base.yaml:9:28: model.layers.0.units: expected a whole number greater than 0, got -8" in result.output
    assert "parameters." not in result.output
    # The metric is looked up in the metrics the base lists as written, even while it is invalid.
    (tmp_path / "sweep.yaml").write_text(SWEEP.replace("metric: val_accuracy", "metric: val_acc"))
    result = run_cli("validate", "sweep.yaml")
    assert "metric: 'val_acc' is not a column of the trials' metrics.csv; did you mean 'val_accuracy'?" in result.output
    # Unless the base's metrics are what is wrong: then no guess from them.
    base.write_text(base.read_text().replace("metrics: [accuracy]", "metrics: [acc]"))
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    result = run_cli("validate", "sweep.yaml")
    assert "(Keras's 'acc' is 'accuracy' in nnrun)" in result.output and "metric:" not in result.output
    assert "base.yaml:9:28: model.layers.0.units: expected a whole number greater than 0, got -8" in result.output


def test_a_search_that_asks_what_several_parameters_lack_names_them_in_plural(run_cli, tmp_path):
    text = SWEEP.replace("search: random\nsamples: 4\n", "search: tpe\n").replace(
        "{type: loguniform, low: 1.0e-3, high: 1.0e-1}", "{type: grid, values: [0.01, 0.1]}").replace(
        "type: choice", "type: grid")
    write_sweep(tmp_path, text)
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert ("sweep.yaml:4:9: search: tpe chooses every value itself; optimizer.learning_rate and "
            "model.layers.0.units are grids: make them {type: choice, values: [...]}") in result.output


@pytest.mark.parametrize("command, given, answer", [
    ("sweep", "base.yaml", "error: base.yaml is a training config (it has no base: or parameters:), not a sweep "
                           "file; train it with: nnrun train base.yaml"),
    ("train", "sweep.yaml", "error: sweep.yaml is a sweep file (it has base: and parameters:), not a training "
                            "config; run it with: nnrun sweep sweep.yaml"),
])
def test_the_other_kind_of_file_names_the_command_for_it(run_cli, tmp_path, command, given, answer):
    write_sweep(tmp_path)
    result = run_cli(command, given)
    assert result.exit_code == 2
    assert result.output.strip() == answer
    assert not (tmp_path / "runs").exists()


def test_a_misspelt_parameters_key_is_told_as_a_sweep_files_mistake(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("parameters:", "paramters:"))
    for command in ("validate", "sweep"):
        result = run_cli(command, "sweep.yaml")
        assert result.exit_code == 2
        assert "sweep.yaml:7:1: paramters: unknown key 'paramters'; did you mean 'parameters'?" in result.output
        assert "data: required key is missing" not in result.output
    told = run_cli("train", "sweep.yaml")
    assert told.exit_code == 2 and "sweep.yaml is a sweep file (it has base: and no data: or model:)" in told.output


def test_plan_is_fixed_by_the_seed_and_each_trial_by_its_index(tmp_path):
    path = write_sweep(tmp_path)
    sweep = load_sweep(path).sweep
    first = planned_trials(sweep)
    assert first == planned_trials(load_sweep(path).sweep)
    assert len(first) == 4 and all(1e-3 <= t["optimizer.learning_rate"] <= 1e-1 for t in first)
    more = planned_trials(sweep.model_copy(update={"samples": 6}))
    assert more[:4] == first  # trial i does not depend on how many are drawn
    other = planned_trials(sweep.model_copy(update={"seed": 4}))
    assert other != first


def test_grid_search_is_the_product_last_parameter_fastest(tmp_path):
    text = SWEEP.replace("search: random\nsamples: 4\n", "search: grid\n").replace(
        "{type: loguniform, low: 1.0e-3, high: 1.0e-1}", "{type: grid, values: [0.01, 0.1]}")
    sweep = load_sweep(write_sweep(tmp_path, text)).sweep
    plan = planned_trials(sweep)
    assert sweep.trial_count == 4
    assert [(t["optimizer.learning_rate"], t["model.layers.0.units"]) for t in plan] == [
        (0.01, 4), (0.01, 8), (0.1, 4), (0.1, 8)]


def test_random_search_crosses_grid_parameters_with_the_samples(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, SWEEP.replace("type: choice", "type: grid"))).sweep
    plan = planned_trials(sweep)
    assert sweep.trial_count == len(plan) == 8
    assert [t["model.layers.0.units"] for t in plan] == [4, 8] * 4


def test_a_random_search_that_draws_the_same_values_twice_is_warned_of(run_cli, tmp_path):
    # Two listed values for each of two keys, drawn 6 times: every trial trains with the
    # base's seed, so a repeat is the same model trained again.
    text = SWEEP.replace("samples: 4", "samples: 6").replace(
        "{type: loguniform, low: 1.0e-3, high: 1.0e-1}", "{type: choice, values: [0.01, 0.1]}")
    write_sweep(tmp_path, text)
    plan = planned_trials(load_sweep(tmp_path / "sweep.yaml").sweep)
    repeats = [i for i, t in enumerate(plan) if t in plan[:i]]
    assert repeats  # drawn with the sweep's seed 3, as the warning must say
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 0, result.output
    ids = ", ".join(f"{i:03d}" for i in repeats)
    assert (f"warning: {len(repeats)} of the 6 random trials draw values an earlier trial drew (trials {ids}); every "
            "trial trains with the base config's seed, so each repeat trains the same model again; search: grid "
            "runs each of the 4 combinations once") in " ".join(result.output.split())
    write_sweep(tmp_path)  # a range: no two trials alike
    assert "warning" not in run_cli("validate", "sweep.yaml").output
    # A wide int range repeats a draw now and then, by chance: no warning for that.
    wide = SWEEP.replace("samples: 4", "samples: 30").replace(
        "optimizer.learning_rate: {type: loguniform, low: 1.0e-3, high: 1.0e-1}",
        "training.epochs: {type: int, low: 1, high: 40}")
    write_sweep(tmp_path, wide)
    plan = planned_trials(load_sweep(tmp_path / "sweep.yaml").sweep)
    assert any(t in plan[:i] for i, t in enumerate(plan))  # it does repeat one
    assert "warning" not in run_cli("validate", "sweep.yaml").output


def test_more_workers_than_cpus_is_warned_of(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr("nnrun.engine.threads.usable_cores", lambda: 2)
    write_sweep(tmp_path, SWEEP.replace("workers: 2", "workers: 8"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 0, result.output
    assert ("warning: executor.workers: 4 trials at once on 2 CPUs: they take turns on the cores, so each trial "
            "takes about 2 times as long and the sweep ends no sooner") in " ".join(result.output.split())
    write_sweep(tmp_path, SWEEP.replace("workers: 2", "workers: 8").replace("samples: 4", "samples: 2"))
    assert "warning" not in run_cli("validate", "sweep.yaml").output  # two trials: never more than two at once
    write_sweep(tmp_path)
    assert "warning" not in run_cli("validate", "sweep.yaml").output
    from nnrun.commands.sweep.local import crowded_workers
    from nnrun.config.sweep import LocalExecutor

    # Given with --workers, the warning names the option, not the file's key.
    assert crowded_workers(LocalExecutor(workers=8), 4, given=8).startswith(
        "--workers: 4 trials at once on 2 CPUs")
    assert crowded_workers(LocalExecutor(workers=8), 4, given=8).endswith(
        "give --workers 2 or leave it out to run one trial per CPU")


@pytest.mark.parametrize("workers", ["0", "2000", "two"])
def test_a_workers_option_out_of_bounds_is_one_clear_error(run_cli, tmp_path, workers):
    write_sweep(tmp_path)
    result = run_cli("sweep", "sweep.yaml", "--workers", workers)
    assert result.exit_code == 2, result.output
    if workers != "two":  # typer's own: not a whole number
        assert f"--workers: expected a whole number from 1 to 1024, got {workers}" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "runs").exists()


def test_trials_scored_on_different_validation_rows_or_on_their_training_rows_are_warned_of(run_cli, tmp_path):
    moving = SWEEP.replace("model.layers.0.units: {type: choice, values: [4, 8]}",
                           "data.split.validation: [0.05, 0.3]\n  seed: [1, 2]")
    write_sweep(tmp_path, moving)
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 0, result.output
    assert ("warning: data.split.validation, seed change which rows the validation split holds, so the trials' "
            "val_accuracy is measured on different rows") in " ".join(result.output.split())
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", "metric: accuracy"))
    result = run_cli("validate", "sweep.yaml")
    assert ("warning: metric: accuracy is measured on the training split, which the trial that memorises its rows "
            "wins; rank by val_accuracy") in " ".join(result.output.split())
    write_sweep(tmp_path, SWEEP.replace("model.layers.0.units: {type: choice, values: [4, 8]}", "seed: 3"))
    assert "warning" not in run_cli("validate", "sweep.yaml").output  # one seed for every trial: the same rows
    # Ranked by the loss, trials weighing the classes otherwise do not compare: the lower weight wins.
    weighed = SWEEP.replace("metric: val_accuracy", "metric: val_loss").replace(
        "model.layers.0.units: {type: choice, values: [4, 8]}", "loss.class_weights.setosa: [1, 5]")
    write_sweep(tmp_path, weighed)
    assert ("warning: loss.class_weights.setosa changes what the loss measures (its kind, its class weights or the "
            "target's scale), so the trials' val_loss values do not compare") in \
        " ".join(run_cli("validate", "sweep.yaml").output.split())
    # A sparse_ cross-entropy is its dense form (one scale, as nnrun compare reads it): no warning.
    write_sweep(tmp_path, weighed.replace("loss.class_weights.setosa: [1, 5]",
                                          "loss: [categorical_crossentropy, sparse_categorical_crossentropy]"))
    assert "loss measures" not in run_cli("validate", "sweep.yaml").output
    # Numbered classes' weights as a listed mapping: told that a swept value is no mapping (each key by its path),
    # not that YAML keys must be words.
    write_sweep(tmp_path, weighed.replace("loss.class_weights.setosa: [1, 5]", "loss.class_weights: [{2: 8}]"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2 and "is a mapping; a swept value is a number" in result.output, result.output


def test_settings_that_only_encode_each_row_are_no_moving_validation_split():
    from nnrun.commands.sweep.advice import _moving_yardstick
    from nnrun.config.sweep import SweepConfig

    def warned(parameters: dict) -> str | None:
        return _moving_yardstick(SweepConfig.model_validate({"base": "b.yaml", "metric": "val_accuracy",
                                                             "parameters": parameters}))

    assert warned({"data.source.text.length": [10, 30], "data.source.text.max_tokens": [100, 200],
                   "data.source.missing": ["mean", "most_frequent"], "data.source.unknown": ["error", "ignore"]}) is None
    assert warned({"data.source.missing_target": ["error", "drop"]}).startswith("data.source.missing_target change")
    assert warned({"data.source.path": ["a.csv", "b.csv"]}) is not None


def test_a_small_grid_is_checked_whole_so_two_values_that_cannot_go_together_are_found_first(run_cli, tmp_path):
    # Each kernel size fits alone; a 5x5 kernel then a 3x3 one does not fit an 8x8 image.
    (tmp_path / "cnn.yaml").write_text(
        "name: cnn\ndata:\n  source: {type: builtin, name: digits}\n  split: {validation: 0.2, test: 0.2}\n"
        "model:\n  layers:\n    - {type: reshape, target_shape: [8, 8, 1]}\n"
        "    - {type: conv2d, filters: 2, kernel_size: 3}\n    - {type: max_pool2d, pool_size: 2}\n"
        "    - {type: conv2d, filters: 2, kernel_size: 2}\n    - {type: flatten}\n"
        "    - {type: dense, units: 10, activation: softmax}\n"
        "loss: categorical_crossentropy\nmetrics: [accuracy]\ntraining: {epochs: 1}\n")
    (tmp_path / "grid.yaml").write_text(
        "base: cnn.yaml\nmetric: val_accuracy\nsearch: grid\nparameters:\n"
        "  model.layers.1.kernel_size: [3, 5]\n  model.layers.3.kernel_size: [2, 3]\n")
    result = run_cli("validate", "grid.yaml")
    assert result.exit_code == 2
    assert ("grid.yaml:5:3: parameters.model.layers.1.kernel_size: with model.layers.1.kernel_size = 5 and "
            "model.layers.3.kernel_size = 3 together the base config is invalid: model.layers.3: ") in result.output
    assert "1 problem in the sweep file" in result.output  # 3 and 3, 5 and 2 fit
    assert not (tmp_path / "runs").exists()
    (tmp_path / "grid.yaml").write_text((tmp_path / "grid.yaml").read_text().replace("[2, 3]", "[1, 2]"))
    assert run_cli("validate", "grid.yaml").exit_code == 0


def test_sweep_schema_is_json_schema_that_accepts_the_example(run_cli, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    result = run_cli("schema", "--sweep")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(SWEEP), schema)
    with_lists = SWEEP.replace("parameters:\n", "parameters:\n  data.preprocess: [[], [standardize]]\n"
                               "  model.layers.0.inputs: {type: grid, values: [[input]]}\n")
    jsonschema.validate(yaml.safe_load(with_lists), schema)  # a list among the values is set whole
    assert "optimizer.learning_rate" not in result.output  # parameters are open: any dotted path
    assert {"base", "parameters"} <= set(schema["required"])


def test_missing_optuna_is_a_clear_error_before_anything_is_written(run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "optuna", None)  # as if not installed
    write_sweep(tmp_path, SWEEP.replace("search: random", "search: tpe"))
    result = run_cli("sweep", "sweep.yaml")
    assert result.exit_code == 2
    assert "this sweep needs Optuna (search: tpe, or a scheduler), which is not installed" in result.output
    assert "pip install 'nnrun[sweep]'" in result.output
    assert not (tmp_path / "runs").exists()


def test_missing_ray_is_a_clear_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    write_sweep(tmp_path, SWEEP.replace("{type: local, workers: 2}", "{type: ray}"))
    result = run_cli("sweep", "sweep.yaml")
    assert result.exit_code == 2
    assert "executor: ray needs Ray Tune" in result.output and "pip install 'nnrun[ray]'" in result.output


def test_short_forms_a_list_is_a_choice_and_a_bare_type_name(tmp_path):
    text = SWEEP.replace("{type: choice, values: [4, 8]}", "[4, 8]").replace("{type: local, workers: 2}", "ray")
    sweep = load_sweep(write_sweep(tmp_path, text + "scheduler: asha\n")).sweep
    assert sweep.parameters["model.layers.0.units"].type == "choice"
    assert sweep.parameters["model.layers.0.units"].values == [4, 8]
    assert sweep.executor.type == "ray" and sweep.scheduler.type == "asha" and sweep.scheduler.grace_epochs == 1


def test_a_number_or_boolean_is_a_constant_every_trial_sets(tmp_path):
    text = SWEEP.replace("parameters:\n", "parameters:\n  training.epochs: 3\n  training.shuffle: false\n")
    sweep = load_sweep(write_sweep(tmp_path, text)).sweep
    assert sweep.parameters["training.epochs"].values == [3] and sweep.parameters["training.shuffle"].values == [False]
    # A word is still a type name: a misspelt one is an error, never a constant.
    with pytest.raises(UserError, match="parameters.model.layers.0.units"):
        load_sweep(write_sweep(tmp_path, SWEEP.replace("{type: choice, values: [4, 8]}", "choise")))


def test_null_is_a_constant_and_a_mapping_is_set_path_by_path(run_cli, tmp_path):
    text = SWEEP.replace("parameters:\n", "parameters:\n  training.early_stopping: null\n"
                                          "  training.checkpoint: {every_epochs: 1}\n")
    write_sweep(tmp_path, text)
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert "parameters.training.checkpoint: a mapping without a type is no parameter; set each value inside it by " \
           "its own path: this path followed by '.every_epochs', given 1" in " ".join(result.output.split())
    assert "training.early_stopping" not in result.output  # null: a constant every trial sets
    write_sweep(tmp_path, text.replace("training.checkpoint: {every_epochs: 1}", "training.checkpoint.every_epochs: 1"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 0, result.output
    assert "constant   training.early_stopping: null" in result.output
    assert "constant   training.checkpoint.every_epochs: 1" in result.output


def test_a_missing_init_weights_file_in_the_parameters_is_found_before_any_trial(run_cli, tmp_path):
    text = SWEEP.replace("parameters:\n", "parameters:\n  model.init_weights: [pre/model.safetensors]\n")
    write_sweep(tmp_path, text)
    for command in ("validate", "sweep"):
        result = run_cli(command, "sweep.yaml")
        assert result.exit_code == 2, result.output
        assert ('parameters.model.init_weights: with model.init_weights = "pre/model.safetensors" the base config '
                f"cannot load its initial weights: model.init_weights: {tmp_path / 'pre' / 'model.safetensors'}: "
                "missing") in result.output
    assert not (tmp_path / "runs").exists()  # nothing ran, nothing was written


@pytest.mark.parametrize("written, message", [
    ("[4, 4]", "4 is listed twice in values; list each value once"),
    ("{type: grid, values: [4, 8, 4]}", "4 is listed twice in values; list each value once"),
    ("[[4, 8], [4, 8]]", "[4, 8] is listed twice in values; list each value once"),
    ('[[4, 8], "[4, 8]"]', "[4, 8] and \"[4, 8]\" are one value (a list and the text that writes it); list it once"),
])
def test_a_value_listed_twice_is_refused(run_cli, tmp_path, written, message):
    write_sweep(tmp_path, SWEEP.replace("{type: choice, values: [4, 8]}", written))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert f"sweep.yaml:9:3: parameters.model.layers.0.units: {message}" in result.output


def test_a_mapping_among_the_values_is_told_once_to_be_swept_key_by_key(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("parameters:\n", "parameters:\n  optimizer: {type: grid, values: "
                                        "[{type: sgd, learning_rate: 100}]}\n"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert ('parameters.optimizer.values: {"type": "sgd", "learning_rate": 100} is a mapping; a swept value is a '
            "number, a word, true, false, null or a list: sweep each key inside it by its own path, this parameter's "
            "then .type, .learning_rate (as optimizer.learning_rate: [...] sweeps a key of optimizer)") in out
    assert "expected true or false" not in out and out.count("is a mapping") == 1
    write_sweep(tmp_path, SWEEP.replace("parameters:\n", "parameters:\n  loss.class_weights: [null, {no: 1, yes: 2}]\n"))
    out = " ".join(run_cli("validate", "sweep.yaml").output.split())  # its own keys named, not optimizer's
    assert "sweep each key inside it by its own path, this parameter's then .no, .yes" in out


def test_a_text_constant_is_told_to_be_a_one_value_list(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("parameters:\n", "parameters:\n  model.init_weights: pre/model.safetensors\n"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert ('sweep.yaml:8:3: parameters.model.init_weights: "pre/model.safetensors" is no parameter type, and a '
            "constant must be a number, true/false or null; write a text value as a one-value list: "
            "[pre/model.safetensors]") in result.output
    assert "expected one of" not in result.output


def test_the_live_table_shows_statuses_as_words_and_running_trials_count_their_time(monkeypatch):
    """The live table is also drawn by the plain lines printed with markup off, so no
    cell may be markup; a running trial's time goes on from its start."""
    import io
    import time

    from rich.console import Console

    from nnrun.commands.sweep.trials import Trial
    from nnrun.console.sweep_view import trials_table

    started = time.perf_counter() - 75
    trials = [Trial("000", {"units": 8}, status="completed", best=0.9, best_epoch=3, epochs=5, seconds=2.0),
              Trial("001", {"units": "[b]"}, status="running", latest=0.5, epochs=2, seconds=10.0, started_at=started)]
    screen = io.StringIO()
    console = Console(file=screen, width=100, force_terminal=True)
    console.print(trials_table(trials, ["units"], "val_accuracy", True, "trials: [1 of 2]"), markup=False)
    shown = screen.getvalue()
    assert "[green]" not in shown and "[cyan]" not in shown and "[/]" not in shown
    assert "\x1b[32mcompleted" in shown and "\x1b[36mrunning" in shown  # coloured, as words
    assert "[b]" in shown and "trials: [1 of 2]" in shown  # values and the title as they are
    assert "1m25s" in shown, shown  # 10 s before this start, 75 s since


def test_the_leaderboard_titles_a_parameter_by_its_last_word_and_a_number_by_the_key_it_sits_under():
    from nnrun.console.sweep_view import headers

    assert headers(["optimizer.learning_rate", "loss.class_weights.2", "model.layers.0"]) == \
        ["learning_rate", "class_weights.2", "layers.0"]
    # Two of the same last word keep their whole paths, as before.
    assert headers(["model.layers.0.units", "model.layers.1.units"]) == ["model.layers.0.units", "model.layers.1.units"]


def test_the_leaderboard_ranks_the_completed_trials_first_as_the_sweeps_best_is_one_of_them():
    """A pruned trial cut where its curve was low is not ranked above the best completed
    one, which the sweep's best: line and best.yaml name."""
    import io

    from rich.console import Console

    from nnrun.commands.sweep.trials import Trial
    from nnrun.console.sweep_view import trials_table

    trials = [Trial("000", {}, status="completed", best=0.30, best_epoch=9, epochs=10),
              Trial("001", {}, status="pruned", best=0.10, best_epoch=2, epochs=2),
              Trial("002", {}, status="completed", best=0.20, best_epoch=8, epochs=10)]
    screen = io.StringIO()
    Console(file=screen, width=100).print(trials_table(trials, [], "val_loss", False, "leaderboard"))
    order = [line.split()[1] for line in screen.getvalue().splitlines() if line.split()[1:2] in (["000"], ["001"],
                                                                                                  ["002"])]
    assert order == ["002", "000", "001"]


def test_a_leaderboard_of_its_best_ten_says_how_many_more_there_are():
    import io

    from rich.console import Console

    from nnrun.commands.sweep.trials import Trial
    from nnrun.console.sweep_view import LEADERBOARD, trials_table

    trials = [Trial(f"{i:03d}", {}, status="completed", best=i / 100, best_epoch=1, epochs=1) for i in range(12)]
    screen = io.StringIO()
    Console(file=screen, width=100).print(trials_table(trials, [], "val_loss", False, "leaderboard", LEADERBOARD))
    ids = {trial.id for trial in trials}
    shown = [line.split()[1] for line in screen.getvalue().splitlines() if line.split()[1:2] and
             line.split()[1] in ids]
    assert shown == [f"{i:03d}" for i in range(10)]
    assert "and 2 more (trials.csv lists every trial)" in screen.getvalue()
    screen = io.StringIO()
    Console(file=screen, width=100).print(trials_table(trials[:10], [], "val_loss", False, "leaderboard", LEADERBOARD))
    assert "more" not in screen.getvalue()


def test_a_trials_end_says_its_epochs_and_its_best_value_and_epoch():
    from nnrun.commands.sweep.trials import Trial
    from nnrun.console.sweep_view import finished_line

    pruned = Trial("006", {}, status="pruned", best=0.78, best_epoch=4, epochs=5, seconds=0.2,
                   message="pruned by the scheduler after epoch 5")
    assert finished_line(pruned, "val_loss") == ("trial 006 pruned, 5 epochs: best val_loss 0.7800 at epoch 4, in <1s; "
                                                 "pruned by the scheduler after epoch 5")
    failed = Trial("007", {}, status="failed", epochs=0, seconds=3.0, message="NaN loss")
    assert finished_line(failed, "val_loss") == "trial 007 failed, in 3s; NaN loss"


def test_a_scheduler_whose_grace_outlasts_every_trial_is_refused(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP + "scheduler: {type: asha, grace_epochs: 6}\n", epochs=6)
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert ("sweep.yaml:11:39: scheduler.grace_epochs: 6 grace epochs, but the longest trial trains 6: the asha "
            "scheduler could stop no trial; give fewer grace epochs than 6, or no scheduler") in \
        " ".join(result.output.split())
    # A parameter that lengthens the trials counts: the longest is what the scheduler may cut.
    longer = SWEEP.replace("parameters:\n", "parameters:\n  training.epochs: [6, 12]\n")
    write_sweep(tmp_path, longer + "scheduler: {type: median, grace_epochs: 6}\n", epochs=6)
    assert run_cli("validate", "sweep.yaml").exit_code == 0


def test_a_value_that_leaves_another_key_over_is_told_as_the_values_problem(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("model.layers.0.units: {type: choice, values: [4, 8]}",
                                        "model.layers.0.type: [dense, conv1d]"))
    result = run_cli("validate", "sweep.yaml")
    out = " ".join(result.output.split())
    assert result.exit_code == 2
    assert ("parameters.model.layers.0.type: with model.layers.0.type = \"conv1d\" the base config is invalid: "
            "model.layers.0.filters: required key is missing") in out
    assert "is not a path of the base config" not in out


def test_a_sweep_under_an_mpi_launcher_is_refused(run_cli, tmp_path, monkeypatch):
    write_sweep(tmp_path)
    monkeypatch.setenv("PMI_SIZE", "2")
    result = run_cli("sweep", "sweep.yaml")
    assert result.exit_code == 2
    assert "nnrun sweep: started by an MPI launcher with 2 processes, each of which would run the whole sweep" in \
        " ".join(result.output.split())
    assert not (tmp_path / "runs").exists()


def test_validate_tells_an_extra_the_sweep_needs_and_this_machine_lacks(run_cli, tmp_path, monkeypatch):
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("optuna", "ray") else
                        found(name, *a))
    write_sweep(tmp_path, SWEEP.replace("search: random", "search: tpe").replace(
        "{type: local, workers: 2}", "{type: ray}"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 0, result.output  # the file is valid: it may run on a machine that has them
    said = " ".join(result.output.split())
    assert ("warning: this sweep needs Optuna (search: tpe, or a scheduler), which is not installed here: pip install "
            "'nnrun[sweep]'; this sweep needs Ray Tune (executor: ray), which is not installed here: pip install "
            "'nnrun[ray]'") in said
    # Both installed (as the machine running them may have): nothing to say.
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name in ("optuna", "ray") else
                        found(name, *a))
    assert "not installed" not in run_cli("validate", "sweep.yaml").output


def test_the_longest_trial_is_the_largest_epoch_count_swept_in_any_order():
    """Ray's ASHA and the grace check both measure by it; a list need not be sorted."""
    from nnrun.config.sweep_checks import longest_epochs
    from nnrun.config.sweep_space import Choice, IntRange

    assert longest_epochs({"training.epochs": Choice(values=[50, 10])}, 5) == 50
    assert longest_epochs({"training.epochs": IntRange(low=3, high=30)}, 5) == 30
    assert longest_epochs({"optimizer.learning_rate": Choice(values=[0.1, 0.01])}, 5) == 5


def test_resuming_a_folder_that_is_not_there_or_not_a_sweep_says_which(run_cli, tmp_path):
    result = run_cli("sweep", "--resume", tmp_path / "nope")
    assert result.exit_code == 2 and f"{tmp_path / 'nope'}: no such directory" in result.output
    (tmp_path / "other").mkdir()
    result = run_cli("sweep", "--resume", tmp_path / "other")
    assert result.exit_code == 2 and "other: not a sweep directory (no sweep.yaml and trials.csv)" in result.output


def test_parameters_that_set_the_same_value_are_refused(run_cli, tmp_path):
    # Once, each trial trained with whichever was applied last, while trials.csv recorded both.
    text = SWEEP.replace("  model.layers.0.units: {type: choice, values: [4, 8]}\n",
                         "  training.early_stopping.patience: [2, 5]\n  training.early_stopping: null\n"
                         "  model.layers.-2.units: [4, 8]\n  model.layers.0.units: [16]\n")
    write_sweep(tmp_path, text)
    result = run_cli("validate", "sweep.yaml")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "2 problems in the sweep file" in said
    assert ("sweep.yaml:10:3: parameters.training.early_stopping: 'training.early_stopping' and "
            "'training.early_stopping.patience' set the same value or a part of it: each trial would train with one "
            "of them while trials.csv recorded both; sweep one of the two") in said
    assert "'model.layers.0.units' and 'model.layers.-2.units' set the same value:" in said
    # A block's type, then an option of it: both hold in every trial.
    write_sweep(tmp_path, SWEEP.replace("  model.layers.0.units: {type: choice, values: [4, 8]}\n",
                                        "  model.layers.0.activation: [relu, tanh]\n").replace(
        "  optimizer.learning_rate:", "  optimizer: [adam, rmsprop]\n  optimizer.learning_rate:"))
    assert run_cli("validate", "sweep.yaml").exit_code == 0
    reversed_order = SWEEP.replace("  model.layers.0.units: {type: choice, values: [4, 8]}\n",
                                   "  optimizer: [adam, rmsprop]\n")
    write_sweep(tmp_path, reversed_order)  # the type after its option would replace it
    assert "list the type first" in " ".join(run_cli("validate", "sweep.yaml").output.split())


def test_an_index_from_the_end_is_a_parameter_path_as_set_takes_it(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("model.layers.0.units:", "model.layers.-2.units:"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 0, result.output
    assert [t["model.layers.-2.units"] for t in planned_trials(load_sweep(tmp_path / "sweep.yaml").sweep)]
    # A resume that finds the base edited at that key names it as the differences do.
    from nnrun.commands.sweep.directory import _counted_from_the_start

    base = {"model": {"layers": [{"units": 8}, {"units": 3}]}}
    assert _counted_from_the_start("model.layers.-2.units", base) == "model.layers.0.units"
    assert _counted_from_the_start("model.layers.-5.units", base) == "model.layers.-5.units"  # none such: as written


@pytest.mark.parametrize("metric, mode, own", [("val_loss", "max", "min"), ("val_accuracy", "min", "max")])
def test_a_mode_that_ranks_the_metric_the_wrong_way_up_is_refused(run_cli, tmp_path, metric, mode, own):
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", f"metric: {metric}\nmode: {mode}"))
    result = run_cli("validate", "sweep.yaml")
    said = " ".join(result.output.split())
    assert result.exit_code == 2
    assert f"mode: {mode} ranks the trial of the" in said and f"leave mode out (nnrun takes {own} for it)" in said
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", f"metric: {metric}\nmode: {own}"))
    assert run_cli("validate", "sweep.yaml").exit_code == 0


@pytest.mark.parametrize("written, meant", [("maximize", "max"), ("Minimum", "min")])
def test_a_mode_written_as_a_longer_word_gets_the_short_one(run_cli, tmp_path, written, meant):
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", f"metric: val_accuracy\nmode: {written}"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert f"mode: expected one of max, min, got '{written}'; did you mean '{meant}'?" in result.output


def test_a_test_metric_is_pointed_at_the_validation_one(run_cli, tmp_path):
    write_sweep(tmp_path, SWEEP.replace("metric: val_accuracy", "metric: test_accuracy"))
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 2
    assert ("'test_accuracy' is not a column of the trials' metrics.csv: the test split is scored once, at the end, "
            "and is kept out of choosing a trial; use val_accuracy") in " ".join(result.output.split())


def test_set_on_a_sweep_file_says_where_each_kind_of_value_goes(run_cli, tmp_path):
    write_sweep(tmp_path)
    result = run_cli("validate", "sweep.yaml", "--set", "samples=2")
    assert result.exit_code == 2
    assert ("--set: not allowed with a sweep file; write the value in the sweep file (its samples, parameters, ...) "
            "or in its base config") in " ".join(result.output.split())


def test_best_yaml_keeps_a_long_sweep_name_within_a_configs_100_characters(tmp_path):
    from types import SimpleNamespace

    import yaml

    from nnrun.commands.sweep.directory import SweepDir

    (tmp_path / "trials" / "000").mkdir(parents=True)
    (tmp_path / "trials" / "000" / "config.yaml").write_text("name: base\nseed: 1\n")
    swept = SimpleNamespace(path=tmp_path, sweep=SimpleNamespace(name="a" * 100, metric="val_loss"),
                            trial_dir=lambda id: tmp_path / "trials" / id)
    trial = SimpleNamespace(id="000", best=0.5, best_epoch=2, values={"x": 1})
    written = yaml.safe_load(SweepDir.write_best(swept, trial).read_text())
    assert written == {"name": "a" * 95 + "-best", "seed": 1}


def test_a_sweep_keeps_the_hash_of_its_data_unless_a_parameter_sets_the_source():
    """A parameter elsewhere in data (the split) once left the data file unhashed."""
    from nnrun.commands.sweep.directory import _data_hashes
    from nnrun.config import Config
    from nnrun.config.sweep import SweepConfig

    data = str((Path(__file__).parent.parent / "configs" / "data" / "fruit.csv").resolve())
    config = Config.model_validate({"data": {"source": {"type": "csv", "path": data, "target": "fruit"}},
                                    "model": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
                                    "loss": "categorical_crossentropy"})
    for parameters, hashed in (({"data.split.validation": [0.1, 0.2]}, [data]), ({"seed": [1, 2]}, [data]),
                               ({"data.source.path": ["a.csv", "b.csv"]}, []),
                               # An option of the source reads the same file: still hashed.
                               ({"data.source.missing": ["mean", "most_frequent"]}, [data]),
                               ({"data.source.type": ["csv", "builtin"]}, [])):
        sweep = SweepConfig.model_validate({"base": "x.yaml", "metric": "val_loss", "parameters": parameters})
        assert list(_data_hashes(config, sweep)) == hashed, parameters


def test_what_the_base_configs_data_needs_said_is_said_once_for_the_sweep(run_cli, tmp_path):
    """Rows its base config skips are skipped in every trial: said before the trials, as
    nnrun train says it, not only inside each trial's run."""
    rows = [f"{i % 7},{i % 3},{'ab'[i % 2]}" for i in range(60)]
    rows[4] = "4,1,a,extra"  # file line 6
    (tmp_path / "d.csv").write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "base.yaml").write_text(
        "data:\n  source: {type: csv, path: d.csv, target: label, bad_rows: skip}\nmodel:\n  layers: [{type: dense, "
        "units: 2, activation: softmax}]\nloss: categorical_crossentropy\ntraining: {epochs: 2}\n")
    (tmp_path / "sweep.yaml").write_text("base: base.yaml\nparameters:\n  optimizer.learning_rate: [0.01, 0.1]\n")
    result = run_cli("validate", "sweep.yaml")
    assert result.exit_code == 0, result.output
    assert f"warning: {tmp_path / 'd.csv'}: skipped 1 row with more or fewer cells than the header's 3 (line 6), as " \
        "data.source.bad_rows: skip says" in " ".join(result.output.split())


def test_a_block_swept_by_its_types_name_keeps_the_bases_options_in_its_own_type():
    """``optimizer: [adam, sgd]``: the adam trial is the base's adam, beta_1 and all; the
    sgd trial starts from sgd's defaults, as ``--set optimizer=sgd`` does."""
    from nnrun.config.sweep_checks import trial_config

    base = {"data": {"source": {"type": "builtin", "name": "iris"}},
            "model": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
            "loss": "categorical_crossentropy", "optimizer": {"type": "adam", "learning_rate": 0.002, "beta_1": 0.8}}
    adam = trial_config(base, "base.yaml", {"optimizer": "adam"}).config.optimizer
    assert (adam.type, adam.learning_rate, adam.beta_1) == ("adam", 0.002, 0.8)
    sgd = trial_config(base, "base.yaml", {"optimizer": "sgd"}).config.optimizer
    assert (sgd.type, sgd.learning_rate) == ("sgd", 0.01)


def test_a_moved_sweeps_record_finds_every_file_its_source_names_whatever_the_key(tmp_path):
    """An idx source names its files images and labels: they move as a csv's path does."""
    from nnrun.commands.sweep.moved import moved_data

    (tmp_path / "new" / "data").mkdir(parents=True)
    for name in ("img", "lab"):
        (tmp_path / "new" / "data" / name).write_bytes(b"")
    old = tmp_path / "old"
    base = {"data": {"source": {"type": "idx", "images": str(old / "data" / "img"), "labels": str(old / "data" / "lab"),
                                "test_images": None}}, "model": {"init_weights": None}}

    def moved(value):  # as moved_paths gives it, for a sweep moved from old/ to new/: only a gone absolute path
        if not Path(value).is_absolute():
            return value
        beside = str(tmp_path / "new" / Path(value).relative_to(old))
        return beside if Path(beside).is_file() else value

    source = moved_data(base, moved)["data"]["source"]
    assert (source["images"], source["labels"]) == (str(tmp_path / "new" / "data" / "img"),
                                                    str(tmp_path / "new" / "data" / "lab"))


def test_trials_csv_reads_back_every_swept_text_as_written():
    # Texts written bare were read back as numbers by YAML 1.2's rules: '0o7' as 7, '+.5' as 0.5.
    from nnrun.commands.sweep.trials import _cell
    from nnrun.config.yaml_reader import parse_value

    for value in ["adam", "0o7", "+.5", "null", "true", "010", "1e3", "a: b", 5, 0.5, [1, 2]]:
        assert parse_value(_cell(value), "trials.csv") == value
