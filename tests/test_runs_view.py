"""`nnrun runs` with --sort, --reverse, --status, --limit, --metric, --show and --params."""

from __future__ import annotations

import csv
import json
import re

import pytest

import nnrun
from conftest import ROOT
from trained import train_iris

IRIS = ROOT / "configs" / "iris.yaml"


@pytest.fixture
def three_runs(tmp_path):
    """Three iris runs with other learning rates and a fourth with a smaller first layer."""
    runs = tmp_path / "runs"
    for name, overrides in (("fast", ["optimizer.learning_rate=0.05"]), ("slow", ["optimizer.learning_rate=0.001"]),
                            ("mid", ["optimizer.learning_rate=0.01"]),
                            ("narrow", ["model.layers.0.units=4", "optimizer.learning_rate=0.001"])):
        train_iris(runs / name, *overrides, epochs=4)
    return runs


def _listed(output: str) -> list[str]:
    """The run names of a table, in order."""
    return [line.split()[0] for line in output.splitlines() if re.match(r"^(fast|slow|mid|narrow) ", line)]


def _records(result) -> list[dict]:
    return json.loads(result.stdout)


def test_sort_by_the_best_validation_value_and_by_a_setting(run_cli, three_runs):
    records = _records(run_cli("runs", "--json"))
    best = {r["path"].split("/")[-1]: r["best_validation"] for r in records}
    result = run_cli("runs", "--sort", "best")
    assert result.exit_code == 0, result.output
    expected = sorted(best, key=lambda name: -best[name])  # accuracy: highest first
    assert _listed(result.output) == expected
    assert "sorted by best, best validation value first" in result.output

    result = run_cli("runs", "--sort", "optimizer.learning_rate")
    assert result.exit_code == 0, result.output
    order = _listed(result.output)
    assert order[:2] in (["slow", "narrow"], ["narrow", "slow"]) and order[2:] == ["mid", "fast"]
    assert "optimizer.learning_rate" in result.output  # the column the order is by
    result = run_cli("runs", "--sort", "optimizer.learning_rate", "--reverse", "--limit", "2")
    assert _listed(result.output) == ["fast", "mid"]


def test_sort_by_a_metrics_name_ranks_by_its_best_validation_value(run_cli, three_runs):
    by_name = run_cli("runs", "--sort", "loss")
    assert by_name.exit_code == 0, by_name.output
    assert _listed(by_name.output) == _listed(run_cli("runs", "--metric", "loss", "--sort", "best").output)
    assert _listed(run_cli("runs", "--sort", "val_accuracy").output) == \
        _listed(run_cli("runs", "--metric", "accuracy", "--sort", "best").output)
    assert "sorted by best loss, best validation value first" in by_name.output
    unknown = run_cli("runs", "--sort", "mae")
    assert unknown.exit_code == 2 and "error: --sort mae: no run listed here records it" in unknown.output
    unknown = run_cli("runs", "--sort", "val_f1")  # named as given
    assert unknown.exit_code == 2 and "error: --sort val_f1: no run listed here records it" in unknown.output
    both = run_cli("runs", "--sort", "accuracy", "--metric", "loss")
    assert both.exit_code == 2
    assert "error: --sort accuracy --metric loss: two metrics to rank by" in both.output


def test_params_shows_first_the_settings_that_differ_in_the_most_runs(run_cli, three_runs):
    # Three rates among four runs, one narrower layer: the rate comes first, though the
    # layer comes first in the config.
    header = next(line for line in run_cli("runs", "--params").output.splitlines() if line.startswith("run "))
    assert header.index("optimizer.learning_rate") < header.index("model.layers.0.units")


