"""nnrun against PyTorch CPU and scikit-learn, in one run, on the same data and threads.

    python benchmarks/run.py                 # everything: two threads, then one
    python benchmarks/run.py --threads 2 --cases mlp
    python benchmarks/run.py --smoke         # a few seconds, proves the script works

Cases (``--cases``), at each thread count of ``--threads`` (default 2, this machine's
cores, then 1): ``mlp``, an MLP 784-256-256-10 with Adam on 60,000 synthetic samples
(10 classes) at batch sizes 32, 128 and 512, against PyTorch, scikit-learn and the GEMM
floor (the epoch's matrix multiplies alone), with numpy's float32 GEMM throughput
measured before each round; where the ``fast`` extra is installed nnrun runs twice, with
its compiled update and with the NumPy one (``nnrun-np``); ``cnn``, conv 3x3 x 32,
relu, max pool 2, dense 10 on 10,000 synthetic 28x28x1 images at batch 128, against
PyTorch NCHW and channels_last. Once, with nnrun's own thread choice: ``busy``, the
default thread count against one and two threads on a quiet machine and beside a
process spinning on one core; ``e2e``, `nnrun train configs/iris.yaml` and
`nnrun --help` as processes, beside the import floor and the Keras script;
``memory``, the peak memory of training on the 60,000-sample set. One epoch per
measurement, engines alternated (A B C, B C A, C A B) so drift hits all alike; each
engine's best epoch is reported, and the median of its ratios within each round.

Each part runs in a child process with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed
from its environment (they pin OpenBLAS to an older, slower kernel on some machines);
the per-thread cases also fix the thread count of every BLAS and of PyTorch, the
others leave it to nnrun. The output says both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
PER_THREAD_CASES = ("mlp", "cnn")
MACHINE_CASES = ("busy", "e2e", "memory")
CASES = PER_THREAD_CASES + MACHINE_CASES
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="BLAS and PyTorch thread counts for mlp and cnn (default: the cores, then 1)")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--cnn-samples", type=int, default=10_000, help="images in the CNN case")
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed per engine and batch size")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES), help="what to measure")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script runs")
    parser.add_argument("--keep-openblas-env", action="store_true", help="do not unset OPENBLAS_CORETYPE/L2_SIZE")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)  # "threads:N" or "machine"
    args = parser.parse_args()
    if args.threads is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        args.threads = sorted({cores, 1}, reverse=True)
    if args.smoke:
        args.samples, args.cnn_samples, args.batch_sizes, args.repeats = 2_000, 256, [128], 1
    return args


def reexec_with_clean_environment(args: argparse.Namespace) -> None:
    """Before numpy loads, for the single-process benchmarks (sequences.py): drop the
    OpenBLAS pins and fix every BLAS thread count to ``args.threads``, by running the
    script again in that environment once."""
    if os.environ.get("NNRUN_BENCH_CHILD"):
        return
    env = dict(os.environ, NNRUN_BENCH_CHILD="1")
    removed = [] if args.keep_openblas_env else [name for name in PINNED if env.pop(name, None) is not None]
    env["NNRUN_BENCH_UNSET"] = ",".join(removed)
    env.update({name: str(args.threads) for name in THREAD_VARIABLES})
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def run_children(args: argparse.Namespace) -> None:
    """One child per thread count for the per-thread cases, one for the machine cases;
    each starts numpy afresh in the environment it needs."""
    base = dict(os.environ)
    removed = [] if args.keep_openblas_env else [name for name in PINNED if base.pop(name, None) is not None]
    base["NNRUN_BENCH_UNSET"] = ",".join(removed)
    children = []
    if any(case in PER_THREAD_CASES for case in args.cases):
        for threads in args.threads:
            children.append((f"threads:{threads}", {**base, **{name: str(threads) for name in THREAD_VARIABLES}}))
    if any(case in MACHINE_CASES for case in args.cases):
        children.append(("machine", {k: v for k, v in base.items() if k not in THREAD_VARIABLES}))
    for child, env in children:
        sys.stdout.flush()
        subprocess.run([sys.executable, *sys.argv, "--child", child], env=env, check=True)


def main() -> None:
    args = parse_args()
    if args.child is None:
        run_children(args)
        return
    import nnrun  # noqa: F401  (before numpy, as in any nnrun process: it sets OpenBLAS's idle timeout)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import measure

    unset = os.environ.get("NNRUN_BENCH_UNSET")
    if args.child == "machine":
        threads, cases = None, [case for case in args.cases if case in MACHINE_CASES]
        print("\n== nnrun's own thread choice (no thread count set in the environment)")
    else:
        threads = int(args.child.split(":")[1])
        cases = [case for case in args.cases if case in PER_THREAD_CASES]
        print(f"\n== {threads} thread(s) for every BLAS and for PyTorch")
    print(measure.describe_machine(threads))
    print(f"environment: unset {unset} for this benchmark's processes" if unset else
          "environment: no OpenBLAS pins were set (or --keep-openblas-env)")
    run = {"mlp": measure.mlp_case, "cnn": measure.cnn_case, "busy": measure.busy_neighbour,
           "e2e": measure.end_to_end, "memory": measure.peak_memory}
    for name in cases:
        if threads is not None:
            args.threads = threads  # the cases read one count
        run[name](args)


if __name__ == "__main__":
    main()
