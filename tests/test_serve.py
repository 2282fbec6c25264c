"""`nnrun serve`: the run behind HTTP. In-process through FastAPI's TestClient, and as
a real server (`nnrun serve --port 0` on 127.0.0.1) for start-up, SIGTERM and exit codes.
Every server and loop here is bounded in requests and time."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import nnrun
from trained import CONFIGS, train_diabetes

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx2")

from fastapi.testclient import TestClient  # noqa: E402

from nnrun.commands.predict import predict  # noqa: E402
from nnrun.commands.serve import ServedModel, create_app  # noqa: E402

NEW_FRUIT = CONFIGS / "data" / "fruit_new.csv"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    found = {name: nnrun.train(CONFIGS / f"{name}.yaml", overrides=["training.epochs=3"], run_dir=root / name,
                               quiet=True).run_dir for name in ("fruit", "breast_cancer", "digits_cnn")}
    found["diabetes"] = train_diabetes(root / "diabetes")
    return found


@pytest.fixture(scope="module")
def fruit(runs):
    return TestClient(create_app(ServedModel.load(runs["fruit"]), max_instances=3))


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _instances(rows: list[dict], numeric: set[str]) -> list[dict]:
    return [{k: (None if v.strip() == "" else float(v) if k in numeric else v.strip()) for k, v in row.items()}
            for row in rows]


def test_health_and_metadata(fruit, runs):
    assert fruit.get("/health").json() == {"status": "ok", "model": "fruit"}
    assert fruit.head("/health").status_code == 200  # as a load balancer's check asks
    meta = fruit.get("/metadata").json()
    assert meta["task"] == "classification" and meta["class_names"] == ["apple", "banana", "orange"]
    assert meta["columns"][3] == {"name": "color", "type": "category", "categories": [
        "brown", "green", "orange", "red", "yellow"], "missing": "yellow", "unknown": "error"}
    assert len(meta["run"]["config_hash"]) == 64 and meta["run"]["created"].startswith("20")
    assert meta["max_instances"] == 3
    recorded = json.loads((runs["fruit"] / "meta.json").read_text())
    assert meta["run"]["scores"] == recorded["final"] and "accuracy" in meta["run"]["scores"]["test"]
    # The weights served, told as an evaluation report and an export tell them.
    from nnrun.store.trained import TrainedRun, weights_fingerprint

    assert meta["weights_fingerprint"] == weights_fingerprint(TrainedRun.load(runs["fruit"]).graph)


def test_predictions_equal_nnrun_predict(fruit, runs, tmp_path):
    rows = _rows(NEW_FRUIT)[:3]
    response = fruit.post("/predict", json={"instances": _instances(rows, {"weight_g", "length_cm", "sweetness"})})
    assert response.status_code == 200
    served = response.json()["predictions"]
    expected = _rows(predict(runs["fruit"], NEW_FRUIT, tmp_path / "p.csv", proba=True).output)[:3]
    assert [p["prediction"] for p in served] == [row["prediction"] for row in expected]
    for answer, row in zip(served, expected):
        assert set(answer["probabilities"]) == {"apple", "banana", "orange"}
        for name, p in answer["probabilities"].items():
            assert abs(p - float(row[f"proba_{name}"])) <= 5e-7  # predict writes 6 decimals


def test_binary_classifier_gives_both_probabilities(runs):
    client = TestClient(create_app(ServedModel.load(runs["breast_cancer"])))
    columns = client.get("/metadata").json()["columns"]
    answer = client.post("/predict", json={"instances": [{c["name"]: 0.5 for c in columns}]}).json()["predictions"][0]
    assert set(answer["probabilities"]) == {"benign", "malignant"}
    assert abs(sum(answer["probabilities"].values()) - 1) < 1e-6
    assert answer["prediction"] == max(answer["probabilities"], key=answer["probabilities"].get)


def test_a_threshold_moves_the_served_decision_and_the_metadata_says_it(runs):
    rows = []
    for threshold in (None, 0.01, 0.99):
        client = TestClient(create_app(ServedModel.load(runs["breast_cancer"], threshold)))
        metadata = client.get("/metadata").json()
        assert metadata.get("threshold") == threshold
        columns = metadata["columns"]
        answer = client.post("/predict", json={"instances": [{c["name"]: 0.0 for c in columns}]}).json()
        rows.append(answer["predictions"][0])
    assert rows[0]["probabilities"] == rows[1]["probabilities"] == rows[2]["probabilities"]
    malignant = rows[0]["probabilities"]["malignant"]
    assert rows[1]["prediction"] == ("malignant" if malignant > 0.01 else "benign")
    assert rows[2]["prediction"] == ("malignant" if malignant > 0.99 else "benign")
    with pytest.raises(nnrun.errors.UserError, match="a threshold decides between two classes"):
        ServedModel.load(runs["fruit"], 0.3)


def test_regression_and_images_equal_nnrun_predict(runs, tmp_path):
    for name in ("diabetes", "digits_cnn"):
        model = ServedModel.load(runs[name])
        names = [c["name"] for c in model.card["columns"]]
        values = np.random.default_rng(0).uniform(0, 1, (4, len(names))).round(3)
        path = tmp_path / f"{name}.csv"
        path.write_text(",".join(names) + "\n" + "\n".join(",".join(map(repr, row)) for row in values.tolist()) + "\n")
        expected = _rows(predict(runs[name], path, tmp_path / f"{name}-out.csv").output)
        client = TestClient(create_app(model))
        served = client.post("/predict", json={"instances": [dict(zip(names, row)) for row in values.tolist()]})
        got = [p["prediction"] for p in served.json()["predictions"]]
        # The digits' classes are the numbers 0 to 9: answered as JSON numbers, as the Python API gives them.
        want = [float(r["prediction"]) if name == "diabetes" else int(r["prediction"]) for r in expected]
        assert got == want


BAD_REQUESTS = [
    ({"instances": [{"length_cm": 7, "sweetness": 5, "color": "red"}]},
     "instance 0, field 'weight_g': missing; every instance needs this column (send null to have it filled in)"),
    ({"instances": [{"weight_g": 1, "length_cm": 7, "sweetness": 5, "color": "red", "colour": "red"}]},
     "instance 0, field 'colour': unknown column; did you mean 'color'?"),
    ({"instances": [{"weight_g": 1, "length_cm": 7, "sweetness": 5, "color": "red"},
                    {"weight_g": 1, "length_cm": 7, "sweetness": 5, "color": "purple"}]},
     "instance 1, field 'color': unseen category 'purple'; the model knows brown, green, orange, red, yellow"),
    ({"instances": [{"weight_g": "heavy", "length_cm": 7, "sweetness": 5, "color": "red"}]},
     "instance 0, field 'weight_g': 'heavy' is not a number"),
    ({"instances": []}, "instances: the list is empty; send at least one instance"),
    ({"instances": [{"weight_g": 1, "length_cm": 7, "sweetness": 5, "color": "red"}] * 4},
     "instances: 4 instances, at most 3 in one request; split them over several requests"),
    ({"rows": []}, 'the body has no \'instances\'; send {"instances": [{"column": value, ...}]}'),
    ([1, 2], 'the body must be a JSON object {"instances": [...]}, got [1, 2]'),
]


@pytest.mark.parametrize("body, message", BAD_REQUESTS)
def test_bad_input_is_a_422_naming_instance_and_field_and_serving_goes_on(fruit, body, message):
    response = fruit.post("/predict", json=body)
    assert response.status_code == 422
    assert message in [error["msg"] for error in response.json()["detail"]]
    good = {"instances": [{"weight_g": 150, "length_cm": 7.1, "sweetness": None, "color": None}]}
    assert fruit.post("/predict", json=good).status_code == 200


def test_json_true_and_false_in_a_number_column_are_1_and_0(fruit):
    # As the CSV reader and the Python API read True and False.
    as_numbers = fruit.post("/predict", json={"instances": [{**GOOD["instances"][0], "sweetness": 1}]})
    as_boolean = fruit.post("/predict", json={"instances": [{**GOOD["instances"][0], "sweetness": True}]})
    assert as_boolean.status_code == 200, as_boolean.json()
    assert as_boolean.json()["predictions"] == as_numbers.json()["predictions"]


def test_an_answer_carries_the_notes_predict_would_print(fruit):
    # 118 kg of fruit (grams were meant) and an empty sweetness filled in: said in the answer.
    far = fruit.post("/predict", json={"instances": [{**GOOD["instances"][0], "weight_g": 118000}]}).json()
    (note,) = far["notes"]
    assert note.startswith("1 of 1 values in 'weight_g' lie far outside what training saw (") and \
        "e.g. 118000 at instance 0: another unit or number format?" in note
    filled = fruit.post("/predict", json={"instances": [{**GOOD["instances"][0], "sweetness": None}]}).json()
    assert filled["notes"] == ["filled 1 empty cell with the training split's means (the most frequent category for "
                               "a category), as data.source.missing: mean says: 1 in 'sweetness'"]
    assert "notes" not in fruit.post("/predict", json=GOOD).json()


def test_a_body_that_is_not_json_is_a_422(fruit):
    response = fruit.post("/predict", content=b'{"instances": [', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith("the body is not valid JSON (")
    response = fruit.post("/predict", content=b"\xff\xfe{", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"][0]["msg"] == (
        'the body is not JSON text in UTF-8; send {"instances": [...]} encoded as UTF-8')
    assert fruit.get("/nope").status_code == 404 and fruit.get("/predict").status_code == 405  # as before
    answered = ('this server answers GET /health, GET /metadata and POST /predict (a JSON body {"instances": [...]}); '
                'see /docs')
    assert fruit.get("/nope").json() == {"detail": f"no endpoint /nope; {answered}"}
    refused = fruit.get("/predict")
    assert refused.json() == {"detail": f"GET /predict is not answered; {answered}"}
    assert refused.headers["allow"] == "POST"
    # A trailing slash: a JSON 404 naming the endpoints, not an empty redirect a POST body does not follow.
    slashed = fruit.post("/predict/", json=GOOD, follow_redirects=False)
    assert slashed.status_code == 404 and slashed.json() == {"detail": f"no endpoint /predict/; {answered}"}
    assert fruit.head("/metadata").status_code == 200 and fruit.head("/health").status_code == 200
    assert fruit.post("/metadata").headers["allow"] == "GET, HEAD"
    deep = fruit.post("/predict", content=b'{"instances": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                      headers={"content-type": "application/json"})
    assert deep.status_code == 422 and deep.json()["detail"][0]["msg"] == (  # not called a decoding problem
        'the body nests arrays or objects too deeply to be read; send {"instances": [...]}, one object of columns '
        'per instance')
    long = fruit.post("/predict", content=b'{"instances": [{"weight_g": 1' + b"0" * 4400 + b"}]}",
                      headers={"content-type": "application/json"})  # beyond the digits Python reads a number to
    assert long.status_code == 422 and long.json()["detail"][0]["msg"] == (
        "the body is not JSON that can be read (Exceeds the limit (4300 digits) for integer string conversion: value "
        "has 4401 digits)")
    good = b'{"instances": [{"weight_g": 150, "length_cm": 7.1, "sweetness": 5, "color": "red"}]}'
    for body, message in [(good, "the body is JSON, sent as another Content-Type; send it with Content-Type: "
                                 "application/json"),
                          (b"5", "the body must be a JSON object {\"instances\": [...]}, got 5"),
                          (b"weight_g=150", "the body is not JSON; send {\"instances\": [...]} with Content-Type: "
                                            "application/json")]:
        response = fruit.post("/predict", content=body, headers={"content-type": "text/plain"})
        assert response.status_code == 422 and response.json()["detail"][0]["msg"] == message
    # curl -d sends a form's Content-Type, or a client none: the body is read as the JSON it is.
    for headers in ({"content-type": "application/x-www-form-urlencoded"}, {}):
        response = fruit.post("/predict", content=good, headers=headers)
        assert response.status_code == 200 and response.json()["predictions"][0]["prediction"], response.text
    response = fruit.post("/predict", content=b"weight_g=150", headers={"content-type": "application/x-www-form-"
                                                                                        "urlencoded"})
    assert response.status_code == 422 and response.json()["detail"][0]["msg"].startswith("the body is not valid JSON")
    twice = fruit.post("/predict", json=good.decode())  # requests.post(url, json=json.dumps(payload)) sends this
    assert twice.json()["detail"][0]["msg"] == ("the body is a JSON string, not an object: JSON encoded twice? Send "
                                                "the object itself, e.g. requests.post(url, json=payload)")


def test_every_problem_of_a_request_is_reported_at_once(fruit):
    body = {"instances": [{"weight_g": "x", "length_cm": 7, "color": "blue"}]}
    fields = [(e["instance"], e["field"]) for e in fruit.post("/predict", json=body).json()["detail"]]
    assert sorted(fields) == [(0, "color"), (0, "sweetness"), (0, "weight_g")]


def test_the_openapi_page_documents_this_models_columns(fruit):
    schema = fruit.get("/openapi.json").json()["components"]["schemas"]["Instance"]
    assert schema["required"] == ["weight_g", "length_cm", "sweetness", "color"]
    assert schema["additionalProperties"] is False
    color = schema["properties"]["color"]
    assert {"enum": ["brown", "green", "orange", "red", "yellow"], "type": "string"} in color["anyOf"]
    assert fruit.get("/docs").status_code == 200


TOO_LARGE = "the body is larger than {} bytes, the most this server accepts; send fewer instances in each " \
            "request, or start nnrun serve with a larger --max-body-bytes"
GOOD = {"instances": [{"weight_g": 150, "length_cm": 7.1, "sweetness": 5.5, "color": "red"}]}


def test_a_body_past_the_default_limit_is_a_413_and_the_limit_grows_with_the_model(fruit, runs):
    assert fruit.get("/metadata").json()["max_body_bytes"] == 1 << 20  # 3 instances of 4 columns: the least
    padded = {"instances": [GOOD["instances"][0] | {"note": "x" * 5_000_000}]}
    response = fruit.post("/predict", json=padded)
    assert response.status_code == 413
    assert [e["msg"] for e in response.json()["detail"]] == [TOO_LARGE.format(1 << 20)]
    assert fruit.post("/predict", json=GOOD).status_code == 200
    digits = TestClient(create_app(ServedModel.load(runs["digits_cnn"])))
    columns = len(digits.get("/metadata").json()["columns"])
    # 64 pixels and the target ("digit"), which an instance may carry too
    assert columns == 64 and digits.get("/metadata").json()["max_body_bytes"] == 1000 * (columns + 1) * 128


def _exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send ``request`` (it asks the server to close), and read the whole answer."""
    with socket.create_connection(address, timeout=30) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


