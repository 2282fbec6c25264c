"""Builds the compiled kernels ahead of time into an extension module, in a process of
its own.

    python -m nnrun.model.kernel_build PATH    # PATH: the module file to write

Why a process of its own: numba and LLVM take about 110 MiB of a process's memory and
most of a second to import, and keep both until it exits. Compiled here instead, the
kernels are a module of under a megabyte that a training process imports in under a
millisecond, without numba: on the 60,000 x 784 MLP that is the difference between
1.7 and 1.2 times the data in peak memory. :mod:`nnrun.model.kernels` runs this once
per machine and version (the module is cached, see ``kernels.module_path``).

How: numba's ahead-of-time compiler (``numba.pycc``, which needs setuptools and a C
compiler), with the options the in-process compilation uses: the GIL released inside
a kernel (row threads run them at once), NumPy's error model, and this machine's CPU
features (numba's default for ahead-of-time code is a generic CPU). ``numba.pycc`` has
no setting for these, hence :func:`_compiler_with_our_options`.

Nothing half-made is ever imported: the module is built in a folder of its own, each
kernel there runs on small arrays and must give, bit for bit, what the same Python
code gives interpreted (so a module that would crash or differ on this CPU stops here),
and only then is it renamed into place. Two processes building at once both end with a
whole module. Exit status 0 means the module is in place; anything else, and the
training process compiles the kernels itself.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from nnrun.model import kernel_code


def _compiler_with_our_options():
    """numba.pycc's compiler, set to release the GIL, use NumPy's error model and this
    CPU's features, as ``numba.njit(nogil=True, error_model="numpy")`` does."""
    from numba.core import codegen
    from numba.core.compiler import Flags
    from numba.pycc import CC, compiler

    class KernelFlags(Flags):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True
            self.error_model = "numpy"

    compiler.Flags = KernelFlags
    codegen.AOTCPUCodegen._customize_tm_features = lambda self: self._get_host_cpu_features()
    return CC


def build(path: Path) -> None:
    """Write the kernels' extension module to ``path`` (its name is the module's)."""
    module_name = path.name.split(".")[0]
    path.parent.mkdir(parents=True, exist_ok=True)
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
        check(built, module_name)
        os.replace(built, path)
    finally:
        tempfile.tempdir = None
        shutil.rmtree(workdir, ignore_errors=True)


def check(path: Path, module_name: str) -> None:
    """Run each compiled kernel once on small arrays (NaN, infinities, signed zeros among
    them) and compare with the same code interpreted; raise if any bit differs."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = None

    def floats(*shape):
        values = rng.standard_normal(shape, dtype=np.float32)
        values.reshape(-1)[:4] = [np.nan, np.inf, -0.0, 0.0]
        return values

    f32 = np.float32
    cases = {
        "all_finite": lambda: [floats(37)],
        "adam": lambda: [floats(37), floats(37), floats(37), np.abs(floats(37)), f32(0.9), f32(0.1), f32(0.999),
                         f32(0.001), f32(1e-7), f32(0.003)],
        "bias_relu": lambda: [floats(3, 5), floats(5)],
        "relu_gradient": lambda: [floats(11), floats(11), np.zeros(11, np.float32)],
        "max_pool_forward": lambda: [floats(2, 4, 6, 3), np.zeros((2, 2, 3, 3), np.float32), 2, 2, 2, 2],
        "max_pool_backward_tiled": lambda: [floats(2, 4, 6, 3), floats(2, 2, 3, 3), floats(2, 2, 3, 3),
                                            np.zeros((2, 4, 6, 3), np.float32), 2, 2],
    }
    if cases.keys() != kernel_code.SIGNATURES.keys():
        raise RuntimeError("every kernel needs a case here")
    with np.errstate(all="ignore"):
        for name, arguments in cases.items():
            rng = np.random.default_rng(0)
            compiled_args = arguments()
            rng = np.random.default_rng(0)  # the same draws again
            interpreted_args = arguments()
            compiled_result = getattr(module, name)(*compiled_args)
            interpreted_result = getattr(kernel_code, name)(*interpreted_args)
            if compiled_result != interpreted_result:
                raise RuntimeError(f"{name} returned {compiled_result!r}, interpreted {interpreted_result!r}")
            for index, (a, b) in enumerate(zip(compiled_args, interpreted_args)):
                if isinstance(a, np.ndarray) and not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
                    raise RuntimeError(f"{name}: argument {index} differs from the interpreted code's")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m nnrun.model.kernel_build PATH", file=sys.stderr)
        return 2
    build(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
