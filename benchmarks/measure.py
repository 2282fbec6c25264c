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
            f"numpy {np.__version__}, BLAS {blas}, threads {threads if threads else 'nnrun decides'}")


def mlp_case(args) -> None:
    from engines import available_engines, gemm_gflops, mlp_gemm_flops

    from nnrun.data.sources import SyntheticSource

    source = {"type": "synthetic", "samples": args.samples, "features": FEATURES, "classes": CLASSES, "seed": 0}
    data = SyntheticSource(**source).load(0)  # the very arrays nnrun generates from this spec
    flops = mlp_gemm_flops(FEATURES, CLASSES)
    print(f"\nMLP {FEATURES}-256-256-{CLASSES}, Adam, {args.samples} samples, best of {args.repeats} epochs "
          f"per engine (alternated)")
    print(f"GEMM peak: the epoch's multiplies ({flops / 1e6:.3f} MFLOP a sample, the floor's) at numpy's float32 "
          "GEMM peak: each round's best shape, measured before the round, median over the rounds")
    compare(available_engines(source, args.threads), data, args.batch_sizes, args.repeats,
            gemm=lambda batch_size: gemm_gflops(batch_size, FEATURES), work=flops * args.samples)


def cnn_case(args) -> None:
    from engines import available_engines

    from nnrun.data.sources import SyntheticSource

    samples = args.cnn_samples
    source = {"type": "synthetic", "samples": samples, "shape": [28, 28, 1], "classes": CLASSES, "seed": 0}
    data = SyntheticSource(**source).load(0)
    print(f"\nCNN conv 3x3 x 32 + relu, max pool 2, dense {CLASSES}; 28x28x1 images, {samples} samples, "
          f"Adam, best of {args.repeats} epochs per engine (alternated)")
    compare(available_engines(source, args.threads, images=True), data, [128], args.repeats)


def compare(engines, data, batch_sizes, repeats, gemm=None, work: float | None = None) -> None:
    """Alternate the engines, each round in a rotated order (A B C, B C A, C A B), and
    report each one's best epoch with its ratios to PyTorch and to the GEMM floor, then
    the median of the ratios within each round ("paired"): engines of one round share
    the machine's minute, so those ratios cancel its drift. With ``gemm`` (batch size ->
    GFLOP/s by shape), the GEMM rate is measured before each round, and each epoch is
    reported as the share of the rounds' median peak that its ``work`` (FLOPs) would
    need: one peak measured once, on a slow minute, read above 100%; the best of many
    short bursts would be a lucky one."""
    print(f"{'batch':>5}  {'engine':<10} {'epoch s':>8} {'samples/s':>10} {'GEMM peak':>9} {'vs pytorch':>10} "
          f"{'vs floor':>8}   paired: {'pytorch':>7} {'floor':>6}")
    for batch_size in batch_sizes:
        for engine in engines:
            if hasattr(engine, "warm_up"):
                engine.warm_up(data.x, data.y, batch_size)
        times: dict[str, list[float]] = {engine.name: [] for engine in engines}
        rates: dict[str, list[float]] = {}
        for round_ in range(repeats):
            for label, rate in (gemm(batch_size) if gemm else {}).items():
                rates.setdefault(label, []).append(rate)
            for engine in engines[round_ % len(engines):] + engines[: round_ % len(engines)]:
                times[engine.name].append(engine.epoch_seconds(data.x, data.y, batch_size))
        best = {name: min(values) for name, values in times.items()}
        peaks = [max(round_rates) for round_rates in zip(*rates.values())]
        peak_seconds = work / (statistics.median(peaks) * 1e9) if peaks and work else None
        for name, seconds in best.items():
            share = f"{peak_seconds / seconds:>8.0%}" if peak_seconds else f"{'-':>8}"
            print(f"{batch_size:>5}  {name:<10} {seconds:>8.3f} {len(data.x) / seconds:>10.0f} {share}  "
                  f"{_ratio(seconds, best, 'pytorch'):>10} {_ratio(seconds, best, 'GEMM floor'):>8}   "
                  f"{'':>7} {_paired(times, name, 'pytorch'):>7} {_paired(times, name, 'GEMM floor'):>6}")
        if rates:
            print(f"{'':>7}float32 GEMM, median of the rounds: "
                  + ", ".join(f"{label} {statistics.median(values):.1f}" for label, values in rates.items())
                  + " GFLOP/s; peak per round " + ", ".join(f"{peak:.1f}" for peak in peaks))


def _ratio(seconds: float, best: dict[str, float], reference: str) -> str:
    return f"{seconds / best[reference]:.2f}x" if reference in best else "-"