def test_the_server_refuses_a_declared_or_a_chunked_body_past_max_body_bytes_and_goes_on(runs, tmp_path):
    process, url = _start(str(runs["fruit"]), "--max-body-bytes", "2000", cwd=tmp_path)
    host, port = url.removeprefix("http://").split(":")
    head = f"POST /predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nConnection: close\r\n"
    try:
        declared = _exchange((host, int(port)), f"{head}Content-Length: 5000000\r\n\r\n".encode())  # and no body
        chunk = b"3e8\r\n" + b" " * 1000 + b"\r\n"  # 1000 bytes, three times; the last chunk is never sent
        chunked = _exchange((host, int(port)), f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunk * 3)
        for reply in (declared, chunked):
            status, _, body = reply.partition(b"\r\n\r\n")
            assert status.startswith(b"HTTP/1.1 413") and b"content-type: application/json" in status
            assert [e["msg"] for e in json.loads(body)["detail"]] == [TOO_LARGE.format(2000)]
        request = urllib.request.Request(f"{url}/predict", data=json.dumps(GOOD).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["predictions"][0]["prediction"] in ("apple", "banana", "orange")
        with urllib.request.urlopen(f"{url}/metadata", timeout=30) as response:
            assert json.load(response)["max_body_bytes"] == 2000
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0 and "Traceback" not in process.stderr.read()


def _start(*args: str, cwd: Path) -> tuple[subprocess.Popen, str]:
    """`nnrun serve ... --port 0` on 127.0.0.1; the URL it prints (waits 60 s at most)."""
    process = subprocess.Popen([sys.executable, "-m", "nnrun", "serve", *args, "--host", "127.0.0.1", "--port", "0"],
                               cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    line = process.stdout.readline()
    assert time.monotonic() < deadline and " at http://127.0.0.1:" in line, process.stderr.read()
    return process, line.split(" at ")[1].split()[0]


def test_access_log_prints_a_line_per_request_only_when_asked(runs, tmp_path):
    for asked in (True, False):
        process, url = _start(str(runs["fruit"]), *(["--access-log"] if asked else []), cwd=tmp_path)
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
                assert response.status == 200
        finally:
            process.terminate()
            assert process.wait(timeout=30) == 0
        said = process.stderr.read()
        assert ('"GET /health HTTP/1.1" 200' in said) == asked, said
        assert "Uvicorn running" not in said and "Traceback" not in said


def test_server_answers_the_request_in_flight_on_sigterm_and_exits_0(runs, tmp_path):
    process, url = _start(str(runs["fruit"]), cwd=tmp_path)
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            assert json.load(response)["status"] == "ok"
        body = json.dumps({"instances": [{"weight_g": 150, "length_cm": 7.1, "sweetness": 5.5, "color": "red"}]})
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as connection:
            connection.sendall(f"POST /predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
            time.sleep(0.5)  # the request has started; its body is still on the way
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            connection.sendall(body.encode())
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 200") and b'"prediction":' in reply
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()


def test_a_client_that_stalls_in_its_body_delays_sigterm_a_few_seconds_and_is_told_why(runs, tmp_path):
    # It held the stop for 30 s, and the server printed a traceback of the cancelled request.
    from nnrun.commands.serve import SHUTDOWN_SECONDS

    process, url = _start(str(runs["fruit"]), cwd=tmp_path)
    try:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as connection:
            connection.sendall(f"POST /predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                               "Content-Length: 100\r\n\r\n{".encode())
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            assert process.wait(timeout=30) == 0
            assert time.monotonic() - started < SHUTDOWN_SECONDS + 5
            reply = connection.recv(65536)
        assert reply.startswith(b"HTTP/1.1 503") and b"the server is shutting down" in reply
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_damaged_run_directory_refuses_to_start_with_exit_2(runs, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(runs["fruit"], damaged)
    (damaged / "preprocess.json").write_text("{}")
    result = subprocess.run([sys.executable, "-m", "nnrun", "serve", str(damaged), "--port", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "preprocess.json: damaged" in result.stderr and result.stdout == ""


def test_a_port_in_use_is_exit_2(run_cli, runs):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("serve", runs["fruit"], "--port", taken.getsockname()[1])
    assert result.exit_code == 2 and "cannot listen on 127.0.0.1:" in result.output
    assert "hint: choose another --port (0 picks a free one)" in result.output


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_out_of_range_is_exit_2_with_the_range(run_cli, runs, port):
    result = run_cli("serve", runs["fruit"], "--port", port)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: --port {port}: the port must be between 0 and 65535 (0 picks a free one)"


def test_every_option_out_of_range_is_reported_at_once(run_cli, runs):
    result = run_cli("serve", runs["fruit"], "--port", "70000", "--max-instances", "0", "--max-body-bytes", "0")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --port 70000: the port must be between 0 and 65535 (0 picks a free one)",
        "--max-instances 0: give at least 1",
        "--max-body-bytes 0: give at least 1 (or leave it out: room for --max-instances instances)"]


def test_a_body_limit_no_request_of_this_model_fits_is_refused_before_serving(run_cli, runs):
    # The fruit model's shortest request: one instance, its four columns, the shortest colour.
    smallest = len('{"instances":[{"weight_g":0,"length_cm":0,"sweetness":0,"color":"red"}]}')
    result = run_cli("serve", runs["fruit"], "--port", "0", "--max-body-bytes", str(smallest - 1))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: --max-body-bytes {smallest - 1}: a request of one instance with this "
                                    f"model's 4 columns takes about {smallest} bytes\n")
    assert "leave it out (room for --max-instances instances: 1048576 bytes here)" in " ".join(result.output.split())
    app = create_app(ServedModel.load(runs["fruit"]), max_body_bytes=smallest)
    body = json.dumps({"instances": [{"weight_g": 0, "length_cm": 0, "sweetness": 0, "color": "red"}]},
                      separators=(",", ":"))
    assert TestClient(app).post("/predict", content=body, headers={"content-type": "application/json"}
                                ).status_code == 200


@pytest.mark.parametrize("host, reason", [("192.0.2.1", "Cannot assign requested address"),  # TEST-NET-1
                                          ("999.1.1.1", "")])  # no address: the name is looked up, and fails
def test_a_host_that_is_not_this_machines_says_to_change_the_host(run_cli, runs, host, reason):
    result = run_cli("serve", runs["fruit"], "--host", host, "--port", "0")
    assert result.exit_code == 2 and f"error: cannot listen on {host}:0: {reason}" in result.output
    assert "hint: choose another --host: 127.0.0.1 (this machine only)" in result.output
    assert "--port" not in result.output


def test_without_fastapi_says_how_to_install(run_cli, runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)
    result = run_cli("serve", runs["fruit"], "--port", "0")
    assert result.exit_code == 2
    assert "nnrun serve needs fastapi and uvicorn" in result.output and "pip install 'nnrun[serve]'" in result.output


def test_a_text_column_is_served_as_a_string_and_equals_nnrun_predict(tmp_path):
    run = nnrun.train(CONFIGS / "text_lstm.yaml", overrides=["training.epochs=1"], run_dir=tmp_path / "text",
                      quiet=True).run_dir
    client = TestClient(create_app(ServedModel.load(run)))
    column = client.get("/metadata").json()["columns"][0]
    assert column["name"] == "review" and column["type"] == "text" and column["text"]["length"] == 40
    reviews = ["a wonderful, moving film", "dull and far too long", ""]
    (tmp_path / "new.csv").write_text("review\n" + "\n".join(f'"{r}"' for r in reviews) + "\n")
    expected = _rows(predict(run, tmp_path / "new.csv", tmp_path / "out.csv").output)
    answer = client.post("/predict", json={"instances": [{"review": r} for r in reviews]}).json()
    assert [p["prediction"] for p in answer["predictions"]] == [row["prediction"] for row in expected]
    # What predict says of the texts, the answer says too: here, the empty one.
    assert answer["notes"] == ["1 text in 'review' is empty (no token), so its prediction says little"]
    long = client.post("/predict", json={"instances": [{"review": "good " * 60}, {"review": "zzz qqq"}]}).json()
    assert long["notes"] == ["1 of 2 texts in 'review' are longer than the run's length of 40 tokens; each was cut "
                             "to its first 40, as in training",
                             "1 text holds no word the vocabulary of 'review' knows (read as [UNK] only), so its "
                             "prediction says little"]
    wrong = client.post("/predict", json={"instances": [{"review": 5}]})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["msg"] == "instance 0, field 'review': 5 is not text; send a string"
    # The texts alone, as TensorFlow Serving's clients send a text model's instances: the same answers.
    bare = client.post("/predict", json={"instances": reviews}).json()
    assert bare["predictions"] == answer["predictions"] and bare["notes"] == answer["notes"]
    number = client.post("/predict", json={"instances": [5]})
    assert number.status_code == 422 and number.json()["detail"][0]["msg"] == "instance 0: must be an object of " \
        "columns, {\"column\": value, ...}, or the text of 'review' as a string; got 5"
    examples = client.get("/openapi.json").json()["components"]["schemas"]["PredictRequest"]["examples"]
    assert [type(e["instances"][0]).__name__ for e in examples] == ["dict", "str"]  # the OpenAPI page shows both


def test_id_and_target_columns_are_accepted_and_the_ids_come_back(tmp_path):
    run = nnrun.train(CONFIGS / "customers.yaml", overrides=["training.epochs=1"], run_dir=tmp_path / "customers",
                      quiet=True).run_dir
    client = TestClient(create_app(ServedModel.load(run)))
    meta = client.get("/metadata").json()
    assert meta["ids"] == ["customer_id"] and meta["target"] == "plan"
    assert "customer_id" not in [c["name"] for c in meta["columns"]]
    with open(CONFIGS / "data" / "customers_new.csv", newline="") as handle:
        first = next(csv.DictReader(handle))
    cells = {c["name"]: first[c["name"]].strip() or None for c in meta["columns"]}
    numbers = {c["name"] for c in meta["columns"] if c["type"] == "number"}
    instance = {name: float(v.replace(",", "")) if name in numbers and v else v for name, v in cells.items()}
    instance |= {"customer_id": first["customer_id"], "plan": "basic"}
    response = client.post("/predict", json={"instances": [instance, {**instance, "customer_id": 17}]})
    assert response.status_code == 200, response.json()
    answers = response.json()["predictions"]
    assert [a["ids"] for a in answers] == [{"customer_id": first["customer_id"]}, {"customer_id": 17}]
    assert answers[0]["prediction"] == answers[1]["prediction"]  # the ID is no feature
    expected = _rows(predict(run, CONFIGS / "data" / "customers_new.csv", tmp_path / "p.csv").output)[0]
    assert answers[0]["prediction"] == expected["prediction"] and expected["customer_id"] == first["customer_id"]
    unknown = client.post("/predict", json={"instances": [{**instance, "customer": "x"}]})
    assert unknown.status_code == 422  # an unknown key is still refused: it may be a misspelt column
    nested = client.post("/predict", json={"instances": [{**instance, "customer_id": {"a": 1}}]}).json()["detail"]
    assert [e["msg"] for e in nested] == ["instance 0, field 'customer_id': {\"a\": 1} is not one value; send a "
                                          "string, a number, true, false or null"]  # one entry, not one per type


def test_the_cells_of_a_csv_row_as_text_are_answered_as_nnrun_predict_answers_the_file(tmp_path):
    # customers: thousands: ",", missing: mean, unknown: ignore. Every cell as the file holds it.
    run = nnrun.train(CONFIGS / "customers.yaml", overrides=["training.epochs=1"], run_dir=tmp_path / "customers",
                      quiet=True).run_dir
    client = TestClient(create_app(ServedModel.load(run)))
    rows = _rows(CONFIGS / "data" / "customers_new.csv")
    instances = [{k: (v if v.strip() else None) for k, v in row.items() if k != "signup_channel"} for row in rows]
    assert any(" " in (i["income"] or "") or "," in (i["income"] or "") for i in instances)
    response = client.post("/predict", json={"instances": instances})
    assert response.status_code == 200, response.json()
    expected = _rows(predict(run, CONFIGS / "data" / "customers_new.csv", tmp_path / "p.csv").output)
    assert [a["prediction"] for a in response.json()["predictions"]] == [r["prediction"] for r in expected]
    assert response.json()["notes"] == [  # as predict says them of the file
        "filled 1 empty cell with the training split's means (the most frequent category for a category), as "
        "data.source.missing: mean says: 1 in 'age'",
        "1 cell held categories training never saw, encoded as all zeros: 'city' 'Grenoble' (1)"]
    bad = {**instances[0], "income": "12,34", "age": "NA"}
    detail = client.post("/predict", json={"instances": [bad]}).json()["detail"]
    assert [e["msg"] for e in detail] == [
        "instance 0, field 'income': '12,34' is not a number (',' stands only between groups of three digits, as "
        "training read them)"]
    assert "notes" not in client.post("/predict", json={"instances": instances[:1]}).json()


def test_a_missing_marker_sent_for_a_column_training_cannot_fill_is_refused(runs, fruit):
    client = TestClient(create_app(ServedModel.load(runs["breast_cancer"])))  # bundled data: nothing is filled
    names = [c["name"] for c in client.get("/metadata").json()["columns"]]
    instance = {name: "1.5" for name in names} | {names[0]: "NA"}
    detail = client.post("/predict", json={"instances": [instance]}).json()["detail"]
    assert [e["msg"] for e in detail] == [f"instance 0, field '{names[0]}': 'NA' is an empty cell, and training "
                                          "had no value to fill it with; send a number"]
    text = client.post("/predict", json={"instances": [instance | {names[0]: " 1.5 "}]})
    number = client.post("/predict", json={"instances": [{name: 1.5 for name in names}]})
    assert text.status_code == 200 and text.json() == number.json()
    # where training fills empty cells, a missing marker is null
    body = {"instances": [{"weight_g": "NA", "length_cm": " 7.5 ", "sweetness": "5", "color": "red"}]}
    null = {"instances": [{"weight_g": None, "length_cm": 7.5, "sweetness": 5, "color": "red"}]}
    assert fruit.post("/predict", json=body).json() == fruit.post("/predict", json=null).json()


def _served(tmp_path, rows: list[str], settings: str):
    """A run trained one epoch on the CSV ``rows`` (target: label) with these source
    ``settings``, and a client of its server."""
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "d.yaml").write_text(
        f"name: d\ndata:\n  source: {{type: csv, path: d.csv, target: label, {settings}}}\n"
        "model:\n  layers: [{type: dense, units: 2, activation: softmax}]\nloss: categorical_crossentropy\n"
        "training: {epochs: 1}\n")
    run = nnrun.train(tmp_path / "d.yaml", run_dir=tmp_path / "run", quiet=True).run_dir
    return run, TestClient(create_app(ServedModel.load(run)))


def test_a_run_reading_dots_between_thousands_answers_numbers_and_their_text(tmp_path):
    rows = ["amount,size,label"] + [f'"{1 + i % 9}.{(100 + 37 * i) % 1000:03d}",{i % 5},{"ab"[i % 2]}' for i in range(60)]
    run, client = _served(tmp_path, rows, "thousands: '.'")
    (tmp_path / "new.csv").write_text('amount,size\n"1.234",3\n"7.001",0\n')
    expected = [r["prediction"] for r in _rows(predict(run, tmp_path / "new.csv", tmp_path / "p.csv").output)]
    for instances in ([{"amount": "1.234", "size": "3"}, {"amount": " 7.001 ", "size": 0}],
                      [{"amount": 1234, "size": 3}, {"amount": 7001.0, "size": 0}]):
        response = client.post("/predict", json={"instances": instances})
        assert response.status_code == 200, response.json()
        assert [a["prediction"] for a in response.json()["predictions"]] == expected
    detail = client.post("/predict", json={"instances": [{"amount": "inf", "size": 1}]}).json()["detail"]
    assert [e["msg"] for e in detail] == ["instance 0, field 'amount': 'inf' is not a finite number"]
    huge = client.post("/predict", content=b'{"instances": [{"amount": 1e400, "size": 1}]}',
                       headers={"content-type": "application/json"}).json()["detail"]  # read as infinity
    assert [e["msg"] for e in huge] == ["instance 0, field 'amount': Infinity (or a number too large to read, such as "
                                        "1e400) is not a finite number"]
    long = client.post("/predict", content=b'{"instances": [{"amount": 1' + b"0" * 400 + b', "size": 1}]}',
                       headers={"content-type": "application/json"}).json()["detail"]  # a whole number, too long for a float
    assert long[0]["msg"].endswith("is beyond the numbers the model computes with (float32, at most 3.403e+38 in size)")
    # Finite in JSON, infinite in the model's float32: said of that field, not of a "line".
    detail = client.post("/predict", json={"instances": [{"amount": 1, "size": 1}, {"amount": 1e308, "size": -4e38}]}
                         ).json()["detail"]
    assert [e["msg"] for e in detail] == [
        "instance 1, field 'amount': 1e+308 is beyond the numbers the model computes with (float32, at most 3.403e+38 "
        "in size)",
        "instance 1, field 'size': -4e+38 is beyond the numbers the model computes with (float32, at most 3.403e+38 "
        "in size)"]


def test_a_number_category_is_read_as_predict_reads_its_cell(tmp_path):
    # ZIP codes: '02139' sent as 2139 or "2139" (its zeros dropped by a number reader), '94105' as 94105.0.
    rows = ["zip,size,label"] + [f"{('02139', '94105', '60601')[i % 3]},{i % 5},{'ab'[i % 2]}" for i in range(60)]
    _, client = _served(tmp_path, rows, "categorical: [zip]")

    def answer(zip_code):
        response = client.post("/predict", json={"instances": [{"zip": zip_code, "size": 1}]})
        assert response.status_code == 200, response.json()
        return response.json()["predictions"][0]["probabilities"]

    assert answer(2139) == answer("2139") == answer(" 02139 ") and answer(94105.0) == answer("94105")
    assert answer(2139) != answer("94105")
    refused = client.post("/predict", json={"instances": [{"zip": 2140, "size": 1}]})
    assert refused.status_code == 422 and "unseen category '2140'" in refused.json()["detail"][0]["msg"]


def test_a_category_sent_as_a_cell_is_read_as_one(fruit):
    def answer(color):
        body = {"instances": [{"weight_g": 150, "length_cm": 7.1, "sweetness": 5, "color": color}]}
        response = fruit.post("/predict", json=body)
        assert response.status_code == 200, response.json()
        return response.json()

    assert answer("NA") == answer("") == answer(None)  # an empty cell: training's fill value
    assert answer(" red ") == answer("red")


def test_a_model_of_number_columns_takes_each_sample_as_an_array_nested_or_flat(runs, tmp_path):
    """As TensorFlow Serving's clients send a sample: the digits' images as (8, 8, 1),
    (8, 8) without the channel, or 64 values flat; the answers are nnrun predict's."""
    model = ServedModel.load(runs["digits_cnn"])
    assert model.card["array_shapes"] == [[8, 8, 1], [8, 8], [64]]
    names = [c["name"] for c in model.card["columns"]]
    images = np.random.default_rng(1).integers(0, 17, (3, 8, 8, 1))
    path = tmp_path / "digits.csv"
    path.write_text(",".join(names) + "\n" + "\n".join(",".join(map(str, image.ravel())) for image in images) + "\n")
    expected = [int(r["prediction"]) for r in _rows(predict(runs["digits_cnn"], path, tmp_path / "out.csv").output)]
    client = TestClient(create_app(model))
    assert client.get("/metadata").json()["array_shapes"] == [[8, 8, 1], [8, 8], [64]]
    for sent in (images.tolist(), images[..., 0].tolist(), images.reshape(3, 64).tolist()):
        answer = client.post("/predict", json={"instances": sent})
        assert answer.status_code == 200, answer.text
        assert [p["prediction"] for p in answer.json()["predictions"]] == expected
    # Objects and arrays in one request, and a table's number columns flat in their order.
    mixed = client.post("/predict", json={"instances": [dict(zip(names, images[0].ravel().tolist())),
                                                        images[1].tolist()]}).json()["predictions"]
    assert [p["prediction"] for p in mixed] == expected[:2]
    diabetes = ServedModel.load(runs["diabetes"])
    assert diabetes.card["array_shapes"] == [[10]]
    row = np.random.default_rng(2).uniform(-0.1, 0.1, 10).round(4).tolist()
    served = TestClient(create_app(diabetes))
    by_name = served.post("/predict", json={"instances": [dict(zip([c["name"] for c in diabetes.card["columns"]], row))]})
    assert served.post("/predict", json={"instances": [row]}).json() == by_name.json()


def test_pixels_a_client_scaled_already_are_noted_not_answered_silently(runs, tmp_path):
    """A client that divides by 16 (or 255) what the run scales itself: every value is
    inside training's range, so no value is far, but every answer is of a dark image."""
    model = ServedModel.load(runs["digits_cnn"])
    client = TestClient(create_app(model))
    images = np.random.default_rng(3).integers(0, 17, (2, 8, 8))
    assert "notes" not in client.post("/predict", json={"instances": images.tolist()}).json()
    scaled = client.post("/predict", json={"instances": (images / 16).tolist()}).json()
    assert scaled["notes"] == ["every value of these 2 samples lies within 0 to 1, while training saw values up to 16: "
                               "scaled already (divided by 16)? Send the values as the training data held them"]
    blank = client.post("/predict", json={"instances": np.zeros((1, 8, 8)).tolist()}).json()
    assert "notes" not in blank  # a blank image is no sign of scaling
    loaded = nnrun.load(runs["digits_cnn"]).predict((images[..., None] / 16).astype(np.float32))
    assert loaded.notes == tuple(scaled["notes"])
    one = client.post("/predict", json={"instances": (images[:1] / 16).tolist()}).json()["notes"]
    assert one[0].startswith("every value of this sample lies within 0 to 1")
    # As an .npz archive, the form of array runs' data, predict says it too.
    archive = tmp_path / "scaled.npz"
    np.savez(archive, x=(images[..., None] / 16).astype(np.float32))
    assert nnrun.load(runs["digits_cnn"]).predict(archive).notes == tuple(scaled["notes"])
    # A table's own columns are no pixels: a row of 0/1 flags beside a count is no scaled row.
    rng = np.random.default_rng(4)
    table = np.column_stack([rng.integers(0, 2, (200, 5)), rng.integers(0, 253, 200)]).astype(np.float32)
    flags = nnrun.train({"name": "flags", "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
                         "loss": "categorical_crossentropy", "training": {"epochs": 1}},
                        data=(table, np.arange(200) % 2), run_dir=tmp_path / "flags").run_dir
    assert nnrun.load(flags).predict(np.array([[1, 0, 1, 0, 1, 1]], np.float32)).notes == ()


ARRAY_SHAPES = "an array of shape (8, 8, 1) or (8, 8), or of its 64 values flat (row-major)"


@pytest.mark.parametrize("sample, message", [
    (np.zeros((8, 8, 3)).tolist(), f"instance 0: an array of shape (8, 8, 3) (192 values); this model takes {ARRAY_SHAPES}"),
    (np.zeros((1, 64)).tolist(), f"instance 0: an array of shape (1, 64) (64 values); this model takes {ARRAY_SHAPES}"),
    ([], f"instance 0: an array of shape (0,); this model takes {ARRAY_SHAPES}"),
    ([[0] * 8] * 7 + [[0] * 7], f"instance 0: an array whose rows differ in length; send {ARRAY_SHAPES}"),
    ([[0] * 8] * 7 + [[0] * 7 + [[0]]], f"instance 0: an array whose rows differ in length; send {ARRAY_SHAPES}"),
    ([{"pixel_0": 1}], f"instance 0: an array holding objects; send {ARRAY_SHAPES}, or the sample as one object of columns"),
    ([0] * 37 + ["a"] + [0] * 26, "instance 0, field 'pixel_37' (index 37 flat, [4][5][0] in shape (8, 8, 1)): 'a' is not a "
                                  "number"),
    ([1e39] + [0] * 63, "instance 0, field 'pixel_0' (index 0 flat, [0][0][0] in shape (8, 8, 1)): 1e+39 is "
                        "beyond the numbers the model computes with (float32, at most 3.403e+38 in size)"),
])
def test_an_array_that_is_not_a_sample_of_the_model_is_a_422_saying_what_to_send(runs, sample, message):
    client = TestClient(create_app(ServedModel.load(runs["digits_cnn"])))
    answer = client.post("/predict", json={"instances": [sample]})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] == message
    assert client.get("/health").status_code == 200


def test_one_sample_sent_without_the_list_around_it_is_one_problem(runs):
    client = TestClient(create_app(ServedModel.load(runs["digits_cnn"])))
    for sample, shape in ((np.zeros((8, 8, 1)), "(8, 8, 1)"), (np.zeros((8, 8)), "(8, 8)"), (np.zeros(64), "(64,)")):
        detail = client.post("/predict", json={"instances": sample.tolist()}).json()["detail"]
        assert [entry["msg"] for entry in detail] == [
            f'instances: this is one sample, of shape {shape}: send it inside a list, {{"instances": [sample]}}']
    eight = client.post("/predict", json={"instances": np.zeros((8, 64)).tolist()})  # eight samples, flat
    assert eight.status_code == 200 and len(eight.json()["predictions"]) == 8


def test_a_batch_of_one_flat_sample_of_a_model_whose_shape_begins_with_1_is_answered(tmp_path):
    # [[v0, v1, v2, v3]] for a (1, 4) model is one sample of that shape, or a batch of one
    # flat sample: either way the same sample, so it is answered, not refused as a mistake.
    x = np.random.default_rng(0).normal(size=(40, 1, 4)).astype(np.float32)
    config = {"name": "rows", "data": {"split": {"test": 0, "validation": 0}},
              "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    client = TestClient(create_app(ServedModel.load(nnrun.train(config, data=(x, np.arange(40) % 2),
                                                                run_dir=tmp_path / "r").run_dir)))
    answered = client.post("/predict", json={"instances": x[0].tolist()})
    assert answered.status_code == 200 and len(answered.json()["predictions"]) == 1
    assert answered.json() == client.post("/predict", json={"instances": [x[0].tolist()]}).json()


def test_a_list_sent_to_a_model_with_categories_is_told_to_send_objects(fruit):
    answer = fruit.post("/predict", json={"instances": [[150, 7.1, 5, "red"]]})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] == (
        'instance 0: must be an object of columns, {"column": value, ...}; got [150, 7.1, 5, "red"]; this model '
        "has category, date or text columns, which a list would leave to their order")
    assert fruit.get("/metadata").json()["array_shapes"] == []


