"""Builds the compiled kernels ahead of time into an extension module, in a process of
its own.

    python -m nnrun.model.kernel_build PATH    # PATH: the module file to write

Why a process of its own: numba and LLVM take about 110 MiB of a process's memory and
most of a second to import, and keep both until it exits. Compiled here instead, the
kernels are a module of under a megabyte that a training process imports in under a
millisecond, without numba: on the 60,000 x 784 MLP that is the difference between
1.73 and 1.15 times the data in peak memory. :mod:`nnrun.model.kernels` runs this once
per machine and version (the module is cached, see ``kernels.module_path``).

How: numba's ahead-of-time compiler (``numba.pycc``, which needs setuptools and a C
compiler), with the options the in-process compilation uses: the GIL released inside
a kernel (row threads run them at once), NumPy's error model, and this machine's CPU
features (numba's default for ahead-of-time code is a generic CPU). ``numba.pycc`` has
no setting for these, hence :func:`_compiler_with_our_options`.

Nothing half-made is ever imported: the module is built in a folder of its own, each
kernel there runs on small arrays (of sizes no vector width divides) and must give, bit
for bit, what the same Python code gives interpreted, and only then is it renamed into
place. Processes that build at once each rename a whole module into place (or find one
there already). Exit status: 0, the module is in place; ``CANNOT_BUILD``, it cannot be
built here (no C compiler, no ``numba.pycc``, a numba whose internals moved, a module
that differs from its code), which the caller notes so as not to try again; anything
else is passing, tried again by the next run. Whenever it is not 0, the training
process compiles the kernels itself.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

import numpy as np

from nnrun.model import kernel_code
from nnrun.model.kernels import CANNOT_BUILD, module_path


def _compiler_with_our_options():
    """numba.pycc's compiler, set to release the GIL, use NumPy's error model and this
    CPU's features, as ``numba.njit(nogil=True, error_model="numpy")`` does."""
    from numba.core import codegen
    from numba.core.compiler import Flags
    from numba.pycc import CC, compiler

    # What is set below is numba's own, not its interface: if a numba moves it, the
    # module is not built (rather than built holding the GIL, or for a generic CPU).
    for owner, name in ((compiler, "Flags"), (codegen.AOTCPUCodegen, "_customize_tm_features"),
                        (codegen.AOTCPUCodegen, "_get_host_cpu_features")):
        if not hasattr(owner, name):
            raise RuntimeError(f"this numba has no {owner.__name__}.{name}, which the kernels' build sets")
    flags = Flags()
    if not (hasattr(flags, "release_gil") and hasattr(flags, "error_model")):
        raise RuntimeError("this numba's compiler flags lack release_gil or error_model")

    class KernelFlags(Flags):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True
            self.error_model = "numpy"

    compiler.Flags = KernelFlags
    codegen.AOTCPUCodegen._customize_tm_features = lambda self: self._get_host_cpu_features()
    return CC


