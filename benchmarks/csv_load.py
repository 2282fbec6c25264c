"""Loading a large CSV file: `nnrun validate` and `nnrun predict` against pandas.read_csv.

    python benchmarks/csv_load.py                  # 200,000 x 41 (about 61 MB), 3 rounds
    python benchmarks/csv_load.py --smoke          # 2,000 rows, proves the script runs
    python benchmarks/csv_load.py --separators     # numbers written "12,345.67": the text path

With ``--separators`` the numbers are written with thousands separators (quoted, as a
spreadsheet exports them) and the config declares ``thousands: ","``, so nnrun reads
every number column as text and parses it itself; pandas is given ``thousands=","``.

The file is generated (seeded) into a temporary folder: 39 number columns, one
categorical column `segment` (6 values) and an integer class label `label` (3
classes), so 40 numbers and 1 category. Every measurement is a fresh process, timed
start to exit, with its peak resident memory taken from the operating system
(``wait4``); engines are alternated (A B C A B C) and the median is reported.

References, each a process of its own:

- ``floor``: `nnrun validate` on the first 100 rows of the same file: the interpreter,
  nnrun's imports and the CSV reader's, with next to no data (time and memory);
- ``pandas.read_csv``: `pandas.read_csv(FILE)` in a process of its own; the call alone
  is timed inside it (pandas' import left out) and reported as ``read_csv call``.

Targets (the issue's): `validate` at most 2 x the read_csv call plus the floor; its
peak memory at most 3 x the float32 data (rows x columns x 4 bytes) plus the floor's
peak; `predict` at most as slow as `validate`. Peak memory is the process's own high
water mark (VmHWM, read as it exits), so the parent's memory never counts.

The script re-executes itself without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (they pin
OpenBLAS to slower kernels on some machines) and says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
NUMBERS, SEGMENTS, CLASSES = 39, ("north", "south", "east", "west", "centre", "islands"), 3


def write_csv(path: Path, rows: int, seed: int = 0, separators: bool = False) -> None:
    """Numbers with 4 decimals (or, with ``separators``, in the thousands with 2 decimals
    and separators), a category and a label, written in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    header = [f"x{i}" for i in range(NUMBERS)] + ["segment", "label"]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join(header) + "\n")
        for start in range(0, rows, 20_000):
            n = min(20_000, rows - start)
            numbers = rng.normal(size=(n, NUMBERS))
            segment = np.array(SEGMENTS)[rng.integers(0, len(SEGMENTS), n)]
            label = (numbers[:, 0] + numbers[:, 1] > 0).astype(int) + (numbers[:, 2] > 1).astype(int)
            cell = (lambda v: f'"{v * 10_000:,.2f}"') if separators else (lambda v: f"{v:.4f}")
            lines = [",".join(cell(v) for v in row) + f",{s},{c}" for row, s, c in zip(numbers, segment, label)]
            handle.write("\n".join(lines) + "\n")


CONFIG = """name: big
seed: 0
data:
  source: {{type: csv, path: {path}, target: label, categorical: [segment]{options}}}
  split: {{validation: 0.1, test: 0.1}}
  preprocess: [standardize]
model:
  layers:
    - {{type: dense, units: 32, activation: relu}}
    - {{type: dense, units: {classes}, activation: softmax}}
loss: categorical_crossentropy
optimizer: adam
metrics: [accuracy]
training: {{epochs: 1, batch_size: 256}}
"""


# Prepended to every measured command: report the process's own peak memory at exit.
# (ru_maxrss from wait4 would count the benchmark's memory too, inherited at fork.)
PEAK = ("import atexit, sys; atexit.register(lambda: sys.stderr.write('PEAK_KIB=' + "
        "[l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0] + '\\n')); ")


def nnrun_command(*args: str) -> list[str]:
    return [sys.executable, "-c", PEAK + f"sys.argv = ['nnrun', *{list(args)!r}]; from nnrun.cli import main; main()"]


