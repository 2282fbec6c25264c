"""Compiled kernels from the optional ``fast`` extra (numba), for large models and
large activations.

    kernels.prepare(parameters, values)     # at the start of training: load them if they pay
    kernel = compiled("adam", weights, grads, m, v)   # None: use the NumPy code
    kernel(weights, grads, m, v, *constants)
    compiled("all_finite", grads)(grads)               # the gradient check of other optimizers
    compiled("max_pool_forward", images)               # the element-wise kernels alike

Why: NumPy runs an Adam update as a dozen separate passes over every parameter
(multiply, add, square, sqrt, divide, ...), each reading and writing the whole buffer.
On a 784-256-256-10 MLP at batch 32 that was half of each training step. A compiled
loop does it in one pass, about four times faster, checking that every gradient is
finite as it goes (block by block, before each block's update); for the other
optimizers that check is one compiled pass of its own. The same holds for a
convolution network's element-wise work, which is most of its step: a bias added and
relu applied in two passes, relu's gradient in two (a mask, then a product), a 2 x 2
max pool in four forward and eleven backward. Each has a one-pass kernel
(:mod:`nnrun.model.kernel_code`), which the layers split by rows over the run's
threads like their NumPy code (the kernels release the GIL).

The kernels do the same float32 operations in the same order as the NumPy code (no
fast-math reordering, no fused multiply-add), so the weights come out bit for bit the
same with or without the extra: installing it changes the speed, never the result.

Where they come from: numba compiles them once per machine, in a process of its own
(:mod:`nnrun.model.kernel_build`), into a small extension module kept in a cache
folder (``kernels`` in ``NNRUN_CACHE_DIR``, else in ``$XDG_CACHE_HOME/nnrun`` or
``~/.cache/nnrun``), named after what its machine code depends on: the kernels' code,
the numba, llvmlite, numpy and Python versions, and the CPU (with numba's settings
for it). A training process imports that module in under a millisecond and never
imports numba, whose compiler would otherwise stay in its memory (about 110 MiB) and
cost most of a second to import. Where the module cannot be built (no C compiler, a
numba without its ahead-of-time compiler), the reason is noted beside it and every
later run compiles the kernels in its own process with numba, as fast once loaded; a
build that was only interrupted (killed, timed out, a full disk) is tried again.
Runs that start together on a machine with no module yet (``mpiexec -n 4``, a sweep's
parallel trials) build it once: the others wait on a lock file beside it.
``NNRUN_KERNELS=jit`` asks for numba in-process directly.

Why only for large models: the first build takes about eight seconds, and compiling
in the process about one second per process (loading the built module, milliseconds),
which a model of a few thousand parameters never wins back. So the kernels are loaded
only when training starts on a model with at least ``MIN_PARAMETERS`` parameters or
whose layers compute at least ``MIN_VALUES`` values per epoch (:func:`prepare`), never
by ``nnrun --help``, ``validate`` or a small model's run. ``NNRUN_KERNELS=numpy`` in
the environment turns the kernels off for the runs that start with it (to compare, or
to rule them out).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

MIN_PARAMETERS = 100_000
# Layer outputs per epoch (values per sample x training samples): at 10^8, a few
# tenths of a second saved per epoch by the element-wise kernels.
MIN_VALUES = 100_000_000
_SWITCH = "NNRUN_KERNELS"
_loaded: dict[str, Callable] = {}
_unavailable: list[bool] = []  # set once numba was not found: never look again
_in_use = [False]  # what the last prepare() decided
_FLOAT32 = "float32"  # compared with array dtypes, so this module needs no numpy
_BUILD_SECONDS = 600  # the first build takes about 8 s; past this, numba in-process
CANNOT_BUILD = 3  # the build's exit status when this machine cannot build the module


def _switch() -> str:
    """``NNRUN_KERNELS``: ``numpy`` (off), ``jit`` (numba in-process) or anything else
    (the built module)."""
    return os.environ.get(_SWITCH, "").strip().lower()


def prepare(parameters: int, values: int = 0) -> bool:
    """Decide, as a model of ``parameters`` trainable parameters whose layers output
    ``values`` values per epoch is about to train, whether the kernels pay for
    themselves; load them if so (once per process). Returns whether they are in use,
    which holds until the next call: the switch is read here, once per run, not on each
    of a step's calls. Without numba installed this is False and costs nothing more."""
    use = not ((parameters < MIN_PARAMETERS and values < MIN_VALUES) or _unavailable or _switch() == "numpy")
    if use and not _loaded:
        try:
            _loaded.update(_load())
        except ImportError:
            _unavailable.append(True)
            use = False
    _in_use[0] = use
    return use