def test_values_sent_under_one_key_are_told_the_array_form(tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 3, 2)).astype(np.float32)
    config = {"name": "arrays", "data": {"split": {"test": 0, "validation": 0}},
              "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 2, "activation": "softmax"}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 1}}
    run = nnrun.train(config, data=(x, np.arange(40) % 2), run_dir=tmp_path / "arrays").run_dir
    client = TestClient(create_app(ServedModel.load(run)))
    nested = client.post("/predict", json={"instances": [x[0].tolist()]})
    named = client.post("/predict", json={"instances": [{f"x{i}": v for i, v in enumerate(x[0].ravel().tolist())}]})
    assert nested.status_code == named.status_code == 200 and nested.json() == named.json()
    answer = nested.json()["predictions"][0]  # labels trained on as the numbers 0 and 1 come back as numbers
    assert answer["prediction"] in (0, 1) and isinstance(answer["prediction"], int)
    assert set(answer["probabilities"]) == {"0", "1"}  # JSON's keys are text
    # Samples stored without a channel axis (init reshapes them) are taken with one too.
    assert client.get("/metadata").json()["array_shapes"] == [[3, 2], [3, 2, 1], [6]]
    assert client.post("/predict", json={"instances": [x[0][..., None].tolist()]}).json() == named.json()
    # The values under one key: six columns missing are named one by one, and the key.
    under_x = client.post("/predict", json={"instances": [{"x": x[0].ravel().tolist()}]}).json()["detail"]
    assert len(under_x) == 7 and under_x[-1]["msg"] == (
        "instance 0, field 'x': unknown column; the model's columns are x0 ... x5, one value each")
    # Of a wider model, the columns missing are one entry, which says to send the array itself.
    wide = nnrun.train(config, data=(x.reshape(20, 12), np.arange(20) % 2), run_dir=tmp_path / "wide").run_dir
    under_x = TestClient(create_app(ServedModel.load(wide))).post(
        "/predict", json={"instances": [{"x": list(range(12))}]}).json()["detail"]
    assert [e["msg"] for e in under_x] == [
        "instance 0: 12 columns missing ('x0', 'x1', 'x2', 'x3', 'x4', ... 'x11'); or send the sample as an array of "
        "its 12 values, in the order of its columns, in place of the object",
        "instance 0, field 'x': unknown column; the model's columns are x0 ... x11, one value each"]
    # Counted as they are shown, past the errors described: two problems an instance, each whole.
    many = TestClient(create_app(ServedModel.load(wide))).post(
        "/predict", json={"instances": [{"x": list(range(12))}] * 100}).json()["detail"]
    assert len(many) == 51 and many[-1]["msg"] == "... and 150 more problems like these"
    assert all(e["msg"].startswith(f"instance {i // 2}: 12 columns missing") for i, e in enumerate(many[:50]) if i % 2 == 0)


def test_the_openapi_page_documents_the_array_form_and_the_start_up_lines_say_it(runs):
    model = ServedModel.load(runs["digits_cnn"])
    schema = TestClient(create_app(model)).get("/openapi.json").json()["components"]["schemas"]["PredictRequest"]
    sample = schema["properties"]["instances"]["items"]["anyOf"]
    assert sample[0] == {"$ref": "#/components/schemas/Instance"}
    assert [alternative["maxItems"] for alternative in sample[1]["anyOf"]] == [8, 8, 64]
    assert sample[1]["anyOf"][2]["items"] == {"type": ["number", "string", "boolean"]}  # no null: nothing fills it
    assert np.array(schema["examples"][1]["instances"][0]).shape == (8, 8, 1)
    from nnrun.console.shipping import print_serving

    said: list[str] = []
    print_serving(said.append, "http://127.0.0.1:1", model.card)
    assert said[1].endswith("columns: pixel_0, pixel_1, pixel_2, ... pixel_63")
    assert said[2] == ('  or each sample as an array of shape (8, 8, 1) or (8, 8), or of its 64 values flat (row-major): '
                       '{"instances": [[...], ...]}')
    said.clear()  # a table of number columns: flat, in its columns' order
    print_serving(said.append, "http://127.0.0.1:1", ServedModel.load(runs["diabetes"]).card)
    assert said[2] == ('  or each sample as an array of its 10 values, in the order of its columns: '
                       '{"instances": [[...], ...]}')


def test_ctrl_c_stops_the_server_with_exit_code_130(runs, tmp_path):
    process, url = _start(str(runs["fruit"]), cwd=tmp_path)
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            assert json.load(response)["status"] == "ok"
        process.send_signal(signal.SIGINT)  # as Ctrl-C in its terminal: interrupted, as any command
        assert process.wait(timeout=30) == 130 and "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_values_that_preprocessing_takes_beyond_float32_are_refused_not_answered_nan(runs, tmp_path):
    # 3e38 is a float32, but standardized (divided by a std under 1) it is not: the
    # model would answer NaN with a 200. Serve, predict and the Python API refuse it alike.
    diabetes = runs["diabetes"]
    names = nnrun.load(diabetes).trained.preprocessing.feature_names
    said = ("1 sample goes beyond float32's range once preprocessed as in training (sample 1, counted from 0, "
            f"at feature '{names[1]}'), so the model could only answer NaN")
    client = TestClient(create_app(ServedModel.load(diabetes)))
    instances = [{name: 0.01 for name in names}, {name: 3e38 for name in names}]
    response = client.post("/predict", json={"instances": instances})
    assert response.status_code == 422
    assert [e["msg"] for e in response.json()["detail"]] == [f"instances: {said}"]
    assert [(e["instance"], e["field"]) for e in response.json()["detail"]] == [(1, names[1])]  # as the message
    (tmp_path / "huge.csv").write_text(",".join(names) + "\n" + "\n".join(
        ",".join(str(v) for v in instance.values()) for instance in instances) + "\n")
    with pytest.raises(nnrun.errors.UserError) as info:
        predict(diabetes, tmp_path / "huge.csv", tmp_path / "p.csv")
    # From a file, the sample is named by its line.
    in_file = f"{tmp_path / 'huge.csv'}: " + said.replace("sample 1, counted from 0", "line 3")
    assert info.value.message == in_file and not (tmp_path / "p.csv").exists()
    x = np.array([list(instance.values()) for instance in instances])
    with pytest.raises(nnrun.errors.UserError, match="so the model could only answer NaN"):
        nnrun.load(diabetes).predict(x)
    from nnrun.commands.evaluate import evaluate

    (tmp_path / "labelled.csv").write_text(",".join([*names, "progression"]) + "\n" + "\n".join(
        ",".join([*(str(v) for v in instance.values()), "100"]) for instance in instances) + "\n")
    with pytest.raises(nnrun.errors.UserError) as info:
        evaluate(diabetes, data=tmp_path / "labelled.csv")
    assert info.value.message == f"{tmp_path / 'labelled.csv'}: " + said.replace("sample 1, counted from 0", "line 3")


def test_a_run_without_final_weights_is_served_with_a_note(tmp_path, capsys):
    """A killed run answers from its newest checkpoint: said at start-up and in /metadata,
    as evaluate and predict say it, with the status killed rather than running."""
    from nnrun.commands.serve import ServedModel, create_app
    from nnrun.console.shipping import print_serving

    run = nnrun.train(CONFIGS / "iris.yaml", overrides=["training.epochs=2"], run_dir=tmp_path / "r", quiet=True).run_dir
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "status": "running"}))  # as SIGKILL leaves it
    model = ServedModel.load(run)
    card = TestClient(create_app(model)).get("/metadata").json()
    assert card["run"]["status"] == "killed" and card["run"]["weights_epoch"] == 2
    assert card["run"]["weights_note"].startswith("the run is killed")
    said = []
    capsys.readouterr()
    print_serving(said.append, "http://127.0.0.1:1", model.card)
    assert " ".join(capsys.readouterr().err.split()) == f"note: {card['run']['weights_note']}"  # beside the output
    (run / "meta.json").write_text(json.dumps(meta))  # completed: its final weights, and no note
    finished = ServedModel.load(run).card["run"]
    assert finished["status"] == "completed" and finished["weights_epoch"] is None and finished["weights_note"] is None