def test_tags_and_notes_find_and_describe_runs(run_cli, tmp_path):
    runs = tmp_path / "runs"
    train_iris(runs / "base", "tags=[baseline]", epochs=1)
    train_iris(runs / "wide", "tags=[baseline, wide]", "notes=a wider first layer", "model.layers.0.units=128", epochs=1)
    train_iris(runs / "plain", epochs=1)
    tagged = _records(run_cli("runs", "--tag", "baseline", "--json", "--show", "tags", "--show", "notes"))
    assert [(r["path"].split("/")[-1], r["config"]) for r in tagged] == [
        ("wide", {"tags": ["baseline", "wide"], "notes": "a wider first layer"}),
        ("base", {"tags": ["baseline"], "notes": None})]
    both = _records(run_cli("runs", "--tag", "baseline", "--tag", "wide", "--json"))
    assert [r["path"].split("/")[-1] for r in both] == ["wide"]
    table = run_cli("runs", "--tag", "wide", "--show", "tags").output
    assert re.search(r"^wide .*\[baseline, wide\]", table, re.M), table
    assert run_cli("runs", "--tag", "nope").output.strip() == "no runs tagged nope in runs"
    bad = run_cli("runs", "--tag", "two words")
    assert bad.exit_code == 2 and "error: --tag 'two words': no tag can be written so; expected one word of " \
        "letters, digits, '.', '_', ':', '/', '=', '+' or '-' (a tag), starting with a letter or digit" in \
        " ".join(bad.output.split())
    long = run_cli("runs", "--tag", "t" * 65)
    assert long.exit_code == 2 and "no tag can be written so; expected at most 64 characters" in long.output
    (runs / "plain" / "config.yaml").write_text("{")  # unreadable: said, not dropped without a word
    assert "note: 1 run whose config.yaml cannot be read is left out" in run_cli("runs", "--tag", "baseline").output
    # Notes are no parameter column (a sentence each); tags are, where they differ.
    header = next(line for line in run_cli("runs", "--params").output.splitlines() if line.startswith("run "))
    assert "tags" in header and "notes" not in header
    mistake = run_cli("train", IRIS, "--set", "tags=[two words]", "--run-dir", "bad")
    assert mistake.exit_code == 2 and "tags.0: expected one word of letters, digits" in mistake.output


def test_params_shows_the_settings_that_differ_and_json_gives_them(run_cli, three_runs):
    result = run_cli("runs", "--params")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("run "))
    assert "model.layers.0.units" in header and "optimizer.learning_rate" in header
    assert "training.epochs" not in header and "seed" not in header  # the same in every run
    narrow = next(line for line in result.output.splitlines() if line.startswith("narrow "))
    assert " 4 " in narrow and "0.001" in narrow

    records = _records(run_cli("runs", "--json", "--params", "--status", "completed"))
    assert len(records) == 4
    by_name = {r["path"].split("/")[-1]: r["config"] for r in records}
    assert by_name["narrow"] == {"model.layers.0.units": 4, "optimizer.learning_rate": 0.001}
    assert by_name["fast"] == {"model.layers.0.units": 64, "optimizer.learning_rate": 0.05}


def test_show_a_block_and_the_metric_every_run_is_ranked_by(run_cli, three_runs):
    result = run_cli("runs", "--show", "optimizer", "--metric", "val_loss", "--sort", "test", "-n", "1")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("run "))
    assert header.index("optimizer.type") < header.index("optimizer.learning_rate")  # the config's order
    records = _records(run_cli("runs", "--json", "--metric", "loss"))
    tests = {r["path"].split("/")[-1]: r["test"] for r in records}
    assert all(r["metric"] == "loss" for r in records)
    (first,) = _listed(result.output)
    assert tests[first] == min(tests.values())  # the lowest test loss (ties keep the listing's order)
    assert " adam " in result.output  # a text as the config says it, without quotes


def test_status_filter_and_its_empty_listing(run_cli, three_runs):
    meta = three_runs / "mid" / "meta.json"
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps({**data, "status": "failed"}))
    result = run_cli("runs", "--status", "failed")
    assert result.exit_code == 0 and _listed(result.output) == ["mid"]
    result = run_cli("runs", "--status", "killed", "--status", "interrupted")
    assert result.exit_code == 0 and "no killed or interrupted runs in runs" in result.output