def compiled(name: str | None, *arrays) -> Callable | None:
    """The loaded kernel ``name`` (see :mod:`nnrun.model.kernel_code`) when it takes
    ``arrays`` (the kernels are compiled for C-ordered float32 only; the built module's
    do not check their arguments, so this checks the type and order and the caller
    passes the dimensions the signature names), or None when the NumPy code should
    run: the last :func:`prepare` found the kernels switched off, not installed, or
    not worth loading (or none was called). A training step asks eight times: this
    reads no environment and makes no generator."""
    if name is None or not _in_use[0]:
        return None
    for array in arrays:
        if array.dtype != _FLOAT32 or not array.flags.c_contiguous:
            return None
    return _loaded[name]


def _load() -> dict[str, Callable]:
    """The kernels from the built module (building it first if this machine has none
    yet), else compiled in this process; ImportError without numba."""
    import importlib.util

    if importlib.util.find_spec("numba") is None:
        raise ImportError("numba is not installed")
    module = None
    if _switch() != "jit":
        # Anything in the way of the built module (no home folder, a cache this user may
        # not enter, an unreadable file) leaves the in-process route, which needs none.
        try:
            path = module_path()
            module = _import_built(path)
            if module is None:
                with _one_builder(path) as builder:
                    module = _import_built(path)  # built by the process this one waited for
                    if module is None and builder:
                        if os.path.exists(path):  # a whole file (renamed into place) that does not load
                            os.unlink(path)
                        module = _build(path) and _import_built(path)
        except Exception:
            module = None
    if not module:
        return _compile_here()
    from nnrun.model.kernel_code import SIGNATURES

    return {name: getattr(module, name) for name in SIGNATURES}


def module_path() -> Path | None:
    """Where the built module for this machine is (or goes): its name holds a digest of
    what its machine code depends on. None when numba is not installed."""
    import hashlib
    import importlib.util
    import platform
    import sys
    from importlib.machinery import EXTENSION_SUFFIXES

    sources = []
    # Their versions, read without importing numba: the compiler's, and numpy's, whose
    # C interface the module's argument handling is built against.
    for package, version_file in (("numba", "_version.py"), ("llvmlite", "_version.py"), ("numpy", "version.py")):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        sources.append(Path(spec.submodule_search_locations[0]) / version_file)
    here = Path(__file__).parent
    sources += [here / "kernel_code.py", here / "kernel_build.py"]
    # numba's own settings for the CPU it compiles for count as the CPU.
    cpu = [_cpu(), os.environ.get("NUMBA_CPU_NAME", ""), os.environ.get("NUMBA_CPU_FEATURES", "")]
    digest = hashlib.sha256("|".join([sys.version, platform.machine(), *cpu]).encode())
    for source in sources:
        digest.update(source.read_bytes())
    return _cache_dir() / f"nnrun_kernels_{digest.hexdigest()[:16]}{EXTENSION_SUFFIXES[0]}"


