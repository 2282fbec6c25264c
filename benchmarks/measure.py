"""The measurements behind benchmarks/run.py, each printing its own table."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES, CLASSES = 784, 10


def describe_machine(threads: int) -> str:
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')})" for i in threadpool_info())
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"].get("name", "?")
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}, BLAS {blas}, threads {threads}")


def mlp_case(args) -> None:
    from engines import available_engines, gemm_gflops, mlp_parameters

    from nnrun.data.sources import SyntheticSource

    source = {"type": "synthetic", "samples": args.samples, "features": FEATURES, "classes": CLASSES, "seed": 0}
    data = SyntheticSource(**source).load(0)  # the very arrays nnrun generates from this spec
    gemm = gemm_gflops(max(args.batch_sizes), FEATURES)
    peak = max(gemm.values())
    print("\nfloat32 GEMM (numpy): " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in gemm.items()))
    print(f"peak used below: {peak:.1f} GFLOP/s; training throughput counts 6 x parameters x samples")
    print(f"\nMLP {FEATURES}-256-256-{CLASSES}, Adam, {args.samples} samples, best of {args.repeats} epochs "
          f"per engine (alternated)")
    work = 6 * mlp_parameters(FEATURES, CLASSES) * args.samples
    compare(available_engines(source, args.threads), data, args.batch_sizes, args.repeats, work / (peak * 1e9))


def cnn_case(args) -> None:
    from engines import available_engines

    from nnrun.data.sources import SyntheticSource

    samples = args.cnn_samples
    source = {"type": "synthetic", "samples": samples, "shape": [28, 28, 1], "classes": CLASSES, "seed": 0}
    data = SyntheticSource(**source).load(0)
    print(f"\nCNN conv 3x3 x 32 + relu, max pool 2, dense {CLASSES}; 28x28x1 images, {samples} samples, "
          f"Adam, best of {args.repeats} epochs per engine (alternated)")
    compare(available_engines(source, args.threads, images=True), data, [128], args.repeats, None)


def compare(engines, data, batch_sizes, repeats, peak_seconds) -> None:
    """Alternate the engines (A B C A B C), keep each one's best epoch, print ratios.
    ``peak_seconds``: the epoch time at the GEMM peak, to report its fraction."""
    print(f"{'batch':>5}  {'engine':<9} {'epoch s':>8} {'samples/s':>10} {'GEMM peak':>9}  ratio to pytorch")
    for batch_size in batch_sizes:
        times: dict[str, list[float]] = {engine.name: [] for engine in engines}
        for _ in range(repeats):
            for engine in engines:
                times[engine.name].append(engine.epoch_seconds(data.x, data.y, batch_size))
        best = {name: min(values) for name, values in times.items()}
        for name, seconds in best.items():
            ratio = f"{seconds / best['pytorch']:.2f}x" if "pytorch" in best else "-"
            share = f"{peak_seconds / seconds:>8.0%}" if peak_seconds else f"{'-':>8}"
            print(f"{batch_size:>5}  {name:<9} {seconds:>8.3f} {len(data.x) / seconds:>10.0f} {share}  {ratio}")


def _nnrun_command() -> list[str]:
    script = Path(sys.executable).parent / "nnrun"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nnrun"]


def end_to_end(args) -> None:
    """Process start to exit, alternating the two commands; median of five each."""
    nnrun = _nnrun_command()
    rounds = 2 if args.smoke else 5
    samples: dict[str, list[float]] = {"nnrun --help": [], "nnrun train configs/iris.yaml": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            for label, command in (("nnrun --help", [*nnrun, "--help"]),
                                   ("nnrun train configs/iris.yaml",
                                    [*nnrun, "train", str(ROOT / "configs" / "iris.yaml"), "--quiet",
                                     "--run-dir", f"{tmp}/iris{i}"])):
                start = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=tmp)
                samples[label].append(time.perf_counter() - start)
        if not (Path(tmp) / "iris0" / "model.safetensors").exists():
            raise SystemExit("the iris run wrote no model.safetensors")
    print("\nend to end, median of", rounds)
    for label, values in samples.items():
        print(f"  {label:<32} {statistics.median(values):.3f} s")


_MEMORY_CHILD = """
import json, sys, tempfile
import numpy, nnrun, nnrun.engine.loop

def status_kib(field):  # VmHWM is this process's peak; unlike ru_maxrss it restarts at exec
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

base = status_kib("VmRSS")
samples = int(sys.argv[1])
config = {"name": "mem", "data": {"source": {"type": "synthetic", "samples": samples, "features": 784,
          "classes": 10, "seed": 0}, "split": {"validation": 0, "test": 0, "stratify": False}},
          "model": {"layers": [{"type": "dense", "units": 256, "activation": "relu"},
                               {"type": "dense", "units": 256, "activation": "relu"},
                               {"type": "dense", "units": 10, "activation": "softmax"}]},
          "loss": "categorical_crossentropy", "training": {"epochs": 1, "batch_size": 128}}
with tempfile.TemporaryDirectory() as tmp:
    nnrun.train(config, run_dir=tmp + "/run")
print(json.dumps({"base_kib": base, "peak_kib": status_kib("VmHWM")}))
"""


def peak_memory(args) -> None:
    """Peak resident memory of a training process, above its footprint after imports."""
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(args.samples)], check=True,
                         capture_output=True, text=True).stdout
    usage = json.loads(out.strip().splitlines()[-1])
    data_mib = args.samples * FEATURES * 4 / 2**20
    extra_mib = (usage["peak_kib"] - usage["base_kib"]) / 1024
    print(f"\npeak memory training on {args.samples} x {FEATURES} float32 ({data_mib:.0f} MiB of data): "
          f"{usage['peak_kib'] / 1024:.0f} MiB resident, {extra_mib:.0f} MiB above the process after imports "
          f"= {extra_mib / data_mib:.2f}x the data")