def measure(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak resident MiB of one process, start to exit, and its stderr."""
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr}")
    peak = re.search(r"PEAK_KIB=(\d+)", result.stderr)
    return seconds, int(peak.group(1)) / 1024 if peak else float("nan"), result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds (median reported)")
    parser.add_argument("--smoke", action="store_true", help="2,000 rows, one round")
    parser.add_argument("--separators", action="store_true", help='numbers with thousands separators ("12,345.67")')
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.rounds = 2_000, 1
    if "NNRUN_BENCH_UNSET" not in os.environ:  # re-execute once, before anything reads BLAS settings
        env = {k: v for k, v in os.environ.items() if k not in PINNED}
        env["NNRUN_BENCH_UNSET"] = ",".join(name for name in PINNED if name in os.environ)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    unset = os.environ["NNRUN_BENCH_UNSET"]
    print(f"environment: unset {unset} for this benchmark's processes" if unset else
          "environment: no OpenBLAS pins were set")
    with tempfile.TemporaryDirectory() as folder:
        run(Path(folder), args)


def run(folder: Path, args) -> None:
    data, small, run_dir = folder / "big.csv", folder / "small.csv", folder / "run"
    write_csv(data, args.rows, separators=args.separators)
    with open(data, encoding="utf-8") as handle:
        small.write_text("".join(handle.readline() for _ in range(101)))
    config, small_config = folder / "big.yaml", folder / "small.yaml"
    options = ", thousands: ','" if args.separators else ""
    config.write_text(CONFIG.format(path=data, classes=CLASSES, options=options))
    small_config.write_text(CONFIG.format(path=small, classes=CLASSES, options=options))
    subprocess.run(nnrun_command("train", str(config), "--run-dir", str(run_dir), "--quiet"), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pandas = PEAK + ("import time, pandas; start = time.perf_counter(); "
                     f"pandas.read_csv(sys.argv[1]{', thousands=chr(44)' if args.separators else ''}); "
                     "sys.stderr.write(f'CALL_S={time.perf_counter() - start}\\n')")
    has_pandas = importlib.util.find_spec("pandas") is not None  # a reference only, never an nnrun dependency
    if not has_pandas:
        print("pandas is not installed: no reference (pip install pandas)")
    engines = {
        "floor": nnrun_command("validate", str(small_config)),
        **({"pandas.read_csv": [sys.executable, "-c", pandas, str(data)]} if has_pandas else {}),
        "nnrun validate": nnrun_command("validate", str(config)),
        "nnrun predict": nnrun_command("predict", str(run_dir), str(data), "-o", str(folder / "out.csv")),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
    if has_pandas:
        results["read_csv call"] = []
    for _ in range(args.rounds):
        for name, command in engines.items():
            seconds, peak, err = measure(command)
            results[name].append((seconds, peak))
            if name == "pandas.read_csv":
                results["read_csv call"].append((float(re.search(r"CALL_S=([0-9.e-]+)", err).group(1)), peak))
    report(results, data, args.rows)


def report(results: dict, data: Path, rows: int) -> None:
    size = data.stat().st_size / 1e6
    columns = NUMBERS + 2
    float32 = rows * columns * 4 / 2**20
    print(f"\n{rows} x {columns} CSV, {size:.1f} MB; float32 data {float32:.1f} MiB; "
          f"median of {len(results['floor'])} alternated rounds")
    print(f"{'engine':<18}{'seconds':>9}{'peak MiB':>10}")
    median = {name: (statistics.median(s for s, _ in v), statistics.median(m for _, m in v))
              for name, v in results.items()}
    for name, (seconds, memory) in median.items():
        print(f"{name:<18}{seconds:>9.2f}{memory:>10.0f}")
    floor_s, floor_mib = median["floor"]
    validate_s, validate_mib = median["nnrun validate"]
    predict_s = median["nnrun predict"][0]
    memory_limit = 3 * float32 + floor_mib
    if "read_csv call" in median:
        time_limit = 2 * median["read_csv call"][0] + floor_s
        print(f"\nvalidate / (2 x read_csv call + floor): {validate_s:.2f} / {time_limit:.2f} = "
              f"{validate_s / time_limit:.2f}x (target at most 1)")
    print(f"validate peak / (3 x float32 data + floor): {validate_mib:.0f} / {memory_limit:.0f} MiB = "
          f"{validate_mib / memory_limit:.2f}x (target at most 1)")
    print(f"predict / validate: {predict_s:.2f} / {validate_s:.2f} = {predict_s / validate_s:.2f}x (target at most 1)")


if __name__ == "__main__":
    main()