def _paired(times: dict[str, list[float]], name: str, reference: str) -> str:
    """The median over rounds of ``name``'s epoch over ``reference``'s in the same round."""
    if reference not in times:
        return "-"
    return f"{statistics.median(a / b for a, b in zip(times[name], times[reference])):.2f}x"


def busy_neighbour(args) -> None:
    """nnrun's default thread count against one thread and two: on a quiet machine;
    with another process spinning on one core, started just before (as a second
    training or any busy neighbour would be); and with one started just after the run
    chose its threads ("late"), which ``auto`` sees only as it trains (it reads how long
    its threads waited for a CPU every twentieth of a second). Best and worst epoch
    each, against one thread's best and median."""
    from engines import CNN_LAYERS, MLP_LAYERS, Nnrun

    from nnrun.data.sources import SyntheticSource

    cases = [("MLP 784-256-256-10, batch 128", MLP_LAYERS,
              {"type": "synthetic", "samples": args.samples, "features": FEATURES, "classes": CLASSES, "seed": 0}),
             ("CNN conv 3x3 x 32, batch 128", CNN_LAYERS,
              {"type": "synthetic", "samples": args.cnn_samples, "shape": [28, 28, 1], "classes": CLASSES, "seed": 0})]
    print("\nbusy neighbour: nnrun's default (training.threads: auto) against fixed thread counts; "
          f"{args.repeats} epochs each, alternated")
    print(f"  {'case':<32} {'machine':<8} {'engine':<10} {'best s':>7} {'worst s':>7} {'threads':>7}  "
          "best / best 1 thread, worst / median 1 thread")
    for label, layers, source in cases:
        data = SyntheticSource(**source).load(0)
        engines = [Nnrun(source, layers, name="default"), Nnrun(source, layers, threads=1, name="1 thread"),
                   Nnrun(source, layers, threads=2, name="2 threads")]
        # Untimed: the process's first run of a model loads its compiled kernels and
        # touches the data's pages, which fell on whichever engine ran first (a fresh
        # process's CNN epochs: 0.965 s, then 0.52-0.55 s).
        engines[1].epoch_seconds(data.x, data.y, 128)
        for machine in ("quiet", "busy", "late"):
            neighbour = Neighbour()
            if machine == "busy":
                neighbour.start()
            try:
                times: dict[str, list[float]] = {engine.name: [] for engine in engines}
                chosen: dict[str, set] = {engine.name: set() for engine in engines}
                for _ in range(args.repeats):
                    for engine in engines:
                        hooks = neighbour if machine == "late" else None  # its start(): the threads are chosen
                        times[engine.name].append(engine.epoch_seconds(data.x, data.y, 128, hooks=hooks))
                        chosen[engine.name].add(engine.chosen_threads)
                        if machine == "late":
                            neighbour.stop()
            finally:
                neighbour.stop()
            one = times["1 thread"]
            for name, values in times.items():
                threads = "/".join(sorted(chosen[name]))
                print(f"  {label:<32} {machine:<8} {name:<10} {min(values):>7.3f} {max(values):>7.3f} {threads:>7}  "
                      f"{min(values) / min(one):.2f}x, {max(values) / statistics.median(one):.2f}x")


class Neighbour:
    """A process spinning on one core; as training hooks, started when a run starts."""

    def __init__(self):
        self.process = None

    def start(self, *_) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)  # its interpreter started, as a neighbour that has run a while

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _nnrun_command() -> list[str]:
    script = Path(sys.executable).parent / "nnrun"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nnrun"]


def end_to_end(args) -> None:
    """Process start to exit, the commands alternated, median of five each: nnrun's
    two everyday commands, the floor any such tool pays (importing numpy, yaml, pydantic
    and rich), and, where Keras is installed, the Keras script nnrun grew from
    (benchmarks/keras_iris.py, three rounds: it takes seconds). Bytecode caching is on,
    as on a user's machine, and each command runs once untimed first."""
    nnrun = _nnrun_command()
    rounds = 2 if args.smoke else 5
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    keras_env = dict(env, KERAS_BACKEND=env.get("KERAS_BACKEND", "torch"))
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "floor: import numpy, yaml, pydantic, rich": ([sys.executable, "-c", "import numpy, yaml, pydantic, rich"],
                                                          env, rounds),
            "nnrun --help": ([*nnrun, "--help"], env, rounds),
            "nnrun train configs/iris.yaml": ([*nnrun, "train", str(ROOT / "configs" / "iris.yaml"), "--quiet",
                                               "--run-dir", f"{tmp}/iris{{round}}"], env, rounds),
        }
        if _keras_runs(keras_env) and not args.smoke:
            commands["keras script (keras_iris.py)"] = (
                [sys.executable, str(ROOT / "benchmarks" / "keras_iris.py")], keras_env, 3)
        samples: dict[str, list[float]] = {label: [] for label in commands}
        for i in range(-1, rounds):  # round -1: untimed, writes the bytecode caches
            for label, (command, command_env, count) in commands.items():
                if i >= count:
                    continue
                argv = [part.replace("{round}", str(i)) for part in command]
                start = time.perf_counter()
                subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=tmp, env=command_env)
                if i >= 0:
                    samples[label].append(time.perf_counter() - start)
        if not (Path(tmp) / "iris0" / "model.safetensors").exists():
            raise SystemExit("the iris run wrote no model.safetensors")
    floor = statistics.median(samples["floor: import numpy, yaml, pydantic, rich"])
    keras = samples.get("keras script (keras_iris.py)")
    print(f"\nend to end, median of {rounds} (the Keras script: of 3)")
    for label, values in samples.items():
        seconds = statistics.median(values)
        extra = f"   {seconds / floor:.2f}x the floor" if not label.startswith("floor") else ""
        if keras and label.startswith("nnrun train"):
            extra += f", {seconds / statistics.median(keras):.3f}x the Keras script"
        print(f"  {label:<44} {seconds:.3f} s{extra}")