@pytest.mark.parametrize("args, message, hint", [
    (["--sort", "bset"], "--sort bset: not a sort key, nor a setting of the runs listed here; did you mean 'best'?",
     "sort by one of started, name, best, test, time, epochs"),
    (["--sort", "optimizer"], "--sort optimizer: a block of settings, not one value",
     "sort by one of its settings: optimizer.beta_1"),
    (["--show", "optimzer.learning_rate"], "--show optimzer.learning_rate: no run listed here has that setting; "
     "did you mean 'optimizer.learning_rate'?", "name a setting as --set"),
    (["--status", "complete"], "--status complete: not a status; did you mean 'completed'?", "a run's status is one of"),
    (["--limit", "0"], "--limit 0: must be at least 1", "--limit 10"),
    (["--metric", "acuracy"], "--metric acuracy: no run listed here records it; did you mean 'accuracy'?",
     "the runs here record accuracy, loss"),
])
def test_mistakes_are_one_message_and_exit_code_2(run_cli, three_runs, args, message, hint):
    for output in ("table", "json"):
        result = run_cli("runs", *args, *(["--json"] if output == "json" else []))
        assert result.exit_code == 2, result.output
        assert message in result.output and hint in result.output
        assert "Traceback" not in result.output


def test_different_metrics_are_ranked_each_among_its_own_and_said_so(run_cli, three_runs):
    from trained import train_diabetes

    train_diabetes(three_runs / "regression")
    result = run_cli("runs", "--sort", "best")
    assert result.exit_code == 0, result.output
    assert "note: the runs record different metrics" in result.output and "--metric NAME" in result.output


def test_a_watched_metric_named_by_metric_keeps_the_epoch_early_stopping_kept(run_cli, tmp_path):
    # With min_delta 0.2 early stopping kept an earlier epoch than the highest val_accuracy's.
    run = train_iris(tmp_path / "runs" / "md", "training.early_stopping={monitor: val_accuracy, min_delta: 0.2, "
                     "patience: 30}", "optimizer.learning_rate=0.01", epochs=30)
    meta = json.loads((run / "meta.json").read_text())
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    highest = max(rows, key=lambda row: (float(row["val_accuracy"]), -int(row["epoch"])))
    assert int(highest["epoch"]) != meta["best_epoch"]  # the case this test is about
    for args in ((), ("--metric", "accuracy"), ("--metric", "val_accuracy")):
        record = _records(run_cli("runs", "--json", *args))[0]
        assert record["metric"] == "accuracy" and record["best_epoch"] == meta["best_epoch"], args


def test_a_run_that_stopped_early_shows_the_metric_it_watched_at_the_epoch_it_kept(run_cli, tmp_path):
    run = train_iris(tmp_path / "runs" / "watched", "training.early_stopping={monitor: val_loss, patience: 2}",
                     "optimizer.learning_rate=0.05", epochs=30)
    meta = json.loads((run / "meta.json").read_text())
    record = _records(run_cli("runs", "--json"))[0]
    assert record["metric"] == "loss" and record["best_epoch"] == meta["best_epoch"]  # not accuracy's best epoch
    assert _records(run_cli("runs", "--json", "--metric", "accuracy"))[0]["metric"] == "accuracy"


def test_params_are_the_settings_that_differ_between_the_runs_listed_after_the_limit(run_cli, three_runs):
    result = run_cli("runs", "--params", "--sort", "name", "-n", "2")  # fast, mid: only their rates differ
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("run "))
    assert "optimizer.learning_rate" in header and "model.layers.0.units" not in header
    records = _records(run_cli("runs", "--json", "--params", "--sort", "name", "-n", "2"))
    assert [r["config"] for r in records] == [{"optimizer.learning_rate": 0.05}, {"optimizer.learning_rate": 0.01}]


