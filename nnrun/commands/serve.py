"""``nnrun serve``: a trained run behind HTTP, with FastAPI and uvicorn (``nnrun[serve]``).

    GET  /health     {"status": "ok", "model": name}
    GET  /metadata   the model card (columns with types and categories, classes, task,
                     the run's config hash and creation time), plus max_instances and
                     max_body_bytes
    POST /predict    {"instances": [{column: value, ...}, ...]}   (or, for a model of number
                     columns, each sample an array: see ``serve_arrays``)
                  -> {"predictions": [{"prediction": class or value,
                                       "probabilities": {class: p, ...},
                                       "ids": {id column: value, ...}}, ...],
                      "notes": [...]}   only when predict would note something: cells
                                        filled, numbers far outside training's range,
                                        categories encoded as all zeros, texts cut

An instance may also carry the run's ID columns (given back, as ``nnrun predict``
copies them into predictions.csv), its ignored columns and its target; none is a
feature.

The run is loaded once, before the server listens; a damaged run directory stops the
command with exit code 2. An instance goes through exactly what ``nnrun predict``
does to a CSV row: each value, checked and read as a cell by the request schema, is
written as the text a CSV cell would hold (numbers by ``repr``, which reads back to the
same float) and encoded and preprocessed by the same functions, so the answers equal
``nnrun predict`` on the same rows. Bad
input is a 422 naming the instance and the field (see ``serve_requests``); a body
larger than ``max_body_bytes`` is a 413, refused as soon as its Content-Length or, for a
chunked body, the bytes received pass the limit. The server goes on serving. uvicorn
stops on SIGTERM or Ctrl-C after answering the requests in flight.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the request model from
# the annotation of ``predict``, a class built at run time that only a real annotation names.
import copy
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from nnrun.commands.in_memory import table_cell
from nnrun.commands.loaded import class_values
from nnrun.commands.model_card import model_card
from nnrun.commands.serve_errors import describe_errors, entry_past_the_schema
from nnrun.commands.serve_arrays import array_shapes
from nnrun.commands.serve_body import BodyLimit, FormAsJson
from nnrun.commands.serve_requests import DEFAULT_MAX_INSTANCES, default_max_body_bytes, request_models, smallest_body_bytes
from nnrun.commands.serve_socket import listen
from nnrun.data.inputs import encoded_notes, filled_notes
from nnrun.data.ranges import sample_notes
from nnrun.data.encoding import encode_columns
from nnrun.data.table import build_table
from nnrun.errors import UserError
from nnrun.interrupts import sigterm_ends_normally
from nnrun.model.metrics import predicted_labels
from nnrun.store.trained import TrainedRun

INSTALL_HINT = "install them with: pip install 'nnrun[serve]'  (or: pip install fastapi uvicorn)"


@dataclass
class ServedModel:
    """A run loaded once, and its model card."""

    trained: TrainedRun
    card: dict
    threshold: float | None = None  # of two classes, the second's probability it is predicted above (None: 0.5)

    @classmethod
    def load(cls, run_dir: str | Path, threshold: float | None = None) -> "ServedModel":
        from nnrun.commands.threshold import checked_threshold

        trained = TrainedRun.load(run_dir)
        trained.require_trained("serve")
        saved = trained.preprocessing
        threshold = checked_threshold(threshold, saved.task, saved.class_names)
        card = model_card(trained)
        card["array_shapes"] = [list(shape) for shape in array_shapes(card["columns"], card["input_shape"])]
        return cls(trained, {**card, "threshold": threshold} if threshold is not None else card, threshold)

    def passed_columns(self) -> dict[str, str]:
        """Columns an instance may carry that are not features: name -> description."""
        card = self.card
        passed = {name: "An ID column: not a feature; given back with the prediction." for name in card["ids"]}
        passed |= {name: "Ignored in training: accepted and unused." for name in card["ignored"]}
        for name in card["target_names"] or ([card["target"]] if card["target"] else []):
            passed.setdefault(name, "The target: accepted and unused.")
        return passed

    def predict(self, instances: list[dict]) -> dict:
        """The body of the answer to validated instances (``{column name: value}``):
        ``predictions`` in order, the ID columns an instance carried under ``ids``, and
        ``notes`` when empty cells were filled, numbers lie far outside what training
        saw, categories training never saw were encoded as all zeros (a run with
        ``unknown: ignore``), or texts were cut, empty or all unknown words, as ``nnrun
        predict`` says it."""
        features, notes = self.features(instances)
        answers = self._answers(features)
        for answer, instance in zip(answers, instances):
            ids = {name: instance[name] for name in self.card["ids"] if instance.get(name) is not None}
            if ids:
                answer["ids"] = ids
        # A note quotes what was sent (an unseen category): cut, so a 500 KB value is not echoed whole.
        notes = [note if len(note) <= LONGEST_NOTE else note[:LONGEST_NOTE - 3] + "..." for note in notes]
        return {"predictions": answers, **({"notes": notes} if notes else {})}

    def _answers(self, features: np.ndarray) -> list[dict]:
        saved = self.trained.preprocessing
        outputs = self.trained.outputs(self.trained.prepare(features, source="instances"), "instances")
        if saved.task != "classification":
            flat = outputs.reshape(len(outputs), -1)
            if flat.dtype == np.float32:  # each the shortest decimal of its float32, as predictions.csv holds it
                flat = flat.astype(str).astype(np.float64)
            return [{"prediction": row[0] if len(row) == 1 else row} for row in flat.tolist()]
        classes = saved.class_names
        values = class_values(classes).tolist()  # 2 for a label trained on as the number 2, as the Python API gives it
        if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2 ** 53 for v in values):
            values = list(classes)  # codes that JavaScript's numbers would round: as text
        probs = np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[-1] == 1 else outputs
        return [{"prediction": values[label], "probabilities": {c: float(p) for c, p in zip(classes, row)}}
                for label, row in zip(predicted_labels(outputs, self.threshold), probs)]

    def features(self, instances: list[dict]) -> tuple[np.ndarray, list[str]]:
        """The encoded float32 samples, built as ``nnrun predict`` builds them from CSV
        cells, and the note on unseen categories encoded as all zeros, if any."""
        columns = self.card["columns"]
        names = [c["name"] for c in columns]
        strings = [c["name"] for c in columns if c["type"] != "number"]  # categories and texts
        rows = [[table_cell(instance[name]) for name in names] for instance in instances]
        lines = np.arange(len(rows), dtype=np.int64)  # "line" i of a table is instance i
        encoding = self.trained.preprocessing.encoding()
        # No thousands separator or decimal mark here: the schema read every number sent
        # as text already, and the table takes numbers as they are.
        table = build_table("request", names, rows, names, strings, lines, place="instance")
        saved = self.trained.preprocessing
        if not encoding:  # a bundled data set's or arrays' features: far from training's values, or scaled already
            x = table.numeric.astype(np.float32)
            notes = sample_notes(table.numeric, names, saved.feature_ranges, tuple(saved.input_shape), lines,
                                 "instance")
        else:
            unseen = encoding.get("unknown", "error")
            filled = filled_notes(table, encoding)  # counted before the encoding fills the cells
            x = encode_columns(table, encoding, unseen=unseen)
            notes = encoded_notes(table, encoding, x, filled, unseen, options=False)  # as predict says them
        return x.reshape((len(x), *saved.input_shape)), notes


def require_serving():
    try:
        import fastapi
        import uvicorn
    except ImportError:
        raise UserError("nnrun serve needs fastapi and uvicorn, which are not installed", hint=INSTALL_HINT) from None
    return fastapi, uvicorn


ENDPOINTS = ("this server answers GET /health, GET /metadata and POST /predict (a JSON body {\"instances\": [...]}); "
             "see /docs")


def create_app(model: ServedModel, max_instances: int = DEFAULT_MAX_INSTANCES, max_body_bytes: int | None = None):
    """The FastAPI application serving ``model``; ``max_body_bytes`` None leaves room for
    ``max_instances`` instances (see :func:`default_max_body_bytes`)."""
    fastapi, _ = require_serving()
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    columns, passed = model.card["columns"], model.passed_columns()
    shapes = [tuple(shape) for shape in model.card.get("array_shapes", ())]
    _, request_model = request_models(columns, max_instances, passed, model.card["missing_values"], shapes)
    if max_body_bytes is None:
        max_body_bytes = default_max_body_bytes(columns, passed, max_instances)
    elif max_body_bytes < smallest_body_bytes(columns):  # no request could ever be answered
        raise UserError(f"--max-body-bytes {max_body_bytes}: a request of one instance with this model's "
                        f"{len(columns)} column{'s' if len(columns) != 1 else ''} takes about "
                        f"{smallest_body_bytes(columns)} bytes",
                        hint=f"give a limit that leaves room for the requests you expect, or leave it out (room for "
                             f"--max-instances instances: {default_max_body_bytes(columns, passed, max_instances)} "
                             "bytes here)")
    # No redirect of /predict/ to /predict: an empty 307 that clients do not follow with a POST body; a JSON 404.
    app = fastapi.FastAPI(title=f"nnrun: {model.card['run']['name']}", version=str(model.card["run"]["config_hash"]),
                          description=_description(model.card), redirect_slashes=False)
    app.add_middleware(FormAsJson)
    app.add_middleware(BodyLimit, max_body_bytes=max_body_bytes)

    from starlette.exceptions import HTTPException

    @app.exception_handler(HTTPException)
    async def _unreadable(request, exc):  # FastAPI's 400 for a body it cannot decode: said as the others are
        unread = {UnicodeDecodeError: "the body is not JSON text in UTF-8; send {\"instances\": [...]} encoded as "
                                      "UTF-8",
                  RecursionError: "the body nests arrays or objects too deeply to be read; send {\"instances\": "
                                  "[...]}, one object of columns per instance"}.get(type(exc.__cause__))
        if unread is None and isinstance(exc.__cause__, ValueError):  # a number of over 4,300 digits, as Python reads
            unread = f"the body is not JSON that can be read ({str(exc.__cause__).split(';')[0]})"
        if exc.status_code == 400 and unread:
            return JSONResponse(status_code=422, content={"detail": [{
                "loc": ["body"], "instance": None, "field": None, "msg": unread, "type": "json_invalid"}]})
        detail = {404: f"no endpoint {request.url.path}; {ENDPOINTS}",
                  405: f"{request.method} {request.url.path} is not answered; {ENDPOINTS}"}.get(exc.status_code,
                                                                                             exc.detail)
        headers = {key: value for key, value in (exc.headers or {}).items() if key.lower() != "allow"}
        allowed = next((value for key, value in (exc.headers or {}).items() if key.lower() == "allow"), None)
        if allowed is not None:  # HEAD is answered wherever GET is (a route of its own, left out of /docs)
            headers["Allow"] = "GET, HEAD" if allowed == "GET" else allowed
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc):  # 422, naming the instance and the field
        sent_as_json = request.headers.get("content-type", "").split(";")[0].strip().lower().endswith("json")
        detail = describe_errors(exc.errors(), columns, max_instances, sent_as_json, shapes)
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model": model.card["run"]["name"]}

    app.head("/health", include_in_schema=False)(health)  # what many load balancers' checks send

    @app.get("/metadata")
    def metadata() -> dict:
        return model.card | {"max_instances": max_instances, "max_body_bytes": max_body_bytes}

    app.head("/metadata", include_in_schema=False)(metadata)  # HEAD wherever GET is answered

    @app.post("/predict")
    def predict(body: request_model) -> dict:  # type: ignore[valid-type]
        instances = [instance.model_dump(by_alias=True) for instance in body.instances]
        try:
            return model.predict(instances)
        except UserError as exc:  # found past the schema, e.g. an embedding index out of range
            return JSONResponse(status_code=422, content={"detail": [entry_past_the_schema(exc)]})

    return app


def _description(card: dict) -> str:
    classes = f" Classes: {', '.join(card['class_names'])}." if card.get("class_names") else ""
    return (f"A {card['task']} model trained by nnrun (run {card['run']['name']}).{classes} "
            "POST the raw columns of one or more samples to /predict.")


def _check_options(port: int, max_instances: int, max_body_bytes: int | None) -> None:
    """Every out-of-range option at once, before the run is loaded."""
    problems = []
    if not 0 <= port <= 65535:
        problems.append(f"--port {port}: the port must be between 0 and 65535 (0 picks a free one)")
    if max_instances < 1:
        problems.append(f"--max-instances {max_instances}: give at least 1")
    if max_body_bytes is not None and max_body_bytes < 1:
        problems.append(f"--max-body-bytes {max_body_bytes}: give at least 1 (or leave it out: room for "
                        "--max-instances instances)")
    if problems:
        raise UserError("\n".join(problems))


def serve(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8000,
          max_instances: int = DEFAULT_MAX_INSTANCES, max_body_bytes: int | None = None,
          announce: Callable[[str, dict], None] | None = None, threshold: float | None = None,
          access_log: bool = False) -> None:
    """Load the run, bind, then serve until SIGTERM (returns) or Ctrl-C (KeyboardInterrupt);
    ``threshold``: of two classes, the second's probability it is predicted above;
    ``access_log``: a line on standard error per request (client, request line, status)."""
    _, uvicorn = require_serving()
    _check_options(port, max_instances, max_body_bytes)
    model = ServedModel.load(run_dir, threshold)
    app = create_app(model, max_instances, max_body_bytes)
    sock = listen(host, port)
    bound = sock.getsockname()[1]
    if announce is not None:
        shown = f"[{host}]" if ":" in host else host
        announce(f"http://{shown}:{bound}", model.card)
    # On SIGTERM the requests in flight are answered; one whose client stalls in the middle
    # of its body is given up after SHUTDOWN_SECONDS, not the half minute the stop once took.
    # The access lines on standard error, beside the warnings (uvicorn writes them to standard
    # output, which a pipe buffers: a log collector saw none until the server stopped).
    logs = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    logs["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config = uvicorn.Config(app, log_level="warning", access_log=access_log, log_config=logs,
                            use_colors=sys.stderr.isatty(), timeout_graceful_shutdown=SHUTDOWN_SECONDS)
    if access_log:  # its requests at info, uvicorn's own start-up lines still left out (nnrun says where it listens)
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    with sigterm_ends_normally():
        uvicorn.Server(config).run(sockets=[sock])


SHUTDOWN_SECONDS = 5
LONGEST_NOTE = 500  # characters of a note in an answer
