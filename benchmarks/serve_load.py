"""Load test of `nnrun serve`, beside the same requests answered by a plain onnxruntime session.

    python benchmarks/serve_load.py            # 2,000 single-row and 200 256-row requests, 16 clients
    python benchmarks/serve_load.py --smoke    # a few seconds, proves the script works

Trains configs/fruit.yaml (a CSV with a categorical column) into a temporary folder,
starts `nnrun serve RUN --port 0` on 127.0.0.1 (a free port), and sends a fixed number
of POST /predict requests from concurrent clients (threads, each with one keep-alive
connection), after a warm-up of four single-row requests per client that is not counted. Every request must come back 200 with one prediction per row; anything
else counts as an error. Then the run is exported with `nnrun export` and the same rows
go to an onnxruntime InferenceSession from as many threads, as encoded float32 arrays
(no HTTP, no JSON): the cost of the model alone. Last, the server gets SIGTERM while a
request is in flight, which must be answered, and the server must exit with code 0.

Every phase is bounded in requests and in time (``--phase-timeout``). Needs the serve
and onnx extras and onnxruntime.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "fruit.yaml"
NUMERIC = ("weight_g", "length_cm", "sweetness")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", type=int, default=2000, help="single-row requests")
    parser.add_argument("--batched", type=int, default=200, help="requests of --rows rows")
    parser.add_argument("--rows", type=int, default=256, help="rows in a batched request")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--phase-timeout", type=float, default=120.0, help="seconds a phase may take")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.single, args.batched, args.rows, args.clients = 40, 4, 16, 4
    return args


def instances(count: int, rng: np.random.Generator) -> list[dict]:
    """Rows of the fruit data (features only), drawn with replacement; empty cells are null."""
    with open(ROOT / "configs" / "data" / "fruit.csv", newline="") as handle:
        rows = [{k: v for k, v in row.items() if k != "fruit"} for row in csv.DictReader(handle)]
    picked = [rows[i] for i in rng.integers(0, len(rows), count)]
    return [{k: (None if v == "" else float(v) if k in NUMERIC else v) for k, v in row.items()} for row in picked]


def run_clients(jobs: list, clients: int, timeout: float, send) -> tuple[list[float], int, float]:
    """Run ``send(job, state)`` for every job from ``clients`` threads; returns the
    latencies (s), the error count (failures and jobs left when the time ran out) and
    the wall time. A client that raises stops the run with its exception: a broken
    sender is a bug of this script, not a slow server, and must not pass as errors."""
    latencies, errors, lock, raised = [], [0], threading.Lock(), []
    next_job, deadline = iter(range(len(jobs))), time.monotonic() + timeout

    def worker():
        state: dict = {}
        while time.monotonic() < deadline:
            with lock:
                index = next(next_job, None)
            if index is None:
                return
            start = time.perf_counter()
            try:
                ok = send(jobs[index], state)
            except Exception as exc:
                raised.append(exc)
                return
            with lock:
                latencies.append(time.perf_counter() - start)
                errors[0] += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 30)
    wall = time.perf_counter() - began
    if raised:
        raise raised[0]
    return latencies, errors[0] + len(jobs) - len(latencies), wall


def http_sender(host: str, port: int):
    def send(job: tuple[bytes, int], state: dict) -> bool:
        body, rows = job
        try:
            if "connection" not in state:
                state["connection"] = http.client.HTTPConnection(host, port, timeout=30)
            connection = state["connection"]
            connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
            return response.status == 200 and len(json.loads(payload)["predictions"]) == rows
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            state.pop("connection", None)
            return False

    return send


def onnx_sender(session):
    def send(features: np.ndarray, state: dict) -> bool:
        return session.run(None, {"features": features})[0].shape[0] == len(features)

    return send


def summary(label: str, rows: int, latencies: list[float], errors: int, wall: float) -> str:
    ms = np.array(latencies) * 1000
    p50, p99 = (np.percentile(ms, [50, 99]) if len(ms) else (float("nan"), float("nan")))
    return (f"  {label:<28} {len(latencies):>6} {errors:>6} {p50:>9.2f} {p99:>9.2f} "
            f"{len(latencies) / wall:>10.0f} {len(latencies) * rows / wall:>10.0f}")


def start_server(run_dir: Path) -> tuple[subprocess.Popen, str, int]:
    process = subprocess.Popen([sys.executable, "-m", "nnrun", "serve", str(run_dir), "--host", "127.0.0.1",
                                "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if " at http://" not in line:
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()}")
    host, port = line.split(" at http://")[1].split()[0].split(":")
    return process, host, int(port)


def stop_with_request_in_flight(process: subprocess.Popen, host: str, port: int, body: bytes) -> tuple[int, int]:
    """SIGTERM while a request's body is still on its way; (HTTP status, exit code)."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.putrequest("POST", "/predict")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    connection.send(body)
    status = connection.getresponse().status
    return status, process.wait(timeout=30)


def main() -> None:
    args = parse_args()
    import onnxruntime

    import nnrun
    from nnrun.commands.export import export_run
    from nnrun.commands.serve import ServedModel

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        run_dir = nnrun.train(CONFIG, run_dir=Path(folder) / "fruit", quiet=True).run_dir
        singles = [[row] for row in instances(args.single, rng)]
        batches = [instances(args.rows, rng) for _ in range(args.batched)]
        served = ServedModel.load(run_dir)  # only to encode rows for onnxruntime, as the server does
        print(f"nnrun serve load test: {args.clients} concurrent clients, fruit model, 127.0.0.1, "
              f"onnxruntime {onnxruntime.__version__}")
        print(f"  {'':<28} {'reqs':>6} {'errors':>6} {'p50 ms':>9} {'p99 ms':>9} {'req/s':>10} {'rows/s':>10}")
        process, host, port = start_server(run_dir)
        try:
            warm_up = [(json.dumps({"instances": job}).encode(), 1) for job in singles[: 4 * args.clients]]
            run_clients(warm_up, args.clients, args.phase_timeout, http_sender(host, port))  # not counted
            for label, jobs in (("serve, 1 row", singles), (f"serve, {args.rows} rows", batches)):
                bodies = [(json.dumps({"instances": job}).encode(), len(job)) for job in jobs]
                result = run_clients(bodies, args.clients, args.phase_timeout, http_sender(host, port))
                print(summary(label, len(jobs[0]), *result))
            status, code = stop_with_request_in_flight(process, host, port, json.dumps({"instances": singles[0]}).encode())
        finally:
            process.kill()
        report = export_run(run_dir, Path(folder) / "fruit.onnx")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the clients are the parallelism, as for the server
        session = onnxruntime.InferenceSession(str(report.model_path), options, providers=["CPUExecutionProvider"])
        for label, jobs in (("onnxruntime, 1 row", singles), (f"onnxruntime, {args.rows} rows", batches)):
            arrays = [served.features(job)[0] for job in jobs]  # the samples, without the notes
            result = run_clients(arrays, args.clients, args.phase_timeout, onnx_sender(session))
            print(summary(label, len(jobs[0]), *result))
        print(f"  SIGTERM with a request in flight: answered {status}, server exit code {code}")


if __name__ == "__main__":
    main()
