"""What ``nnrun export`` and ``nnrun serve`` print."""

from __future__ import annotations

from typing import Callable

from nnrun.commands.model_card import columns_listed
from nnrun.commands.serve_arrays import described_shapes
from nnrun.console.output import say_note

Echo = Callable[[str], None]


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if count < 1024 or unit == "MB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


def print_export(echo: Echo, report) -> None:
    """The files written, the checker, the runtime comparison and the float16 score."""
    weights = "float16 weights" if report.float16 else "float32"
    if report.weights_note:
        say_note(report.weights_note)
    echo(f"wrote {report.model_path} ({_size(report.size_bytes)}, opset {report.opset}, {weights}, "
         f"{report.parameters:,} parameters)")
    echo(f"      {report.card_path} (input columns, encoding{', classes' if report.task == 'classification' else ''})")
    if report.kept:
        echo(f"kept the earlier export of other weights as {' and '.join(str(path) for path in report.kept)}")
    echo("onnx.checker: passed")
    if report.skipped:
        echo(f"comparison: skipped, {report.skipped}")
        return
    c = report.comparison
    where = f"the {c.split} split ({c.samples} samples)"
    if c.runtime is None:
        echo(f"onnxruntime: not installed, so the outputs were not compared on {where} "
             "(pip install onnxruntime)")
    else:
        against = "nnrun with the same float16 weights" if report.float16 else "nnrun"
        relative = f" ({c.relative:.3g} of the largest output)" if c.relative is not None else ""
        echo(f"{c.runtime} on {where}: largest difference from {against} {c.max_difference:.3g}{relative}")
    if report.float16:
        change = c.float16_score - c.score
        echo(f"float16 weights: {c.split} {c.metric} {c.score:.4f} -> {c.float16_score:.4f} (change {change:+.4f}); "
             f"outputs at most {c.float16_difference:.3g} from the float32 weights")


def print_serving(echo: Echo, url: str, card: dict) -> None:
    columns = columns_listed([column["name"] for column in card["columns"]])
    echo(f"serving {card['run']['name']} ({card['task']}) at {url}  (docs: {url}/docs; Ctrl-C or SIGTERM stops)")
    echo(f"  POST {url}/predict  {{\"instances\": [{{column: value, ...}}]}}  columns: {columns}")
    if card.get("array_shapes"):  # a model of number columns takes each sample as an array too
        shapes = [tuple(shape) for shape in card["array_shapes"]]
        echo(f"  or each sample as {described_shapes(shapes)}: {{\"instances\": [[...], ...]}}")
    if card.get("threshold") is not None:
        echo(f"  '{card['class_names'][1]}' predicted above {card['threshold']!r} (--threshold)")
    if card["run"].get("weights_note"):  # a run that did not finish: say whose weights answer
        say_note(card["run"]["weights_note"])
