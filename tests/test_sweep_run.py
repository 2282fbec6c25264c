"""`nnrun sweep` as a user runs it: real trial processes, kills, Ctrl-C and resume."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import train_then
from sweeps import (MIXED, SWEEP, children, has_checkpoint_after_first_epochs, nnrun, only_sweep, start, statuses,
                    trials, wait_for, without_times, write_sweep)

COLUMNS = ["trial", "optimizer.learning_rate", "model.layers.0.units", "status", "val_accuracy", "best_epoch",
           "epochs", "seconds", "run_dir", "message"]

def test_local_sweep_writes_trials_best_yaml_and_ordinary_runs(tmp_path):
    write_sweep(tmp_path)
    result = nnrun("sweep", "sweep.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sweep = only_sweep(tmp_path)
    assert sweep.name.startswith("search-")
    assert "trial 000 started: optimizer.learning_rate=" in result.stdout
    assert "leaderboard" in result.stdout and "trials:  4 completed" in result.stdout
    assert f"next:    nnrun train {sweep.relative_to(tmp_path)}/best.yaml" in result.stdout
    assert {"sweep.yaml", "base.yaml", "trials.csv", "trials", "best.yaml"} <= {p.name for p in sweep.iterdir()}

    rows = trials(sweep)
    assert list(rows[0]) == COLUMNS
    assert [r["trial"] for r in rows] == ["000", "001", "002", "003"]
    assert all(r["status"] == "completed" and r["run_dir"] == f"trials/{r['trial']}" for r in rows)
    recorded = yaml.safe_load((sweep / "sweep.yaml").read_text())
    assert recorded["mode"] == "max" and Path(recorded["base"]) == tmp_path / "base.yaml"

    for row in rows:  # each trial is an ordinary run with its values and one BLAS thread
        run = sweep / row["run_dir"]
        config = yaml.safe_load((run / "config.yaml").read_text())
        assert config["optimizer"]["learning_rate"] == float(row["optimizer.learning_rate"])
        assert config["model"]["layers"][0]["units"] == int(row["model.layers.0.units"])
        meta = json.loads((run / "meta.json").read_text())
        assert meta["status"] == "completed" and meta["environment"]["blas_threads"] == 1

    best = max(rows, key=lambda r: (float(r["val_accuracy"]), -int(r["trial"])))
    assert f"best:    trial {best['trial']}" in result.stdout
    # Ranked by its best epoch, it keeps its last epoch's weights (no restore_best): said so.
    ranked_early = int(best["best_epoch"]) < int(best["epochs"])
    assert (f"note: trial {best['trial']} is ranked by its best epoch, {best['best_epoch']}; its weights" in
            " ".join(result.stdout.split())) == ranked_early
    assert "\nname: search-best\n" in (sweep / "best.yaml").read_text()  # its runs found by the sweep's name
    # For a script: the result as JSON on standard output, the leaderboard on standard error
    # (here of the finished sweep, which a resume leaves as it is).
    scripted = nnrun("sweep", "--resume", sweep, "--json", cwd=tmp_path)
    assert scripted.returncode == 0, scripted.stderr
    report = json.loads(scripted.stdout)
    assert report["sweep_dir"] == str(sweep) and report["metric"] == "val_accuracy" and report["direction"] == "max"
    assert report["best"]["trial"] == best["trial"] and report["best"]["value"] == float(best["val_accuracy"])
    assert report["best"]["values"]["model.layers.0.units"] == int(best["model.layers.0.units"])
    assert report["best"]["config"] == str(sweep / "best.yaml") and report["best"]["run_dir"] == str(
        sweep / "trials" / best["trial"])
    assert report["trials"] == {"running": 0, "interrupted": 0, "completed": 4, "pruned": 0, "failed": 0}
    assert "leaderboard" in scripted.stderr and "leaderboard" not in scripted.stdout
    retrained = nnrun("train", sweep / "best.yaml", "--run-dir", "again", "--quiet", cwd=tmp_path)
    assert retrained.returncode == 0, retrained.stderr
    again = (tmp_path / "again" / "model.safetensors").read_bytes()
    assert again == (sweep / "trials" / best["trial"] / "model.safetensors").read_bytes()

    listing = nnrun("runs", "runs", cwd=tmp_path)
    assert re.search(r"search-\S+\s+sweep\s+4 trials\s+accuracy", listing.stdout), listing.stdout  # as a run names it
    assert f"trial {best['trial']}" in listing.stdout
    assert nnrun("evaluate", sweep / "trials" / "000", cwd=tmp_path).returncode == 0
    plotted = nnrun("plot", sweep, cwd=tmp_path)
    assert plotted.returncode == 0 and (sweep / "sweep.png").stat().st_size > 0
    # A trial trained on by hand leaves the sweep's record behind: said so.
    extended = nnrun("train", "--resume", sweep / "trials" / "000", "--set", "training.epochs=8", cwd=tmp_path)
    assert extended.returncode == 0, extended.stderr
    assert "is trial 000 of the sweep" in extended.stderr and "no longer matches the sweep's trials.csv" in \
        " ".join(extended.stderr.split())


def test_the_best_epoch_note_follows_the_epoch_whose_weights_a_trial_kept(tmp_path):
    """Early stopping by another monitor may restore the very epoch the sweep ranks by:
    then its weights are that epoch's, and no note says otherwise."""
    from types import SimpleNamespace

    from nnrun.commands.sweep.directory import SweepDir
    from nnrun.commands.sweep.trials import Trial

    swept = SimpleNamespace(trial_dir=lambda trial_id: tmp_path / trial_id)
    (tmp_path / "006").mkdir()
    trial = Trial("006", {}, "completed", best=49451.6, best_epoch=36, epochs=56)
    for restore, meta, kept in ((True, {"best_epoch": 36}, 36), (False, {"best_epoch": 36}, 56), (True, None, 56)):
        stopping = {"monitor": "val_loss", "patience": 20, "restore_best": restore}
        (tmp_path / "006" / "config.yaml").write_text(yaml.safe_dump({"training": {"early_stopping": stopping}}))
        (tmp_path / "006" / "meta.json").unlink(missing_ok=True)
        if meta is not None:
            (tmp_path / "006" / "meta.json").write_text(json.dumps(meta))
        assert SweepDir.kept_epoch(swept, trial) == kept