def build(path: Path, reference=kernel_code) -> None:
    """Write the kernels' extension module to ``path`` (its name is the module's), if
    each compiled kernel gives what ``reference``'s function of its name gives
    interpreted (the same code, unless a test says otherwise)."""
    module_name = path.name.split(".")[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_work(path.parent)
    workdir = Path(tempfile.mkdtemp(prefix=f".{module_name}-", dir=path.parent))
    try:
        tempfile.tempdir = str(workdir)  # numba.pycc's own build files go here too
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba.pycc's notice of its pending deprecation
            compiler = _compiler_with_our_options()(module_name)
        compiler.output_dir = str(workdir)
        compiler.output_file = path.name
        compiler.target_cpu = "host"
        for name, signature in kernel_code.SIGNATURES.items():
            compiler.export(name, signature)(getattr(kernel_code, name))
        compiler.compile()
        built = workdir / path.name
        check(built, module_name, reference)
        if not path.exists():  # another process may have put its own in place meanwhile
            os.replace(built, path)
    finally:
        tempfile.tempdir = None
        shutil.rmtree(workdir, ignore_errors=True)


def _remove_abandoned_work(folder: Path, hours: float = 2.0) -> None:
    """Work folders of builds that were killed (a build stopped at its time limit
    leaves one): none still in use is hours old."""
    import time

    for work in folder.glob(".nnrun_kernels_*-*"):
        try:
            if work.is_dir() and time.time() - work.stat().st_mtime > hours * 3600:
                shutil.rmtree(work, ignore_errors=True)
        except OSError:
            pass


def check(path: Path, module_name: str, reference=kernel_code) -> None:
    """Run each compiled kernel once on small arrays (NaN, infinities, signed zeros among
    them) and compare with the same code interpreted (``reference``'s function of the
    same name); raise if any bit differs."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = None

    def floats(*shape):
        values = rng.standard_normal(shape, dtype=np.float32)
        values.reshape(-1)[:4] = [np.nan, np.inf, -0.0, 0.0]
        return values

    def gradients(size, bad_at=None):
        # Finite (Adam stops at the first block holding a NaN), but for one NaN if asked.
        values = rng.standard_normal(size, dtype=np.float32)
        if bad_at is not None:
            values[bad_at] = np.nan
        return values

    def adam(size, bad_at=None):
        return [floats(size), gradients(size, bad_at), floats(size), np.abs(floats(size)), f32(0.9), f32(0.1),
                f32(0.999), f32(0.001), f32(1e-7), f32(0.003)]

    f32 = np.float32
    block = kernel_code.ADAM_BLOCK
    # name: the argument lists each kernel runs on, both ways.
    cases = {
        "all_finite": [lambda: [floats(131)]],
        # Every gradient finite (a whole block, then a part of one), and a NaN in the
        # third block (two whole blocks updated, then it stops).
        "adam": [lambda: adam(block + 131), lambda: adam(2 * block + 131, 2 * block + 124)],
        "bias_relu": [lambda: [floats(3, 67), floats(67)]],
        "relu_gradient": [lambda: [floats(131), floats(131), np.zeros(131, np.float32)]],
        "max_pool_forward": [lambda: [floats(2, 4, 6, 67), np.zeros((2, 2, 3, 67), np.float32), 2, 2, 2, 2]],
        "max_pool_backward_tiled": [lambda relu_input=relu_input: [floats(2, 4, 6, 67), floats(2, 2, 3, 67),
                                                                   floats(2, 2, 3, 67),
                                                                   np.zeros((2, 4, 6, 67), np.float32), 2, 2,
                                                                   relu_input]
                                    for relu_input in (False, True)],
    }
    if cases.keys() != kernel_code.SIGNATURES.keys():
        raise RuntimeError("every kernel needs a case here")
    finite = np.arange(131, dtype=np.float32)
    if not module.all_finite(finite):  # the cases above all hold a NaN: the other answer too
        raise RuntimeError("all_finite found a non-finite number among finite ones")
    with np.errstate(all="ignore"):
        for name, argument_lists in cases.items():
            for arguments in argument_lists:
                rng = np.random.default_rng(0)
                compiled_args = arguments()
                rng = np.random.default_rng(0)  # the same draws again
                interpreted_args = arguments()
                compiled_result = getattr(module, name)(*compiled_args)
                interpreted_result = getattr(reference, name)(*interpreted_args)
                if compiled_result != interpreted_result:
                    raise RuntimeError(f"{name} returned {compiled_result!r}, interpreted {interpreted_result!r}")
                for index, (a, b) in enumerate(zip(compiled_args, interpreted_args)):
                    if isinstance(a, np.ndarray) and not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
                        raise RuntimeError(f"{name}: argument {index} differs from the interpreted code's")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m nnrun.model.kernel_build PATH", file=sys.stderr)
        return 2
    path = Path(argv[0])
    expected = module_path()
    if expected is None or expected.name != path.name:  # another nnrun, numba or CPU than the caller's
        print(f"{path.name} is not this nnrun's module here ({expected})", file=sys.stderr)
        return 2
    try:
        build(path)
    except OSError:  # a full disk, a folder removed: passing
        raise
    except Exception:
        traceback.print_exc()
        return CANNOT_BUILD
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