def test_an_answer_stays_small_whatever_a_request_holds(fruit):
    # A key of 500,000 characters came back three times (1.5 MB); 60,000 unknown keys made 11.7 MB.
    good = {"weight_g": 150, "length_cm": 7.1, "sweetness": 5.5, "color": "red"}
    response = fruit.post("/predict", json={"instances": [{**good, "k" * 500_000: 1}]})
    assert response.status_code == 422 and len(response.content) < 2_000
    assert response.json()["detail"][0]["field"] == "k" * 57 + "..."
    response = fruit.post("/predict", json={"instances": [{**good, **{f"k{i}": 1 for i in range(3000)}}]})
    detail = response.json()["detail"]
    assert response.status_code == 422 and len(detail) == 51 and len(response.content) < 20_000
    assert detail[-1] == {"loc": ["body"], "instance": None, "field": None,
                          "msg": "... and 2950 more problems like these", "type": "more"}


@pytest.mark.parametrize("thousands, decimal, cells", [
    (",", ".", {"1,234": 1234.0, " 12.5 ": 12.5, "-7": -7.0, "1,234,567.25": 1234567.25, "1,23": None, "12,5": None}),
    (".", ",", {"1.234": 1234.0, "12,5": 12.5, "1.234,5": 1234.5, "12.5": None}),
    (None, ".", {"30696": 30696.0, "3e2": 300.0, "30,696": None, "inf": None, "9" * 400: None,
                 "\u0663\u0664": None, "\uff11\uff12": None}),  # Arabic-Indic and full-width digits: none
])
def test_numbers_sent_as_text_are_read_as_predict_reads_a_cell(thousands, decimal, cells):
    # Read at once where plainly written, by the general reader otherwise: the same numbers, the same refusals.
    from nnrun.commands.serve_requests import _as_a_cell_is_read

    read = _as_a_cell_is_read({"name": "a", "type": "number", "missing": "error", "thousands": thousands,
                               "decimal": decimal})
    for cell, number in cells.items():
        if number is None:
            with pytest.raises(ValueError):
                read(cell)
        else:
            assert read(cell) == number, cell