def test_a_resume_takes_a_killed_trial_finished_by_hand_as_its_run_recorded_it(tmp_path):
    from types import SimpleNamespace

    from nnrun.commands.sweep.trial import resume_where_killed
    from nnrun.commands.sweep.trials import Trial

    swept = SimpleNamespace(trial_dir=lambda trial_id: tmp_path / trial_id,
                            sweep=SimpleNamespace(metric="val_accuracy", direction="max"))
    for trial_id, status in (("000", "completed"), ("001", "running"), ("002", "failed")):
        (tmp_path / trial_id).mkdir()
        (tmp_path / trial_id / "meta.json").write_text(json.dumps({"status": status}))
        (tmp_path / trial_id / "metrics.csv").write_text("epoch,loss,val_accuracy\n1,0.9,0.5\n2,0.5,0.8\n")
    killed = "the trial process was killed by SIGKILL"
    previous = [Trial(i, {}, "failed", message=killed, epochs=1) for i in ("000", "001", "002", "003")]
    assert resume_where_killed(swept, previous) == ["001"]
    assert [(t.status, t.best, t.best_epoch, t.epochs) for t in previous] == [
        ("completed", 0.8, 2, 2), ("interrupted", None, None, 1), ("failed", 0.8, 2, 2), ("failed", None, None, 1)]
    assert previous[2].message == "" and previous[3].message == killed  # the run's own word; none there yet


def test_a_sweep_moved_with_its_project_resumes_there_and_one_whose_base_is_gone_says_so(tmp_path):
    """A CI job's checkout elsewhere: the base config and its data are found where they
    stand to the sweep directory, checked against its record, and written into it."""
    (tmp_path / "a").mkdir()
    write_sweep(tmp_path / "a", SWEEP.replace("samples: 4", "samples: 2"), epochs=1)
    assert nnrun("sweep", "sweep.yaml", "--run-dir", "out", "-q", cwd=tmp_path / "a").returncode == 0
    (tmp_path / "out.csv").write_text((tmp_path / "a" / "out" / "trials.csv").read_text())
    (tmp_path / "a" / "out" / "trials.csv").write_text(  # as if stopped after its first trial
        "\n".join((tmp_path / "out.csv").read_text().splitlines()[:2]) + "\n")
    shutil.rmtree(tmp_path / "a" / "out" / "trials" / "001")
    (tmp_path / "a").rename(tmp_path / "b")
    for given in ([], ["sweep.yaml"]):  # as recorded, and with its sweep file
        result = nnrun("sweep", *given, "--resume", "out", "-q", cwd=tmp_path / "b")
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "b" / "out" / "trials.csv").read_text().count("completed") == 2
    assert yaml.safe_load((tmp_path / "b" / "out" / "sweep.yaml").read_text())["base"] == str(tmp_path / "b" /
                                                                                            "base.yaml")
    assert [r["val_accuracy"] for r in trials(tmp_path / "b" / "out")] == \
        [r["val_accuracy"] for r in csv.DictReader((tmp_path / "out.csv").open())]  # as the unbroken sweep
    (tmp_path / "b" / "base.yaml").unlink()
    result = nnrun("sweep", "--resume", "out", cwd=tmp_path / "b")
    assert result.returncode == 2
    assert (f"base: no config file at {tmp_path / 'b' / 'base.yaml'}; the sweep recorded it by its absolute path, so it "
            "was moved or deleted since") in result.stderr, result.stderr


def test_a_trial_killed_as_it_wrote_its_first_checkpoint_starts_again(tmp_path):
    """Only the temporary file of the cut-short write in checkpoints/: no checkpoint to
    resume from, so its folder is set aside and the trial starts over (it once failed
    for good: 'nothing to resume')."""
    from nnrun.commands.sweep.trial import _previous_state

    trial = tmp_path / "trials" / "001"
    (trial / "checkpoints").mkdir(parents=True)
    (trial / "meta.json").write_text(json.dumps({"status": "running"}))
    (trial / "checkpoints" / ".epoch-000001.safetensors.4242.tmp").write_bytes(b"cut short")
    assert _previous_state(trial) is None and not trial.exists()
    assert [p.name.startswith(".001-abandoned-") for p in (tmp_path / "trials").iterdir()] == [True]
    (trial / "checkpoints").mkdir(parents=True)  # with a checkpoint file: resumed from it
    (trial / "meta.json").write_text(json.dumps({"status": "running"}))
    (trial / "checkpoints" / "epoch-000001.safetensors").write_bytes(b"")
    assert _previous_state(trial) == "running"
    (trial / "checkpoints" / "epoch-000001.safetensors").unlink()  # interrupted with checkpoints off: starts over
    (trial / "meta.json").write_text(json.dumps({"status": "interrupted"}))
    assert _previous_state(trial) is None and len(list((tmp_path / "trials").iterdir())) == 2


