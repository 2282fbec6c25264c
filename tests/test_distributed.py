"""`mpiexec -n N nnrun train`: one run over N processes, as a user starts it.

These tests need the MPI extra (`pip install 'nnrun[mpi]'`, which brings mpiexec);
without it they are skipped, except those about a plain process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from safetensors.numpy import load_file
from conftest import run_python

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MPIEXEC = shutil.which("mpiexec", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
NNRUN = [sys.executable, "-m", "nnrun"]

try:
    import mpi4py  # noqa: F401

    HAVE_MPI = MPIEXEC is not None
except ImportError:
    HAVE_MPI = False
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs the MPI extra: pip install 'nnrun[mpi]'")

# Batch norm, dropout, shuffling and a schedule: everything that must not depend on N.
SYNTHETIC = {
    "name": "parallel",
    "seed": 7,
    "data": {"source": {"type": "synthetic", "samples": 3000, "features": 20, "classes": 3},
             "split": {"validation": 0.1, "test": 0.1}, "preprocess": ["standardize"]},
    "model": {"layers": [{"type": "dense", "units": 64, "activation": "relu"},
                         {"type": "batch_normalization"},
                         {"type": "dropout", "rate": 0.3},
                         {"type": "dense", "units": 3, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "optimizer": {"type": "sgd", "learning_rate": 0.05, "momentum": 0.9},
    "metrics": ["accuracy"],
    "training": {"epochs": 8, "batch_size": 50, "checkpoint": {"every_epochs": 1, "keep": 2}},
}


# The signal tests stop a run part-way: long enough that no machine finishes it before the
# signal arrives (eight epochs of this size take well under a second).
LONG = {**SYNTHETIC, "training": {**SYNTHETIC["training"], "epochs": 40}}


def environment() -> dict:
    # One BLAS thread per process, as a data-parallel run should have.
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def mpiexec(n: int, *args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([MPIEXEC, "-n", str(n), *NNRUN, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=environment())


def plain(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*NNRUN, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=environment())


def largest_difference(run_a: Path, run_b: Path) -> float:
    a, b = load_file(run_a / "model.safetensors"), load_file(run_b / "model.safetensors")
    assert sorted(a) == sorted(b)
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k]))) for k in a)


def write_config(tmp_path: Path, config: dict, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


@needs_mpi
@pytest.mark.parametrize("config", ["iris", "wine", "digits_cnn"])
def test_two_processes_train_the_weights_of_one(tmp_path, config):
    source = ROOT / "configs" / f"{config}.yaml"
    one = plain("train", source, "--set", "training.epochs=5", "--run-dir", tmp_path / "one", "--quiet")
    assert one.returncode == 0, one.stderr
    two = mpiexec(2, "train", source, "--set", "training.epochs=5", "--run-dir", tmp_path / "two", "--quiet")
    assert two.returncode == 0, two.stderr
    # Only rounding differs, and it can grow over the epochs: digits_cnn's largest weight
    # difference after 5 epochs is 6.3e-05 with its seed (42) and under 1e-6 with seeds
    # 1 to 3. A share of the batch scaled wrongly, or a sum missing a process, is far
    # larger, and moves the losses too.
    assert largest_difference(tmp_path / "one", tmp_path / "two") <= (1e-4 if config == "digits_cnn" else 1e-5)
    assert two.stdout.count("files:") == 1  # process 0 alone prints
    meta = json.loads((tmp_path / "two" / "meta.json").read_text())
    alone = json.loads((tmp_path / "one" / "meta.json").read_text())
    assert meta["world_size"] == 2 and meta["status"] == "completed"
    assert alone["world_size"] == 1
    for split, scores in alone["final"].items():
        assert abs(scores["loss"] - meta["final"][split]["loss"]) <= 1e-5, split


@needs_mpi
def test_the_header_says_how_many_processes_train_the_run(tmp_path):
    source = ROOT / "configs" / "iris.yaml"
    two = mpiexec(2, "train", source, "--set", "training.epochs=1", "--run-dir", tmp_path / "two")
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("loss categorical_crossentropy, over 2 processes") == 1  # process 0 alone prints
    one = plain("train", source, "--set", "training.epochs=1", "--run-dir", tmp_path / "one")
    assert "processes" not in one.stdout


@needs_mpi
def test_batch_norm_and_dropout_do_not_depend_on_the_number_of_processes(tmp_path):
    config = write_config(tmp_path, {**SYNTHETIC, "training": {**SYNTHETIC["training"], "epochs": 3}})
    assert plain("train", config, "--run-dir", tmp_path / "n1", "--quiet").returncode == 0
    for n in (1, 3):
        result = mpiexec(n, "train", config, "--run-dir", tmp_path / f"mpi{n}", "--quiet")
        assert result.returncode == 0, result.stderr
    # One process under mpiexec is the plain run, bit for bit.
    assert (tmp_path / "n1/model.safetensors").read_bytes() == (tmp_path / "mpi1/model.safetensors").read_bytes()
    assert largest_difference(tmp_path / "n1", tmp_path / "mpi3") <= 1e-5


@needs_mpi
def test_a_batch_smaller_than_the_process_count_is_a_clear_error(tmp_path):
    result = mpiexec(4, "train", ROOT / "configs/iris.yaml", "--set", "training.batch_size=3",
                     "--run-dir", tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr.count("a batch of 3 samples cannot be split over 4 processes") == 1
    assert "raise training.batch_size to at least 4" in result.stderr
    assert not (tmp_path / "run").exists()


@needs_mpi
def test_a_last_batch_smaller_than_the_process_count_is_a_clear_error(tmp_path):
    # iris: 105 training samples; batches of 26 leave a last batch of 1.
    result = mpiexec(4, "train", ROOT / "configs/iris.yaml", "--set", "training.batch_size=26",
                     "--run-dir", tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr.count("the last batch of every epoch holds 1 sample, too few to split over 4") == 1
    assert "(for example 25)" in result.stderr and not (tmp_path / "run").exists()


@needs_mpi
def test_processes_that_run_other_configs_are_refused_before_training(tmp_path):
    """Machines with other copies of the config: one more epoch left process 0 waiting for
    a sum forever, another learning rate trained weights that drifted apart."""
    config, run = ROOT / "configs/iris.yaml", tmp_path / "run"
    result = subprocess.run(
        [MPIEXEC, "-n", "1", *NNRUN, "train", str(config), "--set", "training.epochs=3", "--run-dir", str(run), ":",
         "-n", "1", *NNRUN, "train", str(config), "--set", "training.epochs=4", "--set",
         "optimizer.learning_rate=0.5", "--run-dir", str(run)], capture_output=True, text=True, timeout=120,
        env=environment())
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("error: process 1 of 2 runs another config than process 0; it differs in\n"
                               "  optimizer.learning_rate (0.001 -> 0.5)\n  training.epochs (3 -> 4)") == 1
    assert "Traceback" not in result.stderr and not run.exists()


@needs_mpi
def test_commands_other_than_train_are_refused_under_a_launcher_of_several(tmp_path):
    result = mpiexec(2, "validate", ROOT / "configs/iris.yaml")
    assert result.returncode == 2 and "valid" not in result.stdout
    assert result.stderr.count("error: nnrun validate: started by an MPI launcher with 2 processes, each of which "
                               "would run nnrun validate whole") == 1
    assert mpiexec(1, "validate", ROOT / "configs/iris.yaml").returncode == 0  # one process: the plain command


@needs_mpi
def test_a_config_mistake_is_reported_once(tmp_path):
    result = mpiexec(2, "train", ROOT / "configs/iris.yaml", "--set", "training.epochs=0")
    assert result.returncode == 2
    assert result.stderr.count("training.epochs: expected a whole number of at least 1") == 1


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_run_left_behind():
    """After each test, kill what is left of the mpiexec runs it started: when a test
    fails midway, a process stuck in a collective would otherwise spin on a core for
    the rest of the suite."""
    yield
    while _STARTED:
        session = _STARTED.pop().pid
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and os.getsid(int(entry.name)) == session:
                    os.kill(int(entry.name), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _start(tmp_path, n: int, config: Path, run: Path, *, exit_codes: bool = False) -> subprocess.Popen:
    """mpiexec in its own session; with EXIT_CODES each process runs under a shell that
    writes its exit code to tmp_path/exit-RANK.

    That shell also holds the launcher's connection to its process open after the process
    dies, so the launcher may see the death as an ordinary exit and leave the others
    running: a test that kills a process starts nnrun alone, as a user does."""
    train = [*NNRUN, "train", str(config), "--run-dir", str(run)]
    if exit_codes:
        script = f'trap : INT TERM; "$@"; code=$?; echo $code > {tmp_path}/exit-$PMI_RANK; exit $code'
        train = ["sh", "-c", script, "sh", *train]
    command = [MPIEXEC, "-n", str(n), *train]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment(), start_new_session=True)
    _STARTED.append(process)
    return process


def _wait_for_checkpoint(run: Path, epoch: int, process: subprocess.Popen) -> None:
    """Until a checkpoint of EPOCH or later exists (with `keep: 2` an early one may come and go unseen)."""
    deadline = time.monotonic() + 120
    while not any(int(path.stem.removeprefix("epoch-")) >= epoch
                  for path in (run / "checkpoints").glob("epoch-*.safetensors")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)


def _ranks(run: Path) -> dict[int, int]:
    """pid of each process of a running `nnrun train --run-dir RUN`, by rank."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
            if str(run).encode() in arguments and b"train" in arguments:
                variables = dict(v.split(b"=", 1) for v in (entry / "environ").read_bytes().split(b"\0") if b"=" in v)
                if b"PMI_RANK" in variables and (entry / "exe").resolve().name.startswith("python"):
                    found[int(variables[b"PMI_RANK"])] = int(entry.name)
        except OSError:
            continue
    return found