def test_fold_case_reads_a_category_in_any_case_in_every_reader(tmp_path):
    """data.source.fold_case: 'PARIS', ' paris' and 'Paris' are one category in training,
    in a CSV file to predict, in a DataFrame-free API call, in a request, and the model
    card says so for an ONNX client."""
    lines = (CONFIGS / "data" / "customers.csv").read_text().splitlines()
    spelt = [lines[0]] + [line.replace(",Paris,", (",Paris,", ",PARIS,", ", paris ,")[i % 3])
                          for i, line in enumerate(lines[1:])]
    (tmp_path / "data.csv").write_text("\n".join(spelt) + "\n")
    text = (CONFIGS / "customers.yaml").read_text().replace("path: data/customers.csv", "path: data.csv").replace(
        "unknown: ignore", "unknown: error\n    fold_case: true\n    missing_category: own")  # an empty city: its own
    (tmp_path / "c.yaml").write_text(text)
    run = nnrun.train(tmp_path / "c.yaml", run_dir=tmp_path / "r", quiet=True, overrides=["training.epochs=2"]).run_dir
    saved = json.loads((run / "preprocess.json").read_text())["columns"]["columns"]
    city = next(column for column in saved if column["name"] == "city")
    assert city["fold_case"] and [c for c in city["categories"] if c.casefold().strip() == "paris"] == ["Paris"]
    new = tmp_path / "new.csv"
    rows = ["customer_id,age,income,city,tenure_months"] + [f"C{i},40,\"50,000\",{city},12" for i, city in
                                                            enumerate(("Paris", "PARIS", " paris", "pAris"))]
    new.write_text("\n".join(rows) + "\n")
    predict(run, new, tmp_path / "p.csv", proba=True)
    probabilities = [[v for k, v in row.items() if k.startswith("proba_")] for row in _rows(tmp_path / "p.csv")]
    assert len(probabilities) == 4 and all(row == probabilities[0] for row in probabilities)
    model = nnrun.load(run)
    spellings = [{"age": 40, "income": 50000, "city": city, "tenure_months": 12} for city in ("Paris", "PARIS ")]
    predicted = model.predict(spellings).probabilities
    np.testing.assert_array_equal(predicted[0], predicted[1])
    client = TestClient(create_app(ServedModel.load(run)))
    card_city = next(column for column in client.get("/metadata").json()["columns"] if column["name"] == "city")
    assert card_city["fold_case"] is True
    answered = client.post("/predict", json={"instances": spellings})
    assert answered.status_code == 200, answered.text
    unknown = client.post("/predict", json={"instances": [{**spellings[0], "city": "Parys"}]})
    assert unknown.status_code == 422  # folding is of case and spaces, not of spelling
