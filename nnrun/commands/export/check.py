"""Checking an exported model against nnrun: ``onnx.checker`` always, and onnxruntime,
an independent runtime, when it is installed.

The comparison runs both on the run's test split (the validation or training split
when the run held none out): nnrun applies its preprocessing and graph in NumPy, the
runtime gets the encoded features and does everything in the ONNX graph. The largest
absolute difference of the outputs (probabilities for a classifier) is reported.

With ``--float16`` the reference is nnrun with every weight rounded to float16, which
is exactly what the file holds, and the report adds how the test score moved from the
float32 weights (accuracy for a classifier, mean absolute error for a regressor) and
the largest difference of the outputs the rounding made, measured in nnrun itself, so
it is reported without onnxruntime too.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from nnrun.data.preprocess import apply_pipeline
from nnrun.errors import UserError
from nnrun.model.metrics import class_labels, predicted_labels


@dataclass(frozen=True)
class Comparison:
    split: str
    samples: int
    max_difference: float | None  # None when onnxruntime is not installed
    runtime: str | None  # "onnxruntime 1.x" or None
    metric: str  # accuracy or mae
    score: float  # nnrun's, float32 weights
    float16_score: float | None = None  # nnrun's, float16 weights (with --float16)
    float16_difference: float | None = None  # largest output difference, float16 weights against float32
    relative: float | None = None  # a regressor's largest difference over its largest output (in the hundreds
    # of thousands, float32's own steps are 0.03)


def check_model(onnx_module, model) -> None:
    """``onnx.checker`` in full (types and shapes inferred through every node)."""
    try:
        onnx_module.checker.check_model(model, full_check=True)
    except onnx_module.checker.ValidationError as exc:  # a bug in the exporter, not in the user's input
        raise RuntimeError(f"the exported model does not pass onnx.checker: {exc}") from exc


def reference_outputs(graph, steps: list, states: list[dict], x: np.ndarray, task: str) -> np.ndarray:
    """nnrun's outputs for encoded features ``x``, widened like the exported model's."""
    out = graph.predict(apply_pipeline(steps, states, x))
    if task == "classification" and out.shape[1:] == (1,):
        out = np.concatenate([1 - out, out], axis=1)
    return out


@contextmanager
def float16_weights(graph):
    """The graph with every parameter rounded through float16, restored afterwards."""
    saved = graph.weight_buffer.copy()
    graph.weight_buffer[...] = saved.astype(np.float16).astype(graph.dtype)
    try:
        yield graph
    finally:
        graph.weight_buffer[...] = saved


def score(task: str, outputs: np.ndarray, y: np.ndarray) -> tuple[str, float]:
    if task == "classification":
        return "accuracy", float(np.mean(predicted_labels(outputs) == class_labels(y)))
    return "mae", float(np.mean(np.abs(outputs.reshape(len(y), -1) - y.reshape(len(y), -1))))


def compare(model_bytes: bytes, output: str, input_name: str, graph, steps, states, task: str,
            split: tuple[str, np.ndarray, np.ndarray], float16: bool) -> Comparison:
    """Score nnrun on ``split`` (name, encoded features, targets) and, when onnxruntime
    is there, run the exported model on the same features."""
    name, x, y = split
    expected = reference_outputs(graph, steps, states, x, task)
    metric, value = score(task, expected, y)
    half_score = half_difference = None
    if float16:
        full = expected
        with float16_weights(graph):
            expected = reference_outputs(graph, steps, states, x, task)
        half_score = score(task, expected, y)[1]
        half_difference = float(np.max(np.abs(expected - full))) if expected.size else 0.0
    session, runtime = _session(model_bytes)
    difference = relative = None
    if session is not None:
        got = session.run([output], {input_name: x})[0]
        difference = float(np.max(np.abs(got - expected))) if got.size else 0.0
        if task != "classification" and got.size:
            relative = difference / max(float(np.max(np.abs(expected))), 1e-30)
    return Comparison(name, len(x), difference, runtime, metric, value, float16_score=half_score,
                      float16_difference=half_difference, relative=relative)


def _session(model_bytes: bytes):
    try:
        import onnxruntime
    except ImportError:
        return None, None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # warnings about unused initializers are not the user's concern
    try:
        session = onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # the runtime refusing the file is worth a clear message
        raise UserError(f"onnxruntime {onnxruntime.__version__} cannot load the exported model: {exc}",
                        hint="try another --opset; the runtime may not support this one") from None
    return session, f"onnxruntime {onnxruntime.__version__}"