def test_failures_stay_inside_their_trial(tmp_path):
    text = SWEEP.replace("{type: loguniform, low: 1.0e-3, high: 1.0e-1}", "{type: choice, values: [1.0e+9]}")
    text = text.replace("parameters:", "parameters:\n  optimizer.type: {type: choice, values: [sgd]}")
    write_sweep(tmp_path, text.replace("samples: 4", "samples: 2"))
    result = nnrun("sweep", "sweep.yaml", cwd=tmp_path)
    assert result.returncode == 1  # no trial completed
    assert "error: no trial of the sweep completed" in result.stderr
    rows = trials(only_sweep(tmp_path))
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert all(r["message"].startswith("the loss became nan in epoch") for r in rows)

    # One diverging value among good ones: the sweep goes on and succeeds.
    mixed = text.replace("{type: choice, values: [1.0e+9]}", "{type: grid, values: [1.0e+9, 0.01]}")
    write_sweep(tmp_path, mixed.replace("name: search", "name: mixed"), name="mixed.yaml")
    result = nnrun("sweep", "mixed.yaml", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = trials(max((tmp_path / "runs").glob("mixed-*")))
    assert {r["status"] for r in rows} == {"failed", "completed"}
    failed = next(r for r in rows if r["status"] == "failed")
    # Quiet, yet a failure is told with its reason: the leaderboard shows only its status.
    assert f"trial {failed['trial']} failed" in result.stdout and failed["message"] in result.stdout
    assert "started" not in result.stdout


def test_a_killed_trial_is_failed_the_sweep_goes_on_and_a_resume_resumes_the_trial(tmp_path):
    write_sweep(tmp_path, MIXED.replace("workers: 2", "workers: 1"))
    sweep = start("sweep", "sweep.yaml", cwd=tmp_path)
    wait_for(lambda: statuses(tmp_path).get("001") == "running" and has_checkpoint_after_first_epochs(tmp_path, "001"))
    (worker,) = children(sweep.pid)
    worker_cmd = Path(f"/proc/{worker}/cmdline").read_text()
    assert "nnrun.commands.sweep.worker" in worker_cmd and "\x00001\x00" in worker_cmd
    subprocess.run(["kill", "-9", str(worker)], check=True)
    out, _ = sweep.communicate(timeout=300)
    assert sweep.returncode == 0
    # The sweep is not over: its end says how to finish the killed trial.
    where = only_sweep(tmp_path).relative_to(tmp_path)
    assert f"resume: trial 001 stopped before it finished; nnrun sweep --resume {where} finishes it " \
           "from its last checkpoint (the best may change)" in " ".join(out.split())
    rows = {r["trial"]: r for r in trials(only_sweep(tmp_path))}
    assert rows["001"]["status"] == "failed"
    assert rows["001"]["message"].startswith("the trial process was killed by SIGKILL")
    assert rows["000"]["status"] == rows["002"]["status"] == "completed"
    # Resumed, the sweep resumes the killed trial from its checkpoint (a kill of an
    # out-of-memory worker changes no result): the same weights as an unbroken sweep.
    resumed = nnrun("sweep", "--resume", only_sweep(tmp_path), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "trial 001: its process was killed as it trained; resumed from its last checkpoint" in resumed.stdout
    assert re.search(r"trial 001 resumed after epoch [1-9]\d*: ", resumed.stdout), resumed.stdout
    (tmp_path / "whole").mkdir()
    write_sweep(tmp_path / "whole", MIXED.replace("workers: 2", "workers: 1"))
    assert nnrun("sweep", "sweep.yaml", cwd=tmp_path / "whole").returncode == 0
    assert without_times(trials(only_sweep(tmp_path))) == without_times(trials(only_sweep(tmp_path / "whole")))
    assert (only_sweep(tmp_path) / "trials" / "001" / "model.safetensors").read_bytes() == \
        (only_sweep(tmp_path / "whole") / "trials" / "001" / "model.safetensors").read_bytes()


def test_resume_after_sigkill_equals_an_uninterrupted_sweep(tmp_path):
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    for folder in (whole, stopped):
        folder.mkdir()
        write_sweep(folder, MIXED)
    assert nnrun("sweep", "sweep.yaml", cwd=whole).returncode == 0

    sweep = start("sweep", "sweep.yaml", cwd=stopped)
    wait_for(lambda: statuses(stopped).get("000") == "completed" and statuses(stopped).get("001") == "running"
             and has_checkpoint_after_first_epochs(stopped, "001"))
    workers = children(sweep.pid)
    sweep.send_signal(signal.SIGKILL)
    sweep.communicate()
    wait_for(lambda: not any(Path(f"/proc/{w}").exists() and "Z" not in _state(w) for w in workers), 10)
    directory = only_sweep(stopped)
    assert _listed_status(stopped, directory) == "killed"
    completed_before = (directory / "trials" / "000" / "metrics.csv").stat().st_mtime_ns

    changed = stopped / "changed.yaml"
    changed.write_text(MIXED.replace("seed: 3", "seed: 4"))
    refused = nnrun("sweep", "--resume", directory, changed, cwd=stopped)
    assert refused.returncode == 2
    assert "differs from the sweep being resumed" in refused.stderr and "changed: seed (3 -> 4)" in refused.stderr

    resumed = nnrun("sweep", "--resume", directory, "sweep.yaml", cwd=stopped)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: " in resumed.stdout
    assert re.search(r"trial 001 resumed after epoch [1-9]\d*: ", resumed.stdout), resumed.stdout
    assert "trial 003 started: " in resumed.stdout
    assert without_times(trials(directory)) == without_times(trials(only_sweep(whole)))
    assert (directory / "trials" / "000" / "metrics.csv").stat().st_mtime_ns == completed_before  # not rerun
    meta = json.loads((directory / "trials" / "001" / "meta.json").read_text())
    assert meta["resumes"], "the interrupted trial continued from its checkpoint"
    # Its time counts the epochs before the kill too, which the killed sweep never wrote.
    row = next(r for r in trials(directory) if r["trial"] == "001")
    recorded = sum(float(r["seconds"]) for r in csv.DictReader(open(directory / "trials" / "001" / "metrics.csv")))
    assert float(row["seconds"]) >= round(recorded, 2) - 0.01
    for trial in ("000", "001", "002", "003"):
        assert (directory / "trials" / trial / "model.safetensors").read_bytes() == \
            (only_sweep(whole) / "trials" / trial / "model.safetensors").read_bytes()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _as_a_background_job():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a shell does to a job it starts with &


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_every_trial_with_a_checkpoint_and_exits_130(tmp_path, number):
    # The long trial runs 2,000 epochs: with 400, a fast machine finished the whole sweep
    # between the checkpoint the test waits for and its Ctrl-C. The sweep starts with
    # SIGINT ignored, as a background job does, and still stops when sent it.
    write_sweep(tmp_path, MIXED.replace("values: [4, 400]", "values: [4, 2000]"))
    sweep = start("sweep", "sweep.yaml", cwd=tmp_path, preexec_fn=_as_a_background_job)
    wait_for(lambda: statuses(tmp_path).get("001") == "running" and has_checkpoint_after_first_epochs(tmp_path, "001"))
    sweep.send_signal(number)
    _, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 130
    directory = only_sweep(tmp_path)
    assert f"hint: resume it with: nnrun sweep --resume {directory.relative_to(tmp_path)}" in stderr
    assert "the sweep stopped; running trials that had begun training saved their checkpoints" in stderr
    name = "SIGTERM" if number == signal.SIGTERM else "Ctrl-C"  # said on standard error, the signal named
    assert f"stopping: asked by {name}; each running trial saves a checkpoint ({name} again stops at once)" in stderr
    rows = {r["trial"]: r for r in trials(directory)}
    assert rows["001"]["status"] == "interrupted"
    assert json.loads((directory / "trials" / "001" / "meta.json").read_text())["status"] == "interrupted"
    assert not children(sweep.pid)
    assert _listed_status(tmp_path, directory) == "interrupted"  # not "completed", as if it were done
    resumed = nnrun("sweep", "--resume", directory, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert {r["status"] for r in trials(directory)} == {"completed"}
    assert _listed_status(tmp_path, directory) == "completed"
    listed = json.loads(nnrun("runs", "--json", directory, cwd=tmp_path).stdout)  # a sweep's folder: its trials
    assert sorted(Path(r["path"]).name for r in listed) == sorted(r["trial"] for r in trials(directory))
    tried = {r["trial"]: r for r in trials(directory)}  # each trial's values, typed as the sweep file wrote them
    for record in listed:
        row = tried[Path(record["path"]).name]
        assert record["values"] == {"optimizer.learning_rate": float(row["optimizer.learning_rate"]),
                                    "model.layers.0.units": int(row["model.layers.0.units"]),
                                    "training.epochs": int(row["training.epochs"])}


def _listed_status(folder: Path, directory: Path) -> str:
    listed = nnrun("runs", "--json", directory.parent, cwd=folder)
    return next(r["status"] for r in json.loads(listed.stdout) if r["path"].endswith(directory.name))


def test_tpe_and_asha_come_from_optuna_and_pruned_trials_keep_their_run(tmp_path):
    pytest.importorskip("optuna")
    text = SWEEP.replace("search: random", "search: tpe").replace("samples: 4", "samples: 6").replace(
        "{type: loguniform, low: 1.0e-3, high: 1.0e-1}", "{type: loguniform, low: 1.0e-5, high: 1.0e-1}")
    text += "scheduler: {type: asha, grace_epochs: 2, reduction_factor: 2}\n"
    write_sweep(tmp_path, text.replace("workers: 2", "workers: 1"), epochs=12)
    result = nnrun("sweep", "sweep.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    directory = only_sweep(tmp_path)
    rows = trials(directory)
    pruned = [r for r in rows if r["status"] == "pruned"]
    assert pruned and any(r["status"] == "completed" for r in rows)
    for row in pruned:
        assert row["message"] == f"pruned by the scheduler after epoch {row['epochs']}"
        assert 2 <= int(row["epochs"]) < 12  # never before its grace epochs
        meta = json.loads((directory / row["run_dir"] / "meta.json").read_text())
        assert meta["status"] == "completed" and meta["stopped_early"]  # ended there, as early stopping would
        assert (directory / row["run_dir"] / "model.safetensors").is_file()
    # As Ray leaves a pruned trial's run: its worker ended before the run recorded an end.
    meta_path = directory / pruned[0]["run_dir"] / "meta.json"
    meta_path.write_text(meta_path.read_text().replace('"status": "completed"', '"status": "running"'))
    listing = nnrun("runs", directory, cwd=tmp_path).stdout  # the sweep's status, not the run's own
    listed = {line.split()[0]: line.split()[1] for line in listing.splitlines() if line.split()[:1] and
              line.split()[0].isdigit()}
    assert listed == {r["trial"]: r["status"] for r in rows}


def _tpe_whole_and_killed(tmp_path: Path, sweep: str) -> tuple[Path, Path]:
    """``sweep`` as a TPE search of 5 trials, one at a time: run whole in one folder, and
    SIGKILLed in another once its trial 001 completed. The two folders."""
    text = sweep.replace("search: random", "search: tpe").replace("samples: 4", "samples: 5").replace(
        "workers: 2", "workers: 1")
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    for folder in (whole, stopped):
        folder.mkdir()
        write_sweep(folder, text, epochs=3)
    assert nnrun("sweep", "sweep.yaml", cwd=whole).returncode == 0
    running = start("sweep", "sweep.yaml", cwd=stopped)
    wait_for(lambda: statuses(stopped).get("001") == "completed")
    running.send_signal(signal.SIGKILL)
    running.communicate()
    return whole, stopped


def test_a_resumed_tpe_sweep_draws_what_an_unbroken_one_draws_not_its_first_trials_again(tmp_path):
    pytest.importorskip("optuna")
    whole, stopped = _tpe_whole_and_killed(tmp_path, SWEEP)
    assert len(statuses(stopped)) < 5  # trials left to draw
    resumed = nnrun("sweep", "--resume", only_sweep(stopped), "sweep.yaml", cwd=stopped)
    assert resumed.returncode == 0, resumed.stderr
    values = [(r["optimizer.learning_rate"], r["model.layers.0.units"]) for r in trials(only_sweep(stopped))]
    assert len(set(values)) == 5  # none drawn twice
    # TPE samples its first ten trials at random: the same values, trial by trial.
    assert values == [(r["optimizer.learning_rate"], r["model.layers.0.units"]) for r in trials(only_sweep(whole))]


def _items(written: str) -> list[str]:
    """The step types of a preprocess list as trials.csv writes it ([standardize], [{type: minmax}])."""
    return [step if isinstance(step, str) else step["type"] for step in yaml.safe_load(written)]


def test_a_list_is_swept_whole_by_a_grid_and_by_tpe_and_read_back_on_resume(tmp_path):
    lists = "  data.preprocess: {type: grid, values: [[], [standardize], [{type: minmax}]]}\n"
    grid = SWEEP.replace("search: random\nsamples: 4\n", "search: grid\n").replace(
        "  optimizer.learning_rate: {type: loguniform, low: 1.0e-3, high: 1.0e-1}\n", lists)
    (tmp_path / "grid").mkdir()
    write_sweep(tmp_path / "grid", grid, epochs=2)
    result = nnrun("sweep", "sweep.yaml", cwd=tmp_path / "grid")
    assert result.returncode == 0, result.stderr
    assert "trial 004 started: data.preprocess=[{type: minmax}], model.layers.0.units=4" in result.stdout
    directory = only_sweep(tmp_path / "grid")
    rows = trials(directory)
    assert [(r["data.preprocess"], r["model.layers.0.units"]) for r in rows] == [
        ("[]", "4"), ("[]", "8"), ("[standardize]", "4"), ("[standardize]", "8"), ("[{type: minmax}]", "4"),
        ("[{type: minmax}]", "8")]
    for row in rows:  # each trial's run was trained with its own list
        config = yaml.safe_load((directory / row["run_dir"] / "config.yaml").read_text())
        assert [step["type"] for step in config["data"]["preprocess"]] == _items(row["data.preprocess"])
    best = (directory / "best.yaml").read_text().splitlines()[0]
    assert re.search(r"values: data\.preprocess=\[[^']*\], model\.layers\.0\.units=[48]$", best), best
    assert re.search(r"\(val_accuracy \d\.\d{4} at epoch", best), best  # as the leaderboard writes it: 1.0000

    pytest.importorskip("optuna")  # TPE draws a list as one of its categories, and a resume reads it back
    whole, stopped = _tpe_whole_and_killed(tmp_path, SWEEP.replace("parameters:\n", "parameters:\n" +
                                                                   lists.replace("grid", "choice")))
    resumed = nnrun("sweep", "--resume", only_sweep(stopped), "sweep.yaml", cwd=stopped)
    assert resumed.returncode == 0, resumed.stderr
    drawn = [r["data.preprocess"] for r in trials(only_sweep(stopped))]
    assert drawn == [r["data.preprocess"] for r in trials(only_sweep(whole))]
    assert set(drawn) <= {"[]", "[standardize]", "[{type: minmax}]"} and len(drawn) == 5


def test_the_median_scheduler_stops_no_trial_before_its_grace_epochs(tmp_path):
    pytest.importorskip("optuna")
    # Three good learning rates finish first (the median's startup trials); the three
    # tiny ones then fall below their median at once, and are stopped as early as allowed.
    text = SWEEP.replace("search: random\nsamples: 4\n", "search: grid\n").replace(
        "{type: loguniform, low: 1.0e-3, high: 1.0e-1}",
        "{type: grid, values: [0.1, 0.05, 0.03, 1.0e-6, 2.0e-6, 3.0e-6]}").replace("model.layers.0.units: {type: choice, values: [4, 8]}", "model.layers.0.units: [8]")
    text += "scheduler: {type: median, grace_epochs: 3}\n"
    write_sweep(tmp_path, text.replace("workers: 2", "workers: 1"), epochs=8)
    result = nnrun("sweep", "sweep.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    directory = only_sweep(tmp_path)
    pruned = [r for r in trials(directory) if r["status"] == "pruned"]
    assert pruned
    for row in pruned:
        metrics = (directory / row["run_dir"] / "metrics.csv").read_text().splitlines()
        assert len(metrics) - 1 == int(row["epochs"]) >= 3, row


def test_train_imports_neither_optuna_nor_ray(tmp_path):
    write_sweep(tmp_path)
    result = train_then("base.yaml", "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'optuna', 'ray'})\n"
                                     "assert not heavy, heavy\n", tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_quiet_sweep_into_a_folder_made_beforehand_prints_only_its_leaderboard(tmp_path):
    write_sweep(tmp_path, SWEEP.replace("samples: 4", "samples: 2"), epochs=2)
    (tmp_path / "volume").mkdir()  # a mounted volume, a CI step's output folder
    result = nnrun("sweep", "sweep.yaml", "--run-dir", "volume", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" not in result.stdout and "nnrun sweep search ->" not in result.stdout
    assert "leaderboard" in result.stdout and "trials:  2 completed" in result.stdout
    assert "next:    nnrun train volume/best.yaml" in result.stdout
    assert [r["status"] for r in trials(tmp_path / "volume")] == ["completed", "completed"]
    assert not (tmp_path / "runs").exists()
    again = nnrun("sweep", "sweep.yaml", "--run-dir", "volume", cwd=tmp_path)
    assert again.returncode == 2 and "volume: already holds a sweep" in again.stderr
    assert "hint: to finish it: nnrun sweep --resume volume" in again.stderr
    resumed = nnrun("sweep", "--resume", "volume", "--run-dir", "other", cwd=tmp_path)
    assert resumed.returncode == 2
    assert "--run-dir: not with --resume; a resumed sweep goes on in its own directory" in resumed.stderr


def test_a_resumed_sweep_refuses_an_edited_base_config_with_or_without_its_sweep_file(tmp_path):
    write_sweep(tmp_path, SWEEP.replace("samples: 4", "samples: 2"), epochs=2)
    assert nnrun("sweep", "sweep.yaml", cwd=tmp_path).returncode == 0
    directory = only_sweep(tmp_path)
    before = (directory / "trials.csv").read_text()
    base = tmp_path / "base.yaml"
    base.write_text(base.read_text().replace("batch_size: 32", "batch_size: 16"))

    for given in ([], ["sweep.yaml"]):
        refused = nnrun("sweep", "--resume", directory, *given, cwd=tmp_path)
        assert refused.returncode == 2, refused.stdout
        stderr = " ".join(refused.stderr.split())  # the message may wrap at the terminal's width
        assert (f"{base}: differs from the sweep being resumed ({directory}/base.yaml); "
                "changed: training.batch_size (32 -> 16)") in stderr
        assert f"put {base} back as it was (the sweep's copy is {directory}/base.source.yaml)" in stderr
        assert "leave out SWEEP.yaml" not in stderr  # it would not help: the base is checked without it too
        assert "Traceback" not in refused.stderr
    assert (directory / "trials.csv").read_text() == before  # nothing trained on the edited base
    base.write_text(base.read_text().replace("batch_size: 16", "batch_size: 32"))
    from nnrun.store.lock import RunLock

    lock = RunLock(directory)  # as a second `nnrun sweep --resume` of it would hold it
    try:
        refused = nnrun("sweep", "--resume", directory, cwd=tmp_path)
    finally:
        lock.release()
    assert refused.returncode == 2
    assert f"{directory}: another nnrun process (pid {os.getpid()}) is writing this sweep directory" in " ".join(
        refused.stderr.split())
    # A value every trial sets (a swept path) may change in the base: no trial reads it there.
    base.write_text(base.read_text().replace("learning_rate: 0.01", "learning_rate: 0.5"))
    # The base.yaml of an older nnrun, without a setting added since: its default is no change.
    saved = yaml.safe_load((directory / "base.yaml").read_text())
    del saved["data"]["split"]["shuffle"]
    (directory / "base.yaml").write_text(yaml.safe_dump(saved, sort_keys=False))
    recorded = yaml.safe_load((directory / "sweep.yaml").read_text())  # and its sweep.yaml, with the file given again
    del recorded["scheduler"]  # None, the default
    (directory / "sweep.yaml").write_text(yaml.safe_dump(recorded, sort_keys=False))
    resumed = nnrun("sweep", "--resume", directory, "sweep.yaml", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert (directory / "trials.csv").read_text() == before


def test_a_sweep_killed_as_it_started_is_started_again_in_its_folder(tmp_path):
    """Its lock, its sweep.yaml and a base write cut short, and no trial: a retried job
    starts the sweep there, whichever way it names the folder."""
    write_sweep(tmp_path, SWEEP.replace("samples: 4", "samples: 2"), epochs=2)
    for retried in (("--run-dir",), ("--resume",)):
        folder = tmp_path / f"left{retried[0]}"
        (folder / "trials").mkdir(parents=True)
        for name in (".lock", "sweep.yaml", ".base.yaml.99999.tmp"):
            (folder / name).write_text("")
        (folder / "trials.csv").write_text("trial,status\n")  # written, with no trial yet
        alone = nnrun("sweep", "--resume", folder, cwd=tmp_path)
        assert alone.returncode == 2 and "the sweep there stopped as it started, before its first trial; there is " \
            "nothing to resume" in " ".join(alone.stderr.split()), alone.stderr
        done = nnrun("sweep", "sweep.yaml", *retried, folder, "-q", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert [row["status"] for row in trials(folder)] == ["completed", "completed"]
        assert (folder / "best.yaml").is_file()
        assert not list(folder.glob(".*.tmp"))
    # The folder of one's own sweep file and base config is no sweep nnrun left: refused, and kept as it is.
    kept = {name: (tmp_path / name).read_text() for name in ("sweep.yaml", "base.yaml")}
    refused = nnrun("sweep", "sweep.yaml", "--run-dir", tmp_path, "-q", cwd=tmp_path)
    assert refused.returncode == 2 and {name: (tmp_path / name).read_text() for name in kept} == kept
    # A new folder named by --resume with the sweep file: started there too, as train starts a run.
    fresh = nnrun("sweep", "sweep.yaml", "--resume", tmp_path / "fresh", "-q", cwd=tmp_path)
    assert fresh.returncode == 0 and [row["status"] for row in trials(tmp_path / "fresh")] == ["completed"] * 2, \
        fresh.stderr


def test_a_stop_that_comes_as_the_last_trial_ends_finishes_the_sweep(tmp_path, monkeypatch):
    """Every trial done when Ctrl-C or SIGTERM arrives: best.yaml is written and the sweep
    ends as finished, as a run stopped after its last epoch completes."""
    import io

    from rich.console import Console

    from nnrun.commands.sweep import local
    from nnrun.commands.sweep.runner import run_sweep
    from nnrun.console.sweep_view import QuietSweepView

    write_sweep(tmp_path, SWEEP.replace("samples: 4", "samples: 2"), epochs=2)
    finish = local.run_local

    def then_stopped(*args, **kwargs):
        finish(*args, **kwargs)
        raise KeyboardInterrupt  # as the signal's handler raises it

    monkeypatch.setattr(local, "run_local", then_stopped)
    monkeypatch.chdir(tmp_path)
    result = run_sweep("sweep.yaml", view=QuietSweepView(Console(file=io.StringIO())), run_dir=tmp_path / "s")
    assert [t.status for t in result.trials] == ["completed", "completed"]
    assert (tmp_path / "s" / "best.yaml").is_file() and result.best_config == tmp_path / "s" / "best.yaml"


def test_a_resumed_sweep_refuses_data_changed_since_it_started(tmp_path):
    """Its trials trained on the data as it was: the rest must not train on other data."""
    write_sweep(tmp_path, SWEEP.replace("samples: 4", "samples: 2"), epochs=2)
    rows = "".join(f"{i / 10},{(i * 7) % 5},{'yes' if i % 3 else 'no'}\n" for i in range(60))
    data = tmp_path / "d.csv"
    data.write_text("a,b,label\n" + rows)
    base = tmp_path / "base.yaml"
    base.write_text(base.read_text().replace("{type: builtin, name: iris}", "{type: csv, path: d.csv, target: label}")
                    .replace("units: 3, activation: softmax", "units: 2, activation: softmax"))
    assert nnrun("sweep", "sweep.yaml", cwd=tmp_path).returncode == 0
    directory = only_sweep(tmp_path)
    before = (directory / "trials.csv").read_text()
    data.write_text("a,b,label\n" + rows.replace("yes", "no", 5))
    refused = nnrun("sweep", "--resume", directory, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert (f"{data}: changed since the sweep {directory} started; its trials trained on the file as it was, and "
            "the trials still to run would train on another") in " ".join(refused.stderr.split())
    assert (directory / "trials.csv").read_text() == before
    data.write_text("a,b,label\n" + rows)
    hashes = directory / "base.data.json"
    kept = hashes.read_text()
    hashes.write_text('{"x": ')  # damaged: refused by name, not a traceback
    refused = nnrun("sweep", "--resume", directory, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{hashes}: changed or damaged since the sweep wrote it" in " ".join(refused.stderr.split())
    hashes.write_text(kept)
    resumed = nnrun("sweep", "--resume", directory, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr


def test_a_finished_random_search_grows_by_more_samples_as_if_it_had_asked_for_them(tmp_path):
    whole, grown = tmp_path / "whole", tmp_path / "grown"
    for folder, samples in ((whole, 4), (grown, 2)):
        folder.mkdir()
        write_sweep(folder, SWEEP.replace("samples: 4", f"samples: {samples}"), epochs=2)
        assert nnrun("sweep", "sweep.yaml", cwd=folder).returncode == 0
    directory = only_sweep(grown)
    first = (directory / "trials" / "000" / "metrics.csv").stat().st_mtime_ns
    (grown / "more.yaml").write_text(SWEEP)  # samples: 4, nothing else changed
    resumed = nnrun("sweep", "--resume", directory, "more.yaml", cwd=grown)
    assert resumed.returncode == 0, resumed.stderr
    assert "random search, 4 trials" in resumed.stdout and "trial 002 started: " in resumed.stdout
    assert "resuming: 2 trial(s) already finished; samples 2 -> 4" in resumed.stdout
    assert "trial 000 started" not in resumed.stdout  # the finished ones are kept as they are
    assert (directory / "trials" / "000" / "metrics.csv").stat().st_mtime_ns == first
    assert without_times(trials(directory)) == without_times(trials(only_sweep(whole)))
    assert yaml.safe_load((directory / "sweep.yaml").read_text())["samples"] == 4
    # Fewer samples would drop trials that ran: refused, as any other change is.
    (grown / "fewer.yaml").write_text(SWEEP.replace("samples: 4", "samples: 3"))
    refused = nnrun("sweep", "--resume", directory, "fewer.yaml", cwd=grown)
    assert refused.returncode == 2 and "changed: samples (4 -> 3)" in refused.stderr
    # More samples than three digits number: refused alone with why, or listed among other changes.
    (grown / "many.yaml").write_text(SWEEP.replace("samples: 4", "samples: 1001"))
    refused = nnrun("sweep", "--resume", directory, "many.yaml", cwd=grown)
    assert refused.returncode == 2 and "samples: 4 -> 1001 would number the trials with more digits than the 4 in " \
        in " ".join(refused.stderr.split())
    (grown / "many.yaml").write_text(SWEEP.replace("samples: 4", "samples: 1001").replace("seed: 3", "seed: 4"))
    refused = nnrun("sweep", "--resume", directory, "many.yaml", cwd=grown)
    assert refused.returncode == 2 and "changed: samples (4 -> 1001), seed (3 -> 4)" in " ".join(refused.stderr.split())


def test_a_base_edited_while_the_sweep_runs_changes_none_of_its_trials(tmp_path, monkeypatch):
    from nnrun.commands.sweep.trial import run_trial, sweep_context

    write_sweep(tmp_path, SWEEP.replace("samples: 4", "samples: 1"), epochs=2)
    assert nnrun("sweep", "sweep.yaml", cwd=tmp_path).returncode == 0
    directory = only_sweep(tmp_path)
    copy = yaml.safe_load((directory / "base.source.yaml").read_text())
    assert copy == yaml.safe_load((tmp_path / "base.yaml").read_text())  # the file's data, name included
    base = tmp_path / "base.yaml"
    base.write_text(base.read_text().replace("batch_size: 32", "batch_size: 16").replace("units: 8", "units: 5"))

    # A trial that starts after the edit, as the sweep's next trial process would.
    monkeypatch.chdir(tmp_path)
    sweep_context.cache_clear()
    outcome = run_trial(directory, "009", {"optimizer.learning_rate": 0.01})
    assert outcome["status"] == "completed", outcome
    config = yaml.safe_load((directory / "trials" / "009" / "config.yaml").read_text())
    assert config["training"]["batch_size"] == 32 and config["model"]["layers"][0]["units"] == 8
    assert config["optimizer"]["learning_rate"] == 0.01


class _StoppedTrial:
    """A trial process as the sweep sees it when Ctrl-C stops it: SIGINT sent, no outcome."""

    def __init__(self, trial_id: str):
        from nnrun.commands.sweep.trials import Trial

        self.trial, self.outcome, self.started = Trial(trial_id, {}), None, 0.0

    def interrupt(self):
        pass

    def error_tail(self):
        return ""


def test_a_trial_started_again_is_resumed_only_from_a_checkpoint_of_its_own(tmp_path):
    from types import SimpleNamespace

    from nnrun.commands.sweep.runner import SweepState
    from nnrun.commands.sweep.trials import Trial

    swept = SimpleNamespace(trial_dir=lambda trial_id: tmp_path / trial_id, write_trials=lambda trials: None,
                            sweep=SimpleNamespace(metric="val_accuracy", direction="max"))
    shown = []
    state = SweepState(swept, [Trial(i, {}, "interrupted") for i in ("001", "002", "004")],
                       SimpleNamespace(started=lambda trial: shown.append((trial.id, trial.resumed_from))))
    for trial_id, epochs in (("001", (0, 3)), ("004", (0,))):
        (tmp_path / trial_id / "checkpoints").mkdir(parents=True)
        for epoch in epochs:
            (tmp_path / trial_id / "checkpoints" / f"epoch-{epoch:06d}.safetensors").write_bytes(b"")
    (tmp_path / "002").mkdir()  # killed before its first checkpoint: it starts over
    for trial_id in ("001", "002", "003", "004"):
        state.started(Trial(trial_id, {}))
    # 004 has only the checkpoint of its start: the screen says it starts again
    assert shown == [("001", 3), ("002", None), ("003", None), ("004", 0)]
    import io

    from rich.console import Console

    from nnrun.console.sweep_view import SweepView

    out = io.StringIO()
    view = SweepView(Console(file=out, width=200))
    varied = SimpleNamespace(type="choice", extremes=lambda: [None, 0.1])
    constant = SimpleNamespace(type="choice", extremes=lambda: [20])
    view.swept = SimpleNamespace(sweep=SimpleNamespace(parameters={
        "optimizer.learning_rate": varied, "training.early_stopping": varied, "training.epochs": constant}))
    for trial_id, epoch in (("001", 3), ("004", 0)):
        view.started(SimpleNamespace(id=trial_id, values={"optimizer.learning_rate": 0.1}, resumed_from=epoch))
    assert "trial 001 resumed after epoch 3: optimizer.learning_rate=0.1" in out.getvalue()
    assert "trial 004 started again (it stopped before its first checkpoint after an epoch): " in out.getvalue()
    # A swept null is written as YAML writes it, not as a table's empty cell.
    view.started(SimpleNamespace(id="005", values={"training.early_stopping": None}, resumed_from=None))
    assert "trial 005 started: training.early_stopping=null" in out.getvalue()
    # A constant every trial sets is said once before the trials, not on each one's line.
    view.started(SimpleNamespace(id="006", values={"training.epochs": 20, "optimizer.learning_rate": 0.1},
                                 resumed_from=None))
    view.started(SimpleNamespace(id="007", values={"training.epochs": 20}, resumed_from=None))
    assert "trial 006 started: optimizer.learning_rate=0.1\ntrial 007 started\n" in out.getvalue()


@pytest.mark.parametrize("returncode, message", [
    (-signal.SIGINT, "stopped by Ctrl-C"),
    (-signal.SIGKILL, "stopped by Ctrl-C; the trial process was killed by SIGKILL"),
    (3, "stopped by Ctrl-C; the trial process exited with code 3"),
])
def test_a_trial_stopped_before_its_outcome_says_why_in_words(tmp_path, returncode, message):
    import queue
    from types import SimpleNamespace

    from nnrun.commands.sweep.local import _stop_all

    finished = {}
    swept = SimpleNamespace(trial_dir=lambda trial_id: tmp_path / trial_id,
                            sweep=SimpleNamespace(metric="val_accuracy", direction="max"))
    state = SimpleNamespace(stopping=lambda how: None, swept=swept, trials={},
                            finished=lambda trial, outcome: finished.update({trial.id: outcome}))
    for trial_id, rows in (("003", ""), ("004", "epoch,loss,val_accuracy\n1,0.9,0.5\n2,0.7,0.75\n3,0.6,0.7\n")):
        if rows:  # it had trained, and was stopped as it wrapped up: its run's record is its score
            (tmp_path / trial_id).mkdir()
            (tmp_path / trial_id / "metrics.csv").write_text(rows)
        process = _StoppedTrial(trial_id)
        events = queue.Queue()
        events.put((process, {"exit": returncode}))
        _stop_all({trial_id: process}, events, search=None, state=state, signal_name="Ctrl-C")
    assert finished["003"] == {"status": "interrupted", "message": message, "best": None, "best_epoch": None,
                               "epochs": 0}
    assert finished["004"] == {"status": "interrupted", "message": message, "best": 0.75, "best_epoch": 2,
                               "epochs": 3}
    # Recorded as started, its process not yet there when the stop came: interrupted, never left running.
    from nnrun.commands.sweep.trials import Trial

    state.trials = {"005": Trial("005", {}, status="running")}
    _stop_all({}, queue.Queue(), search=None, state=state, signal_name="SIGTERM")
    assert finished["005"] == {"status": "interrupted", "message": "stopped by SIGTERM as it started", "best": None,
                               "best_epoch": None, "epochs": 0}


def test_the_signal_that_stopped_a_sweep_is_told_even_if_another_interrupt_replaced_its_exception():
    # Ray's event loop may turn the handler's KeyboardInterrupt("SIGTERM") into a bare one
    # on its way to the sweep's except: the trials must still say SIGTERM.
    import os

    from nnrun.commands.sweep.stopping import stopped_by, stopped_by_signals

    with stopped_by_signals():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs between two bytecodes, long before this ends
        except KeyboardInterrupt:
            pass
        assert stopped_by(KeyboardInterrupt()) == "SIGTERM"
    with stopped_by_signals():  # a new sweep starts with no signal on record
        assert stopped_by(KeyboardInterrupt()) == "Ctrl-C"
        assert stopped_by(KeyboardInterrupt("SIGTERM")) == "SIGTERM"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the drop it reproduces
def test_a_signal_whose_interrupt_a_finalizer_swallowed_still_stops_the_sweep():
    """A signal handler raises in whatever code runs; in a finalizer (Ray's
    ActorHandle.__del__) Python drops the exception. The signal is still recorded, and
    the sweep's loops raise it again: under Ray, a SIGTERM so lost let the sweep finish
    with exit code 0."""
    import signal as signals

    from nnrun.commands.sweep import stopping

    class Finalized:
        def __del__(self):
            signals.raise_signal(signals.SIGTERM)  # the handler's KeyboardInterrupt is printed and dropped

    with stopping.stopped_by_signals():
        Finalized()  # collected at once
        assert stopping.received()
        with pytest.raises(KeyboardInterrupt) as caught:
            stopping.raise_if_received()
        assert stopping.stopped_by(caught.value) == "SIGTERM"
    with stopping.stopped_by_signals():  # the next sweep starts without it
        stopping.raise_if_received()


def test_a_resume_runs_a_trial_whose_folder_is_gone_again_and_refuses_a_damaged_trials_csv(tmp_path):
    # A deleted trial folder once failed the resume part way, with a bare OS error, as
    # best.yaml was copied from it; a trials.csv cut short had its cut metric ranked.
    write_sweep(tmp_path)
    assert nnrun("sweep", "sweep.yaml", cwd=tmp_path).returncode == 0
    sweep = only_sweep(tmp_path)
    before, best = trials(sweep), (sweep / "best.yaml").read_text()
    chosen = best.split("best trial of this sweep: ")[1][:3]
    shutil.rmtree(sweep / "trials" / chosen)
    result = nnrun("sweep", "--resume", sweep, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"trials/{chosen}: gone, with its weights; trial {chosen} runs again" in result.stdout
    assert without_times(trials(sweep)) == without_times(before)
    body = [line for line in best.splitlines() if not line.startswith("# Retrain")]  # that line names the path given
    assert [line for line in (sweep / "best.yaml").read_text().splitlines() if not line.startswith("# Retrain")] == body
    written = (sweep / "trials.csv").read_text()
    for damaged, said in ((written[:150], "trials.csv: its last line is cut short; the sweep writes it whole each "
                                          "time, so it was changed or damaged since"),
                          (written.replace(",completed,", ",done,", 1), "trials.csv, line 2: not a row the sweep "
                                                                        "writes"),
                          (written + "x\udcff\n", "trials.csv: holds bytes that are no UTF-8 text")):
        (sweep / "trials.csv").write_bytes(damaged.encode("utf-8", "surrogateescape"))
        result = nnrun("sweep", "--resume", sweep, cwd=tmp_path)
        assert result.returncode == 2 and said in " ".join(result.stderr.split()), result.stderr
        assert "hint: put back the file the sweep wrote, or start the sweep again" in result.stderr


def test_a_sweep_runs_and_resumes_with_other_workers_without_a_changed_result(tmp_path):
    """--workers in place of executor.workers, and a sweep file that changes only them
    on a resume: the trials at once change no trial."""
    write_sweep(tmp_path, SWEEP.replace("samples: 4", "samples: 2"), epochs=1)
    result = nnrun("sweep", "sweep.yaml", "--run-dir", "out", "-q", "--workers", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((tmp_path / "out" / "sweep.yaml").read_text())["executor"]["workers"] == 1  # as it ran
    whole = trials(tmp_path / "out")
    (tmp_path / "out" / "trials.csv").write_text(  # as if stopped after its first trial
        "\n".join((tmp_path / "out" / "trials.csv").read_text().splitlines()[:2]) + "\n")
    shutil.rmtree(tmp_path / "out" / "trials" / "001")
    listing = nnrun("runs", ".", cwd=tmp_path)
    assert re.search(r"out\s+sweep, killed\s+1 of 2 trials", listing.stdout), listing.stdout  # what it plans, said
    assert json.loads(nnrun("runs", ".", "--json", cwd=tmp_path).stdout)[0]["planned_trials"] == 2
    (tmp_path / "more.yaml").write_text((tmp_path / "sweep.yaml").read_text().replace("workers: 2", "workers: 3"))
    result = nnrun("sweep", "more.yaml", "--resume", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "local executor (3 workers)" in result.stdout
    assert without_times(trials(tmp_path / "out")) == without_times(whole)
    (tmp_path / "ray.yaml").write_text((tmp_path / "sweep.yaml").read_text().replace("{type: local, workers: 2}",
                                                                                     "{type: ray}"))
    result = nnrun("sweep", "ray.yaml", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 2 and "--workers: the sweep runs its trials on Ray (executor: ray), which starts " \
        "as many at once as executor.max_concurrent_trials says" in " ".join(result.stderr.split())


def test_a_sweep_from_python_returns_its_trials_and_best_and_resumes(tmp_path, capfd):
    """nnrun.sweep, as a Ray Tune user calls tune.run: the sweep directory the command
    writes, its best trial to load or retrain, and nothing on standard output when quiet."""
    import nnrun
    from nnrun.errors import UserError

    sweep_file = write_sweep(tmp_path, SWEEP.replace("samples: 4", "samples: 2"), epochs=2)
    result = nnrun.sweep(sweep_file, run_dir=tmp_path / "out", workers=1)
    assert capfd.readouterr().out == ""  # the trial processes' too
    assert result.path == tmp_path / "out" and [t.id for t in result.trials] == ["000", "001"]
    assert result.best.status == "completed" and result.best_config == tmp_path / "out" / "best.yaml"
    assert result.best_run == tmp_path / "out" / "trials" / result.best.id
    assert nnrun.load(result.best_run).config.optimizer.learning_rate == result.best.values["optimizer.learning_rate"]
    again = nnrun.sweep(resume=tmp_path / "out")  # finished: as recorded
    assert [(t.id, t.best) for t in again.trials] == [(t.id, t.best) for t in result.trials]
    with pytest.raises(UserError, match="workers: expected a whole number from 1 to 1024, got 0"):
        nnrun.sweep(sweep_file, workers=0)
    with pytest.raises(UserError, match=re.escape("sweep: give a sweep file, or resume= a sweep directory to finish")):
        nnrun.sweep()
    with pytest.raises(UserError, match=re.escape("resume: expected the path of a sweep directory, got int")):
        nnrun.sweep(resume=123)
    with pytest.raises(UserError, match=re.escape("quiet: expected True or False, got 'no'")):
        nnrun.sweep(sweep_file, quiet="no")
    with pytest.raises(UserError, match=re.escape("run_dir: not with resume; a resumed sweep goes on in its own")):
        nnrun.sweep(resume=tmp_path / "out", run_dir=tmp_path / "elsewhere")  # told in Python's words


def test_a_sweep_stopped_from_python_is_a_keyboard_interrupt_as_a_runs_is(tmp_path, monkeypatch):
    """A loop of sweeps with ``except Exception`` around each stops at Ctrl-C; the hint
    says how to finish it in Python's words."""
    import nnrun
    from nnrun.commands.sweep import runner
    from nnrun.errors import Interrupted

    def stopped(*args, **kwargs):
        raise runner.SweepInterrupted("the sweep stopped", hint=f"resume it with: {runner.sweep_resume('out')}")

    monkeypatch.setattr(runner, "run_sweep", stopped)
    with pytest.raises(Interrupted) as caught:
        nnrun.sweep(write_sweep(tmp_path))
    assert isinstance(caught.value, KeyboardInterrupt) and caught.value.message == "the sweep stopped"
    assert caught.value.hint == "resume it with: nnrun.sweep(resume='out')"


def test_a_trial_whose_sweep_died_exits_as_killed_not_as_failed(monkeypatch):
    """Between the sweep's SIGKILL and the death signal it sends its trials, a trial that
    writes its epoch to the closed pipe leaves as that signal would take it: no failure
    of its own recorded, so --resume resumes it (it was once recorded '[Errno 32] Broken pipe')."""
    from nnrun.commands.sweep import worker

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    exits = []
    monkeypatch.setattr(worker.sys, "stdout", ClosedPipe())
    monkeypatch.setattr(worker.os, "_exit", lambda code: exits.append(code) or (_ for _ in ()).throw(SystemExit(code)))
    with pytest.raises(SystemExit):
        worker.send({"epoch": 3, "row": {}})
    assert exits == [1]