@needs_mpi
def test_ctrl_c_stops_every_process_with_130_and_the_run_resumes_bit_identically(tmp_path):
    config = write_config(tmp_path, LONG)
    reference = mpiexec(2, "train", config, "--run-dir", tmp_path / "reference", "--quiet")
    assert reference.returncode == 0, reference.stderr

    run = tmp_path / "run"
    process = _start(tmp_path, 2, config, run, exit_codes=True)
    _wait_for_checkpoint(run, 2, process)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert {(tmp_path / f"exit-{rank}").read_text().strip() for rank in (0, 1)} == {"130"}
    assert "stopped by SIGINT" in err and f"mpiexec -n 2 nnrun train --resume {run}" in err
    assert json.loads((run / "meta.json").read_text())["status"] == "interrupted"

    resumed = mpiexec(2, "train", "--resume", run, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert (run / "model.safetensors").read_bytes() == (tmp_path / "reference/model.safetensors").read_bytes()
    assert "resumes with" not in resumed.stderr


@needs_mpi
def test_a_killed_process_stops_the_others_and_the_run_is_failed_and_resumable(tmp_path):
    config = write_config(tmp_path, LONG)
    run = tmp_path / "run"
    process = _start(tmp_path, 2, config, run)
    _wait_for_checkpoint(run, 1, process)
    os.kill(_ranks(run)[1], signal.SIGKILL)
    killed = time.monotonic()
    process.communicate(timeout=30)
    assert time.monotonic() - killed < 10 and process.returncode != 0
    deadline = time.monotonic() + 10
    while json.loads((run / "meta.json").read_text())["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "failed" and "2-process run ended without finishing" in meta["failure"]["message"]
    assert _ranks(run) == {}

    resumed = plain("train", "--resume", run, "--quiet")  # with another process count: said
    assert resumed.returncode == 0, resumed.stderr
    assert "trained by 2 processes and resumes with 1" in resumed.stderr
    assert json.loads((run / "meta.json").read_text())["resumes"][-1]["world_size"] == 1


def test_plain_training_never_imports_mpi4py(tmp_path):
    code = (
        "import sys\n"
        "from nnrun.cli import main\n"
        f"sys.argv = ['nnrun', 'train', {str(ROOT / 'configs/iris.yaml')!r}, '--set', 'training.epochs=2',"
        f" '--run-dir', {str(tmp_path / 'run')!r}, '--quiet']\n"
        "try:\n    main()\nexcept SystemExit as stop:\n    assert not stop.code, stop.code\n"
        "print('mpi4py' in sys.modules)\n"
    )
    result = run_python(code, env=environment())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_under_mpiexec_without_mpi4py_the_error_names_the_install_command(tmp_path):
    blocker = tmp_path / "block" / "mpi4py"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('mpi4py is blocked for this test')\n")
    env = {**environment(), "PMI_SIZE": "2", "PMI_RANK": "0", "PYTHONPATH": str(tmp_path / "block")}
    result = subprocess.run([*NNRUN, "train", str(ROOT / "configs/iris.yaml"), "--run-dir", str(tmp_path / "run")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert "started by an MPI launcher with 2 processes, but mpi4py is not installed" in result.stderr
    assert "pip install 'nnrun[mpi]'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "run").exists()


def test_only_the_distributed_module_imports_mpi4py():
    """The model gets its sums across processes passed in (BatchPart); nothing else loads MPI."""
    import ast

    importers = set()
    for path in (ROOT / "nnrun").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == "mpi4py" for name in names):
                importers.add(path.relative_to(ROOT).as_posix())
    assert importers == {"nnrun/engine/distributed.py"}



def test_a_usage_error_under_a_launcher_is_printed_by_process_0_alone(tmp_path):
    """Every process of `mpiexec -n 2 nnrun ...` gets the same misspelt option."""
    def launched(rank: int):
        env = {**os.environ, "PMI_RANK": str(rank), "PMI_SIZE": "2"}
        return subprocess.run([sys.executable, "-m", "nnrun", "train", "--bogus", "x"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    first, second = launched(0), launched(1)
    assert first.returncode == second.returncode == 2
    assert "No such option: --bogus" in first.stderr
    assert second.stderr == second.stdout == ""


@needs_mpi
def test_a_resume_over_processes_refuses_a_held_out_split_changed_since(tmp_path):
    """As a resume in one process: a test file edited since the run began is refused."""
    rows = [f"{i % 7},{i % 5},{'xy'[i % 2]}" for i in range(80)]
    (tmp_path / "d.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "t.csv").write_text("a,b,label\n" + "\n".join(rows[:20]) + "\n")
    config = write_config(tmp_path, {
        "data": {"source": {"type": "csv", "path": str(tmp_path / "d.csv"), "test_path": str(tmp_path / "t.csv"),
                            "target": "label"}},
        "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
        "loss": "categorical_crossentropy", "training": {"epochs": 2, "batch_size": 8}})
    assert mpiexec(2, "train", config, "--run-dir", tmp_path / "r", "--quiet").returncode == 0
    (tmp_path / "t.csv").write_text("a,b,label\n" + "\n".join(rows[1:21]) + "\n")
    resumed = mpiexec(2, "train", "--resume", tmp_path / "r", "--set", "training.epochs=3", "--quiet")
    assert resumed.returncode == 2
    assert "the data no longer matches the run: the test split differs from training" in resumed.stderr


@needs_mpi
def test_a_resume_over_processes_told_where_the_data_is_now_names_it_there_for_evaluate(tmp_path):
    """As a resume in one process: the path given writes into config.yaml, so evaluate finds it."""
    rows = [f"{i % 7},{i % 5},{'xy'[i % 2]}" for i in range(80)]
    (tmp_path / "d.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    stop_at_one = ("import sys, nnrun\nclass Stop:\n    def should_stop(self): return True\n"
                   "nnrun.train(sys.argv[1], run_dir=sys.argv[2], hooks=Stop())\n")
    config = write_config(tmp_path, {
        "data": {"source": {"type": "csv", "path": str(tmp_path / "d.csv"), "target": "label"}},
        "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
        "loss": "categorical_crossentropy", "training": {"epochs": 3, "batch_size": 8}})
    stopped = subprocess.run([sys.executable, "-c", stop_at_one, str(config), str(tmp_path / "r")],
                             capture_output=True, text=True, timeout=120, env=environment())
    assert stopped.returncode == 0, stopped.stderr
    (tmp_path / "d.csv").rename(tmp_path / "moved.csv")
    resumed = mpiexec(2, "train", "--resume", tmp_path / "r", "--set", f"data.source.path={tmp_path / 'moved.csv'}",
                      "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert str(tmp_path / "moved.csv") in (tmp_path / "r" / "config.yaml").read_text()
    evaluated = plain("evaluate", tmp_path / "r")
    assert evaluated.returncode == 0, evaluated.stderr


def test_an_error_one_process_met_is_raised_again_after_the_abort():
    """MPI's Abort ends the process; until it has, the code after the block must not run
    on (it once met an unset result and said that instead of the error)."""
    from nnrun.engine.together import stopping_together

    aborted = []

    class World:
        def abort(self, exc):
            aborted.append(exc)  # returns, as Abort may before the process is gone

    with pytest.raises(ValueError, match="only this process"):
        with stopping_together(World()):
            raise ValueError("only this process")
    assert len(aborted) == 1
