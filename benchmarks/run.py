"""nnrun against PyTorch CPU and scikit-learn, in one run, on the same data and threads.

    python benchmarks/run.py                 # full suite, 1 BLAS thread
    python benchmarks/run.py --threads 2
    python benchmarks/run.py --smoke         # a few seconds, proves the script works

Cases (``--cases``): ``mlp``, an MLP 784-256-256-10 with Adam on 60,000 synthetic
samples (10 classes) at batch sizes 32, 128 and 512, against PyTorch and scikit-learn,
with numpy's float32 GEMM throughput measured in the same run; ``cnn``, conv 3x3 x 32,
relu, max pool 2, dense 10 on 10,000 synthetic 28x28x1 images at batch 128, against
PyTorch NCHW and channels_last; ``e2e``, `nnrun train configs/iris.yaml` and
`nnrun --help` as processes, start to exit; ``memory``, the peak memory of training on
the 60,000-sample set. One epoch per measurement, engines alternated (A B C A B C) so
drift hits all alike.

The benchmark re-executes itself with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed
from its environment (they pin OpenBLAS to an older, slower kernel on some machines)
and with the thread count fixed for every BLAS; it says so in its output.
"""

from __future__ import annotations

import argparse
import os
import sys

PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
CASES = ("mlp", "cnn", "e2e", "memory")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads (default 1)")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--cnn-samples", type=int, default=10_000, help="images in the CNN case")
    parser.add_argument("--repeats", type=int, default=2, help="epochs timed per engine and batch size")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES), help="what to measure")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script runs")
    parser.add_argument("--keep-openblas-env", action="store_true", help="do not unset OPENBLAS_CORETYPE/L2_SIZE")
    args = parser.parse_args()
    if args.smoke:
        args.samples, args.cnn_samples, args.batch_sizes, args.repeats = 2_000, 256, [128], 1
    return args


def reexec_with_clean_environment(args: argparse.Namespace) -> None:
    """Before numpy loads: drop the OpenBLAS pins and fix the thread counts."""
    if os.environ.get("NNRUN_BENCH_CHILD"):
        return
    env = dict(os.environ, NNRUN_BENCH_CHILD="1")
    removed = [] if args.keep_openblas_env else [name for name in PINNED if env.pop(name, None) is not None]
    env["NNRUN_BENCH_UNSET"] = ",".join(removed)
    env.update({name: str(args.threads) for name in THREAD_VARIABLES})
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main() -> None:
    args = parse_args()
    reexec_with_clean_environment(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import measure

    unset = os.environ.get("NNRUN_BENCH_UNSET")
    print(measure.describe_machine(args.threads))
    print(f"environment: unset {unset} for this benchmark's processes" if unset else
          "environment: no OpenBLAS pins were set (or --keep-openblas-env)")
    cases = {"mlp": measure.mlp_case, "cnn": measure.cnn_case, "e2e": measure.end_to_end, "memory": measure.peak_memory}
    for name in args.cases:
        cases[name](args)


if __name__ == "__main__":
    main()