def test_reverse_alone_turns_the_listings_own_order_round(run_cli, three_runs):
    newest_first = _listed(run_cli("runs").output)
    result = run_cli("runs", "--reverse")
    assert _listed(result.output) == newest_first[::-1] and "Runs in runs/, oldest first" in result.output


def test_a_metric_a_run_does_not_record_shows_nothing_rather_than_another(run_cli, three_runs):
    from trained import CONFIGS

    nnrun.train(CONFIGS / "diabetes.yaml", overrides=["training.epochs=2"], run_dir=three_runs / "regression",
                quiet=True)
    records = {r["path"].split("/")[-1]: r for r in _records(run_cli("runs", "--json", "--metric", "mae"))}
    assert records["regression"]["metric"] == "mae" and records["regression"]["best_validation"] is not None
    assert records["fast"]["metric"] == "mae" and records["fast"]["best_validation"] is None
    assert records["fast"]["test"] is None


def test_losses_in_other_units_are_ranked_apart(run_cli, three_runs):
    from trained import train_diabetes

    train_diabetes(three_runs / "regression")
    result = run_cli("runs", "--metric", "loss", "--sort", "best")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "note: the runs record different metrics or losses (loss (categorical_crossentropy), loss (mse))" in said
    order = [line.split()[0] for line in result.output.splitlines()
             if line.split() and line.split()[0] in ("fast", "slow", "mid", "narrow", "regression")]
    assert order.index("regression") in (0, 4)  # ranked among its own kind, not by its thousands against 0.5


def test_a_killed_run_shows_the_watched_metric_at_its_best_epoch_so_far(run_cli, tmp_path):
    run = train_iris(tmp_path / "runs" / "cut", "training.early_stopping={monitor: val_accuracy, patience: 50}",
                     "optimizer.learning_rate=0.02", epochs=12)
    meta = json.loads((run / "meta.json").read_text())
    meta.pop("best_epoch")  # as a run still training, or killed, has none yet
    (run / "meta.json").write_text(json.dumps({**meta, "status": "running"}))
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    best = max(rows, key=lambda row: (float(row["val_accuracy"]), -int(row["epoch"])))
    record = _records(run_cli("runs", "--json"))[0]
    assert record["status"] == "killed" and record["metric"] == "accuracy"
    assert record["best_epoch"] == int(best["epoch"]) and record["best_validation"] == float(best["val_accuracy"])


def test_status_sweep_and_a_sort_key_mistyped_where_no_run_has_a_config(run_cli, tmp_path):
    (tmp_path / "runs").mkdir()
    result = run_cli("runs", "--sort", "bset")  # a typo is one with no run to sort, too
    assert result.exit_code == 2 and "--sort bset: not a sort key" in result.output and "did you mean 'best'" in \
        result.output
    result = run_cli("runs", "--status", "sweep")
    assert result.exit_code == 0 and "no sweep runs in runs" in result.output
    result = run_cli("runs", "--sort", "optimizer.learning_rate")  # a setting, with no run to sort by it
    assert result.exit_code == 0 and "no runs in runs" in result.output


def test_runs_on_a_fresh_checkout_lists_none_rather_than_failing(run_cli, tmp_path):
    """No runs/ folder yet (a CI step that lists runs before any trained): no runs, exit 0;
    a folder named that does not exist is still an error."""
    result = run_cli("runs")
    assert result.exit_code == 0 and "no runs yet (no runs/ folder here)" in result.output
    assert run_cli("runs", "--json").stdout.strip() == "[]"
    missing = run_cli("runs", "elsewhere")
    assert missing.exit_code == 2 and "elsewhere: no such directory" in missing.output
    bad = run_cli("runs", "--limit", "-3")  # the options are checked all the same
    assert bad.exit_code == 2 and "--limit -3: must be at least 1" in bad.output