def _keras_runs(env: dict) -> bool:
    """Keras and its backend import (a reference only, never an nnrun dependency)."""
    probe = subprocess.run([sys.executable, "-c", "import keras"], env=env, capture_output=True)
    return probe.returncode == 0


_MEMORY_CHILD = """
import json, sys, tempfile
import nnrun, numpy, nnrun.engine.loop  # nnrun first: it sets OpenBLAS's idle timeout

def status_kib(field):  # VmHWM is this process's peak; unlike ru_maxrss it restarts at exec
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

base, base_files = status_kib("VmRSS"), status_kib("RssFile")
samples, held_out = int(sys.argv[1]), sys.argv[2] == "default"
split = {} if held_out else {"validation": 0, "test": 0, "stratify": False}
config = {"name": "mem", "data": {"source": {"type": "synthetic", "samples": samples, "features": 784,
          "classes": 10, "seed": 0}, "split": split, "preprocess": ["standardize"] if held_out else []},
          "model": {"layers": [{"type": "dense", "units": 256, "activation": "relu"},
                               {"type": "dense", "units": 256, "activation": "relu"},
                               {"type": "dense", "units": 10, "activation": "softmax"}]},
          "loss": "categorical_crossentropy", "training": {"epochs": 1, "batch_size": 128}}
with tempfile.TemporaryDirectory() as tmp:
    nnrun.train(config, run_dir=tmp + "/run")
print(json.dumps({"base_kib": base, "peak_kib": status_kib("VmHWM"), "base_files_kib": base_files,
                  "files_kib": status_kib("RssFile")}))
"""


def peak_memory(args) -> None:
    """Peak resident memory of a training process, above its footprint after imports:
    on all the data, and with the default split (a tenth for validation, a fifth for
    the test) and standardized inputs; where the ``fast`` extra is installed, also with
    its compiled kernels: imported from the module built for this machine (the
    default), and compiled by numba in the process (``NNRUN_KERNELS=jit``, where numba's
    compiler, LLVM, stays loaded: a fixed cost, not the data's)."""
    from engines import kernels_installed

    data_mib = args.samples * FEATURES * 4 / 2**20
    modes = [("NumPy update", "numpy", "none"), ("split, standardized", "numpy", "default")]
    if kernels_installed():
        modes += [("built kernels", "auto", "none"), ("numba in-process", "jit", "none")]
    print(f"\npeak memory training on {args.samples} x {FEATURES} float32 ({data_mib:.0f} MiB of data); "
          "\"split, standardized\": the default split and preprocess: standardize")
    for label, switch, split in modes:
        out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(args.samples), split], check=True,
                             capture_output=True, text=True, env=dict(os.environ, NNRUN_KERNELS=switch)).stdout
        usage = json.loads(out.strip().splitlines()[-1])
        extra_mib = (usage["peak_kib"] - usage["base_kib"]) / 1024
        # Pages of files mapped into the process (shared libraries: numba's LLVM when it
        # compiles the kernels in the process) count as resident too; they are shared and reread from disk
        # when memory is short. Read at the end, as libraries stay mapped: about the peak's.
        files_mib = (usage["files_kib"] - usage["base_files_kib"]) / 1024
        print(f"  {label:<19} {usage['peak_kib'] / 1024:.0f} MiB resident, {extra_mib:.0f} MiB above the process "
              f"after imports = {extra_mib / data_mib:.2f}x the data; of those {files_mib:.0f} MiB mapped files, "
              f"the rest {(extra_mib - files_mib) / data_mib:.2f}x the data")