def _cpu() -> str:
    """What the machine code is built for: the CPU model and its instruction set
    extensions (a cache folder shared by machines of different CPUs keeps one module
    for each). Where the system does not list them, the machine's name stands in."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            lines = [line for line in info if line.startswith(("model name", "flags", "Features", "CPU part"))]
        return "".join(sorted(set(lines)))
    except OSError:
        import platform

        return f"{platform.processor()}|{platform.node()}"


def _cache_dir() -> Path:
    if os.environ.get("NNRUN_CACHE_DIR"):
        return Path(os.environ["NNRUN_CACHE_DIR"]) / "kernels"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnrun" / "kernels"


def _import_built(path: Path):
    """The built module at ``path``, or None when there is none (or it does not load)."""
    import importlib.util

    if not os.path.isfile(path):
        return None
    try:
        spec = importlib.util.spec_from_file_location(path.name.split(".")[0], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError):
        return None
    return module


@contextmanager
def _one_builder(path: Path):
    """Hold the build's lock for ``path`` and say whether this process is to build:
    processes starting together on a machine with no module yet (``mpiexec -n 4``, a
    sweep's parallel trials) build it once, the others waiting for that build rather
    than each compiling for eight seconds on the same cores. One that waited does not
    build even when that build failed: it compiles in its own process, and a later run
    tries again, so no wait is longer than one build (at most ``_BUILD_SECONDS``; the
    system releases the lock of a process that dies). Where files cannot be locked (no
    ``fcntl``, a cache folder this user may not write, a file system without locks),
    each process goes on alone."""
    try:
        import fcntl
    except ImportError:
        yield True
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(_beside(path, ".lock"), "a")
    except OSError:
        yield True
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            first = True
        except BlockingIOError:  # another process is building: wait for it
            first = False
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            except OSError:
                pass
        except OSError:  # no locks here
            first = True
        yield first
    # Closing the file releases the lock.


def _beside(path: Path, suffix: str) -> Path:
    """A file next to the module, named after it (its lock, its failure note)."""
    return path.with_name(path.name.split(".")[0] + suffix)


def _build(path: Path) -> bool:
    """Build the module in a child process (see :mod:`nnrun.model.kernel_build`). When
    the child finds it cannot be built here (no C compiler, no ahead-of-time compiler in
    this numba, a module that differs from its code), note why beside it, so that later
    runs go straight to numba in-process; anything passing (a timeout, a full disk, the
    child killed) is tried again by the next run."""
    import signal
    import subprocess
    import sys

    failed = _beside(path, ".failed")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if failed.exists() or not os.access(path.parent, os.W_OK):  # noted, or not ours to write
        return False
    # The child imports this very nnrun (not one in its working folder), from the cache
    # folder, in a session of its own so that a timeout stops the compiler it started too.
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    posix = os.name == "posix"
    child = subprocess.Popen([sys.executable, "-m", "nnrun.model.kernel_build", str(path)], cwd=path.parent, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=posix)
    try:
        _, errors = child.communicate(timeout=_BUILD_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL) if posix else child.kill()
        child.communicate()
        return False
    if child.returncode == 0:
        return True
    if child.returncode == CANNOT_BUILD:
        why = errors.decode("utf-8", "replace").strip()[-4000:]
        try:  # whole or not at all, as every file nnrun writes
            partial = failed.with_name(f"{failed.name}.{os.getpid()}.partial")
            partial.write_text(f"The compiled kernels could not be built here; nnrun compiles them in each "
                               f"training process instead. Delete this file to try again.\n\n{why}\n",
                               encoding="utf-8", errors="replace")
            os.replace(partial, failed)
        except OSError:
            pass
    return False


def _compile_here() -> dict[str, Callable]:
    """The kernels compiled by numba in this process (cached on disk by numba)."""
    import numba

    from nnrun.model import kernel_code

    return {name: numba.njit(signature, cache=True, nogil=True, error_model="numpy")(getattr(kernel_code, name))
            for name, signature in kernel_code.SIGNATURES.items()}
