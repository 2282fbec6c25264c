"""The optional compiled kernels (the ``fast`` extra): the same values as the NumPy code
to the last bit, whether built ahead of time into a module (the usual way, without numba
in the training process) or compiled by numba in the process; used only for large
models, and never imported otherwise."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nnrun.model import kernels
from nnrun.model.optimizers import Adam, AdamW
from conftest import train_then

ROOT = Path(__file__).resolve().parent.parent
SIZE = kernels.MIN_PARAMETERS + 7  # not a multiple of any vector width


@pytest.fixture
def fresh_kernels(monkeypatch):
    """Forget what this process loaded, so each test decides anew."""
    monkeypatch.setattr(kernels, "_loaded", {})
    monkeypatch.setattr(kernels, "_unavailable", [])
    monkeypatch.setattr(kernels, "_in_use", [False])


# The two ways to the same kernels: the built module, and numba in this process.
WAYS = ["auto", "jit"]


def needs_compiler() -> None:
    """The built module needs a C compiler (numba.pycc links with it)."""
    import shutil

    if shutil.which("cc") is None and shutil.which("gcc") is None and shutil.which("clang") is None:
        pytest.skip("no C compiler: the kernels are compiled by numba in the process instead")


def loaded_way() -> str:
    """How the loaded kernels came: "built" (a module made by nnrun.model.kernel_build)
    or "jit" (numba's dispatchers)."""
    return "built" if kernels.compiled("adam").__module__.startswith("nnrun_kernels_") else "jit"


def run_steps(optimizer, switch: str, monkeypatch, steps: int = 40):
    monkeypatch.setenv("NNRUN_KERNELS", switch)
    kernels.prepare(SIZE)  # as a run starts: the switch is read here
    rng = np.random.default_rng(3)
    weights = rng.standard_normal(SIZE, dtype=np.float32)
    slots = optimizer.slots(SIZE, np.float32)
    for t in range(1, steps + 1):
        # Gradients over many magnitudes, zeros among them: every rounding path is taken.
        grads = rng.standard_normal(SIZE, dtype=np.float32) * np.float32(10.0 ** rng.integers(-8, 4))
        grads[rng.integers(0, SIZE, 100)] = 0
        optimizer.step(weights, grads, slots, 0.003, t)
    return weights, slots


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("optimizer", [Adam(), Adam(beta_1=0.5, beta_2=0.9, epsilon=1e-3), AdamW(weight_decay=0.01)],
                         ids=["adam", "adam-options", "adamw"])
def test_compiled_adam_gives_the_numpy_weights_bit_for_bit(optimizer, way, fresh_kernels, monkeypatch):
    pytest.importorskip("numba")
    if way == "auto":
        needs_compiler()
    monkeypatch.setenv("NNRUN_KERNELS", way)
    assert kernels.prepare(SIZE)
    assert loaded_way() == {"auto": "built", "jit": "jit"}[way]
    compiled_weights, compiled_slots = run_steps(optimizer, way, monkeypatch)
    numpy_weights, numpy_slots = run_steps(optimizer, "numpy", monkeypatch)
    assert np.array_equal(compiled_weights, numpy_weights)
    for name in ("m", "v"):
        assert np.array_equal(compiled_slots[name], numpy_slots[name]), name


def test_small_models_and_the_switch_keep_the_numpy_code(fresh_kernels, monkeypatch):
    assert not kernels.prepare(kernels.MIN_PARAMETERS - 1)
    assert kernels.compiled("adam") is None
    monkeypatch.setenv("NNRUN_KERNELS", "numpy")
    assert not kernels.prepare(SIZE)
    assert kernels.compiled("adam") is None


def test_each_run_decides_anew_once_the_kernels_are_loaded(fresh_kernels, monkeypatch):
    """Runs one after another in one process (a benchmark alternating the two updates,
    a notebook): the kernels stay loaded, but each run's own prepare() decides."""
    pytest.importorskip("numba")
    monkeypatch.delenv("NNRUN_KERNELS", raising=False)
    assert kernels.prepare(SIZE) and kernels.compiled("adam") is not None
    assert not kernels.prepare(kernels.MIN_PARAMETERS - 1)  # a small model next
    assert kernels.compiled("adam") is None
    monkeypatch.setenv("NNRUN_KERNELS", "numpy")
    assert not kernels.prepare(SIZE)  # a large one with the switch off
    assert kernels.compiled("adam") is None
    monkeypatch.delenv("NNRUN_KERNELS")
    assert kernels.prepare(SIZE) and kernels.compiled("adam") is not None


def test_without_numba_training_uses_numpy(fresh_kernels, monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # as if not installed
    assert not kernels.prepare(SIZE)
    assert kernels.compiled("adam") is None
    weights, _ = run_steps(Adam(), "auto", monkeypatch, steps=2)
    assert np.isfinite(weights).all()


def test_a_small_model_run_never_imports_numba(tmp_path):
    result = train_then(str(ROOT / "configs" / "iris.yaml"), "assert 'numba' not in sys.modules\n", tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("way", WAYS)
def test_compiled_finite_check_finds_nan_and_both_infinities(way, fresh_kernels, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setenv("NNRUN_KERNELS", way)
    assert kernels.prepare(SIZE)
    all_finite = kernels.compiled("all_finite")
    values = np.random.default_rng(0).standard_normal(SIZE, dtype=np.float32) * np.float32(1e30)
    assert all_finite(values)  # large but finite: a float32 sum of these would overflow
    for bad in (np.nan, np.inf, -np.inf):
        spoiled = values.copy()
        spoiled[SIZE - 3] = bad
        assert not all_finite(spoiled), bad


def test_a_large_activation_model_loads_them_by_its_values(fresh_kernels):
    pytest.importorskip("numba")
    assert not kernels.prepare(1000, kernels.MIN_VALUES - 1)
    assert kernels.prepare(1000, kernels.MIN_VALUES)
    assert kernels.compiled("max_pool_forward") is not None


def _element_wise_results(switch: str, monkeypatch) -> list[np.ndarray]:
    """Max pooling both ways (tiled and overlapping windows, NaN, ties, zeros after
    relu; backward also taking relu's gradient) and relu with a bias and its gradient,
    on one and two row threads."""
    from nnrun.model.activations import ACTIVATIONS
    from nnrun.model.layers.pooling import MaxPool1D, MaxPool2D
    from nnrun.model.rows import row_threads

    monkeypatch.setenv("NNRUN_KERNELS", switch)
    kernels.prepare(1000, kernels.MIN_VALUES)
    monkeypatch.setattr("nnrun.model.rows.MIN_ELEMENTS", 64)  # split even these small arrays
    rng = np.random.default_rng(5)
    results = []
    cases = [(MaxPool2D(), (6, 8, 10, 5)), (MaxPool2D(pool_size=3, strides=2, padding="same"), (4, 7, 9, 3)),
             (MaxPool2D(pool_size=(2, 1)), (3, 6, 5, 2)), (MaxPool1D(), (5, 8, 3))]
    for threads in (1, 2):
        with row_threads(threads):
            for layer, shape in cases:
                x = np.maximum(rng.standard_normal(shape, dtype=np.float32), 0)  # many tied zeros
                x.reshape(-1)[[0, 7, 8]] = [np.nan, -0.0, np.inf]
                y, cache = layer.forward({}, x, True, None)
                dy = rng.standard_normal(y.shape, dtype=np.float32)
                dy.reshape(-1)[3] = np.inf
                results += [y, layer.backward({}, cache, dy)[0], layer.backward({}, cache, dy, relu_input=True)[0]]
            z = rng.standard_normal((40, 12), dtype=np.float32)
            z[0, :4] = [np.nan, -0.0, 0.0, -1.0]
            bias = rng.standard_normal(12, dtype=np.float32)
            bias[:4] = [0.0, -0.0, -0.0, 1.0]  # -0.0 + -0.0 stays -0.0; relu makes it 0.0
            y, _ = ACTIVATIONS["relu"].apply(z, bias)
            dy = rng.standard_normal(y.shape, dtype=np.float32)
            dy[1, :2] = [np.inf, np.nan]
            results += [y, ACTIVATIONS["relu"].gradient(None, y, dy)]
    return results


@pytest.mark.parametrize("way", WAYS)
def test_compiled_element_wise_kernels_give_the_numpy_values_bit_for_bit(way, fresh_kernels, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setenv("NNRUN_KERNELS", way)
    assert kernels.prepare(1000, kernels.MIN_VALUES)
    with np.errstate(invalid="ignore"):
        compiled = _element_wise_results(way, monkeypatch)
        plain = _element_wise_results("numpy", monkeypatch)
    assert len(compiled) == len(plain) == 28
    for index, (a, b) in enumerate(zip(compiled, plain)):
        assert a.shape == b.shape, index
        # As bits: NaN where NumPy has NaN, and the sign of every zero.
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), index


def test_the_compiled_kernels_take_only_contiguous_float32(fresh_kernels):
    pytest.importorskip("numba")
    assert kernels.prepare(1000, kernels.MIN_VALUES)
    images = np.zeros((2, 4, 4, 3), np.float32)
    assert kernels.compiled("max_pool_forward", images) is not None
    assert kernels.compiled("max_pool_forward", images.astype(np.float64)) is None  # gradient checks
    assert kernels.compiled("max_pool_forward", images[:, ::2]) is None
    assert kernels.compiled(None, images) is None


LARGE_MODEL = """
name: large
seed: 0
data:
  source: {type: synthetic, samples: 64, features: 784, classes: 10, seed: 0}
  split: {validation: 0, test: 0, stratify: false}
model:
  layers:
    - {type: dense, units: 128, activation: relu}
    - {type: dense, units: 10, activation: softmax}
loss: categorical_crossentropy
optimizer: adam
training: {epochs: 2, batch_size: 32}
"""


def test_a_large_model_trains_with_the_built_kernels_and_without_numba(tmp_path):
    pytest.importorskip("numba")
    needs_compiler()
    (tmp_path / "large.yaml").write_text(LARGE_MODEL)
    result = train_then("large.yaml", "from nnrun.model import kernels\n"
                        "assert kernels.compiled('adam').__module__.startswith('nnrun_kernels_')\n"
                        "assert 'numba' not in sys.modules and 'llvmlite' not in sys.modules\n", tmp_path)
    assert result.returncode == 0, result.stderr


class FakeBuild:
    """Stands in for the build's child process: records the command, exits with
    ``status`` after printing a compiler's complaint."""

    def __init__(self, status: int, builds: list):
        self.status, self.builds = status, builds

    def __call__(self, command, **options):
        self.builds.append(command)
        self.pid, self.returncode = 0, self.status
        return self

    def communicate(self, timeout=None):
        return b"", b"error: command 'gcc' failed: No such file or directory"


def test_a_failed_build_is_noted_and_numba_compiles_in_the_process(tmp_path, fresh_kernels, monkeypatch):
    """No C compiler, say: the reason is kept beside where the module would be, this
    run and every later one compile with numba, and none tries to build again."""
    pytest.importorskip("numba")
    import subprocess

    from nnrun.model.kernel_build import CANNOT_BUILD

    monkeypatch.setenv("NNRUN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NNRUN_KERNELS", raising=False)
    builds = []
    monkeypatch.setattr(subprocess, "Popen", FakeBuild(CANNOT_BUILD, builds))
    assert kernels.prepare(SIZE)
    assert loaded_way() == "jit" and len(builds) == 1
    assert builds[0][1:3] == ["-m", "nnrun.model.kernel_build"]
    note = next((tmp_path / "kernels").glob("*.failed")).read_text()
    assert "could not be built" in note and "Delete this file to try again" in note and "'gcc' failed" in note
    assert not list((tmp_path / "kernels").glob("*.partial"))
    monkeypatch.setattr(kernels, "_loaded", {})
    assert kernels.prepare(SIZE) and loaded_way() == "jit"
    assert len(builds) == 1  # noted: not tried again


def test_a_passing_failure_is_tried_again_by_the_next_run(tmp_path, fresh_kernels, monkeypatch):
    """A build killed, timed out or out of disk says nothing about this machine."""
    pytest.importorskip("numba")
    import subprocess

    monkeypatch.setenv("NNRUN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NNRUN_KERNELS", raising=False)
    builds = []
    monkeypatch.setattr(subprocess, "Popen", FakeBuild(-9, builds))
    assert kernels.prepare(SIZE) and loaded_way() == "jit"
    assert not list((tmp_path / "kernels").glob("*.failed"))
    monkeypatch.setattr(kernels, "_loaded", {})
    assert kernels.prepare(SIZE) and loaded_way() == "jit"
    assert len(builds) == 2


@pytest.mark.parametrize("build_works", [True, False], ids=["built", "build-failed"])
def test_processes_starting_together_build_the_module_once(build_works, tmp_path, monkeypatch):
    """Several runs start at once on a machine with no module yet: one builds it, the
    others wait for that build and load what it made; when it failed, they compile in
    their own process rather than each trying again in turn. (Threads stand in for
    processes: each opens the lock file on its own, and such locks exclude each other
    as between processes.)"""
    pytest.importorskip("numba")
    pytest.importorskip("fcntl")
    import threading
    import types

    from nnrun.model.kernel_code import SIGNATURES

    monkeypatch.setenv("NNRUN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NNRUN_KERNELS", raising=False)
    builds, started = [], threading.Barrier(3)

    def slow_build(path):
        builds.append(path)
        time.sleep(0.3)  # long enough for every other thread to reach the lock
        if build_works:
            path.write_bytes(b"built")
        return build_works

    def import_built(path):
        exists = path.is_file() and path.read_bytes() == b"built"
        return types.SimpleNamespace(**{name: name for name in SIGNATURES}) if exists else None

    monkeypatch.setattr(kernels, "_build", slow_build)
    monkeypatch.setattr(kernels, "_import_built", import_built)
    monkeypatch.setattr(kernels, "_compile_here", lambda: {name: "in-process" for name in SIGNATURES})
    loaded = []

    def run():
        started.wait()
        loaded.append(kernels._load())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(builds) == 1
    way = {name: name for name in SIGNATURES} if build_works else {name: "in-process" for name in SIGNATURES}
    assert loaded == [way] * 3


def test_a_cache_out_of_reach_leaves_numba_in_the_process(fresh_kernels, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.delenv("NNRUN_KERNELS", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(kernels, "_cache_dir", no_home)
    assert kernels.prepare(SIZE) and loaded_way() == "jit"


def test_a_module_file_that_does_not_load_is_built_again(tmp_path, fresh_kernels, monkeypatch):
    pytest.importorskip("numba")
    needs_compiler()
    monkeypatch.setenv("NNRUN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NNRUN_KERNELS", raising=False)
    path = kernels.module_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a shared library")
    assert kernels.prepare(SIZE) and loaded_way() == "built"
    assert path.read_bytes().startswith(b"\x7fELF") or sys.platform != "linux"


def test_the_build_keeps_no_module_whose_kernels_differ_from_their_code(tmp_path, fresh_kernels, monkeypatch):
    pytest.importorskip("numba")
    from nnrun.model import kernel_build, kernel_code

    needs_compiler()
    monkeypatch.delenv("NNRUN_KERNELS", raising=False)
    assert kernels.prepare(SIZE) and loaded_way() == "built"
    built = kernels.module_path()
    kernel_build.check(built, built.name.split(".")[0])  # the cached module passes
    relu_gradient = kernel_code.relu_gradient

    def off_by_one(y, dy, out):
        relu_gradient(y, dy, out)
        out[3] += 1

    monkeypatch.setattr(kernel_code, "relu_gradient", off_by_one)
    with pytest.raises(RuntimeError, match="relu_gradient: argument 2 differs"):
        kernel_build.check(built, built.name.split(".")[0])


def test_a_module_that_differs_from_its_code_is_never_put_in_place(tmp_path, monkeypatch, capfd):
    """The whole build, in this process, checked against a reference that differs: it
    stops, and nothing is left where training would import it; the command says it
    cannot build here."""
    pytest.importorskip("numba")
    needs_compiler()
    import types

    from nnrun.model import kernel_build, kernel_code

    monkeypatch.setenv("NNRUN_CACHE_DIR", str(tmp_path))
    path = kernels.module_path()

    def off(z, bias):
        kernel_code.bias_relu(z, bias)
        z[0, 0] = 7

    reference = types.SimpleNamespace(**{name: getattr(kernel_code, name) for name in kernel_code.SIGNATURES})
    reference.bias_relu = off
    with pytest.raises(RuntimeError, match="bias_relu: argument 0 differs"):
        kernel_build.build(path, reference)
    assert list(path.parent.iterdir()) == []  # neither the module nor its work folder

    def differs(path):
        raise RuntimeError("bias_relu: argument 0 differs from the interpreted code's")

    monkeypatch.setattr(kernel_build, "build", differs)
    assert kernel_build.main([str(path)]) == kernel_build.CANNOT_BUILD
    assert "bias_relu: argument 0 differs" in capfd.readouterr().err


def test_the_build_refuses_a_path_that_is_not_this_nnruns_module(tmp_path, capfd):
    pytest.importorskip("numba")
    from nnrun.model import kernel_build

    assert kernel_build.main([str(tmp_path / "nnrun_kernels_0000.so")]) == 2
    assert "is not this nnrun's module here" in capfd.readouterr().err


def test_the_module_is_named_for_the_cpu_and_the_cache_folder(tmp_path, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setenv("NNRUN_CACHE_DIR", str(tmp_path))
    here = kernels.module_path()
    assert here.parent == tmp_path / "kernels" and here.name.startswith("nnrun_kernels_")
    monkeypatch.setattr(kernels, "_cpu", lambda: "another CPU")
    assert kernels.module_path().name != here.name
    monkeypatch.undo()
    monkeypatch.setenv("NNRUN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")  # numba told to build for another CPU
    assert kernels.module_path().name != here.name


@pytest.mark.parametrize("way", WAYS + ["numpy"])
def test_no_nan_gradient_reaches_the_weights_and_the_step_says_so(way, fresh_kernels, monkeypatch):
    """A NaN in the third block of gradients: the step returns False. The NumPy code
    changes nothing; the compiled update has updated the blocks before it, the same way
    as on finite gradients, and left that block and the rest as they were."""
    from nnrun.model.kernel_code import ADAM_BLOCK

    if way != "numpy":
        pytest.importorskip("numba")
    if way == "auto":
        needs_compiler()
    monkeypatch.setenv("NNRUN_KERNELS", way)
    assert kernels.prepare(SIZE) == (way != "numpy")
    rng = np.random.default_rng(5)
    weights, grads = rng.standard_normal((2, SIZE), dtype=np.float32)
    optimizer = Adam()
    slots = optimizer.slots(SIZE, np.float32)
    before = weights.copy()
    grads[2 * ADAM_BLOCK + 17] = np.nan
    assert optimizer.step(weights, grads, slots, 0.001, 1) is False
    assert np.isfinite(weights).all() and np.isfinite(slots["m"]).all() and np.isfinite(slots["v"]).all()
    untouched = 0 if way == "numpy" else 2 * ADAM_BLOCK
    assert np.array_equal(weights[untouched:], before[untouched:])
    if untouched:
        reference = before[:untouched].copy()
        expected_slots = Adam().slots(untouched, np.float32)
        monkeypatch.setenv("NNRUN_KERNELS", "numpy")
        kernels.prepare(SIZE)
        assert Adam().step(reference, grads[:untouched], expected_slots, 0.001, 1)
        assert np.array_equal(weights[:untouched], reference)
